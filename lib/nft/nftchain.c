/*
 * The rules of a port segment's chain; see nftchain.h. For each rule that
 * owns the segment: its DNAT (d4), its pinhole mark (p6), or the kernel's
 * add of its first forwarding after the rule's own checks (t4, t6).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nftchain.h"
#include "nftstmt.h"
#include "rules/config.h"
#include "base/util.h"

static const char *const prefixes[NFTCHAIN__KINDS] = {
	[NFTCHAIN_D4] = "d4", [NFTCHAIN_P6] = "p6", [NFTCHAIN_T4] = "t4", [NFTCHAIN_T6] = "t6",
};

bool nftchain_any_rule_wan(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (cfg->rules[i]->has_wan && !cfg->rules[i]->is_static)
			return true;
	return false;
}

/*
 * The kernel's side of what the engine asks of a trigger (engine_rule_accepts
 * and engine_rule_allows): the rule's WAN interfaces (when some rule has
 * its own; else the trigger rule's @wanif says it all), its LAN ones, the
 * sources it allows.
 */
static void st_rule_checks(struct nftstmt *b, const struct config *cfg, const struct rule *r, bool v6,
			   bool wan_sets)
{
	char name[NFTOBJ_NAME_MAX];
	static const char lo[16] = "lo";

	if (wan_sets) {
		nftobj_rset_name(name, NFTOBJ_RS_WAN, r->name);
		nftstmt_say(b, "oifname @%s", name);
		nftstmt_meta_load(b, NFT_META_OIFNAME, NFT_REG_1);
		nftstmt_lookup_name(b, NFT_REG_1, name, false, -1);
		nftstmt_say(b, "iifname != @%s", name);
		nftstmt_meta_load(b, NFT_META_IIFNAME, NFT_REG_1);
		nftstmt_lookup_name(b, NFT_REG_1, name, true, -1);
	}
	if (r->has_lan || cfg->has_lan) {
		if (r->has_lan)
			nftobj_rset_name(name, NFTOBJ_RS_LAN, r->name);
		else
			snprintf(name, sizeof(name), "%s", nftobj_set_name(NFTOBJ_LANIF));
		nftstmt_say(b, "iifname @%s", name);
		nftstmt_meta_load(b, NFT_META_IIFNAME, NFT_REG_1);
		nftstmt_lookup_name(b, NFT_REG_1, name, false, -1);
	} else {
		nftstmt_say(b, "iifname != \"lo\"");
		nftstmt_meta_load(b, NFT_META_IIFNAME, NFT_REG_1);
		nftstmt_cmp(b, NFT_REG_1, NFT_CMP_NEQ, lo, sizeof(lo));
	}
	if (r->has_allow || cfg->has_allow) {
		if (r->has_allow)
			nftobj_rset_name(name, v6 ? NFTOBJ_RS_ALLOW6 : NFTOBJ_RS_ALLOW4, r->name);
		else
			snprintf(name, sizeof(name), "%s", nftobj_set_name(v6 ? NFTOBJ_ALLOW6 : NFTOBJ_ALLOW4));
		nftstmt_say(b, "%s saddr @%s", v6 ? "ip6" : "ip", name);
		nftstmt_need_nfproto(b, v6);
		nftstmt_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4, NFT_REG_1);
		nftstmt_lookup_name(b, NFT_REG_1, name, false, -1);
	}
}

/* add @SET { KEY timeout T [: DATA] }: the key in register 1, data in 2 */
static void e_dynset_add(struct nftstmt *b, const char *set, uint64_t timeout_ms, bool data)
{
	struct nftnl_expr *e = nftstmt_expr(b, "dynset");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	if (data)
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_DATA, NFT_REG_2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, timeout_ms);
	nftstmt_add(b, e);
}

/* ip saddr, ip6 daddr, ... into REG (after the family match they imply) */
static void e_addr(struct nftstmt *b, bool v6, bool dst, uint32_t reg)
{
	nftstmt_need_nfproto(b, v6);
	nftstmt_payload(b, NFT_PAYLOAD_NETWORK_HEADER, (v6 ? 8 : 12) + (dst ? (v6 ? 16 : 4) : 0),
			v6 ? 16 : 4, reg);
}

static void say_timeout(struct nftstmt *b, uint64_t ms)
{
	struct dynbuf t = { 0 };

	if (!b->text)
		return;
	nftstmt_duration(&t, ms);
	nftstmt_say(b, "timeout %s", t.data ? t.data : "0s");
	if (t.oom)
		b->text->oom = true;
	dynbuf_free(&t);
}

/*
 * The kernel's add of rule R's first forwarding, IPv4: `add` creates the
 * element only where there is none, so an active forwarding (another
 * host's, an exclusive one) is never touched.
 */
static void st_add4(struct nftstmt *b, const struct rule *r)
{
	char set[NFTOBJ_NAME_MAX];
	uint64_t t = (uint64_t)r->timeout_s * 1000;

	nftobj_rset_name(set, r->peer ? NFTOBJ_RS_ACT4P : NFTOBJ_RS_ACT4, r->name);
	nftstmt_say(b, "add @%s { %s", set, r->peer ? "ip daddr" : "meta nfproto");
	say_timeout(b, t);
	nftstmt_say(b, ": ip saddr }");
	if (r->peer) {
		e_addr(b, false, true, NFT_REG_1);
	} else {
		nftstmt_need_nfproto(b, false);
		nftstmt_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
	}
	e_addr(b, false, false, NFT_REG_2);
	e_dynset_add(b, set, t, true);
}

/*
 * IPv6: a pinhole set keyed by the host would take a second host's add
 * too, so the rule's owner set (keyed by a constant, or by the peer)
 * guards it: only a rule's (a peer's) first forwarding is added.
 */
