/*
 * Learn mode; see learn.h. Peers live in a hash table keyed by the kernel
 * element they stand for (IPv4: the peer; IPv6: peer and host), each with
 * the few rule x host contacts behind it (an element outlives its peer
 * only when a forwarding closed early: then it just logs into the void).
 * A peer's element is rewritten only when its end moved by more than an
 * eighth of its timeout, so a stream of triggers costs the kernel little,
 * and elements alone (nothing else to write) are committed at most every
 * LEARN_WRITE_GAP_MS. At the cap a new peer costs no scan until some
 * listed peer's time can be up (min_until). The records are learnrec.c's;
 * lib/control/learnreport.c shows them.
 */
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft/kcaps.h"
#include "learn.h"
#include "nft/nftelem.h"
#include "nft/nftobj.h"

/* A lookup walks one chain of at most a few peers (4 on average at the cap). */
#define LEARN_BUCKETS (LEARN_PEERS_MAX / 4)

struct learn_contact {
	uint64_t until;
	union inaddr host;
	uint32_t timeout_ms;
	char rule[RULE_NAME_MAX + 1];
};

/* One allocation per peer: the first contact is inline (most peers have only it). */
struct learn_peer {
	uint8_t af;
	uint8_t n_contacts;
	uint8_t cap_contacts;
	bool is_pending;
	union inaddr peer;
	union inaddr host;		/* IPv6: the key's destination; IPv4: zero */
	uint64_t written_until;		/* the end of the kernel's element; 0: none */
	struct hmap_node node;		/* in peers_by_key */
	struct learn_peer *pnext;
	struct learn_peer *anext;	/* every listed peer: walks take these, lookups the buckets */
	struct learn_peer *aprev;
	struct learn_contact *contacts;	/* &first, or grown as needed */
	struct learn_contact first;
};

void learn_init(struct learn *l)
{
	memset(l, 0, sizeof(*l));
	l->enabled = true;
	l->peers_by_key.max_buckets = LEARN_BUCKETS;
}

static void free_peer(struct learn_peer *p)
{
	if (p->contacts != &p->first)
		free(p->contacts);
	free(p);
}

static void free_peers(struct learn *l)
{
	for (struct learn_peer *p = l->all, *next; p; p = next) {
		next = p->anext;
		free_peer(p);
	}
	hmap_clear(&l->peers_by_key);
	l->n_peers = 0;
	l->pending = NULL;
	l->all = NULL;
	l->min_until = 0;
}

void learn_fini(struct learn *l)
{
	free_peers(l);
	learnrec_free(&l->rec);
	memset(l, 0, sizeof(*l));
}

void learn_set_enabled(struct learn *l, bool on)
{
	l->enabled = on;
	if (!on)
		free_peers(l);
}

static size_t addr_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

static uint32_t hash_key(int af, const union inaddr *peer, const union inaddr *host)
{
	const uint8_t *p = (const uint8_t *)peer, *h = (const uint8_t *)host;
	uint32_t x = 2166136261u ^ af;

	for (size_t i = 0; i < addr_len(af); i++)
		x = (x ^ p[i]) * 16777619u;
	for (size_t i = 0; af == AF_INET6 && i < 16; i++)
		x = (x ^ h[i]) * 16777619u;
	return x;
}

static bool same_key(const struct learn_peer *p, int af, const union inaddr *peer,
		     const union inaddr *host)
{
	return p->af == af && !memcmp(&p->peer, peer, addr_len(af)) &&
	       (af == AF_INET || !memcmp(&p->host, host, 16));
}

static struct learn_peer *find_peer(const struct learn *l, int af, const union inaddr *peer,
				    const union inaddr *host)
{
	for (struct hmap_node *n = hmap_first(&l->peers_by_key, hash_key(af, peer, host)); n;
	     n = hmap_next(n)) {
		struct learn_peer *p = container_of(n, struct learn_peer, node);

		if (same_key(p, af, peer, host))
			return p;
	}
	return NULL;
}

