/*
 * A trigger: the one decision about a packet the trigger rule logged.
 * From the packet, its interfaces' names, the router's addresses and
 * neighbours (srccheck.h) and the time, it says whether the source is
 * genuine, whether a rule fires and lets the source in, what each rule's
 * forwarding does (opened, refreshed, taken over, refused at a limit),
 * and what the kernel's own adds made that must go again; the forwarding
 * table and the elements to delete change accordingly. The daemon logs,
 * counts, tells the monitors, writes the batch and marks the pair's
 * connection from what it returns. The one question only a socket can
 * answer, the route back where the kernel cannot check it, is asked
 * through a function the caller passes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "hostid.h"
#include "kernel/nflog.h"
#include "srccheck.h"

/* What one trigger did to one rule's forwarding. */
struct trigger_event {
	enum fwd_change change;
	const struct fwd *fwd;	/* NULL when FWD_OVER_* opened nothing */
	const struct rule *rule;
	int af;
	union inaddr host;	/* the trigger's source */
	struct hostid id;	/* the machine it is an address of */
	union inaddr old_host;	/* FWD_TAKEN_OVER, FWD_REFUSED: the holder */
	union inaddr dst;	/* the trigger's destination: the peer the host contacted */
};

/* Events in order, appended to by each trigger (the daemon tells them after its write). */
struct trigger_events {
	struct trigger_event *v;
	size_t n;
	size_t cap;
};

void trigger_events_free(struct trigger_events *evs);

enum trigger_verdict {
	TRIGGER_FORGED,		/* the source is not genuine: result.forged says why */
	TRIGGER_UNMATCHED,	/* no rule's ports and interfaces */
	TRIGGER_NOT_ALLOWED,	/* it matched only rules whose `allow` leaves the source out */
	TRIGGER_REFUSED,	/* each rule it fired refused it: a limit, or `exclusive` held */
	TRIGGER_SERVED,		/* a forwarding opened, refreshed or taken: the pair marks it */
};

struct trigger_result {
	enum trigger_verdict verdict;
	enum srccheck_verdict forged;	/* TRIGGER_FORGED: why */
	bool caught;		/* TRIGGER_FORGED: caught (and counted) by the kernel's trigger rule */
	struct hostid id;	/* the machine it came from (not for TRIGGER_FORGED) */
	int fired;		/* rules it fired, served or refused */
	size_t undone;		/* rules whose elements the kernel added go at the next write */
	size_t untold;		/* changes made whose event found no memory */
};

/*
 * Does the route back to PKT's source leave through the interface it came
 * in on (a routing lookup)? Asked only where neither the kernel's forward
 * hook nor the interface's prefixes tell.
 */
typedef bool trigger_route_fn(const struct nflog_pkt *pkt, void *data);

struct trigger_in {
	const struct nflog_pkt *pkt;
	const char *indev;		/* the names of pkt->indev and pkt->outdev */
	const char *outdev;
	const struct srccheck *src;	/* the router's addresses and neighbours */
	trigger_route_fn *route_back;
	void *data;
	/*
	 * The time, read once the source is found genuine (the route lookup
	 * before may have waited); NULL: NOW is the time (the unit tests).
	 */
	uint64_t (*clock)(void);
	uint64_t now;
};

/*
 * Decide IN's trigger: *RET says what happened, EVS (if not NULL) gets one
 * event per rule it fired (an event there was no memory for is counted in
 * ret->untold, and the change made all the same). Returns 0, or -ENOMEM
 * when the forwarding table could not grow: *RET then says what the rules
 * before did.
 */
int trigger_decide(struct engine *e, const struct trigger_in *in, struct trigger_events *evs,
		   struct trigger_result *ret);

/*
 * A trigger connection the other router of a pair served (pair.h): the
 * same decision less what that router checked already (the source, and
 * the interfaces it came in and went out on: this router did not forward
 * it). The forwardings it opens, refreshes or takes are marked
 * `replicated`.
 */
int trigger_replicated(struct engine *e, const struct nflog_pkt *pkt, uint64_t now,
		       struct trigger_events *evs, struct trigger_result *ret);

/*
 * The rules' part of trigger_decide, for a source already found genuine
 * (the unit tests' way in): machine ID (NULL: the address alone says,
 * hostid_addr). With kernel_triggers, the kernel has already opened the
 * forwarding of each rule the packet fired that had none: when the engine
 * refuses one (a limit), its elements are deleted at the next write, so
 * the kernel's view and the engine's part for at most one loop turn.
 */
int trigger_fire(struct engine *e, const struct nflog_pkt *pkt, const struct hostid *id,
		 const char *indev, const char *outdev, uint64_t now, struct trigger_events *evs,
		 struct trigger_result *ret);
