/*
 * A router pair (docs/ha-pair.md). The router that serves a genuine
 * trigger marks the trigger's conntrack entry (`pair ct-mark`); conntrackd
 * carries the entry to the other router and writes it into that router's
 * conntrack table, which tells this module in a conntrack event. Such an
 * entry is turned into a trigger once: the first event of the mark that
 * another program (conntrackd) caused. This router's own marks, and the
 * packet path's later events of an entry (TCP state changes), are no
 * trigger; nor is an entry conntrackd deletes and writes again at once
 * (what it does with one that is there already, in a resync's bulk).
 * Nothing here reads a socket or the clock.
 */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernel/ctnl.h"
#include "kernel/nflog.h"

#define PAIR_SEEN_MAX 65536
/* an entry conntrackd deleted and wrote again within this is the same connection */
#define PAIR_RECREATE_MS 2000

struct pair_seen;

struct pair {
	uint32_t mark;
	uint32_t mask;
	struct pair_seen **buckets;	/* marked entries alive, by original tuple */
	size_t n_buckets;
	size_t n;
	uint64_t full;			/* entries not remembered: PAIR_SEEN_MAX reached */
};

void pair_init(struct pair *p, uint32_t mark, uint32_t mask);
void pair_fini(struct pair *p);

/* Entry E carries the mark. */
bool pair_marked(const struct pair *p, const struct ct_entry *e);

/* This router marked the entry of AF T itself: its events are never a trigger here. */
int pair_note(struct pair *p, int af, const struct ct_tuple *t);

/*
 * An entry NLH of a dump (ctnl_dump_marked_request) at NOW: 1 when it is a
 * marked trigger connection not seen before (RET holds it, as for
 * pair_event), else 0; it is remembered either way. A dump when pair mode
 * starts takes what is there as known (a restarted daemon adopted its
 * forwardings); one after lost events takes what is new as triggers.
 */
int pair_dumped(struct pair *p, const struct nlmsghdr *nlh, uint64_t now, struct nflog_pkt *ret);

/*
 * A conntrack event NLH at NOW (ms): 1 when it is a trigger connection
 * marked on the other router, seen here for the first time (RET then
 * holds it as a trigger: family, addresses, protocol, ports), else 0
 * (-EINVAL: not a conntrack event). OWN_PORTID is the socket this router
 * marks through.
 */
int pair_event(struct pair *p, const struct nlmsghdr *nlh, uint32_t own_portid, uint64_t now,
	       struct nflog_pkt *ret);
