/*
 * How many active forwardings each host holds, for max-per-host (DESIGN
 * §2.11). A host is a struct hostid (a machine's link-layer address, or
 * an IPv4 address or IPv6 /64); its forwardings are counted per pool: the
 * global one (rules without a max-per-host of their own, POOL "") and one
 * per rule that has its own.
 */
#pragma once

#include <stddef.h>

#include "base/hmap.h"
#include "hostid.h"
#include "rules/rule.h"

struct hostcount {
	struct hmap map;	/* entries (host, pool) with a count above zero */
};

unsigned hostcount_get(const struct hostcount *h, const struct hostid *id, const char *pool);
/* Add DELTA (+1 or -1) to the count of host ID in POOL. Returns 0 or -ENOMEM (only when adding). */
int hostcount_add(struct hostcount *h, const struct hostid *id, const char *pool, int delta);
void hostcount_clear(struct hostcount *h);
