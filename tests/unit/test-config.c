#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/config.h"
#include "rules/prefix.h"
#include "test.h"

static struct config *parse(const char *text)
{
	struct config *c = config_new();

	config_parse_text(c, "t.conf", text, strlen(text));
	return c;
}

/* The first diagnostic line, without the source line and caret. */
static char first_err[512];
static const char *first_error(const char *text)
{
	struct config *c = parse(text);
	const char *e = c->errors.data ? c->errors.data : "";
	size_t n = strcspn(e, "\n");

	snprintf(first_err, sizeof(first_err), "%.*s", (int)n, e);
	config_free(c);
	return first_err;
}

static void test_full_example(void)
{
	struct config *c = parse(
		"# defaults\n"
		"lan br-lan,eth1          # interfaces triggers come from\n"
		"wan eth0,ppp*\n"
		"\n"
		"rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m\n"
		"rule x11 trigger 23/tcp,177/udp,6000/tcp forward 6000-6100/tcp\n"
		"rule webphone trigger 21845/tcp forward 21845/tcp,21845/udp\n"
		"rule voip trigger 5060/udp forward 10000-20000/udp peer timeout 2m\n"
		"rule game forward 27015-27030/udp to 192.168.1.20\n");
	char buf[512];

	CHECK_INT(c->n_errors, 0);
	CHECK_INT(c->n_rules, 5);
	CHECK(c->has_lan && c->lan.n == 2);
	CHECK_STR(c->wan.names[1], "ppp*");
	CHECK(iflist_match(&c->wan, "ppp0"));
	CHECK(!iflist_match(&c->wan, "eth1"));
	rule_format(c->rules[0], buf, sizeof(buf));
	CHECK_STR(buf, "rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m");
	rule_format(c->rules[1], buf, sizeof(buf));
	CHECK_STR(buf, "rule x11 trigger 23/tcp,177/udp,6000/tcp forward 6000-6100/tcp timeout 5m");
	CHECK_INT(c->rules[3]->timeout_s, 120);
	CHECK(c->rules[3]->peer);
	CHECK(c->rules[4]->is_static && c->rules[4]->to_af == AF_INET);
	CHECK_INT(c->rules[4]->family, RULE_FAMILY_IPV4);
	rule_format(c->rules[4], buf, sizeof(buf));
	CHECK_STR(buf, "rule game forward 27015-27030/udp to 192.168.1.20 family ipv4");

	CHECK_INT(c->rules[0]->loc.line, 5);
	CHECK_INT(c->pinhole_mark, 0x10000000);
	config_free(c);
	c = parse("rule p forward 8000/udp to 192.168.7.2:9000\n");
	CHECK_INT(c->n_errors, 0);
	rule_format(c->rules[0], buf, sizeof(buf));
	CHECK_STR(buf, "rule p forward 8000/udp to 192.168.7.2:9000 family ipv4");
	config_free(c);
}

static void test_safety_statements(void)
{
	struct config *c = parse("allow 192.168.7.0/24, fd00::/64,10.0.0.9\n"
				 "max-per-host 8\n"
				 "max-forwardings 1000\n"
				 "rule a trigger 1/tcp forward 2/tcp allow 192.168.7.20 max-per-host 200\n"
				 "rule b trigger 3/tcp forward 4/tcp\n");
	struct config *d;
	union inaddr a;
	char buf[512];

	CHECK_INT(c->n_errors, 0);
	CHECK(c->has_allow);
	CHECK_INT(c->allow.n, 3);
	CHECK_INT(c->max_per_host, 8);
	CHECK_INT(c->max_forwardings, 1000);
	CHECK(c->rules[0]->has_allow && !c->rules[1]->has_allow);
	CHECK_INT(c->rules[0]->max_per_host, 200);
	CHECK_INT(c->rules[1]->max_per_host, 0);
	inet_pton(AF_INET, "192.168.7.20", &a.v4);
	CHECK(prefixlist_match(&c->rules[0]->allow, AF_INET, &a));
	rule_format(c->rules[0], buf, sizeof(buf));
	CHECK_STR(buf, "rule a trigger 1/tcp forward 2/tcp timeout 5m allow 192.168.7.20 max-per-host 200");
	/* the normal form parses back to the same rule (runtime rules are kept so) */
	d = config_new();
	CHECK_INT(config_parse_rule_line(d, "add", buf + 5), 0);
	CHECK(d->n_rules == 1 && d->rules[0]->allow.n == 1 && d->rules[0]->max_per_host == 200);
	config_free(d);
	d = config_dup(c);
	CHECK(d && d->has_allow && d->allow.n == 3 && d->max_per_host == 8 && d->max_forwardings == 1000);
	CHECK(d && d->rules[0]->allow.n == 1 && d->rules[0]->max_per_host == 200);
	CHECK(d && d->max_forwardings_loc.line == 3);
	config_free(d);
	config_free(c);
	/* the defaults */
	c = parse("rule b trigger 3/tcp forward 4/tcp\n");
	CHECK(!c->has_allow);
	CHECK_INT(c->max_per_host, 64);
	CHECK_INT(c->max_forwardings, 16384);
	config_free(c);
}

