#include <errno.h>

#include "rules/rulebook.h"
#include "test.h"

static struct rulebook book;
static struct dynbuf errors;

static void setup(const char *files_text)
{
	struct config *files = config_new();

	CHECK_INT(config_parse_text(files, "files.conf", files_text, strlen(files_text)), 0);
	rulebook_init(&book, files);
	dynbuf_free(&errors);
}

static void teardown(void)
{
	rulebook_fini(&book);
	dynbuf_free(&errors);
}

/* Split LINE at spaces into words and add them. */
static int add(const char *line, struct config **ret)
{
	char buf[512], *argv[64];
	int argc = 0, r;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 64; t = strtok(NULL, " "))
		argv[argc++] = t;
	dynbuf_free(&errors);
	r = rulebook_add(&book, "add", argc, (const char *const *)argv, ret, &errors);
	return r;
}

static const char *err_text(void)
{
	return errors.data ? errors.data : "";
}

static void test_add_del_compose(void)
{
	struct config *c = NULL;

	setup("rule game forward 27015/udp to 192.168.1.20\n");
	CHECK_INT(add("ra trigger 7070/tcp forward 6970-7170/udp", &c), 0);
	CHECK_INT(c->n_rules, 2);
	CHECK_STR(c->rules[1]->name, "ra");
	CHECK(c->rules[1]->loc.file == NULL);
	config_free(c);
	CHECK_INT(add("rb trigger 7071/tcp forward 7000/udp", &c), -EINVAL);
	CHECK(strstr(err_text(), "add:1:29: error: forward 7000/udp overlaps forward "
		     "6970-7170/udp of rule 'ra' (runtime)\n"
		     "rb trigger 7071/tcp forward 7000/udp\n"
		     "                            ^\n") != NULL);
	CHECK_INT(add("game forward 2/tcp to 192.168.7.2", &c), -EINVAL);
	CHECK(strstr(err_text(), "duplicate rule name 'game' (first defined at files.conf:1:6)"));
	CHECK_INT(book.n_runtime, 1);
	CHECK(rulebook_runtime(&book, "ra") != NULL);
	CHECK(rulebook_runtime(&book, "game") == NULL);

	CHECK_INT(rulebook_del(&book, "game", &c, &errors), -ENOENT);
	CHECK_INT(rulebook_del(&book, "ra", &c, &errors), 0);
	CHECK_INT(c->n_rules, 1);
	CHECK_INT(book.n_runtime, 0);
	config_free(c);
	teardown();
}

/* The words of one add are one rule, whatever they contain. */
static void test_words_checked(void)
{
	const char *nl[] = { "a", "trigger", "1/tcp", "forward", "2/tcp\nb", "trigger", "3/tcp",
			     "forward", "4/tcp" };
	const char *hash[] = { "a", "trigger", "1/tcp", "forward", "2/tcp", "#", "exclusive" };
	const char *tab[] = { "a\ttrigger", "1/tcp", "forward", "2/tcp" };
	struct config *c = NULL;

	setup("");
	CHECK_INT(rulebook_add(&book, "add", 9, nl, &c, &errors), -EBADMSG);
	CHECK(strstr(err_text(), "add:1:30: error: control character 0x0a in word 5") != NULL);
	CHECK(strstr(err_text(), "a trigger 1/tcp forward 2/tcp\\x0ab trigger 3/tcp forward 4/tcp\n"
		     "                             ^\n") != NULL);
	CHECK_INT(book.n_runtime, 0);
	dynbuf_free(&errors);
	CHECK_INT(rulebook_add(&book, "add", 7, hash, &c, &errors), -EBADMSG);
	CHECK(strstr(err_text(), "add:1:31: error: '#' in word 6") != NULL);
	dynbuf_free(&errors);
	CHECK_INT(rulebook_add(&book, "add", 4, tab, &c, &errors), -EBADMSG);
	CHECK(strstr(err_text(), "add:1:2: error: control character 0x09 in word 1") != NULL);
	CHECK_INT(book.n_runtime, 0);
	/* a trailing backslash continues nothing on a command line */
	CHECK_INT(add("a trigger 1/tcp forward 2/tcp\\", &c), -EINVAL);
	CHECK_INT(book.n_runtime, 0);
	teardown();
}

