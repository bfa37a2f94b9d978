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
 *     ip saddr @learn4 iifname @wanif fib daddr type local
 *       limit rate R/second burst B packets log group L snaplen 128 queue-threshold 1
 *   chain pinhole (filter forward, priority NFTOBJ_PRIO_FIRST):
 *     iifname @wanif ct state new meta nfproto ipv6
 *       ip6 daddr . meta l4proto . th dport @pin6 meta mark set mark and ~M or V
 *     ... ip6 daddr . ip6 saddr . meta l4proto . th dport @pin6p ...
 *     ct state new ip6 saddr . ip6 daddr @learn6 iifname @wanif meta mark and M != V
 *       limit rate R/second burst B packets log group L snaplen 128 queue-threshold 1
 *     iifname @wanif ct state new meta nfproto ipv6 meta mark and M != V
 *       meta l4proto . th dport @guard6 drop
 * (guard6 is empty unless `pinhole-guard on`; the learn rules are there
 * unless `learn off`.)
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
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
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
	bool hash;		/* single keys, no intervals */
	uint32_t size;		/* a fixed size (0: none, or the forwarding sets' size) */
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
	[NFTOBJ_LEARN4] = { .name = "learn4", .key_type = TYPE_IPADDR, .key_len = 4, .timeout = true,
			    .hash = true, .size = NFTOBJ_LEARN_SET_SIZE },
	[NFTOBJ_LEARN6] = { .name = "learn6", .key_type = (TYPE_IP6ADDR << 6) | TYPE_IP6ADDR,
			    .key_len = 32, .fields = { 16, 16 }, .timeout = true, .hash = true,
			    .size = NFTOBJ_LEARN_SET_SIZE },
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

/*
 * The objects are built once as libnftnl objects (sets, chains) or
 * statement by statement (rules); the netlink messages and the nft text of
 * --dry-run are both made from them, so the two cannot tell different
 * stories.
 */
/* SIZE: the elements the set may hold (0: no limit; rate sets have their own) */
static struct nftnl_set *set_object(enum nftobj_set id, uint32_t size)
{
	const struct setdef *d = &sets[id];
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t flags = d->dynamic ? NFT_SET_TIMEOUT | NFT_SET_EVAL : d->hash ? 0 : NFT_SET_INTERVAL;
	size_t nfields = 0;

	if (!s)
		return NULL;
	while (nfields < 4 && d->fields[nfields])
		nfields++;
	if (nfields)
		flags |= NFT_SET_CONCAT;
	if (d->dynamic) {
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, d->timeout_ms);
		size = NFTOBJ_RATE_SET_SIZE;
	}
	if (d->size)
		size = d->size;
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
	return s;
}

static uint32_t set_size(const struct nftobj_params *p, enum nftobj_set id)
{
	return nftobj_set_is_fwd(id) ? p->fwd_set_size : 0;
}

static int add_set(struct nlbatch *b, enum nftobj_set id, uint32_t size)
{
	struct nftnl_set *s = set_object(id, size);
	struct nlmsghdr *nlh;
	char what[40];

	if (!s)
		return -ENOMEM;
	nlh = begin_msg(b, NFT_MSG_NEWSET);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		snprintf(what, sizeof(what), "create set %s", sets[id].name);
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

static struct nftnl_obj *counter_object(enum nftobj_counter id)
{
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o)
		return NULL;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NFTOBJ_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, counters[id]);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	return o;
}

static int add_counter(struct nlbatch *b, enum nftobj_counter id)
{
	struct nftnl_obj *o = counter_object(id);
	struct nlmsghdr *nlh;
	char what[40];

	if (!o)
		return -ENOMEM;
	nlh = begin_msg(b, NFT_MSG_NEWOBJ);
	if (nlh) {
		nftnl_obj_nlmsg_build_payload(nlh, o);
		snprintf(what, sizeof(what), "create counter %s", counters[id]);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_obj_free(o);
	return b->oom ? -ENOMEM : 0;
}

enum {
	CHAIN_TRIGGER,
	CHAIN_TRIGGER4,
	CHAIN_TRIGGER6,
	CHAIN_TRIG_LOG,
	CHAIN_TRIG_FORGED,
	CHAIN_PREROUTING,
	CHAIN_PINHOLE,
	CHAIN__N,
};

/* Base chains have a type; the others are jump targets. */
static const struct chaindef {
	const char *name;
	const char *type;
	uint32_t hook;
	int32_t prio;
} chains[CHAIN__N] = {
	[CHAIN_TRIGGER] = { "trigger", "filter", NF_INET_FORWARD, NFTOBJ_PRIO_LAST },
	[CHAIN_TRIGGER4] = { .name = "trigger4" },
	[CHAIN_TRIGGER6] = { .name = "trigger6" },
	[CHAIN_TRIG_LOG] = { .name = "trig_log" },
	[CHAIN_TRIG_FORGED] = { .name = "trig_forged" },
	[CHAIN_PREROUTING] = { "prerouting", "nat", NF_INET_PRE_ROUTING, -90 },
	[CHAIN_PINHOLE] = { "pinhole", "filter", NF_INET_FORWARD, NFTOBJ_PRIO_FIRST },
};

static struct nftnl_chain *chain_object(const struct chaindef *d)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return NULL;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFTOBJ_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, d->name);
	if (d->type) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, d->type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, d->hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, d->prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	return c;
}

