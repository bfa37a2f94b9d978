/*
 * Bounded and growable string builders shared by the formatters.
 */
#include <stdio.h>
#include <string.h>

#include "util.h"

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	size_t room = sb->len < sb->size ? sb->size - sb->len : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? sb->buf + sb->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb->len += n;
}

static bool dynbuf_reserve(struct dynbuf *d, size_t extra)
{
	size_t want = d->len + extra + 1;
	char *p;

	if (d->oom)
		return false;
	if (want <= d->cap)
		return true;
	if (want < d->cap * 2)
		want = d->cap * 2;
	if (want < 256)
		want = 256;
	p = realloc(d->data, want);
	if (!p) {
		d->oom = true;
		return false;
	}
	d->data = p;
	d->cap = want;
	return true;
}

void dynbuf_append(struct dynbuf *d, const void *p, size_t n)
{
	if (!dynbuf_reserve(d, n))
		return;
	memcpy(d->data + d->len, p, n);
	d->len += n;
	d->data[d->len] = '\0';
}

void dynbuf_printf(struct dynbuf *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !dynbuf_reserve(d, n))
		return;
	va_start(ap, fmt);
	vsnprintf(d->data + d->len, n + 1, fmt, ap);
	va_end(ap);
	d->len += n;
}

void dynbuf_json_string(struct dynbuf *d, const char *s)
{
	dynbuf_append(d, "\"", 1);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			dynbuf_printf(d, "\\%c", c);
		else if (c < 0x20)
			dynbuf_printf(d, "\\u%04x", c);
		else
			dynbuf_append(d, s, 1);
	}
	dynbuf_append(d, "\"", 1);
}

void dynbuf_free(struct dynbuf *d)
{
	free(d->data);
	d->data = NULL;
	d->len = d->cap = 0;
	d->oom = false;
}
