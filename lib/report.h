/*
 * What ipautofwctl shows: the active forwardings and the configured rules,
 * as an aligned human table or as JSON (the DESIGN §4 contract). Pure
 * formatting from the engine's state and a time passed in.
 */
#pragma once

#include "engine.h"
#include "util.h"

void report_list(const struct engine *e, uint64_t now, bool json, struct dynbuf *out);
/*
 * Each rule with where it came from, whether it is enabled (and whether a
 * runtime switch says so), the forwardings it holds and when it last fired.
 */
void report_rules(const struct engine *e, uint64_t now, bool json, struct dynbuf *out);