static void test_continuation_and_lists(void)
{
	struct config *c = parse("rule a trigger 1/tcp, 2/udp ,3/tcp \\\n"
				 "   forward 10-20/udp \\  # comment after continuation\n"
				 "   exclusive family ipv4 lan eth1 wan ppp*\r\n");
	char buf[256];

	CHECK_INT(c->n_errors, 0);
	CHECK_INT(c->n_rules, 1);
	if (c->n_rules) {
		rule_format(c->rules[0], buf, sizeof(buf));
		CHECK_STR(buf, "rule a trigger 1/tcp,2/udp,3/tcp forward 10-20/udp timeout 5m "
			       "exclusive family ipv4 lan eth1 wan ppp*");
		CHECK_INT(c->rules[0]->forwards[0].loc.line, 2);
		CHECK_INT(c->rules[0]->forwards[0].loc.col, 12);
	}
	config_free(c);
}

static void test_durations(void)
{
	static const struct {
		const char *text;
		long secs;	/* -1: rejected */
	} cases[] = {
		{ "300", 300 }, { "300s", 300 }, { "5m", 300 }, { "1h30m", 5400 },
		{ "4m12s", 252 }, { "1h", 3600 }, { "1h0m5s", 3605 }, { "720h", 2592000 },
		{ "0", -1 }, { "0s", -1 }, { "5", 5 }, { "1m1h", -1 }, { "5mm", -1 },
		{ "1.5h", -1 }, { "m", -1 }, { "5d", -1 }, { "-5", -1 }, { "721h", -1 },
		{ "5s5m", -1 }, { "99999999999", -1 }, { "1h1h", -1 },
		{ "5s", 5 }, { "59", 59 }, { "60", 60 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[128];
		struct config *c;

		snprintf(text, sizeof(text), "rule a trigger 1/tcp forward 2/tcp timeout %s\n",
			 cases[i].text);
		c = parse(text);
		if (cases[i].secs < 0) {
			if (c->n_errors != 1)
				fprintf(stderr, "duration '%s' accepted\n", cases[i].text);
			CHECK_INT(c->n_errors, 1);
		} else {
			CHECK_INT(c->n_errors, 0);
			if (c->n_rules)
				CHECK_INT(c->rules[0]->timeout_s, cases[i].secs);
			/* only a bare number under a minute is suspect: "5" warns, "5s" does not */
			CHECK_INT(c->n_warnings, !strcmp(cases[i].text, "5") ||
					 !strcmp(cases[i].text, "59"));
		}
		config_free(c);
	}
}

static void test_errors(void)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "rule a trigger 0/tcp forward 1/tcp\n",
		  "t.conf:1:16: error: port 0 out of range 1-65535" },
		{ "rule a trigger 70000/tcp forward 1/tcp\n",
		  "t.conf:1:16: error: port 70000 out of range 1-65535" },
		{ "rule a trigger 7070/tcp forward 7170-6970/udp\n",
		  "t.conf:1:33: error: range 7170-6970 is reversed: 7170 > 6970" },
		{ "rule a trigger 7070/icmp forward 1/tcp\n",
		  "t.conf:1:21: error: unknown protocol 'icmp' (expected tcp or udp)" },
		{ "rule a trigger 7070 forward 1/tcp\n",
		  "t.conf:1:16: error: '7070' needs a protocol: PORT/tcp, PORT/udp or LOW-HIGH/PROTO" },
		{ "rule a trigger x/tcp forward 1/tcp\n",
		  "t.conf:1:16: error: invalid port 'x'" },
		{ "rule a trigger 1/tcp\n", "t.conf:1:6: error: rule 'a' has no 'forward'" },
		{ "rule a forward 1/tcp\n",
		  "t.conf:1:6: error: rule 'a' needs 'trigger PORTS' or a fixed host 'to ADDRESS'" },
		{ "rule a trigger 1/tcp forward 2/tcp to 10.0.0.1\n",
		  "t.conf:1:8: error: a rule with a fixed host ('to') has no triggers" },
		{ "rule a forward 2/tcp to 10.0.0.300\n",
		  "t.conf:1:25: error: invalid address '10.0.0.300' (expected an IPv4 or IPv6 address)" },
		{ "rule a forward 2/tcp to 10.0.0.1 timeout 5m\n",
		  "t.conf:1:34: error: a rule with a fixed host ('to') has no timeout" },
		{ "rule a forward 2/tcp to fd00::1 family ipv4\n",
		  "t.conf:1:25: error: address is IPv6 but the rule is family ipv4" },
		{ "rule a trigger 1/tcp forward 2/tcp timeout\n",
		  "t.conf:1:43: error: 'timeout' needs a value" },
		{ "rule a trigger 1/tcp forward 2/tcp timeout 5x\n",
		  "t.conf:1:44: error: invalid duration '5x' (examples: 300, 300s, 5m, 1h30m, 4m12s)" },
		{ "rule a trigger 1/tcp forward 2/tcp bogus\n",
		  "t.conf:1:36: error: unknown option 'bogus' (expected trigger, forward, timeout, "
		  "to, peer, exclusive, family, lan, wan, allow, max-per-host or disabled)" },
		{ "rule a trigger 1/tcp forward 2/tcp family ipv5\n",
		  "t.conf:1:43: error: unknown family 'ipv5' (expected ipv4, ipv6 or both)" },
		{ "rule bad/name trigger 1/tcp forward 2/tcp\n",
		  "t.conf:1:6: error: invalid rule name 'bad/name' (1-32 of A-Z a-z 0-9 _ . -)" },
		{ "rule\n", "t.conf:1:5: error: 'rule' needs a name" },
		{ "rule a trigger 1/tcp forward 2/tcp\nrule a trigger 3/tcp forward 4/tcp\n",
		  "t.conf:2:6: error: duplicate rule name 'a' (first defined at t.conf:1:6)" },
		{ "rule a trigger 1/tcp forward 6970-7170/udp\n"
		  "rule b trigger 3/tcp forward 10/tcp,7000-7001/udp\n",
		  "t.conf:2:37: error: forward 7000-7001/udp overlaps forward 6970-7170/udp of rule 'a' (t.conf:1:30)" },
		{ "rule a trigger 1/tcp forward 5/udp,1-10/udp\n",
		  "t.conf:1:36: error: forward 1-10/udp overlaps forward 5/udp of the same rule" },
		{ "rule a trigger 1/tcp forward 2/tcp,,3/tcp\n",
		  "t.conf:1:36: error: empty element in list" },
		{ "rule a trigger 1/tcp forward 2/tcp,\n",
		  "t.conf:1:36: error: list ends with a comma" },
		{ "rule a trigger 1/tcp forward 2/tcp timeout 1m timeout 2m\n",
		  "t.conf:1:47: error: 'timeout' given twice in rule 'a' (first at column 36)" },
		{ "lan eth0\nlan eth1\n",
		  "t.conf:2:1: error: 'lan' given twice (first at t.conf:1:1); set it once, or per rule" },
		{ "wan\n", "t.conf:1:4: error: 'wan' needs a list of interfaces" },
		{ "wan averyveryverylongname0\n",
		  "t.conf:1:5: error: interface name 'averyveryverylongname0' is longer than 15 characters" },
		{ "wan et*h0\n", "t.conf:1:5: error: invalid interface name 'et*h0'" },
		{ "frobnicate 1\n",
		  "t.conf:1:1: error: unknown statement 'frobnicate' (expected rule, lan, wan, "
		  "pinhole-mark, pinhole-guard, pair, learn, allow, max-per-host or max-forwardings)" },
		{ "max-forwardings 100\nmax-forwardings 200\n",
		  "t.conf:2:1: error: 'max-forwardings' given twice (first at t.conf:1:1)" },
		{ "max-per-host 1\n\nmax-per-host 1\n",
		  "t.conf:3:1: error: 'max-per-host' given twice (first at t.conf:1:1)" },
		{ "allow 10.0.0.0/8\nallow 192.168.0.0/16\n",
		  "t.conf:2:1: error: 'allow' given twice (first at t.conf:1:1)" },
		{ "max-forwardings 0\n", "t.conf:1:17: error: 'max-forwardings' must be 1 to 1048576" },
		{ "max-forwardings 1048577\n",
		  "t.conf:1:17: error: 'max-forwardings' must be 1 to 1048576" },
		{ "max-forwardings 99999999999\n",
		  "t.conf:1:17: error: 'max-forwardings' must be 1 to 1048576" },
		{ "max-per-host -1\n", "t.conf:1:14: error: invalid number '-1' for 'max-per-host'" },
		{ "max-per-host\n", "t.conf:1:13: error: 'max-per-host' needs a number" },
		{ "max-per-host 5 6\n", "t.conf:1:16: error: unexpected word after 'max-per-host N'" },
		{ "allow\n", "t.conf:1:6: error: 'allow' needs a list of addresses or prefixes" },
		{ "allow 192.168.1.5/24\n",
		  "t.conf:1:7: error: '192.168.1.5/24' has bits set after the prefix length" },
		{ "allow 10.0.0.0/8, fd00::/129\n",
		  "t.conf:1:19: error: prefix length out of range in 'fd00::/129'" },
		{ "allow 10.0.0.0/8,lan\n",
		  "t.conf:1:18: error: invalid address or prefix 'lan' (examples: 192.168.1.0/24, "
		  "192.168.1.20, fd00::/64)" },
		{ "allow 10.0.0.0/8 junk\n", "t.conf:1:18: error: unexpected 'junk' after the list" },
		{ "rule a trigger 1/tcp forward 2/tcp allow 10.0.0.0/33\n",
		  "t.conf:1:42: error: prefix length out of range in '10.0.0.0/33'" },
		{ "rule a trigger 1/tcp forward 2/tcp max-per-host 0\n",
		  "t.conf:1:49: error: 'max-per-host' must be 1 to 1048576" },
		{ "rule a trigger 1/tcp forward 2/tcp max-per-host\n",
		  "t.conf:1:48: error: 'max-per-host' needs a value" },
		{ "rule a forward 2/tcp to 10.0.0.1 allow 10.0.0.0/8\n",
		  "t.conf:1:34: error: a rule with a fixed host ('to') has no triggers to 'allow'" },
		{ "rule a forward 2/tcp to 10.0.0.1 max-per-host 3\n",
		  "t.conf:1:34: error: a rule with a fixed host ('to') has no 'max-per-host'" },
		{ "rule a trigger 1/tcp forward 5000-5010/udp peer\n"
		  "rule b trigger 2/tcp forward 5005-5020/udp peer\n",
		  "t.conf:2:30: error: forward 5005-5020/udp overlaps forward 5000-5010/udp of rule 'a' (t.conf:1:30)" },
		{ "pinhole-mark 0x3/0x1\n",
		  "t.conf:1:14: error: mark 0x3 has bits outside mask 0x1 or is zero" },
		{ "pinhole-mark zz\n",
		  "t.conf:1:14: error: invalid mark 'zz' (expected VALUE[/MASK], e.g. 0x10000000/0x10000000)" },
		{ "pinhole-guard on\npinhole-guard off\n",
		  "t.conf:2:1: error: 'pinhole-guard' given twice (first at t.conf:1:1)" },
		{ "pinhole-guard yes\n",
		  "t.conf:1:15: error: invalid value 'yes' for 'pinhole-guard' (expected on or off)" },
		{ "pinhole-guard\n", "t.conf:1:14: error: 'pinhole-guard' needs on or off" },
		{ "pinhole-guard on off\n",
		  "t.conf:1:18: error: unexpected word after 'pinhole-guard on|off'" },
		{ "rule a trigger 1/tcp forward 2/tcp lan eth0 wan eth0\n",
		  "t.conf:1:36: error: interface 'eth0' is both lan and wan" },
		{ "rule a trigger 1/tcp forward 2/tcp to 1.2.3.4 peer\n",
		  "t.conf:1:8: error: a rule with a fixed host ('to') has no triggers" },
		{ "rule a forward 1-2/tcp to 10.0.0.1:80\n",
		  "t.conf:1:27: error: a port remap (to ADDRESS:PORT) needs exactly one forward port" },
		{ "rule a forward 1/tcp to 10.0.0.1:0\n",
		  "t.conf:1:34: error: port 0 out of range 1-65535" },
		{ "rule a forward 1/tcp to fd00::1:80x\n",
		  "t.conf:1:25: error: invalid address 'fd00::1:80x' (expected an IPv4 or IPv6 address)" },
		{ "  \trule a forward 1/tcp\n",
		  "t.conf:1:9: error: rule 'a' needs 'trigger PORTS' or a fixed host 'to ADDRESS'" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_STR(first_error(cases[i].text), cases[i].err);
}

