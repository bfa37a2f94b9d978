/*
 * The firewall check; see fwcheck.h.
 */
#include <netinet/in.h>	/* before the kernel headers, which would redefine in_addr */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>	/* libnftnl/expr.h uses struct nlmsghdr without it (musl) */
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_conntrack.h>

#include "fwcheck.h"

/* ---- building the model ---------------------------------------------- */

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, FWCHECK_NAME_MAX, "%s", src ? src : "");
}

static bool family_checked(int family)
{
	return family == NFPROTO_INET || family == NFPROTO_IPV4 || family == NFPROTO_IPV6;
}

struct fwcheck_chain *fwcheck_chain_find(const struct fwcheck *fc, int family, const char *table,
					 const char *name)
{
	for (size_t i = 0; i < fc->n_chains; i++) {
		struct fwcheck_chain *c = &fc->chains[i];

		if (c->family == family && !strcmp(c->table, table) && !strcmp(c->name, name))
			return c;
	}
	return NULL;
}

struct fwcheck_chain *fwcheck_chain_add(struct fwcheck *fc, int family, const char *table,
					const char *name)
{
	struct fwcheck_chain *v = realloc(fc->chains, (fc->n_chains + 1) * sizeof(*v));

	if (!v) {
		fc->oom = 1;
		return NULL;
	}
	fc->chains = v;
	v = &fc->chains[fc->n_chains++];
	memset(v, 0, sizeof(*v));
	v->family = family;
	copy_name(v->table, table);
	copy_name(v->name, name);
	return v;
}

struct fwcheck_rule *fwcheck_rule_add(struct fwcheck_chain *c)
{
	struct fwcheck_rule *v = realloc(c->rules, (c->n_rules + 1) * sizeof(*v));

	if (!v)
		return NULL;
	c->rules = v;
	v = &c->rules[c->n_rules++];
	memset(v, 0, sizeof(*v));
	return v;
}

