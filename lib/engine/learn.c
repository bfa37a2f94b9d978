/*
 * Learn mode; see learn.h. Peers live in a hash table keyed by the kernel
 * element they stand for (IPv4: the peer; IPv6: peer and host), each with
 * the few rule x host contacts behind it (an element outlives its peer
 * only when a forwarding closed early: then it just logs into the void). A peer's element is rewritten
 * only when its end moved by more than an eighth of its timeout, so a
 * stream of triggers costs the kernel little, and elements alone (nothing
 * else to write) are committed at most every LEARN_WRITE_GAP_MS. At the cap
 * a new peer costs no scan until some listed peer's time can be up
 * (min_until). Records are kept in a sorted array of pointers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
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
	learn_clear(l, NULL);
	free(l->records);
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

static uint64_t peer_until(const struct learn_peer *p)
{
	uint64_t until = 0;

	for (size_t i = 0; i < p->n_contacts; i++)
		if (p->contacts[i].until > until)
			until = p->contacts[i].until;
	return until;
}

static uint32_t peer_timeout(const struct learn_peer *p)
{
	uint32_t t = 0;

	for (size_t i = 0; i < p->n_contacts; i++)
		if (p->contacts[i].timeout_ms > t)
			t = p->contacts[i].timeout_ms;
	return t;
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
		uint64_t until = peer_until(p);

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
	uint64_t until = peer_until(p);

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

/* ---- records ------------------------------------------------------------ */

static int cmp_record_key(const char *rule, int af, const union inaddr *peer, uint8_t proto,
			  const struct learn_record *r)
{
	int c = strcmp(rule, r->rule);

	if (c)
		return c;
	if (af != r->af)
		return af < r->af ? -1 : 1;
	c = memcmp(peer, &r->peer, addr_len(af));
	if (c)
		return c;
	return proto < r->proto ? -1 : proto > r->proto;
}

/* The index of the record of this key, or where it would go (*FOUND false). */
static size_t find_record(const struct learn *l, const char *rule, int af, const union inaddr *peer,
			  uint8_t proto, bool *found)
{
	size_t lo = 0, hi = l->n_records;

	*found = false;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_record_key(rule, af, peer, proto, l->records[mid]);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Port P into REC's ranges; false if it did not fit. */
static bool add_port(struct learn_record *rec, uint16_t p)
{
	struct learn_range *v = rec->ranges;
	size_t n = rec->n_ranges, i = 0;

	while (i < n && v[i].hi < p)
		i++;
	if (i < n && v[i].lo <= p)
		return true;	/* known */
	if (i > 0 && v[i - 1].hi + 1 == p) {
		v[i - 1].hi = p;
		/* it may close the gap to the next range */
		if (i < n && v[i].lo == p + 1) {
			v[i - 1].hi = v[i].hi;
			memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
			rec->n_ranges--;
		}
		return true;
	}
	if (i < n && v[i].lo == p + 1) {
		v[i].lo = p;
		return true;
	}
	if (n == LEARN_RANGES_MAX)
		return false;
	memmove(&v[i + 1], &v[i], (n - i) * sizeof(*v));
	v[i] = (struct learn_range){ p, p };
	rec->n_ranges++;
	return true;
}

static struct learn_record *get_record(struct learn *l, const char *rule, int af,
				       const union inaddr *peer, uint8_t proto)
{
	bool found;
	size_t i = find_record(l, rule, af, peer, proto, &found);
	struct learn_record *rec, **v;

	if (found)
		return l->records[i];
	if (l->n_records >= LEARN_RECORDS_MAX)
		return NULL;
	rec = calloc(1, sizeof(*rec));
	v = rec ? realloc(l->records, (l->n_records + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(rec);
		return NULL;
	}
	l->records = v;
	memmove(&v[i + 1], &v[i], (l->n_records - i) * sizeof(*v));
	v[i] = rec;
	l->n_records++;
	snprintf(rec->rule, sizeof(rec->rule), "%s", rule);
	rec->af = af;
	memcpy(&rec->peer, peer, addr_len(af));
	rec->proto = proto;
	return rec;
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
		rec = get_record(l, c->rule, pkt->af, &pkt->saddr, pkt->proto);
		if (!rec) {
			l->records_not_kept++;
			continue;
		}
		if (!rec->connections)
			rec->first_ms = now;
		rec->connections++;
		rec->last_ms = now;
		rec->host = c->host;
		if (!add_port(rec, pkt->dport))
			rec->not_kept++;
		if (cb)
			cb(rec, pkt->dport, data);
	}
	if (!n)
		l->unattributed++;
	return n;
}

size_t learn_clear(struct learn *l, const char *rule)
{
	size_t n = 0, gone = 0;

	for (size_t i = 0; i < l->n_records; i++) {
		if (!rule || !strcmp(l->records[i]->rule, rule)) {
			free(l->records[i]);
			gone++;
		} else {
			l->records[n++] = l->records[i];
		}
	}
	l->n_records = n;
	if (!rule)
		l->records_not_kept = l->unattributed = l->peers_not_listed = 0;
	return gone;
}

void learn_keep_rules(struct learn *l, const struct config *c)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n_records; i++) {
		if (config_find_rule(c, l->records[i]->rule))
			l->records[n++] = l->records[i];
		else
			free(l->records[i]);
	}
	l->n_records = n;
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

