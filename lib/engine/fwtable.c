/*
 * Forwarding table; see fwtable.h. Static forwardings live in the table so
 * that listings are uniform, but never in the heap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fwtable.h"
#include "base/util.h"

size_t fwd_addr_len(int af)
{
	return af == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

void fwtable_init(struct fwtable *t)
{
	memset(t, 0, sizeof(*t));
}

static uint32_t hash_key(const struct rule *r, int af, const union inaddr *peer)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;

	for (p = (const unsigned char *)r->name; *p; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ (unsigned)af) * 16777619u;
	p = (const unsigned char *)peer;
	for (size_t i = 0; i < sizeof(*peer); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool key_eq(const struct fwd *f, const struct rule *r, int af, const union inaddr *peer)
{
	return f->af == af && !strcmp(f->rule->name, r->name) &&
	       !memcmp(&f->peer, peer, sizeof(*peer));
}

struct fwd *fwtable_lookup(const struct fwtable *t, const struct rule *r, int af,
			   const union inaddr *peer)
{
	union inaddr zero = { 0 };

	if (!r->peer || !peer)
		peer = &zero;
	for (struct hmap_node *n = hmap_first(&t->map, hash_key(r, af, peer)); n; n = hmap_next(n)) {
		struct fwd *f = container_of(n, struct fwd, node);

		if (key_eq(f, r, af, peer))
			return f;
	}
	return NULL;
}

static const char *pool(const struct rule *r)
{
	return r->max_per_host ? r->name : "";
}

static int count_host(struct fwtable *t, const struct fwd *f, int delta)
{
	if (f->rule->is_static)
		return 0;
	if (hostcount_add(&t->hosts, &f->id, pool(f->rule), delta) < 0)
		return -ENOMEM;
	t->n_dynamic += delta;
	return 0;
}

unsigned fwtable_host_count(const struct fwtable *t, const struct rule *r, const struct hostid *id)
{
	return hostcount_get(&t->hosts, id, pool(r));
}

static bool host_full(const struct fwtable *t, const struct rule *r, const struct hostid *id)
{
	unsigned max = r->max_per_host ? r->max_per_host : t->max_per_host;

	return max && fwtable_host_count(t, r, id) >= max;
}

int fwtable_recount(struct fwtable *t)
{
	struct hmap_node *n, *next;

	hostcount_clear(&t->hosts);
	t->n_dynamic = 0;
	HMAP_FOREACH(&t->map, i, n, next)
		if (count_host(t, container_of(n, struct fwd, node), 1) < 0)
			return -ENOMEM;
	return 0;
}

static void mark_pending(struct fwtable *t, struct fwd *f, enum fwd_pending p)
{
	if (f->pending == FWD_PENDING_NONE) {
		f->pnext = t->pending;
		t->pending = f;
	}
	if (p > f->pending)
		f->pending = p;
}

int fwtable_insert(struct fwtable *t, const struct rule *r, int af, const union inaddr *host,
		   const union inaddr *peer, uint64_t now, uint64_t deadline, struct fwd **ret_fwd)
{
	struct fwd *f;

	if (hmap_reserve(&t->map) < 0)
		return -ENOMEM;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	heap_node_init(&f->timer);
	f->rule = r;
	f->af = af;
	memcpy(&f->host, host, fwd_addr_len(af));
	if (!r->is_static)
		hostid_addr(af, host, &f->id);
	if (r->peer && peer)
		memcpy(&f->peer, peer, fwd_addr_len(af));
	f->opened = f->refreshed = now;
	if (count_host(t, f, 1) < 0) {
		free(f);
		return -ENOMEM;
	}
	if (deadline != FWD_FOREVER && heap_push(&t->heap, &f->timer, deadline) < 0) {
		count_host(t, f, -1);
		free(f);
		return -ENOMEM;
	}
	hmap_insert(&t->map, &f->node, hash_key(r, af, &f->peer));
	t->n++;
	mark_pending(t, f, FWD_PENDING_ASSIGN);
	*ret_fwd = f;
	return 0;
}

/* F's host becomes ID: its count moves from the old one to the new. */
static int move_count(struct fwtable *t, struct fwd *f, const struct hostid *id)
{
	if (hostid_eq(&f->id, id))
		return 0;
	if (hostcount_add(&t->hosts, id, pool(f->rule), 1) < 0)
		return -ENOMEM;
	hostcount_add(&t->hosts, &f->id, pool(f->rule), -1);
	f->id = *id;
	return 0;
}