/* A rule far longer than any line buffer is kept whole and breaks nothing later. */
static void test_long_rule(void)
{
	struct dynbuf trig = { 0 };
	const char *argv[6] = { "big", "trigger", NULL, "forward", "60000-60100/udp", "exclusive" };
	struct config *c = NULL;
	char *formatted;
	size_t len;

	setup("rule game forward 27015/udp to 192.168.1.20\n");
	for (int p = 1; p <= 2400; p++)
		dynbuf_printf(&trig, "%s%d/tcp", p > 1 ? "," : "", 10000 + p);
	CHECK(trig.len > 16000);
	argv[2] = trig.data;
	CHECK_INT(rulebook_add(&book, "add", 6, argv, &c, &errors), 0);
	CHECK_INT(c->rules[1]->n_triggers, 2400);
	CHECK(c->rules[1]->exclusive);
	config_free(c);
	len = rule_format(book.runtime[0], NULL, 0);
	CHECK(len > 16000);
	formatted = malloc(len + 1);
	rule_format(book.runtime[0], formatted, len + 1);
	CHECK(strstr(formatted, "12400/tcp forward 60000-60100/udp timeout 5m exclusive") != NULL);
	free(formatted);
	/* later changes and a reload still work */
	CHECK_INT(add("ra trigger 7070/tcp forward 6970-7170/udp", &c), 0);
	config_free(c);
	c = config_new();
	config_parse_text(c, "files.conf", "rule x trigger 1/tcp forward 1/tcp\n", 35);
	{
		struct config *files = c;

		CHECK_INT(rulebook_set_files(&book, files, &c, &errors, NULL), 0);
	}
	CHECK_INT(c->n_rules, 3);
	CHECK_INT(c->rules[1]->n_triggers, 2400);
	config_free(c);
	dynbuf_free(&trig);
	teardown();
}

static void test_set_keeps_order(void)
{
	struct config *c = NULL;
	struct rule *r;
	struct portrange extra = { .proto = IPPROTO_UDP, .lo = 9, .hi = 9 };

	setup("");
	CHECK_INT(add("a trigger 1/tcp forward 100/tcp", &c), 0);
	config_free(c);
	CHECK_INT(add("b trigger 2/tcp forward 200/tcp", &c), 0);
	config_free(c);
	r = rule_dup(rulebook_runtime(&book, "a"));
	r->triggers = realloc(r->triggers, 2 * sizeof(*r->triggers));
	r->triggers[r->n_triggers++] = extra;
	CHECK_INT(rulebook_set(&book, r, &c, &errors), 0);
	CHECK_INT(c->n_rules, 2);
	CHECK_STR(c->rules[0]->name, "a");
	CHECK_INT(c->rules[0]->n_triggers, 2);
	config_free(c);
	/* a change that conflicts leaves everything as it was */
	r->forwards[0].lo = r->forwards[0].hi = 200;
	CHECK_INT(rulebook_set(&book, r, &c, &errors), -EINVAL);
	CHECK(strstr(err_text(), "runtime: error: rule 'b': forward 200/tcp overlaps forward "
		     "200/tcp of rule 'a' (runtime)") != NULL);
	CHECK_INT(rulebook_runtime(&book, "a")->forwards[0].lo, 100);
	rule_free(r);
	CHECK_INT(rulebook_clear(&book, &c, &errors), 0);
	CHECK_INT(c->n_rules, 0);
	CHECK_INT(book.n_runtime, 0);
	config_free(c);
	teardown();
}

/* A reload whose files now clash with a runtime rule is refused whole. */
static void test_files_conflict(void)
{
	struct config *c = NULL, *files = config_new();
	const char *text = "rule ra trigger 1/tcp forward 7000/udp\n";

	setup("");
	CHECK_INT(add("ra trigger 7070/tcp forward 6970-7170/udp", &c), 0);
	config_free(c);
	config_parse_text(files, "new.conf", text, strlen(text));
	dynbuf_free(&errors);
	CHECK_INT(rulebook_set_files(&book, files, &c, &errors, NULL), -EINVAL);
	CHECK(strstr(err_text(), "runtime: error: rule 'ra': duplicate rule name 'ra' "
		     "(first defined at new.conf:1:6)") != NULL);
	CHECK_INT(book.files->n_rules, 0);
	config_free(files);
	teardown();
}

/* What a replacing binary gets: rule lines it reads back into the same rules. */
static void test_handover_lines(void)
{
	struct config *c = NULL;
	struct rulebook other;
	char **lines;
	size_t n;

	setup("");
	CHECK_INT(add("a trigger 1/tcp,5-6/udp forward 100/tcp peer exclusive lan eth1,br* wan ppp*", &c), 0);
	config_free(c);
	CHECK_INT(add("s forward 8000/udp to 192.168.7.2:9000", &c), 0);
	config_free(c);
	CHECK_INT(rulebook_runtime_lines(&book, &lines, &n), 0);
	CHECK_INT(n, 2);
	CHECK_STR(lines[0], "a trigger 1/tcp,5-6/udp forward 100/tcp timeout 5m peer exclusive lan eth1,br* wan ppp*");
	CHECK_STR(lines[1], "s forward 8000/udp to 192.168.7.2:9000 family ipv4");
	rulebook_init(&other, config_new());
	CHECK_INT(rulebook_add_lines(&other, lines, n, &c, &errors), 0);
	CHECK_INT(c->n_rules, 2);
	CHECK_INT(other.n_runtime, 2);
	CHECK(other.n_runtime == 2 && other.runtime[1]->to_port == 9000);
	config_free(c);
	/* all or none */
	CHECK_INT(rulebook_add_lines(&other, lines, 1, &c, &errors), -EINVAL);
	CHECK_INT(other.n_runtime, 2);
	rulebook_fini(&other);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	teardown();
}