/* When P's last contact ends, and (if RET_TIMEOUT) the longest timeout among them: its element's. */
static uint64_t peer_until(const struct learn_peer *p, uint32_t *ret_timeout)
{
	uint64_t until = 0;
	uint32_t t = 0;

	for (size_t i = 0; i < p->n_contacts; i++) {
		if (p->contacts[i].until > until)
			until = p->contacts[i].until;
		if (p->contacts[i].timeout_ms > t)
			t = p->contacts[i].timeout_ms;
	}
	if (ret_timeout)
		*ret_timeout = t;
	return until;
}

static void unlink_peer(struct learn *l, struct learn_peer *p)
{
	struct learn_peer **pp;

	hmap_remove(&l->peers_by_key, &p->node);
	for (pp = &l->pending; *pp; pp = &(*pp)->pnext)
		if (*pp == p) {
			*pp = p->pnext;
			break;
		}
	if (p->aprev)
		p->aprev->anext = p->anext;
	else
		l->all = p->anext;
	if (p->anext)
		p->anext->aprev = p->aprev;
	l->n_peers--;
}

/*
 * At the cap: peers whose time is up go (their kernel elements expired
 * with them), at most once a second so that a stream of new peers costs
 * nothing; until then, and if none has, a new peer is not listed. (Making
 * room by dropping live peers would let one host that contacts many peers
 * flush everyone else's, and cost a delete for each.)
 */
static void sweep(struct learn *l, uint64_t now)
{
	uint64_t min_until = UINT64_MAX;

	/* none can have expired yet (the common case at the cap): no scan */
	if (now < l->next_sweep || now < l->min_until)
		return;
	l->next_sweep = now + 1000;
	for (struct learn_peer *p = l->all, *next; p; p = next) {
		uint64_t until = peer_until(p, NULL);

		next = p->anext;
		if (until <= now) {
			unlink_peer(l, p);
			free_peer(p);
		} else if (until < min_until) {
			min_until = until;
		}
	}
	l->min_until = min_until;
}

/* P's end may have come nearer (a contact went): the bound follows. */
static void lower_min_until(struct learn *l, const struct learn_peer *p)
{
	uint64_t until = peer_until(p, NULL);

	if (until < l->min_until)
		l->min_until = until;
}

static void mark_pending(struct learn *l, struct learn_peer *p)
{
	if (p->is_pending)
		return;
	p->is_pending = true;
	p->pnext = l->pending;
	l->pending = p;
}

