/*
 * nft object builder; see nftobj.h. The rule expressions are transcribed
 * from `nft --debug=netlink` of the equivalent ruleset:
 *
 *   chain trigger (filter forward, priority NFTOBJ_PRIO_LAST):
 *     ct state new oifname @wanif iifname != @wanif
 *       meta l4proto . th dport @triggers meta nfproto ipv4 jump trigger4
 *     ... meta nfproto ipv6 jump trigger6
 *   chain trigger4 (trigger6 alike, keyed by ip6 saddr & ffff:ffff:ffff:ffff::):
 *     fib saddr . iif oif missing goto trig_forged
 *     fib saddr type != unicast goto trig_forged
 *     meta nfproto ipv4 update @rate4 { ip saddr limit rate over R/second burst B packets }
 *       counter name "limited" return
 *     goto trig_log
 *   chain trig_log: log group G snaplen 128 queue-threshold 1
 *   chain trig_forged: counter name "forged"
 *     limit rate 10/second log prefix "ipautofw:forged" group G snaplen 128 queue-threshold 1
 *   chain prerouting (nat prerouting, priority dstnat + 10):
 *     iifname @wanif fib daddr type local meta nfproto ipv4
 *       dnat ip to meta l4proto . th dport map @fwd4
 *     ... dnat ip to ip saddr . meta l4proto . th dport map @fwd4p
 *   chain pinhole (filter forward, priority NFTOBJ_PRIO_FIRST):
 *     iifname @wanif ct state new meta nfproto ipv6
 *       ip6 daddr . meta l4proto . th dport @pin6 meta mark set mark and ~M or V
 *     ... ip6 daddr . ip6 saddr . meta l4proto . th dport @pin6p ...
 *     iifname @wanif ct state new meta nfproto ipv6 meta mark and M != V
 *       meta l4proto . th dport @guard6 drop
 * (guard6 is empty unless `pinhole-guard on`.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftobj.h"
#include "util.h"

#define ELEMS_PER_MSG 256

/* nftables' datatype ids (include/datatype.h), 6 bits per concatenated field */
enum {
	TYPE_IPADDR = 7,
	TYPE_IP6ADDR = 8,
	TYPE_INET_PROTOCOL = 12,
	TYPE_INET_SERVICE = 13,
	TYPE_IFNAME = 41,
};

struct setdef {
	const char *name;
	bool dynamic;		/* updated from the packet path */
	uint32_t timeout_ms;	/* default element timeout (dynamic sets) */
	uint32_t key_type;
	uint32_t key_len;
	uint8_t fields[4];	/* field lengths in bytes; 0 ends (or a plain key) */
	bool map;
	bool timeout;
	uint32_t data_type;
	uint32_t data_len;
};


