#include <errno.h>
#include <netinet/in.h>

#include "rules/value.h"
#include "lexsink.h"
#include "test.h"

/* The tokens of the one line IN, as the lexer cuts them. */
struct line {
	struct token toks[16];
	size_t n;
};

static void keep(struct lexer *lx, const struct token *toks, size_t n, const struct token *end,
		 void *data)
{
	struct line *l = data;

	memcpy(l->toks, toks, n * sizeof(*toks));
	l->n = n;
}

static struct line cut(const char *in)
{
	struct line l = { .n = 0 };
	struct sink s;

	sink_init(&s);
	lex_buffer(&s.lx, in, strlen(in), true, keep, &l);
	sink_free(&s);
	return l;
}

static void test_portrange(void)
{
	static const struct {
		const char *in;
		int ret;
		uint8_t proto;
		uint16_t lo, hi;
	} cases[] = {
		{ "7070/tcp", 0, IPPROTO_TCP, 7070, 7070 },
		{ "6970-7170/udp", 0, IPPROTO_UDP, 6970, 7170 },
		{ "1-65535/tcp", 0, IPPROTO_TCP, 1, 65535 },
		{ "0/tcp", -EINVAL, 0, 0, 0 },
		{ "65536/udp", -EINVAL, 0, 0, 0 },
		{ "7170-6970/udp", -EINVAL, 0, 0, 0 },
		{ "6970:7170/udp", -EINVAL, 0, 0, 0 },
		{ "7070", -EINVAL, 0, 0, 0 },
		{ "7070/sctp", -EINVAL, 0, 0, 0 },
		{ "07070/tcp", 0, IPPROTO_TCP, 7070, 7070 },
		{ "x/tcp", -EINVAL, 0, 0, 0 },
		{ "", -EINVAL, 0, 0, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct portrange p = { 0 };

		CHECK_INT(value_parse_portrange(cases[i].in, &p), cases[i].ret);
		if (cases[i].ret)
			continue;
		CHECK_INT(p.proto, cases[i].proto);
		CHECK_INT(p.lo, cases[i].lo);
		CHECK_INT(p.hi, cases[i].hi);
		CHECK(!p.loc.file);
	}
}

static void test_duration(void)
{
	static const struct {
		const char *in;
		int ret;
		uint32_t secs;
	} cases[] = {
		{ "300", 0, 300 },
		{ "300s", 0, 300 },
		{ "5m", 0, 300 },
		{ "1h30m", 0, 5400 },
		{ "4m12s", 0, 252 },
		{ "720h", 0, VALUE_TIMEOUT_MAX },
		{ "721h", -EINVAL, 0 },
		{ "0", -EINVAL, 0 },
		{ "0s", -EINVAL, 0 },
		{ "5m1h", -EINVAL, 0 },
		{ "5x", -EINVAL, 0 },
		{ "m", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t secs = 0;

		CHECK_INT(value_parse_duration(cases[i].in, &secs), cases[i].ret);
		if (!cases[i].ret)
			CHECK_INT(secs, cases[i].secs);
	}
}

static void test_duration_warns(void)
{
	struct line l = cut("5");
	uint32_t secs;
	struct sink s;

	sink_init(&s);
	CHECK_INT(value_duration(&s.lx, &l.toks[0], &secs), 0);
	CHECK_INT(secs, 5);
	CHECK_INT(s.n_warnings, 1);
	CHECK_INT(s.n_errors, 0);
	CHECK_STR(text(&s.warning_lines), "t.conf:1:1: warning: timeout 5 is 5 seconds (a bare number "
		  "is seconds); did you mean 5m? (write 5s to keep seconds)\n");
	sink_free(&s);
}

static void test_limit(void)
{
	static const struct {
		const char *in;
		int ret;
		const char *error;
	} cases[] = {
		{ "1", 0, "" },
		{ "1048576", 0, "" },
		{ "1048577", -ERANGE, "t.conf:1:1: error: 'max-per-host' must be 1 to 1048576\n" },
		{ "0", -ERANGE, "t.conf:1:1: error: 'max-per-host' must be 1 to 1048576\n" },
		{ "99999999999", -ERANGE, "t.conf:1:1: error: 'max-per-host' must be 1 to 1048576\n" },
		{ "12a", -EINVAL, "t.conf:1:1: error: invalid number '12a' for 'max-per-host'\n" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct line l = cut(cases[i].in);
		unsigned v = 0;
		struct sink s;

		sink_init(&s);
		CHECK_INT(value_limit(&s.lx, &l.toks[0], "max-per-host", &v), cases[i].ret);
		CHECK_STR(text(&s.error_lines), cases[i].error);
		sink_free(&s);
	}
}

static void test_ports(void)
{
	static const struct {
		const char *in;
		int ret;
		size_t next;	/* the first token after the list */
		const char *ranges;
		const char *error;
	} cases[] = {
		{ "1/tcp, 2-3/udp", 0, 2, "1/tcp,2-3/udp", "" },
		/* a bad range keeps its place: the rule's checks count the ranges given */
		{ "7000/tcp ,7001-7002/udp, 80/xyz,9/udp next", -EINVAL, 3,
		  "7000/tcp,7001-7002/udp,80/?,9/udp",
		  "t.conf:1:29: error: unknown protocol 'xyz' (expected tcp or udp)\n" },
		{ "1/tcp,,2/tcp", -EINVAL, 1, "", "t.conf:1:7: error: empty element in list\n" },
		{ "1/tcp,", -EINVAL, 1, "", "t.conf:1:7: error: list ends with a comma\n" },
		{ ",1/tcp", -EINVAL, 1, "", "t.conf:1:1: error: empty element in list\n" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct line l = cut(cases[i].in);
		struct portrange *v = NULL;
		size_t n = 0, next = 0;
		char ranges[128] = "";
		struct sink s;

		sink_init(&s);
		CHECK_INT(value_ports(&s.lx, l.toks, l.n, &next, &v, &n), cases[i].ret);
		CHECK_INT(next, cases[i].next);
		portlist_format(v, n, ranges, sizeof(ranges));
		CHECK_STR(ranges, cases[i].ranges);
		CHECK_STR(text(&s.error_lines), cases[i].error);
		CHECK(!n || (v[0].loc.line == 1 && v[0].loc.col == 1 && !strcmp(v[0].loc.file, "t.conf")));
		free(v);
		sink_free(&s);
	}
}

static void test_ifnames(void)
{
	struct iflist devs = { 0 }, got = { 0 };
	struct ifalias alias = { "lan", { 0 } };
	struct line l = cut("lan,wan0, eth*, bad/name,abcdefghijklmnop");
	size_t i = 0;
	struct sink s;

	iflist_add(&devs, "br-lan");
	iflist_add(&devs, "wlan0");
	alias.devs = devs;
	sink_init(&s);
	CHECK(value_find_alias(&alias, 1, "lan", 3) == &alias);
	CHECK(!value_find_alias(&alias, 1, "la", 2));
	CHECK_INT(value_ifnames(&s.lx, &alias, 1, l.toks, l.n, &i, &got), -EINVAL);
	CHECK_INT(got.n, 4);
	CHECK_STR(got.names[0], "br-lan");
	CHECK_STR(got.names[1], "wlan0");
	CHECK_STR(got.names[2], "wan0");
	CHECK_STR(got.names[3], "eth*");
	CHECK_STR(text(&s.error_lines), "t.conf:1:17: error: invalid interface name 'bad/name'\n"
		  "t.conf:1:26: error: interface name 'abcdefghijklmnop' is longer than 15 characters\n");
	iflist_clear(&got);
	/* without aliases a name is a device */
	l = cut("lan");
	i = 0;
	CHECK_INT(value_ifnames(&s.lx, NULL, 0, l.toks, l.n, &i, &got), 0);
	CHECK(got.n == 1 && !strcmp(got.names[0], "lan"));
	iflist_clear(&got);
	iflist_clear(&devs);
	sink_free(&s);
}

static void test_allow(void)
{
	struct line l = cut("192.168.1.0/24, fd00::/64,10.0.0.1/8,10.0.0.0/33,host");
	struct prefixlist got = { 0 };
	size_t i = 0;
	struct sink s;

	sink_init(&s);
	CHECK(value_allow(&s.lx, l.toks, l.n, &i, &got) < 0);
	CHECK_INT(got.n, 2);
	CHECK_STR(text(&s.error_lines), "t.conf:1:27: error: '10.0.0.1/8' has bits set after the "
		  "prefix length\n"
		  "t.conf:1:38: error: prefix length out of range in '10.0.0.0/33'\n"
		  "t.conf:1:50: error: invalid address or prefix 'host' (examples: 192.168.1.0/24, "
		  "192.168.1.20, fd00::/64)\n");
	prefixlist_clear(&got);
	sink_free(&s);
}

TEST_MAIN(T(test_portrange), T(test_duration), T(test_duration_warns), T(test_limit),
	  T(test_ports), T(test_ifnames), T(test_allow))
