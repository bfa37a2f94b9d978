/*
 * What a configuration adds to the skeleton; see nftlayout.h. Built from
 * the configuration alone, it keeps names and digests, never pointers
 * into it, so that the table a daemon runs can be told apart from the
 * next one after a reload, and the change written as the difference.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "nftdefs.h"
#include "nftelem.h"
#include "nftlayout.h"
#include "rules/config.h"
#include "base/segment.h"
#include "base/util.h"

static void named_elems_msg(struct nlbatch *b, uint16_t type, struct nftnl_set *s, const char *name)
{
	struct nlmsghdr *nlh = nftobj_begin_msg(b, type);
	char what[80];

	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		snprintf(what, sizeof(what), "%s %s", type == NFT_MSG_NEWSETELEM ? "add to" : "delete from",
			 name);
		nlbatch_commit(b, nlh, what);
	}
}

/* A rule's family for forwards: static rules forward to their one address. */
static bool rule_v4(const struct rule *r)
{
	if (r->to_port)
		return false;	/* port redirections go through @redir4 */
	return r->is_static ? r->to_af == AF_INET : (r->family & RULE_FAMILY_IPV4);
}

static bool rule_v6(const struct rule *r)
{
	if (r->to_port)
		return false;
	return r->is_static ? r->to_af == AF_INET6 : (r->family & RULE_FAMILY_IPV6);
}

/* The kernel's add is only for rules that trigger. */
static bool rule_kernel(const struct rule *r)
{
	return !r->is_static && !r->to_port && rule_enabled(r) && r->n_triggers;
}

static int layout_add_set(struct nftlayout *l, enum nftobj_rset kind, const struct rule *r,
			  size_t index, uint32_t size)
{
	struct nftlayout_set *v = realloc(l->sets, (l->n_sets + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->sets = v;
	v = &l->sets[l->n_sets++];
	memset(v, 0, sizeof(*v));
	nftobj_rset_name(v->name, kind, r->name);
	v->kind = kind;
	v->size = size;
	v->rule = index;
	return 0;
}

static int layout_sets(const struct config *cfg, const struct nftobj_params *p, bool wan_sets,
		       struct nftlayout *l)
{
	int ret = 0;

	for (size_t i = 0; i < cfg->n_rules && ret == 0; i++) {
		const struct rule *r = cfg->rules[i];
		uint32_t size = r->peer ? p->fwd_set_size : NFTOBJ_ONE_SET_SIZE;

		if (rule_v4(r))
			ret = layout_add_set(l, r->peer ? NFTOBJ_RS_ACT4P : NFTOBJ_RS_ACT4, r, i, size);
		if (ret == 0 && rule_v6(r) && !r->is_static)
			ret = layout_add_set(l, r->peer ? NFTOBJ_RS_OWN6P : NFTOBJ_RS_OWN6, r, i, size);
		if (ret == 0 && rule_v6(r))
			ret = layout_add_set(l, r->peer ? NFTOBJ_RS_PIN6P : NFTOBJ_RS_PIN6, r, i, size);
		if (r->is_static || r->to_port)
			continue;
		if (ret == 0 && wan_sets)
			ret = layout_add_set(l, NFTOBJ_RS_WAN, r, i, 0);
		if (ret == 0 && r->has_lan)
			ret = layout_add_set(l, NFTOBJ_RS_LAN, r, i, 0);
		if (ret == 0 && r->has_allow && (r->family & RULE_FAMILY_IPV4))
			ret = layout_add_set(l, NFTOBJ_RS_ALLOW4, r, i, 0);
		if (ret == 0 && r->has_allow && (r->family & RULE_FAMILY_IPV6))
			ret = layout_add_set(l, NFTOBJ_RS_ALLOW6, r, i, 0);
	}
	return ret;
}

/* FNV-1a, 64 bits: a chain's text changes, its digest does */
static uint64_t digest(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}


/* The segment chains of kind K: forwards (D4, P6) or triggers (T4, T6) of the rules that have them. */
static int layout_chains(const struct config *cfg, const struct nftobj_params *p, bool wan_sets,
			 enum nftchain_kind k, struct nftlayout *l)
{
	bool trig = k == NFTCHAIN_T4 || k == NFTCHAIN_T6, v6 = k == NFTCHAIN_P6 || k == NFTCHAIN_T6;
	struct segment_input *in = NULL;
	struct dynbuf text = { 0 };
	struct nftchain *v;
	struct segment *seg = NULL;
	size_t n = 0, n_seg = 0;
	int ret = 0;

	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct rule *r = cfg->rules[i];
		const struct portrange *pr = trig ? r->triggers : r->forwards;
		size_t np = trig ? r->n_triggers : r->n_forwards;
		struct segment_input *w;

		if (!(v6 ? rule_v6(r) : rule_v4(r)) || (trig && !rule_kernel(r)))
			continue;
		if (!(w = realloc(in, (n + np + 1) * sizeof(*w)))) {
			free(in);
			return -ENOMEM;
		}
		in = w;
		for (size_t k2 = 0; k2 < np; k2++)
			in[n++] = (struct segment_input){ pr[k2].proto, pr[k2].lo, pr[k2].hi, i };
	}
	ret = segment_build(in, n, &seg, &n_seg);
	if (ret == 0 && n_seg) {
		if ((v = realloc(l->chains, (l->n_chains + n_seg) * sizeof(*v))))
			l->chains = v;
		else
			ret = -ENOMEM;
	}
	for (size_t i = 0; i < n_seg && ret == 0; i++) {
		struct nftchain *c = &l->chains[l->n_chains++];

		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s_%s_%u", nftchain_prefix(k), proto_name(seg[i].proto),
			 seg[i].lo);
		c->kind = k;
		c->proto = seg[i].proto;
		c->lo = seg[i].lo;
		c->hi = seg[i].hi;
		c->rules = calloc(seg[i].n_owners, sizeof(*c->rules));
		if (!c->rules) {
			ret = -ENOMEM;
			break;
		}
		for (size_t o = 0; o < seg[i].n_owners; o++)
			c->rules[c->n_rules++] = seg[i].owners[o];
		text.len = 0;
		ret = nftchain_rules_text(p, cfg, c, wan_sets, &text);
		c->digest = digest(text.data, text.len);
	}
	dynbuf_free(&text);
	segment_free(seg, n_seg);
	free(in);
	return ret;
}

