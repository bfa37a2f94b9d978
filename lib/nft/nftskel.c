/*
 * The skeleton: the objects of nftobj and the fixed rules of the base
 * chains, statement by statement (nftstmt); see nftskel.h. The rules
 * table says which chain each rule goes to, in the order nft lists them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libnftnl/expr.h>
#include <net/if_arp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "nftdefs.h"
#include "nftskel.h"
#include "nftstmt.h"
#include "base/util.h"

/*
 * update @ratell { ether saddr limit rate over R/second burst B packets }:
 * the rule goes on only for a machine over its log budget (nft's implied
 * match: meta iiftype ether, which the vetted sources' lookup made sure of).
 */
static void st_rate_over(struct nftstmt *b)
{
	struct nftnl_expr *e, *limit;
	uint16_t ether = ARPHRD_ETHER;

	nftstmt_say(b, "update @%s { ether saddr", nftobj_set_name(NFTOBJ_RATELL));
	nftstmt_meta_load(b, NFT_META_IIFTYPE, NFT_REG_1);
	nftstmt_cmp(b, NFT_REG_1, NFT_CMP_EQ, &ether, sizeof(ether));
	nftstmt_payload(b, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG_1);
	limit = nftstmt_limit(b, NFTOBJ_RATE, NFTOBJ_BURST, true);
	nftstmt_say(b, "}");
	e = nftstmt_expr(b, "dynset");
	if (!e || !limit) {
		if (limit)
			nftnl_expr_free(limit);
		if (e)
			nftnl_expr_free(e);
		return;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, nftobj_set_name(NFTOBJ_RATELL));
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, NFTOBJ_RATELL + 1);
	nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, limit, 0);
	nftstmt_add(b, e);
}

/* fib saddr . iif oif missing: the route back does not leave where the packet came in */
static void st_no_reverse_path(struct nftstmt *b)
{
	uint32_t zero = 0;

	nftstmt_say(b, "fib saddr . iif oif missing");
	nftstmt_fib(b, NFTA_FIB_F_SADDR | NFTA_FIB_F_IIF | NFTA_FIB_F_PRESENT, NFT_FIB_RESULT_OIF);
	nftstmt_cmp(b, NFT_REG_1, NFT_CMP_EQ, &zero, 4);
}

static void st_saddr_not_unicast(struct nftstmt *b)
{
	uint32_t unicast = RTN_UNICAST;

	nftstmt_say(b, "fib saddr type != unicast");
	nftstmt_fib(b, NFTA_FIB_F_SADDR, NFT_FIB_RESULT_ADDRTYPE);
	nftstmt_cmp(b, NFT_REG_1, NFT_CMP_NEQ, &unicast, 4);
}


/* dnat ip to meta l4proto . th dport map @redir4: the address and the port */
static void st_dnat_redir(struct nftstmt *b)
{
	nftstmt_say(b, "dnat ip to meta l4proto . th dport map @%s", nftobj_set_name(NFTOBJ_REDIR4));
	nftstmt_proto_port(b, NFT_REG_1, NFT_REG32_01);
	nftstmt_lookup(b, NFT_REG_1, NFTOBJ_REDIR4, false, NFT_REG_1);
	nftstmt_dnat(b, true);
}


/*
 * ct state new oifname @wanif iifname != @wanif meta l4proto . th dport @triggers
 *   meta nfproto F jump triggerF
 * (a packet that came in on a WAN interface never triggers)
 */