/* F goes to HOST (its kernel elements are written again, the old host's removed). */
static void assign(struct fwtable *t, struct fwd *f, int af, const union inaddr *host,
		   union inaddr *ret_old_host)
{
	if (ret_old_host)
		memcpy(ret_old_host, &f->host, sizeof(f->host));
	if (!f->has_old) {
		f->old_host = f->host;
		f->has_old = true;
	}
	memcpy(&f->host, host, fwd_addr_len(af));
	mark_pending(t, f, FWD_PENDING_ASSIGN);
}

int fwtable_trigger(struct fwtable *t, const struct rule *r, int af, const union inaddr *host,
		    const struct hostid *id, const union inaddr *peer, uint64_t now,
		    struct fwd **ret_fwd, union inaddr *ret_old_host)
{
	uint64_t deadline = now + (uint64_t)r->timeout_s * 1000;
	struct fwd *f = fwtable_lookup(t, r, af, peer);
	struct hostid by_addr;
	bool same_addr;
	int ret;

	if (!id) {
		hostid_addr(af, host, &by_addr);
		id = &by_addr;
	}
	*ret_fwd = NULL;
	if (!f) {
		/* a refused trigger changes nothing: it neither opens nor closes anything */
		if (t->max_forwardings && t->n_dynamic >= t->max_forwardings) {
			t->stats.over_limit++;
			return FWD_OVER_LIMIT;
		}
		if (host_full(t, r, id)) {
			t->stats.over_host_limit++;
			return FWD_OVER_HOST_LIMIT;
		}
		ret = fwtable_insert(t, r, af, host, peer, now, deadline, ret_fwd);
		if (ret < 0)
			return ret;
		ret = move_count(t, *ret_fwd, id);
		if (ret < 0) {
			fwtable_remove(t, *ret_fwd);
			*ret_fwd = NULL;
			return ret;
		}
		t->stats.opened++;
		return FWD_OPENED;
	}
	*ret_fwd = f;
	same_addr = !memcmp(&f->host, host, fwd_addr_len(af));
	/*
	 * The holder again, from the same address or another of its machine's
	 * (the neighbour table vouches for both): a refresh. Another address
	 * of a /64 known by nothing else may be anyone there: a takeover, as
	 * from any host. (The same address known better now, e.g. once the
	 * neighbour table has it, counts from now on for its machine.)
	 */
	if (same_addr || (id->kind == HOSTID_LINK && hostid_eq(&f->id, id))) {
		if (move_count(t, f, id) < 0)
			return -ENOMEM;
		f->refreshed = now;
		heap_update(&t->heap, &f->timer, deadline);
		if (same_addr)
			mark_pending(t, f, FWD_PENDING_REFRESH);
		else
			assign(t, f, af, host, ret_old_host);
		t->stats.refreshed++;
		return FWD_REFRESHED;
	}
	if (r->exclusive) {
		t->stats.refused++;
		return FWD_REFUSED;
	}
	/* (another address of the holder's /64 takes over: that host's count stays) */
	if (!hostid_eq(&f->id, id) && host_full(t, r, id)) {
		t->stats.over_host_limit++;
		return FWD_OVER_HOST_LIMIT;
	}
	if (move_count(t, f, id) < 0)
		return -ENOMEM;
	assign(t, f, af, host, ret_old_host);
	f->opened = f->refreshed = now;
	heap_update(&t->heap, &f->timer, deadline);
	t->stats.taken_over++;
	return FWD_TAKEN_OVER;
}

void fwtable_touch(struct fwtable *t, struct fwd *f)
{
	mark_pending(t, f, FWD_PENDING_REFRESH);
}

void fwtable_rewrite(struct fwtable *t, struct fwd *f)
{
	mark_pending(t, f, FWD_PENDING_REWRITE);
}

static void unlink_fwd(struct fwtable *t, struct fwd *f)
{
	struct fwd **pp;

	hmap_remove(&t->map, &f->node);
	if (f->pending != FWD_PENDING_NONE) {
		for (pp = &t->pending; *pp; pp = &(*pp)->pnext)
			if (*pp == f) {
				*pp = f->pnext;
				break;
			}
		f->pending = FWD_PENDING_NONE;
	}
	heap_remove(&t->heap, &f->timer);
	count_host(t, f, -1);
	t->n--;
}

