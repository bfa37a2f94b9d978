/*
 * The rule-file lexer; see lexer.h. Errors never stop the parse; they
 * accumulate in the sink with the source line and a caret under the
 * column, and each error's first line on its own.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"

/* Where token T (NULL: the file as a whole) stands, for a diagnostic */
static struct diag_loc token_loc(const struct lexer *lx, const struct token *t, bool warning)
{
	struct diag_loc loc = { .file = lx->file, .warning = warning };

	if (t) {
		loc.line = t->line;
		loc.col = t->col;
		loc.text = t->ltext;
		loc.len = t->llen;
	}
	return loc;
}

void lex_diag(struct lexer *lx, const struct token *t, const char *fmt, ...)
{
	struct diag_loc loc = token_loc(lx, t, false);
	va_list ap;

	va_start(ap, fmt);
	diag_report(&lx->sink, &loc, fmt, ap);
	va_end(ap);
}

void lex_warn(struct lexer *lx, const struct token *t, const char *fmt, ...)
{
	struct diag_loc loc = token_loc(lx, t, true);
	va_list ap;

	va_start(ap, fmt);
	diag_report(&lx->sink, &loc, fmt, ap);
	va_end(ap);
}

unsigned lex_errors(const struct lexer *lx)
{
	return *lx->sink.n_errors;
}

const char *lex_guess(const struct token *t, const char *const *words, size_t n, char *buf,
		      size_t size)
{
	const char *w = suggest_word(t->s, t->len, words, n);

	if (!w)
		return "";
	snprintf(buf, size, " (did you mean '%s'?)", w);
	return buf;
}

bool lex_is(const struct token *t, const char *s)
{
	return t->len == strlen(s) && !memcmp(t->s, s, t->len);
}

struct token lex_sub(const struct token *t, size_t off, size_t len)
{
	struct token r = *t;

	r.s = t->s + off;
	r.len = len;
	r.col = t->col + off;
	return r;
}

int lex_line(struct lexer *lx, const char *text, size_t len, size_t *pos, unsigned *line,
	     struct token *ret)
{
	const char *ls = text + *pos, *nl, *nul;
	size_t llen;

	if (*pos >= len)
		return 0;
	nl = memchr(ls, '\n', len - *pos);
	llen = nl ? (size_t)(nl - ls) : len - *pos;
	*pos += llen + (nl ? 1 : 0);
	(*line)++;
	if (llen && ls[llen - 1] == '\r')
		llen--;
	nul = memchr(ls, '\0', llen);
	if (nul) {
		struct token t = { .s = nul, .len = 0, .line = *line, .col = nul - ls + 1,
				   .ltext = ls, .llen = nul - ls };

		lex_diag(lx, &t, "line contains a NUL byte");
		return -EINVAL;
	}
	*ret = (struct token){ .s = ls, .len = llen, .line = *line, .col = 1, .ltext = ls,
			       .llen = llen };
	return 1;
}

int lex_buffer(struct lexer *lx, const char *text, size_t len, bool rule_only,
	       lex_statement_fn statement, void *data)
{
	unsigned start_errors = lex_errors(lx);
	struct token *toks = NULL, end = { 0 }, ln;
	size_t n = 0, cap = 0, pos = 0;
	unsigned line = 0;
	bool cont = false;
	int r;

	while ((r = lex_line(lx, text, len, &pos, &line, &ln)) != 0) {
		const char *ls = ln.s;
		size_t llen = ln.len, body, k;

		if (r < 0) {
			n = 0;
			cont = false;
			continue;
		}
		body = llen;
		for (k = 0; k < llen && !rule_only; k++)
			if (ls[k] == '#') {
				body = k;
				break;
			}
		while (body && isspace((unsigned char)ls[body - 1]))
			body--;
		bool next_cont = !rule_only && body && ls[body - 1] == '\\';

		if (next_cont)
			body--;
		if (!cont)
			n = 0;
		for (k = 0; k < body;) {
			size_t s;

			if (isspace((unsigned char)ls[k])) {
				k++;
				continue;
			}
			for (s = k; k < body && !isspace((unsigned char)ls[k]); k++)
				;
			if (n == cap) {
				struct token *q = realloc(toks, (cap = cap ? cap * 2 : 16) * sizeof(*q));

				if (!q) {
					free(toks);
					return -ENOMEM;
				}
				toks = q;
			}
			toks[n++] = (struct token){ .s = ls + s, .len = k - s, .line = line,
						    .col = s + 1, .ltext = ls, .llen = llen };
		}
		end = (struct token){ .s = ls + body, .len = 0, .line = line,
				      .col = body + 1, .ltext = ls, .llen = llen };
		cont = next_cont;
		if (!cont) {
			statement(lx, toks, n, &end, data);
			n = 0;
		}
	}
	if (cont)
		statement(lx, toks, n, &end, data);
	free(toks);
	return lex_errors(lx) == start_errors ? 0 : -EINVAL;
}
