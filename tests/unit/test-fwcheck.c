/*
 * The firewall check on the rulesets administrators run (real `nft -j
 * list ruleset` output, see fwcheck/README) and on small hand-made ones:
 * jumps, gotos, loops, verdict maps, interval sets; and the netlink side,
 * on rules built with libnftnl as nft builds them.
 */
#include <netinet/in.h>	/* before the kernel headers, which would redefine in_addr */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <linux/netlink.h>	/* libnftnl/expr.h uses struct nlmsghdr without it (musl) */
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_conntrack.h>
#include <stdlib.h>
#include <string.h>

#include "rules/config.h"
#include "kernel/fwcheck.h"
#include "nftjson.h"
#include "test.h"

static const char *const rules_text =
	"rule realaudio trigger 7070/tcp forward 6970-7170/udp\n";

struct lab {
	struct config *cfg;
	struct iflist wan;
	struct fwcheck_env env;
	struct fwruleset rs;
	struct fwcheck_warning *w;
	int n;
	char text[4][512];
};

static void lab_env(struct lab *l, const char *rules, const char *wan, bool guard)
{
	memset(l, 0, sizeof(*l));
	l->cfg = config_new();
	config_parse_text(l->cfg, "t.conf", rules, strlen(rules));
	CHECK_INT(l->cfg->n_errors, 0);
	iflist_add(&l->wan, wan);
	l->env = (struct fwcheck_env){
		.mark = 0x10000000, .mark_mask = 0x10000000, .guard = guard, .wan = &l->wan,
		.rules = (const struct rule *const *)l->cfg->rules, .n_rules = l->cfg->n_rules,
		.own_table = "ipautofw",
	};
}

static void lab_run(struct lab *l)
{
	l->n = fwcheck_run(&l->rs, &l->env, &l->w);
	for (int i = 0; i < l->n && i < 4; i++) {
		fwcheck_warning_format(&l->w[i], &l->env, l->text[i], sizeof(l->text[i]));
		if (getenv("FWCHECK_SHOW"))
			fprintf(stderr, "  warning: %s\n", l->text[i]);
	}
}

static void lab_fixture(struct lab *l, const char *file, const char *rules, const char *wan,
			bool guard)
{
	char path[512];

	lab_env(l, rules, wan, guard);
	snprintf(path, sizeof(path), "%s/%s", FIXTURES, file);
	CHECK_INT(nftjson_load_file(&l->rs, path), 0);
	lab_run(l);
}

static void lab_free(struct lab *l)
{
	free(l->w);
	fwruleset_free(&l->rs);
	iflist_clear(&l->wan);
	config_free(l->cfg);
}

/* ---- the three firewalls ---- */

static void test_firewalld(void)
{
	struct lab l;

	/* IPv4 passes `ct status dnat accept`; IPv6 ends in the final reject */
	lab_fixture(&l, "firewalld-before.json", rules_text, "wan0", false);
	CHECK_INT(l.n, 1);
	CHECK_STR(l.text[0], "table inet firewalld, chain filter_FORWARD drops IPv6 pinholes "
		  "(rule realaudio, 6970-7170/udp): accept them with 'meta mark and 0x10000000 == "
		  "0x10000000 accept' before the drop");
	lab_free(&l);

	/* a policy external -> internal for the ports: passes, but for every host */
	lab_fixture(&l, "firewalld-after.json", rules_text, "wan0", false);
	CHECK_INT(l.n, 1);
	CHECK_STR(l.text[0], "table inet firewalld, chain filter_FORWARD lets new IPv6 connections "
		  "to the forward ports (rule realaudio, 6970-7170/udp) through to every LAN host, "
		  "not only to pinholes: set 'pinhole-guard on'");
	lab_free(&l);

	/* ... which pinhole-guard answers */
	lab_fixture(&l, "firewalld-after.json", rules_text, "wan0", true);
	CHECK_INT(l.n, 0);
	lab_free(&l);

	/* a rule whose ports the policy does not open */
	lab_fixture(&l, "firewalld-after.json",
		    "rule a trigger 1/tcp forward 6970-7170/udp\nrule b trigger 2/tcp forward 8000/udp\n",
		    "wan0", true);
	CHECK_INT(l.n, 1);
	CHECK_STR(l.text[0], "table inet firewalld, chain filter_FORWARD drops IPv6 pinholes "
		  "(rule b, 8000/udp): accept them with 'meta mark and 0x10000000 == 0x10000000 "
		  "accept' before the drop");
	lab_free(&l);

	/* the policy is for wan0 -> lan0: another WAN interface gets nothing from it */
	lab_fixture(&l, "firewalld-after.json", rules_text, "ppp0", true);
	CHECK_INT(l.n, 1);
	CHECK(l.n == 1 && l.w[0].kind == FWCHECK_DROPS_IPV6);
	lab_free(&l);
}

