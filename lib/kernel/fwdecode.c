/*
 * libnftnl objects into the firewall check's model; see fwdecode.h. A
 * rule is read expression by expression with what each register holds
 * (struct reg): a load names the key, a bitwise and narrows its mask, and
 * a cmp, range or lookup on the register makes the condition.
 */
#include <netinet/in.h>	/* before the kernel headers, which would redefine in_addr */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/netlink.h>	/* libnftnl/expr.h uses struct nlmsghdr without it (musl) */
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_conntrack.h>

#include "fwdecode.h"

static bool family_checked(int family)
{
	return family == NFPROTO_INET || family == NFPROTO_IPV4 || family == NFPROTO_IPV6;
}

int fwdecode_chain(struct fwruleset *rs, const struct nftnl_chain *c)
{
	const char *table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	int family = (int)nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	struct fwruleset_chain *v;

	if (!table || !name)
		return -EBADMSG;
	if (!family_checked(family) || fwruleset_chain_find(rs, family, table, name))
		return 0;
	v = fwruleset_chain_add(rs, family, table, name);
	if (!v)
		return -ENOMEM;
	if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
		return 0;
	v->base = true;
	v->hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
	v->prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
	v->policy_drop = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
			 nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP;
	return 0;
}

/* What a register holds, as far as the check can tell. */
struct reg {
	enum fwruleset_key key;
	uint32_t mask;
};

#define N_REGS (NFT_REG32_15 + 1)

static struct reg *reg_at(struct reg *regs, uint32_t r)
{
	static struct reg scratch;

	if (r < N_REGS)
		return &regs[r];
	scratch.key = FWRULESET_KEY_OTHER;
	return &scratch;
}

static void reg_load(struct reg *regs, const struct nftnl_expr *e, uint16_t attr,
		     enum fwruleset_key key)
{
	struct reg *r = reg_at(regs, nftnl_expr_get_u32(e, attr));

	r->key = key;
	r->mask = 0xffffffff;
}

static enum fwruleset_key meta_key(uint32_t k)
{
	switch (k) {
	case NFT_META_NFPROTO:
		return FWRULESET_KEY_NFPROTO;
	case NFT_META_L4PROTO:
		return FWRULESET_KEY_L4PROTO;
	case NFT_META_MARK:
		return FWRULESET_KEY_MARK;
	case NFT_META_IIFNAME:
		return FWRULESET_KEY_IIFNAME;
	case NFT_META_OIFNAME:
		return FWRULESET_KEY_OIFNAME;
	}
	return FWRULESET_KEY_OTHER;
}

static void add_cond(struct fwruleset *rs, struct fwruleset_rule *r,
		     const struct fwruleset_cond *c)
{
	if (fwruleset_cond_add(r, c) < 0)
		rs->oom = 1;
}

static void add_maybe(struct fwruleset *rs, struct fwruleset_rule *r)
{
	struct fwruleset_cond c = { .key = FWRULESET_KEY_OTHER, .op = FWRULESET_OP_MAYBE };

	add_cond(rs, r, &c);
}

static void cmp_cond(struct fwruleset *rs, struct fwruleset_rule *r, const struct reg *src,
		     const struct nftnl_expr *e)
{
	struct fwruleset_cond c = { .key = src->key, .mask = src->mask };
	uint32_t len = 0, op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
	const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);

	switch (op) {
	case NFT_CMP_EQ:
		c.op = FWRULESET_OP_EQ;
		break;
	case NFT_CMP_NEQ:
		c.op = FWRULESET_OP_NEQ;
		break;
	case NFT_CMP_GTE:
	case NFT_CMP_GT:
		c.op = FWRULESET_OP_GTE;
		break;
	case NFT_CMP_LTE:
	case NFT_CMP_LT:
		c.op = FWRULESET_OP_LTE;
		break;
	default:
		c.op = FWRULESET_OP_MAYBE;
	}
	if (!d || c.key == FWRULESET_KEY_OTHER) {
		c.op = FWRULESET_OP_MAYBE;
	} else if (c.key == FWRULESET_KEY_IIFNAME || c.key == FWRULESET_KEY_OIFNAME) {
		size_t n = strnlen((const char *)d, len);

		/* "eth*" compares the prefix only, without the NUL */
		c.prefix = n == len;
		memcpy(c.ifname, d, n < 16 ? n : 16);
		if ((c.op != FWRULESET_OP_EQ && c.op != FWRULESET_OP_NEQ) || n > 16)
			c.op = FWRULESET_OP_MAYBE;
	} else if (len != fwruleset_key_len(c.key)) {
		c.op = FWRULESET_OP_MAYBE;
	} else {
		c.value = fwruleset_key_value(c.key, d);
		if (op == NFT_CMP_GT)
			c.value++;
		else if (op == NFT_CMP_LT)
			c.value--;
		if ((op == NFT_CMP_GT && !c.value) || (op == NFT_CMP_LT && c.value == 0xffffffff))
			c.op = FWRULESET_OP_MAYBE;
	}
	add_cond(rs, r, &c);
}

