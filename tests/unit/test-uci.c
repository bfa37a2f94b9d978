#include <errno.h>
#include <stdio.h>

#include "rules/config.h"
#include "rules/uci.h"
#include "test.h"

static struct config *uci_len(const char *names, const char *text, size_t len)
{
	struct config *c = config_new();

	if (names)
		uci_parse_names(c, "names", names, strlen(names));
	uci_parse_text(c, "ipautofw", text, len);
	return c;
}

static struct config *uci(const char *names, const char *text)
{
	return uci_len(names, text, strlen(text));
}

static struct config *rules(const char *names, const char *text)
{
	struct config *c = config_new();

	if (names)
		uci_parse_names(c, "names", names, strlen(names));
	config_parse_text(c, "t.conf", text, strlen(text));
	return c;
}

/* Each rule formatted, one a line: what a rule file holding the same would give. */
static const char *formatted(const struct config *c)
{
	static char out[4096];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->n_rules && len < sizeof(out); i++) {
		len += rule_format(c->rules[i], out + len, sizeof(out) - len);
		len += snprintf(out + len, sizeof(out) - len, "\n");
	}
	return out;
}

static const char *ifs(const struct iflist *l)
{
	static char out[256];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		len += snprintf(out + len, sizeof(out) - len, "%s%s", i ? "," : "", l->names[i]);
	return out;
}

/* The UCI sections and the rule lines they mirror read the same. */
static void test_mirrors_rule_files(void)
{
	struct config *u = uci(NULL,
		"package ipautofw\n"
		"config globals 'globals'\n"
		"\toption enabled '1'\n"
		"\toption learn '0'\n"
		"\toption pinhole_guard 'on'\n"
		"\toption max_per_host '8'\n"
		"\toption pinhole_mark '0x100/0xf00'\n"
		"config rule 'realaudio'\n"
		"\tlist trigger '7070/tcp'\n"
		"\tlist forward '6970-7170/udp'\n"
		"\toption timeout '5m'\n"
		"config rule\n"
		"\toption name 'x11'\n"
		"\tlist trigger '23/tcp'\n"
		"\tlist trigger '177/udp,6000/tcp'\n"
		"\tlist forward \"6000-6100/tcp\"\n"
		"config rule\n"
		"\toption name voip\n"
		"\toption trigger '5060/udp'\n"
		"\toption forward '10000-20000/udp 30000/udp, 30001/udp ,30002/udp'\n"
		"\toption peer '1'\n"
		"\toption exclusive 'true'\n"
		"\toption timeout '2m'\n"
		"\toption max_per_host '2'\n"
		"\toption allow '192.168.1.0/24'\n"
		"\toption family 'ipv6'\n"
		"\toption enabled 'no'\n"
		"config rule\n"
		"\toption name 'game'\n"
		"\toption forward '27015-27030/udp'\n"
		"\toption to '192.168.1.20'\n"
		"\toption peer '0'\n"
		"\toption enabled '1'\n");
	struct config *r = rules(NULL,
		"learn off\npinhole-guard on\nmax-per-host 8\npinhole-mark 0x100/0xf00\n"
		"rule realaudio trigger 7070/tcp forward 6970-7170/udp timeout 5m\n"
		"rule x11 trigger 23/tcp,177/udp,6000/tcp forward 6000-6100/tcp\n"
		"rule voip trigger 5060/udp forward 10000-20000/udp,30000/udp,30001/udp,30002/udp peer "
		"exclusive timeout 2m max-per-host 2 allow 192.168.1.0/24 family ipv6 disabled\n"
		"rule game forward 27015-27030/udp to 192.168.1.20\n");

	CHECK_INT(u->n_errors, 0);
	CHECK_INT(r->n_errors, 0);
	CHECK_INT(u->n_rules, 4);
	CHECK_STR(formatted(u), formatted(r));
	CHECK(!u->learn && u->pinhole_guard);
	CHECK_INT(u->max_per_host, 8);
	CHECK_INT(u->pinhole_mark, 0x100);
	CHECK_INT(u->pinhole_mask, 0xf00);
	if (u->n_rules == 4) {
		CHECK(u->rules[2]->disabled && u->rules[2]->peer && u->rules[2]->exclusive);
		CHECK(!u->rules[3]->disabled && !u->rules[3]->peer);
		/* a rule is where its name is: the section's name, or its name option */
		CHECK_INT(u->rules[0]->loc.line, 8);
		CHECK_INT(u->rules[0]->loc.col, 14);
		CHECK_INT(u->rules[1]->loc.line, 13);
		CHECK_STR(u->rules[1]->loc.file, "ipautofw");
	}
	config_free(u);
	config_free(r);
}