int fwcheck_cond_add(struct fwcheck_rule *r, const struct fwcheck_cond *cond)
{
	struct fwcheck_cond *v = realloc(r->conds, (r->n_conds + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->conds = v;
	r->conds[r->n_conds++] = *cond;
	return 0;
}

int fwcheck_set_ref(struct fwcheck *fc, int family, const char *table, const char *name)
{
	struct fwcheck_set *v;

	for (size_t i = 0; i < fc->n_sets; i++) {
		v = &fc->sets[i];
		if (v->family == family && !strcmp(v->table, table) && !strcmp(v->name, name))
			return (int)i;
	}
	v = realloc(fc->sets, (fc->n_sets + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	fc->sets = v;
	v = &fc->sets[fc->n_sets];
	memset(v, 0, sizeof(*v));
	v->family = family;
	copy_name(v->table, table);
	copy_name(v->name, name);
	return (int)fc->n_sets++;
}

int fwcheck_elem_add(struct fwcheck *fc, int set, const struct fwcheck_elem *e)
{
	struct fwcheck_set *s = &fc->sets[set];
	struct fwcheck_elem *v = realloc(s->elems, (s->n_elems + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->elems = v;
	s->elems[s->n_elems++] = *e;
	s->has_elems = true;
	return 0;
}

void fwcheck_free(struct fwcheck *fc)
{
	for (size_t i = 0; i < fc->n_chains; i++) {
		for (size_t k = 0; k < fc->chains[i].n_rules; k++)
			free(fc->chains[i].rules[k].conds);
		free(fc->chains[i].rules);
	}
	for (size_t i = 0; i < fc->n_sets; i++)
		free(fc->sets[i].elems);
	free(fc->chains);
	free(fc->sets);
	memset(fc, 0, sizeof(*fc));
}

/* ---- from libnftnl objects ------------------------------------------- */

int fwcheck_add_nftnl_chain(struct fwcheck *fc, const struct nftnl_chain *c)
{
	const char *table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	int family = (int)nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	struct fwcheck_chain *v;

	if (!table || !name)
		return -EBADMSG;
	if (!family_checked(family) || fwcheck_chain_find(fc, family, table, name))
		return 0;
	v = fwcheck_chain_add(fc, family, table, name);
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
	enum fwcheck_key key;
	uint32_t mask;
};

#define N_REGS (NFT_REG32_15 + 1)

static struct reg *reg_at(struct reg *regs, uint32_t r)
{
	static struct reg scratch;

	if (r < N_REGS)
		return &regs[r];
	scratch.key = FWCHECK_KEY_OTHER;
	return &scratch;
}

static void reg_load(struct reg *regs, const struct nftnl_expr *e, uint16_t attr,
		     enum fwcheck_key key)
{
	struct reg *r = reg_at(regs, nftnl_expr_get_u32(e, attr));

	r->key = key;
	r->mask = 0xffffffff;
}

static uint32_t meta_key(uint32_t k)
{
	switch (k) {
	case NFT_META_NFPROTO:
		return FWCHECK_KEY_NFPROTO;
	case NFT_META_L4PROTO:
		return FWCHECK_KEY_L4PROTO;
	case NFT_META_MARK:
		return FWCHECK_KEY_MARK;
	case NFT_META_IIFNAME:
		return FWCHECK_KEY_IIFNAME;
	case NFT_META_OIFNAME:
		return FWCHECK_KEY_OIFNAME;
	}
	return FWCHECK_KEY_OTHER;
}

static size_t key_len(enum fwcheck_key k)
{
	switch (k) {
	case FWCHECK_KEY_NFPROTO:
	case FWCHECK_KEY_L4PROTO:
		return 1;
	case FWCHECK_KEY_DPORT:
		return 2;
	case FWCHECK_KEY_CTSTATE:
	case FWCHECK_KEY_CTSTATUS:
	case FWCHECK_KEY_MARK:
		return 4;
	case FWCHECK_KEY_IIFNAME:
	case FWCHECK_KEY_OIFNAME:
		return 16;
	default:
		return 0;
	}
}

/* A value of KEY from its bytes in a register or set element. */
static uint32_t key_value(enum fwcheck_key k, const uint8_t *p)
{
	uint32_t v;

	switch (k) {
	case FWCHECK_KEY_NFPROTO:
	case FWCHECK_KEY_L4PROTO:
		return p[0];
	case FWCHECK_KEY_DPORT:
		return (uint32_t)p[0] << 8 | p[1];
	default:
		memcpy(&v, p, 4);
		return v;
	}
}

static void add_cond(struct fwcheck *fc, struct fwcheck_rule *r, const struct fwcheck_cond *c)
{
	if (fwcheck_cond_add(r, c) < 0)
		fc->oom = 1;
}

static void add_maybe(struct fwcheck *fc, struct fwcheck_rule *r)
{
	struct fwcheck_cond c = { .key = FWCHECK_KEY_OTHER, .op = FWCHECK_OP_MAYBE };

	add_cond(fc, r, &c);
}

static void cmp_cond(struct fwcheck *fc, struct fwcheck_rule *r, const struct reg *src,
		     const struct nftnl_expr *e)
{
	struct fwcheck_cond c = { .key = src->key, .mask = src->mask };
	uint32_t len = 0, op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
	const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);

	switch (op) {
	case NFT_CMP_EQ:
		c.op = FWCHECK_OP_EQ;
		break;
	case NFT_CMP_NEQ:
		c.op = FWCHECK_OP_NEQ;
		break;
	case NFT_CMP_GTE:
	case NFT_CMP_GT:
		c.op = FWCHECK_OP_GTE;
		break;
	case NFT_CMP_LTE:
	case NFT_CMP_LT:
		c.op = FWCHECK_OP_LTE;
		break;
	default:
		c.op = FWCHECK_OP_MAYBE;
	}
	if (!d || c.key == FWCHECK_KEY_OTHER) {
		c.op = FWCHECK_OP_MAYBE;
	} else if (c.key == FWCHECK_KEY_IIFNAME || c.key == FWCHECK_KEY_OIFNAME) {
		size_t n = strnlen((const char *)d, len);

		/* "eth*" compares the prefix only, without the NUL */
		c.prefix = n == len;
		memcpy(c.ifname, d, n < 16 ? n : 16);
		if ((c.op != FWCHECK_OP_EQ && c.op != FWCHECK_OP_NEQ) || n > 16)
			c.op = FWCHECK_OP_MAYBE;
	} else if (len != key_len(c.key)) {
		c.op = FWCHECK_OP_MAYBE;
	} else {
		c.value = key_value(c.key, d);
		if (op == NFT_CMP_GT)
			c.value++;
		else if (op == NFT_CMP_LT)
			c.value--;
		if ((op == NFT_CMP_GT && !c.value) || (op == NFT_CMP_LT && c.value == 0xffffffff))
			c.op = FWCHECK_OP_MAYBE;
	}
	add_cond(fc, r, &c);
}

static void range_cond(struct fwcheck *fc, struct fwcheck_rule *r, const struct reg *src,
		       const struct nftnl_expr *e)
{
	uint32_t lf = 0, lt = 0;
	const uint8_t *from = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &lf);
	const uint8_t *to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &lt);
	struct fwcheck_cond c = { .key = src->key, .mask = src->mask, .op = FWCHECK_OP_GTE };

	if (src->key == FWCHECK_KEY_OTHER || src->key == FWCHECK_KEY_IIFNAME ||
	    src->key == FWCHECK_KEY_OIFNAME || !from || !to || lf != key_len(src->key) ||
	    lt != lf || nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) != NFT_RANGE_EQ) {
		add_maybe(fc, r);
		return;
	}
	c.value = key_value(src->key, from);
	add_cond(fc, r, &c);
	c.op = FWCHECK_OP_LTE;
	c.value = key_value(src->key, to);
	add_cond(fc, r, &c);
}

static void lookup(struct fwcheck *fc, struct fwcheck_rule *r, struct reg *regs, int family,
		   const char *table, const struct nftnl_expr *e)
{
	const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	const struct reg *src = reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
	bool inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
		   (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);
	struct fwcheck_cond c = { .key = src->key, .mask = src->mask,
				  .op = inv ? FWCHECK_OP_NOT_IN : FWCHECK_OP_IN };
	int idx = set ? fwcheck_set_ref(fc, family, table, set) : -1;

	if (idx < 0) {
		fc->oom |= idx == -ENOMEM;
		add_maybe(fc, r);
		return;
	}
	c.set = idx;
	if (src->mask != 0xffffffff)
		c.key = FWCHECK_KEY_OTHER;
	if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG)) {
		uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG);

		if (dreg == NFT_REG_VERDICT) {
			r->verdict = FWCHECK_VMAP;
			r->vmap = c;
			r->vmap.op = FWCHECK_OP_IN;
			return;
		}
		add_cond(fc, r, &c);	/* a data map: no element, no match */
		reg_at(regs, dreg)->key = FWCHECK_KEY_OTHER;
		return;
	}
	add_cond(fc, r, &c);
}

