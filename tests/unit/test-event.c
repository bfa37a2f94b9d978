#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "rules/config.h"
#include "control/event.h"
#include "test.h"

static struct config *cfg;

static const struct rule *rule(const char *name)
{
	return config_find_rule(cfg, name);
}

static struct event ev(enum event_kind k, const char *rule_name, const char *host)
{
	struct event e = { .kind = k, .time_ms = 1700000000123ull };

	e.rule = rule_name ? rule(rule_name) : NULL;
	if (host) {
		e.af = strchr(host, ':') ? AF_INET6 : AF_INET;
		inet_pton(e.af, host, &e.host);
	}
	return e;
}

static void set(int af, union inaddr *a, bool *has, const char *text)
{
	inet_pton(af, text, a);
	*has = true;
}

static struct dynbuf out;

static const char *fmt(const struct event *e, bool json)
{
	dynbuf_free(&out);
	event_format(e, json, &out);
	return out.data;
}

static void test_kinds(void)
{
	struct event e;

	e = ev(EVENT_OPENED, "ra", "192.168.7.2");
	CHECK_STR(fmt(&e, true), "{\"time\": 1700000000.123, \"event\": \"opened\", \"rule\": \"ra\", "
		  "\"host\": \"192.168.7.2\", \"host_lladdr\": null, \"family\": \"ipv4\", \"peer\": null, "
		  "\"forwards\": [\"6970-7170/udp\"], \"timeout\": 300}\n");
	CHECK_STR(fmt(&e, false), "22:13:20.123 opened ra: 6970-7170/udp to 192.168.7.2, 5m\n");
	/* the machine, where the neighbour table says */
	hostid_link((const uint8_t[]){ 2, 0, 0, 0, 0xbe, 0xef }, 6, &e.id);
	CHECK(strstr(fmt(&e, true), "\"host\": \"192.168.7.2\", \"host_lladdr\": \"02:00:00:00:be:ef\", "));
	CHECK_STR(fmt(&e, false), "22:13:20.123 opened ra: 6970-7170/udp to 192.168.7.2 (02:00:00:00:be:ef), 5m\n");

	e = ev(EVENT_TAKEN_OVER, "voip", "2001:db8:7::3");
	set(AF_INET6, &e.peer, &e.has_peer, "2001:db8:1::9");
	set(AF_INET6, &e.other, &e.has_other, "2001:db8:7::2");
	CHECK_STR(fmt(&e, true), "{\"time\": 1700000000.123, \"event\": \"taken_over\", \"rule\": \"voip\", "
		  "\"host\": \"2001:db8:7::3\", \"host_lladdr\": null, \"family\": \"ipv6\", \"peer\": \"2001:db8:1::9\", "
		  "\"forwards\": [\"10000-10100/udp\",\"5060/tcp\"], \"timeout\": 120, "
		  "\"old_host\": \"2001:db8:7::2\"}\n");
	CHECK_STR(fmt(&e, false), "22:13:20.123 taken_over voip: 10000-10100/udp,5060/tcp to "
		  "2001:db8:7::3 for peer 2001:db8:1::9, 2m, taken from 2001:db8:7::2\n");

	e = ev(EVENT_REFUSED, "ra", "192.168.7.3");
	e.reason = "exclusive";
	set(AF_INET, &e.other, &e.has_other, "192.168.7.2");
	CHECK_STR(fmt(&e, true), "{\"time\": 1700000000.123, \"event\": \"refused\", \"rule\": \"ra\", "
		  "\"host\": \"192.168.7.3\", \"host_lladdr\": null, \"family\": \"ipv4\", \"reason\": \"exclusive\", "
		  "\"holder\": \"192.168.7.2\"}\n");
	CHECK_STR(fmt(&e, false), "22:13:20.123 refused ra: trigger from 192.168.7.3 (exclusive, held by 192.168.7.2)\n");
	e.has_other = false;
	e.reason = "max-per-host";
	CHECK_STR(fmt(&e, false), "22:13:20.123 refused ra: trigger from 192.168.7.3 (max-per-host)\n");

	e = ev(EVENT_CLOSED, "ra", "192.168.7.2");
	e.reason = "disable";
	CHECK_STR(fmt(&e, true), "{\"time\": 1700000000.123, \"event\": \"closed\", \"rule\": \"ra\", "
		  "\"host\": \"192.168.7.2\", \"host_lladdr\": null, \"family\": \"ipv4\", \"peer\": null, \"reason\": \"disable\"}\n");
	CHECK_STR(fmt(&e, false), "22:13:20.123 closed ra: forwarding to 192.168.7.2 (disable)\n");
	e.kind = EVENT_EXPIRED;
	CHECK_STR(fmt(&e, false), "22:13:20.123 expired ra: forwarding to 192.168.7.2\n");

	e = ev(EVENT_FORGED, NULL, "192.168.7.1");
	e.proto = IPPROTO_TCP;
	e.port = 7070;
	e.ifname = "br-lan";
	e.reason = "not a unicast source";
	CHECK_STR(fmt(&e, true), "{\"time\": 1700000000.123, \"event\": \"forged\", \"rule\": null, "
		  "\"host\": \"192.168.7.1\", \"host_lladdr\": null, \"family\": \"ipv4\", \"proto\": \"tcp\", \"port\": 7070, "
		  "\"interface\": \"br-lan\", \"reason\": \"not a unicast source\"}\n");
	CHECK_STR(fmt(&e, false), "22:13:20.123 forged 7070/tcp from 192.168.7.1 on br-lan: not a unicast source\n");
	e.ifname = "evil\x1b[2J";
	CHECK_STR(fmt(&e, false), "22:13:20.123 forged 7070/tcp from 192.168.7.1 on evil\\x1b[2J: not a unicast source\n");

	e = ev(EVENT_LEARNED, "ra", "192.168.7.2");
	set(AF_INET, &e.peer, &e.has_peer, "203.0.113.9");
	e.proto = IPPROTO_UDP;
	e.port = 1024;
	CHECK_STR(fmt(&e, true), "{\"time\": 1700000000.123, \"event\": \"learned\", \"rule\": \"ra\", "
		  "\"host\": \"192.168.7.2\", \"host_lladdr\": null, \"family\": \"ipv4\", \"peer\": \"203.0.113.9\", "
		  "\"proto\": \"udp\", \"port\": 1024}\n");
	CHECK_STR(fmt(&e, false), "22:13:20.123 learned ra: peer 203.0.113.9 tried 1024/udp (host 192.168.7.2)\n");

	e = ev(EVENT_RELOADED, NULL, NULL);
	e.n_rules = 2;
	e.n_forwardings = 1;
	CHECK_STR(fmt(&e, true), "{\"time\": 1700000000.123, \"event\": \"reloaded\", \"rule\": null, "
		  "\"host\": null, \"rules\": 2, \"forwardings\": 1}\n");
	CHECK_STR(fmt(&e, false), "22:13:20.123 reloaded 2 rules, 1 forwarding\n");
	CHECK_STR(event_name(EVENT__KINDS), "?");
}

static void setup(void)
{
	const char *text = "rule ra trigger 7070/tcp forward 6970-7170/udp\n"
			   "rule voip trigger 5060/udp forward 10000-10100/udp,5060/tcp peer timeout 2m\n";

	setenv("TZ", "UTC", 1);
	cfg = config_new();
	config_parse_text(cfg, "t.conf", text, strlen(text));
	CHECK_INT(cfg->n_errors, 0);
}

static void test_all(void)
{
	setup();
	test_kinds();
	config_free(cfg);
	dynbuf_free(&out);
}

TEST_MAIN(T(test_all))