static void rule_trigger(struct nftstmt *b, const struct nftobj_params *p, int v6)
{
	nftstmt_ct_new(b);
	nftstmt_wanif(b, true, false);
	nftstmt_wanif(b, false, true);
	nftstmt_proto_port_in(b, NFTOBJ_TRIGGERS);
	nftstmt_nfproto(b, v6, false);
	nftstmt_verdict(b, NFT_JUMP, nftobj_chains[v6 ? CHAIN_TRIGGER6 : CHAIN_TRIGGER4].name);
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
static void st_src_vetted(struct nftstmt *b, bool v6)
{
	enum nftobj_set set = v6 ? NFTOBJ_SRC6OK : NFTOBJ_SRC4OK;
	uint16_t ether = ARPHRD_ETHER;

	nftstmt_say(b, "iifname . %s saddr . ether saddr @%s", v6 ? "ip6" : "ip", nftobj_set_name(set));
	nftstmt_need_nfproto(b, v6);
	nftstmt_meta_load(b, NFT_META_IIFTYPE, NFT_REG_1);
	nftstmt_cmp(b, NFT_REG_1, NFT_CMP_EQ, &ether, sizeof(ether));
	nftstmt_meta_load(b, NFT_META_IIFNAME, NFT_REG_1);
	nftstmt_payload(b, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4, NFT_REG_2);
	nftstmt_payload(b, NFT_PAYLOAD_LL_HEADER, 6, 6, v6 ? NFT_REG_3 : NFT_REG32_05);
	nftstmt_lookup(b, NFT_REG_1, set, false, -1);
}

static void rule_trigger_family(struct nftstmt *b, bool v6, int step)
{
	switch (step) {
	case TRIG_REVERSE_PATH:
		st_no_reverse_path(b);
		nftstmt_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_FORGED].name);
		break;
	case TRIG_ADDRESS_TYPE:
		st_saddr_not_unicast(b);
		nftstmt_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_FORGED].name);
		break;
	case TRIG_VETTED:
		st_src_vetted(b, v6);
		nftstmt_verdict(b, NFT_GOTO, nftobj_chains[v6 ? CHAIN_TRIG_VETTED6 : CHAIN_TRIG_VETTED4].name);
		break;
	case TRIG_SHARED:
		nftstmt_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_SHARED].name);
		break;
	}
}

static void rule_trigger4(struct nftstmt *b, const struct nftobj_params *p, int step)
{
	rule_trigger_family(b, false, step);
}

static void rule_trigger6(struct nftstmt *b, const struct nftobj_params *p, int step)
{
	rule_trigger_family(b, true, step);
}

static void rule_vetted(struct nftstmt *b, bool v6, int step)
{
	switch (step) {
	case VETTED_RATE:
		st_rate_over(b);
		nftstmt_counter(b, NFTOBJ_CTR_LIMITED);
		nftstmt_verdict(b, NFT_RETURN, NULL);
		break;
	case VETTED_KERNEL:
		nftstmt_vmap(b, v6 ? NFTOBJ_TRIG6V : NFTOBJ_TRIG4V);
		break;
	case VETTED_LOG:
		nftstmt_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_LOG].name);
		break;
	}
}

static void rule_vetted4(struct nftstmt *b, const struct nftobj_params *p, int step)
{
	rule_vetted(b, false, step);
}

static void rule_vetted6(struct nftstmt *b, const struct nftobj_params *p, int step)
{
	rule_vetted(b, true, step);
}

/* Every unvetted source: one budget */
static void rule_shared(struct nftstmt *b, const struct nftobj_params *p, int log)
{
	if (log) {
		nftstmt_verdict(b, NFT_GOTO, nftobj_chains[CHAIN_TRIG_LOG].name);
		return;
	}
	nftstmt_add(b, nftstmt_limit(b, NFTOBJ_RATE, NFTOBJ_BURST, true));
	nftstmt_counter(b, NFTOBJ_CTR_LIMITED_SHARED);
	nftstmt_verdict(b, NFT_RETURN, NULL);
}

/* The end of a genuine trigger's way */
static void rule_log(struct nftstmt *b, const struct nftobj_params *p, int unused)
{
	nftstmt_counter(b, NFTOBJ_CTR_TRIGGERS);
	nftstmt_log(b, p->nflog_group, NULL);
}

/* ... and of a forged one's: counted, its log rate-limited */
static void rule_forged(struct nftstmt *b, const struct nftobj_params *p, int unused)
{
	nftstmt_counter(b, NFTOBJ_CTR_FORGED);
	nftstmt_add(b, nftstmt_limit(b, NFTOBJ_FORGED_LOG_RATE, NFTOBJ_FORGED_LOG_RATE, false));
	nftstmt_log(b, p->nflog_group, NFTOBJ_FORGED_PREFIX);
}

/*
 * IPv4 forwardings: new connections to the router's own address, DNATed
 * in the chain of their port's segment (REDIR: port redirections, by map)
 */
static void rule_dnat(struct nftstmt *b, const struct nftobj_params *p, int redir)
{
	nftstmt_wanif(b, false, false);
	nftstmt_local_daddr(b);
	nftstmt_nfproto(b, false, false);
	if (redir) {
		nftstmt_tcp_udp(b);
		st_dnat_redir(b);
	} else {
		nftstmt_vmap(b, NFTOBJ_FWD4V);
	}
}

