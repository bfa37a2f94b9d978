/*
 * The ruleset's rules, statement by statement; see nftdefs.h. Each
 * statement writes its expressions (for the kernel) and its nft text
 * (for --dry-run) side by side, so that the two cannot part; the rules
 * table says which chain each rule goes to, in the order nft lists them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <net/if_arp.h>
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

#include "rules/config.h"
#include "nftdefs.h"
#include "base/segment.h"
#include "base/util.h"

/*
 * A rule being built: R gets the expressions (for the kernel), TEXT the
 * statement as `nft list` shows it (for --dry-run). Either may be NULL.
 */
struct rb {
	struct nftnl_rule *r;
	struct nlbatch *batch;	/* with R: where a rule's anonymous set goes first */
	struct dynbuf *text;
	bool oom;
	int nfproto;		/* the family matched so far (NFPROTO_*), 0 none */
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

/* A lookup in set NAME (ID: of a set of this transaction, 0 none) */
static void e_lookup_id(struct rb *b, uint32_t sreg, const char *name, uint32_t id, bool inv, int dreg)
{
	struct nftnl_expr *e = e_new(b, "lookup");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, name);
	if (id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
	e_add(b, e);
}

static void e_lookup(struct rb *b, uint32_t sreg, enum nftobj_set s, bool inv, int dreg)
{
	e_lookup_id(b, sreg, nftobj_sets[s].name, s + 1, inv, dreg);
}

static void e_lookup_name(struct rb *b, uint32_t sreg, const char *name, bool inv, int dreg)
{
	e_lookup_id(b, sreg, name, 0, inv, dreg);
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
	b->nfproto = proto;
}

/* The family match an address statement needs, unless the rule has it already (nft: implied). */
static void need_nfproto(struct rb *b, bool v6)
{
	if (b->nfproto != (v6 ? NFPROTO_IPV6 : NFPROTO_IPV4))
		st_nfproto(b, v6, true);
}

/* iifname @wanif, oifname @wanif, iifname != @wanif */
static void st_wanif(struct rb *b, bool out, bool inv)
{
	say(b, "%s %s@%s", out ? "oifname" : "iifname", inv ? "!= " : "", nftobj_sets[NFTOBJ_WANIF].name);
	e_meta_load(b, out ? NFT_META_OIFNAME : NFT_META_IIFNAME, NFT_REG_1);
	e_lookup(b, NFT_REG_1, NFTOBJ_WANIF, inv, -1);
}

static void st_proto_port_in(struct rb *b, enum nftobj_set s)
{
	say(b, "meta l4proto . th dport @%s", nftobj_sets[s].name);
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

	say(b, "counter name \"%s\"", nftobj_counters[c]);
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, nftobj_counters[c]);
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

/*
 * update @ratell { ether saddr limit rate over R/second burst B packets }:
 * the rule goes on only for a machine over its log budget (nft's implied
 * match: meta iiftype ether, which the vetted sources' lookup made sure of).
 */
static void st_rate_over(struct rb *b)
{
	struct nftnl_expr *e, *limit;
	uint16_t ether = ARPHRD_ETHER;

	say(b, "update @%s { ether saddr", nftobj_sets[NFTOBJ_RATELL].name);
	e_meta_load(b, NFT_META_IIFTYPE, NFT_REG_1);
	e_cmp(b, NFT_REG_1, NFT_CMP_EQ, &ether, sizeof(ether));
	e_payload(b, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG_1);
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
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, nftobj_sets[NFTOBJ_RATELL].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, NFTOBJ_RATELL + 1);
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

/* dnat ip to address (register 1) [and port (register 9)] */
static void e_dnat(struct rb *b, bool port)
{
	struct nftnl_expr *e = e_new(b, "nat");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	if (port)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	e_add(b, e);
}

/* dnat ip to meta l4proto . th dport map @redir4: the address and the port */
static void st_dnat_redir(struct rb *b)
{
	say(b, "dnat ip to meta l4proto . th dport map @%s", nftobj_sets[NFTOBJ_REDIR4].name);
	e_proto_port(b, NFT_REG_1, NFT_REG32_01);
	e_lookup(b, NFT_REG_1, NFTOBJ_REDIR4, false, NFT_REG_1);
	e_dnat(b, true);
}

/* meta l4proto . th dport vmap @MAP: a jump to the port's segment chain */
static void st_vmap(struct rb *b, enum nftobj_set map)
{
	say(b, "meta l4proto . th dport vmap @%s", nftobj_sets[map].name);
	e_proto_port(b, NFT_REG_1, NFT_REG32_01);
	e_lookup(b, NFT_REG_1, map, false, NFT_REG_VERDICT);
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
	nlh = nftobj_begin_msg(b->batch, NFT_MSG_NEWSET);
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
	nlh = b->oom ? NULL : nftobj_begin_msg(b->batch, NFT_MSG_NEWSETELEM);
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
	st_verdict(b, NFT_JUMP, nftobj_chains[v6 ? CHAIN_TRIGGER6 : CHAIN_TRIGGER4].name);
}

/*
 * The chain a trigger of one family goes through. The kernel's half of
 * the source check comes first: the route back must leave through the
 * interface the trigger came in on, and the source must be unicast (not
 * the router's own, not a broadcast or anycast address); these spend no
 * budget. Then the log budgets (DESIGN §2.11): a source the daemon vetted
 * (its address and MAC as the neighbour table holds them) goes on with a
 * budget of its machine's, keyed by the MAC, so a forger using its
 * address with another MAC never spends it, and a machine with many
 * addresses has one; every other source shares one budget, which never
 * delays a vetted machine's. (When the machines' set is full the update
 * fails, the rule does not match and the trigger is logged: a full
 * limiter never stops anyone's triggers. On 6.18 neither a lookup nor a
 * plain update finds the elements that an update with a limit created.)
 */
enum { TRIG_REVERSE_PATH, TRIG_ADDRESS_TYPE, TRIG_VETTED, TRIG_SHARED };
/* ... and in trig_vetted4 (trig_vetted6) */
enum { VETTED_RATE, VETTED_KERNEL, VETTED_LOG };

/*
 * iifname . ip saddr . ether saddr @src4ok (ip6: @src6ok): the machine's
 * budget, and the kernel serves a first trigger only from a source the daemon vetted (DESIGN §2.10: a
 * neighbour with the MAC the neighbour table holds, not a prefix's network
 * or broadcast address); every other trigger is the daemon's, which checks
 * all before it opens anything. nft's implied matches: the family, and
 * meta iiftype ether for the link-layer header.
 */
static void st_src_vetted(struct rb *b, bool v6)
{
	enum nftobj_set set = v6 ? NFTOBJ_SRC6OK : NFTOBJ_SRC4OK;
	uint16_t ether = ARPHRD_ETHER;

	say(b, "iifname . %s saddr . ether saddr @%s", v6 ? "ip6" : "ip", nftobj_sets[set].name);
	need_nfproto(b, v6);
	e_meta_load(b, NFT_META_IIFTYPE, NFT_REG_1);
	e_cmp(b, NFT_REG_1, NFT_CMP_EQ, &ether, sizeof(ether));
	e_meta_load(b, NFT_META_IIFNAME, NFT_REG_1);
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4, NFT_REG_2);
	e_payload(b, NFT_PAYLOAD_LL_HEADER, 6, 6, v6 ? NFT_REG_3 : NFT_REG32_05);
	e_lookup(b, NFT_REG_1, set, false, -1);
}