static const struct setdef sets[NFTOBJ__SETS] = {
	[NFTOBJ_WANIF] = { .name = "wanif", .key_type = TYPE_IFNAME, .key_len = 16 },
	[NFTOBJ_TRIGGERS] = { .name = "triggers", .key_type = (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			      .key_len = 8, .fields = { 1, 2 } },
	[NFTOBJ_FWD4] = { .name = "fwd4", .key_type = (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			  .key_len = 8, .fields = { 1, 2 }, .map = true, .timeout = true,
			  .data_type = TYPE_IPADDR, .data_len = 4 },
	[NFTOBJ_FWD4P] = { .name = "fwd4p",
			   .key_type = (TYPE_IPADDR << 12) | (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			   .key_len = 12, .fields = { 4, 1, 2 }, .map = true, .timeout = true,
			   .data_type = TYPE_IPADDR, .data_len = 4 },
	[NFTOBJ_PIN6] = { .name = "pin6",
			  .key_type = (TYPE_IP6ADDR << 12) | (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			  .key_len = 24, .fields = { 16, 1, 2 }, .timeout = true },
	[NFTOBJ_PIN6P] = { .name = "pin6p",
			   .key_type = (TYPE_IP6ADDR << 18) | (TYPE_IP6ADDR << 12) |
				       (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			   .key_len = 40, .fields = { 16, 16, 1, 2 }, .timeout = true },
	[NFTOBJ_REDIR4] = { .name = "redir4", .key_type = (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			    .key_len = 8, .fields = { 1, 2 }, .map = true,
			    .data_type = (TYPE_IPADDR << 6) | TYPE_INET_SERVICE, .data_len = 8 },
	[NFTOBJ_GUARD6] = { .name = "guard6", .key_type = (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			    .key_len = 8, .fields = { 1, 2 } },
	[NFTOBJ_RATE4] = { .name = "rate4", .dynamic = true, .timeout_ms = 10000,
			   .key_type = TYPE_IPADDR, .key_len = 4 },
	[NFTOBJ_RATE6] = { .name = "rate6", .dynamic = true, .timeout_ms = 10000,
			   .key_type = TYPE_IP6ADDR, .key_len = 16 },
};

static const char *const counters[NFTOBJ__COUNTERS] = {
	[NFTOBJ_CTR_FORGED] = "forged",
	[NFTOBJ_CTR_LIMITED] = "limited",
};

const char *nftobj_counter_name(enum nftobj_counter c)
{
	return counters[c];
}

bool nftobj_set_is_fwd(enum nftobj_set s)
{
	return s == NFTOBJ_FWD4 || s == NFTOBJ_FWD4P || s == NFTOBJ_PIN6 || s == NFTOBJ_PIN6P;
}

const char *nftobj_set_name(enum nftobj_set s)
{
	return sets[s].name;
}

bool nftobj_set_is_dynamic(enum nftobj_set s)
{
	return sets[s].dynamic;
}

static uint16_t hdr_flags(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_NEWSET:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_NEWOBJ:
		return NLM_F_CREATE | NLM_F_ACK;
	case NFT_MSG_NEWRULE:
		return NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK;
	}
	return NLM_F_ACK;
}

static struct nlmsghdr *begin_msg(struct nlbatch *b, uint16_t type)
{
	char *p = nlbatch_reserve(b);

	if (!p)
		return NULL;
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, hdr_flags(type), nlbatch_next_seq(b));
}

void nftobj_table(struct nlbatch *b, uint16_t msg_type, uint32_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t) {
		b->oom = 1;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFTOBJ_TABLE);
	if (msg_type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, flags);
	nlh = begin_msg(b, msg_type);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		nlbatch_commit(b, nlh, msg_type == NFT_MSG_NEWTABLE ? "create table" : "delete table");
	}
	nftnl_table_free(t);
}

static int add_set(struct nlbatch *b, enum nftobj_set id, uint32_t size)
{
	const struct setdef *d = &sets[id];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	uint32_t flags = d->dynamic ? NFT_SET_TIMEOUT | NFT_SET_EVAL : NFT_SET_INTERVAL;
	size_t nfields = 0;
	char what[40];

	if (!s)
		return -ENOMEM;
	while (nfields < 4 && d->fields[nfields])
		nfields++;
	if (nfields)
		flags |= NFT_SET_CONCAT;
	if (d->dynamic) {
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, d->timeout_ms);
		size = NFTOBJ_RATE_SET_SIZE;
	}
	if (size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	if (d->map)
		flags |= NFT_SET_MAP;
	if (d->timeout)
		flags |= NFT_SET_TIMEOUT;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id + 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	if (nfields)
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, d->fields, nfields);
	if (d->map) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, d->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, d->data_len);
	}
	nlh = begin_msg(b, NFT_MSG_NEWSET);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		snprintf(what, sizeof(what), "create set %s", d->name);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_set_free(s);
	return b->oom ? -ENOMEM : 0;
}

int nftobj_resize_fwd_sets(struct nlbatch *b, uint32_t size)
{
	int r = 0;

	for (int s = 0; s < NFTOBJ__SETS && r == 0; s++)
		if (nftobj_set_is_fwd(s))
			r = add_set(b, s, size);
	return r;
}

static int add_counter(struct nlbatch *b, enum nftobj_counter id)
{
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct nlmsghdr *nlh;
	char what[40];

	if (!o)
		return -ENOMEM;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NFTOBJ_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, counters[id]);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nlh = begin_msg(b, NFT_MSG_NEWOBJ);
	if (nlh) {
		nftnl_obj_nlmsg_build_payload(nlh, o);
		snprintf(what, sizeof(what), "create counter %s", counters[id]);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_obj_free(o);
	return b->oom ? -ENOMEM : 0;
}