int nftlayout_build(const struct config *cfg, const struct nftobj_params *p, struct nftlayout *ret)
{
	bool wan_sets = nftchain_any_rule_wan(cfg);
	int r;

	memset(ret, 0, sizeof(*ret));
	r = layout_sets(cfg, p, wan_sets, ret);
	for (int k = 0; k < NFTCHAIN__KINDS && r == 0; k++)
		if (p->kernel_triggers || (k != NFTCHAIN_T4 && k != NFTCHAIN_T6))
			r = layout_chains(cfg, p, wan_sets, k, ret);
	if (r < 0)
		nftlayout_free(ret);
	return r;
}

void nftlayout_free(struct nftlayout *l)
{
	for (size_t i = 0; i < l->n_chains; i++) {
		free(l->chains[i].rules);
	}
	free(l->chains);
	free(l->sets);
	memset(l, 0, sizeof(*l));
}

/*
 * A layout's chains and sets by name (the name comes first in both), so
 * that a reload of a thousand rules compares in n log n, not n squared.
 */
struct byname {
	const void **v;
	size_t n;
};

static int cmp_byname(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int byname_index(struct byname *ix, const void *base, size_t n, size_t size)
{
	ix->n = n;
	ix->v = malloc((n ? n : 1) * sizeof(*ix->v));
	if (!ix->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ix->v[i] = (const char *)base + i * size;
	qsort(ix->v, n, sizeof(*ix->v), cmp_byname);
	return 0;
}

static const void *byname_find(const struct byname *ix, const char *name)
{
	const void *const *p = ix->v ? bsearch(&name, ix->v, ix->n, sizeof(*ix->v), cmp_byname) : NULL;

	return p ? *p : NULL;
}

/* Indexes of OLD's and NEW's chains and sets (those of OLD empty when it is NULL). */
struct layout_index {
	struct byname old_chains, new_chains, old_sets, new_sets;
};

static void layout_index_free(struct layout_index *x)
{
	free(x->old_chains.v);
	free(x->new_chains.v);
	free(x->old_sets.v);
	free(x->new_sets.v);
}

static int layout_index(struct layout_index *x, const struct nftlayout *old,
			const struct nftlayout *new)
{
	static const struct nftlayout none;
	int r;

	memset(x, 0, sizeof(*x));
	if (!old)
		old = &none;
	r = byname_index(&x->old_chains, old->chains, old->n_chains, sizeof(*old->chains));
	if (r == 0)
		r = byname_index(&x->new_chains, new->chains, new->n_chains, sizeof(*new->chains));
	if (r == 0)
		r = byname_index(&x->old_sets, old->sets, old->n_sets, sizeof(*old->sets));
	if (r == 0)
		r = byname_index(&x->new_sets, new->sets, new->n_sets, sizeof(*new->sets));
	if (r < 0)
		layout_index_free(x);
	return r;
}

static void named_msg(struct nlbatch *b, uint16_t type, const char *what, const char *name,
		      struct nftnl_set *s, struct nftnl_chain *c, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = nftobj_begin_msg(b, type);
	char buf[96];

	if (nlh) {
		if (s)
			nftnl_set_nlmsg_build_payload(nlh, s);
		else if (c)
			nftnl_chain_nlmsg_build_payload(nlh, c);
		else
			nftnl_rule_nlmsg_build_payload(nlh, r);
		snprintf(buf, sizeof(buf), "%s %s", what, name);
		nlbatch_commit(b, nlh, buf);
	}
}


/* A verdict map's element set for the ranges of kind K (one message per ELEMS_PER_MSG). */
static struct nftnl_set *vmap_set(int k)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s) {
		nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, nftobj_set_name(nftchain_vmap(k)));
	}
	return s;
}