static void test_caret_and_all_errors(void)
{
	struct config *c = parse("rule a trigger 1/tcp forward 2/tcp\n"
				 "\trule b trigger 0/tcp forward 3/tcp\n"
				 "rule c trigger 4/tcp forward 5/xdp\n");

	CHECK_INT(c->n_errors, 2);
	CHECK_INT(c->n_rules, 1);
	CHECK_STR(c->errors.data,
		  "t.conf:2:17: error: port 0 out of range 1-65535\n"
		  "\trule b trigger 0/tcp forward 3/tcp\n"
		  "\t               ^\n"
		  "t.conf:3:32: error: unknown protocol 'xdp' (expected tcp or udp)\n"
		  "rule c trigger 4/tcp forward 5/xdp\n"
		  "                               ^\n");
	config_free(c);
}

/* What a log gets: each error's first line, one per error, nothing else. */
static void test_error_lines(void)
{
	struct config *c = parse("rule a trigger 1/tcp forward 2/tcp\n"
				 "\trule b trigger 0/tcp forward 3/tcp\n"
				 "bogus\n");

	CHECK_INT(c->n_errors, 2);
	CHECK_STR(c->error_lines.data,
		  "t.conf:2:17: error: port 0 out of range 1-65535\n"
		  "t.conf:3:1: error: unknown statement 'bogus' (expected rule, lan, wan, pinhole-mark, pinhole-guard, pair, learn, allow, max-per-host or max-forwardings)\n");
	config_free(c);
}

