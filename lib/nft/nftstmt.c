/*
 * Rules, statement by statement; see nftstmt.h. Each statement writes its
 * expressions (for the kernel) and its nft text (for --dry-run) side by
 * side, so that the two cannot part.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <string.h>

#include "nftdefs.h"
#include "nftstmt.h"
#include "rules/rule.h"
#include "base/util.h"

void nftstmt_say(struct nftstmt *b, const char *fmt, ...)
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

struct nftnl_expr *nftstmt_expr(struct nftstmt *b, const char *name)
{
	struct nftnl_expr *e;

	if (!b->r)
		return NULL;
	e = nftnl_expr_alloc(name);
	if (!e)
		b->oom = true;
	return e;
}

void nftstmt_add(struct nftstmt *b, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(b->r, e);
}

int nftstmt_begin(struct nftstmt *b, struct nlbatch *batch, const char *chain)
{
	memset(b, 0, sizeof(*b));
	b->r = nftnl_rule_alloc();
	if (!b->r)
		return -ENOMEM;
	b->batch = batch;
	nftnl_rule_set_str(b->r, NFTNL_RULE_TABLE, NFTOBJ_TABLE);
	nftnl_rule_set_str(b->r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(b->r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return 0;
}

int nftstmt_end(struct nftstmt *b, const char *what)
{
	struct nlmsghdr *nlh = b->oom ? NULL : nftobj_begin_msg(b->batch, NFT_MSG_NEWRULE);

	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, b->r);
		nlbatch_commit(b->batch, nlh, what);
	}
	nftnl_rule_free(b->r);
	b->r = NULL;
	return b->oom || b->batch->oom ? -ENOMEM : 0;
}

void nftstmt_meta_load(struct nftstmt *b, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftstmt_expr(b, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftstmt_add(b, e);
}

void nftstmt_meta_set(struct nftstmt *b, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = nftstmt_expr(b, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
	nftstmt_add(b, e);
}

void nftstmt_cmp(struct nftstmt *b, uint32_t sreg, uint32_t op, const void *data, size_t len)
{
	struct nftnl_expr *e = nftstmt_expr(b, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftstmt_add(b, e);
}

void nftstmt_bitwise(struct nftstmt *b, uint32_t reg, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = nftstmt_expr(b, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, 4);
	nftstmt_add(b, e);
}

/* A lookup in set NAME (ID: of a set of this transaction, 0 none) */
void nftstmt_lookup_id(struct nftstmt *b, uint32_t sreg, const char *name, uint32_t id, bool inv,
		       int dreg)
{
	struct nftnl_expr *e = nftstmt_expr(b, "lookup");

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
	nftstmt_add(b, e);
}

void nftstmt_lookup(struct nftstmt *b, uint32_t sreg, enum nftobj_set s, bool inv, int dreg)
{
	nftstmt_lookup_id(b, sreg, nftobj_set_name(s), s + 1, inv, dreg);
}

void nftstmt_lookup_name(struct nftstmt *b, uint32_t sreg, const char *name, bool inv, int dreg)
{
	nftstmt_lookup_id(b, sreg, name, 0, inv, dreg);
}

void nftstmt_payload(struct nftstmt *b, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftstmt_expr(b, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftstmt_add(b, e);
}

/* meta l4proto . th dport into PROTO_REG and the next 32-bit register */
void nftstmt_proto_port(struct nftstmt *b, uint32_t proto_reg, uint32_t port_reg)
{
	struct nftnl_expr *e;

	nftstmt_meta_load(b, NFT_META_L4PROTO, proto_reg);
	e = nftstmt_expr(b, "byteorder");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, proto_reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, proto_reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
		nftstmt_add(b, e);
	}
	nftstmt_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, port_reg);
}

static const char *family_word(bool v6)
{
	return v6 ? "ipv6" : "ipv4";
}