static void verdict_of(struct fwcheck_rule *r, int code, const char *chain)
{
	switch (code) {
	case NF_ACCEPT:
		r->verdict = FWCHECK_ACCEPT;
		break;
	case NF_DROP:
		r->verdict = FWCHECK_DROP;
		break;
	case NFT_JUMP:
		r->verdict = FWCHECK_JUMP;
		break;
	case NFT_GOTO:
		r->verdict = FWCHECK_GOTO;
		break;
	case NFT_RETURN:
		r->verdict = FWCHECK_RETURN;
		break;
	case NFT_CONTINUE:
	case NFT_BREAK:
		r->verdict = FWCHECK_CONTINUE;
		break;
	default:
		r->verdict = FWCHECK_UNKNOWN;
	}
	if (chain)
		copy_name(r->target, chain);
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

static void add_flags(struct fwcheck *fc, struct fwcheck_rule *r, enum fwcheck_key k,
		      uint32_t mask, bool invert)
{
	struct fwcheck_cond c = { .key = k, .op = invert ? FWCHECK_OP_EQ : FWCHECK_OP_NEQ,
				  .mask = mask };

	add_cond(fc, r, &c);
}

/*
 * iptables-nft keeps `-m conntrack` as a compat match (ufw's
 * RELATED,ESTABLISHED and DNAT lines): struct xt_conntrack_mtinfo1..3.
 */
#define XT_CT_FLAGS 146
#define XT_CT_STATE 150
#define XT_CT_STATE_DNAT 0x80
#define XT_CT_STATE_UNTRACKED 0x100

static void xt_conntrack(struct fwcheck *fc, struct fwcheck_rule *r, uint32_t rev,
			 const uint8_t *d, uint32_t len)
{
	uint16_t flags, invert, state, status;
	uint32_t bits;

	if (rev < 1 || rev > 3 || len < (rev == 1 ? 152u : 154u)) {
		add_maybe(fc, r);
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
		add_maybe(fc, r);
	if (flags & XT_CONNTRACK_STATE) {
		/* the state bits are nft's, but for the DNAT/SNAT and untracked ones */
		bits = state & 0x0f;
		if (state & XT_CT_STATE_UNTRACKED)
			bits |= NF_CT_STATE_UNTRACKED_BIT;
		if (state == XT_CT_STATE_DNAT)
			add_flags(fc, r, FWCHECK_KEY_CTSTATUS, IPS_DST_NAT, invert & XT_CONNTRACK_STATE);
		else if (!(state & ~(0x0f | XT_CT_STATE_UNTRACKED)))
			add_flags(fc, r, FWCHECK_KEY_CTSTATE, bits, invert & XT_CONNTRACK_STATE);
		else
			add_maybe(fc, r);
	}
	if (flags & XT_CONNTRACK_STATUS)
		add_flags(fc, r, FWCHECK_KEY_CTSTATUS, status, invert & XT_CONNTRACK_STATUS);
}

static void xt_match(struct fwcheck *fc, struct fwcheck_rule *r, const struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
	uint32_t len = 0, rev = nftnl_expr_get_u32(e, NFTNL_EXPR_MT_REV);
	const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_MT_INFO, &len);
	uint32_t mark, mask;

	if (name && d && !strcmp(name, "conntrack")) {
		xt_conntrack(fc, r, rev, d, len);
	} else if (name && d && !strcmp(name, "mark") && rev == 1 && len >= 9) {
		struct fwcheck_cond c = { .key = FWCHECK_KEY_MARK, .op = d[8] ? FWCHECK_OP_NEQ :
					  FWCHECK_OP_EQ };

		memcpy(&mark, d, 4);
		memcpy(&mask, d + 4, 4);
		c.mask = mask;
		c.value = mark;
		add_cond(fc, r, &c);
	} else {
		add_maybe(fc, r);	/* other compat matches */
	}
}

static void add_expr(struct fwcheck *fc, struct fwcheck_rule *r, struct reg *regs, int family,
		     const char *table, const struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!name) {
		add_maybe(fc, r);
	} else if (!strcmp(name, "meta")) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG))
			reg_load(regs, e, NFTNL_EXPR_META_DREG,
				 meta_key(nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY)));
	} else if (!strcmp(name, "ct")) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) {
			uint32_t k = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);

			reg_load(regs, e, NFTNL_EXPR_CT_DREG,
				 nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR) ? FWCHECK_KEY_OTHER :
				 k == NFT_CT_STATE ? FWCHECK_KEY_CTSTATE :
				 k == NFT_CT_STATUS ? FWCHECK_KEY_CTSTATUS : FWCHECK_KEY_OTHER);
		}
	} else if (!strcmp(name, "payload")) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG))
			reg_load(regs, e, NFTNL_EXPR_PAYLOAD_DREG,
				 nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) == NFT_PAYLOAD_TRANSPORT_HEADER &&
				 nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == 2 &&
				 nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) == 2 ?
				 FWCHECK_KEY_DPORT : FWCHECK_KEY_OTHER);
	} else if (!strcmp(name, "bitwise")) {
		struct reg *src = reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
		struct reg *dst = reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG));
		uint32_t lm = 0, lx = 0, mask, xor;
		const void *m = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &lm);
		const void *x = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &lx);
		struct reg out = { .key = FWCHECK_KEY_OTHER };

		if (m && x && lm == 4 && lx == 4 && key_len(src->key) == 4 &&
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
		cmp_cond(fc, r, reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG)), e);
	} else if (!strcmp(name, "range")) {
		range_cond(fc, r, reg_at(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG)), e);
	} else if (!strcmp(name, "lookup")) {
		lookup(fc, r, regs, family, table, e);
	} else if (!strcmp(name, "immediate")) {
		uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG);

		if (dreg == NFT_REG_VERDICT)
			verdict_of(r, (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT),
				   nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
		else
			reg_at(regs, dreg)->key = FWCHECK_KEY_OTHER;
	} else if (!strcmp(name, "reject")) {
		r->verdict = FWCHECK_DROP;
	} else if (!strcmp(name, "queue")) {
		r->verdict = FWCHECK_UNKNOWN;
	} else if (!strcmp(name, "match")) {
		xt_match(fc, r, e);
	} else if (!strcmp(name, "target")) {
		/* iptables-nft: what is not native is a compat target */
		const char *t = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);

		if (t && !strcmp(t, "REJECT"))
			r->verdict = FWCHECK_DROP;
		else if (t && strcmp(t, "LOG") && strcmp(t, "NFLOG"))
			r->verdict = FWCHECK_UNKNOWN;
	} else if (!is_statement(name)) {
		/* limit, quota, compat matches, fib, ...: may or may not match */
		add_maybe(fc, r);
		for (uint32_t i = 0; i < N_REGS; i++)
			regs[i].key = FWCHECK_KEY_OTHER;
	}
}

