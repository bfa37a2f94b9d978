/*
 * The rule-file lexer: text cut into statements (one per line, `#`
 * comments, a trailing `\\` continues), statements into whitespace-
 * separated tokens that remember their physical line and column, and
 * diagnostics placed at a token, with the line and a caret, into the
 * sink the lexer is given. It knows no grammar; the readers above it do:
 *
 *   value.c    the values of options: ports, ranges, durations, lists, names
 *   ruleopt.c  `rule NAME OPTIONS`: the option table, the checks of a rule
 *   config.c   the configuration, global statements, entry points
 *   confload.c drop-in directories and files
 *   uci.c      OpenWrt's /etc/config/ipautofw and the interface names file
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

struct token {
	const char *s;
	size_t len;
	unsigned line;
	unsigned col;
	const char *ltext;	/* the physical line, for the caret */
	size_t llen;
};

/* One file being read: its name as diagnostics show it, and where they go. */
struct lexer {
	const char *file;
	struct diag_sink sink;
};

/* One statement: TOKS[0] its first word (N may be 0), END just past its last. */
typedef void (*lex_statement_fn)(struct lexer *lx, const struct token *toks, size_t n,
				 const struct token *end, void *data);

/*
 * Cut TEXT into statements, each to STATEMENT; RULE_ONLY: one line, no
 * comments. Returns 0, or -EINVAL when errors were reported meanwhile.
 */
int lex_buffer(struct lexer *lx, const char *text, size_t len, bool rule_only,
	       lex_statement_fn statement, void *data);
/*
 * The physical line of TEXT at *POS as a token (no "\n" or "\r\n"), *POS
 * past it and *LINE its number: 1, or 0 at the end, or -EINVAL for a line
 * that holds a NUL byte (reported; the caller skips it).
 */
int lex_line(struct lexer *lx, const char *text, size_t len, size_t *pos, unsigned *line,
	     struct token *ret);

/* An error at T (NULL: the file as a whole). */
void lex_diag(struct lexer *lx, const struct token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void lex_warn(struct lexer *lx, const struct token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* How many errors the sink holds, to tell whether a piece added some. */
unsigned lex_errors(const struct lexer *lx);
/* " (did you mean 'WORD'?)" when T is a misspelling of one of WORDS, else "" */
const char *lex_guess(const struct token *t, const char *const *words, size_t n, char *buf,
		      size_t size);
bool lex_is(const struct token *t, const char *s);
/* A sub-token: part of T from offset OFF, LEN bytes. */
struct token lex_sub(const struct token *t, size_t off, size_t len);
