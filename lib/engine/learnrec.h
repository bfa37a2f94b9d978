/*
 * Learn mode's records (the other half of lib/engine/learn.h): per rule,
 * peer and protocol, the ports the peer's connections that no forwarding
 * covered went to, coalesced into ranges, with how many there were and
 * when the first and the last came. At most LEARN_RECORDS_MAX records of
 * LEARN_RANGES_MAX ranges each; what does not fit is counted, never kept.
 * Time is passed in (ms, monotonic).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "rules/config.h"

#define LEARN_RECORDS_MAX 1024
#define LEARN_RANGES_MAX 32

struct learn_range {
	uint16_t lo;
	uint16_t hi;
};

struct learn_record {
	char rule[RULE_NAME_MAX + 1];
	int af;
	union inaddr peer;
	uint8_t proto;
	union inaddr host;		/* the host the rule's forwarding pointed at, last time */
	struct learn_range ranges[LEARN_RANGES_MAX];
	size_t n_ranges;
	uint64_t connections;
	uint64_t not_kept;		/* connections to ports beyond the ranges kept */
	uint64_t first_ms;
	uint64_t last_ms;
};

struct learnrec {
	struct learn_record **v;	/* sorted by rule, family, peer, protocol */
	size_t n;
	uint64_t not_kept;		/* connections of records beyond LEARN_RECORDS_MAX */
};

/*
 * A connection of PEER (family AF, protocol PROTO) to PORT, at NOW, for
 * RULE, whose forwarding pointed at HOST: into its record, which is
 * returned; NULL when there was no room for a new one (counted).
 */
struct learn_record *learnrec_add(struct learnrec *t, const char *rule, int af,
				  const union inaddr *peer, uint8_t proto, uint16_t port,
				  const union inaddr *host, uint64_t now);

/* Forget the records of RULE or (NULL) all, and then what was not kept. Returns how many went. */
size_t learnrec_clear(struct learnrec *t, const char *rule);

/* Records of rules that C no longer has go. */
void learnrec_keep_rules(struct learnrec *t, const struct config *c);

void learnrec_free(struct learnrec *t);