int fwcheck_add_nftnl_rule(struct fwcheck *fc, const struct nftnl_rule *nr)
{
	const char *table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
	const char *chain = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
	int family = (int)nftnl_rule_get_u32(nr, NFTNL_RULE_FAMILY);
	struct reg regs[N_REGS];
	struct fwcheck_chain *c;
	struct fwcheck_rule *r;
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;

	if (!table || !chain)
		return -EBADMSG;
	if (!family_checked(family))
		return 0;
	c = fwcheck_chain_find(fc, family, table, chain);
	if (!c)
		return 0;
	r = fwcheck_rule_add(c);
	it = nftnl_expr_iter_create(nr);
	if (!r || !it) {
		fc->oom = 1;
		if (r)
			add_maybe(fc, r);
		nftnl_expr_iter_destroy(it);
		return -ENOMEM;
	}
	for (size_t i = 0; i < N_REGS; i++)
		regs[i] = (struct reg){ .key = FWCHECK_KEY_OTHER };
	while ((e = nftnl_expr_iter_next(it)))
		add_expr(fc, r, regs, family, table, e);
	nftnl_expr_iter_destroy(it);
	return fc->oom ? -ENOMEM : 0;
}

/* S's index in FC: -ENOENT when no rule looks it up, -EBADMSG when it is nameless */
static int set_index(const struct fwcheck *fc, const struct nftnl_set *s)
{
	const char *table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
	const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	int family = (int)nftnl_set_get_u32(s, NFTNL_SET_FAMILY);

	if (!table || !name)
		return -EBADMSG;
	for (size_t i = 0; i < fc->n_sets; i++) {
		const struct fwcheck_set *v = &fc->sets[i];

		if (v->family == family && !strcmp(v->table, table) && !strcmp(v->name, name))
			return (int)i;
	}
	return -ENOENT;
}

int fwcheck_add_nftnl_set(struct fwcheck *fc, const struct nftnl_set *s)
{
	int i = set_index(fc, s);

	if (i == -ENOENT)
		return 0;
	if (i < 0)
		return i;
	if (nftnl_set_is_set(s, NFTNL_SET_FLAGS))
		fc->sets[i].interval = nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL;
	return 0;
}

int fwcheck_add_nftnl_elems(struct fwcheck *fc, const struct nftnl_set *s)
{
	int i = set_index(fc, s);
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	if (i == -ENOENT)
		return 0;
	if (i < 0)
		return i;
	it = nftnl_set_elems_iter_create((struct nftnl_set *)s);
	if (!it) {
		fc->oom = 1;
		return -ENOMEM;
	}
	fc->sets[i].has_elems = true;
	while ((el = nftnl_set_elems_iter_next(it))) {
		struct fwcheck_elem e = { 0 };
		uint32_t len = 0, lend = 0;
		const void *k = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
		const void *ke = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY_END, &lend);

		if (!k || len > FWCHECK_KEY_LEN)
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
			struct fwcheck_rule tmp = { 0 };

			verdict_of(&tmp, (int)nftnl_set_elem_get_u32(el, NFTNL_SET_ELEM_VERDICT),
				   nftnl_set_elem_get_str(el, NFTNL_SET_ELEM_CHAIN));
			e.verdict = tmp.verdict;
			memcpy(e.target, tmp.target, sizeof(e.target));
		}
		if (fwcheck_elem_add(fc, i, &e) < 0)
			fc->oom = 1;
	}
	nftnl_set_elems_iter_destroy(it);
	return fc->oom ? -ENOMEM : 0;
}

static void reach(const struct fwcheck *fc, const struct fwcheck_chain *c, bool *seen,
		  bool *wanted)
{
	size_t ci = (size_t)(c - fc->chains);

	if (seen[ci])
		return;
	seen[ci] = true;
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct fwcheck_rule *r = &c->rules[i];
		const struct fwcheck_chain *t;

		for (size_t k = 0; k < r->n_conds; k++)
			if (r->conds[k].op == FWCHECK_OP_IN || r->conds[k].op == FWCHECK_OP_NOT_IN)
				wanted[r->conds[k].set] = true;
		if (r->verdict == FWCHECK_JUMP || r->verdict == FWCHECK_GOTO) {
			t = fwcheck_chain_find(fc, c->family, c->table, r->target);
			if (t)
				reach(fc, t, seen, wanted);
		} else if (r->verdict == FWCHECK_VMAP) {
			const struct fwcheck_set *s = &fc->sets[r->vmap.set];

			wanted[r->vmap.set] = true;
			for (size_t k = 0; k < s->n_elems; k++) {
				t = fwcheck_chain_find(fc, c->family, c->table, s->elems[k].target);
				if (t && (s->elems[k].verdict == FWCHECK_JUMP ||
					  s->elems[k].verdict == FWCHECK_GOTO))
					reach(fc, t, seen, wanted);
			}
		}
	}
}

