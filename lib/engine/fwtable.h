/*
 * The forwarding table: every active forwarding (a rule's forward ranges
 * pointed at one host, optionally for one peer) with its expiry, keyed by
 * (rule, family, peer) in a hash table and ordered by deadline in a heap.
 * It decides what a trigger means (open, refresh, take over, refuse) and
 * remembers which forwardings changed since the daemon last wrote to the
 * kernel, so one loop turn produces one batch however many triggers came.
 * Time is always passed in, in milliseconds of a monotonic clock.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/heap.h"
#include "base/hmap.h"
#include "hostcount.h"
#include "rules/rule.h"

#define FWD_FOREVER UINT64_MAX

enum fwd_change {
	FWD_REFUSED,		/* exclusive rule held by another host */
	FWD_OPENED,
	FWD_REFRESHED,
	FWD_TAKEN_OVER,
	FWD_OVER_HOST_LIMIT,	/* the host holds max-per-host already: nothing changes */
	FWD_OVER_LIMIT,		/* max-forwardings are active: nothing changes */
};

enum fwd_pending {
	FWD_PENDING_NONE,
	FWD_PENDING_REFRESH,	/* same data, new timeout */
	FWD_PENDING_REWRITE,	/* destroy whatever is there, add ours again, same deadline */
	FWD_PENDING_ASSIGN,	/* destroy whatever is there, add ours */
};

struct fwd {
	struct heap_node timer;		/* deadline; not queued when static */
	const struct rule *rule;
	int af;
	union inaddr host;
	struct hostid id;		/* the machine HOST is an address of (HOSTID_NONE: static) */
	union inaddr peer;		/* zero unless rule->peer */
	union inaddr old_host;		/* host in the kernel before a takeover */
	bool has_old;
	uint64_t opened;
	uint64_t refreshed;
	bool replicated;		/* its last trigger came from the other router of a pair */
	enum fwd_pending pending;
	struct hmap_node node;		/* in the table's map, by rule name, family and peer */
	struct fwd *pnext;		/* pending list */
};

struct fwtable_stats {
	uint64_t opened;
	uint64_t refreshed;
	uint64_t taken_over;
	uint64_t refused;
	uint64_t expired;
	uint64_t over_host_limit;
	uint64_t over_limit;
};

struct fwtable {
	struct hmap map;
	size_t n;
	struct heap heap;
	struct fwd *pending;
	struct fwtable_stats stats;
	struct hostcount hosts;		/* forwardings per host, static ones aside */
	size_t n_dynamic;		/* forwardings, static ones aside */
	unsigned max_per_host;		/* for rules without their own; 0: no limit */
	size_t max_forwardings;		/* 0: no limit */
};

void fwtable_init(struct fwtable *t);
void fwtable_clear(struct fwtable *t);

/*
 * A trigger of rule R from HOST, an address of machine ID (NULL: the
 * address alone says, hostid_addr), towards PEER: returns the enum
 * fwd_change. *RET_FWD is the forwarding concerned, NULL when FWD_OVER_*
 * refused to open one. A trigger from another address of the holder's
 * machine (a HOSTID_LINK) is a refresh that moves the forwarding to that
 * address (a rotated IPv6 temporary address): never refused, never a
 * takeover. Within a /64 known by address only it is a takeover (that
 * the host's count does not notice).
 */
int fwtable_trigger(struct fwtable *t, const struct rule *r, int af, const union inaddr *host,
		    const struct hostid *id, const union inaddr *peer, uint64_t now,
		    struct fwd **ret_fwd, union inaddr *ret_old_host);

/* Count the forwardings per host again (after rules were re-pointed by a reload). */
int fwtable_recount(struct fwtable *t);

/* Active forwardings host ID holds against the limit of rule R. */
unsigned fwtable_host_count(const struct fwtable *t, const struct rule *r, const struct hostid *id);

/*
 * A static forwarding (rule->is_static), or one adopted with a known
 * deadline (its host known by its address only until it triggers again).
 * Limits are not applied: adoption keeps what the kernel holds.
 */
int fwtable_insert(struct fwtable *t, const struct rule *r, int af, const union inaddr *host,
		   const union inaddr *peer, uint64_t now, uint64_t deadline, struct fwd **ret_fwd);

struct fwd *fwtable_lookup(const struct fwtable *t, const struct rule *r, int af,
			   const union inaddr *peer);

/* Have F written again (with its current deadline) at the next write. */
void fwtable_touch(struct fwtable *t, struct fwd *f);
/* ... replacing whatever the kernel holds under its key. */
void fwtable_rewrite(struct fwtable *t, struct fwd *f);

/* Unlink and free F; it is also taken off the pending list. */
void fwtable_remove(struct fwtable *t, struct fwd *f);

/* The earliest deadline, or FWD_FOREVER. */
uint64_t fwtable_next_deadline(const struct fwtable *t);

/* Unlink the next forwarding whose deadline is <= NOW, or return NULL. The caller frees it. */
struct fwd *fwtable_pop_expired(struct fwtable *t, uint64_t now);

/* Detach the pending list (linked through pnext); entries stay in the table. */
struct fwd *fwtable_take_pending(struct fwtable *t);

/* Visit every forwarding; CB may not modify the table. */
void fwtable_foreach(const struct fwtable *t, void (*cb)(struct fwd *f, void *data), void *data);

/* Forwardings sorted by rule name, family, host, peer (for listings); caller frees. */
struct fwd **fwtable_sorted(const struct fwtable *t);

/* One host's share (fwtable_hosts): its forwardings, and the address of the latest. */
struct fwtable_host {
	struct hostid id;
	int af;
	union inaddr addr;
	size_t n;
};

/*
 * The hosts holding forwardings (static ones aside), most forwardings
 * first, at most MAX (malloc'd into *RET; free it). Returns how many
 * hosts there are in all, or -ENOMEM.
 */
ssize_t fwtable_hosts(const struct fwtable *t, size_t max, struct fwtable_host **ret, size_t *ret_n);

size_t fwd_addr_len(int af);