void fwtable_remove(struct fwtable *t, struct fwd *f)
{
	unlink_fwd(t, f);
	free(f);
}

uint64_t fwtable_next_deadline(const struct fwtable *t)
{
	struct heap_node *n = heap_peek(&t->heap);

	return n ? n->deadline : FWD_FOREVER;
}

struct fwd *fwtable_pop_expired(struct fwtable *t, uint64_t now)
{
	struct heap_node *n = heap_peek(&t->heap);
	struct fwd *f;

	if (!n || n->deadline > now)
		return NULL;
	f = container_of(n, struct fwd, timer);
	unlink_fwd(t, f);
	t->stats.expired++;
	return f;
}

struct fwd *fwtable_take_pending(struct fwtable *t)
{
	struct fwd *list = t->pending;

	t->pending = NULL;
	return list;
}

void fwtable_foreach(const struct fwtable *t, void (*cb)(struct fwd *f, void *data), void *data)
{
	struct hmap_node *n, *next;

	HMAP_FOREACH(&t->map, i, n, next)
		cb(container_of(n, struct fwd, node), data);
}

static int cmp_fwd(const void *a, const void *b)
{
	const struct fwd *x = *(struct fwd *const *)a, *y = *(struct fwd *const *)b;
	int r = strcmp(x->rule->name, y->rule->name);

	if (r)
		return r;
	if (x->af != y->af)
		return x->af - y->af;
	r = memcmp(&x->host, &y->host, sizeof(x->host));
	if (r)
		return r;
	return memcmp(&x->peer, &y->peer, sizeof(x->peer));
}

struct fwd_collect {
	struct fwd **v;
	size_t n;
};

static void collect(struct fwd *f, void *data)
{
	struct fwd_collect *c = data;

	c->v[c->n++] = f;
}

struct fwd **fwtable_sorted(const struct fwtable *t)
{
	struct fwd_collect c = { .v = calloc(t->n + 1, sizeof(struct fwd *)) };

	if (!c.v)
		return NULL;
	fwtable_foreach(t, collect, &c);
	qsort(c.v, c.n, sizeof(*c.v), cmp_fwd);
	return c.v;
}

void fwtable_clear(struct fwtable *t)
{
	struct hmap_node *n, *next;

	HMAP_FOREACH(&t->map, i, n, next)
		free(container_of(n, struct fwd, node));
	hmap_clear(&t->map);
	heap_free(&t->heap);
	hostcount_clear(&t->hosts);
	memset(t, 0, sizeof(*t));
}

static int cmp_by_id(const void *a, const void *b)
{
	const struct fwd *x = *(struct fwd *const *)a, *y = *(struct fwd *const *)b;
	int r = memcmp(&x->id, &y->id, sizeof(x->id));

	if (r)
		return r;
	return x->opened < y->opened ? -1 : x->opened > y->opened;
}

static int cmp_share(const void *a, const void *b)
{
	const struct fwtable_host *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return memcmp(&x->id, &y->id, sizeof(x->id));
}

ssize_t fwtable_hosts(const struct fwtable *t, size_t max, struct fwtable_host **ret, size_t *ret_n)
{
	struct fwd **all = fwtable_sorted(t);
	struct fwtable_host *v = calloc(t->n + 1, sizeof(*v));
	size_t n = 0, k = 0;

	if (!all || !v) {
		free(all);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; all[i]; i++)
		if (!all[i]->rule->is_static)
			all[k++] = all[i];
	/* grouped by host, each group's latest last */
	qsort(all, k, sizeof(*all), cmp_by_id);
	for (size_t i = 0; i < k; i++) {
		if (!n || !hostid_eq(&v[n - 1].id, &all[i]->id))
			v[n++].id = all[i]->id;
		v[n - 1].n++;
		v[n - 1].af = all[i]->af;
		v[n - 1].addr = all[i]->host;
	}
	free(all);
	qsort(v, n, sizeof(*v), cmp_share);
	*ret = v;
	*ret_n = n < max ? n : max;
	return n;
}