void nftstmt_ct_new(struct nftstmt *b)
{
	struct nftnl_expr *e = nftstmt_expr(b, "ct");
	uint32_t zero = 0;

	nftstmt_say(b, "ct state new");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftstmt_add(b, e);
	nftstmt_bitwise(b, NFT_REG_1, NF_CT_STATE_BIT(IP_CT_NEW), 0);
	nftstmt_cmp(b, NFT_REG_1, NFT_CMP_NEQ, &zero, 4);
}

/*
 * `nft list` leaves out a family match that a later address match implies
 * (ip saddr, ip6 daddr); IMPLIED says one follows.
 */
void nftstmt_nfproto(struct nftstmt *b, bool v6, bool implied)
{
	uint8_t proto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;

	if (!implied)
		nftstmt_say(b, "meta nfproto %s", family_word(v6));
	nftstmt_meta_load(b, NFT_META_NFPROTO, NFT_REG_1);
	nftstmt_cmp(b, NFT_REG_1, NFT_CMP_EQ, &proto, 1);
	b->nfproto = proto;
}

/* The family match an address statement needs, unless the rule has it already (nft: implied). */
void nftstmt_need_nfproto(struct nftstmt *b, bool v6)
{
	if (b->nfproto != (v6 ? NFPROTO_IPV6 : NFPROTO_IPV4))
		nftstmt_nfproto(b, v6, true);
}

/* iifname @wanif, oifname @wanif, iifname != @wanif */
void nftstmt_wanif(struct nftstmt *b, bool out, bool inv)
{
	nftstmt_say(b, "%s %s@%s", out ? "oifname" : "iifname", inv ? "!= " : "",
		    nftobj_set_name(NFTOBJ_WANIF));
	nftstmt_meta_load(b, out ? NFT_META_OIFNAME : NFT_META_IIFNAME, NFT_REG_1);
	nftstmt_lookup(b, NFT_REG_1, NFTOBJ_WANIF, inv, -1);
}

void nftstmt_proto_port_in(struct nftstmt *b, enum nftobj_set s)
{
	nftstmt_say(b, "meta l4proto . th dport @%s", nftobj_set_name(s));
	nftstmt_proto_port(b, NFT_REG_1, NFT_REG32_01);
	nftstmt_lookup(b, NFT_REG_1, s, false, -1);
}

void nftstmt_fib(struct nftstmt *b, uint32_t flags, uint32_t result)
{
	struct nftnl_expr *e = nftstmt_expr(b, "fib");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flags);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, result);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftstmt_add(b, e);
}

void nftstmt_local_daddr(struct nftstmt *b)
{
	uint32_t local = RTN_LOCAL;

	nftstmt_say(b, "fib daddr type local");
	nftstmt_fib(b, NFTA_FIB_F_DADDR, NFT_FIB_RESULT_ADDRTYPE);
	nftstmt_cmp(b, NFT_REG_1, NFT_CMP_EQ, &local, 4);
}

void nftstmt_verdict(struct nftstmt *b, int code, const char *chain)
{
	static const struct { int code; const char *word; } words[] = {
		{ NF_DROP, "drop" }, { NF_ACCEPT, "accept" }, { NFT_JUMP, "jump" },
		{ NFT_GOTO, "goto" }, { NFT_RETURN, "return" },
	};
	struct nftnl_expr *e = nftstmt_expr(b, "immediate");

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (words[i].code == code)
			nftstmt_say(b, "%s%s%s", words[i].word, chain ? " " : "", chain ? chain : "");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, code);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftstmt_add(b, e);
}

void nftstmt_counter(struct nftstmt *b, enum nftobj_counter c)
{
	struct nftnl_expr *e = nftstmt_expr(b, "objref");

	nftstmt_say(b, "counter name \"%s\"", nftobj_counter_name(c));
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, nftobj_counter_name(c));
	nftstmt_add(b, e);
}

