/*
 * What `ipautofwctl list` and `ipautofwctl rules` print, as text and as
 * JSON: static, peer and IPv6 rows, and the durations left and since.
 */
#include <arpa/inet.h>

#include "engine/engine.h"
#include "engine/trigger.h"
#include "base/json.h"
#include "control/report.h"
#include "test.h"

static struct engine eng;

static const char conf[] =
	"rule ra trigger 7070/tcp forward 6970-7170/udp timeout 2h\n"
	"rule pv trigger 5060/udp forward 10000/udp,10200-10210/tcp peer timeout 90s family ipv6\n"
	"rule st forward 27015/udp to 192.168.7.20\n"
	"rule s6 forward 443/tcp to 2001:db8::20\n";

static struct nflog_pkt pkt(int af, const char *src, const char *dst, uint8_t proto,
			    uint16_t dport)
{
	struct nflog_pkt p = { .af = af, .proto = proto, .dport = dport };

	inet_pton(af, src, &p.saddr);
	inet_pton(af, dst, &p.daddr);
	return p;
}

/* ra triggered by 192.168.7.2 at 1 s, pv by 2001:db8::5 toward 2001:db8:ffff::9 at 2 s */
static void setup(void)
{
	struct config *c = config_new();
	struct iflist wan = { 0 };
	struct nflog_pkt a = pkt(AF_INET, "192.168.7.2", "203.0.113.9", IPPROTO_TCP, 7070);
	struct nflog_pkt b = pkt(AF_INET6, "2001:db8::5", "2001:db8:ffff::9", IPPROTO_UDP, 5060);
	struct trigger_result res;

	config_parse_text(c, "t.conf", conf, strlen(conf));
	CHECK_INT(c->n_errors, 0);
	engine_init(&eng);
	iflist_add(&wan, "wan0");
	engine_set_auto_wan(&eng, &wan);
	iflist_clear(&wan);
	CHECK_INT(engine_set_config(&eng, c, 0, NULL, NULL), 0);
	CHECK_INT(trigger_fire(&eng, &a, NULL, "lan0", "wan0", 1000, NULL, &res), 0);
	CHECK_INT(res.fired, 1);
	CHECK_INT(trigger_fire(&eng, &b, NULL, "lan0", "wan0", 2000, NULL, &res), 0);
	CHECK_INT(res.fired, 1);
}

struct list_case {
	uint64_t now;
	bool json;
	const char *want;
};

