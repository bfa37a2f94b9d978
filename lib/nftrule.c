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

#include "nftdefs.h"
#include "util.h"

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
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, nftobj_sets[s].name);
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

	say(b, "update @%s {", nftobj_sets[s].name);
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
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, nftobj_sets[s].name);
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
	    map == NFTOBJ_FWD4P ? "ip saddr . " : "", nftobj_sets[map].name);
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

/* ip6 daddr [. ip6 saddr] . meta l4proto . th dport @pin6[p] */
static void st_pinhole_in(struct rb *b, bool peer)
{
	enum nftobj_set s = peer ? NFTOBJ_PIN6P : NFTOBJ_PIN6;

	say(b, "ip6 daddr . %smeta l4proto . th dport @%s", peer ? "ip6 saddr . " : "",
	    nftobj_sets[s].name);
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
	st_verdict(b, NFT_JUMP, nftobj_chains[v6 ? CHAIN_TRIGGER6 : CHAIN_TRIGGER4].name);
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
		st_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_FORGED].name);
		break;
	case TRIG_ADDRESS_TYPE:
		st_saddr_not_unicast(b);
		st_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_FORGED].name);
		break;
	case TRIG_RATE:
		st_nfproto(b, v6, true);
		st_rate_over(b, v6);
		st_counter(b, NFTOBJ_CTR_LIMITED);
		st_verdict(b, NFT_RETURN, NULL);
		break;
	case TRIG_LOG:
		st_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_LOG].name);
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
		if (!rules[i].learn || p->learn)
			r = add_rule(b, p, &rules[i]);
	return r;
}

void nftobj_rules_text(struct dynbuf *out, const struct nftobj_params *p, int chain)
{
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		struct rb rb = { .text = out };

		if (rules[i].chain != chain || (rules[i].learn && !p->learn))
			continue;
		dynbuf_printf(out, "\t\t");
		rules[i].build(&rb, p, rules[i].arg);
		dynbuf_printf(out, "\n");
	}
}