/*
 * The verdict map elements (proto . lo-hi : jump chain) of L's chains that
 * OTHER does not have alike (same name, same range): added (TYPE
 * NEWSETELEM) or deleted. Elements are changed one by one, never flushed:
 * a pipapo set's commit costs in proportion to its size per element, so a
 * reload that rewrote a thousand of them took half a second.
 */
static int write_vmaps(struct nlbatch *b, uint16_t type, const struct nftlayout *l,
		       const struct byname *other)
{
	for (int k = 0; k < NFTCHAIN__KINDS; k++) {
		struct nftnl_set *s = vmap_set(k);
		size_t n = 0;

		if (!s)
			return -ENOMEM;
		for (size_t i = 0; i < l->n_chains; i++) {
			const struct nftchain *c = &l->chains[i], *oc = byname_find(other, c->name);
			struct nftnl_set_elem *el;
			uint8_t key[8] = { 0 }, end[8] = { 0 };

			if (c->kind != (enum nftchain_kind)k || (oc && oc->lo == c->lo && oc->hi == c->hi))
				continue;
			if (!(el = nftnl_set_elem_alloc())) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			nftelem_put_proto_port(key, 0, c->proto, c->lo);
			nftelem_put_proto_port(end, 0, c->proto, c->hi);
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, sizeof(key));
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, end, sizeof(end));
			if (type == NFT_MSG_NEWSETELEM) {
				nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
				nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, c->name);
			}
			nftnl_set_elem_add(s, el);
			if (++n == ELEMS_PER_MSG) {
				named_elems_msg(b, type, s, nftobj_set_name(nftchain_vmap(k)));
				nftnl_set_free(s);
				if (!(s = vmap_set(k)))
					return -ENOMEM;
				n = 0;
			}
		}
		if (n)
			named_elems_msg(b, type, s, nftobj_set_name(nftchain_vmap(k)));
		nftnl_set_free(s);
		if (b->oom)
			return -ENOMEM;
	}
	return 0;
}

