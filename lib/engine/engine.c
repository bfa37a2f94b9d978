/*
 * The engine; see engine.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "nft/nftskel.h"
#include "nft/nfttext.h"
#include "rules/prefix.h"

static void free_vecs(struct elemvecs *vs);

void engine_init(struct engine *e)
{
	memset(e, 0, sizeof(*e));
	fwtable_init(&e->fwt);
	kcaps_all(&e->caps);
}

void engine_fini(struct engine *e)
{
	free_vecs(&e->gone);
	free_vecs(&e->scratch[0]);
	free_vecs(&e->scratch[1]);
	nftlayout_free(&e->layout);
	free(e->index);
	free(e->last_trigger);
	fwtable_clear(&e->fwt);
	config_free(e->cfg);
	iflist_clear(&e->auto_wan);
	memset(e, 0, sizeof(*e));
}

const struct iflist *engine_rule_wan(const struct engine *e, const struct rule *r)
{
	if (r->has_wan)
		return &r->wan;
	if (e->cfg && e->cfg->has_wan)
		return &e->cfg->wan;
	return &e->auto_wan;
}

bool engine_uses_auto_wan(const struct engine *e)
{
	if (!e->cfg || !e->cfg->has_wan)
		return true;
	return false;
}

static int iflist_merge(struct iflist *dst, const struct iflist *src)
{
	for (size_t i = 0; i < src->n; i++) {
		bool dup = false;

		for (size_t k = 0; k < dst->n && !dup; k++)
			dup = !strcmp(dst->names[k], src->names[i]);
		if (!dup && iflist_add(dst, src->names[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

size_t engine_n_rules(const struct engine *e)
{
	return e->cfg ? e->cfg->n_rules : 0;
}

size_t engine_n_forwardings(const struct engine *e)
{
	return e->fwt.n;
}

int engine_all_wan(const struct engine *e, struct iflist *ret)
{
	int r = iflist_merge(ret, e->cfg && e->cfg->has_wan ? &e->cfg->wan : &e->auto_wan);

	for (size_t i = 0; e->cfg && i < e->cfg->n_rules && r == 0; i++)
		if (e->cfg->rules[i]->has_wan)
			r = iflist_merge(ret, &e->cfg->rules[i]->wan);
	return r;
}

bool engine_set_auto_wan(struct engine *e, const struct iflist *wan)
{
	bool same = wan->n == e->auto_wan.n;

	for (size_t i = 0; same && i < wan->n; i++)
		same = iflist_match(&e->auto_wan, wan->names[i]);
	if (same)
		return false;
	iflist_clear(&e->auto_wan);
	iflist_copy(&e->auto_wan, wan);
	return true;
}

static int add_matching(struct iflist *ret, const struct iflist *links, const struct iflist *pat,
			const struct iflist *not)
{
	for (size_t i = 0; i < links->n; i++) {
		const char *name = links->names[i];
		int r;

		if (iflist_match(ret, name) || (pat ? !iflist_match(pat, name) :
		    iflist_match(not, name) || !strcmp(name, "lo")))
			continue;
		r = iflist_add(ret, name);
		if (r < 0)
			return r;
	}
	return 0;
}

int engine_interfaces(const struct engine *e, const struct iflist *links, struct iflist *ret_wan,
		      struct iflist *ret_lan)
{
	static const struct rule defaults;
	size_t n = e->cfg ? e->cfg->n_rules : 0;
	int r = 0;

	for (size_t i = 0; i < (n ? n : 1) && r == 0; i++) {
		const struct rule *q = n ? e->cfg->rules[i] : &defaults;
		const struct iflist *wan = engine_rule_wan(e, q), *lan = NULL;

		r = add_matching(ret_wan, links, wan, NULL);
		if (r < 0 || q->is_static)
			continue;
		if (q->has_lan)
			lan = &q->lan;
		else if (e->cfg && e->cfg->has_lan)
			lan = &e->cfg->lan;
		/* without a lan list: every interface that is not this rule's WAN, loopback aside */
		r = add_matching(ret_lan, links, lan, wan);
	}
	return r;
}

bool engine_rule_accepts(const struct engine *e, const struct rule *r, int af,
			 const char *indev, const char *outdev)
{
	const struct iflist *wan = engine_rule_wan(e, r);
	unsigned fam = af == AF_INET ? RULE_FAMILY_IPV4 : RULE_FAMILY_IPV6;

	if (r->is_static || !(r->family & fam))
		return false;
	/* a packet that came in on a WAN interface never triggers */
	if (iflist_match(wan, indev) || !iflist_match(wan, outdev))
		return false;
	if (r->has_lan)
		return iflist_match(&r->lan, indev);
	if (e->cfg->has_lan)
		return iflist_match(&e->cfg->lan, indev);
	return strcmp(indev, "lo") != 0;
}

/* A rule that triggers, for family AF (whatever the interfaces) */
static bool rule_fires(const struct rule *r, int af)
{
	return !r->is_static && (r->family & (af == AF_INET ? RULE_FAMILY_IPV4 : RULE_FAMILY_IPV6));
}