static int add_chain(struct nlbatch *b, const struct chaindef *d)
{
	struct nftnl_chain *c = chain_object(d);
	struct nlmsghdr *nlh;
	char what[40];

	if (!c)
		return -ENOMEM;
	nlh = begin_msg(b, NFT_MSG_NEWCHAIN);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		snprintf(what, sizeof(what), "create chain %s", d->name);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_chain_free(c);
	return b->oom ? -ENOMEM : 0;
}

/* ---- rules, statement by statement --------------------------------------- */

/*
 * A rule being built: R gets the expressions (for the kernel), TEXT the
 * statement as `nft list` shows it (for --dry-run). Either may be NULL.
 */
struct rb {
	struct nftnl_rule *r;
	struct nlbatch *batch;	/* with R: where a rule's anonymous set goes first */
	struct dynbuf *text;
	bool oom;
};

static void say(struct rb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct rb *b, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!b->text)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dynbuf_printf(b->text, "%s%s", b->text->len && b->text->data[b->text->len - 1] != '\t' ?
		      " " : "", buf);
}

static struct nftnl_expr *e_new(struct rb *b, const char *name)
{
	struct nftnl_expr *e;

	if (!b->r)
		return NULL;
	e = nftnl_expr_alloc(name);
	if (!e)
		b->oom = true;
	return e;
}

static void e_add(struct rb *b, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(b->r, e);
}

static void e_meta_load(struct rb *b, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = e_new(b, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	e_add(b, e);
}

static void e_meta_set(struct rb *b, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = e_new(b, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
	e_add(b, e);
}

static void e_cmp(struct rb *b, uint32_t sreg, uint32_t op, const void *data, size_t len)
{
	struct nftnl_expr *e = e_new(b, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	e_add(b, e);
}

static void e_bitwise(struct rb *b, uint32_t reg, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = e_new(b, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, 4);
	e_add(b, e);
}

static void e_lookup(struct rb *b, uint32_t sreg, enum nftobj_set s, bool inv, int dreg)
{
	struct nftnl_expr *e = e_new(b, "lookup");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, sets[s].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, s + 1);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
	e_add(b, e);
}

static void e_payload(struct rb *b, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = e_new(b, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	e_add(b, e);
}

/* meta l4proto . th dport into PROTO_REG and the next 32-bit register */
static void e_proto_port(struct rb *b, uint32_t proto_reg, uint32_t port_reg)
{
	struct nftnl_expr *e;

	e_meta_load(b, NFT_META_L4PROTO, proto_reg);
	e = e_new(b, "byteorder");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, proto_reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, proto_reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
		e_add(b, e);
	}
	e_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, port_reg);
}

static const char *family_word(bool v6)
{
	return v6 ? "ipv6" : "ipv4";
}

static void st_ct_new(struct rb *b)
{
	struct nftnl_expr *e = e_new(b, "ct");
	uint32_t zero = 0;

	say(b, "ct state new");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e_add(b, e);
	e_bitwise(b, NFT_REG_1, NF_CT_STATE_BIT(IP_CT_NEW), 0);
	e_cmp(b, NFT_REG_1, NFT_CMP_NEQ, &zero, 4);
}

/*
 * `nft list` leaves out a family match that a later address match implies
 * (ip saddr, ip6 daddr); IMPLIED says one follows.
 */
static void st_nfproto(struct rb *b, bool v6, bool implied)
{
	uint8_t proto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;

	if (!implied)
		say(b, "meta nfproto %s", family_word(v6));
	e_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
	e_cmp(b, NFT_REG_1, NFT_CMP_EQ, &proto, 1);
}

/* iifname @wanif, oifname @wanif, iifname != @wanif */
static void st_wanif(struct rb *b, bool out, bool inv)
{
	say(b, "%s %s@%s", out ? "oifname" : "iifname", inv ? "!= " : "", sets[NFTOBJ_WANIF].name);
	e_meta_load(b, out ? NFT_META_OIFNAME : NFT_META_IIFNAME, NFT_REG_1);
	e_lookup(b, NFT_REG_1, NFTOBJ_WANIF, inv, -1);
}

static void st_proto_port_in(struct rb *b, enum nftobj_set s)
{
	say(b, "meta l4proto . th dport @%s", sets[s].name);
	e_proto_port(b, NFT_REG_1, NFT_REG32_01);
	e_lookup(b, NFT_REG_1, s, false, -1);
}

static void st_local_daddr(struct rb *b)
{
	struct nftnl_expr *e = e_new(b, "fib");
	uint32_t local = RTN_LOCAL;

	say(b, "fib daddr type local");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_add(b, e);
	e_cmp(b, NFT_REG_1, NFT_CMP_EQ, &local, 4);
}

static void st_verdict(struct rb *b, int code, const char *chain)
{
	static const struct { int code; const char *word; } words[] = {
		{ NF_DROP, "drop" }, { NF_ACCEPT, "accept" }, { NFT_JUMP, "jump" },
		{ NFT_GOTO, "goto" }, { NFT_RETURN, "return" },
	};
	struct nftnl_expr *e = e_new(b, "immediate");

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (words[i].code == code)
			say(b, "%s%s%s", words[i].word, chain ? " " : "", chain ? chain : "");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, code);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	e_add(b, e);
}

static void st_counter(struct rb *b, enum nftobj_counter c)
{
	struct nftnl_expr *e = e_new(b, "objref");

	say(b, "counter name \"%s\"", counters[c]);
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, counters[c]);
	e_add(b, e);
}