static void range_cond(struct fwruleset *rs, struct fwruleset_rule *r, const struct reg *src,
		       const struct nftnl_expr *e)
{
	uint32_t lf = 0, lt = 0;
	const uint8_t *from = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &lf);
	const uint8_t *to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &lt);
	struct fwruleset_cond c = { .key = src->key, .mask = src->mask, .op = FWRULESET_OP_GTE };

	if (src->key == FWRULESET_KEY_OTHER || src->key == FWRULESET_KEY_IIFNAME ||
	    src->key == FWRULESET_KEY_OIFNAME || !from || !to ||
	    lf != fwruleset_key_len(src->key) || lt != lf ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) != NFT_RANGE_EQ) {
		add_maybe(rs, r);
		return;
	}
	c.value = fwruleset_key_value(src->key, from);
	add_cond(rs, r, &c);
	c.op = FWRULESET_OP_LTE;
	c.value = fwruleset_key_value(src->key, to);
	add_cond(rs, r, &c);
}

static void lookup(struct fwruleset *rs, struct fwruleset_rule *r, struct reg *regs,
		   int family, const char *table, const struct nftnl_expr *e)
{
	const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	const struct reg *src = reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
	bool inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
		   (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);
	struct fwruleset_cond c = { .key = src->key, .mask = src->mask,
				    .op = inv ? FWRULESET_OP_NOT_IN : FWRULESET_OP_IN };
	int idx = set ? fwruleset_set_ref(rs, family, table, set) : -1;

	if (idx < 0) {
		rs->oom |= idx == -ENOMEM;
		add_maybe(rs, r);
		return;
	}
	c.set = idx;
	if (src->mask != 0xffffffff)
		c.key = FWRULESET_KEY_OTHER;
	if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG)) {
		uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG);

		if (dreg == NFT_REG_VERDICT) {
			r->verdict = FWRULESET_VERDICT_VMAP;
			r->vmap = c;
			r->vmap.op = FWRULESET_OP_IN;
			return;
		}
		add_cond(rs, r, &c);	/* a data map: no element, no match */
		reg_at(regs, dreg)->key = FWRULESET_KEY_OTHER;
		return;
	}
	add_cond(rs, r, &c);
}

/* A verdict of the kernel's (an immediate's, a map element's) as the model's. */
static enum fwruleset_verdict verdict_of(int code)
{
	switch (code) {
	case NF_ACCEPT:
		return FWRULESET_VERDICT_ACCEPT;
	case NF_DROP:
		return FWRULESET_VERDICT_DROP;
	case NFT_JUMP:
		return FWRULESET_VERDICT_JUMP;
	case NFT_GOTO:
		return FWRULESET_VERDICT_GOTO;
	case NFT_RETURN:
		return FWRULESET_VERDICT_RETURN;
	case NFT_CONTINUE:
	case NFT_BREAK:
		return FWRULESET_VERDICT_CONTINUE;
	default:
		return FWRULESET_VERDICT_UNKNOWN;
	}
}