/* A base chain if TYPE is given, else a regular chain (a jump target). */
static int add_chain(struct nlbatch *b, const char *name, const char *type, uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	char what[40];

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFTOBJ_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (type) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = begin_msg(b, NFT_MSG_NEWCHAIN);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		snprintf(what, sizeof(what), "create chain %s", name);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_chain_free(c);
	return b->oom ? -ENOMEM : 0;
}

/* ---- expressions -------------------------------------------------------- */

static void e_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *e_new(const char *name)
{
	return nftnl_expr_alloc(name);
}

static void e_meta_load(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = e_new("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	e_add(r, e);
}

static void e_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = e_new("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
	e_add(r, e);
}

static void e_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op, const void *data, size_t len)
{
	struct nftnl_expr *e = e_new("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	e_add(r, e);
}

static void e_bitwise(struct nftnl_rule *r, uint32_t reg, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = e_new("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, 4);
	e_add(r, e);
}

static void e_lookup(struct nftnl_rule *r, uint32_t sreg, enum nftobj_set s, bool inv, int dreg)
{
	struct nftnl_expr *e = e_new("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, sets[s].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, s + 1);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
	e_add(r, e);
}

static void e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = e_new("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	e_add(r, e);
}

/* meta l4proto . th dport into PROTO_REG and the next 32-bit register */
static void e_proto_port(struct nftnl_rule *r, uint32_t proto_reg, uint32_t port_reg)
{
	struct nftnl_expr *e;

	e_meta_load(r, NFT_META_L4PROTO, proto_reg);
	e = e_new("byteorder");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, proto_reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, proto_reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
	e_add(r, e);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, port_reg);
}

static void e_ct_new(struct nftnl_rule *r)
{
	struct nftnl_expr *e = e_new("ct");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e_add(r, e);
	e_bitwise(r, NFT_REG_1, NF_CT_STATE_BIT(IP_CT_NEW), 0);
	e_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &zero, 4);
}

static void e_nfproto(struct nftnl_rule *r, uint8_t proto)
{
	e_meta_load(r, NFT_META_NFPROTO, NFT_REG_1);
	e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &proto, 1);
}

static void e_wan_in(struct nftnl_rule *r)
{
	e_meta_load(r, NFT_META_IIFNAME, NFT_REG_1);
	e_lookup(r, NFT_REG_1, NFTOBJ_WANIF, false, -1);
}

static void e_local_daddr(struct nftnl_rule *r)
{
	struct nftnl_expr *e = e_new("fib");
	uint32_t local = RTN_LOCAL;

	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_add(r, e);
	e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &local, 4);
}

static void e_dnat4(struct nftnl_rule *r, bool with_port)
{
	struct nftnl_expr *e = e_new("nat");

	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	if (with_port)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	e_add(r, e);
}

static void e_set_mark(struct nftnl_rule *r, uint32_t mark, uint32_t mask)
{
	e_meta_load(r, NFT_META_MARK, NFT_REG_1);
	e_bitwise(r, NFT_REG_1, ~mask, mark);
	e_meta_set(r, NFT_META_MARK, NFT_REG_1);
}

static int commit_rule(struct nlbatch *b, struct nftnl_rule *r, const char *what)
{
	struct nlmsghdr *nlh = begin_msg(b, NFT_MSG_NEWRULE);

	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_rule_free(r);
	return b->oom ? -ENOMEM : 0;
}

static struct nftnl_rule *new_rule(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFTOBJ_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

static void e_dynset_update(struct nftnl_rule *r, enum nftobj_set s, struct nftnl_expr *inner)
{
	struct nftnl_expr *e = e_new("dynset");

	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, sets[s].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, s + 1);
	nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, inner, 0);
	e_add(r, e);
}

static void e_verdict(struct nftnl_rule *r, int code, const char *chain)
{
	struct nftnl_expr *e = e_new("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, code);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	e_add(r, e);
}

static void e_counter(struct nftnl_rule *r, enum nftobj_counter c)
{
	struct nftnl_expr *e = e_new("objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, counters[c]);
	e_add(r, e);
}

static void e_log(struct nftnl_rule *r, uint16_t group, const char *prefix)
{
	struct nftnl_expr *e = e_new("log");

	if (prefix)
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, 128);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, 1);
	e_add(r, e);
}