static void test_ufw(void)
{
	struct lab l;

	/* accepts live in chains reached by jump; the policy is drop */
	lab_fixture(&l, "ufw-before.json", rules_text, "wan0", false);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.text[0], "table ip filter, chain FORWARD drops IPv4 forwardings (rule realaudio, "
		  "6970-7170/udp): accept them with 'ct status dnat accept' before the drop");
	CHECK_STR(l.text[1], "table ip6 filter, chain FORWARD drops IPv6 pinholes (rule realaudio, "
		  "6970-7170/udp): accept them with 'meta mark and 0x10000000 == 0x10000000 accept' "
		  "before the drop");
	lab_free(&l);

	/* the two lines in before.rules and before6.rules, two jumps down */
	lab_fixture(&l, "ufw-after.json", rules_text, "wan0", false);
	CHECK_INT(l.n, 0);
	lab_free(&l);

	/* no rules yet: any forward port */
	lab_fixture(&l, "ufw-before.json", "", "wan0", false);
	CHECK_INT(l.n, 2);
	CHECK(strstr(l.text[0], "drops IPv4 forwardings (any forward port)"));
	lab_free(&l);
}

static void test_fw4(void)
{
	struct lab l;

	/* fw4's default: the WAN zone rejects forwards, mangle_forward is harmless */
	lab_fixture(&l, "fw4-before.json", rules_text, "veth-wan", false);
	CHECK_INT(l.n, 2);
	CHECK(l.n == 2 && l.w[0].kind == FWCHECK_DROPS_IPV4 && l.w[1].kind == FWCHECK_DROPS_IPV6);
	CHECK_STR(l.text[0], "table inet fw4, chain forward drops IPv4 forwardings (rule realaudio, "
		  "6970-7170/udp): accept them with 'ct status dnat accept' before the drop");
	lab_free(&l);

	/* with the README's include: both lines on top of the forward chain */
	lab_fixture(&l, "fw4-after.json", rules_text, "veth-wan", false);
	CHECK_INT(l.n, 0);
	lab_free(&l);

	/* ISAKMP is forwarded to the LAN by default: a rule on udp 500 passes, to every host */
	lab_fixture(&l, "fw4-before.json", "rule ike trigger 1/udp forward 500/udp\n", "veth-wan", false);
	CHECK_INT(l.n, 1);
	CHECK(l.n == 1 && l.w[0].kind == FWCHECK_OPEN_IPV6);
	lab_free(&l);
}

/* ---- hand-made rulesets ---- */

static const char *base_json(const char *chains, const char *rules)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"t\"}}%s%s]}",
		 chains, rules);
	return buf;
}

static int run_json(const char *json, const char *rules_conf, struct lab *l)
{
	lab_env(l, rules_conf, "wan0", false);
	CHECK_INT(nftjson_load(&l->rs, json, NULL), 0);
	lab_run(l);
	return l->n;
}

#define CHAIN(name, extra) \
	", {\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"" name "\"" extra "}}"
#define BASE(name, policy) \
	CHAIN(name, ", \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"" policy "\"")
#define RULE(chain, expr) \
	", {\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"" chain "\", \"expr\": [" expr "]}}"
#define DNAT_ACCEPT "{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"status\"}}, \"right\": \"dnat\"}}, {\"accept\": null}"
#define MARK_ACCEPT "{\"match\": {\"op\": \"==\", \"left\": {\"&\": [{\"meta\": {\"key\": \"mark\"}}, 268435456]}, \"right\": 268435456}}, {\"accept\": null}"

