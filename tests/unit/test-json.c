#include "base/json.h"
#include "test.h"

static void test_shapes(void)
{
	struct dynbuf out = { 0 };
	struct json j;

	json_init(&j, &out);
	json_array(&j, NULL);
	json_end(&j);
	CHECK_STR(out.data, "[]\n");
	dynbuf_free(&out);

	json_init(&j, &out);
	json_array(&j, NULL);
	for (int i = 0; i < 2; i++) {
		json_object(&j, NULL);
		json_str(&j, "rule", i ? "b" : "a");
		json_u64(&j, "port_min", 6970 + i);
		json_str(&j, "peer", NULL);
		json_bool(&j, "static", i);
		json_array(&j, "triggers");
		json_str(&j, NULL, "7070/tcp");
		json_str(&j, NULL, "23/tcp");
		json_end(&j);
		json_end(&j);
	}
	json_end(&j);
	CHECK_STR(out.data, "[\n"
		  "  {\"rule\": \"a\", \"port_min\": 6970, \"peer\": null, \"static\": false, "
		  "\"triggers\": [\"7070/tcp\",\"23/tcp\"]},\n"
		  "  {\"rule\": \"b\", \"port_min\": 6971, \"peer\": null, \"static\": true, "
		  "\"triggers\": [\"7070/tcp\",\"23/tcp\"]}\n"
		  "]\n");
	dynbuf_free(&out);

	json_init(&j, &out);
	json_object(&j, NULL);
	json_array(&j, "warnings");
	json_end(&j);
	json_i64(&j, "delta", -5);
	json_u64(&j, "big", UINT64_MAX);
	json_null(&j, "expires");
	json_end(&j);
	CHECK_STR(out.data, "{\n  \"warnings\": [],\n  \"delta\": -5,\n"
		  "  \"big\": 18446744073709551615,\n  \"expires\": null\n}\n");
	dynbuf_free(&out);
}

/* Whatever a string holds, the output is JSON and valid UTF-8. */
static void test_escaping(void)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "plain", "\"plain\"\n" },
		{ "q\"b\\s/", "\"q\\\"b\\\\s/\"\n" },
		{ "nl\ntab\tesc\x1b" "del\x7f", "\"nl\\u000atab\\u0009esc\\u001bdel\\u007f\"\n" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n" },
		{ "bad\xff" "x\xc3", "\"bad\\ufffdx\\ufffd\"\n" },
		{ "overlong\xc0\xaf surrogate\xed\xa0\x80", "\"overlong\\ufffd\\ufffd surrogate\\ufffd\\ufffd\\ufffd\"\n" },
	};
	struct dynbuf out = { 0 };
	struct json j;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_init(&j, &out);
		json_str(&j, NULL, cases[i].in);
		CHECK_STR(out.data, cases[i].out);
		dynbuf_free(&out);
	}
	json_init(&j, &out);
	json_object(&j, NULL);
	json_str(&j, "k\"ey", "v");
	json_end(&j);
	CHECK_STR(out.data, "{\n  \"k\\\"ey\": \"v\"\n}\n");
	dynbuf_free(&out);
}

/* monitor -j: one object per line, times in seconds with their milliseconds */
static void test_lines(void)
{
	struct dynbuf out = { 0 };
	struct json j;

	for (int i = 0; i < 2; i++) {
		json_init_line(&j, &out);
		json_object(&j, NULL);
		json_fixed(&j, "time", i ? 1700000000005ull : 999, 3);
		json_str(&j, "event", "opened");
		json_array(&j, "forwards");
		json_str(&j, NULL, "6970-7170/udp");
		json_end(&j);
		json_end(&j);
	}
	CHECK_STR(out.data, "{\"time\": 0.999, \"event\": \"opened\", \"forwards\": [\"6970-7170/udp\"]}\n"
		  "{\"time\": 1700000000.005, \"event\": \"opened\", \"forwards\": [\"6970-7170/udp\"]}\n");
	dynbuf_free(&out);
	json_init_line(&j, &out);
	json_fixed(&j, NULL, 42, 0);
	CHECK_STR(out.data, "42\n");
	dynbuf_free(&out);
}

TEST_MAIN(T(test_shapes), T(test_escaping), T(test_lines))
