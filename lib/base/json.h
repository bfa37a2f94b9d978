/*
 * A JSON writer into a dynbuf: objects and arrays, strings, numbers,
 * booleans and null, with the commas and the escaping done here and
 * nowhere else. Every value takes a KEY: the member name inside an object,
 * NULL inside an array or for the outermost value. The members of the
 * outermost container go one per line (unless all is to be one line);
 * anything deeper stays on its line, object members after ", ", array
 * elements after ",".
 * Strings are written as valid UTF-8 whatever they hold: control
 * characters escaped, bytes that are not UTF-8 replaced by U+FFFD.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define JSON_DEPTH_MAX 8

struct json {
	struct dynbuf *out;
	bool one_line;
	unsigned depth;
	unsigned n[JSON_DEPTH_MAX];	/* members written so far, per open container */
	char close[JSON_DEPTH_MAX];
};

void json_init(struct json *j, struct dynbuf *out);
/* The same, all on one line (a stream of JSON lines: monitor events). */
void json_init_line(struct json *j, struct dynbuf *out);

void json_object(struct json *j, const char *key);
void json_array(struct json *j, const char *key);
/* Close the innermost object or array (the outermost one ends the line). */
void json_end(struct json *j);

/* S NULL writes null. */
void json_str(struct json *j, const char *key, const char *s);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
/* V / 10^DECIMALS written exactly, DECIMALS digits after the point (a time in ms: 3). */
void json_fixed(struct json *j, const char *key, uint64_t v, unsigned decimals);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