static void test_jumps(void)
{
	struct lab l;

	/* accepts two jumps down count */
	run_json(base_json(BASE("fwd", "drop") CHAIN("a", "") CHAIN("b", ""),
			   RULE("fwd", "{\"jump\": {\"target\": \"a\"}}")
			   RULE("a", "{\"jump\": {\"target\": \"b\"}}")
			   RULE("b", DNAT_ACCEPT) RULE("b", MARK_ACCEPT)), rules_text, &l);
	CHECK_INT(l.n, 0);
	lab_free(&l);

	/* a goto does not come back: what follows the goto is not reached */
	run_json(base_json(BASE("fwd", "accept") CHAIN("a", ""),
			   RULE("fwd", "{\"goto\": {\"target\": \"a\"}}")
			   RULE("fwd", "{\"drop\": null}")), rules_text, &l);
	CHECK_INT(l.n, 0);
	lab_free(&l);
	/* a jump does: the final drop applies */
	run_json(base_json(BASE("fwd", "accept") CHAIN("a", ""),
			   RULE("fwd", "{\"jump\": {\"target\": \"a\"}}")
			   RULE("fwd", "{\"reject\": null}")), rules_text, &l);
	CHECK_INT(l.n, 2);
	lab_free(&l);

	/* a jump under a condition that cannot be told: its accept may apply */
	run_json(base_json(BASE("fwd", "drop") CHAIN("a", ""),
			   RULE("fwd", "{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"th\", \"field\": \"sport\"}}, \"right\": 1234}}, {\"jump\": {\"target\": \"a\"}}")
			   RULE("a", "{\"accept\": null}")), rules_text, &l);
	CHECK_INT(l.n, 0);
	lab_free(&l);

	/* a loop (which the kernel would refuse) and a missing chain end nothing */
	run_json(base_json(BASE("fwd", "drop") CHAIN("a", "") CHAIN("b", ""),
			   RULE("fwd", "{\"jump\": {\"target\": \"a\"}}")
			   RULE("a", "{\"jump\": {\"target\": \"b\"}}")
			   RULE("b", "{\"jump\": {\"target\": \"a\"}}")
			   RULE("b", "{\"jump\": {\"target\": \"nowhere\"}}")), rules_text, &l);
	CHECK_INT(l.n, 0);
	lab_free(&l);
}

