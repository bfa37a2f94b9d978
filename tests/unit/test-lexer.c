#include <errno.h>

#include "rules/lexer.h"
#include "lexsink.h"
#include "test.h"

/* Each statement as "LINE:COL word|word|...$" (the end's column after $), one a line. */
static void collect(struct lexer *lx, const struct token *toks, size_t n, const struct token *end,
		    void *data)
{
	struct dynbuf *d = data;

	dynbuf_printf(d, "%u:%u ", n ? toks[0].line : end->line, n ? toks[0].col : end->col);
	for (size_t i = 0; i < n; i++)
		dynbuf_printf(d, "%s%.*s", i ? "|" : "", (int)toks[i].len, toks[i].s);
	dynbuf_printf(d, "$%u\n", end->col);
}

static void test_statements(void)
{
	static const struct {
		const char *in;
		size_t len;	/* 0: up to the NUL */
		bool rule_only;
		const char *want;
		int ret;
	} cases[] = {
		{ "a b  c\n", 0, false, "1:1 a|b|c$7\n", 0 },
		{ "a # b\n\n  # c\nd", 0, false, "1:1 a$2\n2:1 $1\n3:1 $1\n4:1 d$2\n", 0 },
		{ "a \\\n  b\\\nc\n", 0, false, "1:1 a|b|c$2\n", 0 },
		{ "a\r\nb\r\n", 0, false, "1:1 a$2\n2:1 b$2\n", 0 },
		{ "a \\", 0, false, "1:1 a$3\n", 0 },
		{ "a # b \\", 0, true, "1:1 a|#|b|\\$8\n", 0 },
		{ "a\nb\0c\nd", 7, false, "1:1 a$2\n3:1 d$2\n", -EINVAL },
		{ "a \\\nb\0\nc", 8, false, "3:1 c$2\n", -EINVAL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct dynbuf got = { 0 };
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		struct sink s;

		sink_init(&s);
		CHECK_INT(lex_buffer(&s.lx, cases[i].in, len, cases[i].rule_only, collect, &got),
			  cases[i].ret);
		CHECK_STR(text(&got), cases[i].want);
		CHECK_INT(s.n_errors, cases[i].ret ? 1 : 0);
		dynbuf_free(&got);
		sink_free(&s);
	}
}

static void test_line(void)
{
	static const char in[] = "one\r\ntw\0o\nthree";
	struct token t;
	size_t pos = 0;
	unsigned line = 0;
	struct sink s;

	sink_init(&s);
	CHECK_INT(lex_line(&s.lx, in, sizeof(in) - 1, &pos, &line, &t), 1);
	CHECK(t.len == 3 && !memcmp(t.s, "one", 3) && t.line == 1 && t.col == 1);
	CHECK_INT(lex_line(&s.lx, in, sizeof(in) - 1, &pos, &line, &t), -EINVAL);
	CHECK_STR(text(&s.error_lines), "t.conf:2:3: error: line contains a NUL byte\n");
	CHECK_INT(lex_line(&s.lx, in, sizeof(in) - 1, &pos, &line, &t), 1);
	CHECK(t.len == 5 && !memcmp(t.s, "three", 5) && t.line == 3);
	CHECK_INT(lex_line(&s.lx, in, sizeof(in) - 1, &pos, &line, &t), 0);
	CHECK_INT(line, 3);
	sink_free(&s);
}

static void test_diag(void)
{
	static const char line[] = "\tport 70000/tcp";
	struct token t = { .s = line + 6, .len = 9, .line = 4, .col = 7, .ltext = line,
			   .llen = sizeof(line) - 1 };
	struct token sub = lex_sub(&t, 0, 5);
	struct sink s;

	sink_init(&s);
	lex_diag(&s.lx, &sub, "port %.*s out of range", (int)sub.len, sub.s);
	lex_warn(&s.lx, &t, "just so");
	lex_diag(&s.lx, NULL, "as a whole");
	CHECK_STR(text(&s.out), "t.conf:4:7: error: port 70000 out of range\n"
		  "\tport 70000/tcp\n"
		  "\t     ^\n"
		  "t.conf:4:7: warning: just so\n"
		  "\tport 70000/tcp\n"
		  "\t     ^\n"
		  "t.conf: error: as a whole\n");
	CHECK_STR(text(&s.error_lines), "t.conf:4:7: error: port 70000 out of range\n"
		  "t.conf: error: as a whole\n");
	CHECK_STR(text(&s.warning_lines), "t.conf:4:7: warning: just so\n");
	CHECK_INT(s.n_errors, 2);
	CHECK_INT(s.n_warnings, 1);
	CHECK_INT(lex_errors(&s.lx), 2);
	sink_free(&s);
}

static void test_words(void)
{
	static const char *const words[] = { "trigger", "forward" };
	struct token t = { .s = "forwrad", .len = 7, .line = 1, .col = 3 };
	struct token sub = lex_sub(&t, 2, 3);
	char buf[64];

	CHECK(lex_is(&t, "forwrad"));
	CHECK(!lex_is(&t, "forwra"));
	CHECK(!lex_is(&t, "forwrads"));
	CHECK(sub.len == 3 && !memcmp(sub.s, "rwr", 3) && sub.col == 5 && sub.line == 1);
	CHECK_STR(lex_guess(&t, words, 2, buf, sizeof(buf)), " (did you mean 'forward'?)");
	t.s = "xyzzy";
	t.len = 5;
	CHECK_STR(lex_guess(&t, words, 2, buf, sizeof(buf)), "");
}

TEST_MAIN(T(test_statements), T(test_line), T(test_diag), T(test_words))