static void rule_trigger_family(struct rb *b, bool v6, int step)
{
	switch (step) {
	case TRIG_REVERSE_PATH:
		st_no_reverse_path(b);
		st_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_FORGED].name);
		break;
	case TRIG_ADDRESS_TYPE:
		st_saddr_not_unicast(b);
		st_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_FORGED].name);
		break;
	case TRIG_VETTED:
		st_src_vetted(b, v6);
		st_verdict(b, NFT_GOTO, nftobj_chains[v6 ? CHAIN_TRIG_VETTED6 : CHAIN_TRIG_VETTED4].name);
		break;
	case TRIG_SHARED:
		st_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_SHARED].name);
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

static void rule_vetted(struct rb *b, bool v6, int step)
{
	switch (step) {
	case VETTED_RATE:
		st_rate_over(b);
		st_counter(b, NFTOBJ_CTR_LIMITED);
		st_verdict(b, NFT_RETURN, NULL);
		break;
	case VETTED_KERNEL:
		st_vmap(b, v6 ? NFTOBJ_TRIG6V : NFTOBJ_TRIG4V);
		break;
	case VETTED_LOG:
		st_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_LOG].name);
		break;
	}
}

static void rule_vetted4(struct rb *b, const struct nftobj_params *p, int step)
{
	rule_vetted(b, false, step);
}

static void rule_vetted6(struct rb *b, const struct nftobj_params *p, int step)
{
	rule_vetted(b, true, step);
}

/* Every unvetted source: one budget */
static void rule_shared(struct rb *b, const struct nftobj_params *p, int log)
{
	if (log) {
		st_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_LOG].name);
		return;
	}
	e_add(b, st_limit(b, NFTOBJ_RATE, NFTOBJ_BURST, true));
	st_counter(b, NFTOBJ_CTR_LIMITED_SHARED);
	st_verdict(b, NFT_RETURN, NULL);
}

/* The end of a genuine trigger's way */
static void rule_log(struct rb *b, const struct nftobj_params *p, int unused)
{
	st_counter(b, NFTOBJ_CTR_TRIGGERS);
	st_log(b, p->nflog_group, NULL);
}

/* ... and of a forged one's: counted, its log rate-limited */
static void rule_forged(struct rb *b, const struct nftobj_params *p, int unused)
{
	st_counter(b, NFTOBJ_CTR_FORGED);
	e_add(b, st_limit(b, NFTOBJ_FORGED_LOG_RATE, NFTOBJ_FORGED_LOG_RATE, false));
	st_log(b, p->nflog_group, NFTOBJ_FORGED_PREFIX);
}

/*
 * IPv4 forwardings: new connections to the router's own address, DNATed
 * in the chain of their port's segment (REDIR: port redirections, by map)
 */
static void rule_dnat(struct rb *b, const struct nftobj_params *p, int redir)
{
	st_wanif(b, false, false);
	st_local_daddr(b);
	st_nfproto(b, false, false);
	if (redir) {
		st_tcp_udp(b);
		st_dnat_redir(b);
	} else {
		st_vmap(b, NFTOBJ_FWD4V);
	}
}

/* IPv6 forwardings: pinholes, marked (in their port's segment chain) for the administrator's forward chain */
static void rule_pinhole(struct rb *b, const struct nftobj_params *p, int unused)
{
	st_wanif(b, false, false);
	st_ct_new(b);
	st_nfproto(b, true, false);
	st_vmap(b, NFTOBJ_FWD6V);
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
	say(b, "ip saddr @%s", nftobj_sets[NFTOBJ_LEARN4].name);
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
	say(b, "ip6 saddr . ip6 daddr @%s", nftobj_sets[NFTOBJ_LEARN6].name);
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_2);
	e_lookup(b, NFT_REG_1, NFTOBJ_LEARN6, false, -1);
	st_wanif(b, false, false);
	st_mark_unset(b, p->mark, p->mark_mask);
	st_learn_log(b, p);
}