static const struct list_case lists[] = {
	{ 2000, false,
	  "RULE  FAMILY  PROTO  PORTS        HOST          PEER              EXPIRES\n"
	  "pv    ipv6    udp    10000        2001:db8::5   2001:db8:ffff::9  1m30s\n"
	  "pv    ipv6    tcp    10200-10210  2001:db8::5   2001:db8:ffff::9  1m30s\n"
	  "ra    ipv4    udp    6970-7170    192.168.7.2   -                 1h59m59s\n"
	  "s6    ipv6    tcp    443          2001:db8::20  -                 static\n"
	  "st    ipv4    udp    27015        192.168.7.20  -                 static\n"
	  "\n5 forwardings, 4 rules\n" },
	{ 62000, false,
	  "RULE  FAMILY  PROTO  PORTS        HOST          PEER              EXPIRES\n"
	  "pv    ipv6    udp    10000        2001:db8::5   2001:db8:ffff::9  30s\n"
	  "pv    ipv6    tcp    10200-10210  2001:db8::5   2001:db8:ffff::9  30s\n"
	  "ra    ipv4    udp    6970-7170    192.168.7.2   -                 1h58m59s\n"
	  "s6    ipv6    tcp    443          2001:db8::20  -                 static\n"
	  "st    ipv4    udp    27015        192.168.7.20  -                 static\n"
	  "\n5 forwardings, 4 rules\n" },
	/* a forwarding not yet expired shows what is left rounded up; a late one 0s */
	{ 7200500, false,
	  "RULE  FAMILY  PROTO  PORTS        HOST          PEER              EXPIRES\n"
	  "pv    ipv6    udp    10000        2001:db8::5   2001:db8:ffff::9  0s\n"
	  "pv    ipv6    tcp    10200-10210  2001:db8::5   2001:db8:ffff::9  0s\n"
	  "ra    ipv4    udp    6970-7170    192.168.7.2   -                 1s\n"
	  "s6    ipv6    tcp    443          2001:db8::20  -                 static\n"
	  "st    ipv4    udp    27015        192.168.7.20  -                 static\n"
	  "\n5 forwardings, 4 rules\n" },
	{ 2000, true,
	  "[\n"
	  "  {\"rule\": \"pv\", \"family\": \"ipv6\", \"proto\": \"udp\", \"port_min\": 10000, "
	  "\"port_max\": 10000, \"host\": \"2001:db8::5\", \"host_lladdr\": null, \"peer\": \"2001:db8:ffff::9\", \"expires\": 90, \"static\": false},\n"
	  "  {\"rule\": \"pv\", \"family\": \"ipv6\", \"proto\": \"tcp\", \"port_min\": 10200, "
	  "\"port_max\": 10210, \"host\": \"2001:db8::5\", \"host_lladdr\": null, \"peer\": \"2001:db8:ffff::9\", \"expires\": 90, \"static\": false},\n"
	  "  {\"rule\": \"ra\", \"family\": \"ipv4\", \"proto\": \"udp\", \"port_min\": 6970, "
	  "\"port_max\": 7170, \"host\": \"192.168.7.2\", \"host_lladdr\": null, \"peer\": null, \"expires\": 7199, \"static\": false},\n"
	  "  {\"rule\": \"s6\", \"family\": \"ipv6\", \"proto\": \"tcp\", \"port_min\": 443, "
	  "\"port_max\": 443, \"host\": \"2001:db8::20\", \"host_lladdr\": null, \"peer\": null, \"expires\": null, \"static\": true},\n"
	  "  {\"rule\": \"st\", \"family\": \"ipv4\", \"proto\": \"udp\", \"port_min\": 27015, "
	  "\"port_max\": 27015, \"host\": \"192.168.7.20\", \"host_lladdr\": null, \"peer\": null, \"expires\": null, \"static\": true}\n"
	  "]\n" },
	{ 7200500, true,
	  "[\n"
	  "  {\"rule\": \"pv\", \"family\": \"ipv6\", \"proto\": \"udp\", \"port_min\": 10000, "
	  "\"port_max\": 10000, \"host\": \"2001:db8::5\", \"host_lladdr\": null, \"peer\": \"2001:db8:ffff::9\", \"expires\": 0, \"static\": false},\n"
	  "  {\"rule\": \"pv\", \"family\": \"ipv6\", \"proto\": \"tcp\", \"port_min\": 10200, "
	  "\"port_max\": 10210, \"host\": \"2001:db8::5\", \"host_lladdr\": null, \"peer\": \"2001:db8:ffff::9\", \"expires\": 0, \"static\": false},\n"
	  "  {\"rule\": \"ra\", \"family\": \"ipv4\", \"proto\": \"udp\", \"port_min\": 6970, "
	  "\"port_max\": 7170, \"host\": \"192.168.7.2\", \"host_lladdr\": null, \"peer\": null, \"expires\": 1, \"static\": false},\n"
	  "  {\"rule\": \"s6\", \"family\": \"ipv6\", \"proto\": \"tcp\", \"port_min\": 443, "
	  "\"port_max\": 443, \"host\": \"2001:db8::20\", \"host_lladdr\": null, \"peer\": null, \"expires\": null, \"static\": true},\n"
	  "  {\"rule\": \"st\", \"family\": \"ipv4\", \"proto\": \"udp\", \"port_min\": 27015, "
	  "\"port_max\": 27015, \"host\": \"192.168.7.20\", \"host_lladdr\": null, \"peer\": null, \"expires\": null, \"static\": true}\n"
	  "]\n" },
};

static void test_list(void)
{
	setup();
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct dynbuf out = { 0 };
		int before = test_failures;

		report_list(&eng, lists[i].now, lists[i].json, &out);
		CHECK(!out.oom);
		CHECK_STR(out.data, lists[i].want);
		if (test_failures != before)
			fprintf(stderr, "  in list case %zu\n", i);
		dynbuf_free(&out);
	}
	engine_fini(&eng);
}

