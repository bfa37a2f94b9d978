/*
 * lib/engine/ owns the decisions: what a trigger is and what it changes
 * (trigger.c), the state it changes (here) and how that is written into
 * the kernel (tablewrite.c), the forwarding table, hosts and their counts,
 * the source check, learn mode, the pair, the table's sync state, a
 * forwarding's set elements (fwelem), and what is kept across a crash
 * (the elements a dead daemon left: adopt).
 * May use: base, rules, nft, kernel.
 *
 * The engine: the running configuration plus the forwarding table. What
 * a trigger packet does to it is trigger.h's one decision; how it goes
 * into the kernel, as element changes in an nlbatch, is tablewrite.h's.
 * The daemon owns the sockets; the engine owns the meaning.
 */
#pragma once

#include "rules/config.h"
#include "elemvec.h"
#include "fwelem.h"
#include "fwtable.h"
#include "nft/kcaps.h"
#include "nft/nftlayout.h"
#include "nft/nftobj.h"
#include "trigindex.h"

struct engine_stats {
	uint64_t triggers_seen;
	uint64_t triggers_unmatched;
	uint64_t triggers_not_allowed;	/* matched only rules whose `allow` left the source out */
	uint64_t triggers_replicated;	/* from the other router of a pair (trigger_replicated) */
};

struct engine {
	struct config *cfg;
	struct fwtable fwt;
	struct iflist auto_wan;		/* interfaces with a default route */
	struct engine_stats stats;
	struct elemvecs gone;		/* elements of closed forwardings, to delete */
	struct elemvecs scratch[2];	/* a write's deletes and adds, kept for the next */
	struct trigindex index;		/* trigger port ranges, sorted, for lookups */
	bool sets_dirty;		/* trigger ports or WAN interfaces changed */
	struct nftlayout layout;	/* each rule's sets and the segment chains, as in the kernel */
	bool layout_stale;		/* the configuration changed since it was written */
	bool kernel_triggers;		/* the kernel opens first forwardings (the daemon says) */
	struct kcaps caps;		/* what this kernel can do (all, until the daemon probed) */
	uint64_t *last_trigger;		/* per rule of cfg (same index): when it last fired, 0 never */
	uint16_t learn_group;		/* NFLOG group of learn mode's log rules */
	struct nftobj_ctr counters[NFTOBJ__COUNTERS];	/* what a table written anew counts from */
};

void engine_init(struct engine *e);
void engine_fini(struct engine *e);

/*
 * Install CFG (taking ownership). Forwardings of rules whose name and
 * forward ranges are unchanged are kept (their expiry shortened if the
 * new timeout is shorter); the others, and those of rules now disabled,
 * are dropped and reported through CLOSED. Static forwardings are created
 * or kept. tablewrite_pending then writes only what changed, so a reload
 * costs what it changes, not what is active. -ENOMEM: nothing changed, and
 * CFG is still the caller's.
 */
int engine_set_config(struct engine *e, struct config *cfg, uint64_t now,
		      void (*closed)(const struct fwd *f, void *data), void *data);

/*
 * Close the active forwardings of RULE (NULL: any) and of host ADDR of
 * family AF (AF 0: any); static ones stay. Returns how many were closed.
 * tablewrite_pending deletes their elements.
 */
size_t engine_close(struct engine *e, const char *rule, int af, const union inaddr *addr,
		    void (*closed)(const struct fwd *f, void *data), void *data);

/*
 * Take over a forwarding element found in the kernel (a restart after a
 * crash): RULE_NAME from its userdata, LEFT_MS its remaining time.
 * Returns 1 if adopted (or already known), 0 if it no longer fits the
 * configuration (the rule is gone, static, or its ranges changed).
 */
int engine_adopt(struct engine *e, const char *rule_name, const struct fwelem_decoded *el,
		 const char *udata, uint64_t left_ms, uint64_t now);

/* Replace the automatic WAN list; returns true if it changed. */
bool engine_set_auto_wan(struct engine *e, const struct iflist *wan);

/*
 * What the daemon found out about the kernel: its facilities (probed at
 * start), whether the kernel opens first forwardings, the NFLOG group of
 * learn mode's log rules, and the named counters a table written anew
 * counts from (the table it replaces had counted them).
 */
void engine_set_caps(struct engine *e, const struct kcaps *caps);
/* The kernel refused C although the probe found it: without it, the layout written anew. */
void engine_lose_cap(struct engine *e, enum kcap c);
void engine_set_kernel_path(struct engine *e, bool on);
void engine_set_learn_group(struct engine *e, uint16_t group);
void engine_set_counters(struct engine *e, const struct nftobj_ctr ctr[NFTOBJ__COUNTERS]);

/* True when some rule relies on the automatic WAN list. */
bool engine_uses_auto_wan(const struct engine *e);

/* The WAN interface patterns of one rule, and the union of all. */
const struct iflist *engine_rule_wan(const struct engine *e, const struct rule *r);
int engine_all_wan(const struct engine *e, struct iflist *ret);

/*
 * The interfaces in use among LINKS (the names of the interfaces that
 * exist): those a forward may arrive on (WAN) and those a trigger may
 * come from (LAN), over every rule, or the defaults when there is none.
 * An empty WAN list means nothing can trigger.
 */
int engine_interfaces(const struct engine *e, const struct iflist *links, struct iflist *ret_wan,
		      struct iflist *ret_lan);

/* The running configuration's rules (0 without one), and the forwardings active. */
size_t engine_n_rules(const struct engine *e);
size_t engine_n_forwardings(const struct engine *e);

/* When rule R of the running configuration last fired (ms, monotonic), 0 if never. */
uint64_t engine_last_trigger(const struct engine *e, const struct rule *r);

bool engine_rule_accepts(const struct engine *e, const struct rule *r, int af,
			 const char *indev, const char *outdev);

/* Whether SRC may trigger rule R: its `allow`, else the global one, else any source. */
bool engine_rule_allows(const struct engine *e, const struct rule *r, int af, const union inaddr *src);

/*
 * The size each peer rule's own sets need (one element per forwarding):
 * every forwarding up to max-forwardings could be one of theirs, twice
 * over (elements that expired stay counted until the kernel collects them).
 */
uint32_t engine_fwd_set_size(const struct engine *e);

/* How many forwardings a replicated trigger was the last to open, refresh or take. */
size_t engine_n_replicated(const struct engine *e);

/*
 * Forwardings whose deadline is NOW or before end here, and nowhere else:
 * EXPIRED (if not NULL) hears of each before it is freed. Their elements
 * need no write: the kernel's element timeouts end them by themselves.
 * Returns how many.
 */
size_t engine_expire(struct engine *e, uint64_t now,
		     void (*expired)(const struct fwd *f, void *data), void *data);
