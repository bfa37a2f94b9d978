/*
 * For the tests of lib/rules: a lexer for "t.conf" that reports into
 * buffers of its own, and their text.
 */
#pragma once

#include "rules/lexer.h"

struct sink {
	struct dynbuf out, error_lines, warning_lines;
	unsigned n_errors, n_warnings;
	struct lexer lx;
};

static inline void sink_init(struct sink *s)
{
	*s = (struct sink){ 0 };
	s->lx = (struct lexer){ "t.conf", { &s->out, &s->error_lines, &s->warning_lines,
					    &s->n_errors, &s->n_warnings } };
}

static inline const char *text(struct dynbuf *d)
{
	dynbuf_append(d, "", 1);
	d->len--;
	return d->data ? d->data : "";
}

static inline void sink_free(struct sink *s)
{
	dynbuf_free(&s->out);
	dynbuf_free(&s->error_lines);
	dynbuf_free(&s->warning_lines);
}