static int write_elems(struct nlbatch *b, uint16_t type, struct nftelem *v[2], size_t n[2])
{
	static const enum nftobj_set sets[2] = { NFTOBJ_LEARN4, NFTOBJ_LEARN6 };
	int r = 0;

	for (int i = 0; i < 2 && r == 0; i++)
		if (n[i])
			r = nftelem_write_set(b, type, sets[i], v[i], n[i]);
	return r;
}

static int push_elem(struct nftelem **v, size_t *n, size_t *cap, const struct nftelem *e)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		struct nftelem *p = realloc(*v, c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = *e;
	return 0;
}

/*
 * P's element with the time it has left, into the vector of its family;
 * the one the kernel has, if any, into DEL: before Linux 6.12 an add
 * leaves an element's timeout as it was.
 */
static int add_peer_elem(struct learn_peer *p, uint64_t now, struct nftelem *v[2], size_t n[2],
			 size_t cap[2], struct nftelem *del[2], size_t n_del[2], size_t cap_del[2])
{
	uint64_t until = peer_until(p);
	struct nftelem e;
	int fam = p->af == AF_INET6, r = 0;

	if (until <= now)
		return 0;
	if (del && p->written_until > now) {
		nftelem_learn(p->af, &p->peer, &p->host, 0, 0, &e);
		r = push_elem(&del[fam], &n_del[fam], &cap_del[fam], &e);
	}
	nftelem_learn(p->af, &p->peer, &p->host, peer_timeout(p), until - now, &e);
	p->written_until = until;
	return r < 0 ? r : push_elem(&v[fam], &n[fam], &cap[fam], &e);
}

static int remove_elems(const struct learn *l, struct nlbatch *b, struct nftelem *v[2], size_t n[2])
{
	static const enum nftobj_set sets[2] = { NFTOBJ_LEARN4, NFTOBJ_LEARN6 };
	bool destroy = !l->caps || kcaps_has(l->caps, KCAP_DESTROY);
	int r = 0;

	for (int i = 0; i < 2 && r == 0; i++) {
		struct nftobj_setref s;

		nftobj_setref(sets[i], &s);
		r = nftelem_remove(b, destroy, &s, v[i], n[i]);
	}
	return r;
}

int learn_write_pending(struct learn *l, struct nlbatch *b, uint64_t now)
{
	struct nftelem *add[2] = { NULL, NULL }, *del[2] = { NULL, NULL };
	size_t n_add[2] = { 0, 0 }, cap_add[2] = { 0, 0 }, before = b->n_ops;
	size_t n_del[2] = { 0, 0 }, cap_del[2] = { 0, 0 };
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
			r = add_peer_elem(p, now, add, n_add, cap_add, del, n_del, cap_del);
	}
	l->pending = NULL;
	if (r == 0)
		r = remove_elems(l, b, del, n_del);
	if (r == 0)
		r = write_elems(b, NFT_MSG_NEWSETELEM, add, n_add);
	for (int i = 0; i < 2; i++) {
		free(add[i]);
		free(del[i]);
	}
	return r < 0 ? r : (int)(b->n_ops - before);
}

uint64_t learn_deadline(const struct learn *l)
{
	return l->pending ? l->next_write : UINT64_MAX;
}

int learn_write_all(struct learn *l, struct nlbatch *b, uint64_t now)
{
	struct nftelem *add[2] = { NULL, NULL };
	size_t n_add[2] = { 0, 0 }, cap_add[2] = { 0, 0 };
	int r = 0;

	/* the sets were just flushed: everything to add */
	for (struct learn_peer *p = l->pending, *next; p; p = next) {
		next = p->pnext;
		p->is_pending = false;
		p->pnext = NULL;
	}
	l->pending = NULL;
	for (struct learn_peer *p = l->all; p && r == 0; p = p->anext)
		r = add_peer_elem(p, now, add, n_add, cap_add, NULL, NULL, NULL);
	if (r == 0)
		r = write_elems(b, NFT_MSG_NEWSETELEM, add, n_add);
	for (int i = 0; i < 2; i++)
		free(add[i]);
	return r;
}