/* Expressions that change nothing about whether the rule matches. */
static bool is_statement(const char *name)
{
	static const char *const names[] = {
		"counter", "log", "nat", "masq", "redir", "notrack", "dynset", "objref",
		"flow_offload", "tproxy", "synproxy", "fwd", "dup", "last",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static void add_flags(struct fwruleset *rs, struct fwruleset_rule *r, enum fwruleset_key k,
		      uint32_t mask, bool invert)
{
	struct fwruleset_cond c = { .key = k, .op = invert ? FWRULESET_OP_EQ : FWRULESET_OP_NEQ,
				    .mask = mask };

	add_cond(rs, r, &c);
}

/*
 * iptables-nft keeps `-m conntrack` as a compat match (ufw's
 * RELATED,ESTABLISHED and DNAT lines): struct xt_conntrack_mtinfo1..3.
 */
#define XT_CT_FLAGS 146
#define XT_CT_STATE 150
#define XT_CT_STATE_DNAT 0x80
#define XT_CT_STATE_UNTRACKED 0x100

static void xt_conntrack(struct fwruleset *rs, struct fwruleset_rule *r, uint32_t rev,
			 const uint8_t *d, uint32_t len)
{
	uint16_t flags, invert, state, status;
	uint32_t bits;

	if (rev < 1 || rev > 3 || len < (rev == 1 ? 152u : 154u)) {
		add_maybe(rs, r);
		return;
	}
	memcpy(&flags, d + XT_CT_FLAGS, 2);
	memcpy(&invert, d + XT_CT_FLAGS + 2, 2);
	if (rev == 1) {
		state = d[XT_CT_STATE];
		status = d[XT_CT_STATE + 1];
	} else {
		memcpy(&state, d + XT_CT_STATE, 2);
		memcpy(&status, d + XT_CT_STATE + 2, 2);
	}
	if (flags & ~(XT_CONNTRACK_STATE | XT_CONNTRACK_STATUS | XT_CONNTRACK_STATE_ALIAS))
		add_maybe(rs, r);
	if (flags & XT_CONNTRACK_STATE) {
		/* the state bits are nft's, but for the DNAT/SNAT and untracked ones */
		bits = state & 0x0f;
		if (state & XT_CT_STATE_UNTRACKED)
			bits |= NF_CT_STATE_UNTRACKED_BIT;
		if (state == XT_CT_STATE_DNAT)
			add_flags(rs, r, FWRULESET_KEY_CTSTATUS, IPS_DST_NAT,
				  invert & XT_CONNTRACK_STATE);
		else if (!(state & ~(0x0f | XT_CT_STATE_UNTRACKED)))
			add_flags(rs, r, FWRULESET_KEY_CTSTATE, bits, invert & XT_CONNTRACK_STATE);
		else
			add_maybe(rs, r);
	}
	if (flags & XT_CONNTRACK_STATUS)
		add_flags(rs, r, FWRULESET_KEY_CTSTATUS, status, invert & XT_CONNTRACK_STATUS);
}

static void xt_match(struct fwruleset *rs, struct fwruleset_rule *r, const struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
	uint32_t len = 0, rev = nftnl_expr_get_u32(e, NFTNL_EXPR_MT_REV);
	const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_MT_INFO, &len);
	uint32_t mark, mask;

	if (name && d && !strcmp(name, "conntrack")) {
		xt_conntrack(rs, r, rev, d, len);
	} else if (name && d && !strcmp(name, "mark") && rev == 1 && len >= 9) {
		struct fwruleset_cond c = { .key = FWRULESET_KEY_MARK,
					    .op = d[8] ? FWRULESET_OP_NEQ : FWRULESET_OP_EQ };

		memcpy(&mark, d, 4);
		memcpy(&mask, d + 4, 4);
		c.mask = mask;
		c.value = mark;
		add_cond(rs, r, &c);
	} else {
		add_maybe(rs, r);	/* other compat matches */
	}
}

static void add_expr(struct fwruleset *rs, struct fwruleset_rule *r, struct reg *regs,
		     int family, const char *table, const struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!name) {
		add_maybe(rs, r);
	} else if (!strcmp(name, "meta")) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG))
			reg_load(regs, e, NFTNL_EXPR_META_DREG,
				 meta_key(nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY)));
	} else if (!strcmp(name, "ct")) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) {
			uint32_t k = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);

			reg_load(regs, e, NFTNL_EXPR_CT_DREG,
				 nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR) ? FWRULESET_KEY_OTHER :
				 k == NFT_CT_STATE ? FWRULESET_KEY_CTSTATE :
				 k == NFT_CT_STATUS ? FWRULESET_KEY_CTSTATUS : FWRULESET_KEY_OTHER);
		}
	} else if (!strcmp(name, "payload")) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG))
			reg_load(regs, e, NFTNL_EXPR_PAYLOAD_DREG,
				 nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) == NFT_PAYLOAD_TRANSPORT_HEADER &&
				 nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == 2 &&
				 nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) == 2 ?
				 FWRULESET_KEY_DPORT : FWRULESET_KEY_OTHER);
	} else if (!strcmp(name, "bitwise")) {
		struct reg *src = reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
		struct reg *dst = reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG));
		uint32_t lm = 0, lx = 0, mask, xor;
		const void *m = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &lm);
		const void *x = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &lx);
		struct reg out = { .key = FWRULESET_KEY_OTHER };

		if (m && x && lm == 4 && lx == 4 && fwruleset_key_len(src->key) == 4 &&
		    (!nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) ||
		     nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) == NFT_BITWISE_BOOL)) {
			memcpy(&mask, m, 4);
			memcpy(&xor, x, 4);
			if (!xor) {
				out.key = src->key;
				out.mask = src->mask & mask;
			}
		}
		*dst = out;
	} else if (!strcmp(name, "cmp")) {
		cmp_cond(rs, r, reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG)), e);
	} else if (!strcmp(name, "range")) {
		range_cond(rs, r, reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG)), e);
	} else if (!strcmp(name, "lookup")) {
		lookup(rs, r, regs, family, table, e);
	} else if (!strcmp(name, "immediate")) {
		uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG);

		if (dreg == NFT_REG_VERDICT) {
			const char *chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);

			r->verdict = verdict_of((int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
			if (chain)
				snprintf(r->target, sizeof(r->target), "%s", chain);
		} else {
			reg_at(regs, dreg)->key = FWRULESET_KEY_OTHER;
		}
	} else if (!strcmp(name, "reject")) {
		r->verdict = FWRULESET_VERDICT_DROP;
	} else if (!strcmp(name, "queue")) {
		r->verdict = FWRULESET_VERDICT_UNKNOWN;
	} else if (!strcmp(name, "match")) {
		xt_match(rs, r, e);
	} else if (!strcmp(name, "target")) {
		/* iptables-nft: what is not native is a compat target */
		const char *t = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);

		if (t && !strcmp(t, "REJECT"))
			r->verdict = FWRULESET_VERDICT_DROP;
		else if (t && strcmp(t, "LOG") && strcmp(t, "NFLOG"))
			r->verdict = FWRULESET_VERDICT_UNKNOWN;
	} else if (!is_statement(name)) {
		/* limit, quota, compat matches, fib, ...: may or may not match */
		add_maybe(rs, r);
		for (uint32_t i = 0; i < N_REGS; i++)
			regs[i].key = FWRULESET_KEY_OTHER;
	}
}

