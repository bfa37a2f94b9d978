/*
 * Replicated trigger connections; see pair.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pair.h"

struct pair_seen {
	int af;
	struct ct_tuple t;
	uint64_t gone_ms;	/* deleted by another program then (0: alive) */
	struct pair_seen *next;
};

#define PAIR_BUCKETS 1024

void pair_init(struct pair *p, uint32_t mark, uint32_t mask)
{
	memset(p, 0, sizeof(*p));
	p->mark = mark;
	p->mask = mask;
}

void pair_fini(struct pair *p)
{
	for (size_t i = 0; i < p->n_buckets; i++)
		for (struct pair_seen *s = p->buckets[i], *next; s; s = next) {
			next = s->next;
			free(s);
		}
	free(p->buckets);
	memset(p, 0, sizeof(*p));
}

bool pair_marked(const struct pair *p, const struct ct_entry *e)
{
	return p->mask && e->has_mark && (e->mark & p->mask) == p->mark;
}

static size_t alen(int af)
{
	return af == AF_INET ? 4 : 16;
}

static size_t hash(int af, const struct ct_tuple *t)
{
	const uint8_t *a = (const uint8_t *)&t->src, *b = (const uint8_t *)&t->dst;
	uint32_t h = 2166136261u ^ t->proto ^ ((uint32_t)t->sport << 8) ^ ((uint32_t)t->dport << 16);

	for (size_t i = 0; i < alen(af); i++)
		h = (h ^ a[i] ^ ((uint32_t)b[i] << 8)) * 16777619u;
	return h % PAIR_BUCKETS;
}

static bool same(int af, const struct ct_tuple *x, const struct ct_tuple *y)
{
	return x->proto == y->proto && x->sport == y->sport && x->dport == y->dport &&
	       !memcmp(&x->src, &y->src, alen(af)) && !memcmp(&x->dst, &y->dst, alen(af));
}

static struct pair_seen **slot(struct pair *p, int af, const struct ct_tuple *t)
{
	struct pair_seen **pp;

	if (!p->buckets)
		return NULL;
	for (pp = &p->buckets[hash(af, t)]; *pp; pp = &(*pp)->next)
		if ((*pp)->af == af && same(af, &(*pp)->t, t))
			return pp;
	return pp;
}

/* Entries deleted longer ago than a re-creation takes go. */
static void sweep(struct pair *p, uint64_t now)
{
	for (size_t i = 0; i < p->n_buckets; i++)
		for (struct pair_seen **pp = &p->buckets[i], *s; (s = *pp);) {
			if (s->gone_ms && now - s->gone_ms > PAIR_RECREATE_MS) {
				*pp = s->next;
				free(s);
				p->n--;
			} else {
				pp = &s->next;
			}
		}
}

/* 1 if added (or deleted long enough ago), 0 if it was there, -ENOMEM (or full: counted) */
static int remember(struct pair *p, int af, const struct ct_tuple *t, uint64_t now)
{
	struct pair_seen **pp, *s;

	if (!p->buckets && !(p->buckets = calloc(PAIR_BUCKETS, sizeof(*p->buckets))))
		return -ENOMEM;
	p->n_buckets = PAIR_BUCKETS;
	pp = slot(p, af, t);
	if (*pp) {
		bool again = (*pp)->gone_ms && now - (*pp)->gone_ms > PAIR_RECREATE_MS;

		(*pp)->gone_ms = 0;
		return again;
	}
	if (p->n >= PAIR_SEEN_MAX)
		sweep(p, now);
	if (p->n >= PAIR_SEEN_MAX) {
		p->full++;
		return -ENOSPC;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->af = af;
	s->t = *t;
	*pp = s;
	p->n++;
	return 1;
}

static void forget(struct pair *p, int af, const struct ct_tuple *t)
{
	struct pair_seen **pp = slot(p, af, t), *s;

	if (!pp || !*pp)
		return;
	s = *pp;
	*pp = s->next;
	free(s);
	p->n--;
}

int pair_note(struct pair *p, int af, const struct ct_tuple *t)
{
	int r = remember(p, af, t, 0);

	return r < 0 ? r : 0;
}

static bool trigger_entry(const struct pair *p, const struct ct_entry *e)
{
	return pair_marked(p, e) && (e->orig.proto == IPPROTO_TCP || e->orig.proto == IPPROTO_UDP);
}

static void as_trigger(const struct ct_entry *e, struct nflog_pkt *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->af = e->af;
	ret->saddr = e->orig.src;
	ret->daddr = e->orig.dst;
	ret->proto = e->orig.proto;
	ret->sport = e->orig.sport;
	ret->dport = e->orig.dport;
}

int pair_dumped(struct pair *p, const struct nlmsghdr *nlh, uint64_t now, struct nflog_pkt *ret)
{
	struct ct_entry e;

	if (ctnl_parse_entry(nlh, &e) < 0 || !trigger_entry(p, &e) || remember(p, e.af, &e.orig, now) != 1)
		return 0;
	as_trigger(&e, ret);
	return 1;
}

int pair_event(struct pair *p, const struct nlmsghdr *nlh, uint32_t own_portid, uint64_t now,
	       struct nflog_pkt *ret)
{
	enum ct_event kind;
	struct ct_entry e;

	if (ctnl_parse_event(nlh, &e, &kind) < 0)
		return -EINVAL;
	if (!trigger_entry(p, &e))
		return 0;
	if (kind == CT_EVENT_DESTROY) {
		struct pair_seen **pp = slot(p, e.af, &e.orig);

		/* conntrackd deletes an entry that is there before it writes it again */
		if (nlh->nlmsg_pid && pp && *pp)
			(*pp)->gone_ms = now ? now : 1;
		else
			forget(p, e.af, &e.orig);
		return 0;
	}
	/* the packet path's (portid 0) or this router's own: never a trigger here */
	if (!nlh->nlmsg_pid || nlh->nlmsg_pid == own_portid)
		return 0;
	/* seen already (or too many to tell: then each event is one, as a refresh) */
	if (remember(p, e.af, &e.orig, now) == 0)
		return 0;
	as_trigger(&e, ret);
	return 1;
}