/*
 * Every rule, in the order of their chains' listings; those that NEED
 * something only with it: learn mode on, the reverse-path lookup in the
 * forward hook (kernels without it leave that check to the daemon).
 */
enum { NEED_LEARN = 1, NEED_RPF = 2 };

static const struct ruledef {
	int chain;
	void (*build)(struct rb *b, const struct nftobj_params *p, int arg);
	int arg;
	const char *what;
	unsigned need;
} rules[] = {
	{ CHAIN_TRIGGER, rule_trigger, 0, "add trigger rule (ipv4)", 0 },
	{ CHAIN_TRIGGER, rule_trigger, 1, "add trigger rule (ipv6)", 0 },
	{ CHAIN_TRIGGER4, rule_trigger4, TRIG_REVERSE_PATH, "add trigger4 rule (reverse path)", NEED_RPF },
	{ CHAIN_TRIGGER4, rule_trigger4, TRIG_ADDRESS_TYPE, "add trigger4 rule (address type)", 0 },
	{ CHAIN_TRIGGER4, rule_trigger4, TRIG_VETTED, "add trigger4 rule (vetted)", 0 },
	{ CHAIN_TRIGGER4, rule_trigger4, TRIG_SHARED, "add trigger4 rule (shared)", 0 },
	{ CHAIN_TRIGGER6, rule_trigger6, TRIG_REVERSE_PATH, "add trigger6 rule (reverse path)", NEED_RPF },
	{ CHAIN_TRIGGER6, rule_trigger6, TRIG_ADDRESS_TYPE, "add trigger6 rule (address type)", 0 },
	{ CHAIN_TRIGGER6, rule_trigger6, TRIG_VETTED, "add trigger6 rule (vetted)", 0 },
	{ CHAIN_TRIGGER6, rule_trigger6, TRIG_SHARED, "add trigger6 rule (shared)", 0 },
	{ CHAIN_TRIG_VETTED4, rule_vetted4, VETTED_RATE, "add trig_vetted4 rule (rate limit)", 0 },
	{ CHAIN_TRIG_VETTED4, rule_vetted4, VETTED_KERNEL, "add trig_vetted4 rule (kernel path)", 0 },
	{ CHAIN_TRIG_VETTED4, rule_vetted4, VETTED_LOG, "add trig_vetted4 rule (log)", 0 },
	{ CHAIN_TRIG_VETTED6, rule_vetted6, VETTED_RATE, "add trig_vetted6 rule (rate limit)", 0 },
	{ CHAIN_TRIG_VETTED6, rule_vetted6, VETTED_KERNEL, "add trig_vetted6 rule (kernel path)", 0 },
	{ CHAIN_TRIG_VETTED6, rule_vetted6, VETTED_LOG, "add trig_vetted6 rule (log)", 0 },
	{ CHAIN_TRIG_SHARED, rule_shared, 0, "add trig_shared rule (rate limit)", 0 },
	{ CHAIN_TRIG_SHARED, rule_shared, 1, "add trig_shared rule (log)", 0 },
	{ CHAIN_TRIG_LOG, rule_log, 0, "add log rule", 0 },
	{ CHAIN_TRIG_FORGED, rule_forged, 0, "add forged rule", 0 },
	{ CHAIN_PREROUTING, rule_dnat, 0, "add dnat rule", 0 },
	{ CHAIN_PREROUTING, rule_dnat, 1, "add dnat rule (redir4)", 0 },
	{ CHAIN_PREROUTING, rule_learn4, 0, "add learn rule (ipv4)", NEED_LEARN },
	{ CHAIN_PINHOLE, rule_pinhole, 0, "add pinhole rule", 0 },
	{ CHAIN_PINHOLE, rule_learn6, 0, "add learn rule (ipv6)", NEED_LEARN },
	{ CHAIN_PINHOLE, rule_guard, 0, "add pinhole-guard rule", 0 },
};

bool nftobj_rule_is_rpf(const char *what)
{
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		if ((rules[i].need & NEED_RPF) && !strcmp(rules[i].what, what))
			return true;
	return false;
}

static bool rule_wanted(const struct ruledef *d, const struct nftobj_params *p)
{
	return (!(d->need & NEED_LEARN) || p->learn) && (!(d->need & NEED_RPF) || p->rpf_kernel);
}

static int add_rule(struct nlbatch *b, const struct nftobj_params *p, const struct ruledef *d)
{
	struct rb rb = { .r = nftnl_rule_alloc(), .batch = b };
	struct nlmsghdr *nlh;

	if (!rb.r)
		return -ENOMEM;
	nftnl_rule_set_str(rb.r, NFTNL_RULE_TABLE, NFTOBJ_TABLE);
	nftnl_rule_set_str(rb.r, NFTNL_RULE_CHAIN, nftobj_chains[d->chain].name);
	nftnl_rule_set_u32(rb.r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	d->build(&rb, p, d->arg);
	nlh = rb.oom ? NULL : nftobj_begin_msg(b, NFT_MSG_NEWRULE);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, rb.r);
		nlbatch_commit(b, nlh, d->what);
	}
	nftnl_rule_free(rb.r);
	return rb.oom || b->oom ? -ENOMEM : 0;
}

int nftobj_add_rules(struct nlbatch *b, const struct nftobj_params *p)
{
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(rules) && r == 0; i++)
		if (rule_wanted(&rules[i], p))
			r = add_rule(b, p, &rules[i]);
	return r;
}

