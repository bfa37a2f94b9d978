#include <errno.h>

#include "control/prom.h"
#include "test.h"

static void test_counter_and_gauge(void)
{
	struct dynbuf b = { 0 };
	struct prom p;
	struct prom_label l[] = { { "outcome", "opened" } };

	prom_init(&p, &b);
	CHECK_INT(prom_family(&p, "ipautofw_triggers", PROM_COUNTER, "Triggers by outcome."), 0);
	CHECK_INT(prom_sample(&p, l, 1, 3), 0);
	CHECK_INT(prom_family(&p, "ipautofw_rules", PROM_GAUGE, "Rules \\ configured\nnow."), 0);
	CHECK_INT(prom_sample(&p, NULL, 0, 18446744073709551615ull), 0);
	CHECK_STR(b.data, "# HELP ipautofw_triggers_total Triggers by outcome.\n"
			  "# TYPE ipautofw_triggers_total counter\n"
			  "ipautofw_triggers_total{outcome=\"opened\"} 3\n"
			  "# HELP ipautofw_rules Rules \\\\ configured\\nnow.\n"
			  "# TYPE ipautofw_rules gauge\n"
			  "ipautofw_rules 18446744073709551615\n");
	dynbuf_free(&b);
}

/* A counter is named without _total (the writer adds it); names and label names are checked. */
static void test_names(void)
{
	static const char *const bad[] = { "", "9lives", "a-b", "a b", "é", "x_total" };
	struct prom_label dunder[] = { { "__name__", "x" } }, le[] = { { "le", "1" } },
			  dash[] = { { "rule-name", "x" } }, empty[] = { { "", "x" } };
	struct dynbuf b = { 0 };
	struct prom p;

	prom_init(&p, &b);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_INT(prom_family(&p, bad[i], PROM_COUNTER, "x"), -EINVAL);
	CHECK_INT(b.len, 0);
	/* and samples of a refused family are dropped */
	CHECK_INT(prom_sample(&p, NULL, 0, 1), -EINVAL);
	CHECK_INT(b.len, 0);
	/* a gauge may end in _total (not that it should), a name may hold colons */
	CHECK_INT(prom_family(&p, "ns:x_total", PROM_GAUGE, "x"), 0);
	CHECK_INT(prom_sample(&p, dunder, 1, 1), -EINVAL);
	CHECK_INT(prom_sample(&p, le, 1, 1), -EINVAL);
	CHECK_INT(prom_sample(&p, dash, 1, 1), -EINVAL);
	CHECK_INT(prom_sample(&p, empty, 1, 1), -EINVAL);
	CHECK_STR(b.data, "# HELP ns:x_total x\n# TYPE ns:x_total gauge\n");
	/* a histogram's samples go through prom_histogram only */
	CHECK_INT(prom_family(&p, "h_seconds", PROM_HISTOGRAM, "x"), 0);
	CHECK_INT(prom_sample(&p, NULL, 0, 1), -EINVAL);
	dynbuf_free(&b);
}

/* A rule named like a label value, or worse, stays one label value. */
static void test_label_escaping(void)
{
	struct prom_label l[] = {
		{ "rule", "a\",family=\"ipv6" },
		{ "path", "C:\\dir\\" },
		{ "note", "two\nlines" },
		{ "bytes", "caf\xc3\xa9 \xff!" },
	};
	struct dynbuf b = { 0 };
	struct prom p;

	prom_init(&p, &b);
	prom_family(&p, "f", PROM_GAUGE, "h");
	b.len = 0;
	CHECK_INT(prom_sample(&p, l, ARRAY_SIZE(l), 1), 0);
	CHECK_STR(b.data, "f{rule=\"a\\\",family=\\\"ipv6\",path=\"C:\\\\dir\\\\\","
			  "note=\"two\\nlines\",bytes=\"caf\xc3\xa9 \xef\xbf\xbd!\"} 1\n");
	dynbuf_free(&b);
}

static void test_histogram(void)
{
	static const uint64_t bounds[] = { 100, 250, 1000, 2500000 };
	static const uint64_t counts[] = { 2, 0, 5, 1, 3 };
	struct prom_label l[] = { { "path", "kernel" } };
	static const uint64_t unordered[] = { 100, 100 };
	struct dynbuf b = { 0 };
	struct prom p;

	prom_init(&p, &b);
	CHECK_INT(prom_histogram(&p, NULL, 0, bounds, 4, counts, 1), -EINVAL);
	CHECK_INT(prom_family(&p, "ipautofw_trigger_latency_seconds", PROM_HISTOGRAM, "Latency."), 0);
	CHECK_INT(prom_histogram(&p, NULL, 0, bounds, 4, counts, 12345678), 0);
	CHECK_INT(prom_histogram(&p, l, 1, unordered, 2, counts, 0), -EINVAL);
	CHECK_STR(b.data, "# HELP ipautofw_trigger_latency_seconds Latency.\n"
			  "# TYPE ipautofw_trigger_latency_seconds histogram\n"
			  "ipautofw_trigger_latency_seconds_bucket{le=\"0.0001\"} 2\n"
			  "ipautofw_trigger_latency_seconds_bucket{le=\"0.00025\"} 2\n"
			  "ipautofw_trigger_latency_seconds_bucket{le=\"0.001\"} 7\n"
			  "ipautofw_trigger_latency_seconds_bucket{le=\"2.5\"} 8\n"
			  "ipautofw_trigger_latency_seconds_bucket{le=\"+Inf\"} 11\n"
			  "ipautofw_trigger_latency_seconds_sum 12.345678\n"
			  "ipautofw_trigger_latency_seconds_count 11\n");
	b.len = 0;
	CHECK_INT(prom_histogram(&p, l, 1, bounds, 1, counts, 0), 0);
	CHECK_STR(b.data, "ipautofw_trigger_latency_seconds_bucket{path=\"kernel\",le=\"0.0001\"} 2\n"
			  "ipautofw_trigger_latency_seconds_bucket{path=\"kernel\",le=\"+Inf\"} 2\n"
			  "ipautofw_trigger_latency_seconds_sum{path=\"kernel\"} 0\n"
			  "ipautofw_trigger_latency_seconds_count{path=\"kernel\"} 2\n");
	dynbuf_free(&b);
}

static void test_micro(void)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
		{ 0, "0" }, { 1, "0.000001" }, { 50, "0.00005" }, { 1000000, "1" },
		{ 1500000, "1.5" }, { 18446744073709551615ull, "18446744073709.551615" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct dynbuf b = { 0 };

		prom_micro(&b, cases[i].v);
		CHECK_STR(b.data, cases[i].s);
		dynbuf_free(&b);
	}
}

TEST_MAIN(T(test_counter_and_gauge), T(test_names), T(test_label_escaping), T(test_histogram),
	  T(test_micro))
