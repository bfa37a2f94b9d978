/*
 * lib/control/ owns what ipautofwctl and the outside world see: the control
 * protocol, the listings and status (here), monitor events, metrics,
 * the WAN-port warning, the handover to a new binary and the 1996
 * command line.
 * May use: base, rules, nft, kernel, engine.
 *
 * What ipautofwctl shows: the active forwardings and the configured rules,
 * as an aligned human table or as JSON (the DESIGN §4 contract), and the
 * parts of `status` made from the engine or from a table of figures. Pure
 * formatting from the engine's state and a time passed in.
 */
#pragma once

#include "engine/engine.h"
#include "base/util.h"

void report_list(const struct engine *e, uint64_t now, bool json, struct dynbuf *out);
/*
 * Each rule with where it came from, whether it is enabled (and whether a
 * runtime switch says so), the forwardings it holds and when it last fired.
 */
void report_rules(const struct engine *e, uint64_t now, bool json, struct dynbuf *out);

struct json;

/*
 * One figure of `status`, from which both its JSON member and its part of
 * a line of text are made: BEFORE, the value, AFTER. Consecutive figures
 * of one LINE make one line, "LINE:" then their parts.
 */
struct report_figure {
	const char *key;	/* the JSON member; NULL: text only */
	const char *line;	/* the text line it is on ("triggers"); NULL: JSON only */
	const char *before;
	const char *after;
	bool text_if_set;	/* in the text only when not 0 (a line of it alone: then no line) */
	uint64_t v;
};

/* FIGURES as members of J, or, with J NULL, as lines of OUT. */
void report_figures(const struct report_figure *v, size_t n, struct json *j, struct dynbuf *out);

/* The hosts holding forwardings and the busiest few: members of J, or, with J NULL, a line of OUT. */
void report_hosts(const struct engine *e, struct json *j, struct dynbuf *out);

/* Why there is no WAN interface (one line, no newline). */
void report_no_wan(const struct engine *e, struct dynbuf *out);

/*
 * What the kernel can do and what the daemon does instead (DESIGN §2.14),
 * on kernel RELEASE with the table TABLE ("owned", ...); NO_KERNEL_PATH:
 * the daemon was told to open every forwarding. Members of J, or lines of
 * OUT when J is NULL.
 */
void report_kernel(const struct engine *e, const char *release, const char *table,
		   bool no_kernel_path, struct json *j, struct dynbuf *out);