static void st_log(struct rb *b, uint16_t group, const char *prefix)
{
	struct nftnl_expr *e = e_new(b, "log");

	if (prefix)
		say(b, "log prefix \"%s\" group %u snaplen 128 queue-threshold 1", prefix, group);
	else
		say(b, "log group %u snaplen 128 queue-threshold 1", group);
	if (!e)
		return;
	if (prefix)
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, 128);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, 1);
	e_add(b, e);
}

/* limit rate [over] R/second [burst B packets] (nft leaves out its default burst, 5) */
static struct nftnl_expr *st_limit(struct rb *b, uint64_t rate, uint32_t burst, bool over)
{
	struct nftnl_expr *e = e_new(b, "limit");

	say(b, "limit rate %s%llu/second", over ? "over " : "", (unsigned long long)rate);
	if (burst && burst != 5)
		say(b, "burst %u packets", burst);
	if (!e)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, over ? NFT_LIMIT_F_INV : 0);
	return e;
}

/* The source address, its first PLEN bits kept, into register 1. */
static void st_saddr_prefix(struct rb *b, bool v6, unsigned plen)
{
	uint8_t mask[16] = { 0 }, zero[16] = { 0 };
	unsigned len = v6 ? 16 : 4;
	char text[INET6_ADDRSTRLEN];
	struct nftnl_expr *e;

	for (unsigned i = 0; i < plen; i++)
		mask[i / 8] |= 0x80 >> (i % 8);
	say(b, "%s saddr", v6 ? "ip6" : "ip");
	if (plen < len * 8)
		say(b, "& %s", inet_ntop(v6 ? AF_INET6 : AF_INET, mask, text, sizeof(text)));
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, len, NFT_REG_1);
	if (plen == len * 8 || !(e = e_new(b, "bitwise")))
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	e_add(b, e);
}

/*
 * update @rateF { SADDR/PLEN limit rate over R/second burst B packets }:
 * the rule goes on only for a host over its log budget.
 */
static void st_rate_over(struct rb *b, bool v6)
{
	enum nftobj_set s = v6 ? NFTOBJ_RATE6 : NFTOBJ_RATE4;
	struct nftnl_expr *e, *limit;

	say(b, "update @%s {", sets[s].name);
	st_saddr_prefix(b, v6, v6 ? 64 : 32);
	limit = st_limit(b, NFTOBJ_RATE, NFTOBJ_BURST, true);
	say(b, "}");
	e = e_new(b, "dynset");
	if (!e || !limit) {
		if (limit)
			nftnl_expr_free(limit);
		if (e)
			nftnl_expr_free(e);
		return;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, sets[s].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, s + 1);
	nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, limit, 0);
	e_add(b, e);
}

/* fib saddr . iif oif missing: the route back does not leave where the packet came in */
static void st_no_reverse_path(struct rb *b)
{
	struct nftnl_expr *e = e_new(b, "fib");
	uint32_t zero = 0;

	say(b, "fib saddr . iif oif missing");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR | NFTA_FIB_F_IIF | NFTA_FIB_F_PRESENT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_OIF);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_add(b, e);
	e_cmp(b, NFT_REG_1, NFT_CMP_EQ, &zero, 4);
}

static void st_saddr_not_unicast(struct rb *b)
{
	struct nftnl_expr *e = e_new(b, "fib");
	uint32_t unicast = RTN_UNICAST;

	say(b, "fib saddr type != unicast");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	e_add(b, e);
	e_cmp(b, NFT_REG_1, NFT_CMP_NEQ, &unicast, 4);
}

/* dnat ip to [ip saddr .] meta l4proto . th dport map @MAP (with the port for redir4) */
static void st_dnat(struct rb *b, enum nftobj_set map)
{
	struct nftnl_expr *e;

	say(b, "dnat ip to %smeta l4proto . th dport map @%s",
	    map == NFTOBJ_FWD4P ? "ip saddr . " : "", sets[map].name);
	if (map == NFTOBJ_FWD4P) {
		e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
		e_proto_port(b, NFT_REG32_01, NFT_REG32_02);
	} else {
		e_proto_port(b, NFT_REG_1, NFT_REG32_01);
	}
	e_lookup(b, NFT_REG_1, map, false, NFT_REG_1);
	e = e_new(b, "nat");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	if (map == NFTOBJ_REDIR4)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	e_add(b, e);
}

/* The anonymous set of a rule (nft's "__set%d"); one per transaction is all we need. */
#define ANON_SET_ID (NFTOBJ__SETS + 1)

static void anon_set(struct rb *b, const uint8_t *protos, size_t n)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s) {
		b->oom = true;
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "__set%d");
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, ANON_SET_ID);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_INET_PROTOCOL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 1);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, n);
	nlh = begin_msg(b->batch, NFT_MSG_NEWSET);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		nlbatch_commit(b->batch, nlh, "create anonymous set");
	}
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set_elem *el = nftnl_set_elem_alloc();

		if (!el) {
			b->oom = true;
			break;
		}
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, &protos[i], 1);
		nftnl_set_elem_add(s, el);
	}
	nlh = b->oom ? NULL : begin_msg(b->batch, NFT_MSG_NEWSETELEM);
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nlbatch_commit(b->batch, nlh, "add to anonymous set");
	}
	nftnl_set_free(s);
}

/*
 * meta l4proto { tcp, udp }: nft reads back a port mapping (dnat to an
 * address and port) only after a transport protocol match.
 */
static void st_tcp_udp(struct rb *b)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	struct nftnl_expr *e;

	say(b, "meta l4proto { %s, %s }", proto_name(protos[0]), proto_name(protos[1]));
	if (!b->r)
		return;
	anon_set(b, protos, ARRAY_SIZE(protos));
	e_meta_load(b, NFT_META_L4PROTO, NFT_REG_1);
	e = e_new(b, "lookup");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__set%d");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, ANON_SET_ID);
	e_add(b, e);
}