/* Bytes that would not show as themselves are escaped, and the caret still lines up. */
static void test_escaped_errors(void)
{
	struct config *c = parse("rule \x1b[2Jx trigger 1/tcp forward 2/tcp\n"
				 "rule \xc3\xa9\x01 trigger 1/xdp\xff forward 3/tcp\n");

	CHECK_STR(c->errors.data,
		  "t.conf:1:6: error: invalid rule name '\\x1b[2Jx' (1-32 of A-Z a-z 0-9 _ . -)\n"
		  "rule \\x1b[2Jx trigger 1/tcp forward 2/tcp\n"
		  "     ^\n"
		  "t.conf:2:6: error: invalid rule name '\xc3\xa9\\x01' (1-32 of A-Z a-z 0-9 _ . -)\n"
		  "rule \xc3\xa9\\x01 trigger 1/xdp\\xff forward 3/tcp\n"
		  "     ^\n"
		  "t.conf:2:20: error: unknown protocol 'xdp\\xff' (expected tcp or udp)\n"
		  "rule \xc3\xa9\\x01 trigger 1/xdp\\xff forward 3/tcp\n"
		  "                     ^\n");
	config_free(c);
}

static void test_escape(void)
{
	static const struct {
		const char *in;
		const char *out;
		size_t width;
	} cases[] = {
		{ "plain", "plain", 5 },
		{ "a\tb", "a\tb", 3 },
		{ "a\nb\r", "a\\x0ab\\x0d", 10 },
		{ "\x7f", "\\x7f", 4 },
		{ "caf\xc3\xa9", "caf\xc3\xa9", 4 },			/* UTF-8 stays */
		{ "\xef\xbb\xbfrule", "\\xef\\xbb\\xbfrule", 16 },	/* a BOM does not */
		{ "\xe2\x80\xae" "evil", "\\xe2\\x80\\xae" "evil", 16 },	/* nor a bidi override */
		{ "\xc2\x9b", "\\xc2\\x9b", 8 },				/* nor a C1 control */
		{ "\xc3", "\\xc3", 4 },					/* a cut sequence */
		{ "\xc0\xaf", "\\xc0\\xaf", 8 },				/* an overlong one */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80", 12 },		/* a surrogate */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct dynbuf d = { 0 };
		size_t w = dynbuf_append_escaped(&d, cases[i].in, strlen(cases[i].in));

		CHECK_STR(d.data ? d.data : "", cases[i].out);
		CHECK_INT(w, cases[i].width);
		CHECK_INT(dynbuf_append_escaped(NULL, cases[i].in, strlen(cases[i].in)), w);
		dynbuf_free(&d);
	}
}