static struct nftnl_expr *limit_new(uint64_t rate, uint32_t burst, bool over)
{
	struct nftnl_expr *e = e_new("limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, over ? NFT_LIMIT_F_INV : 0);
	return e;
}

/* The source address, its first PLEN bits kept, into register 1. */
static void e_saddr_prefix(struct nftnl_rule *r, bool v6, unsigned plen)
{
	uint8_t mask[16] = { 0 }, zero[16] = { 0 };
	unsigned len = v6 ? 16 : 4;
	struct nftnl_expr *e;

	e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, len, NFT_REG_1);
	if (plen == len * 8)
		return;
	for (unsigned i = 0; i < plen; i++)
		mask[i / 8] |= 0x80 >> (i % 8);
	e = e_new("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	e_add(r, e);
}

/*
 * The chain a trigger of one family goes through (see the top of this
 * file). The kernel's half of the source check comes first: the route
 * back must leave through the interface the trigger came in on, and the
 * source must be unicast (not the router's own, not a broadcast or
 * anycast address). Then the log rate limit per host. When its set is
 * full the update fails, the rule does not match and the trigger is
 * logged: a full limiter never stops anyone's triggers. (A second,
 * coarser limiter for that case would need to tell "full" from "under
 * the limit", and on 6.18 neither a lookup nor a plain update finds the
 * elements that an update with a limit created.)
 */
static int rules_trigger_family(struct nlbatch *b, bool v6)
{
	const char *chain = v6 ? "trigger6" : "trigger4";
	uint32_t zero = 0, unicast = RTN_UNICAST;
	struct nftnl_rule *r = new_rule(chain);
	struct nftnl_expr *e;
	char what[48];
	int ret;

	if (!r)
		return -ENOMEM;
	e = e_new("fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR | NFTA_FIB_F_IIF | NFTA_FIB_F_PRESENT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_OIF);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_add(r, e);
	e_cmp(r, NFT_REG_1, NFT_CMP_EQ, &zero, 4);
	e_verdict(r, NFT_GOTO, "trig_forged");
	snprintf(what, sizeof(what), "add %s rule (reverse path)", chain);
	ret = commit_rule(b, r, what);
	if (ret < 0 || !(r = new_rule(chain)))
		return ret < 0 ? ret : -ENOMEM;

	e = e_new("fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_add(r, e);
	e_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &unicast, 4);
	e_verdict(r, NFT_GOTO, "trig_forged");
	snprintf(what, sizeof(what), "add %s rule (address type)", chain);
	ret = commit_rule(b, r, what);
	if (ret < 0 || !(r = new_rule(chain)))
		return ret < 0 ? ret : -ENOMEM;

	e_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	e_saddr_prefix(r, v6, v6 ? 64 : 32);
	e_dynset_update(r, v6 ? NFTOBJ_RATE6 : NFTOBJ_RATE4, limit_new(NFTOBJ_RATE, NFTOBJ_BURST, true));
	e_counter(r, NFTOBJ_CTR_LIMITED);
	e_verdict(r, NFT_RETURN, NULL);
	snprintf(what, sizeof(what), "add %s rule (rate limit)", chain);
	ret = commit_rule(b, r, what);
	if (ret < 0 || !(r = new_rule(chain)))
		return ret < 0 ? ret : -ENOMEM;

	e_verdict(r, NFT_GOTO, "trig_log");
	snprintf(what, sizeof(what), "add %s rule (log)", chain);
	return commit_rule(b, r, what);
}

/*
 * ct state new oifname @wanif iifname != @wanif meta l4proto . th dport @triggers
 *   meta nfproto F jump triggerF
 * (a packet that came in on a WAN interface never triggers)
 */
static int rule_trigger(struct nlbatch *b, bool v6)
{
	struct nftnl_rule *r = new_rule("trigger");

	if (!r)
		return -ENOMEM;
	e_ct_new(r);
	e_meta_load(r, NFT_META_OIFNAME, NFT_REG_1);
	e_lookup(r, NFT_REG_1, NFTOBJ_WANIF, false, -1);
	e_meta_load(r, NFT_META_IIFNAME, NFT_REG_1);
	e_lookup(r, NFT_REG_1, NFTOBJ_WANIF, true, -1);
	e_proto_port(r, NFT_REG_1, NFT_REG32_01);
	e_lookup(r, NFT_REG_1, NFTOBJ_TRIGGERS, false, -1);
	e_nfproto(r, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	e_verdict(r, NFT_JUMP, v6 ? "trigger6" : "trigger4");
	return commit_rule(b, r, v6 ? "add trigger rule (ipv6)" : "add trigger rule (ipv4)");
}

/* The end of a genuine trigger's way, and of a forged one's (counted, its log rate-limited). */
static int rules_log(struct nlbatch *b, const struct nftobj_params *p)
{
	struct nftnl_rule *r = new_rule("trig_log");
	int ret;

	if (!r)
		return -ENOMEM;
	e_log(r, p->nflog_group, NULL);
	ret = commit_rule(b, r, "add log rule");
	if (ret < 0)
		return ret;
	r = new_rule("trig_forged");
	if (!r)
		return -ENOMEM;
	e_counter(r, NFTOBJ_CTR_FORGED);
	e_add(r, limit_new(NFTOBJ_FORGED_LOG_RATE, NFTOBJ_FORGED_LOG_RATE, false));
	e_log(r, p->nflog_group, NFTOBJ_FORGED_PREFIX);
	return commit_rule(b, r, "add forged rule");
}

static int rule_dnat(struct nlbatch *b, enum nftobj_set map)
{
	struct nftnl_rule *r = new_rule("prerouting");
	char what[40];

	if (!r)
		return -ENOMEM;
	e_wan_in(r);
	e_local_daddr(r);
	e_nfproto(r, NFPROTO_IPV4);
	if (map == NFTOBJ_FWD4P) {
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
		e_proto_port(r, NFT_REG32_01, NFT_REG32_02);
	} else {
		e_proto_port(r, NFT_REG_1, NFT_REG32_01);
	}
	e_lookup(r, NFT_REG_1, map, false, NFT_REG_1);
	e_dnat4(r, map == NFTOBJ_REDIR4);
	snprintf(what, sizeof(what), "add dnat rule (%s)", sets[map].name);
	return commit_rule(b, r, what);
}

static int rule_pinhole(struct nlbatch *b, const struct nftobj_params *p, bool peer)
{
	struct nftnl_rule *r = new_rule("pinhole");

	if (!r)
		return -ENOMEM;
	e_wan_in(r);
	e_ct_new(r);
	e_nfproto(r, NFPROTO_IPV6);
	e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_1);
	if (peer) {
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_2);
		e_proto_port(r, NFT_REG32_00 + 8, NFT_REG32_00 + 9);
	} else {
		e_proto_port(r, NFT_REG_2, NFT_REG32_00 + 5);
	}
	e_lookup(r, NFT_REG_1, peer ? NFTOBJ_PIN6P : NFTOBJ_PIN6, false, -1);
	e_set_mark(r, p->mark, p->mark_mask);
	return commit_rule(b, r, peer ? "add pinhole rule (peer)" : "add pinhole rule");
}

/*
 * pinhole-guard: a new inbound IPv6 connection from WAN to a guarded port
 * that no pinhole rule marked is dropped. A drop is final in every table,
 * so a firewall that opens the whole port range to the LAN (firewalld
 * policies cannot match the mark) still opens only the pinholes.
 */
static int rule_guard(struct nlbatch *b, const struct nftobj_params *p)
{
	struct nftnl_rule *r = new_rule("pinhole");
	struct nftnl_expr *e;
	uint32_t mark = p->mark;

	if (!r)
		return -ENOMEM;
	e_wan_in(r);
	e_ct_new(r);
	e_nfproto(r, NFPROTO_IPV6);
	e_meta_load(r, NFT_META_MARK, NFT_REG_1);
	e_bitwise(r, NFT_REG_1, p->mark_mask, 0);
	e_cmp(r, NFT_REG_1, NFT_CMP_NEQ, &mark, 4);
	e_proto_port(r, NFT_REG_1, NFT_REG32_01);
	e_lookup(r, NFT_REG_1, NFTOBJ_GUARD6, false, -1);
	e = e_new("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	e_add(r, e);
	return commit_rule(b, r, "add pinhole-guard rule");
}

int nftobj_skeleton(struct nlbatch *b, const struct nftobj_params *p)
{
	static const char *const regular[] = { "trigger4", "trigger6", "trig_log", "trig_forged" };
	int r = 0;

	for (int s = 0; s < NFTOBJ__SETS && r == 0; s++)
		r = add_set(b, s, nftobj_set_is_fwd(s) ? p->fwd_set_size : 0);
	for (int c = 0; c < NFTOBJ__COUNTERS && r == 0; c++)
		r = add_counter(b, c);
	if (r == 0)
		r = add_chain(b, "trigger", "filter", NF_INET_FORWARD, NFTOBJ_PRIO_LAST);
	for (size_t i = 0; i < ARRAY_SIZE(regular) && r == 0; i++)
		r = add_chain(b, regular[i], NULL, 0, 0);
	if (r == 0)
		r = add_chain(b, "prerouting", "nat", NF_INET_PRE_ROUTING, -90);
	if (r == 0)
		r = add_chain(b, "pinhole", "filter", NF_INET_FORWARD, NFTOBJ_PRIO_FIRST);
	if (r == 0)
		r = rule_trigger(b, false);
	if (r == 0)
		r = rule_trigger(b, true);
	if (r == 0)
		r = rules_trigger_family(b, false);
	if (r == 0)
		r = rules_trigger_family(b, true);
	if (r == 0)
		r = rules_log(b, p);
	if (r == 0)
		r = rule_dnat(b, NFTOBJ_FWD4);
	if (r == 0)
		r = rule_dnat(b, NFTOBJ_FWD4P);
	if (r == 0)
		r = rule_dnat(b, NFTOBJ_REDIR4);
	if (r == 0)
		r = rule_pinhole(b, p, false);
	if (r == 0)
		r = rule_pinhole(b, p, true);
	if (r == 0)
		r = rule_guard(b, p);
	return r;
}

/* ---- elements ----------------------------------------------------------- */

static int elems_msg(struct nlbatch *b, uint16_t msg_type, enum nftobj_set id,
		     const struct nftobj_elem *e, size_t n)
{
	const struct setdef *d = &sets[id];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	char what[40];

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set_elem *el = nftnl_set_elem_alloc();

		if (!el) {
			nftnl_set_free(s);
			return -ENOMEM;
		}
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e[i].key, d->key_len);
		if (e[i].has_key_end)
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, e[i].key_end, d->key_len);
		if (e[i].interval_end)
			nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
		if (msg_type == NFT_MSG_NEWSETELEM) {
			if (e[i].has_data)
				nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e[i].data, d->data_len);
			if (e[i].timeout_ms)
				nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_TIMEOUT, e[i].timeout_ms);
			if (e[i].expiration_ms)
				nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_EXPIRATION, e[i].expiration_ms);
			if (e[i].owner)
				nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, e[i].owner,
						   strlen(e[i].owner));
		}
		nftnl_set_elem_add(s, el);
	}
	nlh = begin_msg(b, msg_type);
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		if (n)
			snprintf(what, sizeof(what), "%s %zu in %s",
				 msg_type == NFT_MSG_NEWSETELEM ? "add" : "delete", n, d->name);
		else
			snprintf(what, sizeof(what), "flush %s", d->name);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_set_free(s);
	return b->oom ? -ENOMEM : 0;
}