static bool enabled(const struct config *c, const char *name)
{
	const struct rule *r = config_find_rule(c, name);

	CHECK(r != NULL);
	return r && rule_enabled(r);
}

static void reload_files(const char *text, struct config **ret)
{
	struct config *files = config_new();

	CHECK_INT(config_parse_text(files, "files.conf", text, strlen(text)), 0);
	CHECK_INT(rulebook_set_files(&book, files, ret, &errors, NULL), 0);
}

static void test_switches(void)
{
	struct config *c = NULL;
	char **lines;
	size_t n;

	setup("rule a trigger 1/tcp forward 100/tcp\n"
	      "rule b trigger 2/tcp forward 200/tcp disabled\n");
	CHECK_INT(rulebook_compose(&book, &c, &errors, NULL), 0);
	CHECK(enabled(c, "a"));
	CHECK(!enabled(c, "b"));
	config_free(c);

	CHECK_INT(rulebook_switch(&book, "nope", false, &c, &errors), -ENOENT);
	CHECK_INT(rulebook_switch(&book, "a", true, &c, &errors), 1);	/* already on */
	CHECK_INT(rulebook_switch(&book, "a", false, &c, &errors), 0);
	CHECK(!enabled(c, "a"));
	CHECK_INT(config_find_rule(c, "a")->switched, -1);
	config_free(c);
	CHECK_INT(rulebook_switch(&book, "b", true, &c, &errors), 0);
	CHECK(enabled(c, "b"));
	config_free(c);

	/* kept through a reload, and through any runtime change */
	reload_files("rule a trigger 1/tcp forward 100/tcp\nrule b trigger 2/tcp forward 200/tcp disabled\n", &c);
	CHECK(!enabled(c, "a"));
	CHECK(enabled(c, "b"));
	config_free(c);
	CHECK_INT(add("r trigger 3/tcp forward 300/tcp", &c), 0);
	CHECK(!enabled(c, "a"));
	config_free(c);
	CHECK_INT(rulebook_switch(&book, "r", false, &c, &errors), 0);
	config_free(c);

	/* the same state again is still recorded: it outlasts `disabled` taken out of the file */
	CHECK_INT(rulebook_switch(&book, "b", false, &c, &errors), 0);
	config_free(c);
	CHECK_INT(rulebook_switch(&book, "b", false, &c, &errors), 1);
	reload_files("rule a trigger 1/tcp forward 100/tcp\nrule b trigger 2/tcp forward 200/tcp\n", &c);
	CHECK(!enabled(c, "b"));
	config_free(c);

	CHECK_INT(rulebook_switch_lines(&book, &lines, &n), 0);
	CHECK_INT(n, 3);
	CHECK_STR(lines[0], "a off");
	CHECK_STR(lines[1], "b off");
	CHECK_STR(lines[2], "r off");
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);

	/* a switch goes with its rule: gone from the files, then back, it is as the file says */
	reload_files("rule b trigger 2/tcp forward 200/tcp\n", &c);
	config_free(c);
	CHECK_INT(book.n_switches, 2);
	CHECK_INT(rulebook_del(&book, "r", &c, &errors), 0);
	config_free(c);
	CHECK_INT(book.n_switches, 1);
	reload_files("rule a trigger 1/tcp forward 100/tcp\nrule b trigger 2/tcp forward 200/tcp\n", &c);
	CHECK(enabled(c, "a"));
	CHECK(!enabled(c, "b"));
	config_free(c);

	/* handed over to a new binary: for the rules that exist there */
	{
		struct rulebook other;
		char *in[] = { "b on", "a off", "zz off", "a maybe", "garbage" };

		rulebook_init(&other, config_new());
		const char *text = "rule a trigger 1/tcp forward 1/udp\n"
				   "rule b trigger 2/tcp forward 2/udp disabled\n";

		CHECK_INT(config_parse_text(other.files, "f.conf", text, strlen(text)), 0);
		rulebook_add_switch_lines(&other, in, 5);
		CHECK_INT(rulebook_compose(&other, &c, &errors, NULL), 0);
		CHECK(!enabled(c, "a"));
		CHECK(enabled(c, "b"));
		CHECK_INT(other.n_switches, 2);
		config_free(c);
		rulebook_fini(&other);
	}
	teardown();
}

TEST_MAIN(T(test_add_del_compose), T(test_words_checked), T(test_long_rule),
	  T(test_set_keeps_order), T(test_files_conflict), T(test_handover_lines), T(test_switches))
