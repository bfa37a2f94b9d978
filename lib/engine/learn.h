/*
 * Learn mode (DESIGN §2.13): what the peers a LAN host contacted then
 * tried to reach that no forwarding covered. Two halves:
 *
 * - contacts: each trigger says "HOST contacted PEER for RULE"; the peer
 *   is listed in the kernel's learn set (IPv4: keyed by the peer; IPv6: by
 *   peer . host) for the rule's timeout, so the kernel logs that peer's
 *   new inbound connections that nothing forwarded. A forwarding that
 *   closes takes its contacts with it.
 * - records (learnrec.h): per rule, peer and protocol, the ports those
 *   connections went to (coalesced into ranges), how many, first and
 *   last seen.
 *
 * Memory is bounded: at most LEARN_PEERS_MAX peers listed (more wait
 * until listed ones expire), LEARN_RECORDS_MAX records and
 * LEARN_RANGES_MAX ranges in each; what does not fit is counted, never
 * kept. Time is passed in (ms, monotonic); nothing here touches a socket.
 */
#pragma once

struct kcaps;

#include <stdbool.h>
#include <stdint.h>

#include "rules/config.h"
#include "base/hmap.h"
#include "kernel/nflog.h"
#include "base/nlbatch.h"
#include "learnrec.h"

#define LEARN_PEERS_MAX 4096
#define LEARN_CONTACTS_PER_PEER 8	/* rule x host pairs that contacted one peer */
#define LEARN_WRITE_GAP_MS 2	/* between commits of learn set elements alone */

struct learn_peer;

struct learn {
	bool enabled;
	const struct kcaps *caps;	/* the kernel's (NULL: it has everything) */
	struct hmap peers_by_key;	/* lookups; walks take `all` */
	size_t n_peers;
	struct learn_peer *pending;	/* to be written to the kernel */
	struct learn_peer *all;		/* every listed peer, newest first */
	uint64_t next_write;		/* no commit of learn elements alone before this */
	uint64_t next_sweep;		/* at the cap, expired peers go at most once a second */
	uint64_t min_until;		/* no listed peer's time ends before this: no sweep until then */
	uint64_t peers_not_listed;	/* contacts of new peers beyond LEARN_PEERS_MAX */
	struct learnrec rec;		/* what the peers' connections were (learnrec.h) */
	uint64_t unattributed;		/* logged, but no live contact (closed meanwhile) */
};

typedef void (*learn_cb)(const struct learn_record *rec, uint16_t port, void *data);

void learn_init(struct learn *l);
void learn_fini(struct learn *l);

/* Learn mode off: every contact goes (the kernel's rules and set go with the table). */
void learn_set_enabled(struct learn *l, bool on);

/*
 * HOST triggered rule R towards PEER (family AF) at NOW: list the peer
 * until NOW plus the rule's timeout. -ENOMEM.
 */
int learn_contact(struct learn *l, const struct rule *r, int af, const union inaddr *host,
		  const union inaddr *peer, uint64_t now);

/* The forwarding of RULE to HOST closed: its contacts go. */
void learn_forget(struct learn *l, const char *rule, int af, const union inaddr *host);

/*
 * A connection the kernel logged to the learn group (PKT's source is the
 * peer): recorded for every rule with a live contact of that peer (IPv6:
 * and that host); CB hears of each. Returns how many rules it went to.
 */
int learn_packet(struct learn *l, const struct nflog_pkt *pkt, uint64_t now, learn_cb cb, void *data);

/* Forget what was recorded, for RULE or (NULL) all. Returns how many records went. */
size_t learn_clear(struct learn *l, const char *rule);

/* Records and contacts of rules that C no longer has go. */
void learn_keep_rules(struct learn *l, const struct config *c);

/*
 * The learn set elements that changed since the last call; returns
 * messages added. Into a batch that goes anyway (B not empty) always;
 * into an empty one (a commit for them alone) at most every
 * LEARN_WRITE_GAP_MS: a stream of triggers shares one commit, not one each.
 */
int learn_write_pending(struct learn *l, struct nlbatch *b, uint64_t now);

/* When learn_write_pending will write what it held back (UINT64_MAX: nothing). */
uint64_t learn_deadline(const struct learn *l);

/* Every live contact, into learn sets just flushed (table re-created). */
int learn_write_all(struct learn *l, struct nlbatch *b, uint64_t now);