int fwdecode_rule(struct fwruleset *rs, const struct nftnl_rule *nr)
{
	const char *table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
	const char *chain = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
	int family = (int)nftnl_rule_get_u32(nr, NFTNL_RULE_FAMILY);
	struct reg regs[N_REGS];
	struct fwruleset_chain *c;
	struct fwruleset_rule *r;
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;

	if (!table || !chain)
		return -EBADMSG;
	if (!family_checked(family))
		return 0;
	c = fwruleset_chain_find(rs, family, table, chain);
	if (!c)
		return 0;
	r = fwruleset_rule_add(c);
	it = nftnl_expr_iter_create(nr);
	if (!r || !it) {
		rs->oom = 1;
		if (r)
			add_maybe(rs, r);
		nftnl_expr_iter_destroy(it);
		return -ENOMEM;
	}
	for (size_t i = 0; i < N_REGS; i++)
		regs[i] = (struct reg){ .key = FWRULESET_KEY_OTHER };
	while ((e = nftnl_expr_iter_next(it)))
		add_expr(rs, r, regs, family, table, e);
	nftnl_expr_iter_destroy(it);
	return rs->oom ? -ENOMEM : 0;
}

/* S's index in RS: -ENOENT when no rule looks it up, -EBADMSG when it is nameless */
static int set_index(const struct fwruleset *rs, const struct nftnl_set *s)
{
	const char *table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
	const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);

	if (!table || !name)
		return -EBADMSG;
	return fwruleset_set_find(rs, (int)nftnl_set_get_u32(s, NFTNL_SET_FAMILY), table, name);
}

int fwdecode_set(struct fwruleset *rs, const struct nftnl_set *s)
{
	int i = set_index(rs, s);

	if (i == -ENOENT)
		return 0;
	if (i < 0)
		return i;
	if (nftnl_set_is_set(s, NFTNL_SET_FLAGS))
		rs->sets[i].interval = nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL;
	return 0;
}

int fwdecode_elems(struct fwruleset *rs, const struct nftnl_set *s)
{
	int i = set_index(rs, s);
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	if (i == -ENOENT)
		return 0;
	if (i < 0)
		return i;
	it = nftnl_set_elems_iter_create((struct nftnl_set *)s);
	if (!it) {
		rs->oom = 1;
		return -ENOMEM;
	}
	rs->sets[i].has_elems = true;
	while ((el = nftnl_set_elems_iter_next(it))) {
		struct fwruleset_elem e = { 0 };
		uint32_t len = 0, lend = 0;
		const void *k = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
		const void *ke = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY_END, &lend);

		if (!k || len > FWRULESET_KEY_LEN)
			continue;
		memcpy(e.key, k, len);
		e.len = len;
		if (ke && lend == len)
			memcpy(e.key_end, ke, len);
		else
			memcpy(e.key_end, k, len);
		e.interval_end = nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_FLAGS) &&
				 (nftnl_set_elem_get_u32(el, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
		if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_VERDICT)) {
			const char *chain = nftnl_set_elem_get_str(el, NFTNL_SET_ELEM_CHAIN);

			e.verdict = verdict_of((int)nftnl_set_elem_get_u32(el, NFTNL_SET_ELEM_VERDICT));
			if (chain)
				snprintf(e.target, sizeof(e.target), "%s", chain);
		}
		if (fwruleset_elem_add(rs, i, &e) < 0)
			rs->oom = 1;
	}
	nftnl_set_elems_iter_destroy(it);
	return rs->oom ? -ENOMEM : 0;
}