void nftobj_rules_text(struct dynbuf *out, const struct nftobj_params *p, int chain)
{
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		struct rb rb = { .text = out };

		if (rules[i].chain != chain || !rule_wanted(&rules[i], p))
			continue;
		dynbuf_printf(out, "\t\t");
		rules[i].build(&rb, p, rules[i].arg);
		dynbuf_printf(out, "\n");
	}
}

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

/* ---- what each rule adds: its sets, and the chains of its port segments -- */

static const struct rsetdef {
	const char *prefix;
	uint32_t key_type;
	uint8_t key_len;
	uint32_t data_type;
	uint8_t data_len;
	bool fwd;		/* carries forwardings: dynamic, with timeouts and a size */
} rsets[NFTOBJ__RS] = {
	[NFTOBJ_RS_ACT4] = { .prefix = "act4", .key_type = TYPE_NFPROTO, .key_len = 1,
			     .data_type = TYPE_IPADDR, .data_len = 4, .fwd = true },
	[NFTOBJ_RS_ACT4P] = { .prefix = "act4p", .key_type = TYPE_IPADDR, .key_len = 4,
			      .data_type = TYPE_IPADDR, .data_len = 4, .fwd = true },
	[NFTOBJ_RS_OWN6] = { .prefix = "own6", .key_type = TYPE_NFPROTO, .key_len = 1, .fwd = true },
	[NFTOBJ_RS_PIN6] = { .prefix = "pin6", .key_type = TYPE_IP6ADDR, .key_len = 16, .fwd = true },
	[NFTOBJ_RS_OWN6P] = { .prefix = "own6p", .key_type = TYPE_IP6ADDR, .key_len = 16, .fwd = true },
	[NFTOBJ_RS_PIN6P] = { .prefix = "pin6p", .key_type = (TYPE_IP6ADDR << 6) | TYPE_IP6ADDR,
			      .key_len = 32, .fwd = true },
	[NFTOBJ_RS_WAN] = { .prefix = "wan", .key_type = TYPE_IFNAME, .key_len = 16 },
	[NFTOBJ_RS_LAN] = { .prefix = "lan", .key_type = TYPE_IFNAME, .key_len = 16 },
	[NFTOBJ_RS_ALLOW4] = { .prefix = "allow4", .key_type = TYPE_IPADDR, .key_len = 4 },
	[NFTOBJ_RS_ALLOW6] = { .prefix = "allow6", .key_type = TYPE_IP6ADDR, .key_len = 16 },
};

static const char *const chain_prefix[NFTOBJ__CK] = {
	[NFTOBJ_CK_D4] = "d4", [NFTOBJ_CK_P6] = "p6", [NFTOBJ_CK_T4] = "t4", [NFTOBJ_CK_T6] = "t6",
};

void nftobj_setref_rule(enum nftobj_rset kind, const char *rule, struct nftobj_setref *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s_%s", rsets[kind].prefix, rule);
	ret->key_len = rsets[kind].key_len;
	ret->data_len = rsets[kind].data_len;
}


struct nftnl_set *nftobj_rset_object(const struct nftobj_lset *ls, uint32_t id)
{
	const struct rsetdef *d = &rsets[ls->kind];
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t flags = d->fwd ? NFT_SET_TIMEOUT | NFT_SET_EVAL : NFT_SET_INTERVAL;

	if (!s)
		return NULL;
	if (d->data_type)
		flags |= NFT_SET_MAP;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, ls->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	/* the kernel wants an id for a set a dynset expression may name (unique per transaction) */
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	if (d->data_type) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, d->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, d->data_len);
	}
	if (ls->size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, ls->size);
	return s;
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

bool nftobj_any_rule_wan(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (cfg->rules[i]->has_wan && !cfg->rules[i]->is_static)
			return true;
	return false;
}

static void setname(char *buf, enum nftobj_rset kind, const struct rule *r)
{
	snprintf(buf, NFTOBJ_NAME_MAX, "%s_%s", rsets[kind].prefix, r->name);
}

/*
 * The kernel's side of what the engine asks of a trigger (engine_rule_accepts
 * and engine_rule_allows): the rule's WAN interfaces (when some rule has
 * its own; else the trigger rule's @wanif says it all), its LAN ones, the
 * sources it allows.
 */
static void st_rule_checks(struct rb *b, const struct config *cfg, const struct rule *r, bool v6,
			   bool wan_sets)
{
	char name[NFTOBJ_NAME_MAX];
	static const char lo[16] = "lo";

	if (wan_sets) {
		setname(name, NFTOBJ_RS_WAN, r);
		say(b, "oifname @%s", name);
		e_meta_load(b, NFT_META_OIFNAME, NFT_REG_1);
		e_lookup_name(b, NFT_REG_1, name, false, -1);
		say(b, "iifname != @%s", name);
		e_meta_load(b, NFT_META_IIFNAME, NFT_REG_1);
		e_lookup_name(b, NFT_REG_1, name, true, -1);
	}
	if (r->has_lan || cfg->has_lan) {
		if (r->has_lan)
			setname(name, NFTOBJ_RS_LAN, r);
		else
			snprintf(name, sizeof(name), "%s", nftobj_sets[NFTOBJ_LANIF].name);
		say(b, "iifname @%s", name);
		e_meta_load(b, NFT_META_IIFNAME, NFT_REG_1);
		e_lookup_name(b, NFT_REG_1, name, false, -1);
	} else {
		say(b, "iifname != \"lo\"");
		e_meta_load(b, NFT_META_IIFNAME, NFT_REG_1);
		e_cmp(b, NFT_REG_1, NFT_CMP_NEQ, lo, sizeof(lo));
	}
	if (r->has_allow || cfg->has_allow) {
		if (r->has_allow)
			setname(name, v6 ? NFTOBJ_RS_ALLOW6 : NFTOBJ_RS_ALLOW4, r);
		else
			snprintf(name, sizeof(name), "%s", nftobj_sets[v6 ? NFTOBJ_ALLOW6 : NFTOBJ_ALLOW4].name);
		say(b, "%s saddr @%s", v6 ? "ip6" : "ip", name);
		need_nfproto(b, v6);
		e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4, NFT_REG_1);
		e_lookup_name(b, NFT_REG_1, name, false, -1);
	}
}

