/*
 * The engine's state: the running configuration, what it says of
 * interfaces and sources, and the forwardings it keeps across a reload,
 * a close or a restart. (A trigger's decision is trigger.c's; writing the
 * state into the kernel is tablewrite.c's.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "rules/prefix.h"

void engine_init(struct engine *e)
{
	memset(e, 0, sizeof(*e));
	fwtable_init(&e->fwt);
	kcaps_all(&e->caps);
}

void engine_fini(struct engine *e)
{
	elemvec_free(&e->gone);
	elemvec_free(&e->scratch[0]);
	elemvec_free(&e->scratch[1]);
	nftlayout_free(&e->layout);
	trigindex_free(&e->index);
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

void engine_set_caps(struct engine *e, const struct kcaps *caps)
{
	e->caps = *caps;
}

void engine_lose_cap(struct engine *e, enum kcap c)
{
	e->caps.has[c] = false;
	e->layout_stale = true;
}

void engine_set_kernel_path(struct engine *e, bool on)
{
	e->kernel_triggers = on;
}

void engine_set_learn_group(struct engine *e, uint16_t group)
{
	e->learn_group = group;
}

void engine_set_counters(struct engine *e, const struct nftobj_ctr ctr[NFTOBJ__COUNTERS])
{
	memcpy(e->counters, ctr, sizeof(e->counters));
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

size_t engine_n_replicated(const struct engine *e)
{
	struct fwd **all = fwtable_sorted(&e->fwt);
	size_t n = 0;

	for (size_t i = 0; all && all[i]; i++)
		n += all[i]->replicated;
	free(all);
	return n;
}

static void fwd_closed(struct engine *e, struct fwd *f,
		       void (*closed)(const struct fwd *f, void *data), void *data)
{
	if (closed)
		closed(f, data);
	/* its elements go at the next write (by set name: the rule may be freed before) */
	elemvec_add_fwd(&e->gone, f, 0);
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
	/* pending like any new entry; tablewrite_all rewrites it with the time left */
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
	struct trigindex index;
	struct named *byname;
	uint64_t *last;

	/* everything that can fail first: then nothing may point at the old rules */
	if (!all || trigindex_build(cfg, &index) < 0) {
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
	trigindex_free(&e->index);
	e->index = index;
	config_free(old);
	return 0;
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