int nftobj_elems(struct nlbatch *b, uint16_t msg_type, enum nftobj_set s,
		 const struct nftobj_elem *e, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = n - i < ELEMS_PER_MSG ? n - i : ELEMS_PER_MSG;
		int r;

		/* never split a start/end pair of a plain interval set */
		if (i + k < n && e[i + k].interval_end)
			k--;
		r = elems_msg(b, msg_type, s, e + i, k);
		if (r < 0)
			return r;
		i += k;
	}
	return 0;
}

int nftobj_flush_set(struct nlbatch *b, enum nftobj_set s)
{
	return elems_msg(b, NFT_MSG_DELSETELEM, s, NULL, 0);
}

static size_t put_field(uint8_t *key, size_t off, const void *p, size_t len)
{
	memcpy(key + off, p, len);
	return off + ((len + 3) & ~3u);
}

static size_t put_proto_port(uint8_t *key, size_t off, uint8_t proto, uint16_t port)
{
	uint16_t be = htons(port);

	off = put_field(key, off, &proto, 1);
	return put_field(key, off, &be, 2);
}

enum nftobj_set nftobj_fwd_set(const struct fwd *f)
{
	if (f->rule->to_port)
		return NFTOBJ_REDIR4;
	if (f->af == AF_INET)
		return f->rule->peer ? NFTOBJ_FWD4P : NFTOBJ_FWD4;
	return f->rule->peer ? NFTOBJ_PIN6P : NFTOBJ_PIN6;
}