static const struct list_case rules[] = {
	{ 2000, false,
	  "rule ra trigger 7070/tcp forward 6970-7170/udp timeout 2h\n"
	  "    # t.conf:1; enabled, 1 forwarding, last triggered 1s ago\n"
	  "rule pv trigger 5060/udp forward 10000/udp,10200-10210/tcp timeout 1m30s peer family ipv6\n"
	  "    # t.conf:2; enabled, 1 forwarding, last triggered 0s ago\n"
	  "rule st forward 27015/udp to 192.168.7.20 family ipv4\n"
	  "    # t.conf:3; enabled, 1 forwarding, static\n"
	  "rule s6 forward 443/tcp to 2001:db8::20 family ipv6\n"
	  "    # t.conf:4; enabled, 1 forwarding, static\n"
	  "\n4 rules\n" },
	{ 2000, true,
	  "[\n"
	  "  {\"name\": \"ra\", \"triggers\": [\"7070/tcp\"], \"forwards\": [\"6970-7170/udp\"], "
	  "\"timeout\": 7200, \"to\": null, \"peer\": false, \"exclusive\": false, \"source\": \"t.conf:1\", "
	  "\"enabled\": true, \"switched\": false, \"forwardings\": 1, \"last_triggered\": 1},\n"
	  "  {\"name\": \"pv\", \"triggers\": [\"5060/udp\"], \"forwards\": [\"10000/udp\",\"10200-10210/tcp\"], "
	  "\"timeout\": 90, \"to\": null, \"peer\": true, \"exclusive\": false, \"source\": \"t.conf:2\", "
	  "\"enabled\": true, \"switched\": false, \"forwardings\": 1, \"last_triggered\": 0},\n"
	  "  {\"name\": \"st\", \"triggers\": [], \"forwards\": [\"27015/udp\"], \"timeout\": null, "
	  "\"to\": \"192.168.7.20\", \"peer\": false, \"exclusive\": false, \"source\": \"t.conf:3\", "
	  "\"enabled\": true, \"switched\": false, \"forwardings\": 1, \"last_triggered\": null},\n"
	  "  {\"name\": \"s6\", \"triggers\": [], \"forwards\": [\"443/tcp\"], \"timeout\": null, "
	  "\"to\": \"2001:db8::20\", \"peer\": false, \"exclusive\": false, \"source\": \"t.conf:4\", "
	  "\"enabled\": true, \"switched\": false, \"forwardings\": 1, \"last_triggered\": null}\n"
	  "]\n" },
	/* since the trigger, whole seconds rounded down */
	{ 3663999, true,
	  "[\n"
	  "  {\"name\": \"ra\", \"triggers\": [\"7070/tcp\"], \"forwards\": [\"6970-7170/udp\"], "
	  "\"timeout\": 7200, \"to\": null, \"peer\": false, \"exclusive\": false, \"source\": \"t.conf:1\", "
	  "\"enabled\": true, \"switched\": false, \"forwardings\": 1, \"last_triggered\": 3662},\n"
	  "  {\"name\": \"pv\", \"triggers\": [\"5060/udp\"], \"forwards\": [\"10000/udp\",\"10200-10210/tcp\"], "
	  "\"timeout\": 90, \"to\": null, \"peer\": true, \"exclusive\": false, \"source\": \"t.conf:2\", "
	  "\"enabled\": true, \"switched\": false, \"forwardings\": 1, \"last_triggered\": 3661},\n"
	  "  {\"name\": \"st\", \"triggers\": [], \"forwards\": [\"27015/udp\"], \"timeout\": null, "
	  "\"to\": \"192.168.7.20\", \"peer\": false, \"exclusive\": false, \"source\": \"t.conf:3\", "
	  "\"enabled\": true, \"switched\": false, \"forwardings\": 1, \"last_triggered\": null},\n"
	  "  {\"name\": \"s6\", \"triggers\": [], \"forwards\": [\"443/tcp\"], \"timeout\": null, "
	  "\"to\": \"2001:db8::20\", \"peer\": false, \"exclusive\": false, \"source\": \"t.conf:4\", "
	  "\"enabled\": true, \"switched\": false, \"forwardings\": 1, \"last_triggered\": null}\n"
	  "]\n" },
};

static void test_rules(void)
{
	setup();
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct dynbuf out = { 0 };
		int before = test_failures;

		report_rules(&eng, rules[i].now, rules[i].json, &out);
		CHECK(!out.oom);
		CHECK_STR(out.data, rules[i].want);
		if (test_failures != before)
			fprintf(stderr, "  in rules case %zu\n", i);
		dynbuf_free(&out);
	}
	engine_fini(&eng);
}

static void test_empty(void)
{
	struct dynbuf out = { 0 };

	engine_init(&eng);
	report_list(&eng, 0, false, &out);
	CHECK_STR(out.data, "0 forwardings, 0 rules\n");
	dynbuf_free(&out);
	report_list(&eng, 0, true, &out);
	CHECK_STR(out.data, "[]\n");
	dynbuf_free(&out);
	report_rules(&eng, 0, false, &out);
	CHECK_STR(out.data, "0 rules\n");
	dynbuf_free(&out);
	report_rules(&eng, 0, true, &out);
	CHECK_STR(out.data, "[]\n");
	dynbuf_free(&out);
	engine_fini(&eng);
}

/* one table, two forms: lines of parts, and JSON members (text-only and JSON-only ones too) */
static void test_figures(void)
{
	const struct report_figure v[] = {
		{ "seen", "triggers", NULL, " seen", false, 4 },
		{ "unmatched", "triggers", ", ", " matched no rule", false, 1 },
		{ "sum", NULL, NULL, NULL, false, 5 },
		{ "limit", "limits", "at ", NULL, false, 64 },
		{ NULL, "limits", " (", " active)", false, 2 },
		{ "resyncs", "resyncs", NULL, " rewritten", true, 0 },
	};
	struct dynbuf out = { 0 };
	struct json j;

	report_figures(v, 6, NULL, &out);
	CHECK_STR(out.data, "triggers:    4 seen, 1 matched no rule\nlimits:      at 64 (2 active)\n");
	dynbuf_free(&out);
	json_init_line(&j, &out);
	json_object(&j, NULL);
	report_figures(v, 6, &j, &out);
	json_end(&j);
	CHECK(out.data && strstr(out.data, "\"seen\": 4"));
	CHECK(out.data && strstr(out.data, "\"sum\": 5"));
	CHECK(out.data && strstr(out.data, "\"resyncs\": 0"));
	CHECK(out.data && !strstr(out.data, "active"));
	dynbuf_free(&out);
}

TEST_MAIN(T(test_list), T(test_rules), T(test_empty), T(test_figures))