/* ip6 daddr [. ip6 saddr] . meta l4proto . th dport @pin6[p] */
static void st_pinhole_in(struct rb *b, bool peer)
{
	enum nftobj_set s = peer ? NFTOBJ_PIN6P : NFTOBJ_PIN6;

	say(b, "ip6 daddr . %smeta l4proto . th dport @%s", peer ? "ip6 saddr . " : "",
	    sets[s].name);
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_1);
	if (peer) {
		e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_2);
		e_proto_port(b, NFT_REG32_00 + 8, NFT_REG32_00 + 9);
	} else {
		e_proto_port(b, NFT_REG_2, NFT_REG32_00 + 5);
	}
	e_lookup(b, NFT_REG_1, s, false, -1);
}

/* meta mark set meta mark & ~MASK | MARK, written as nft folds it */
static void st_set_mark(struct rb *b, uint32_t mark, uint32_t mask)
{
	if ((~mask | mark) == 0xffffffffu)
		say(b, "meta mark set meta mark | 0x%08x", mark);
	else
		say(b, "meta mark set meta mark & 0x%08x | 0x%08x", ~mask | mark, mark);
	e_meta_load(b, NFT_META_MARK, NFT_REG_1);
	e_bitwise(b, NFT_REG_1, ~mask, mark);
	e_meta_set(b, NFT_META_MARK, NFT_REG_1);
}

static void st_mark_unset(struct rb *b, uint32_t mark, uint32_t mask)
{
	say(b, "meta mark & 0x%08x != 0x%08x", mask, mark);
	e_meta_load(b, NFT_META_MARK, NFT_REG_1);
	e_bitwise(b, NFT_REG_1, mask, 0);
	e_cmp(b, NFT_REG_1, NFT_CMP_NEQ, &mark, 4);
}

/*
 * ct state new oifname @wanif iifname != @wanif meta l4proto . th dport @triggers
 *   meta nfproto F jump triggerF
 * (a packet that came in on a WAN interface never triggers)
 */
static void rule_trigger(struct rb *b, const struct nftobj_params *p, int v6)
{
	st_ct_new(b);
	st_wanif(b, true, false);
	st_wanif(b, false, true);
	st_proto_port_in(b, NFTOBJ_TRIGGERS);
	st_nfproto(b, v6, false);
	st_verdict(b, NFT_JUMP, chains[v6 ? CHAIN_TRIGGER6 : CHAIN_TRIGGER4].name);
}

/*
 * The chain a trigger of one family goes through. The kernel's half of
 * the source check comes first: the route back must leave through the
 * interface the trigger came in on, and the source must be unicast (not
 * the router's own, not a broadcast or anycast address). Then the log
 * rate limit per host (an IPv4 address, an IPv6 /64). When its set is
 * full the update fails, the rule does not match and the trigger is
 * logged: a full limiter never stops anyone's triggers. (A second,
 * coarser limiter for that case would need to tell "full" from "under
 * the limit", and on 6.18 neither a lookup nor a plain update finds the
 * elements that an update with a limit created.)
 */
enum { TRIG_REVERSE_PATH, TRIG_ADDRESS_TYPE, TRIG_RATE, TRIG_LOG };

static void rule_trigger_family(struct rb *b, bool v6, int step)
{
	switch (step) {
	case TRIG_REVERSE_PATH:
		st_no_reverse_path(b);
		st_verdict(b, NFT_GOTO, chains[CHAIN_TRIG_FORGED].name);
		break;
	case TRIG_ADDRESS_TYPE:
		st_saddr_not_unicast(b);
		st_verdict(b, NFT_GOTO, chains[CHAIN_TRIG_FORGED].name);
		break;
	case TRIG_RATE:
		st_nfproto(b, v6, true);
		st_rate_over(b, v6);
		st_counter(b, NFTOBJ_CTR_LIMITED);
		st_verdict(b, NFT_RETURN, NULL);
		break;
	case TRIG_LOG:
		st_verdict(b, NFT_GOTO, chains[CHAIN_TRIG_LOG].name);
		break;
	}
}

static void rule_trigger4(struct rb *b, const struct nftobj_params *p, int step)
{
	rule_trigger_family(b, false, step);
}

static void rule_trigger6(struct rb *b, const struct nftobj_params *p, int step)
{
	rule_trigger_family(b, true, step);
}

/* The end of a genuine trigger's way */
static void rule_log(struct rb *b, const struct nftobj_params *p, int unused)
{
	st_log(b, p->nflog_group, NULL);
}

/* ... and of a forged one's: counted, its log rate-limited */
static void rule_forged(struct rb *b, const struct nftobj_params *p, int unused)
{
	st_counter(b, NFTOBJ_CTR_FORGED);
	e_add(b, st_limit(b, NFTOBJ_FORGED_LOG_RATE, NFTOBJ_FORGED_LOG_RATE, false));
	st_log(b, p->nflog_group, NFTOBJ_FORGED_PREFIX);
}

/* IPv4 forwardings: new connections to the router's own address, DNATed */
static void rule_dnat(struct rb *b, const struct nftobj_params *p, int map)
{
	st_wanif(b, false, false);
	st_local_daddr(b);
	st_nfproto(b, false, map == NFTOBJ_FWD4P);
	if (map == NFTOBJ_REDIR4)
		st_tcp_udp(b);
	st_dnat(b, map);
}

