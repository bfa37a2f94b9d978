/*
 * Compiler-style diagnostics; see diag.h.
 */
#include <stdio.h>
#include <string.h>

#include "diag.h"

void diag_vprintf(struct dynbuf *out, struct dynbuf *lines, const struct diag_loc *loc,
		  const char *fmt, va_list ap)
{
	struct dynbuf head = { 0 }, pre = { 0 };
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	dynbuf_append_escaped(&head, loc->file, strlen(loc->file));
	if (loc->line)
		dynbuf_printf(&head, ":%u:%u", loc->line, loc->col);
	dynbuf_printf(&head, ": %s: ", loc->warning ? "warning" : "error");
	dynbuf_append_escaped(&head, msg, strlen(msg));
	dynbuf_append(&head, "\n", 1);
	if (head.oom) {
		out->oom = true;
	} else {
		dynbuf_append(out, head.data, head.len);
		if (lines)
			dynbuf_append(lines, head.data, head.len);
	}
	dynbuf_free(&head);
	if (!loc->line || !loc->text)
		return;
	dynbuf_append_escaped(out, loc->text, loc->len);
	dynbuf_append(out, "\n", 1);
	/* the caret under the column as shown: tabs kept, one space per character */
	dynbuf_append_escaped(&pre, loc->text, loc->col - 1 < loc->len ? loc->col - 1 : loc->len);
	for (size_t i = 0; i < pre.len; i++)
		if (pre.data[i] == '\t' || (pre.data[i] & 0xc0) != 0x80)
			dynbuf_append(out, pre.data[i] == '\t' ? "\t" : " ", 1);
	dynbuf_free(&pre);
	dynbuf_append(out, "^\n", 2);
}

void diag_printf(struct dynbuf *out, struct dynbuf *lines, const struct diag_loc *loc,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vprintf(out, lines, loc, fmt, ap);
	va_end(ap);
}

void diag_report(const struct diag_sink *s, const struct diag_loc *loc, const char *fmt, va_list ap)
{
	if (loc->warning)
		(*s->n_warnings)++;
	else
		(*s->n_errors)++;
	diag_vprintf(s->out, loc->warning ? s->warning_lines : s->error_lines, loc, fmt, ap);
}