static void test_names(void)
{
	const char *names = "# written by the init script\n"
			    "wan pppoe-wan eth1\n"
			    "lan br-lan,br-guest\n";
	struct config *u = uci(names,
		"config globals\n"
		"\toption wan 'wan eth9'\n"
		"config rule 'a'\n"
		"\toption trigger '1/tcp'\n"
		"\toption forward '2/tcp'\n"
		"\tlist lan 'lan'\n"
		"\tlist lan 'wlan*'\n");
	struct config *r = rules(names, "lan lan\nwan wan,ppp*\n");
	struct config *d;

	CHECK_INT(u->n_errors, 0);
	CHECK_STR(ifs(&u->wan), "pppoe-wan,eth1,eth9");
	CHECK(u->n_rules == 1 && u->rules[0]->has_lan);
	if (u->n_rules == 1)
		CHECK_STR(ifs(&u->rules[0]->lan), "br-lan,br-guest,wlan*");
	/* rule files use the same names */
	CHECK_INT(r->n_errors, 0);
	CHECK_STR(ifs(&r->lan), "br-lan,br-guest");
	CHECK_STR(ifs(&r->wan), "pppoe-wan,eth1,ppp*");
	/* and runtime rules composed from a copy */
	d = config_dup(r);
	CHECK(d != NULL);
	if (d) {
		CHECK_INT(config_parse_rule_line(d, "add", "x trigger 1/tcp forward 2/tcp wan wan"), 0);
		CHECK(d->n_rules == 1);
		if (d->n_rules == 1)
			CHECK_STR(ifs(&d->rules[0]->wan), "pppoe-wan,eth1");
	}
	config_free(d);
	config_free(u);
	config_free(r);

	/* a name in the names file is not resolved through an earlier one */
	u = uci("a eth0\nb a\n", "config globals\n\toption wan 'b'\n");
	CHECK_INT(u->n_errors, 0);
	CHECK_STR(ifs(&u->wan), "a");
	config_free(u);
}

static void test_quoting(void)
{
	struct config *c = uci(NULL,
		"\xef\xbb\xbf"
		"config rule 'q'\r\n"
		"\toption trigger 7070/'tcp'  # bare and quoted pieces are one word\r\n"
		"\toption forward \"6970-71\\70/udp\"\r\n"
		"\toption timeout 5\\m\r\n");

	CHECK_INT(c->n_errors, 0);
	CHECK_STR(formatted(c), "rule q trigger 7070/tcp forward 6970-7170/udp timeout 5m\n");
	config_free(c);
}

static const char *errors_len(const char *names, const char *text, size_t len)
{
	static char out[2048];
	struct config *c = uci_len(names, text, len);

	snprintf(out, sizeof(out), "%s", c->errors.data ? c->errors.data : "");
	config_free(c);
	return out;
}

static const char *errors(const char *names, const char *text)
{
	return errors_len(names, text, strlen(text));
}

static void test_errors(void)
{
	/* the rule files' own diagnostics, with the caret in the UCI file */
	CHECK_STR(errors(NULL, "config rule 'a'\n\tlist trigger '7070/tcp'\n\tlist forward '1-2/udp'\n"
			 "\tlist forward '2/udp'\n"),
		  "ipautofw:4:16: error: forward 2/udp overlaps forward 1-2/udp of the same rule\n"
		  "\tlist forward '2/udp'\n"
		  "\t              ^\n");
	CHECK_STR(errors(NULL, "config rule\n\toption name 'b c'\n\toption trigger '1/tcp'\n"),
		  "ipautofw:2:17: error: 'name' takes one value (quote nothing that holds spaces)\n"
		  "\toption name 'b c'\n"
		  "\t               ^\n");
	CHECK_STR(errors(NULL, "config rule 'x'\n\toption forward '9/tcp'\n\toption max_per_host 'many'\n"
			 "\toption trigger '1/tcp'\n"),
		  "ipautofw:3:23: error: invalid number 'many' for 'max-per-host'\n"
		  "\toption max_per_host 'many'\n"
		  "\t                     ^\n");
	CHECK_STR(errors(NULL, "config rule 'y'\n\toption forward '9/tcp'\n"),
		  "ipautofw:1:14: error: rule 'y' needs 'trigger PORTS' or a fixed host 'to ADDRESS'\n"
		  "config rule 'y'\n"
		  "             ^\n");
	CHECK_STR(errors(NULL, "config rule 'z'\n\toption forward '9/tcp,'\n\toption trigger '1/tcp'\n"),
		  "ipautofw:2:24: error: list ends with a comma\n"
		  "\toption forward '9/tcp,'\n"
		  "\t                      ^\n");
	CHECK_STR(errors(NULL, "config globals\n\toption learn 'x'\n\tlist learn '1'\n"),
		  "ipautofw:3:7: error: 'learn' given twice in this section (first at line 2)\n"
		  "\tlist learn '1'\n"
		  "\t     ^\n"
		  "ipautofw:2:16: error: invalid value 'x' for 'learn' (expected 1 or 0)\n"
		  "\toption learn 'x'\n"
		  "\t              ^\n");
	CHECK_STR(errors_len(NULL, "config rule 'n'\n\toption trigger '1/tcp'\n\toption forward '2/tcp'\x00x\n",
			     66),
		  "ipautofw:3:24: error: line contains a NUL byte\n"
		  "\toption forward '2/tcp'\n"
		  "\t                      ^\n"
		  "ipautofw:1:14: error: rule 'n' has no 'forward'\n"
		  "config rule 'n'\n"
		  "             ^\n");
	CHECK_STR(errors("wan eth0\nwan eth1\n", ""),
		  "names:2:1: error: 'wan' given twice\n"
		  "wan eth1\n"
		  "^\n");
}

/* The rule files' conflict check spans both: a UCI rule and a rule file's. */
static void test_beside_rule_files(void)
{
	struct config *c = uci(NULL, "config rule 'a'\n\toption trigger '1/tcp'\n\toption forward '100-200/udp'\n");

	CHECK_INT(config_parse_text(c, "b.conf", "rule b trigger 2/tcp forward 150/udp\n", 37), -EINVAL);
	CHECK(c->errors.data && strstr(c->errors.data, "b.conf:1:30: error: forward 150/udp overlaps "
				       "forward 100-200/udp of rule 'a' (ipautofw:3:18)"));
	config_free(c);
}

TEST_MAIN(T(test_mirrors_rule_files), T(test_names), T(test_quoting), T(test_errors),
	  T(test_beside_rule_files))