/* IPv6 forwardings: pinholes, marked for the administrator's forward chain */
static void rule_pinhole(struct rb *b, const struct nftobj_params *p, int peer)
{
	st_wanif(b, false, false);
	st_ct_new(b);
	st_nfproto(b, true, true);
	st_pinhole_in(b, peer);
	st_set_mark(b, p->mark, p->mark_mask);
}

/*
 * pinhole-guard: a new inbound IPv6 connection from WAN to a guarded port
 * that no pinhole rule marked is dropped. A drop is final in every table,
 * so a firewall that opens the whole port range to the LAN (firewalld
 * policies cannot match the mark) still opens only the pinholes.
 */
static void rule_guard(struct rb *b, const struct nftobj_params *p, int unused)
{
	st_wanif(b, false, false);
	st_ct_new(b);
	st_nfproto(b, true, false);
	st_mark_unset(b, p->mark, p->mark_mask);
	st_proto_port_in(b, NFTOBJ_GUARD6);
	st_verdict(b, NF_DROP, NULL);
}

/* limit rate R/second burst B packets log group G ...: learn mode's log, bounded */
static void st_learn_log(struct rb *b, const struct nftobj_params *p)
{
	e_add(b, st_limit(b, NFTOBJ_LEARN_RATE, NFTOBJ_LEARN_BURST, false));
	st_log(b, p->learn_group, NULL);
}

/*
 * Learn mode, IPv4: after the DNAT rules, so only what no forwarding
 * took: a new connection to the router's own address from a peer listed
 * in @learn4. The lookup comes first: for anyone else that is all it costs.
 */
static void rule_learn4(struct rb *b, const struct nftobj_params *p, int unused)
{
	st_nfproto(b, false, true);
	say(b, "ip saddr @%s", sets[NFTOBJ_LEARN4].name);
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	e_lookup(b, NFT_REG_1, NFTOBJ_LEARN4, false, -1);
	st_wanif(b, false, false);
	st_local_daddr(b);
	st_learn_log(b, p);
}

/*
 * Learn mode, IPv6: after the pinhole rules, a new connection from a peer
 * listed in @learn6 to the host that contacted it, that no pinhole marked.
 * Other packets pay a conntrack state test, new ones one lookup more.
 */
static void rule_learn6(struct rb *b, const struct nftobj_params *p, int unused)
{
	st_ct_new(b);
	st_nfproto(b, true, true);
	say(b, "ip6 saddr . ip6 daddr @%s", sets[NFTOBJ_LEARN6].name);
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_2);
	e_lookup(b, NFT_REG_1, NFTOBJ_LEARN6, false, -1);
	st_wanif(b, false, false);
	st_mark_unset(b, p->mark, p->mark_mask);
	st_learn_log(b, p);
}

/* Every rule, in the order of their chains' listings; LEARN ones only with learn mode on. */
static const struct ruledef {
	int chain;
	void (*build)(struct rb *b, const struct nftobj_params *p, int arg);
	int arg;
	const char *what;
	bool learn;
} rules[] = {
	{ CHAIN_TRIGGER, rule_trigger, 0, "add trigger rule (ipv4)", false },
	{ CHAIN_TRIGGER, rule_trigger, 1, "add trigger rule (ipv6)", false },
	{ CHAIN_TRIGGER4, rule_trigger4, TRIG_REVERSE_PATH, "add trigger4 rule (reverse path)", false },
	{ CHAIN_TRIGGER4, rule_trigger4, TRIG_ADDRESS_TYPE, "add trigger4 rule (address type)", false },
	{ CHAIN_TRIGGER4, rule_trigger4, TRIG_RATE, "add trigger4 rule (rate limit)", false },
	{ CHAIN_TRIGGER4, rule_trigger4, TRIG_LOG, "add trigger4 rule (log)", false },
	{ CHAIN_TRIGGER6, rule_trigger6, TRIG_REVERSE_PATH, "add trigger6 rule (reverse path)", false },
	{ CHAIN_TRIGGER6, rule_trigger6, TRIG_ADDRESS_TYPE, "add trigger6 rule (address type)", false },
	{ CHAIN_TRIGGER6, rule_trigger6, TRIG_RATE, "add trigger6 rule (rate limit)", false },
	{ CHAIN_TRIGGER6, rule_trigger6, TRIG_LOG, "add trigger6 rule (log)", false },
	{ CHAIN_TRIG_LOG, rule_log, 0, "add log rule", false },
	{ CHAIN_TRIG_FORGED, rule_forged, 0, "add forged rule", false },
	{ CHAIN_PREROUTING, rule_dnat, NFTOBJ_FWD4, "add dnat rule (fwd4)", false },
	{ CHAIN_PREROUTING, rule_dnat, NFTOBJ_FWD4P, "add dnat rule (fwd4p)", false },
	{ CHAIN_PREROUTING, rule_dnat, NFTOBJ_REDIR4, "add dnat rule (redir4)", false },
	{ CHAIN_PREROUTING, rule_learn4, 0, "add learn rule (ipv4)", true },
	{ CHAIN_PINHOLE, rule_pinhole, 0, "add pinhole rule", false },
	{ CHAIN_PINHOLE, rule_pinhole, 1, "add pinhole rule (peer)", false },
	{ CHAIN_PINHOLE, rule_learn6, 0, "add learn rule (ipv6)", true },
	{ CHAIN_PINHOLE, rule_guard, 0, "add pinhole-guard rule", false },
};