bool engine_rule_allows(const struct engine *e, const struct rule *r, int af, const union inaddr *src)
{
	if (r->has_allow)
		return prefixlist_match(&r->allow, af, src);
	if (e->cfg && e->cfg->has_allow)
		return prefixlist_match(&e->cfg->allow, af, src);
	return true;
}

#define FWD_SET_SIZE_MIN 1024
#define FWD_SET_SIZE_MAX (16u << 20)

uint32_t engine_fwd_set_size(const struct engine *e)
{
	uint64_t size = 2 * (uint64_t)(e->cfg ? e->cfg->max_forwardings : 0);

	if (size < FWD_SET_SIZE_MIN)
		size = FWD_SET_SIZE_MIN;
	return size > FWD_SET_SIZE_MAX ? FWD_SET_SIZE_MAX : size;
}

/*
 * Every trigger range of every rule, sorted by (proto, lo), with the
 * largest hi so far: a packet's rules are found by binary search instead
 * of a walk over all rules.
 */
struct trigger_index {
	uint8_t proto;
	uint16_t lo;
	uint16_t hi;
	uint16_t max_hi;	/* over this entry and all before it of the same proto */
	const struct rule *rule;
	size_t rule_index;	/* in cfg->rules */
};

static int cmp_index(const void *a, const void *b)
{
	const struct trigger_index *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->lo - y->lo;
}

