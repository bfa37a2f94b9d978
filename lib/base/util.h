/*
 * lib/base/ owns what every part needs and none decides: the bounded string
 * builder (here), the deadline heap, the hash map, the JSON writer, the
 * netlink batch and the cutting of port ranges into segments.
 * May use: nothing of ours (libc, and libmnl/libnftnl for the batch).
 *
 * Small shared helpers: a bounded string builder that never overflows and
 * remembers the length it would have needed, and cleanup attributes.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

struct strbuf {
	char *buf;
	size_t size;
	size_t len;
};

#define STRBUF_INIT(b, s) { .buf = (b), .size = (s), .len = 0 }

void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable heap string; used for replies and diagnostics. */
struct dynbuf {
	char *data;
	size_t len;
	size_t cap;
	bool oom;
};

void dynbuf_printf(struct dynbuf *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dynbuf_append(struct dynbuf *d, const void *p, size_t n);
void dynbuf_free(struct dynbuf *d);

/* The length of the well-formed UTF-8 sequence at S (1-4 of LEN), or 0; *RET_CP its code point. */
size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *ret_cp);

/*
 * Append S[0..LEN) with every byte that would not show as itself written
 * as \xNN: control characters (tab aside), DEL, bytes that are not UTF-8,
 * and the invisible or direction-changing characters (a byte-order mark,
 * zero-width spaces, bidi overrides, C1 controls). D may be NULL. Returns
 * the width of the result in columns (a tab counts one), for a caret.
 */
size_t dynbuf_append_escaped(struct dynbuf *d, const char *s, size_t len);

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/*
 * The word of WORDS (N of them) closest to S[0..LEN) by edit distance
 * (insertions, deletions, substitutions, swaps of neighbours), if it is
 * close enough to be a misspelling of it (1 edit for words of up to 4
 * characters, 2 beyond; for three letters or fewer, no letter replaced by
 * another) and no other word is as close, else NULL: for "did you mean".
 */
const char *suggest_word(const char *s, size_t len, const char *const *words, size_t n);