static int add_rule(struct nlbatch *b, const struct nftobj_params *p, const struct ruledef *d)
{
	struct rb rb = { .r = nftnl_rule_alloc(), .batch = b };
	struct nlmsghdr *nlh;

	if (!rb.r)
		return -ENOMEM;
	nftnl_rule_set_str(rb.r, NFTNL_RULE_TABLE, NFTOBJ_TABLE);
	nftnl_rule_set_str(rb.r, NFTNL_RULE_CHAIN, chains[d->chain].name);
	nftnl_rule_set_u32(rb.r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	d->build(&rb, p, d->arg);
	nlh = rb.oom ? NULL : begin_msg(b, NFT_MSG_NEWRULE);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, rb.r);
		nlbatch_commit(b, nlh, d->what);
	}
	nftnl_rule_free(rb.r);
	return rb.oom || b->oom ? -ENOMEM : 0;
}

int nftobj_skeleton(struct nlbatch *b, const struct nftobj_params *p)
{
	int r = 0;

	for (int s = 0; s < NFTOBJ__SETS && r == 0; s++)
		r = add_set(b, s, set_size(p, s));
	for (int c = 0; c < NFTOBJ__COUNTERS && r == 0; c++)
		r = add_counter(b, c);
	for (size_t i = 0; i < ARRAY_SIZE(chains) && r == 0; i++)
		r = add_chain(b, &chains[i]);
	for (size_t i = 0; i < ARRAY_SIZE(rules) && r == 0; i++)
		if (!rules[i].learn || p->learn)
			r = add_rule(b, p, &rules[i]);
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

enum nftobj_set nftobj_learn_elem(int af, const union inaddr *peer, const union inaddr *host,
				  uint64_t timeout_ms, uint64_t expiration_ms, struct nftobj_elem *out)
{
	memset(out, 0, sizeof(*out));
	if (af == AF_INET) {
		put_field(out->key, 0, &peer->v4, 4);
	} else {
		put_field(out->key, 0, &peer->v6, 16);
		put_field(out->key, 16, &host->v6, 16);
	}
	out->timeout_ms = timeout_ms;
	out->expiration_ms = expiration_ms;
	return af == AF_INET ? NFTOBJ_LEARN4 : NFTOBJ_LEARN6;
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
	if (n)
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

/* ---- nft text (--dry-run) ------------------------------------------------ */

static const struct nfttype {
	uint8_t id;
	uint8_t len;
	const char *name;
} types[] = {
	{ TYPE_IPADDR, 4, "ipv4_addr" },
	{ TYPE_IP6ADDR, 16, "ipv6_addr" },
	{ TYPE_INET_PROTOCOL, 1, "inet_proto" },
	{ TYPE_INET_SERVICE, 2, "inet_service" },
	{ TYPE_IFNAME, 16, "ifname" },
};

static const struct nfttype *type_of(uint8_t id)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].id == id)
			return &types[i];
	return NULL;
}

/* The fields of a (concatenated) datatype id, first field first; returns how many. */
static size_t type_fields(uint32_t type, const struct nfttype **ret)
{
	const struct nfttype *rev[5];
	size_t n = 0;

	do {
		rev[n++] = type_of(type & 0x3f);
		type >>= 6;
	} while (type && n < ARRAY_SIZE(rev));
	for (size_t i = 0; i < n; i++)
		ret[i] = rev[n - 1 - i];
	return n;
}

static void text_type(struct dynbuf *out, uint32_t type)
{
	const struct nfttype *f[5];
	size_t n = type_fields(type, f);

	for (size_t i = 0; i < n; i++)
		dynbuf_printf(out, "%s%s", i ? " . " : "", f[i] ? f[i]->name : "?");
}

static void text_value(struct dynbuf *out, const struct nfttype *t, const uint8_t *p)
{
	char buf[INET6_ADDRSTRLEN];

	switch (t->id) {
	case TYPE_IPADDR:
	case TYPE_IP6ADDR:
		dynbuf_printf(out, "%s", inet_ntop(t->id == TYPE_IPADDR ? AF_INET : AF_INET6, p, buf,
						   sizeof(buf)));
		break;
	case TYPE_INET_PROTOCOL:
		if (p[0] == IPPROTO_TCP || p[0] == IPPROTO_UDP)
			dynbuf_printf(out, "%s", proto_name(p[0]));
		else
			dynbuf_printf(out, "%u", p[0]);
		break;
	case TYPE_INET_SERVICE:
		dynbuf_printf(out, "%u", p[0] << 8 | p[1]);
		break;
	}
}

/* KEY, or the range KEY-KEY_END in each field where they differ, as nft lists it */
static void text_key(struct dynbuf *out, uint32_t type, const uint8_t *key, const uint8_t *key_end)
{
	const struct nfttype *f[5];
	size_t n = type_fields(type, f), off = 0;

	for (size_t i = 0; i < n && f[i]; i++) {
		dynbuf_printf(out, "%s", i ? " . " : "");
		text_value(out, f[i], key + off);
		if (key_end && memcmp(key + off, key_end + off, f[i]->len)) {
			dynbuf_append(out, "-", 1);
			text_value(out, f[i], key_end + off);
		}
		off += (f[i]->len + 3) & ~3u;
	}
}

/*
 * An ifname interval as the name or wildcard it was made from: [name,
 * name+1) is "name", [prefix, prefix+1) is "prefix*". END NULL: the range
 * runs to the end of the key space, which only "*" does (names are ASCII).
 */