static void test_overlap_rules(void)
{
	struct config *c;

	/* different families or protocols: no conflict */
	c = parse("rule a trigger 1/tcp forward 100-200/udp family ipv4\n"
		  "rule b trigger 1/tcp forward 150/udp family ipv6\n"
		  "rule c trigger 1/tcp forward 150/tcp\n"
		  "rule d trigger 1/tcp forward 300-400/udp peer family ipv4\n"
		  "rule e trigger 1/tcp forward 350/udp peer family ipv6\n");
	CHECK_INT(c->n_errors, 0);
	config_free(c);
	/* two peer rules: one peer and port would need two hosts at once (DESIGN §2.9) */
	c = parse("rule d trigger 1/tcp forward 300-400/udp peer\n"
		  "rule e trigger 1/tcp forward 350/udp peer\n");
	CHECK_INT(c->n_errors, 1);
	config_free(c);
	c = parse("rule d trigger 1/tcp forward 300-400/udp peer\n"
		  "rule e trigger 1/tcp forward 400/udp\n");
	CHECK_INT(c->n_errors, 1);
	config_free(c);
	/* a static IPv4 rule does not clash with an IPv6-only one */
	c = parse("rule s forward 500/tcp to 192.168.1.9\n"
		  "rule t trigger 1/tcp forward 500/tcp family ipv6\n");
	CHECK_INT(c->n_errors, 0);
	config_free(c);
}