static void test_conditions(void)
{
	struct lab l;

	/* LAN -> WAN accepts and established accepts do not cover new inbound connections */
	run_json(base_json(BASE("fwd", "drop"),
			   RULE("fwd", "{\"match\": {\"op\": \"==\", \"left\": {\"ct\": {\"key\": \"state\"}}, \"right\": {\"set\": [\"established\", \"related\"]}}}, {\"accept\": null}")
			   RULE("fwd", "{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"iifname\"}}, \"right\": \"lan0\"}}, {\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"oifname\"}}, \"right\": \"wan0\"}}, {\"accept\": null}")
			   RULE("fwd", "{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": 22}}, {\"accept\": null}")
			   RULE("fwd", "{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"l4proto\"}}, \"right\": {\"set\": [\"icmp\", \"ipv6-icmp\"]}}}, {\"accept\": null}")
			   RULE("fwd", "{\"limit\": {\"rate\": 3, \"per\": \"minute\"}}, {\"log\": {\"prefix\": \"x\"}}")),
		 rules_text, &l);
	CHECK_INT(l.n, 2);
	lab_free(&l);

	/*
	 * ports: a range covering the forward range accepts (for IPv6 for
	 * every host: that wants pinhole-guard), one that overlaps only may
	 */
	run_json(base_json(BASE("fwd", "drop"),
			   RULE("fwd", "{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"udp\", \"field\": \"dport\"}}, \"right\": {\"range\": [6000, 8000]}}}, {\"accept\": null}")),
		 rules_text, &l);
	CHECK_INT(l.n, 1);
	CHECK(l.n == 1 && l.w[0].kind == FWCHECK_OPEN_IPV6);
	lab_free(&l);
	run_json(base_json(BASE("fwd", "drop"),
			   RULE("fwd", "{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": {\"range\": [6000, 8000]}}}, {\"accept\": null}")),
		 rules_text, &l);
	CHECK_INT(l.n, 2);	/* tcp, not udp */
	lab_free(&l);
	run_json(base_json(BASE("fwd", "drop"),
			   RULE("fwd", "{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"udp\", \"field\": \"dport\"}}, \"right\": {\"set\": [{\"range\": [6970, 7000]}, 7100]}}}, {\"accept\": null}")),
		 rules_text, &l);
	CHECK_INT(l.n, 0);	/* partly: may */
	lab_free(&l);

	/* a mark line that wants the pinhole bit clear does not pass pinholes */
	run_json(base_json(BASE("fwd", "drop"),
			   RULE("fwd", "{\"match\": {\"op\": \"==\", \"left\": {\"&\": [{\"meta\": {\"key\": \"mark\"}}, 268435456]}, \"right\": 0}}, {\"accept\": null}")),
		 rules_text, &l);
	CHECK_INT(l.n, 1);
	CHECK(l.n == 1 && l.w[0].kind == FWCHECK_DROPS_IPV6);
	lab_free(&l);

	/* a verdict map on ct state: only established and related accept */
	run_json(base_json(BASE("fwd", "drop"),
			   RULE("fwd", "{\"vmap\": {\"key\": {\"ct\": {\"key\": \"state\"}}, \"data\": {\"set\": [[\"established\", {\"accept\": null}], [\"related\", {\"accept\": null}]]}}}")),
		 rules_text, &l);
	CHECK_INT(l.n, 2);
	lab_free(&l);
	/* ... and one that sends new connections on */
	run_json(base_json(BASE("fwd", "drop") CHAIN("new", ""),
			   RULE("fwd", "{\"vmap\": {\"key\": {\"ct\": {\"key\": \"state\"}}, \"data\": {\"set\": [[\"established\", {\"accept\": null}], [\"new\", {\"jump\": {\"target\": \"new\"}}]]}}}")
			   RULE("new", DNAT_ACCEPT) RULE("new", MARK_ACCEPT)),
		 rules_text, &l);
	CHECK_INT(l.n, 0);
	lab_free(&l);

	/* policy accept, nothing dropped: nothing to say */
	run_json(base_json(BASE("fwd", "accept"), ""), rules_text, &l);
	CHECK_INT(l.n, 0);
	lab_free(&l);
}

static void test_families_and_prio(void)
{
	struct lab l;
	const char *json =
		"{\"nftables\": ["
		"{\"chain\": {\"family\": \"ip6\", \"table\": \"s\", \"name\": \"f\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}},"
		"{\"chain\": {\"family\": \"inet\", \"table\": \"ipautofw\", \"name\": \"trigger\", \"hook\": \"forward\", \"prio\": 2147483647, \"policy\": \"drop\"}},"
		"{\"chain\": {\"family\": \"inet\", \"table\": \"late\", \"name\": \"f\", \"hook\": \"forward\", \"prio\": 2147483647, \"policy\": \"accept\"}}"
		"]}";

	/* an ip6 table sees IPv6 only; our own table is not checked; a tie is named */
	run_json(json, "rule a trigger 1/tcp forward 2/udp family ipv4\n"
		 "rule b trigger 1/tcp forward 3/udp family ipv6\n", &l);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.text[0], "table ip6 s, chain f drops IPv6 pinholes (rule b, 3/udp): accept them "
		  "with 'meta mark and 0x10000000 == 0x10000000 accept' before the drop");
	CHECK_STR(l.text[1], "table inet late, chain f has priority 2147483647, like ipautofw's "
		  "trigger chain: which of the two runs first depends on which was loaded last");
	lab_free(&l);
}

/* ---- from netlink: rules as nft builds them ---- */

static struct nftnl_expr *expr(const char *name)
{
	return nftnl_expr_alloc(name);
}