int fwcheck_sets_wanted(const struct fwcheck *fc, const char *own_table, bool *wanted)
{
	bool *seen = calloc(fc->n_chains ? fc->n_chains : 1, sizeof(*seen));

	if (!seen)
		return -ENOMEM;
	memset(wanted, 0, fc->n_sets * sizeof(*wanted));
	for (size_t i = 0; i < fc->n_chains; i++) {
		const struct fwcheck_chain *c = &fc->chains[i];

		if (c->base && c->hook == NF_INET_FORWARD &&
		    !(c->family == NFPROTO_INET && own_table && !strcmp(c->table, own_table)))
			reach(fc, c, seen, wanted);
	}
	free(seen);
	return 0;
}

/* ---- evaluation --------------------------------------------------------- */

enum tri { NO, MAYBE, YES };

enum res { R_CONT, R_ACCEPT, R_DROP, R_UNKNOWN };

/* A new inbound connection ipautofw forwards, from WAN to LAN. */
struct pkt {
	int nfproto;
	uint8_t l4;		/* 0: tcp or udp */
	uint16_t lo, hi;	/* destination ports it may have */
	bool dnat;
	bool marked;
};

struct run {
	const struct fwcheck *fc;
	const struct fwcheck_env *env;
	const struct pkt *p;
	bool maybe_accept;
	bool maybe_drop;
	const struct fwcheck_chain *stack[FWCHECK_DEPTH_MAX];
	int depth;
	bool *oom;		/* the check ran out of memory: its result is void */
};

static enum tri tri_and(enum tri a, enum tri b)
{
	return a < b ? a : b;
}

static enum tri tri_not(enum tri a)
{
	return a == YES ? NO : a == NO ? YES : MAYBE;
}

/* Is [PLO, PHI] inside [LO, HI] (YES), outside (NO), or partly? */
static enum tri in_range(uint32_t plo, uint32_t phi, uint32_t lo, uint32_t hi)
{
	if (lo <= plo && phi <= hi)
		return YES;
	if (phi < lo || plo > hi)
		return NO;
	return MAYBE;
}

/* The packet's value of a key as candidate ranges (l4: tcp or udp). */
static size_t pkt_values(const struct pkt *p, enum fwcheck_key k, uint32_t lo[2], uint32_t hi[2])
{
	switch (k) {
	case FWCHECK_KEY_NFPROTO:
		lo[0] = hi[0] = (uint32_t)p->nfproto;
		return 1;
	case FWCHECK_KEY_L4PROTO:
		if (p->l4) {
			lo[0] = hi[0] = p->l4;
			return 1;
		}
		lo[0] = hi[0] = IPPROTO_TCP;
		lo[1] = hi[1] = IPPROTO_UDP;
		return 2;
	case FWCHECK_KEY_DPORT:
		lo[0] = p->lo;
		hi[0] = p->hi;
		return 1;
	case FWCHECK_KEY_CTSTATE:
		lo[0] = hi[0] = NF_CT_STATE_BIT(IP_CT_NEW);
		return 1;
	default:
		return 0;
	}
}

/* Bits of a bitmask key the check knows, and their values. */
static void pkt_bits(const struct run *st, enum fwcheck_key k, uint32_t *known, uint32_t *value)
{
	*known = *value = 0;
	if (k == FWCHECK_KEY_CTSTATUS) {
		*known = IPS_DST_NAT;
		*value = st->p->dnat ? IPS_DST_NAT : 0;
	} else if (k == FWCHECK_KEY_MARK) {
		/* nothing else sets the bits reserved for the pinhole mark */
		*known = st->env->mark_mask;
		*value = st->p->marked ? st->env->mark : 0;
	}
}

static bool names_overlap(const char *a, bool a_prefix, const char *b, bool b_prefix)
{
	size_t la = strlen(a), lb = strlen(b);

	if (!a_prefix && !b_prefix)
		return !strcmp(a, b);
	if (a_prefix && b_prefix)
		return !strncmp(a, b, la < lb ? la : lb);
	if (a_prefix)
		return !strncmp(a, b, la);
	return !strncmp(a, b, lb);
}

static bool list_overlaps(const struct iflist *l, const char *name, bool prefix)
{
	for (size_t i = 0; l && i < l->n; i++) {
		size_t n = strlen(l->names[i]);
		char pat[IFNAME_MAX + 2];
		bool wild = n && l->names[i][n - 1] == '*';

		snprintf(pat, sizeof(pat), "%.*s", (int)(wild ? n - 1 : n), l->names[i]);
		if (names_overlap(pat, wild, name, prefix))
			return true;
	}
	return false;
}

/*
 * Interfaces are taken at their best: a name that one of the packet's
 * possible interfaces may have matches (the administrator's line for that
 * path), and "not NAME" fails only when NAME is the one interface there is.
 */
static enum tri ifname_match(const struct run *st, bool in, const char *name, bool prefix)
{
	const struct iflist *wan = st->env->wan;

	if (in)
		return list_overlaps(wan, name, prefix) ? YES : NO;
	if (st->env->lan)
		return list_overlaps(st->env->lan, name, prefix) ? YES : NO;
	if (!prefix && (!strcmp(name, "lo") || list_overlaps(wan, name, false)))
		return NO;
	return YES;
}

static enum tri ifname_cond(const struct run *st, const struct fwcheck_cond *c)
{
	bool in = c->key == FWCHECK_KEY_IIFNAME;
	const struct iflist *l = in ? st->env->wan : st->env->lan;
	enum tri t = ifname_match(st, in, c->ifname, c->prefix);

	if (c->op == FWCHECK_OP_EQ)
		return t;
	/* != NAME: false only where NAME is the one interface of the packet's side */
	if (l && l->n == 1 && !c->prefix && !strcmp(l->names[0], c->ifname))
		return NO;
	return YES;
}

/* A set element as a range of key values, with what it maps to. */
struct span {
	uint32_t lo, hi;
	bool end;		/* interval sets: closes the range before it (exclusive) */
	enum fwcheck_verdict verdict;
	const char *target;
};

