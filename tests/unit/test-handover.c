#include <errno.h>

#include "control/handover.h"
#include "engine/engine.h"
#include "test.h"

static void test_fds_roundtrip(void)
{
	struct handover_fds f, g;
	char buf[128];

	handover_fds_init(&f);
	f.nft = 3;
	f.nflog = 4;
	f.control = 17;
	f.state = 1000;
	CHECK_INT(handover_format_fds(&f, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "nft=3 nflog=4 control=17 state=1000");
	CHECK_INT(handover_parse_fds(buf, &g), 0);
	CHECK_INT(g.nft, 3);
	CHECK_INT(g.nflog, 4);
	CHECK_INT(g.control, 17);
	CHECK_INT(g.client, -1);
	CHECK_INT(g.state, 1000);
	CHECK_INT(handover_format_fds(&f, buf, 10), -ENOSPC);
	CHECK_INT(handover_parse_fds("", &g), 0);
	CHECK_INT(g.nft, -1);
}

static void test_fds_malformed(void)
{
	static const char *const bad[] = {
		"nft", "nft=", "nft=x", "nft=3x", "nft=2", "nft=-4", "nft=3  nflog=4",
		"nft=3,nflog=4", "nft=3 nft=4", "tcp=3", "nft=99999999999", "nft=3 ", "=3",
	};
	struct handover_fds g;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (handover_parse_fds(bad[i], &g) != -EINVAL) {
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
			test_failures++;
		}
	}
}

static void test_state_roundtrip(void)
{
	char *lines[] = { "realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m",
			  "game forward 27015/udp to 192.168.1.20" };
	char *switches[] = { "realaudio off" };
	struct handover_state s = { .started_ms = 123456789012ull, .runtime = lines, .n_runtime = 2,
				    .switches = switches, .n_switches = 1 };
	struct handover_state t;
	struct dynbuf b = { 0 };

	handover_format_state(&b, &s);
	CHECK_STR(b.data, "started 123456789012\n"
			  "runtime realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m\n"
			  "runtime game forward 27015/udp to 192.168.1.20\n"
			  "switch realaudio off\n");
	CHECK_INT(handover_parse_state(b.data, b.len, &t), 0);
	CHECK_INT(t.started_ms, 123456789012ull);
	CHECK_INT(t.n_runtime, 2);
	CHECK_STR(t.runtime[0], lines[0]);
	CHECK_STR(t.runtime[1], lines[1]);
	CHECK_INT(t.n_switches, 1);
	CHECK_STR(t.switches[0], "realaudio off");
	handover_state_free(&t);
	CHECK_INT(t.n_runtime, 0);
	dynbuf_free(&b);
	CHECK_INT(handover_parse_state("", 0, &t), 0);
	CHECK_INT(t.n_runtime, 0);
}

static void test_state_newer_keys_skipped(void)
{
	static const char s[] = "started 5\nlearned 1.2.3.4 udp 1024\nflag\nruntime x forward 1/udp to 10.0.0.1\n";
	struct handover_state t;

	CHECK_INT(handover_parse_state(s, sizeof(s) - 1, &t), 0);
	CHECK_INT(t.started_ms, 5);
	CHECK_INT(t.n_runtime, 1);
	CHECK_STR(t.runtime[0], "x forward 1/udp to 10.0.0.1");
	handover_state_free(&t);
}

static void test_state_malformed(void)
{
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
		{ "started 5", 9 },			/* no final newline: cut short */
		{ "started \n", 9 },
		{ "started x\n", 10 },
		{ "started 5x\n", 11 },
		{ "started 99999999999999999999999\n", 32 },
		{ "runtime \n", 9 },
		{ "\n", 1 },
		{ "runtime a\0b\n", 12 },
		{ "counter opened\n", 15 },
		{ "counter opened \n", 16 },
		{ "counter opened x\n", 17 },
		{ "counter opened 1 2\n", 19 },
		{ "counter  1\n", 11 },
		{ "counter Opened 1\n", 17 },
		{ "counter opened 99999999999999999999\n", 36 },
		{ "counter opened 1\ncounter opened 2\n", 34 },
	};
	struct handover_state t;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = handover_parse_state(bad[i].s, bad[i].len, &t);

		if (r != -EINVAL) {
			fprintf(stderr, "case %zu: %d\n", i, r);
			test_failures++;
		}
		CHECK_INT(t.n_runtime, 0);
		handover_state_free(&t);
	}
}

/* The counters cross a re-exec by name: a scraper sees them go on, not restart */
static void test_state_counters(void)
{
	struct handover_state s = { .started_ms = 7 }, t;
	struct dynbuf b = { 0 };

	CHECK_INT(handover_add_counter(&s, "opened", 12), 0);
	CHECK_INT(handover_add_counter(&s, "latency_bucket_12", 18446744073709551615ull), 0);
	CHECK_INT(handover_add_counter(&s, "control_refused_busy", 0), 0);
	CHECK_INT(handover_add_counter(&s, "opened", 13), -EINVAL);
	CHECK_INT(handover_add_counter(&s, "Opened", 1), -EINVAL);
	CHECK_INT(handover_add_counter(&s, "a b", 1), -EINVAL);
	CHECK_INT(handover_add_counter(&s, "", 1), -EINVAL);
	CHECK_INT(handover_add_counter(&s, "x23456789012345678901234567890123456789012345678", 1), -EINVAL);
	CHECK_INT(s.n_counters, 3);
	handover_format_state(&b, &s);
	CHECK_STR(b.data, "started 7\n"
			  "counter opened 12\n"
			  "counter latency_bucket_12 18446744073709551615\n"
			  "counter control_refused_busy 0\n");
	CHECK_INT(handover_parse_state(b.data, b.len, &t), 0);
	CHECK_INT(t.n_counters, 3);
	CHECK(handover_counter(&t, "opened") == 12);
	CHECK(handover_counter(&t, "latency_bucket_12") == 18446744073709551615ull);
	CHECK(handover_counter(&t, "control_refused_busy") == 0);
	/* one an older daemon did not count */
	CHECK(handover_counter(&t, "forwardings_closed_flush") == 0);
	handover_state_free(&t);
	handover_state_free(&s);
	CHECK_INT(s.n_counters, 0);
	dynbuf_free(&b);
}

/* The engine's counters go by the names they always had */
static void test_engine_counters(void)
{
	struct handover_state s = { 0 };
	struct engine e, f;

	engine_init(&e);
	engine_init(&f);
	e.fwt.stats.opened = 3;
	e.fwt.stats.over_limit = 4;
	e.stats.triggers_seen = 5;
	e.stats.triggers_replicated = 6;
	CHECK_INT(handover_save_engine(&s, &e), 0);
	CHECK_INT(s.n_counters, 11);
	CHECK(handover_counter(&s, "opened") == 3);
	CHECK(handover_counter(&s, "over_limit") == 4);
	CHECK(handover_counter(&s, "triggers_seen") == 5);
	CHECK(handover_counter(&s, "pair_triggers_replicated") == 6);
	handover_restore_engine(&s, &f);
	CHECK(f.fwt.stats.opened == 3 && f.fwt.stats.over_limit == 4 && f.fwt.stats.refused == 0);
	CHECK(f.stats.triggers_seen == 5 && f.stats.triggers_replicated == 6);
	handover_state_free(&s);
	engine_fini(&e);
	engine_fini(&f);
}

TEST_MAIN(T(test_fds_roundtrip), T(test_state_counters), T(test_engine_counters), T(test_fds_malformed), T(test_state_roundtrip),
	  T(test_state_newer_keys_skipped), T(test_state_malformed))