static void test_pair(void)
{
	struct config *c = parse("rule a trigger 1/tcp forward 2/tcp\n"), *d;

	CHECK(!c->pair);
	config_free(c);
	c = parse("pair ct-mark 0x20000000/0x20000000\nrule a trigger 1/tcp forward 2/tcp\n");
	CHECK_INT(c->n_errors, 0);
	CHECK(c->pair && c->pair_mark == 0x20000000u && c->pair_mask == 0x20000000u);
	d = config_dup(c);
	config_free(c);
	CHECK(d && d->pair && d->pair_mark == 0x20000000u && d->pair_loc.line == 1 &&
	      !strcmp(d->pair_loc.file, "t.conf"));
	config_free(d);
	/* without a mask: the whole mark */
	c = parse("pair ct-mark 7\n");
	CHECK(c->pair && c->pair_mark == 7 && c->pair_mask == 0xffffffffu);
	config_free(c);
}

static void test_pinhole_guard(void)
{
	struct config *c = parse("rule a trigger 1/tcp forward 2/tcp\n"), *d;

	CHECK(!c->pinhole_guard);
	config_free(c);
	c = parse("pinhole-guard on\nrule a trigger 1/tcp forward 2/tcp\n");
	CHECK_INT(c->n_errors, 0);
	CHECK(c->pinhole_guard);
	d = config_dup(c);
	config_free(c);
	CHECK(d && d->pinhole_guard && d->guard_loc.line == 1 && !strcmp(d->guard_loc.file, "t.conf"));
	config_free(d);
	c = parse("pinhole-guard off\n");
	CHECK_INT(c->n_errors, 0);
	CHECK(!c->pinhole_guard);
	config_free(c);
}

static void test_learn(void)
{
	struct config *c = parse("rule a trigger 1/tcp forward 2/tcp\n"), *d;

	CHECK(c->learn);
	config_free(c);
	c = parse("learn off\n");
	CHECK_INT(c->n_errors, 0);
	CHECK(!c->learn);
	d = config_dup(c);
	CHECK(d && !d->learn && d->learn_loc.line == 1);
	config_free(d);
	config_free(c);
	c = parse("learn on\nlearn off\n");
	CHECK(strstr(c->errors.data, "t.conf:2:1: error: 'learn' given twice (first at t.conf:1:1)"));
	config_free(c);
	c = parse("learn maybe\n");
	CHECK(strstr(c->errors.data, "t.conf:1:7: error: invalid value 'maybe' for 'learn' (expected on or off)"));
	config_free(c);
	c = parse("learn\n");
	CHECK(strstr(c->errors.data, "t.conf:1:6: error: 'learn' needs on or off"));
	config_free(c);
	c = parse("learn on off\n");
	CHECK(strstr(c->errors.data, "t.conf:1:10: error: unexpected word after 'learn on|off'"));
	config_free(c);
}

static void test_rule_line(void)
{
	struct config *c = config_new();
	int r;

	r = config_parse_rule_line(c, "add", "ra trigger 7070/tcp forward 6970-7170/udp");
	CHECK_INT(r, 0);
	CHECK_INT(c->n_rules, 1);
	CHECK(c->n_rules && c->rules[0]->loc.file == NULL);
	r = config_parse_rule_line(c, "add", "rb trigger 7071/tcp forward 7000/udp");
	CHECK_INT(r, -EINVAL);
	CHECK(strstr(c->errors.data, "add:1:29: error: forward 7000/udp overlaps forward "
			"6970-7170/udp of rule 'ra' (runtime)") != NULL);
	config_free(c);
}