/* add @SET { KEY timeout T [: DATA] }: the key in register 1, data in 2 */
static void e_dynset_add(struct rb *b, const char *set, uint64_t timeout_ms, bool data)
{
	struct nftnl_expr *e = e_new(b, "dynset");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	if (data)
		nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_DATA, NFT_REG_2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, timeout_ms);
	e_add(b, e);
}

/* ip saddr, ip6 daddr, ... into REG (after the family match they imply) */
static void e_addr(struct rb *b, bool v6, bool dst, uint32_t reg)
{
	need_nfproto(b, v6);
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, (v6 ? 8 : 12) + (dst ? (v6 ? 16 : 4) : 0), v6 ? 16 : 4,
		  reg);
}

static void say_timeout(struct rb *b, uint64_t ms)
{
	struct dynbuf t = { 0 };

	if (!b->text)
		return;
	nftobj_text_duration(&t, ms);
	say(b, "timeout %s", t.data ? t.data : "0s");
	if (t.oom)
		b->text->oom = true;
	dynbuf_free(&t);
}

/*
 * The kernel's add of rule R's first forwarding, IPv4: `add` creates the
 * element only where there is none, so an active forwarding (another
 * host's, an exclusive one) is never touched.
 */
static void st_add4(struct rb *b, const struct rule *r)
{
	char set[NFTOBJ_NAME_MAX];
	uint64_t t = (uint64_t)r->timeout_s * 1000;

	setname(set, r->peer ? NFTOBJ_RS_ACT4P : NFTOBJ_RS_ACT4, r);
	say(b, "add @%s { %s", set, r->peer ? "ip daddr" : "meta nfproto");
	say_timeout(b, t);
	say(b, ": ip saddr }");
	if (r->peer) {
		e_addr(b, false, true, NFT_REG_1);
	} else {
		need_nfproto(b, false);
		e_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
	}
	e_addr(b, false, false, NFT_REG_2);
	e_dynset_add(b, set, t, true);
}

/*
 * IPv6: a pinhole set keyed by the host would take a second host's add
 * too, so the rule's owner set (keyed by a constant, or by the peer)
 * guards it: only a rule's (a peer's) first forwarding is added.
 */
static void st_add6(struct rb *b, const struct rule *r)
{
	char own[NFTOBJ_NAME_MAX], pin[NFTOBJ_NAME_MAX];
	uint64_t t = (uint64_t)r->timeout_s * 1000;

	setname(own, r->peer ? NFTOBJ_RS_OWN6P : NFTOBJ_RS_OWN6, r);
	setname(pin, r->peer ? NFTOBJ_RS_PIN6P : NFTOBJ_RS_PIN6, r);
	if (r->peer) {
		say(b, "ip6 daddr != @%s add @%s { ip6 daddr", own, own);
		e_addr(b, true, true, NFT_REG_1);
		e_lookup_name(b, NFT_REG_1, own, true, -1);
		e_addr(b, true, true, NFT_REG_1);
	} else {
		say(b, "meta nfproto != @%s add @%s { meta nfproto", own, own);
		e_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
		e_lookup_name(b, NFT_REG_1, own, true, -1);
		e_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
	}
	say_timeout(b, t);
	say(b, "}");
	e_dynset_add(b, own, t, false);
	say(b, "add @%s { ip6 saddr%s", pin, r->peer ? " . ip6 daddr" : "");
	say_timeout(b, t);
	say(b, "}");
	e_addr(b, true, false, NFT_REG_1);
	if (r->peer)
		e_addr(b, true, true, NFT_REG_2);
	e_dynset_add(b, pin, t, false);
}

/* dnat ip to meta nfproto map @act4_R, dnat ip to ip saddr map @act4p_R */
static void st_dnat_rule(struct rb *b, const struct rule *r)
{
	char set[NFTOBJ_NAME_MAX];

	setname(set, r->peer ? NFTOBJ_RS_ACT4P : NFTOBJ_RS_ACT4, r);
	say(b, "dnat ip to %s map @%s", r->peer ? "ip saddr" : "meta nfproto", set);
	if (r->peer)
		e_addr(b, false, false, NFT_REG_1);
	else
		e_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
	e_lookup_name(b, NFT_REG_1, set, false, NFT_REG_1);
	e_dnat(b, false);
}

/* ip6 daddr @pin6_R, ip6 daddr . ip6 saddr @pin6p_R: marked */
static void st_pin_rule(struct rb *b, const struct nftobj_params *p, const struct rule *r)
{
	char set[NFTOBJ_NAME_MAX];

	setname(set, r->peer ? NFTOBJ_RS_PIN6P : NFTOBJ_RS_PIN6, r);
	say(b, "ip6 daddr %s@%s", r->peer ? ". ip6 saddr " : "", set);
	e_addr(b, true, true, NFT_REG_1);
	if (r->peer)
		e_addr(b, true, false, NFT_REG_2);
	e_lookup_name(b, NFT_REG_1, set, false, -1);
	st_set_mark(b, p->mark, p->mark_mask);
}