static struct nftnl_rule *nl_rule(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

static void nl_load(struct nftnl_rule *r, const char *name, uint16_t key_attr, uint32_t key,
		    uint16_t dreg_attr)
{
	struct nftnl_expr *e = expr(name);

	nftnl_expr_set_u32(e, key_attr, key);
	nftnl_expr_set_u32(e, dreg_attr, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
}

static void nl_bitwise(struct nftnl_rule *r, uint32_t mask)
{
	struct nftnl_expr *e = expr("bitwise");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	nftnl_rule_add_expr(r, e);
}

static void nl_cmp(struct nftnl_rule *r, uint32_t op, const void *data, size_t len)
{
	struct nftnl_expr *e = expr("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

static void nl_verdict(struct nftnl_rule *r, int v, const char *chain)
{
	struct nftnl_expr *e = expr("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
}

static void nl_chain(struct fwruleset *rs, const char *name, bool base, uint32_t policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, "t");
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (base) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 10);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	}
	CHECK_INT(fwdecode_chain(rs, c), 0);
	nftnl_chain_free(c);
}

static void add(struct fwruleset *rs, struct nftnl_rule *r)
{
	CHECK_INT(fwdecode_rule(rs, r), 0);
	nftnl_rule_free(r);
}

static void test_netlink(void)
{
	struct lab l;
	struct nftnl_rule *r;
	char name[16] = "lan0";
	uint32_t zero = 0, mark = 0x10000000;
	uint16_t lo = htons(6000), hi = htons(8000);

	lab_env(&l, rules_text, "wan0", false);
	/* firewalld's shape: policy accept, a final reject, accepts in a jumped-to chain */
	nl_chain(&l.rs, "filter_FORWARD", true, NF_ACCEPT);
	nl_chain(&l.rs, "zones", false, 0);
	r = nl_rule("filter_FORWARD");	/* ct status dnat accept */
	nl_load(r, "ct", NFTNL_EXPR_CT_KEY, NFT_CT_STATUS, NFTNL_EXPR_CT_DREG);
	nl_bitwise(r, 0x20);
	nl_cmp(r, NFT_CMP_NEQ, &zero, 4);
	nl_verdict(r, NF_ACCEPT, NULL);
	add(&l.rs, r);
	r = nl_rule("filter_FORWARD");
	nl_verdict(r, NFT_JUMP, "zones");
	add(&l.rs, r);
	r = nl_rule("filter_FORWARD");
	nftnl_rule_add_expr(r, expr("reject"));
	add(&l.rs, r);
	lab_run(&l);
	CHECK_INT(l.n, 1);
	CHECK(l.n == 1 && l.w[0].kind == FWCHECK_DROPS_IPV6 && !strcmp(l.w[0].chain, "filter_FORWARD"));
	free(l.w);

	/* oifname "lan0" meta mark and 0x10000000 == 0x10000000 accept, in the jumped-to chain */
	r = nl_rule("zones");
	nl_load(r, "meta", NFTNL_EXPR_META_KEY, NFT_META_OIFNAME, NFTNL_EXPR_META_DREG);
	nl_cmp(r, NFT_CMP_EQ, name, sizeof(name));
	nl_load(r, "meta", NFTNL_EXPR_META_KEY, NFT_META_MARK, NFTNL_EXPR_META_DREG);
	nl_bitwise(r, 0x10000000);
	nl_cmp(r, NFT_CMP_EQ, &mark, 4);
	nl_verdict(r, NF_ACCEPT, NULL);
	add(&l.rs, r);
	lab_run(&l);
	CHECK_INT(l.n, 0);
	free(l.w);
	/* iifname "lan*": a wildcard that is not the WAN side */
	fwruleset_free(&l.rs);
	nl_chain(&l.rs, "filter_FORWARD", true, NF_DROP);
	r = nl_rule("filter_FORWARD");
	nl_load(r, "meta", NFTNL_EXPR_META_KEY, NFT_META_IIFNAME, NFTNL_EXPR_META_DREG);
	nl_cmp(r, NFT_CMP_EQ, "lan", 3);
	nl_verdict(r, NF_ACCEPT, NULL);
	add(&l.rs, r);
	lab_run(&l);
	CHECK_INT(l.n, 2);
	free(l.w);
	fwruleset_free(&l.rs);

	/* rebuilt with the payload offset and length, and the mark line */
	nl_chain(&l.rs, "filter_FORWARD", true, NF_ACCEPT);
	r = nl_rule("filter_FORWARD");
	{
		struct nftnl_expr *e = expr("payload");

		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_rule_add_expr(r, e);
	}
	nl_cmp(r, NFT_CMP_GTE, &lo, 2);
	nl_cmp(r, NFT_CMP_LTE, &hi, 2);
	nl_load(r, "meta", NFTNL_EXPR_META_KEY, NFT_META_MARK, NFTNL_EXPR_META_DREG);
	nl_bitwise(r, 0x10000000);
	nl_cmp(r, NFT_CMP_EQ, &mark, 4);
	nl_verdict(r, NF_ACCEPT, NULL);
	add(&l.rs, r);
	r = nl_rule("filter_FORWARD");
	nftnl_rule_add_expr(r, expr("reject"));
	add(&l.rs, r);
	lab_run(&l);
	CHECK_INT(l.n, 1);	/* IPv6 passes (ports and mark), IPv4 does not */
	CHECK(l.n == 1 && l.w[0].kind == FWCHECK_DROPS_IPV4);
	lab_free(&l);
}

/* iptables-nft's -m conntrack, as ufw's rules carry it: xt_conntrack_mtinfo3 */
static void xt_rule(struct fwruleset *rs, uint16_t state_mask, bool invert)
{
	struct nftnl_rule *r = nl_rule("FORWARD");
	struct nftnl_expr *e = expr("match");
	uint8_t *info = calloc(1, 168);	/* libnftnl keeps (and frees) this very buffer */
	uint16_t flags = XT_CONNTRACK_STATE, inv = invert ? XT_CONNTRACK_STATE : 0;

	memcpy(info + 146, &flags, 2);
	memcpy(info + 148, &inv, 2);
	memcpy(info + 150, &state_mask, 2);
	nftnl_expr_set_str(e, NFTNL_EXPR_MT_NAME, "conntrack");
	nftnl_expr_set_u32(e, NFTNL_EXPR_MT_REV, 3);
	nftnl_expr_set(e, NFTNL_EXPR_MT_INFO, info, 168);
	nftnl_rule_add_expr(r, e);
	nl_verdict(r, NF_ACCEPT, NULL);
	add(rs, r);
}

static void test_netlink_xt(void)
{
	struct lab l;

	lab_env(&l, rules_text, "wan0", false);
	nl_chain(&l.rs, "FORWARD", true, NF_DROP);
	xt_rule(&l.rs, 0x02 | 0x04, false);	/* --ctstate RELATED,ESTABLISHED */
	lab_run(&l);
	CHECK_INT(l.n, 2);
	free(l.w);
	xt_rule(&l.rs, 0x80, false);		/* --ctstate DNAT */
	lab_run(&l);
	CHECK_INT(l.n, 1);
	CHECK(l.n == 1 && l.w[0].kind == FWCHECK_DROPS_IPV6);
	lab_free(&l);

	lab_env(&l, rules_text, "wan0", false);
	nl_chain(&l.rs, "FORWARD", true, NF_DROP);
	xt_rule(&l.rs, 0x08, true);		/* ! --ctstate NEW */
	lab_run(&l);
	CHECK_INT(l.n, 2);
	lab_free(&l);
}

/* what the kernel might send that the check cannot use: told apart from no memory */
static void test_netlink_malformed(void)
{
	struct fwruleset rs = { 0 };
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, "t");
	CHECK_INT(fwdecode_chain(&rs, c), -EBADMSG);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "c");
	CHECK_INT(fwdecode_rule(&rs, r), -EBADMSG);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, "t");
	CHECK_INT(fwdecode_set(&rs, s), -EBADMSG);
	CHECK_INT(fwdecode_elems(&rs, s), -EBADMSG);
	/* a set no rule looks up, a rule of a chain not known: nothing to do */
	nftnl_set_set_str(s, NFTNL_SET_NAME, "unused");
	CHECK_INT(fwdecode_set(&rs, s), 0);
	CHECK_INT(fwdecode_elems(&rs, s), 0);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
	CHECK_INT(fwdecode_rule(&rs, r), 0);
	CHECK_INT(rs.n_chains + rs.n_sets, 0);
	nftnl_set_free(s);
	nftnl_rule_free(r);
	nftnl_chain_free(c);
	fwruleset_free(&rs);
}

TEST_MAIN(T(test_firewalld), T(test_ufw), T(test_fw4), T(test_jumps), T(test_conditions),
	  T(test_families_and_prio), T(test_netlink), T(test_netlink_xt), T(test_netlink_malformed))
