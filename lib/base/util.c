/*
 * Bounded and growable string builders shared by the formatters.
 */
#include <stdint.h>
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

size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *ret_cp)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

static bool invisible(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f) || cp == 0xad ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb);
}

size_t dynbuf_append_escaped(struct dynbuf *d, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t width = 0;

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_seq(u + i, len - i, &cp);

		if (n && !invisible(cp)) {
			if (d)
				dynbuf_append(d, s + i, n);
			width++;
			i += n;
			continue;
		}
		/* escape the whole sequence, or the one stray byte */
		for (size_t k = 0; k < (n ? n : 1); k++) {
			if (d)
				dynbuf_printf(d, "\\x%02x", u[i + k]);
			width += 4;
		}
		i += n ? n : 1;
	}
	return width;
}

void dynbuf_free(struct dynbuf *d)
{
	free(d->data);
	d->data = NULL;
	d->len = d->cap = 0;
	d->oom = false;
}

/* Optimal string alignment distance, capped: words here are short. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t d[33][33];

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* Two words of the same length made of the same letters: a swap, not another word. */
static bool same_letters(const char *a, const char *b, size_t len)
{
	unsigned count[256] = { 0 };

	for (size_t i = 0; i < len; i++) {
		count[(unsigned char)a[i]]++;
		count[(unsigned char)b[i]]--;
	}
	for (size_t i = 0; i < 256; i++)
		if (count[i])
			return false;
	return true;
}

const char *suggest_word(const char *s, size_t len, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t wl = strlen(words[i]);
		size_t limit = (wl < len ? wl : len) <= 4 ? 1 : 2;
		size_t dist = edit_distance(s, len, words[i], wl);

		/* in a word of three letters one other letter makes another word ("xdp" is not "udp") */
		if (wl == len && len <= 3 && !same_letters(s, words[i], len))
			continue;

		if (dist <= limit && dist == best_d)
			best = NULL;	/* two words as near: no guess */
		if (dist <= limit && dist < best_d) {
			best = words[i];
			best_d = dist;
		}
	}
	return best;
}