static void text_ifname(struct dynbuf *out, const uint8_t *lo, const uint8_t *end)
{
	uint8_t next[IFNAME_MAX + 1];
	int len = strnlen((const char *)lo, sizeof(next));

	if (!end) {
		dynbuf_printf(out, "\"%.*s*\"", len, lo);
		return;
	}
	memcpy(next, lo, sizeof(next));
	if (key_inc(next, sizeof(next)) && !memcmp(next, end, sizeof(next))) {
		dynbuf_printf(out, "\"%.*s\"", len, lo);
		return;
	}
	memcpy(next, lo, sizeof(next));
	if (key_inc(next, len) && !memcmp(next, end, sizeof(next))) {
		dynbuf_printf(out, "\"%.*s*\"", len, lo);
		return;
	}
	/* adjacent wildcards merged into one range: its first and last name */
	memcpy(next, end, sizeof(next));
	for (size_t i = sizeof(next); i-- > 0;)
		if (next[i]--)
			break;
	dynbuf_printf(out, "\"%.*s\"-\"%.*s\"", len, lo, (int)strnlen((char *)next, sizeof(next)), next);
}

/* The elements of one set: "elements = { a,\n\t\t\t     b }" as nft lists them */
static void text_elems(struct dynbuf *out, const struct setdef *d, const struct nftobj_elem *e,
		       size_t n)
{
	const char *sep = "\t\telements = { ";

	for (size_t i = 0; i < n; i++) {
		if (e[i].interval_end)
			continue;
		dynbuf_printf(out, "%s", sep);
		sep = ",\n\t\t\t     ";
		if (d->key_type == TYPE_IFNAME) {
			text_ifname(out, e[i].key, i + 1 < n && e[i + 1].interval_end ? e[i + 1].key : NULL);
			continue;
		}
		text_key(out, d->key_type, e[i].key, e[i].has_key_end ? e[i].key_end : NULL);
		if (e[i].has_data) {
			dynbuf_printf(out, " : ");
			text_key(out, d->data_type, e[i].data, NULL);
		}
	}
	if (n)
		dynbuf_printf(out, " }\n");
}

/* nft's time format: 1d2h3m4s5ms */
static void text_duration(struct dynbuf *out, uint64_t ms)
{
	static const struct { uint64_t ms; const char *unit; } parts[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (ms >= parts[i].ms) {
			dynbuf_printf(out, "%llu%s", (unsigned long long)(ms / parts[i].ms), parts[i].unit);
			ms %= parts[i].ms;
		}
}

static void text_set(struct dynbuf *out, const struct nftobj_params *p, enum nftobj_set id,
		     const struct nftobj_elem *e, size_t n)
{
	struct nftnl_set *s = set_object(id, set_size(p, id));
	uint32_t flags;
	const char *sep = "";

	if (!s) {
		out->oom = true;
		return;
	}
	flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	dynbuf_printf(out, "\t%s %s {\n\t\ttype ", flags & NFT_SET_MAP ? "map" : "set",
		      nftnl_set_get_str(s, NFTNL_SET_NAME));
	text_type(out, nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE));
	if (flags & NFT_SET_MAP) {
		dynbuf_printf(out, " : ");
		text_type(out, nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE));
	}
	dynbuf_printf(out, "\n");
	if (nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE))
		dynbuf_printf(out, "\t\tsize %u\n", nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE));
	if (flags & (NFT_SET_CONSTANT | NFT_SET_EVAL | NFT_SET_INTERVAL | NFT_SET_TIMEOUT)) {
		static const struct { uint32_t flag; const char *name; } names[] = {
			{ NFT_SET_CONSTANT, "constant" }, { NFT_SET_EVAL, "dynamic" },
			{ NFT_SET_INTERVAL, "interval" }, { NFT_SET_TIMEOUT, "timeout" },
		};

		dynbuf_printf(out, "\t\tflags ");
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (flags & names[i].flag) {
				dynbuf_printf(out, "%s%s", sep, names[i].name);
				sep = ",";
			}
		dynbuf_printf(out, "\n");
	}
	if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT)) {
		dynbuf_printf(out, "\t\ttimeout ");
		text_duration(out, nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT));
		dynbuf_printf(out, "\n");
	}
	text_elems(out, &sets[id], e, n);
	dynbuf_printf(out, "\t}\n");
	nftnl_set_free(s);
}

/* A counter as a fresh one lists. */
static void text_counter(struct dynbuf *out, enum nftobj_counter id)
{
	struct nftnl_obj *o = counter_object(id);

	if (!o) {
		out->oom = true;
		return;
	}
	dynbuf_printf(out, "\tcounter %s {\n\t\tpackets 0 bytes 0\n\t}\n",
		      nftnl_obj_get_str(o, NFTNL_OBJ_NAME));
	nftnl_obj_free(o);
}

static const char *hook_name(uint32_t hook)
{
	static const char *const names[] = {
		[NF_INET_PRE_ROUTING] = "prerouting", [NF_INET_LOCAL_IN] = "input",
		[NF_INET_FORWARD] = "forward", [NF_INET_LOCAL_OUT] = "output",
		[NF_INET_POST_ROUTING] = "postrouting",
	};

	return hook < ARRAY_SIZE(names) ? names[hook] : "?";
}