int learn_contact(struct learn *l, const struct rule *r, int af, const union inaddr *host,
		  const union inaddr *peer, uint64_t now)
{
	static const union inaddr none;
	const union inaddr *key_host = af == AF_INET6 ? host : &none;
	uint32_t timeout_ms = r->timeout_s * 1000;
	struct learn_contact *c = NULL;
	struct learn_peer *p;

	if (!l->enabled)
		return 0;
	p = find_peer(l, af, peer, key_host);
	if (!p) {
		if (l->n_peers >= LEARN_PEERS_MAX)
			sweep(l, now);
		if (l->n_peers >= LEARN_PEERS_MAX) {
			l->peers_not_listed++;
			return 0;
		}
		p = hmap_reserve(&l->peers_by_key) < 0 ? NULL : calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->af = af;
		p->contacts = &p->first;
		p->cap_contacts = 1;
		memcpy(&p->peer, peer, addr_len(af));
		memcpy(&p->host, key_host, sizeof(p->host));
		hmap_insert(&l->peers_by_key, &p->node, hash_key(af, peer, key_host));
		p->anext = l->all;
		if (l->all)
			l->all->aprev = p;
		l->all = p;
		l->n_peers++;
	}
	for (size_t i = 0; i < p->n_contacts && !c; i++)
		if (!strcmp(p->contacts[i].rule, r->name) &&
		    !memcmp(&p->contacts[i].host, host, addr_len(af)))
			c = &p->contacts[i];
	if (!c && p->n_contacts == p->cap_contacts && p->cap_contacts < LEARN_CONTACTS_PER_PEER) {
		uint8_t cap = 2 * p->cap_contacts;
		struct learn_contact *v = p->contacts == &p->first ? malloc(cap * sizeof(*v)) :
				realloc(p->contacts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		if (p->contacts == &p->first)
			v[0] = p->first;
		p->contacts = v;
		p->cap_contacts = cap;
	}
	if (!c && p->n_contacts < p->cap_contacts)
		c = &p->contacts[p->n_contacts++];
	if (!c) {
		/* full: the contact that ends first makes room */
		c = &p->contacts[0];
		for (size_t i = 1; i < p->n_contacts; i++)
			if (p->contacts[i].until < c->until)
				c = &p->contacts[i];
	}
	snprintf(c->rule, sizeof(c->rule), "%s", r->name);
	memset(&c->host, 0, sizeof(c->host));
	memcpy(&c->host, host, addr_len(af));
	c->until = now + timeout_ms;
	c->timeout_ms = timeout_ms;
	/* a refresh only moves a peer's end later; a new peer may bring the earliest nearer */
	lower_min_until(l, p);
	/* the kernel's element need not follow every refresh: an eighth of the timeout is near enough */
	if (c->until > p->written_until + timeout_ms / 8)
		mark_pending(l, p);
	return 0;
}

void learn_forget(struct learn *l, const char *rule, int af, const union inaddr *host)
{
	for (struct learn_peer *p = l->all; p; p = p->anext) {
		size_t n = 0;

		if (p->af != af)
			continue;
		for (size_t k = 0; k < p->n_contacts; k++) {
			const struct learn_contact *c = &p->contacts[k];

			if (strcmp(c->rule, rule) || memcmp(&c->host, host, addr_len(af)))
				p->contacts[n++] = *c;
		}
		/* the element stays until its time: nothing is attributed to it meanwhile */
		p->n_contacts = n;
		lower_min_until(l, p);
	}
}

int learn_packet(struct learn *l, const struct nflog_pkt *pkt, uint64_t now, learn_cb cb, void *data)
{
	static const union inaddr none;
	struct learn_peer *p;
	int n = 0;

	if (!l->enabled || (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP))
		return 0;
	p = find_peer(l, pkt->af, &pkt->saddr, pkt->af == AF_INET6 ? &pkt->daddr : &none);
	for (size_t i = 0; p && i < p->n_contacts; i++) {
		const struct learn_contact *c = &p->contacts[i];
		struct learn_record *rec;

		if (c->until <= now)
			continue;
		n++;
		rec = learnrec_add(&l->rec, c->rule, pkt->af, &pkt->saddr, pkt->proto, pkt->dport,
				   &c->host, now);
		if (rec && cb)
			cb(rec, pkt->dport, data);
	}
	if (!n)
		l->unattributed++;
	return n;
}

size_t learn_clear(struct learn *l, const char *rule)
{
	if (!rule)
		l->unattributed = l->peers_not_listed = 0;
	return learnrec_clear(&l->rec, rule);
}

void learn_keep_rules(struct learn *l, const struct config *c)
{
	learnrec_keep_rules(&l->rec, c);
	for (struct learn_peer *p = l->all; p; p = p->anext) {
		size_t k = 0;

		for (size_t j = 0; j < p->n_contacts; j++)
			if (config_find_rule(c, p->contacts[j].rule))
				p->contacts[k++] = p->contacts[j];
		p->n_contacts = k;
		lower_min_until(l, p);
	}
}

/* ---- the kernel's learn sets --------------------------------------------- */

static const enum nftobj_set learn_sets[2] = { NFTOBJ_LEARN4, NFTOBJ_LEARN6 };

/* Elements bound for the two learn sets, by family (IPv4, IPv6) */
struct learn_elems {
	struct nftelem *v[2];
	size_t n[2];
	size_t cap[2];
};

static void free_elems(struct learn_elems *e)
{
	for (int i = 0; i < 2; i++)
		free(e->v[i]);
}

static int push_elem(struct learn_elems *v, int fam, const struct nftelem *e)
{
	if (v->n[fam] == v->cap[fam]) {
		size_t c = v->cap[fam] ? 2 * v->cap[fam] : 16;
		struct nftelem *p = realloc(v->v[fam], c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		v->v[fam] = p;
		v->cap[fam] = c;
	}
	v->v[fam][v->n[fam]++] = *e;
	return 0;
}

/*
 * P's element with the time it has left, into ADD; the one the kernel
 * has, if any, into DEL (if not NULL): before Linux 6.12 an add leaves an
 * element's timeout as it was.
 */
static int add_peer_elem(struct learn_peer *p, uint64_t now, struct learn_elems *add,
			 struct learn_elems *del)
{
	uint32_t timeout;
	uint64_t until = peer_until(p, &timeout);
	struct nftelem e;
	int fam = p->af == AF_INET6, r = 0;

	if (until <= now)
		return 0;
	if (del && p->written_until > now) {
		nftelem_learn(p->af, &p->peer, &p->host, 0, 0, &e);
		r = push_elem(del, fam, &e);
	}
	nftelem_learn(p->af, &p->peer, &p->host, timeout, until - now, &e);
	p->written_until = until;
	return r < 0 ? r : push_elem(add, fam, &e);
}

static int write_elems(struct nlbatch *b, const struct learn_elems *add)
{
	int r = 0;

	for (int i = 0; i < 2 && r == 0; i++)
		if (add->n[i])
			r = nftelem_write_set(b, NFT_MSG_NEWSETELEM, learn_sets[i], add->v[i], add->n[i]);
	return r;
}

static int remove_elems(const struct learn *l, struct nlbatch *b, const struct learn_elems *del)
{
	bool destroy = !l->caps || kcaps_has(l->caps, KCAP_DESTROY);
	int r = 0;

	for (int i = 0; i < 2 && r == 0; i++) {
		struct nftobj_setref s;

		nftobj_setref(learn_sets[i], &s);
		r = nftelem_remove(b, destroy, &s, del->v[i], del->n[i]);
	}
	return r;
}

int learn_write_pending(struct learn *l, struct nlbatch *b, uint64_t now)
{
	struct learn_elems add = { 0 }, del = { 0 };
	size_t before = b->n_ops;
	int r = 0;

	if (!l->pending)
		return 0;
	/* a batch of their own (nothing else to write) at most every LEARN_WRITE_GAP_MS */
	if (!before) {
		if (now < l->next_write)
			return 0;
		l->next_write = now + LEARN_WRITE_GAP_MS;
	}

	for (struct learn_peer *p = l->pending, *next; p; p = next) {
		next = p->pnext;
		p->is_pending = false;
		p->pnext = NULL;
		if (r == 0)
			r = add_peer_elem(p, now, &add, &del);
	}
	l->pending = NULL;
	if (r == 0)
		r = remove_elems(l, b, &del);
	if (r == 0)
		r = write_elems(b, &add);
	free_elems(&add);
	free_elems(&del);
	return r < 0 ? r : (int)(b->n_ops - before);
}

uint64_t learn_deadline(const struct learn *l)
{
	return l->pending ? l->next_write : UINT64_MAX;
}

int learn_write_all(struct learn *l, struct nlbatch *b, uint64_t now)
{
	struct learn_elems add = { 0 };
	int r = 0;

	/* the sets were just flushed: everything to add, nothing pending (pending peers are listed) */
	for (struct learn_peer *p = l->all; p; p = p->anext) {
		p->is_pending = false;
		p->pnext = NULL;
		if (r == 0)
			r = add_peer_elem(p, now, &add, NULL);
	}
	l->pending = NULL;
	if (r == 0)
		r = write_elems(b, &add);
	free_elems(&add);
	return r;
}