static uint32_t key_max(enum fwcheck_key k)
{
	return k == FWCHECK_KEY_DPORT ? 0xffff : key_len(k) == 1 ? 0xff : 0xffffffff;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (int)y->end - (int)x->end;	/* an end before a start at the same key */
}

/*
 * The set's elements as ranges of KEY values. Returns how many, -EMEDIUMTYPE
 * when they cannot be read as such (other key lengths), or -ENOMEM.
 * Interval sets come as start elements and (exclusive) end elements; a
 * start without an end runs to the end of the key space.
 */
static ssize_t set_spans(const struct fwcheck_set *s, enum fwcheck_key k, struct span **ret)
{
	size_t n = s->n_elems, m = 0, len = key_len(k);
	struct span *v = calloc(n ? n : 1, sizeof(*v)), *out;

	*ret = NULL;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct fwcheck_elem *e = &s->elems[i];

		if (e->len != len) {
			free(v);
			return -EMEDIUMTYPE;
		}
		v[i].lo = key_value(k, e->key);
		v[i].hi = key_value(k, e->key_end);
		v[i].end = s->interval && e->interval_end;
		v[i].verdict = e->verdict;
		v[i].target = e->target;
	}
	if (!s->interval) {
		*ret = v;
		return (ssize_t)n;
	}
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(v);
		return -ENOMEM;
	}
	qsort(v, n, sizeof(*v), cmp_span);
	for (size_t i = 0; i < n; i++) {
		if (v[i].end)
			continue;
		out[m] = v[i];
		if (v[i].hi == v[i].lo) {	/* not a range in one element (key_end) */
			out[m].hi = key_max(k);
			for (size_t j = i + 1; j < n; j++)
				if (v[j].end) {
					out[m].hi = v[j].lo - 1;
					break;
				}
		}
		m++;
	}
	free(v);
	*ret = out;
	return (ssize_t)m;
}

/* Does the packet's KEY, and-ed with MASK, fall in [LO, HI]? */
static enum tri value_in(const struct run *st, enum fwcheck_key k, uint32_t mask, uint32_t lo,
			 uint32_t hi)
{
	uint32_t plo[2], phi[2], known, value;
	size_t n = pkt_values(st->p, k, plo, phi);
	size_t yes = 0, no = 0;

	if (k == FWCHECK_KEY_CTSTATE) {
		value = NF_CT_STATE_BIT(IP_CT_NEW) & mask;
		return lo <= value && value <= hi ? YES : NO;
	}
	if (!n || mask != 0xffffffff) {
		/* bitmasks: decided by the bits the check knows */
		pkt_bits(st, k, &known, &value);
		if (!known || lo != hi)
			return MAYBE;
		if (!(mask & ~known))
			return (value & mask) == lo ? YES : NO;
		return (value & mask & known) != (lo & mask & known) ? NO : MAYBE;
	}
	for (size_t i = 0; i < n; i++) {
		enum tri t = in_range(plo[i], phi[i], lo, hi);

		yes += t == YES;
		no += t == NO;
	}
	return yes == n ? YES : no == n ? NO : MAYBE;
}

static enum tri set_cond(const struct run *st, const struct fwcheck_cond *c)
{
	const struct fwcheck_set *s = &st->fc->sets[c->set];
	enum tri t = NO;
	struct span *v;
	ssize_t n;

	if (!s->has_elems || c->key == FWCHECK_KEY_OTHER)
		return MAYBE;
	if (c->key == FWCHECK_KEY_IIFNAME || c->key == FWCHECK_KEY_OIFNAME) {
		if (s->interval)
			return MAYBE;
		for (size_t i = 0; i < s->n_elems && t != YES; i++) {
			char name[17] = { 0 };

			memcpy(name, s->elems[i].key, s->elems[i].len < 16 ? s->elems[i].len : 16);
			t = ifname_match(st, c->key == FWCHECK_KEY_IIFNAME, name, false);
		}
	} else {
		n = set_spans(s, c->key, &v);
		if (n == -ENOMEM)
			*st->oom = true;
		if (n < 0)
			return MAYBE;
		for (ssize_t i = 0; i < n && t != YES; i++) {
			enum tri u = value_in(st, c->key, c->mask, v[i].lo, v[i].hi);

			if (u > t)
				t = u;
		}
		free(v);
	}
	return c->op == FWCHECK_OP_NOT_IN ? tri_not(t) : t;
}

static enum tri cond_match(const struct run *st, const struct fwcheck_cond *c)
{
	switch (c->op) {
	case FWCHECK_OP_MAYBE:
		return MAYBE;
	case FWCHECK_OP_IN:
	case FWCHECK_OP_NOT_IN:
		return set_cond(st, c);
	default:
		break;
	}
	if (c->key == FWCHECK_KEY_OTHER)
		return MAYBE;
	if (c->key == FWCHECK_KEY_IIFNAME || c->key == FWCHECK_KEY_OIFNAME)
		return ifname_cond(st, c);
	switch (c->op) {
	case FWCHECK_OP_EQ:
		return value_in(st, c->key, c->mask, c->value, c->value);
	case FWCHECK_OP_NEQ:
		return tri_not(value_in(st, c->key, c->mask, c->value, c->value));
	case FWCHECK_OP_GTE:
		return c->mask == 0xffffffff ? value_in(st, c->key, c->mask, c->value, key_max(c->key)) : MAYBE;
	case FWCHECK_OP_LTE:
		return c->mask == 0xffffffff ? value_in(st, c->key, c->mask, 0, c->value) : MAYBE;
	default:
		return MAYBE;
	}
}

static enum res eval_chain(struct run *st, const struct fwcheck_chain *c);

/*
 * One verdict under a condition that holds (YES) or may hold (MAYBE).
 * Returns true when evaluation stops here with *RES.
 */
