#include <arpa/inet.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/fwsave.h"
#include "engine/trigger.h"
#include "control/report.h"
#include "test.h"

static void setup(struct engine *e, const char *text)
{
	struct config *c = config_new();
	struct iflist wan = { 0 };

	config_parse_text(c, "t.conf", text, strlen(text));
	CHECK_INT(c->n_errors, 0);
	engine_init(e);
	iflist_add(&wan, "veth-wan");
	engine_set_auto_wan(e, &wan);
	iflist_clear(&wan);
	engine_set_config(e, c, 0, NULL, NULL);
}

static void trigger(struct engine *e, int af, const char *src, const char *dst, uint16_t dport,
		    uint64_t now)
{
	struct nflog_pkt p = { .af = af, .proto = IPPROTO_TCP, .dport = dport };
	struct trigger_result res;

	inet_pton(af, src, &p.saddr);
	inet_pton(af, dst, &p.daddr);
	CHECK_INT(trigger_fire(e, &p, NULL, "br-lan", "veth-wan", now, NULL, &res), 0);
	CHECK_INT(res.fired, 1);
}

static const char conf[] = "rule ra trigger 7070/tcp forward 6970-7170/udp timeout 60s\n"
			   "rule voip trigger 5060/tcp forward 10000-10100/udp peer timeout 30s\n"
			   "rule game forward 27015/udp to 192.168.7.20\n";

static void test_round_trip(void)
{
	struct engine a, b;
	struct dynbuf saved = { 0 }, la = { 0 }, lb = { 0 };
	size_t bad;

	setup(&a, conf);
	trigger(&a, AF_INET, "192.168.7.2", "203.0.113.9", 7070, 1000);
	trigger(&a, AF_INET6, "2001:db8:7::2", "2001:db8:1::9", 7070, 1000);
	trigger(&a, AF_INET, "192.168.7.3", "203.0.113.10", 5060, 2000);
	/* at 11 s of the engine's clock, 500 s after boot */
	fwsave_format(&a, 11000, 500000, &saved);
	CHECK(saved.data && strstr(saved.data, "fwd ra ipv4 192.168.7.2 - "));
	CHECK(saved.data && strstr(saved.data, " 550000\n"));	/* 50 s left */
	CHECK(saved.data && strstr(saved.data, "fwd voip ipv4 192.168.7.3 203.0.113.10 "));
	CHECK(saved.data && !strstr(saved.data, "game"));	/* the configuration has it */

	/* a new daemon, its clock elsewhere, 2 s later by the boot clock */
	setup(&b, conf);
	CHECK_INT(fwsave_restore(&b, saved.data, saved.len, 70000, 502000, &bad), 3);
	CHECK_INT(bad, 0);
	report_list(&a, 13000, true, &la);
	report_list(&b, 70000, true, &lb);
	CHECK_STR(lb.data, la.data);
	/* again: known already, nothing doubled */
	CHECK_INT(fwsave_restore(&b, saved.data, saved.len, 70000, 502000, &bad), 3);
	CHECK_INT(b.fwt.n, 4);
	engine_fini(&b);

	/* an `allow` that now leaves the host out: its forwarding does not come back */
	setup(&b, "rule ra trigger 7070/tcp forward 6970-7170/udp timeout 60s allow 192.168.7.3,2001:db8:7::2\n"
		  "rule voip trigger 5060/tcp forward 10000-10100/udp peer timeout 30s\n");
	CHECK_INT(fwsave_restore(&b, saved.data, saved.len, 0, 502000, &bad), 2);
	CHECK_INT(b.fwt.n, 2);
	engine_fini(&b);

	/* 25 s later the voip one (30 s) is over; a changed rule's are dropped */
	setup(&b, "rule ra trigger 7070/tcp forward 6970-7100/udp timeout 60s\n"
		  "rule voip trigger 5060/tcp forward 10000-10100/udp peer timeout 30s\n");
	CHECK_INT(fwsave_restore(&b, saved.data, saved.len, 0, 527000, &bad), 0);
	CHECK_INT(bad, 0);
	engine_fini(&b);
	engine_fini(&a);
	dynbuf_free(&saved);
	dynbuf_free(&la);
	dynbuf_free(&lb);
}

static void test_bad_lines(void)
{
	static const char text[] = "fwd ra ipv4 192.168.7.2 - x 99999999\n"
				   "fwd ra ipv5 192.168.7.2 - x 1\n"
				   "fwd ra ipv4 300.1.1.1 - x 1\n"
				   "fwd ra ipv4 192.168.7.2 - x 12z\n"
				   "fwd ra ipv4 192.168.7.2 - x 1 extra\n"
				   "\n"
				   "junk\n"
				   "fwd ra ipv4 192.168.7.2 - x";
	struct engine e;
	size_t bad;

	setup(&e, conf);
	/* the first has the wrong digest: read, but does not fit */
	CHECK_INT(fwsave_restore(&e, text, sizeof(text) - 1, 0, 0, &bad), 0);
	CHECK_INT(bad, 6);
	engine_fini(&e);
}

TEST_MAIN(T(test_round_trip), T(test_bad_lines))
