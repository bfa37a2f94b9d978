#include <errno.h>

#include "control/autofw.h"
#include "test.h"

static int parse(const char *line, struct autofw_cmd *c, char *err)
{
	char buf[512], *argv[32];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	return autofw_parse(argc, argv, c, err, 256);
}

static void test_seed_commands(void)
{
	struct autofw_cmd c;
	char err[256];

	CHECK_INT(parse("ipautofw", &c, err), 0);
	CHECK(c.usage);
	CHECK_INT(parse("ipautofw -F", &c, err), 0);
	CHECK_STR(c.cmd, "flush-runtime");
	CHECK_INT(parse("ipautofw -A -r udp 6970 7170 -c tcp 7070", &c, err), 0);
	CHECK_STR(c.cmd, "autofw-add");
	CHECK_INT(c.argc, 3);
	CHECK_STR(c.args[0], "autofw-udp-6970-7170");
	CHECK_STR(c.args[1], "6970-7170/udp");
	CHECK_STR(c.args[2], "7070/tcp");
	CHECK_INT(parse("ipautofw -A -r tcp 6000 6100 -c udp 177", &c, err), 0);
	CHECK_STR(c.args[0], "autofw-tcp-6000-6100");
	CHECK_STR(c.args[2], "177/udp");
	CHECK_INT(parse("ipautofw -D -r tcp 6000 6100 -c udp 177", &c, err), 0);
	CHECK_STR(c.cmd, "autofw-del");
	CHECK_INT(parse("ipautofw -A -r tcp 8080 8080 -h 192.168.7.3 -u -v", &c, err), 0);
	CHECK_STR(c.cmd, "add");
	CHECK(c.verbose);
	CHECK_STR(c.args[0], "autofw-tcp-8080");
	CHECK_STR(c.args[2], "8080/tcp");
	CHECK_STR(c.args[4], "192.168.7.3");
	CHECK_INT(parse("ipautofw -A -p udp 8000 192.168.7.2:9000", &c, err), 0);
	CHECK_STR(c.args[0], "autofw-redir-udp-8000");
	CHECK_STR(c.args[4], "192.168.7.2:9000");
	CHECK_INT(parse("ipautofw -D -p udp 8000 192.168.7.2:9000", &c, err), 0);
	CHECK_STR(c.cmd, "del");
	CHECK_INT(parse("ipautofw -L", &c, err), 0);
	CHECK_STR(c.cmd, "list");
}

static void test_errors(void)
{
	static const struct {
		const char *line;
		const char *err;
	} cases[] = {
		{ "ipautofw -A", "-A needs -r PROTO LOW HIGH (or -p)" },
		{ "ipautofw -A -r udp 1 2", "-A -r needs -c PROTO PORT or -h HOST" },
		{ "ipautofw -A -r udp 2 1 -c tcp 3", "-r: range 2-1 is reversed" },
		{ "ipautofw -A -r icmp 1 2 -c tcp 3", "-r: unknown protocol 'icmp' (tcp or udp)" },
		{ "ipautofw -A -r udp 0 2 -c tcp 3", "-r: ports must be 1-65535" },
		{ "ipautofw -A -r udp 1 70000 -c tcp 3", "-r: ports must be 1-65535" },
		{ "ipautofw -A -r udp 1", "-r needs PROTO LOW HIGH" },
		{ "ipautofw -A -r udp 1 2 -c tcp", "-c needs PROTO PORT" },
		{ "ipautofw -A -r udp 1 2 -c tcp x", "-c: port must be 1-65535" },
		{ "ipautofw -A -r udp 1 2 -c tcp 3 -h 10.0.0.1",
		  "-c and -h exclude each other: a fixed host has no control port" },
		{ "ipautofw -A -D", "only one of -A, -D, -F, -L at a time" },
		{ "ipautofw -F -r udp 1 2", "-F takes no other options" },
		{ "ipautofw -A -p udp 8000 10.0.0.1", "-p: '10.0.0.1' is not HOST:PORT" },
		{ "ipautofw -A -p udp 8000 10.0.0.1:1 -r udp 1 2", "-p cannot be combined with -r, -c or -h" },
		{ "ipautofw -r udp 1 2 -c tcp 3", "one of -A, -D, -F or -L is needed" },
		{ "ipautofw -A -x", "unknown argument '-x'" },
		{ "ipautofw -A -i", "-i is not supported (see ipautofw.conf(5) for 'peer')" },
	};
	struct autofw_cmd c;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		CHECK_INT(parse(cases[i].line, &c, err), -22);
		CHECK_STR(err, cases[i].err);
	}
}

static struct rule *edit(const struct rule *r, const char *range, const char *port, bool add,
			 int expect, struct dynbuf *msg)
{
	struct rule *q = NULL;

	dynbuf_free(msg);
	CHECK_INT(autofw_edit(r, "autofw-tcp-6000-6100", range, port, add, &q, msg), expect);
	return q;
}

/* The seed's X-sessions recipe: one rule per range, control ports added and removed. */
static void test_edit(void)
{
	struct dynbuf msg = { 0 };
	struct rule *r, *q;
	char buf[256];

	r = edit(NULL, "6000-6100/tcp", "23/tcp", true, AUTOFW_EDIT_SET, &msg);
	CHECK(r != NULL);
	rule_format(r, buf, sizeof(buf));
	CHECK_STR(buf, "rule autofw-tcp-6000-6100 trigger 23/tcp forward 6000-6100/tcp timeout 5m");
	q = edit(r, "6000-6100/tcp", "177/udp", true, AUTOFW_EDIT_SET, &msg);
	rule_free(r);
	r = q;
	rule_format(r, buf, sizeof(buf));
	CHECK_STR(buf, "rule autofw-tcp-6000-6100 trigger 23/tcp,177/udp forward 6000-6100/tcp timeout 5m");
	CHECK(!edit(r, "6000-6100/tcp", "177/udp", true, AUTOFW_EDIT_NONE, &msg));
	CHECK_STR(msg.data, "rule 'autofw-tcp-6000-6100' already has control port 177/udp\n");
	CHECK(!edit(r, "6000-6200/tcp", "1/udp", true, -EINVAL, &msg));
	CHECK_STR(msg.data, "rule 'autofw-tcp-6000-6100' exists and is not a triggered forward of 6000-6200/tcp\n");
	CHECK(!edit(r, "6000-6100/tcp", "5/udp", false, -ENOENT, &msg));
	CHECK_STR(msg.data, "no entry: forward 6000-6100/tcp with control port 5/udp\n");
	CHECK(!edit(r, "6000-6100/tcp", "x/udp", false, -EINVAL, &msg));
	q = edit(r, "6000-6100/tcp", "23/tcp", false, AUTOFW_EDIT_SET, &msg);
	rule_free(r);
	r = q;
	rule_format(r, buf, sizeof(buf));
	CHECK_STR(buf, "rule autofw-tcp-6000-6100 trigger 177/udp forward 6000-6100/tcp timeout 5m");
	CHECK(!edit(r, "6000-6100/tcp", "177/udp", false, AUTOFW_EDIT_DEL, &msg));
	CHECK(!edit(NULL, "6000-6100/tcp", "177/udp", false, -ENOENT, &msg));
	rule_free(r);
	dynbuf_free(&msg);
}

TEST_MAIN(T(test_seed_commands), T(test_errors), T(test_edit))