int nftlayout_write(struct nlbatch *b, const struct nftobj_params *p, const struct config *cfg,
		    const struct nftlayout *old, const struct nftlayout *new)
{
	bool wan_sets = nftchain_any_rule_wan(cfg);
	struct layout_index x;
	int r = layout_index(&x, old, new);

	if (r < 0)
		return r;
	/* what goes: the maps' jumps first, so that chains lose their last users */
	if (old)
		r = write_vmaps(b, NFT_MSG_DELSETELEM, old, &x.new_chains);
	for (size_t i = 0; old && i < old->n_chains && r == 0; i++) {
		const struct nftchain *c = &old->chains[i], *nc = byname_find(&x.new_chains, c->name);
		struct nftnl_chain *ch;
		struct nftnl_rule *ru;

		if (nc && nc->digest == c->digest)
			continue;
		if (nc) {
			/* the same chain, other rules: flush it */
			if (!(ru = nftnl_rule_alloc())) {
				r = -ENOMEM;
				break;
			}
			nftnl_rule_set_str(ru, NFTNL_RULE_TABLE, NFTOBJ_TABLE);
			nftnl_rule_set_str(ru, NFTNL_RULE_CHAIN, c->name);
			nftnl_rule_set_u32(ru, NFTNL_RULE_FAMILY, NFPROTO_INET);
			named_msg(b, NFT_MSG_DELRULE, "flush chain", c->name, NULL, NULL, ru);
			nftnl_rule_free(ru);
			continue;
		}
		if (!(ch = nftnl_chain_alloc())) {
			r = -ENOMEM;
			break;
		}
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, NFTOBJ_TABLE);
		nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c->name);
		named_msg(b, NFT_MSG_DELCHAIN, "delete chain", c->name, NULL, ch, NULL);
		nftnl_chain_free(ch);
	}
	for (size_t i = 0; old && i < old->n_sets && r == 0; i++) {
		struct nftnl_set *s;

		if (byname_find(&x.new_sets, old->sets[i].name))
			continue;
		if (!(s = nftnl_set_alloc())) {
			r = -ENOMEM;
			break;
		}
		nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, old->sets[i].name);
		named_msg(b, NFT_MSG_DELSET, "delete set", old->sets[i].name, s, NULL, NULL);
		nftnl_set_free(s);
	}
	/* what comes: sets (kept ones only if their size changed), chains, their rules, the jumps */
	for (size_t i = 0; i < new->n_sets && r == 0; i++) {
		const struct nftlayout_set *ns = &new->sets[i], *os = byname_find(&x.old_sets, ns->name);
		struct nftnl_set *s;

		if (os && os->size == ns->size)
			continue;
		if (!(s = nftobj_rset_object(ns->kind, ns->name, ns->size, NFTOBJ_RSET_ID_BASE + i))) {
			r = -ENOMEM;
			break;
		}
		named_msg(b, NFT_MSG_NEWSET, "create set", ns->name, s, NULL, NULL);
		nftnl_set_free(s);
	}
	for (size_t i = 0; i < new->n_chains && r == 0; i++) {
		const struct nftchain *c = &new->chains[i], *oc = byname_find(&x.old_chains, c->name);

		if (oc && oc->digest == c->digest)
			continue;
		if (!oc) {
			struct nftnl_chain *ch = nftobj_chain_object(&(struct chaindef){ .name = c->name });

			if (!ch) {
				r = -ENOMEM;
				break;
			}
			named_msg(b, NFT_MSG_NEWCHAIN, "create chain", c->name, NULL, ch, NULL);
			nftnl_chain_free(ch);
		}
		r = nftchain_write_rules(b, p, cfg, c, wan_sets);
	}
	if (r == 0)
		r = write_vmaps(b, NFT_MSG_NEWSETELEM, new, &x.old_chains);
	layout_index_free(&x);
	return r < 0 ? r : b->oom ? -ENOMEM : 0;
}