static bool apply(struct run *st, const struct fwcheck_chain *c, enum tri m,
		  enum fwcheck_verdict v, const char *target, enum res *res)
{
	const struct fwcheck_chain *t;
	enum res r;

	if (m == NO)
		return false;
	switch (v) {
	case FWCHECK_CONTINUE:
	case FWCHECK_VMAP:
		return false;
	case FWCHECK_ACCEPT:
	case FWCHECK_DROP:
	case FWCHECK_UNKNOWN:
		r = v == FWCHECK_ACCEPT ? R_ACCEPT : v == FWCHECK_DROP ? R_DROP : R_UNKNOWN;
		break;
	case FWCHECK_RETURN:
		if (m == YES) {
			*res = R_CONT;
			return true;
		}
		st->maybe_accept = true;	/* a caller may accept what is left */
		return false;
	case FWCHECK_JUMP:
	case FWCHECK_GOTO:
		t = fwcheck_chain_find(st->fc, c->family, c->table, target);
		for (int i = 0; t && i < st->depth; i++)
			if (st->stack[i] == t)
				t = NULL;	/* a loop: the kernel refuses them; unknown here */
		if (!t || st->depth >= FWCHECK_DEPTH_MAX) {
			r = R_UNKNOWN;
			break;
		}
		r = eval_chain(st, t);
		if (r == R_CONT) {
			if (v == FWCHECK_GOTO && m == YES) {
				*res = R_CONT;
				return true;
			}
			return false;
		}
		break;
	default:
		return false;
	}
	if (m == YES) {
		*res = r;
		return true;
	}
	st->maybe_accept |= r == R_ACCEPT || r == R_UNKNOWN;
	st->maybe_drop |= r == R_DROP || r == R_UNKNOWN;
	return false;
}

static bool apply_vmap(struct run *st, const struct fwcheck_chain *c, enum tri m,
		       const struct fwcheck_rule *r, enum res *res)
{
	const struct fwcheck_cond *k = &r->vmap;
	const struct fwcheck_set *s = &st->fc->sets[k->set];
	struct span *v = NULL;
	ssize_t n = -1;
	bool stop = false;

	if (s->has_elems && k->key != FWCHECK_KEY_OTHER && k->key != FWCHECK_KEY_IIFNAME &&
	    k->key != FWCHECK_KEY_OIFNAME)
		n = set_spans(s, k->key, &v);
	if (n < 0) {
		/* what it maps to is unknown, or when: every verdict may apply */
		for (size_t i = 0; i < s->n_elems && !stop; i++)
			stop = apply(st, c, tri_and(m, MAYBE), s->elems[i].verdict, s->elems[i].target, res);
		if (!s->has_elems)
			st->maybe_accept = st->maybe_drop = true;
		return stop;
	}
	for (ssize_t i = 0; i < n && !stop; i++)
		stop = apply(st, c, tri_and(m, value_in(st, k->key, k->mask, v[i].lo, v[i].hi)),
			     v[i].verdict, v[i].target, res);
	free(v);
	return stop;
}

static enum res eval_chain(struct run *st, const struct fwcheck_chain *c)
{
	enum res res = R_CONT;

	st->stack[st->depth++] = c;
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct fwcheck_rule *r = &c->rules[i];
		enum tri m = YES;
		bool stop;

		for (size_t k = 0; k < r->n_conds && m != NO; k++)
			m = tri_and(m, cond_match(st, &r->conds[k]));
		if (r->verdict == FWCHECK_VMAP)
			stop = apply_vmap(st, c, m, r, &res);
		else
			stop = apply(st, c, m, r->verdict, r->target, &res);
		if (stop)
			break;
	}
	st->depth--;
	return res;
}

/* The fate of P in base chain C; *MAYBE_ACCEPT: an accept may have applied. */
static enum res eval_base(const struct fwcheck *fc, const struct fwcheck_env *env,
			  const struct fwcheck_chain *c, const struct pkt *p, bool *maybe_accept,
			  bool *oom)
{
	struct run st = { .fc = fc, .env = env, .p = p, .oom = oom };
	enum res r = eval_chain(&st, c);

	if (r == R_CONT)
		r = c->policy_drop ? R_DROP : R_ACCEPT;
	*maybe_accept = st.maybe_accept || r == R_UNKNOWN;
	return r;
}

/* ---- the check ---------------------------------------------------------- */

static bool checked_chain(const struct fwcheck_chain *c, const struct fwcheck_env *env)
{
	if (!c->base || c->hook != NF_INET_FORWARD)
		return false;
	return !(c->family == NFPROTO_INET && env->own_table && !strcmp(c->table, env->own_table));
}

struct warnings {
	struct fwcheck_warning *v;
	size_t n;
	bool oom;
};

static struct fwcheck_warning *warn(struct warnings *w, const struct fwcheck_chain *c,
				    enum fwcheck_warning_kind kind)
{
	struct fwcheck_warning *v;

	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].kind == kind && w->v[i].family == c->family &&
		    !strcmp(w->v[i].table, c->table) && !strcmp(w->v[i].chain, c->name)) {
			w->v[i].more++;
			return NULL;
		}
	v = realloc(w->v, (w->n + 1) * sizeof(*v));
	if (!v) {
		w->oom = true;
		return NULL;
	}
	w->v = v;
	v = &w->v[w->n++];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->family = c->family;
	copy_name(v->table, c->table);
	copy_name(v->chain, c->name);
	v->prio = c->prio;
	return v;
}

static void note(struct fwcheck_warning *v, const struct rule *r, const struct pkt *p)
{
	if (!v)
		return;
	v->rule = r ? r->name : NULL;
	v->proto = p->l4;
	v->lo = p->lo;
	v->hi = p->hi;
}