size_t nftobj_fwd_elems(const struct fwd *f, uint64_t expiration_ms, struct nftobj_elem *out,
			enum nftobj_set *ret_set)
{
	const struct rule *r = f->rule;
	enum nftobj_set s = nftobj_fwd_set(f);
	size_t n = 0;

	*ret_set = s;
	for (size_t i = 0; i < r->n_forwards; i++) {
		const struct portrange *p = &r->forwards[i];
		struct nftobj_elem *e = &out[n++];
		size_t off = 0;

		memset(e, 0, sizeof(*e));
		e->owner = r->name;
		switch (s) {
		case NFTOBJ_FWD4P:
			off = put_field(e->key, off, &f->peer.v4, 4);
			break;
		case NFTOBJ_PIN6:
			off = put_field(e->key, off, &f->host.v6, 16);
			break;
		case NFTOBJ_PIN6P:
			off = put_field(e->key, off, &f->host.v6, 16);
			off = put_field(e->key, off, &f->peer.v6, 16);
			break;
		default:
			break;
		}
		memcpy(e->key_end, e->key, off);
		put_proto_port(e->key, off, p->proto, p->lo);
		put_proto_port(e->key_end, off, p->proto, p->hi);
		e->has_key_end = true;
		if (f->af == AF_INET) {
			memcpy(e->data, &f->host.v4, 4);
			e->has_data = true;
		}
		if (r->to_port) {
			uint16_t be = htons(r->to_port);

			memcpy(e->data + 4, &be, 2);
		}
		/*
		 * A refresh of an existing element takes effect only with an
		 * explicit expiration (measured on 6.18: timeout alone leaves
		 * the old expiry running), so always send both.
		 */
		if (!r->is_static) {
			e->timeout_ms = (uint64_t)r->timeout_s * 1000;
			if (expiration_ms && expiration_ms <= e->timeout_ms)
				e->expiration_ms = expiration_ms;
		}
	}
	return n;
}

