/*
 * Learn mode's report (`ipautofwctl learn`): what lib/engine/learn.c
 * recorded, per rule and peer, and for each rule the forward list it
 * suggests, as text or as JSON. Read only; the time is passed in.
 */
#pragma once

#include "engine/learn.h"
#include "base/util.h"

#define LEARN_MERGE_GAP 512		/* a suggestion joins ports at most this far apart */

/*
 * A forward list for R: its forwards and every port recorded for it,
 * ports at most LEARN_MERGE_GAP apart joined into one range, less what
 * other rules forward (they would overlap). Sorted by protocol and port.
 */
int learnreport_suggest(const struct learn *l, const struct config *c, const struct rule *r,
			struct portrange **ret, size_t *ret_n);

/*
 * What was seen, per rule (RULE, or every rule with records) and peer,
 * with a suggestion per rule; times as seconds before NOW. -ENOENT if
 * RULE is not a rule of C.
 */
int learnreport_format(const struct learn *l, const struct config *c, const char *rule,
		       uint64_t now, bool json, struct dynbuf *out);