/* ---- suggestions and the report ----------------------------------------- */

static int push_range(struct portrange **v, size_t *n, uint8_t proto, uint16_t lo, uint16_t hi)
{
	struct portrange *p = realloc(*v, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*v = p;
	p[(*n)++] = (struct portrange){ .proto = proto, .lo = lo, .hi = hi };
	return 0;
}

/* Whether Q's forwards may not overlap R's (a configuration error): a family in common. */
static bool competes(const struct rule *r, const struct rule *q)
{
	return q != r && (q->family & r->family);
}

/* V less every range of Q (a range may split in two). */
static int subtract(struct portrange **v, size_t *n, const struct portrange *q)
{
	for (size_t i = 0; i < *n; i++) {
		struct portrange *p = &(*v)[i];

		if (p->proto != q->proto || q->hi < p->lo || q->lo > p->hi)
			continue;
		if (q->lo > p->lo && q->hi < p->hi) {
			uint16_t hi = p->hi;

			p->hi = q->lo - 1;
			if (push_range(v, n, q->proto, q->hi + 1, hi) < 0)
				return -ENOMEM;
		} else if (q->lo <= p->lo && q->hi >= p->hi) {
			(*v)[i--] = (*v)[--*n];
		} else if (q->lo <= p->lo) {
			p->lo = q->hi + 1;
		} else {
			p->hi = q->lo - 1;
		}
	}
	return 0;
}

int learn_suggest(const struct learn *l, const struct config *c, const struct rule *r,
		  struct portrange **ret, size_t *ret_n)
{
	struct portrange *v = NULL;
	size_t n = 0, m = 0;
	int e = 0;

	for (size_t i = 0; i < r->n_forwards && e == 0; i++)
		e = push_range(&v, &n, r->forwards[i].proto, r->forwards[i].lo, r->forwards[i].hi);
	for (size_t i = 0; i < l->n_records && e == 0; i++) {
		const struct learn_record *rec = l->records[i];

		if (strcmp(rec->rule, r->name))
			continue;
		for (size_t k = 0; k < rec->n_ranges && e == 0; k++)
			e = push_range(&v, &n, rec->proto, rec->ranges[k].lo, rec->ranges[k].hi);
	}
	if (e < 0) {
		free(v);
		return e;
	}
	qsort(v, n, sizeof(*v), portrange_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m && v[m - 1].proto == v[i].proto &&
		    (uint32_t)v[m - 1].hi + LEARN_MERGE_GAP + 1 >= v[i].lo) {
			if (v[i].hi > v[m - 1].hi)
				v[m - 1].hi = v[i].hi;
			continue;
		}
		v[m++] = v[i];
	}
	n = m;
	for (size_t i = 0; c && i < c->n_rules && e == 0; i++)
		for (size_t k = 0; competes(r, c->rules[i]) && k < c->rules[i]->n_forwards && e == 0; k++)
			e = subtract(&v, &n, &c->rules[i]->forwards[k]);
	if (e < 0) {
		free(v);
		return e;
	}
	qsort(v, n, sizeof(*v), portrange_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

static void range_text(char *buf, size_t size, const struct learn_range *g)
{
	if (g->lo == g->hi)
		snprintf(buf, size, "%u", g->lo);
	else
		snprintf(buf, size, "%u-%u", g->lo, g->hi);
}

static unsigned long long ago_s(uint64_t now, uint64_t t)
{
	return now > t ? (now - t) / 1000 : 0;
}

static void record_json(struct json *j, const struct learn_record *rec, uint64_t now)
{
	char peer[INET6_ADDRSTRLEN], host[INET6_ADDRSTRLEN], tmp[16];

	json_object(j, NULL);
	json_str(j, "family", rec->af == AF_INET ? "ipv4" : "ipv6");
	json_str(j, "peer", inet_ntop(rec->af, &rec->peer, peer, sizeof(peer)));
	json_str(j, "host", inet_ntop(rec->af, &rec->host, host, sizeof(host)));
	json_str(j, "proto", proto_name(rec->proto));
	json_array(j, "ports");
	for (size_t i = 0; i < rec->n_ranges; i++) {
		range_text(tmp, sizeof(tmp), &rec->ranges[i]);
		json_str(j, NULL, tmp);
	}
	json_end(j);
	json_u64(j, "connections", rec->connections);
	json_u64(j, "not_kept", rec->not_kept);
	json_u64(j, "first_seen", ago_s(now, rec->first_ms));
	json_u64(j, "last_seen", ago_s(now, rec->last_ms));
	json_end(j);
}

static void record_text(struct dynbuf *out, const struct learn_record *rec, uint64_t now)
{
	char peer[INET6_ADDRSTRLEN], host[INET6_ADDRSTRLEN], first[32], last[32], tmp[16];

	inet_ntop(rec->af, &rec->peer, peer, sizeof(peer));
	inet_ntop(rec->af, &rec->host, host, sizeof(host));
	duration_format(ago_s(now, rec->first_ms), first, sizeof(first));
	duration_format(ago_s(now, rec->last_ms), last, sizeof(last));
	dynbuf_printf(out, "%s: peer %s tried %s ", rec->rule, peer, proto_name(rec->proto));
	for (size_t i = 0; i < rec->n_ranges; i++) {
		range_text(tmp, sizeof(tmp), &rec->ranges[i]);
		dynbuf_printf(out, "%s%s", i ? "," : "", tmp);
	}
	dynbuf_printf(out, " (%llu connection%s, not forwarded", (unsigned long long)rec->connections,
		      rec->connections == 1 ? "" : "s");
	if (rec->not_kept)
		dynbuf_printf(out, "; %llu to more ports not kept", (unsigned long long)rec->not_kept);
	dynbuf_printf(out, "; host %s, first %s ago, last %s ago)\n", host, first, last);
}

/* One rule's part of the report. */
static int rule_report(const struct learn *l, const struct config *c, const struct rule *r,
		       uint64_t now, struct json *j, struct dynbuf *out)
{
	struct portrange *sug = NULL;
	size_t n_sug = 0, shown = 0;
	char tmp[32];
	int e = learn_suggest(l, c, r, &sug, &n_sug);

	if (e < 0)
		return e;
	if (j) {
		json_object(j, NULL);
		json_str(j, "rule", r->name);
		portranges_json(j, "forwards", r->forwards, r->n_forwards);
		json_array(j, "seen");
	}
	for (size_t i = 0; i < l->n_records; i++) {
		const struct learn_record *rec = l->records[i];

		if (strcmp(rec->rule, r->name))
			continue;
		if (j)
			record_json(j, rec, now);
		else
			record_text(out, rec, now);
		shown++;
	}
	if (j) {
		json_end(j);
		portranges_json(j, "suggest", sug, n_sug);
		json_end(j);
	} else if (shown) {
		dynbuf_printf(out, "%s: suggest: forward ", r->name);
		for (size_t i = 0; i < n_sug; i++) {
			portrange_format(&sug[i], tmp, sizeof(tmp));
			dynbuf_printf(out, "%s%s", i ? "," : "", tmp);
		}
		dynbuf_printf(out, "\n");
	} else {
		dynbuf_printf(out, "%s: nothing seen\n", r->name);
	}
	free(sug);
	return 0;
}

int learn_report(const struct learn *l, const struct config *c, const char *rule, uint64_t now,
		 bool json, struct dynbuf *out)
{
	const struct rule *only = rule ? config_find_rule(c, rule) : NULL;
	struct json j;
	size_t n_rules = 0;
	int e = 0;

	if (rule && !only)
		return -ENOENT;
	if (json) {
		json_init(&j, out);
		json_object(&j, NULL);
		json_bool(&j, "learn", l->enabled);
		json_array(&j, "rules");
	}
	for (size_t i = 0; i < c->n_rules && e == 0; i++) {
		const struct rule *r = c->rules[i];
		bool seen = false;

		if (only && r != only)
			continue;
		for (size_t k = 0; k < l->n_records && !seen; k++)
			seen = !strcmp(l->records[k]->rule, r->name);
		if (!seen && !only)
			continue;
		e = rule_report(l, c, r, now, json ? &j : NULL, out);
		n_rules++;
	}
	if (e < 0)
		return e;
	if (json) {
		json_end(&j);
		json_u64(&j, "records", l->n_records);
		json_u64(&j, "peers_listed", l->n_peers);
		json_u64(&j, "peers_not_listed", l->peers_not_listed);
		json_u64(&j, "records_not_kept", l->records_not_kept);
		json_u64(&j, "unattributed", l->unattributed);
		json_end(&j);
		return 0;
	}
	if (!l->enabled)
		dynbuf_printf(out, "learn mode is off ('learn off' in the rule files)\n");
	else if (!n_rules)
		dynbuf_printf(out, "nothing learned yet\n");
	if (l->records_not_kept)
		dynbuf_printf(out, "%llu connections not kept (more than %d rule x peer x protocol records)\n",
			      (unsigned long long)l->records_not_kept, LEARN_RECORDS_MAX);
	return 0;
}
