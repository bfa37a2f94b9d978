/*
 * The rule-file lexer, shared by the parser's files (not part of the
 * library's API): text cut into statements (one per line, `#` comments,
 * a trailing `\\` continues), statements into whitespace-separated tokens
 * that remember their physical line and column, diagnostics with the
 * line and a caret, and the parsers of values (ports, ranges, durations,
 * lists, interface names, prefixes, counts).
 *
 *   lexer.c    tokens, diagnostics, values
 *   ruleopt.c  `rule NAME OPTIONS`: the option table, rule_validate, overlaps
 *   config.c   the configuration, global statements, entry points
 *   confload.c drop-in directories and files
 *   uci.c      OpenWrt's /etc/config/ipautofw and the interface names file
 */
#pragma once

#include "config.h"
#include "prefix.h"

struct token {
	const char *s;
	size_t len;
	unsigned line;
	unsigned col;
	const char *ltext;	/* the physical line, for the caret */
	size_t llen;
};

struct parser {
	struct config *c;
	const char *file;
	unsigned start_errors;
};

typedef void (*lex_statement_fn)(struct parser *p, const struct token *toks, size_t n,
				 const struct token *end);

/* Cut TEXT into statements of FILE, each to STATEMENT; RULE_ONLY: one line, no comments. */
int lex_buffer(struct config *c, const char *file, const char *text, size_t len, bool rule_only,
	       lex_statement_fn statement);

void lex_diag(struct parser *p, const struct token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void lex_warn(struct parser *p, const struct token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* " (did you mean 'WORD'?)" when T is a misspelling of one of WORDS, else "" */
const char *lex_guess(const struct token *t, const char *const *words, size_t n, char *buf,
		      size_t size);
bool lex_is(const struct token *t, const char *s);
/* A sub-token: part of T from offset OFF, LEN bytes. */
struct token lex_sub(const struct token *t, size_t off, size_t len);
int lex_uint(const char *s, size_t len, unsigned long max, unsigned long *ret);
int lex_port(struct parser *p, const struct token *t, uint16_t *ret);
/* PORT/PROTO or LOW-HIGH/PROTO */
int lex_portrange(struct parser *p, const struct token *t, struct portrange *ret);
/* 300, 300s, 5m, 1h30m, 4m12s */
int lex_duration(struct parser *p, const struct token *t, uint32_t *ret);
/* A comma list from toks[*i] on; "a,b", "a, b" and "a ,b" are one list. */
int lex_list(struct parser *p, const struct token *toks, size_t n, size_t *i,
	     struct token **ret, size_t *ret_n);
int lex_ports(struct parser *p, const struct token *toks, size_t n, size_t *i,
	      struct portrange **ret, size_t *ret_n);
int lex_ifnames(struct parser *p, const struct token *toks, size_t n, size_t *i, struct iflist *ret);
int lex_allow(struct parser *p, const struct token *toks, size_t n, size_t *i, struct prefixlist *ret);
/* A count for max-per-host or max-forwardings: 1 to CONFIG_LIMIT_MAX. */
int lex_limit(struct parser *p, const struct token *t, const char *what, unsigned *ret);
void lex_describe_loc(const struct srcloc *l, char *buf, size_t size);

/* config.c */
const char *config_intern_file(struct config *c, const char *file);
int config_append_rule(struct config *c, struct rule *r);
/* One statement of a rule file: `rule ...` or a global one (TOKS[0] its keyword). */
void config_statement(struct parser *p, const struct token *toks, size_t n, const struct token *end);
int config_add_alias(struct config *c, const char *name, const struct iflist *devs);
const struct ifalias *config_find_alias(const struct config *c, const char *name, size_t len);

/* ruleopt.c: whether T is the keyword of a rule option */
bool ruleopt_is_option(const struct token *t);
/* ruleopt.c: TOKS[0] is the rule name, END the end of the statement */
void ruleopt_parse(struct parser *p, const struct token *toks, size_t n, const struct token *end);
/*
 * A duplicate name, or a forward that overlaps another forward of R or of
 * a rule already in the configuration. TOKS (NULL for a rule that was
 * parsed before) place the caret; without them the message names R.
 */
void ruleopt_conflicts(struct parser *p, const struct rule *r, const struct token *toks, size_t n,
		       unsigned errors);