static void chain_rule(struct rb *b, const struct nftobj_params *p, const struct config *cfg,
		       enum nftobj_chain_kind k, const struct rule *r, bool wan_sets)
{
	switch (k) {
	case NFTOBJ_CK_D4:
		st_dnat_rule(b, r);
		break;
	case NFTOBJ_CK_P6:
		st_pin_rule(b, p, r);
		break;
	case NFTOBJ_CK_T4:
		st_rule_checks(b, cfg, r, false, wan_sets);
		st_add4(b, r);
		break;
	case NFTOBJ_CK_T6:
		st_rule_checks(b, cfg, r, true, wan_sets);
		st_add6(b, r);
		break;
	case NFTOBJ__CK:
		break;
	}
}

static int layout_add_set(struct nftobj_layout *l, enum nftobj_rset kind, const struct rule *r,
			  size_t index, uint32_t size)
{
	struct nftobj_lset *v = realloc(l->sets, (l->n_sets + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->sets = v;
	v = &l->sets[l->n_sets++];
	memset(v, 0, sizeof(*v));
	setname(v->name, kind, r);
	v->kind = kind;
	v->size = size;
	v->rule = index;
	return 0;
}

static int layout_sets(const struct config *cfg, const struct nftobj_params *p, bool wan_sets,
		       struct nftobj_layout *l)
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

int nftobj_chain_rules_text(const struct nftobj_params *p, const struct config *cfg,
			    const struct nftobj_lchain *c, bool wan_sets, struct dynbuf *out)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		struct rb rb = { .text = out };

		dynbuf_printf(out, "\t\t");
		chain_rule(&rb, p, cfg, c->kind, cfg->rules[c->rules[i]], wan_sets);
		dynbuf_printf(out, "\n");
	}
	return out->oom ? -ENOMEM : 0;
}

int nftobj_chain_text(const struct nftobj_params *p, const struct config *cfg,
		      const struct nftobj_lchain *c, struct dynbuf *out)
{
	return nftobj_chain_rules_text(p, cfg, c, nftobj_any_rule_wan(cfg), out);
}

/* The segment chains of kind K: forwards (D4, P6) or triggers (T4, T6) of the rules that have them. */
static int layout_chains(const struct config *cfg, const struct nftobj_params *p, bool wan_sets,
			 enum nftobj_chain_kind k, struct nftobj_layout *l)
{
	bool trig = k == NFTOBJ_CK_T4 || k == NFTOBJ_CK_T6, v6 = k == NFTOBJ_CK_P6 || k == NFTOBJ_CK_T6;
	struct segment_input *in = NULL;
	struct dynbuf text = { 0 };
	struct nftobj_lchain *v;
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
		struct nftobj_lchain *c = &l->chains[l->n_chains++];

		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s_%s_%u", chain_prefix[k], proto_name(seg[i].proto),
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
		ret = nftobj_chain_rules_text(p, cfg, c, wan_sets, &text);
		c->digest = digest(text.data, text.len);
	}
	dynbuf_free(&text);
	segment_free(seg, n_seg);
	free(in);
	return ret;
}

int nftobj_layout_build(const struct config *cfg, const struct nftobj_params *p,
			struct nftobj_layout *ret)
{
	bool wan_sets = nftobj_any_rule_wan(cfg);
	int r;

	memset(ret, 0, sizeof(*ret));
	r = layout_sets(cfg, p, wan_sets, ret);
	for (int k = 0; k < NFTOBJ__CK && r == 0; k++)
		if (p->kernel_triggers || (k != NFTOBJ_CK_T4 && k != NFTOBJ_CK_T6))
			r = layout_chains(cfg, p, wan_sets, k, ret);
	if (r < 0)
		nftobj_layout_free(ret);
	return r;
}

void nftobj_layout_free(struct nftobj_layout *l)
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

static int layout_index(struct layout_index *x, const struct nftobj_layout *old,
			const struct nftobj_layout *new)
{
	static const struct nftobj_layout none;
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

static int write_chain_rules(struct nlbatch *b, const struct nftobj_params *p, const struct config *cfg,
			     const struct nftobj_lchain *c, bool wan_sets)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		struct rb rb = { .r = nftnl_rule_alloc(), .batch = b };

		if (!rb.r)
			return -ENOMEM;
		nftnl_rule_set_str(rb.r, NFTNL_RULE_TABLE, NFTOBJ_TABLE);
		nftnl_rule_set_str(rb.r, NFTNL_RULE_CHAIN, c->name);
		nftnl_rule_set_u32(rb.r, NFTNL_RULE_FAMILY, NFPROTO_INET);
		chain_rule(&rb, p, cfg, c->kind, cfg->rules[c->rules[i]], wan_sets);
		if (!rb.oom)
			named_msg(b, NFT_MSG_NEWRULE, "add rule to", c->name, NULL, NULL, rb.r);
		nftnl_rule_free(rb.r);
		if (rb.oom || b->oom)
			return -ENOMEM;
	}
	return 0;
}

enum nftobj_set nftobj_chain_vmap(enum nftobj_chain_kind k)
{
	static const enum nftobj_set m[NFTOBJ__CK] = {
		[NFTOBJ_CK_D4] = NFTOBJ_FWD4V, [NFTOBJ_CK_P6] = NFTOBJ_FWD6V,
		[NFTOBJ_CK_T4] = NFTOBJ_TRIG4V, [NFTOBJ_CK_T6] = NFTOBJ_TRIG6V,
	};

	return m[k];
}