static void test_disabled(void)
{
	struct config *c = config_new();
	const char *text = "rule a disabled trigger 1/tcp forward 2/tcp\n"
			   "rule s forward 3/udp to 192.168.1.2 disabled\n"
			   "rule b trigger 1/tcp forward 4/tcp disabled disabled\n";
	char buf[256];

	CHECK_INT(config_parse_text(c, "t.conf", text, strlen(text)), -EINVAL);
	CHECK_INT(c->n_rules, 2);
	CHECK(c->rules[0]->disabled && !rule_enabled(c->rules[0]));
	CHECK(c->rules[1]->disabled);
	rule_format(c->rules[0], buf, sizeof(buf));
	CHECK_STR(buf, "rule a trigger 1/tcp forward 2/tcp timeout 5m disabled");
	CHECK(strstr(c->errors.data, "t.conf:3:45: error: 'disabled' given twice in rule 'b' (first at column 36)"));
	c->rules[0]->switched = 1;
	CHECK(rule_enabled(c->rules[0]));
	c->rules[1]->switched = -1;
	CHECK(!rule_enabled(c->rules[1]));
	config_free(c);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static void test_dropin_dirs(void)
{
	char tmpl[] = "/tmp/iaf-unit-XXXXXX", d1[64], d2[64], d3[64], p[600];
	const char *dirs[3];
	struct config *c;

	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(d1, sizeof(d1), "%s/etc", tmpl);
	snprintf(d2, sizeof(d2), "%s/run", tmpl);
	snprintf(d3, sizeof(d3), "%s/lib", tmpl);
	mkdir(d1, 0755);
	mkdir(d3, 0755);	/* d2 does not exist: fine */
	snprintf(p, sizeof(p), "%s/20-b.conf", d3);
	write_file(p, "rule fromlib trigger 1/tcp forward 10/tcp\n");
	snprintf(p, sizeof(p), "%s/20-b.conf", d1);
	write_file(p, "rule frometc trigger 1/tcp forward 10/tcp\n");
	snprintf(p, sizeof(p), "%s/10-a.conf", d3);
	write_file(p, "rule first trigger 1/tcp forward 20/tcp\n");
	snprintf(p, sizeof(p), "%s/30-masked.conf", d3);
	write_file(p, "rule masked trigger 1/tcp forward 30/tcp\n");
	snprintf(p, sizeof(p), "%s/30-masked.conf", d1);
	CHECK(symlink("/dev/null", p) == 0);
	snprintf(p, sizeof(p), "%s/README", d1);
	write_file(p, "not a rule file\n");
	dirs[0] = d1;
	dirs[1] = d2;
	dirs[2] = d3;
	c = config_new();
	CHECK_INT(config_load_dirs(c, dirs, 3, false), 0);
	CHECK_INT(c->n_rules, 2);
	if (c->n_rules == 2) {
		CHECK_STR(c->rules[0]->name, "first");
		CHECK_STR(c->rules[1]->name, "frometc");
	}
	/* the README is said, not read; the missing directory is not an error unless required */
	CHECK_INT(c->n_errors, 0);
	CHECK_INT(c->n_warnings, 1);
	snprintf(p, sizeof(p), "%s/README: warning: not read: only files whose names end in .conf are\n", d1);
	CHECK_STR(c->errors.data, p);
	CHECK_STR(c->warning_lines.data, p);
	config_free(c);
	c = config_new();
	CHECK_INT(config_load_dirs(c, dirs, 3, true), -EINVAL);
	snprintf(p, sizeof(p), "%s: error: cannot open directory: No such file or directory\n", d2);
	CHECK(c->errors.data && strstr(c->errors.data, p));
	CHECK_INT(c->n_errors, 1);
	config_free(c);

	/* files named on the command line are read whatever their names, in the order given */
	{
		const char *files[2];
		char f1[400], f2[400];

		snprintf(f1, sizeof(f1), "%s/README", d1);
		snprintf(f2, sizeof(f2), "%s/10-a.conf", d3);
		write_file(f1, "rule named trigger 2/tcp forward 40/tcp timeout 30\n");
		files[0] = f1;
		files[1] = f2;
		c = config_new();
		CHECK_INT(config_load_files(c, files, 2), 0);
		CHECK_INT(c->n_rules, 2);
		CHECK_INT(c->n_warnings, 1);
		if (c->n_rules == 2) {
			CHECK_STR(c->rules[0]->name, "named");
			CHECK_STR(c->rules[1]->name, "first");
		}
		config_free(c);
		snprintf(f2, sizeof(f2), "%s/nonexistent.conf", d3);
		c = config_new();
		CHECK_INT(config_load_files(c, files, 2), -EINVAL);
		CHECK_INT(c->n_errors, 1);
		config_free(c);
		write_file(f1, "not a rule file\n");
	}

	snprintf(p, sizeof(p), "%s/40-bad.conf", d1);
	write_file(p, "rule x trigger 1/tcp forward 20/tcp\n");
	c = config_new();
	CHECK_INT(config_load_dirs(c, dirs, 3, false), -EINVAL);
	snprintf(p, sizeof(p), "%s/40-bad.conf:1:30: error: forward 20/tcp overlaps forward "
		 "20/tcp of rule 'first' (%s/10-a.conf:1:34)", d1, d3);
	CHECK(c->errors.data && strstr(c->errors.data, p));
	config_free(c);

	/* a FIFO (which would block the reader), a symlink to one, a device: refused at once */
	snprintf(p, sizeof(p), "%s/40-bad.conf", d1);
	unlink(p);
	snprintf(p, sizeof(p), "%s/50-fifo.conf", d1);
	CHECK(mkfifo(p, 0644) == 0);
	snprintf(p, sizeof(p), "%s/51-link.conf", d1);
	CHECK(symlink("50-fifo.conf", p) == 0);
	snprintf(p, sizeof(p), "%s/52-dev.conf", d1);
	CHECK(symlink("/dev/zero", p) == 0);
	c = config_new();
	CHECK_INT(config_load_dirs(c, dirs, 3, false), -EINVAL);
	CHECK_INT(c->n_errors, 3);
	CHECK_INT(c->n_rules, 2);
	snprintf(p, sizeof(p), "%s/README: warning: not read: only files whose names end in .conf are\n"
		 "%s/50-fifo.conf: error: not a regular file\n"
		 "%s/51-link.conf: error: not a regular file\n"
		 "%s/52-dev.conf: error: not a regular file\n", d1, d1, d1, d1);
	CHECK_STR(c->errors.data, p);
	config_free(c);

	snprintf(p, sizeof(p), "rm -rf '%s'", tmpl);
	CHECK(system(p) == 0);
}

/*
 * config_dup copies every field, and shares nothing it owns. Two parses of
 * one text differ only where a field points at what the configuration owns:
 * there the copy must differ too (its own copy); everywhere else it must
 * be equal. Field by field, so a field added to struct config is checked
 * without being named here.
 */
static void test_dup_whole(void)
{
	static const char text[] =
		"lan br-lan,eth1\nwan eth0,ppp*\npinhole-mark 0x100/0x300\npinhole-guard on\n"
		"learn off\nallow 192.168.1.0/24,fd00::/64\nmax-per-host 9\nmax-forwardings 99\n"
		"rule a trigger 1/tcp forward 2/tcp allow 192.168.1.20 max-per-host 3\n"
		"rule b forward 5-6/udp to 192.168.1.2\n"
		/* a warning: diagnostics are owned too */
		"rule c trigger 3/tcp forward 4/tcp timeout 5\n";
	struct iflist devs = { 0 };
	struct config *a = parse(text), *b = parse(text), *d;
	unsigned char pa[sizeof(*a)], pb[sizeof(*a)], pd[sizeof(*a)];
	size_t owned = 0;

	CHECK_INT(a->n_errors, 0);
	CHECK_INT(iflist_add(&devs, "eth2"), 0);
	CHECK_INT(config_add_alias(a, "lan", &devs), 0);
	CHECK_INT(config_add_alias(b, "lan", &devs), 0);
	d = config_dup(a);
	CHECK(d != NULL);
	if (!d)
		return;
	memcpy(pa, a, sizeof(pa));
	memcpy(pb, b, sizeof(pb));
	memcpy(pd, d, sizeof(pd));
	for (size_t i = 0; i + sizeof(void *) <= sizeof(pa); i += sizeof(void *)) {
		bool differ = memcmp(pa + i, pb + i, sizeof(void *)) != 0;
		bool same = memcmp(pa + i, pd + i, sizeof(void *)) == 0;

		owned += differ;
		if (differ == same) {
			fprintf(stderr, "struct config at offset %zu: %s\n", i,
				differ ? "owned, yet shared by the copy" : "not copied");
			test_failures++;
		}
	}
	CHECK(owned >= 15);	/* rules, lan, wan, allow, aliases, files, 8 source locations, warnings */
	CHECK_INT(a->n_warnings, 1);
	/* and what it owns is its own: the copy outlives the source */
	config_free(a);
	config_free(b);
	CHECK(d->n_rules == 3 && d->n_aliases == 1 && !strcmp(d->aliases[0].name, "lan"));
	CHECK(d->wan.n == 2 && !strcmp(d->wan.names[1], "ppp*") && d->allow.n == 2);
	CHECK(d->max_forwardings_loc.line == 8 && !strcmp(d->max_forwardings_loc.file, "t.conf"));
	CHECK(!strcmp(d->rules[1]->loc.file, "t.conf") && d->pinhole_mask == 0x300);
	iflist_clear(&devs);
	config_free(d);
}

TEST_MAIN(T(test_full_example), T(test_safety_statements), T(test_continuation_and_lists), T(test_durations),
	  T(test_errors), T(test_caret_and_all_errors), T(test_overlap_rules),
	  T(test_pinhole_guard), T(test_pair), T(test_learn), T(test_rule_line), T(test_disabled), T(test_dropin_dirs), T(test_error_lines), T(test_escaped_errors),
	  T(test_escape), T(test_dup_whole))