/* A priority as nft names it: a standard one within 10 (if it fits the hook), else a number. */
static void text_prio(struct dynbuf *out, uint32_t hook, int32_t prio)
{
	static const struct { int32_t prio; const char *name; int hook1, hook2; } std[] = {
		{ -300, "raw", -1, -1 }, { -150, "mangle", -1, -1 },
		{ -100, "dstnat", NF_INET_PRE_ROUTING, NF_INET_LOCAL_OUT },
		{ 0, "filter", -1, -1 }, { 50, "security", -1, -1 },
		{ 100, "srcnat", NF_INET_LOCAL_IN, NF_INET_POST_ROUTING },
	};

	for (size_t i = 0; i < ARRAY_SIZE(std); i++) {
		int64_t off = (int64_t)prio - std[i].prio;

		if (off < -10 || off > 10)
			continue;
		if (std[i].hook1 >= 0 && (int)hook != std[i].hook1 && (int)hook != std[i].hook2)
			break;
		dynbuf_printf(out, "%s", std[i].name);
		if (off)
			dynbuf_printf(out, " %c %lld", off > 0 ? '+' : '-', (long long)(off > 0 ? off : -off));
		return;
	}
	dynbuf_printf(out, "%d", prio);
}

static void text_chain(struct dynbuf *out, const struct nftobj_params *p, int id)
{
	struct nftnl_chain *c = chain_object(&chains[id]);

	if (!c) {
		out->oom = true;
		return;
	}
	dynbuf_printf(out, "\tchain %s {\n", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE)) {
		dynbuf_printf(out, "\t\ttype %s hook %s priority ", nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
			      hook_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM)));
		text_prio(out, nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
			  nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO));
		dynbuf_printf(out, "; policy %s;\n",
			      nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP ? "drop" : "accept");
	}
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		struct rb rb = { .text = out };

		if (rules[i].chain != id || (rules[i].learn && !p->learn))
			continue;
		dynbuf_printf(out, "\t\t");
		rules[i].build(&rb, p, rules[i].arg);
		dynbuf_printf(out, "\n");
	}
	dynbuf_printf(out, "\t}\n");
	nftnl_chain_free(c);
}

struct elem_list {
	struct nftobj_elem *v;
	size_t n;
};

/* A NFTA_DATA_VALUE nest into BUF (SIZE bytes); returns its length or -EINVAL. */
static int data_value(const struct nlattr *nest, uint8_t *buf, size_t size)
{
	const struct nlattr *a = mnl_attr_get_payload(nest);

	if (mnl_attr_get_payload_len(nest) < MNL_ATTR_HDRLEN || mnl_attr_get_type(a) != NFTA_DATA_VALUE ||
	    mnl_attr_get_payload_len(a) > size)
		return -EINVAL;
	memcpy(buf, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
	return mnl_attr_get_payload_len(a);
}

/*
 * One element of an element list. (libnftnl numbers the nests 1, 2, ...
 * when it builds a list but accepts only type 1 when it parses one, so the
 * list we built is read here with libmnl.)
 */
static int list_elem(const struct nlattr *nest, struct elem_list *l)
{
	struct nftobj_elem *e, *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	const struct nlattr *a;

	if (!v)
		return -ENOMEM;
	l->v = v;
	e = memset(&v[l->n++], 0, sizeof(*e));
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY:
			data_value(a, e->key, sizeof(e->key));
			break;
		case NFTA_SET_ELEM_KEY_END:
			e->has_key_end = data_value(a, e->key_end, sizeof(e->key_end)) > 0;
			break;
		case NFTA_SET_ELEM_DATA:
			e->has_data = data_value(a, e->data, sizeof(e->data)) > 0;
			break;
		case NFTA_SET_ELEM_FLAGS:
			e->interval_end = ntohl(mnl_attr_get_u32(a)) & NFT_SET_ELEM_INTERVAL_END;
			break;
		}
	}
	return 0;
}

/* The elements batch B leaves in each set: what it adds after the last flush. */
static int batch_elems(const struct nlbatch *b, struct elem_list *lists)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->buf;
	int len = b->len;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		uint16_t type = nlh->nlmsg_type & 0xff;
		const struct nlattr *a, *list = NULL, *e;
		struct elem_list *l = NULL;

		if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES ||
		    (type != NFT_MSG_NEWSETELEM && type != NFT_MSG_DELSETELEM))
			continue;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
				list = a;
			if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_SET)
				continue;
			for (int i = 0; i < NFTOBJ__SETS; i++)
				if (!strcmp(sets[i].name, mnl_attr_get_str(a)))
					l = &lists[i];
		}
		if (l && type == NFT_MSG_DELSETELEM && !list)
			l->n = 0;
		if (!l || type != NFT_MSG_NEWSETELEM || !list)
			continue;
		mnl_attr_for_each_nested(e, list)
			if (list_elem(e, l) < 0)
				return -ENOMEM;
	}
	return 0;
}

int nftobj_text(const struct nftobj_params *p, const struct nlbatch *elems, struct dynbuf *out)
{
	struct elem_list lists[NFTOBJ__SETS] = { 0 };
	int r = batch_elems(elems, lists);

	dynbuf_printf(out, "table inet %s {\n", NFTOBJ_TABLE);
	for (int c = 0; c < NFTOBJ__COUNTERS && r == 0; c++) {
		text_counter(out, c);
		dynbuf_printf(out, "\n");
	}
	for (int s = 0; s < NFTOBJ__SETS && r == 0; s++) {
		text_set(out, p, s, lists[s].v, lists[s].n);
		dynbuf_printf(out, "\n");
	}
	for (int c = 0; c < CHAIN__N && r == 0; c++) {
		text_chain(out, p, c);
		dynbuf_printf(out, "%s", c + 1 < CHAIN__N ? "\n" : "");
	}
	dynbuf_printf(out, "}\n");
	for (int s = 0; s < NFTOBJ__SETS; s++)
		free(lists[s].v);
	if (r == 0 && out->oom)
		r = -ENOMEM;
	return r;
}