/* The trigger index of CFG's enabled rules, sorted; -ENOMEM. */
static int build_index(const struct config *cfg, struct trigger_index **ret, size_t *ret_n)
{
	struct trigger_index *v;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < cfg->n_rules; i++)
		n += cfg->rules[i]->n_triggers;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct rule *r = cfg->rules[i];

		for (size_t t = 0; rule_enabled(r) && t < r->n_triggers; t++)
			v[k++] = (struct trigger_index){
				.proto = r->triggers[t].proto, .lo = r->triggers[t].lo,
				.hi = r->triggers[t].hi, .rule = r, .rule_index = i };
	}
	qsort(v, k, sizeof(*v), cmp_index);
	for (size_t i = 0; i < k; i++) {
		v[i].max_hi = v[i].hi;
		if (i && v[i - 1].proto == v[i].proto && v[i - 1].max_hi > v[i].max_hi)
			v[i].max_hi = v[i - 1].max_hi;
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

static int add_fwd_elems(struct elemvecs *vs, const struct fwd *f, uint64_t expiration_ms);
static struct elemvec *vec_for(struct elemvecs *vs, const struct nftobj_setref *set, size_t k);

/*
 * What the kernel's add made for a trigger of rule R from HOST (to PEER)
 * that the engine refused: deleted at the next write. (Only where the
 * engine holds no forwarding for it: otherwise the kernel added nothing.)
 */
static void undo_kernel(struct engine *e, const struct rule *r, int af, const union inaddr *host,
			const union inaddr *peer)
{
	struct fwd f = { .rule = r, .af = af };

	if (!e->kernel_triggers || fwtable_lookup(&e->fwt, r, af, peer))
		return;
	memcpy(&f.host, host, fwd_addr_len(af));
	if (r->peer)
		memcpy(&f.peer, peer, fwd_addr_len(af));
	add_fwd_elems(&e->gone, &f, 0);
}

/*
 * An IPv6 trigger the engine refused (`exclusive`, held by another host):
 * the kernel added nothing if the owner guard was there. But two hosts'
 * first triggers on two CPUs can both pass the guard before either adds
 * to it, and both add a pinhole. The refused host's pinhole (never the
 * guard: that is the holder's) goes at the next write; destroying an
 * element the kernel did not add changes nothing.
 */
static void undo_kernel_pinhole(struct engine *e, const struct rule *r, const union inaddr *host,
				const union inaddr *peer)
{
	struct fwd f = { .rule = r, .af = AF_INET6 };
	struct fwelem out[2];
	struct elemvec *ev;
	size_t n;

	/* port redirections are static IPv4: only a pinhole and its guard here, two at most */
	if (!e->kernel_triggers || r->to_port)
		return;
	memcpy(&f.host, host, 16);
	if (r->peer)
		memcpy(&f.peer, peer, 16);
	n = fwelem_build(&f, 0, out);
	/* the pinhole is the last of a forwarding's IPv6 elements */
	if (n && (ev = vec_for(&e->gone, &out[n - 1].set, 1)))
		ev->v[ev->n++] = out[n - 1].e;
}

/* The first index entry past (proto, port): the candidates are before it. */
static size_t index_end(const struct engine *e, uint8_t proto, uint16_t port)
{
	size_t lo = 0, hi = e->n_index;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct trigger_index *t = &e->index[mid];

		if (t->proto < proto || (t->proto == proto && t->lo <= port))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void engine_untrigger(struct engine *e, const struct nflog_pkt *pkt, const char *indev,
		      const char *outdev)
{
	for (size_t i = index_end(e, pkt->proto, pkt->dport); e->kernel_triggers && i-- > 0;) {
		const struct trigger_index *t = &e->index[i];

		if (t->proto != pkt->proto || t->max_hi < pkt->dport)
			break;
		if (t->hi >= pkt->dport && engine_rule_accepts(e, t->rule, pkt->af, indev, outdev) &&
		    engine_rule_allows(e, t->rule, pkt->af, &pkt->saddr))
			undo_kernel(e, t->rule, pkt->af, &pkt->saddr, &pkt->daddr);
	}
}

/*
 * The kernel expires an element about when the engine does; a refused
 * trigger in that last moment may have found none and added its own. The
 * holder's element is then written again, with the time it has left.
 */
#define EXPIRY_MARGIN_MS 1000

/* INDEV NULL: a replicated trigger, whose interfaces the other router checked */
static int trigger(struct engine *e, const struct nflog_pkt *pkt, const struct hostid *id,
		   const char *indev, const char *outdev, uint64_t now, engine_event_cb cb, void *data)
{
	size_t lo = 0, hi = e->n_index;
	bool disallowed = false;
	int fired = 0;

	e->stats.triggers_seen++;
	/* the first entry past (proto, port); candidates are before it */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct trigger_index *t = &e->index[mid];

		if (t->proto < pkt->proto || (t->proto == pkt->proto && t->lo <= pkt->dport))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;) {
		const struct trigger_index *t = &e->index[i];
		const struct rule *r = t->rule;
		struct engine_event ev = { 0 };
		struct fwd *f;
		int c;

		if (t->proto != pkt->proto || t->max_hi < pkt->dport)
			break;
		if (t->hi < pkt->dport || (indev ? !engine_rule_accepts(e, r, pkt->af, indev, outdev) :
		    !rule_fires(r, pkt->af)))
			continue;
		if (!engine_rule_allows(e, r, pkt->af, &pkt->saddr)) {
			disallowed = true;
			continue;
		}
		c = fwtable_trigger(&e->fwt, r, pkt->af, &pkt->saddr, id, &pkt->daddr, now, &f,
				    &ev.old_host);
		if (c < 0)
			return c;
		if (c == FWD_OPENED || c == FWD_REFRESHED || c == FWD_TAKEN_OVER)
			f->replicated = !indev;
		/* for a replicated trigger this router's kernel added nothing (indev NULL) */
		if (indev && !f && (c == FWD_OVER_HOST_LIMIT || c == FWD_OVER_LIMIT))
			undo_kernel(e, r, pkt->af, &pkt->saddr, &pkt->daddr);
		if (indev && c == FWD_REFUSED && e->kernel_triggers &&
		    f->timer.deadline < now + EXPIRY_MARGIN_MS)
			fwtable_rewrite(&e->fwt, f);
		if (indev && c == FWD_REFUSED && pkt->af == AF_INET6)
			undo_kernel_pinhole(e, r, &pkt->saddr, &pkt->daddr);
		fired++;
		if (e->last_trigger)
			e->last_trigger[t->rule_index] = now;
		ev.change = c;
		ev.fwd = f;
		ev.rule = r;
		ev.af = pkt->af;
		ev.host = pkt->saddr;
		if (id)
			ev.id = *id;
		else
			hostid_addr(pkt->af, &pkt->saddr, &ev.id);
		ev.dst = pkt->daddr;
		if (c == FWD_REFUSED)
			memcpy(&ev.old_host, &f->host, sizeof(f->host));
		if (cb)
			cb(&ev, data);
	}
	if (!fired && disallowed)
		e->stats.triggers_not_allowed++;
	else if (!fired)
		e->stats.triggers_unmatched++;
	return fired;
}

int engine_trigger(struct engine *e, const struct nflog_pkt *pkt, const struct hostid *id,
		   const char *indev, const char *outdev, uint64_t now, engine_event_cb cb, void *data)
{
	return trigger(e, pkt, id, indev, outdev, now, cb, data);
}

int engine_replicated(struct engine *e, const struct nflog_pkt *pkt, const struct hostid *id,
		      uint64_t now, engine_event_cb cb, void *data)
{
	e->stats.triggers_replicated++;
	return trigger(e, pkt, id, NULL, NULL, now, cb, data);
}

size_t engine_n_replicated(const struct engine *e)
{
	struct fwd **all = fwtable_sorted(&e->fwt);
	size_t n = 0;

	for (size_t i = 0; all && all[i]; i++)
		n += all[i]->replicated;
	free(all);
	return n;
}

static int write_vecs(struct nlbatch *b, uint16_t type, struct elemvecs *vs);
static int write_sets(struct engine *e, struct nlbatch *b);

static void fwd_closed(struct engine *e, struct fwd *f,
		       void (*closed)(const struct fwd *f, void *data), void *data)
{
	if (closed)
		closed(f, data);
	/* its elements go at the next write (by set name: the rule may be freed before) */
	add_fwd_elems(&e->gone, f, 0);
	fwtable_remove(&e->fwt, f);
}

size_t engine_close(struct engine *e, const char *rule, int af, const union inaddr *addr,
		    void (*closed)(const struct fwd *f, void *data), void *data)
{
	struct fwd **all = fwtable_sorted(&e->fwt);
	size_t n = 0;

	for (size_t i = 0; all && all[i]; i++) {
		struct fwd *f = all[i];

		if (f->rule->is_static || (rule && strcmp(f->rule->name, rule)) ||
		    (af && (f->af != af || memcmp(&f->host, addr, fwd_addr_len(af)))))
			continue;
		fwd_closed(e, f, closed, data);
		n++;
	}
	free(all);
	return n;
}

int engine_adopt(struct engine *e, const char *rule_name, const struct fwelem_decoded *el,
		 const char *udata, uint64_t left_ms, uint64_t now)
{
	const struct rule *r = e->cfg ? config_find_rule(e->cfg, rule_name) : NULL;
	unsigned fam = el->af == AF_INET ? RULE_FAMILY_IPV4 : RULE_FAMILY_IPV6;
	char want[sizeof(((struct nftelem *)0)->udata)];
	struct fwd *f;

	if (!r || r->is_static || r->to_port || !rule_enabled(r) || !(r->family & fam) ||
	    r->peer != el->has_peer)
		return 0;
	/* an `allow` changed since: the host may no longer trigger this rule */
	if (!engine_rule_allows(e, r, el->af, &el->host))
		return 0;
	/* the kernel's own adds carry no userdata: the rule's sets say whose they are */
	fwelem_udata(r, want, sizeof(want));
	if (udata && strcmp(udata, want))
		return 0;
	if (left_ms > (uint64_t)r->timeout_s * 1000)
		left_ms = (uint64_t)r->timeout_s * 1000;
	f = fwtable_lookup(&e->fwt, r, el->af, &el->peer);
	if (f)
		return 1;	/* known already */
	/* pending like any new entry; engine_write_all rewrites it with the time left */
	if (fwtable_insert(&e->fwt, r, el->af, &el->host, &el->peer, now, now + left_ms, &f) < 0)
		return -ENOMEM;
	return 1;
}

struct named {
	const char *name;
	size_t index;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/*
 * When each rule of the new configuration last fired, carried over by name
 * from the old one (sorted, so a reload of many rules stays cheap).
 */
static uint64_t *carry_last_trigger(const struct engine *e, const struct config *cfg)
{
	uint64_t *v = calloc(cfg->n_rules + 1, sizeof(*v));
	size_t n_old = e->cfg && e->last_trigger ? e->cfg->n_rules : 0;
	struct named *old = n_old ? malloc(n_old * sizeof(*old)) : NULL;

	if (!v || !old) {
		free(old);
		return v;
	}
	for (size_t i = 0; i < n_old; i++)
		old[i] = (struct named){ e->cfg->rules[i]->name, i };
	qsort(old, n_old, sizeof(*old), cmp_named);
	for (size_t i = 0; i < cfg->n_rules; i++) {
		struct named key = { cfg->rules[i]->name, 0 };
		const struct named *q = bsearch(&key, old, n_old, sizeof(*old), cmp_named);

		if (q)
			v[i] = e->last_trigger[q->index];
	}
	free(old);
	return v;
}

uint64_t engine_last_trigger(const struct engine *e, const struct rule *r)
{
	for (size_t i = 0; e->cfg && e->last_trigger && i < e->cfg->n_rules; i++)
		if (e->cfg->rules[i] == r)
			return e->last_trigger[i];
	return 0;
}

int engine_set_config(struct engine *e, struct config *cfg, uint64_t now,
		      void (*closed)(const struct fwd *f, void *data), void *data)
{
	struct fwd **all = fwtable_sorted(&e->fwt);
	struct config *old = e->cfg;
	struct trigger_index *index;
	struct named *byname;
	uint64_t *last;
	size_t n_index;

	/* everything that can fail first: then nothing may point at the old rules */
	if (!all || build_index(cfg, &index, &n_index) < 0) {
		free(all);
		return -ENOMEM;
	}
	last = carry_last_trigger(e, cfg);
	/* (without it, forwardings look their rule up one by one) */
	byname = malloc((cfg->n_rules + 1) * sizeof(*byname));
	free(e->last_trigger);
	e->last_trigger = last;
	e->cfg = cfg;
	e->fwt.max_per_host = cfg->max_per_host;
	e->fwt.max_forwardings = cfg->max_forwardings;
	/* ten thousand forwardings each looking for their rule among a thousand: by name, sorted */
	for (size_t i = 0; byname && i < cfg->n_rules; i++)
		byname[i] = (struct named){ cfg->rules[i]->name, i };
	if (byname)
		qsort(byname, cfg->n_rules, sizeof(*byname), cmp_named);
	for (size_t i = 0; all && all[i]; i++) {
		struct fwd *f = all[i];
		struct named key = { f->rule->name, 0 }, *q;
		struct rule *nr;

		if (byname) {
			q = bsearch(&key, byname, cfg->n_rules, sizeof(*byname), cmp_named);
			nr = q ? cfg->rules[q->index] : NULL;
		} else {
			nr = config_find_rule(cfg, f->rule->name);
		}

		/* a host an `allow` now leaves out loses what it holds */
		if (!nr || !rule_same_forwards(f->rule, nr) || !rule_enabled(nr) ||
		    (!nr->is_static && !engine_rule_allows(e, nr, f->af, &f->host))) {
			fwd_closed(e, f, closed, data);
			continue;
		}
		f->rule = nr;
		if (!nr->is_static && f->timer.deadline > now + (uint64_t)nr->timeout_s * 1000) {
			heap_update(&e->fwt.heap, &f->timer, now + (uint64_t)nr->timeout_s * 1000);
			fwtable_touch(&e->fwt, f);
		}
	}
	free(byname);
	free(all);
	for (size_t i = 0; i < cfg->n_rules; i++) {
		struct rule *r = cfg->rules[i];
		struct fwd *f;

		if (r->is_static && rule_enabled(r) && !fwtable_lookup(&e->fwt, r, r->to_af, NULL))
			fwtable_insert(&e->fwt, r, r->to_af, &r->to, NULL, now, FWD_FOREVER, &f);
	}
	/* a rule's own max-per-host may have come or gone: its forwardings change pools */
	fwtable_recount(&e->fwt);
	e->sets_dirty = true;
	e->layout_stale = true;
	free(e->index);
	e->index = index;
	e->n_index = n_index;
	config_free(old);
	return 0;
}

/* ---- writing to the kernel ------------------------------------------------ */

/* The vector of set SET in VS (made if new), with room for K more elements. */
static struct elemvec *vec_for(struct elemvecs *vs, const struct nftobj_setref *set, size_t k)
{
	struct elemvec *ev = NULL;

	for (size_t i = 0; i < vs->n && !ev; i++)
		if (!strcmp(vs->v[i].set.name, set->name))
			ev = &vs->v[i];
	if (!ev) {
		struct elemvec *v = realloc(vs->v, (vs->n + 1) * sizeof(*v));

		if (!v)
			return NULL;
		vs->v = v;
		ev = memset(&v[vs->n++], 0, sizeof(*ev));
		ev->set = *set;
	}
	if (ev->n + k > ev->cap) {
		size_t cap = ev->cap ? ev->cap : 8;
		struct nftelem *p;

		while (cap < ev->n + k)
			cap *= 2;
		p = realloc(ev->v, cap * sizeof(*p));
		if (!p)
			return NULL;
		ev->v = p;
		ev->cap = cap;
	}
	return ev;
}

/* Append F's elements to the vectors of their sets. */
static int add_fwd_elems(struct elemvecs *vs, const struct fwd *f, uint64_t expiration_ms)
{
	struct fwelem stack[4], *out = stack;
	size_t n, max = FWELEM_MAX(f->rule);
	int r = 0;

	if (max > ARRAY_SIZE(stack) && !(out = malloc(max * sizeof(*out))))
		return -ENOMEM;
	n = fwelem_build(f, expiration_ms, out);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct elemvec *ev = vec_for(vs, &out[i].set, 1);

		if (ev)
			ev->v[ev->n++] = out[i].e;
		else
			r = -ENOMEM;
	}
	if (out != stack)
		free(out);
	return r;
}

static int write_vecs(struct nlbatch *b, uint16_t type, struct elemvecs *vs)
{
	int r = 0;

	for (size_t i = 0; i < vs->n && r == 0; i++)
		if (vs->v[i].n)
			r = nftelem_write(b, type, &vs->v[i].set, vs->v[i].v, vs->v[i].n);
	return r;
}

/* Delete the elements of VS, each whether or not the kernel still has it. */
static int remove_vecs(const struct engine *e, struct nlbatch *b, struct elemvecs *vs)
{
	int r = 0;

	for (size_t i = 0; i < vs->n && r == 0; i++)
		r = nftelem_remove(b, kcaps_has(&e->caps, KCAP_DESTROY), &vs->v[i].set, vs->v[i].v,
				   vs->v[i].n);
	return r;
}

static void clear_vecs(struct elemvecs *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		vs->v[i].n = 0;
}

static void free_vecs(struct elemvecs *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		free(vs->v[i].v);
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

static void params(const struct engine *e, uint16_t group, struct nftobj_params *ret);

/* The kernel's table from the layout written last to that of the configuration now. */
static int write_layout(struct engine *e, struct nlbatch *b, bool create)
{
	struct nftlayout next;
	struct nftobj_params p;
	int r;

	params(e, 0, &p);
	r = e->cfg ? nftlayout_build(e->cfg, &p, &next) : 0;
	if (r < 0 || !e->cfg)
		return r;
	r = nftlayout_write(b, &p, e->cfg, create ? NULL : &e->layout, &next);
	nftlayout_free(&e->layout);
	e->layout = next;
	e->layout_stale = false;
	/* the rules' own sets were made anew or changed: fill them */
	e->sets_dirty = true;
	return r;
}

int engine_write_pending(struct engine *e, struct nlbatch *b, uint64_t now,
			 void (*assigned)(const struct fwd *f, const union inaddr *old, void *data),
			 void *data)
{
	struct elemvecs *destroy = &e->scratch[0], *add = &e->scratch[1];
	struct fwd *f = fwtable_take_pending(&e->fwt), *next;
	size_t before = b->n_ops;
	int r = remove_vecs(e, b, &e->gone);

	clear_vecs(&e->gone);
	clear_vecs(destroy);
	clear_vecs(add);
	/* after the deletes, which may be of sets a reload deletes */
	if (r == 0 && e->layout_stale)
		r = write_layout(e, b, false);
	if (r == 0 && e->sets_dirty) {
		e->sets_dirty = false;
		r = write_sets(e, b);
	}

	for (; f; f = next) {
		next = f->pnext;
		/*
		 * A refresh too: before Linux 6.12 an add of an element that is
		 * there leaves its timeout as it was (and no probe can tell that
		 * without committing), so the element goes and comes back.
		 */
		if (r == 0 && (f->pending == FWD_PENDING_REWRITE || f->pending == FWD_PENDING_REFRESH))
			r = add_fwd_elems(destroy, f, 0);
		if (r == 0 && f->pending == FWD_PENDING_ASSIGN) {
			struct fwd old = *f;

			if (assigned)
				assigned(f, f->has_old ? &f->old_host : NULL, data);
			/*
			 * What the kernel holds is the old host's: its data (IPv4), and
			 * keys that carry the host (IPv6 pinholes). The new host's keys
			 * may be there too (the kernel's own add).
			 */
			if (f->has_old) {
				memcpy(&old.host, &f->old_host, sizeof(old.host));
				r = add_fwd_elems(destroy, &old, 0);
			}
			if (r == 0 && (!f->has_old || f->af == AF_INET6))
				r = add_fwd_elems(destroy, f, 0);
		}
		if (r == 0)
			/* a deadline already past (expiry not yet run) must not read as "no expiration" */
			r = add_fwd_elems(add, f, f->rule->is_static ? 0 :
					  f->timer.deadline > now ? f->timer.deadline - now : 1);
		f->pending = FWD_PENDING_NONE;
		f->has_old = false;
		f->pnext = NULL;
	}
	if (r == 0)
		r = remove_vecs(e, b, destroy);
	if (r == 0)
		r = write_vecs(b, NFT_MSG_NEWSETELEM, add);
	/* kept for the next turn, unless a reload or a burst made them big */
	for (int i = 0; i < 2; i++)
		for (size_t k = 0; k < e->scratch[i].n; k++)
			if (e->scratch[i].v[k].cap > 1024) {
				free_vecs(&e->scratch[i]);
				break;
			}
	return r < 0 ? r : (int)(b->n_ops - before);
}

/* Set S flushed, then filled with the interfaces L names */
static int write_ifnames(struct nlbatch *b, const struct nftobj_setref *s, const struct iflist *l)
{
	struct nftelem *el = NULL;
	size_t n_el = 0;
	int r = nftelem_flush(b, s);

	if (r == 0)
		r = nftelem_ifnames(l, &el, &n_el);
	if (r == 0 && n_el)
		r = nftelem_write(b, NFT_MSG_NEWSETELEM, s, el, n_el);
	free(el);
	return r;
}

/* ... with the prefixes of family AF in L */
static int write_prefixes(struct nlbatch *b, const struct nftobj_setref *s, const struct prefixlist *l,
			  int af)
{
	struct nftelem *el = NULL;
	size_t n_el = 0;
	int r = nftelem_flush(b, s);

	if (r == 0)
		r = nftelem_prefixes(l, af, &el, &n_el);
	if (r == 0 && n_el)
		r = nftelem_write(b, NFT_MSG_NEWSETELEM, s, el, n_el);
	free(el);
	return r;
}

/*
 * The rules' own sets of KIND (the kernel's checks of a trigger): WAN
 * interfaces, LAN ones, allowed sources. (Only with a layout that is the
 * configuration's: its rule indexes are then good.)
 */
static int write_rule_sets(struct engine *e, struct nlbatch *b, bool wan)
{
	int r = 0;

	for (size_t i = 0; e->cfg && !e->layout_stale && i < e->layout.n_sets && r == 0; i++) {
		const struct nftlayout_set *ls = &e->layout.sets[i];
		const struct rule *q = e->cfg->rules[ls->rule];
		struct nftobj_setref s;

		nftobj_setref_rule(ls->kind, q->name, &s);
		if (ls->kind == NFTOBJ_RS_WAN && wan)
			r = write_ifnames(b, &s, engine_rule_wan(e, q));
		else if (ls->kind == NFTOBJ_RS_LAN && !wan)
			r = write_ifnames(b, &s, &q->lan);
		else if ((ls->kind == NFTOBJ_RS_ALLOW4 || ls->kind == NFTOBJ_RS_ALLOW6) && !wan)
			r = write_prefixes(b, &s, &q->allow, ls->kind == NFTOBJ_RS_ALLOW4 ? AF_INET : AF_INET6);
	}
	return r;
}

int engine_write_wan(struct engine *e, struct nlbatch *b)
{
	struct iflist wan = { 0 };
	struct nftobj_setref s;
	int r = engine_all_wan(e, &wan);

	nftobj_setref(NFTOBJ_WANIF, &s);
	if (r == 0)
		r = write_ifnames(b, &s, &wan);
	iflist_clear(&wan);
	return r < 0 ? r : write_rule_sets(e, b, true);
}

/* The global lists the kernel's checks use: `lan`, `allow` */
static int write_lists(struct engine *e, struct nlbatch *b)
{
	static const struct prefixlist none;
	static const struct iflist no_ifs;
	struct nftobj_setref s;
	int r;

	nftobj_setref(NFTOBJ_LANIF, &s);
	r = write_ifnames(b, &s, e->cfg && e->cfg->has_lan ? &e->cfg->lan : &no_ifs);
	for (int af = 0; af < 2 && r == 0; af++) {
		nftobj_setref(af ? NFTOBJ_ALLOW6 : NFTOBJ_ALLOW4, &s);
		r = write_prefixes(b, &s, e->cfg && e->cfg->has_allow ? &e->cfg->allow : &none,
				   af ? AF_INET6 : AF_INET);
	}
	return r < 0 ? r : write_rule_sets(e, b, false);
}

/*
 * pinhole-guard's ports: the forwards of every rule that may open IPv6
 * pinholes (disabled or not); nothing when the guard is off.
 */
static int write_guard(struct engine *e, struct nlbatch *b)
{
	struct portrange *ports = NULL;
	struct nftelem *el = NULL;
	size_t n = 0, n_el = 0;
	int r = nftelem_flush_set(b, NFTOBJ_GUARD6);

	for (size_t i = 0; r == 0 && e->cfg && e->cfg->pinhole_guard && i < e->cfg->n_rules; i++) {
		const struct rule *q = e->cfg->rules[i];
		struct portrange *p;

		if (q->is_static ? q->to_af != AF_INET6 : !(q->family & RULE_FAMILY_IPV6))
			continue;
		p = realloc(ports, (n + q->n_forwards + 1) * sizeof(*p));
		if (!p) {
			r = -ENOMEM;
			break;
		}
		ports = p;
		memcpy(ports + n, q->forwards, q->n_forwards * sizeof(*p));
		n += q->n_forwards;
	}
	if (r == 0 && n)
		r = nftelem_portranges(ports, n, &el, &n_el);
	if (r == 0 && n_el)
		r = nftelem_write_set(b, NFT_MSG_NEWSETELEM, NFTOBJ_GUARD6, el, n_el);
	free(el);
	free(ports);
	return r;
}

/* The trigger ports, the interface and source lists and the guarded ports, rewritten whole (all small). */
static int write_sets(struct engine *e, struct nlbatch *b)
{
	struct portrange *trig = NULL;
	struct nftelem *el = NULL;
	size_t n_trig = 0, n_el = 0;
	int r = nftelem_flush_set(b, NFTOBJ_TRIGGERS);

	if (r == 0)
		r = engine_write_wan(e, b);
	if (r == 0)
		r = write_lists(e, b);
	for (size_t i = 0; r == 0 && e->cfg && i < e->cfg->n_rules; i++) {
		const struct rule *q = e->cfg->rules[i];
		struct portrange *p = realloc(trig, (n_trig + q->n_triggers + 1) * sizeof(*p));

		if (!p) {
			r = -ENOMEM;
			break;
		}
		trig = p;
		/* a disabled rule's triggers never reach the daemon */
		if (q->n_triggers && rule_enabled(q)) {
			memcpy(trig + n_trig, q->triggers, q->n_triggers * sizeof(*p));
			n_trig += q->n_triggers;
		}
	}
	if (r == 0)
		r = nftelem_portranges(trig, n_trig, &el, &n_el);
	if (r == 0 && n_el)
		r = nftelem_write_set(b, NFT_MSG_NEWSETELEM, NFTOBJ_TRIGGERS, el, n_el);
	free(el);
	free(trig);
	if (r == 0)
		r = write_guard(e, b);
	return r;
}

size_t engine_expire(struct engine *e, uint64_t now,
		     void (*expired)(const struct fwd *f, void *data), void *data)
{
	struct fwd *f;
	size_t n = 0;

	while ((f = fwtable_pop_expired(&e->fwt, now))) {
		if (expired)
			expired(f, data);
		free(f);
		n++;
	}
	return n;
}

/* The sets whose elements are forwardings: the rules' own ones, and redir4 (static port redirections). */
static bool fwd_set(enum nftobj_rset kind)
{
	return kind == NFTOBJ_RS_ACT4 || kind == NFTOBJ_RS_ACT4P || kind == NFTOBJ_RS_OWN6 ||
	       kind == NFTOBJ_RS_PIN6 || kind == NFTOBJ_RS_OWN6P || kind == NFTOBJ_RS_PIN6P;
}

int engine_write_all(struct engine *e, struct nlbatch *b, uint64_t now)
{
	struct elemvecs *add = &e->scratch[1];
	struct fwd **all, *f;
	int r = 0;

	/* anything already due is gone from the kernel too */
	engine_expire(e, now, NULL, NULL);
	fwtable_take_pending(&e->fwt);
	clear_vecs(&e->gone);
	clear_vecs(add);
	if (e->layout_stale)
		r = write_layout(e, b, false);
	for (size_t i = 0; i < e->layout.n_sets && r == 0; i++)
		if (fwd_set(e->layout.sets[i].kind)) {
			struct nftobj_setref s;

			nftobj_setref_rule(e->layout.sets[i].kind, e->cfg->rules[e->layout.sets[i].rule]->name, &s);
			r = nftelem_flush(b, &s);
		}
	for (int s = 0; s < NFTOBJ__SETS && r == 0; s++)
		if (s == NFTOBJ_REDIR4 || s == NFTOBJ_LEARN4 || s == NFTOBJ_LEARN6)
			r = nftelem_flush_set(b, s);
	if (r < 0)
		return r;
	e->sets_dirty = false;
	r = write_sets(e, b);
	all = fwtable_sorted(&e->fwt);
	if (!all && r == 0)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && all[i]; i++) {
		f = all[i];
		f->pending = FWD_PENDING_NONE;
		f->has_old = false;
		r = add_fwd_elems(add, f, f->rule->is_static ? 0 : f->timer.deadline - now);
	}
	if (r == 0)
		r = write_vecs(b, NFT_MSG_NEWSETELEM, add);
	/* every forwarding at once is not what the next turns need room for */
	free_vecs(add);
	free(all);
	return r;
}

static void params(const struct engine *e, uint16_t group, struct nftobj_params *ret)
{
	*ret = (struct nftobj_params){
		.fwd_set_size = engine_fwd_set_size(e),
		.kernel_triggers = e->kernel_triggers,
		.rpf_kernel = kcaps_rpf_in_kernel(&e->caps),
		.nflog_group = group,
		.mark = e->cfg ? e->cfg->pinhole_mark : CONFIG_MARK_DEFAULT,
		.mark_mask = e->cfg ? e->cfg->pinhole_mask : CONFIG_MARK_DEFAULT,
		.learn = e->cfg ? e->cfg->learn : true,
		.learn_group = e->learn_group,
	};
	memcpy(ret->counters, e->counters, sizeof(ret->counters));
}

int engine_write_table(struct engine *e, struct nlbatch *b, uint16_t group, uint32_t flags,
		       bool exists, uint64_t now)
{
	struct nftobj_params p;
	int r = 0;

	params(e, group, &p);
	/* the table left behind goes, in the same transaction as the new one comes */
	if (kcaps_has(&e->caps, KCAP_DESTROY))
		r = nftobj_table(b, NFTOBJ_MSG_DESTROYTABLE, 0);
	else if (exists)
		r = nftobj_table(b, NFT_MSG_DELTABLE, 0);
	if (r == 0)
		r = nftobj_table(b, NFT_MSG_NEWTABLE, flags);
	if (r == 0)
		r = nftskel_build(b, &p);
	if (r == 0)
		r = write_layout(e, b, true);
	return r < 0 ? r : engine_write_all(e, b, now);
}

int engine_dry_run(struct config *cfg, uint16_t group, uint16_t learn_group, bool kernel_path,
		   struct dynbuf *out)
{
	struct engine e;
	int r;

	engine_init(&e);
	e.learn_group = learn_group;
	e.kernel_triggers = kernel_path;
	r = engine_set_config(&e, cfg, 0, NULL, NULL);
	if (r < 0)
		config_free(cfg);
	else
		r = engine_ruleset_text(&e, group, 0, out);
	engine_fini(&e);
	return r;
}

int engine_ruleset_text(struct engine *e, uint16_t group, uint64_t now, struct dynbuf *out)
{
	struct nftobj_params p;
	struct nlbatch b;
	int r;

	params(e, group, &p);
	nlbatch_init(&b, 0);
	nlbatch_reset(&b);
	r = engine_write_table(e, &b, group, 0, true, now);
	if (r == 0)
		r = nfttext_table(&p, e->cfg, &e->layout, &b, out);
	nlbatch_free(&b);
	return r;
}