/* IPv6 forwardings: pinholes, marked (in their port's segment chain) for the administrator's forward chain */
static void rule_pinhole(struct nftstmt *b, const struct nftobj_params *p, int unused)
{
	nftstmt_wanif(b, false, false);
	nftstmt_ct_new(b);
	nftstmt_nfproto(b, true, false);
	nftstmt_vmap(b, NFTOBJ_FWD6V);
}

/*
 * pinhole-guard: a new inbound IPv6 connection from WAN to a guarded port
 * that no pinhole rule marked is dropped. A drop is final in every table,
 * so a firewall that opens the whole port range to the LAN (firewalld
 * policies cannot match the mark) still opens only the pinholes.
 */
static void rule_guard(struct nftstmt *b, const struct nftobj_params *p, int unused)
{
	nftstmt_wanif(b, false, false);
	nftstmt_ct_new(b);
	nftstmt_nfproto(b, true, false);
	nftstmt_mark_unset(b, p->mark, p->mark_mask);
	nftstmt_proto_port_in(b, NFTOBJ_GUARD6);
	nftstmt_verdict(b, NF_DROP, NULL);
}

/* limit rate R/second burst B packets log group G ...: learn mode's log, bounded */
static void st_learn_log(struct nftstmt *b, const struct nftobj_params *p)
{
	nftstmt_add(b, nftstmt_limit(b, NFTOBJ_LEARN_RATE, NFTOBJ_LEARN_BURST, false));
	nftstmt_log(b, p->learn_group, NULL);
}

/*
 * Learn mode, IPv4: after the DNAT rules, so only what no forwarding
 * took: a new connection to the router's own address from a peer listed
 * in @learn4. The lookup comes first: for anyone else that is all it costs.
 */
static void rule_learn4(struct nftstmt *b, const struct nftobj_params *p, int unused)
{
	nftstmt_nfproto(b, false, true);
	nftstmt_say(b, "ip saddr @%s", nftobj_set_name(NFTOBJ_LEARN4));
	nftstmt_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
	nftstmt_lookup(b, NFT_REG_1, NFTOBJ_LEARN4, false, -1);
	nftstmt_wanif(b, false, false);
	nftstmt_local_daddr(b);
	st_learn_log(b, p);
}

/*
 * Learn mode, IPv6: after the pinhole rules, a new connection from a peer
 * listed in @learn6 to the host that contacted it, that no pinhole marked.
 * Other packets pay a conntrack state test, new ones one lookup more.
 */
static void rule_learn6(struct nftstmt *b, const struct nftobj_params *p, int unused)
{
	nftstmt_ct_new(b);
	nftstmt_nfproto(b, true, true);
	nftstmt_say(b, "ip6 saddr . ip6 daddr @%s", nftobj_set_name(NFTOBJ_LEARN6));
	nftstmt_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_1);
	nftstmt_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_2);
	nftstmt_lookup(b, NFT_REG_1, NFTOBJ_LEARN6, false, -1);
	nftstmt_wanif(b, false, false);
	nftstmt_mark_unset(b, p->mark, p->mark_mask);
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
	void (*build)(struct nftstmt *b, const struct nftobj_params *p, int arg);
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

bool nftskel_rule_is_rpf(const char *what)
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
	struct nftstmt rb;
	int r = nftstmt_begin(&rb, b, nftobj_chains[d->chain].name);

	if (r < 0)
		return r;
	d->build(&rb, p, d->arg);
	return nftstmt_end(&rb, d->what);
}

int nftskel_build(struct nlbatch *b, const struct nftobj_params *p)
{
	int r = nftobj_add_objects(b, p);

	for (size_t i = 0; i < ARRAY_SIZE(rules) && r == 0; i++)
		if (rule_wanted(&rules[i], p))
			r = add_rule(b, p, &rules[i]);
	return r;
}

void nftskel_rules_text(struct dynbuf *out, const struct nftobj_params *p, int chain)
{
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		struct nftstmt rb = { .text = out };

		if (rules[i].chain != chain || !rule_wanted(&rules[i], p))
			continue;
		dynbuf_printf(out, "\t\t");
		rules[i].build(&rb, p, rules[i].arg);
		dynbuf_printf(out, "\n");
	}
}