/* A verdict map's element set for the ranges of kind K (one message per ELEMS_PER_MSG). */
static struct nftnl_set *vmap_set(int k)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s) {
		nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, nftobj_sets[nftobj_chain_vmap(k)].name);
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
static int write_vmaps(struct nlbatch *b, uint16_t type, const struct nftobj_layout *l,
		       const struct byname *other)
{
	for (int k = 0; k < NFTOBJ__CK; k++) {
		struct nftnl_set *s = vmap_set(k);
		size_t n = 0;

		if (!s)
			return -ENOMEM;
		for (size_t i = 0; i < l->n_chains; i++) {
			const struct nftobj_lchain *c = &l->chains[i], *oc = byname_find(other, c->name);
			struct nftnl_set_elem *el;
			uint8_t key[8] = { 0 }, end[8] = { 0 };

			if (c->kind != (enum nftobj_chain_kind)k || (oc && oc->lo == c->lo && oc->hi == c->hi))
				continue;
			if (!(el = nftnl_set_elem_alloc())) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			nftobj_put_proto_port(key, 0, c->proto, c->lo);
			nftobj_put_proto_port(end, 0, c->proto, c->hi);
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, sizeof(key));
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, end, sizeof(end));
			if (type == NFT_MSG_NEWSETELEM) {
				nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
				nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, c->name);
			}
			nftnl_set_elem_add(s, el);
			if (++n == ELEMS_PER_MSG) {
				named_elems_msg(b, type, s, nftobj_sets[nftobj_chain_vmap(k)].name);
				nftnl_set_free(s);
				if (!(s = vmap_set(k)))
					return -ENOMEM;
				n = 0;
			}
		}
		if (n)
			named_elems_msg(b, type, s, nftobj_sets[nftobj_chain_vmap(k)].name);
		nftnl_set_free(s);
		if (b->oom)
			return -ENOMEM;
	}
	return 0;
}

int nftobj_layout_write(struct nlbatch *b, const struct nftobj_params *p, const struct config *cfg,
			const struct nftobj_layout *old, const struct nftobj_layout *new)
{
	bool wan_sets = nftobj_any_rule_wan(cfg);
	struct layout_index x;
	int r = layout_index(&x, old, new);

	if (r < 0)
		return r;
	/* what goes: the maps' jumps first, so that chains lose their last users */
	if (old)
		r = write_vmaps(b, NFT_MSG_DELSETELEM, old, &x.new_chains);
	for (size_t i = 0; old && i < old->n_chains && r == 0; i++) {
		const struct nftobj_lchain *c = &old->chains[i], *nc = byname_find(&x.new_chains, c->name);
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
		const struct nftobj_lset *os = byname_find(&x.old_sets, new->sets[i].name);
		struct nftnl_set *s;

		if (os && os->size == new->sets[i].size)
			continue;
		if (!(s = nftobj_rset_object(&new->sets[i], NFTOBJ_RSET_ID_BASE + i))) {
			r = -ENOMEM;
			break;
		}
		named_msg(b, NFT_MSG_NEWSET, "create set", new->sets[i].name, s, NULL, NULL);
		nftnl_set_free(s);
	}
	for (size_t i = 0; i < new->n_chains && r == 0; i++) {
		const struct nftobj_lchain *c = &new->chains[i], *oc = byname_find(&x.old_chains, c->name);

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
		r = write_chain_rules(b, p, cfg, c, wan_sets);
	}
	if (r == 0)
		r = write_vmaps(b, NFT_MSG_NEWSETELEM, new, &x.old_chains);
	layout_index_free(&x);
	return r < 0 ? r : b->oom ? -ENOMEM : 0;
}

/*
 * ipautofwctl trace: a chain at the first priority that sees conntrack's
 * verdict (raw, -300, comes before it) marks, for the kernel's trace, the
 * new connections of one host and the new inbound connections on the
 * rules' forward ports. The kernel keeps it bounded by itself: each rule
 * marks at most NFTOBJ_TRACE_RATE packets a second, and the host's and the
 * families' elements time out, so a daemon that dies mid-trace leaves
 * nothing that still marks.
 */
enum { TR_HOST4, TR_HOST6, TR_ON, TR_FWD, TR__N };

static const struct {
	const char *name;
	uint32_t key_type;
	uint8_t key_len;
	bool interval;
} tracesets[TR__N] = {
	[TR_HOST4] = { "trace4", TYPE_IPADDR, 4, false },
	[TR_HOST6] = { "trace6", TYPE_IP6ADDR, 16, false },
	[TR_ON] = { "traceon", TYPE_NFPROTO, 1, false },
	[TR_FWD] = { "tracefwd", (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE, 8, true },
};

static const struct chaindef trace_chain = { "trace", "filter", NF_INET_PRE_ROUTING, -199 };

/* set ids of this transaction, apart from the skeleton's */
#define TRACE_SET_ID(i) (0x7000 + (i))

static int trace_set(struct nlbatch *b, int i)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	static const uint8_t fields[2] = { 1, 2 };

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, tracesets[i].name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, TRACE_SET_ID(i));
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, tracesets[i].interval ? NFT_SET_INTERVAL | NFT_SET_CONCAT :
			  NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, tracesets[i].key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, tracesets[i].key_len);
	if (tracesets[i].interval)
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, 2);
	nlh = nftobj_begin_msg(b, NFT_MSG_NEWSET);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		nlbatch_commit(b, nlh, "create trace set");
	}
	nftnl_set_free(s);
	return b->oom ? -ENOMEM : 0;
}