static void st_add6(struct nftstmt *b, const struct rule *r)
{
	char own[NFTOBJ_NAME_MAX], pin[NFTOBJ_NAME_MAX];
	uint64_t t = (uint64_t)r->timeout_s * 1000;

	nftobj_rset_name(own, r->peer ? NFTOBJ_RS_OWN6P : NFTOBJ_RS_OWN6, r->name);
	nftobj_rset_name(pin, r->peer ? NFTOBJ_RS_PIN6P : NFTOBJ_RS_PIN6, r->name);
	if (r->peer) {
		nftstmt_say(b, "ip6 daddr != @%s add @%s { ip6 daddr", own, own);
		e_addr(b, true, true, NFT_REG_1);
		nftstmt_lookup_name(b, NFT_REG_1, own, true, -1);
		e_addr(b, true, true, NFT_REG_1);
	} else {
		nftstmt_say(b, "meta nfproto != @%s add @%s { meta nfproto", own, own);
		nftstmt_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
		nftstmt_lookup_name(b, NFT_REG_1, own, true, -1);
		nftstmt_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
	}
	say_timeout(b, t);
	nftstmt_say(b, "}");
	e_dynset_add(b, own, t, false);
	nftstmt_say(b, "add @%s { ip6 saddr%s", pin, r->peer ? " . ip6 daddr" : "");
	say_timeout(b, t);
	nftstmt_say(b, "}");
	e_addr(b, true, false, NFT_REG_1);
	if (r->peer)
		e_addr(b, true, true, NFT_REG_2);
	e_dynset_add(b, pin, t, false);
}

/* dnat ip to meta nfproto map @act4_R, dnat ip to ip saddr map @act4p_R */
static void st_dnat_rule(struct nftstmt *b, const struct rule *r)
{
	char set[NFTOBJ_NAME_MAX];

	nftobj_rset_name(set, r->peer ? NFTOBJ_RS_ACT4P : NFTOBJ_RS_ACT4, r->name);
	nftstmt_say(b, "dnat ip to %s map @%s", r->peer ? "ip saddr" : "meta nfproto", set);
	if (r->peer)
		e_addr(b, false, false, NFT_REG_1);
	else
		nftstmt_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
	nftstmt_lookup_name(b, NFT_REG_1, set, false, NFT_REG_1);
	nftstmt_dnat(b, false);
}

/* ip6 daddr @pin6_R, ip6 daddr . ip6 saddr @pin6p_R: marked */
static void st_pin_rule(struct nftstmt *b, const struct nftobj_params *p, const struct rule *r)
{
	char set[NFTOBJ_NAME_MAX];

	nftobj_rset_name(set, r->peer ? NFTOBJ_RS_PIN6P : NFTOBJ_RS_PIN6, r->name);
	nftstmt_say(b, "ip6 daddr %s@%s", r->peer ? ". ip6 saddr " : "", set);
	e_addr(b, true, true, NFT_REG_1);
	if (r->peer)
		e_addr(b, true, false, NFT_REG_2);
	nftstmt_lookup_name(b, NFT_REG_1, set, false, -1);
	nftstmt_set_mark(b, p->mark, p->mark_mask);
}

static void chain_rule(struct nftstmt *b, const struct nftobj_params *p, const struct config *cfg,
		       enum nftchain_kind k, const struct rule *r, bool wan_sets)
{
	switch (k) {
	case NFTCHAIN_D4:
		st_dnat_rule(b, r);
		break;
	case NFTCHAIN_P6:
		st_pin_rule(b, p, r);
		break;
	case NFTCHAIN_T4:
		st_rule_checks(b, cfg, r, false, wan_sets);
		st_add4(b, r);
		break;
	case NFTCHAIN_T6:
		st_rule_checks(b, cfg, r, true, wan_sets);
		st_add6(b, r);
		break;
	case NFTCHAIN__KINDS:
		break;
	}
}

int nftchain_rules_text(const struct nftobj_params *p, const struct config *cfg,
			const struct nftchain *c, bool wan_sets, struct dynbuf *out)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		struct nftstmt rb = { .text = out };

		dynbuf_printf(out, "\t\t");
		chain_rule(&rb, p, cfg, c->kind, cfg->rules[c->rules[i]], wan_sets);
		dynbuf_printf(out, "\n");
	}
	return out->oom ? -ENOMEM : 0;
}

int nftchain_text(const struct nftobj_params *p, const struct config *cfg, const struct nftchain *c,
		  struct dynbuf *out)
{
	return nftchain_rules_text(p, cfg, c, nftchain_any_rule_wan(cfg), out);
}


int nftchain_write_rules(struct nlbatch *b, const struct nftobj_params *p, const struct config *cfg,
			 const struct nftchain *c, bool wan_sets)
{
	char what[96];

	snprintf(what, sizeof(what), "add rule to %s", c->name);
	for (size_t i = 0; i < c->n_rules; i++) {
		struct nftstmt rb;
		int r = nftstmt_begin(&rb, b, c->name);

		if (r == 0) {
			chain_rule(&rb, p, cfg, c->kind, cfg->rules[c->rules[i]], wan_sets);
			r = nftstmt_end(&rb, what);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

const char *nftchain_prefix(enum nftchain_kind k)
{
	return prefixes[k];
}

enum nftobj_set nftchain_vmap(enum nftchain_kind k)
{
	static const enum nftobj_set m[NFTCHAIN__KINDS] = {
		[NFTCHAIN_D4] = NFTOBJ_FWD4V, [NFTCHAIN_P6] = NFTOBJ_FWD6V,
		[NFTCHAIN_T4] = NFTOBJ_TRIG4V, [NFTCHAIN_T6] = NFTOBJ_TRIG6V,
	};

	return m[k];
}
