/*
 * Writing the engine's state into the kernel; see tablewrite.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "nft/nftskel.h"
#include "nft/nfttext.h"
#include "tablewrite.h"

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

int tablewrite_wan(struct engine *e, struct nlbatch *b)
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
		r = tablewrite_wan(e, b);
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

int tablewrite_pending(struct engine *e, struct nlbatch *b, uint64_t now,
		       void (*assigned)(const struct fwd *f, const union inaddr *old, void *data),
		       void *data)
{
	struct elemvecs *destroy = &e->scratch[0], *add = &e->scratch[1];
	struct fwd *f = fwtable_take_pending(&e->fwt), *next;
	size_t before = b->n_ops;
	int r = elemvec_remove(b, kcaps_has(&e->caps, KCAP_DESTROY), &e->gone);

	elemvec_clear(&e->gone);
	elemvec_clear(destroy);
	elemvec_clear(add);
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
			r = elemvec_add_fwd(destroy, f, 0);
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
				r = elemvec_add_fwd(destroy, &old, 0);
			}
			if (r == 0 && (!f->has_old || f->af == AF_INET6))
				r = elemvec_add_fwd(destroy, f, 0);
		}
		if (r == 0)
			/* a deadline already past (expiry not yet run) must not read as "no expiration" */
			r = elemvec_add_fwd(add, f, f->rule->is_static ? 0 :
					    f->timer.deadline > now ? f->timer.deadline - now : 1);
		f->pending = FWD_PENDING_NONE;
		f->has_old = false;
		f->pnext = NULL;
	}
	if (r == 0)
		r = elemvec_remove(b, kcaps_has(&e->caps, KCAP_DESTROY), destroy);
	if (r == 0)
		r = elemvec_write(b, NFT_MSG_NEWSETELEM, add);
	/* kept for the next turn, unless a reload or a burst made them big */
	for (int i = 0; i < 2; i++)
		for (size_t k = 0; k < e->scratch[i].n; k++)
			if (e->scratch[i].v[k].cap > 1024) {
				elemvec_free(&e->scratch[i]);
				break;
			}
	return r < 0 ? r : (int)(b->n_ops - before);
}

/* The sets whose elements are forwardings: the rules' own ones, and redir4 (static port redirections). */
static bool fwd_set(enum nftobj_rset kind)
{
	return kind == NFTOBJ_RS_ACT4 || kind == NFTOBJ_RS_ACT4P || kind == NFTOBJ_RS_OWN6 ||
	       kind == NFTOBJ_RS_PIN6 || kind == NFTOBJ_RS_OWN6P || kind == NFTOBJ_RS_PIN6P;
}

int tablewrite_all(struct engine *e, struct nlbatch *b, uint64_t now)
{
	struct elemvecs *add = &e->scratch[1];
	struct fwd **all, *f;
	int r = 0;

	/* anything already due is gone from the kernel too */
	engine_expire(e, now, NULL, NULL);
	fwtable_take_pending(&e->fwt);
	elemvec_clear(&e->gone);
	elemvec_clear(add);
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
		r = elemvec_add_fwd(add, f, f->rule->is_static ? 0 : f->timer.deadline - now);
	}
	if (r == 0)
		r = elemvec_write(b, NFT_MSG_NEWSETELEM, add);
	/* every forwarding at once is not what the next turns need room for */
	elemvec_free(add);
	free(all);
	return r;
}

int tablewrite_table(struct engine *e, struct nlbatch *b, uint16_t group, uint32_t flags,
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
	return r < 0 ? r : tablewrite_all(e, b, now);
}

int tablewrite_dry_run(struct config *cfg, uint16_t group, uint16_t learn_group, bool kernel_path,
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
		r = tablewrite_text(&e, group, 0, out);
	engine_fini(&e);
	return r;
}

int tablewrite_text(struct engine *e, uint16_t group, uint64_t now, struct dynbuf *out)
{
	struct nftobj_params p;
	struct nlbatch b;
	int r;

	params(e, group, &p);
	nlbatch_init(&b, 0);
	nlbatch_reset(&b);
	r = tablewrite_table(e, &b, group, 0, true, now);
	if (r == 0)
		r = nfttext_table(&p, e->cfg, &e->layout, &b, out);
	nlbatch_free(&b);
	return r;
}
