/*
 * The live events of `ipautofwctl monitor`: what happened to a forwarding
 * (opened, refreshed, taken over, refused, expired, closed), a forged
 * trigger, a port learn mode recorded, a reload. One event is one line of
 * text or one JSON object; the time is passed in, as wall-clock ms.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/hostid.h"
#include "rules/rule.h"
#include "base/util.h"

enum event_kind {
	EVENT_OPENED,
	EVENT_REFRESHED,
	EVENT_TAKEN_OVER,
	EVENT_REFUSED,
	EVENT_EXPIRED,
	EVENT_CLOSED,
	EVENT_FORGED,
	EVENT_LEARNED,
	EVENT_RELOADED,
	EVENT__KINDS,
};

struct event {
	enum event_kind kind;
	uint64_t time_ms;		/* wall clock, ms since the epoch */
	const struct rule *rule;	/* NULL: none (forged, reloaded) */
	int af;				/* 0: no host */
	union inaddr host;		/* the LAN host; forged: the claimed source */
	struct hostid id;		/* its machine; LINK: the link-layer address is shown (forged: the frame's) */
	bool has_peer;
	union inaddr peer;		/* peer rules: the peer; learned: who sent */
	bool has_other;
	union inaddr other;		/* taken_over: the old host; refused: the holder */
	const char *reason;		/* refused, closed, forged */
	uint8_t proto;			/* forged, learned */
	uint16_t port;
	const char *ifname;		/* forged: where it came in */
	size_t n_rules;			/* reloaded */
	size_t n_forwardings;
};

const char *event_name(enum event_kind k);

/* Append EV as one line: text (local time) or a JSON object. */
void event_format(const struct event *ev, bool json, struct dynbuf *out);
