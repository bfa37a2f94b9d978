/*
 * Diagnostics in the compiler format every tool understands:
 * "FILE:LINE:COL: error: MESSAGE" (or "warning:"), then the source line and
 * a caret under the column. Bytes that would not show as themselves (control characters,
 * invalid UTF-8, invisible and bidi characters) are written as \xNN, in
 * the message and in the echoed line, with the caret still under the column:
 * nothing from a file or a request reaches a terminal or a log raw.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct diag_loc {
	const char *file;
	unsigned line;		/* 0: no position, only "FILE: error: ..." */
	unsigned col;
	const char *text;	/* the physical line, for the caret (may be NULL) */
	size_t len;
	bool warning;		/* "warning:" instead of "error:" */
};

/*
 * Append the diagnostic to OUT, and its first line alone to LINES (if not
 * NULL: one log entry per error).
 */
void diag_vprintf(struct dynbuf *out, struct dynbuf *lines, const struct diag_loc *loc,
		  const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
void diag_printf(struct dynbuf *out, struct dynbuf *lines, const struct diag_loc *loc,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Where a parse reports: every diagnostic in full, each error's and each
 * warning's first line alone (one log entry each), and how many of each.
 * The buffers belong to whoever reads the result (a struct config).
 */
struct diag_sink {
	struct dynbuf *out;
	struct dynbuf *error_lines;
	struct dynbuf *warning_lines;
	unsigned *n_errors;
	unsigned *n_warnings;
};

/* An error, or a warning when LOC says so, into S and counted. */
void diag_report(const struct diag_sink *s, const struct diag_loc *loc, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