void nftstmt_log(struct nftstmt *b, uint16_t group, const char *prefix)
{
	struct nftnl_expr *e = nftstmt_expr(b, "log");

	if (prefix)
		nftstmt_say(b, "log prefix \"%s\" group %u snaplen 128 queue-threshold 1", prefix, group);
	else
		nftstmt_say(b, "log group %u snaplen 128 queue-threshold 1", group);
	if (!e)
		return;
	if (prefix)
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, 128);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, 1);
	nftstmt_add(b, e);
}


/* limit rate [over] R/second [burst B packets] (nft leaves out its default burst, 5) */
struct nftnl_expr *nftstmt_limit(struct nftstmt *b, uint64_t rate, uint32_t burst, bool over)
{
	struct nftnl_expr *e = nftstmt_expr(b, "limit");

	nftstmt_say(b, "limit rate %s%llu/second", over ? "over " : "", (unsigned long long)rate);
	if (burst && burst != 5)
		nftstmt_say(b, "burst %u packets", burst);
	if (!e)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, over ? NFT_LIMIT_F_INV : 0);
	return e;
}

/* dnat ip to address (register 1) [and port (register 9)] */
void nftstmt_dnat(struct nftstmt *b, bool port)
{
	struct nftnl_expr *e = nftstmt_expr(b, "nat");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	if (port)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	nftstmt_add(b, e);
}

/* meta l4proto . th dport vmap @MAP: a jump to the port's segment chain */
void nftstmt_vmap(struct nftstmt *b, enum nftobj_set map)
{
	nftstmt_say(b, "meta l4proto . th dport vmap @%s", nftobj_set_name(map));
	nftstmt_proto_port(b, NFT_REG_1, NFT_REG32_01);
	nftstmt_lookup(b, NFT_REG_1, map, false, NFT_REG_VERDICT);
}

/* The anonymous set of a rule (nft's "__set%d"); one per transaction is all we need. */
#define ANON_SET_ID (NFTOBJ__SETS + 1)

static void anon_set(struct nftstmt *b, const uint8_t *protos, size_t n)
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
void nftstmt_tcp_udp(struct nftstmt *b)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	struct nftnl_expr *e;

	nftstmt_say(b, "meta l4proto { %s, %s }", proto_name(protos[0]), proto_name(protos[1]));
	if (!b->r)
		return;
	anon_set(b, protos, ARRAY_SIZE(protos));
	nftstmt_meta_load(b, NFT_META_L4PROTO, NFT_REG_1);
	e = nftstmt_expr(b, "lookup");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__set%d");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, ANON_SET_ID);
	nftstmt_add(b, e);
}


/* meta mark set meta mark & ~MASK | MARK, written as nft folds it */
void nftstmt_set_mark(struct nftstmt *b, uint32_t mark, uint32_t mask)
{
	if ((~mask | mark) == 0xffffffffu)
		nftstmt_say(b, "meta mark set meta mark | 0x%08x", mark);
	else
		nftstmt_say(b, "meta mark set meta mark & 0x%08x | 0x%08x", ~mask | mark, mark);
	nftstmt_meta_load(b, NFT_META_MARK, NFT_REG_1);
	nftstmt_bitwise(b, NFT_REG_1, ~mask, mark);
	nftstmt_meta_set(b, NFT_META_MARK, NFT_REG_1);
}

void nftstmt_mark_unset(struct nftstmt *b, uint32_t mark, uint32_t mask)
{
	nftstmt_say(b, "meta mark & 0x%08x != 0x%08x", mask, mark);
	nftstmt_meta_load(b, NFT_META_MARK, NFT_REG_1);
	nftstmt_bitwise(b, NFT_REG_1, mask, 0);
	nftstmt_cmp(b, NFT_REG_1, NFT_CMP_NEQ, &mark, 4);
}

/* nft's time format: 1d2h3m4s5ms */
void nftstmt_duration(struct dynbuf *out, uint64_t ms)
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