static void st_trace_mark(struct rb *b)
{
	struct nftnl_expr *e = st_limit(b, NFTOBJ_TRACE_RATE, NFTOBJ_TRACE_RATE, false);
	uint8_t one = 1;

	e_add(b, e);
	say(b, "meta nftrace set 1");
	e = e_new(b, "immediate");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &one, 1);
		e_add(b, e);
	}
	e_meta_set(b, NFT_META_NFTRACE, NFT_REG_1);
}

/* 0: the host's new connections (IPv4), 1: IPv6, 2: new inbound ones on forward ports */
static int trace_rule(struct nlbatch *b, int which)
{
	struct rb rb = { .r = nftnl_rule_alloc(), .batch = b };
	struct nlmsghdr *nlh;

	if (!rb.r)
		return -ENOMEM;
	nftnl_rule_set_str(rb.r, NFTNL_RULE_TABLE, NFTOBJ_TABLE);
	nftnl_rule_set_str(rb.r, NFTNL_RULE_CHAIN, trace_chain.name);
	nftnl_rule_set_u32(rb.r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	st_ct_new(&rb);
	if (which < 2) {
		need_nfproto(&rb, which == 1);
		e_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, which ? 8 : 12, which ? 16 : 4, NFT_REG_1);
		e_lookup_id(&rb, NFT_REG_1, tracesets[which].name, TRACE_SET_ID(which), false, -1);
	} else {
		st_wanif(&rb, false, false);
		e_meta_load(&rb, NFT_META_NFPROTO, NFT_REG_1);
		e_lookup_id(&rb, NFT_REG_1, tracesets[TR_ON].name, TRACE_SET_ID(TR_ON), false, -1);
		e_proto_port(&rb, NFT_REG_1, NFT_REG32_01);
		e_lookup_id(&rb, NFT_REG_1, tracesets[TR_FWD].name, TRACE_SET_ID(TR_FWD), false, -1);
	}
	st_trace_mark(&rb);
	nlh = rb.oom ? NULL : nftobj_begin_msg(b, NFT_MSG_NEWRULE);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, rb.r);
		nlbatch_commit(b, nlh, "add trace rule");
	}
	nftnl_rule_free(rb.r);
	return rb.oom || b->oom ? -ENOMEM : 0;
}

static int trace_elems(struct nlbatch *b, int i, const struct nftobj_elem *e, size_t n)
{
	struct nftobj_setref s = { .key_len = tracesets[i].key_len };

	snprintf(s.name, sizeof(s.name), "%s", tracesets[i].name);
	return nftobj_elems_to(b, NFT_MSG_NEWSETELEM, &s, e, n);
}

int nftobj_trace_add(struct nlbatch *b, int af, const union inaddr *host, const struct config *cfg,
		     uint32_t secs)
{
	struct nftobj_elem host_e = { .timeout_ms = (uint64_t)secs * 1000 }, on[2];
	struct nftobj_elem *fwd = NULL;
	struct portrange *all = NULL;
	size_t n_all = 0, n_fwd = 0;
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;
	int r = 0;

	for (int i = 0; i < TR__N && r == 0; i++)
		r = trace_set(b, i);
	c = r ? NULL : nftobj_chain_object(&trace_chain);
	if (!r && !c)
		r = -ENOMEM;
	if (c) {
		nlh = nftobj_begin_msg(b, NFT_MSG_NEWCHAIN);
		if (nlh) {
			nftnl_chain_nlmsg_build_payload(nlh, c);
			nlbatch_commit(b, nlh, "create chain trace");
		}
		nftnl_chain_free(c);
	}
	for (int i = 0; i < 3 && r == 0; i++)
		r = trace_rule(b, i);
	if (r)
		return r;
	memcpy(host_e.key, host, af == AF_INET ? 4 : 16);
	memset(on, 0, sizeof(on));
	on[0].key[0] = NFPROTO_IPV4;
	on[1].key[0] = NFPROTO_IPV6;
	on[0].timeout_ms = on[1].timeout_ms = host_e.timeout_ms;
	r = trace_elems(b, af == AF_INET ? TR_HOST4 : TR_HOST6, &host_e, 1);
	if (r == 0)
		r = trace_elems(b, TR_ON, on, 2);
	for (size_t i = 0; cfg && i < cfg->n_rules && r == 0; i++) {
		const struct rule *q = cfg->rules[i];
		struct portrange *v = realloc(all, (n_all + q->n_forwards + 1) * sizeof(*v));

		if (!v) {
			r = -ENOMEM;
			break;
		}
		all = v;
		memcpy(all + n_all, q->forwards, q->n_forwards * sizeof(*v));
		n_all += q->n_forwards;
	}
	if (r == 0 && n_all)
		r = nftobj_portrange_elems(all, n_all, &fwd, &n_fwd);
	if (r == 0 && n_fwd)
		r = trace_elems(b, TR_FWD, fwd, n_fwd);
	free(all);
	free(fwd);
	return r ? r : b->oom ? -ENOMEM : 0;
}

int nftobj_trace_del(struct nlbatch *b)
{
	struct nftnl_chain *c = nftobj_chain_object(&trace_chain);
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	nlh = nftobj_begin_msg(b, NFT_MSG_DELCHAIN);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nlbatch_commit(b, nlh, "delete chain trace");
	}
	nftnl_chain_free(c);
	for (int i = 0; i < TR__N; i++) {
		struct nftnl_set *s = nftnl_set_alloc();

		if (!s)
			return -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, tracesets[i].name);
		nlh = nftobj_begin_msg(b, NFT_MSG_DELSET);
		if (nlh) {
			nftnl_set_nlmsg_build_payload(nlh, s);
			nlbatch_commit(b, nlh, "delete trace set");
		}
		nftnl_set_free(s);
	}
	return b->oom ? -ENOMEM : 0;
}