static int get_proto_port(const uint8_t *k, uint8_t *proto, uint16_t *port)
{
	if (k[1] || k[2] || k[3] || k[6] || k[7])
		return -EINVAL;
	*proto = k[0];
	*port = (k[4] << 8) | k[5];
	return 0;
}

int nftobj_decode_fwd(enum nftobj_set s, const void *key, size_t key_len, const void *key_end,
		      size_t key_end_len, const void *data, size_t data_len,
		      struct nftobj_fwd_elem *ret)
{
	const uint8_t *k = key, *ke = key_end;
	size_t off = 0;
	uint8_t p2;

	memset(ret, 0, sizeof(*ret));
	if (s != NFTOBJ_FWD4 && s != NFTOBJ_FWD4P && s != NFTOBJ_PIN6 && s != NFTOBJ_PIN6P)
		return -EINVAL;
	if (!key || !key_end || key_len != sets[s].key_len || key_end_len != key_len)
		return -EINVAL;
	ret->af = (s == NFTOBJ_FWD4 || s == NFTOBJ_FWD4P) ? AF_INET : AF_INET6;
	if (ret->af == AF_INET) {
		if (!data || data_len != 4)
			return -EINVAL;
		memcpy(&ret->host.v4, data, 4);
	}
	switch (s) {
	case NFTOBJ_FWD4P:
		memcpy(&ret->peer.v4, k, 4);
		ret->has_peer = true;
		off = 4;
		break;
	case NFTOBJ_PIN6:
		memcpy(&ret->host.v6, k, 16);
		off = 16;
		break;
	case NFTOBJ_PIN6P:
		memcpy(&ret->host.v6, k, 16);
		memcpy(&ret->peer.v6, k + 16, 16);
		ret->has_peer = true;
		off = 32;
		break;
	default:
		break;
	}
	if (memcmp(k, ke, off))
		return -EINVAL;	/* a range only over the ports */
	if (get_proto_port(k + off, &ret->proto, &ret->lo) < 0 ||
	    get_proto_port(ke + off, &p2, &ret->hi) < 0 || p2 != ret->proto || ret->lo > ret->hi)
		return -EINVAL;
	return 0;
}