/* A port of PROTO that no rule forwards (for either family), or 0. */
static uint16_t free_port(const struct fwcheck_env *env, uint8_t proto)
{
	for (uint32_t port = 1; port <= 65535; port++) {
		bool used = false;

		for (size_t i = 0; i < env->n_rules && !used; i++) {
			const struct rule *r = env->rules[i];

			for (size_t k = 0; k < r->n_forwards && !used; k++)
				used = r->forwards[k].proto == proto && r->forwards[k].lo <= port &&
				       port <= r->forwards[k].hi;
		}
		if (!used)
			return (uint16_t)port;
	}
	return 0;
}

static bool rule_has(const struct rule *r, int af)
{
	if (r->is_static)
		return r->to_af == af;
	return r->family & (af == AF_INET ? RULE_FAMILY_IPV4 : RULE_FAMILY_IPV6);
}

static void check_chain(const struct fwcheck *fc, const struct fwcheck_env *env,
			const struct fwcheck_chain *c, struct warnings *w)
{
	static const struct rule generic = { .family = RULE_FAMILY_BOTH };
	size_t n = env->n_rules ? env->n_rules : 1;

	for (int v6 = 0; v6 <= 1; v6++) {
		int nfproto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;

		if (c->family != NFPROTO_INET && c->family != nfproto)
			continue;
		for (size_t i = 0; i < n; i++) {
			const struct rule *r = env->n_rules ? env->rules[i] : &generic;
			struct portrange any = { .lo = 1, .hi = 65535 };
			size_t nf = env->n_rules ? r->n_forwards : 1;

			if (!rule_has(r, v6 ? AF_INET6 : AF_INET))
				continue;
			for (size_t k = 0; k < nf; k++) {
				const struct portrange *f = env->n_rules ? &r->forwards[k] : &any;
				struct pkt p = { .nfproto = nfproto, .l4 = f->proto, .lo = f->lo,
						 .hi = f->hi, .dnat = !v6, .marked = v6 };
				bool maybe;
				const struct rule *named = env->n_rules ? r : NULL;

				if (eval_base(fc, env, c, &p, &maybe, &w->oom) == R_DROP && !maybe)
					note(warn(w, c, v6 ? FWCHECK_DROPS_IPV6 : FWCHECK_DROPS_IPV4),
					     named, &p);
				if (!v6 || env->guard || !named)
					continue;
				/* open to every host for sure, while other ports are dropped */
				p.marked = false;
				if (eval_base(fc, env, c, &p, &maybe, &w->oom) != R_ACCEPT || maybe)
					continue;
				{
					struct pkt q = p;

					q.lo = q.hi = free_port(env, f->proto);
					if (q.lo && eval_base(fc, env, c, &q, &maybe, &w->oom) == R_DROP)
						note(warn(w, c, FWCHECK_OPEN_IPV6), named, &p);
				}
			}
		}
	}
}

int fwcheck_run(const struct fwcheck *fc, const struct fwcheck_env *env,
		struct fwcheck_warning **ret)
{
	struct warnings w = { 0 };

	*ret = NULL;
	for (size_t i = 0; i < fc->n_chains; i++) {
		const struct fwcheck_chain *c = &fc->chains[i];

		if (!checked_chain(c, env))
			continue;
		if (c->prio == INT32_MAX || c->prio == INT32_MIN)
			warn(&w, c, FWCHECK_SAME_PRIO);
		check_chain(fc, env, c, &w);
	}
	if (w.oom || fc->oom) {
		free(w.v);
		return -ENOMEM;
	}
	*ret = w.v;
	return (int)w.n;
}

static const char *family_name(int f)
{
	return f == NFPROTO_INET ? "inet" : f == NFPROTO_IPV4 ? "ip" : "ip6";
}

int fwcheck_warning_format(const struct fwcheck_warning *w, const struct fwcheck_env *env,
			   char *buf, size_t size)
{
	char what[96], more[32] = "";

	if (w->more)
		snprintf(more, sizeof(more), ", and %u more", w->more);
	if (w->rule && w->lo == w->hi)
		snprintf(what, sizeof(what), "rule %s, %u/%s%s", w->rule, w->lo,
			 w->proto == IPPROTO_TCP ? "tcp" : "udp", more);
	else if (w->rule)
		snprintf(what, sizeof(what), "rule %s, %u-%u/%s%s", w->rule, w->lo, w->hi,
			 w->proto == IPPROTO_TCP ? "tcp" : "udp", more);
	else
		snprintf(what, sizeof(what), "any forward port");
	switch (w->kind) {
	case FWCHECK_DROPS_IPV4:
		return snprintf(buf, size, "table %s %s, chain %s drops IPv4 forwardings (%s): "
				"accept them with 'ct status dnat accept' before the drop",
				family_name(w->family), w->table, w->chain, what);
	case FWCHECK_DROPS_IPV6:
		return snprintf(buf, size, "table %s %s, chain %s drops IPv6 pinholes (%s): accept "
				"them with 'meta mark and 0x%x == 0x%x accept' before the drop",
				family_name(w->family), w->table, w->chain, what, env->mark_mask,
				env->mark);
	case FWCHECK_OPEN_IPV6:
		return snprintf(buf, size, "table %s %s, chain %s lets new IPv6 connections to the "
				"forward ports (%s) through to every LAN host, not only to "
				"pinholes: set 'pinhole-guard on'",
				family_name(w->family), w->table, w->chain, what);
	case FWCHECK_SAME_PRIO:
		return snprintf(buf, size, "table %s %s, chain %s has priority %d, like ipautofw's "
				"%s chain: which of the two runs first depends on which was "
				"loaded last", family_name(w->family), w->table, w->chain, w->prio,
				w->prio == INT32_MAX ? "trigger" : "pinhole");
	}
	return snprintf(buf, size, "?");
}
