/*
 * The JSON writer; see json.h.
 */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, struct dynbuf *out)
{
	*j = (struct json){ .out = out };
}

void json_init_line(struct json *j, struct dynbuf *out)
{
	*j = (struct json){ .out = out, .one_line = true };
}

static void string(struct dynbuf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str, *run = s;
	size_t left = strlen(str);
	uint32_t cp;

	dynbuf_append(out, "\"", 1);
	while (*s) {
		size_t n = *s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\' ? 1 :
			   *s >= 0x80 ? utf8_seq(s, left, &cp) : 0;

		if (n) {
			s += n;
			left -= n;
			continue;
		}
		/* what needs escaping ends the run of bytes that go as they are */
		dynbuf_append(out, run, s - run);
		if (*s == '"' || *s == '\\')
			dynbuf_printf(out, "\\%c", *s);
		else if (*s < 0x80)
			dynbuf_printf(out, "\\u%04x", *s);
		else
			dynbuf_append(out, "\\ufffd", 6);
		s++;
		left--;
		run = s;
	}
	dynbuf_append(out, run, s - run);
	dynbuf_append(out, "\"", 1);
}

/* The separator before every member but the first, then "KEY": */
static void member(struct json *j, const char *key)
{
	if (j->depth) {
		unsigned n = j->n[j->depth - 1]++;

		if (j->depth == 1 && !j->one_line)
			dynbuf_append(j->out, &",\n  "[!n], 4 - !n);
		else if (n && j->close[j->depth - 1] == ']')
			dynbuf_append(j->out, ",", 1);
		else if (n)
			dynbuf_append(j->out, ", ", 2);
	}
	if (key) {
		string(j->out, key);
		dynbuf_append(j->out, ": ", 2);
	}
}

/* After the outermost value, the line ends. */
static void value_done(struct json *j)
{
	if (!j->depth)
		dynbuf_append(j->out, "\n", 1);
}

static void begin(struct json *j, const char *key, char open, char close)
{
	assert(j->depth < JSON_DEPTH_MAX);
	member(j, key);
	dynbuf_append(j->out, &open, 1);
	j->close[j->depth] = close;
	j->n[j->depth++] = 0;
}

void json_object(struct json *j, const char *key)
{
	begin(j, key, '{', '}');
}

void json_array(struct json *j, const char *key)
{
	begin(j, key, '[', ']');
}

void json_end(struct json *j)
{
	assert(j->depth > 0);
	j->depth--;
	if (!j->depth && j->n[0] && !j->one_line)
		dynbuf_append(j->out, "\n", 1);
	dynbuf_append(j->out, &j->close[j->depth], 1);
	value_done(j);
}

void json_str(struct json *j, const char *key, const char *s)
{
	member(j, key);
	if (s)
		string(j->out, s);
	else
		dynbuf_append(j->out, "null", 4);
	value_done(j);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	member(j, key);
	do
		*--p = '0' + v % 10;
	while (v /= 10);
	dynbuf_append(j->out, p, buf + sizeof(buf) - p);
	value_done(j);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	member(j, key);
	dynbuf_printf(j->out, "%" PRId64, v);
	value_done(j);
}

void json_fixed(struct json *j, const char *key, uint64_t v, unsigned decimals)
{
	uint64_t scale = 1;

	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	member(j, key);
	dynbuf_printf(j->out, "%" PRIu64, v / scale);
	if (decimals)
		dynbuf_printf(j->out, ".%0*" PRIu64, (int)decimals, v % scale);
	value_done(j);
}

void json_bool(struct json *j, const char *key, bool v)
{
	member(j, key);
	dynbuf_printf(j->out, "%s", v ? "true" : "false");
	value_done(j);
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	dynbuf_append(j->out, "null", 4);
	value_done(j);
}