struct span {
	uint8_t lo[NFTOBJ_KEY_MAX];
	uint8_t hi[NFTOBJ_KEY_MAX];	/* exclusive for ifnames, inclusive for ports */
	bool open_end;			/* ifname range runs to the end of the key space */
};

static int cmp_span16(const void *a, const void *b)
{
	return memcmp(((const struct span *)a)->lo, ((const struct span *)b)->lo, 16);
}

/* Big-endian increment; returns false on overflow. */
static bool key_inc(uint8_t *k, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++k[i])
			return true;
	return false;
}

int nftobj_ifname_elems(const struct iflist *l, struct nftobj_elem **ret, size_t *ret_n)
{
	struct span *sp = calloc(l->n ? l->n : 1, sizeof(*sp));
	struct nftobj_elem *e;
	size_t n = 0, m = 0;

	if (!sp)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->names[i];
		size_t len = strlen(name);
		struct span *s = &sp[n++];

		if (len && name[len - 1] == '*') {
			memcpy(s->lo, name, len - 1);
			memcpy(s->hi, name, len - 1);
			s->open_end = len == 1 || !key_inc(s->hi, len - 1);
		} else {
			memcpy(s->lo, name, len);
			memcpy(s->hi, name, len);
			s->open_end = !key_inc(s->hi, 16);
		}
	}
	qsort(sp, n, sizeof(*sp), cmp_span16);
	for (size_t i = 0; i < n; i++) {
		struct span *cur = &sp[m - (m ? 1 : 0)];

		if (m && (cur->open_end || memcmp(sp[i].lo, cur->hi, 16) <= 0)) {
			if (sp[i].open_end)
				cur->open_end = true;
			else if (!cur->open_end && memcmp(sp[i].hi, cur->hi, 16) > 0)
				memcpy(cur->hi, sp[i].hi, 16);
			continue;
		}
		sp[m++] = sp[i];
	}
	e = calloc(2 * m + 1, sizeof(*e));
	if (!e) {
		free(sp);
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < m; i++) {
		memcpy(e[n++].key, sp[i].lo, 16);
		if (!sp[i].open_end) {
			memcpy(e[n].key, sp[i].hi, 16);
			e[n++].interval_end = true;
		}
	}
	free(sp);
	*ret = e;
	*ret_n = n;
	return 0;
}

static int cmp_portrange(const void *a, const void *b)
{
	const struct portrange *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->lo - y->lo;
}

int nftobj_portrange_elems(const struct portrange *ports, size_t n, struct nftobj_elem **ret,
			   size_t *ret_n)
{
	struct portrange *v = malloc((n ? n : 1) * sizeof(*v));
	struct nftobj_elem *e;
	size_t m = 0;

	if (!v)
		return -ENOMEM;
	memcpy(v, ports, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_portrange);
	for (size_t i = 0; i < n; i++) {
		if (m && v[m - 1].proto == v[i].proto && (uint32_t)v[m - 1].hi + 1 >= v[i].lo) {
			if (v[i].hi > v[m - 1].hi)
				v[m - 1].hi = v[i].hi;
			continue;
		}
		v[m++] = v[i];
	}
	e = calloc(m ? m : 1, sizeof(*e));
	if (!e) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m; i++) {
		put_proto_port(e[i].key, 0, v[i].proto, v[i].lo);
		put_proto_port(e[i].key_end, 0, v[i].proto, v[i].hi);
		e[i].has_key_end = true;
	}
	free(v);
	*ret = e;
	*ret_n = m;
	return 0;
}
