/*
 * The engine's read-only views: the running rules, the forwardings of
 * each rule by family, and what the firewall check is given.
 */
#include <arpa/inet.h>

#include "control/view.h"
#include "engine/trigger.h"
#include "test.h"

static const char conf[] =
	"rule ra trigger 7070/tcp forward 6970-7170/udp\n"
	"rule pv trigger 5060/udp forward 10000/udp peer family ipv6\n"
	"rule st forward 27015/udp to 192.168.7.20\n"
	"pinhole-guard on\n";

static void setup(struct engine *e)
{
	struct config *c = config_new();
	struct iflist wan = { 0 };

	config_parse_text(c, "t.conf", conf, strlen(conf));
	CHECK_INT(c->n_errors, 0);
	engine_init(e);
	iflist_add(&wan, "wan0");
	engine_set_auto_wan(e, &wan);
	iflist_clear(&wan);
	CHECK_INT(engine_set_config(e, c, 0, NULL, NULL), 0);
}

static void test_empty(void)
{
	struct engine e;
	struct iflist wan = { 0 };
	struct fwcheck_env env;

	engine_init(&e);
	CHECK(view_config(&e) == NULL);
	CHECK(view_find_rule(&e, "ra") == NULL);
	CHECK_INT(view_rule_forwardings(&e, NULL), 0);
	CHECK_INT(view_fwcheck_env(&e, &wan, &env), 0);
	CHECK_INT(view_stats(&e)->triggers_seen, 0);
	CHECK_INT(view_table(&e)->n, 0);
	engine_fini(&e);
}

static void test_rules(void)
{
	struct engine e;

	setup(&e);
	CHECK_INT(view_config(&e)->n_rules, 3);
	CHECK_STR(view_find_rule(&e, "pv")->name, "pv");
	CHECK(view_find_rule(&e, "nope") == NULL);
	engine_fini(&e);
}

/* per rule, in the configuration's order: IPv4, IPv6 (ra's port goes to one host at a time) */
static void test_rule_forwardings(void)
{
	static const struct {
		int af;
		const char *src;
		const char *dst;
		uint8_t proto;
		uint16_t dport;
	} triggers[] = {
		{ AF_INET, "192.168.7.2", "203.0.113.9", IPPROTO_TCP, 7070 },
		{ AF_INET, "192.168.7.3", "203.0.113.9", IPPROTO_TCP, 7070 },
		{ AF_INET6, "2001:db8::5", "2001:db8:ffff::9", IPPROTO_UDP, 5060 },
	};
	uint64_t n[3][2] = { { 9, 9 }, { 9, 9 }, { 9, 9 } };
	struct engine e;

	setup(&e);
	for (size_t i = 0; i < ARRAY_SIZE(triggers); i++) {
		struct nflog_pkt p = { .af = triggers[i].af, .proto = triggers[i].proto,
				       .dport = triggers[i].dport };
		struct trigger_result res;

		inet_pton(p.af, triggers[i].src, &p.saddr);
		inet_pton(p.af, triggers[i].dst, &p.daddr);
		CHECK_INT(trigger_fire(&e, &p, NULL, "lan0", "wan0", 1000, NULL, &res), 0);
		CHECK_INT(res.fired, 1);
	}
	CHECK_INT(view_rule_forwardings(&e, n), 0);
	CHECK_INT(n[0][0], 1);
	CHECK_INT(n[0][1], 0);
	CHECK_INT(n[1][0], 0);
	CHECK_INT(n[1][1], 1);
	CHECK_INT(n[2][0], 1);
	CHECK_INT(n[2][1], 0);
	CHECK_INT(view_stats(&e)->triggers_seen, 3);
	CHECK_INT(view_table(&e)->stats.opened, 2);
	CHECK_INT(view_table(&e)->stats.taken_over, 1);
	engine_fini(&e);
}

static void test_fwcheck_env(void)
{
	struct iflist wan = { 0 };
	struct fwcheck_env env;
	struct engine e;

	setup(&e);
	CHECK_INT(view_fwcheck_env(&e, &wan, &env), 1);
	CHECK(env.wan == &wan);
	CHECK_INT(wan.n, 1);
	CHECK_STR(wan.names[0], "wan0");
	CHECK(env.guard);
	CHECK(env.lan == NULL);
	CHECK_INT(env.n_rules, 3);
	CHECK_STR(env.own_table, NFTOBJ_TABLE);
	iflist_clear(&wan);
	engine_fini(&e);
}

TEST_MAIN(T(test_empty), T(test_rules), T(test_rule_forwardings), T(test_fwcheck_env))
