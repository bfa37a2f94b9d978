/*
 * lib/engine/ owns the decisions: which rules a trigger fires and what it
 * changes (here), the forwarding table, hosts and their counts, the
 * source check, learn mode, the pair, the table's sync state, a
 * forwarding's set elements (fwelem), and what is kept across a crash
 * (the elements a dead daemon left: adopt).
 * May use: base, rules, nft, kernel.
 *
 * The engine: the running configuration plus the forwarding table, and
 * the translation between them and the kernel. It takes decoded trigger
 * packets (with interface names and the time passed in), decides which
 * rules they fire, and writes the resulting element changes into an
 * nlbatch. The daemon owns the sockets; the engine owns the meaning.
 */
#pragma once

#include "rules/config.h"
#include "fwtable.h"
#include "nft/kcaps.h"
#include "kernel/nflog.h"
#include "base/nlbatch.h"
#include "fwelem.h"
#include "nft/nftlayout.h"
#include "nft/nftobj.h"

struct engine_event {
	enum fwd_change change;
	const struct fwd *fwd;	/* NULL when FWD_OVER_* opened nothing */
	const struct rule *rule;
	int af;
	union inaddr host;	/* the trigger's source */
	struct hostid id;	/* the machine it is an address of */
	union inaddr old_host;	/* FWD_TAKEN_OVER, FWD_REFUSED: the holder */
	union inaddr dst;	/* the trigger's destination: the peer the host contacted */
};

typedef void (*engine_event_cb)(const struct engine_event *ev, void *data);

struct engine_stats {
	uint64_t triggers_seen;
	uint64_t triggers_unmatched;
	uint64_t triggers_not_allowed;	/* matched only rules whose `allow` left the source out */
	uint64_t triggers_replicated;	/* from the other router of a pair (engine_replicated) */
};

/* Elements bound for one set, and a list of such (by set name). */
struct elemvec {
	struct nftobj_setref set;
	struct nftelem *v;
	size_t n;
	size_t cap;
};

struct elemvecs {
	struct elemvec *v;
	size_t n;
};

struct engine {
	struct config *cfg;
	struct fwtable fwt;
	struct iflist auto_wan;		/* interfaces with a default route */
	struct engine_stats stats;
	struct elemvecs gone;		/* elements of closed forwardings, to delete */
	struct elemvecs scratch[2];	/* a write's deletes and adds, kept for the next */
	struct trigger_index *index;	/* trigger port ranges, sorted, for lookups */
	size_t n_index;
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
 * or kept. engine_write_pending then writes only what changed, so a reload
 * costs what it changes, not what is active. -ENOMEM: nothing changed, and
 * CFG is still the caller's.
 */
int engine_set_config(struct engine *e, struct config *cfg, uint64_t now,
		      void (*closed)(const struct fwd *f, void *data), void *data);

/*
 * Close the active forwardings of RULE (NULL: any) and of host ADDR of
 * family AF (AF 0: any); static ones stay. Returns how many were closed.
 * engine_write_pending deletes their elements.
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

/*
 * Handle one trigger packet from machine ID (NULL: its source address
 * alone says, hostid_addr); returns the number of rules it fired. With
 * kernel_triggers, the kernel has already opened the forwarding of each
 * rule the packet fired that had none: when the engine refuses one (a
 * limit), its elements are deleted at the next write, so the kernel's view
 * and the engine's part for at most one loop turn.
 */
int engine_trigger(struct engine *e, const struct nflog_pkt *pkt, const struct hostid *id,
		   const char *indev, const char *outdev, uint64_t now, engine_event_cb cb, void *data);

/*
 * A trigger connection the other router of a pair served (lib/engine/pair.h):
 * the same as engine_trigger, less what that router checked already (the
 * interfaces it came in and went out on: this router did not forward it).
 * The forwardings it opens, refreshes or takes are marked `replicated`.
 */
int engine_replicated(struct engine *e, const struct nflog_pkt *pkt, const struct hostid *id,
		      uint64_t now, engine_event_cb cb, void *data);

/* How many forwardings a replicated trigger was the last to open, refresh or take. */
size_t engine_n_replicated(const struct engine *e);

/*
 * A trigger the daemon refused before the engine saw it (its own source
 * check): with kernel_triggers, delete what the kernel opened for it.
 */
void engine_untrigger(struct engine *e, const struct nflog_pkt *pkt, const char *indev,
		      const char *outdev);

/*
 * Elements for what changed since the last call; returns messages added.
 * ASSIGNED (if not NULL) hears of every forwarding written anew, with the
 * host it took over from (or NULL).
 */
int engine_write_pending(struct engine *e, struct nlbatch *b, uint64_t now,
			 void (*assigned)(const struct fwd *f, const union inaddr *old, void *data),
			 void *data);

/* Rewrite the WAN interface set. */
int engine_write_wan(struct engine *e, struct nlbatch *b);

/*
 * Forwardings whose deadline is NOW or before end here, and nowhere else:
 * EXPIRED (if not NULL) hears of each before it is freed. Their elements
 * need no write: the kernel's element timeouts end them by themselves.
 * Returns how many.
 */
size_t engine_expire(struct engine *e, uint64_t now,
		     void (*expired)(const struct fwd *f, void *data), void *data);

/* Flush every set and write the whole state (start, reload, resync). */
int engine_write_all(struct engine *e, struct nlbatch *b, uint64_t now);

/*
 * The whole table in one transaction: table inet ipautofw replaced (with
 * FLAGS, NFTOBJ_TABLE_F_*; a table of that name is deleted first if
 * EXISTS, or where the kernel can delete what may not exist), its sets, chains and rules (triggers logged to
 * NFLOG group GROUP, learn mode's connections to e->learn_group unless
 * `learn off`), and the whole state (the learn sets left empty).
 */
int engine_write_table(struct engine *e, struct nlbatch *b, uint16_t group, uint32_t flags,
		       bool exists, uint64_t now);

/* What engine_write_table would create, in `nft -f` syntax (--dry-run). */
int engine_ruleset_text(struct engine *e, uint16_t group, uint64_t now, struct dynbuf *out);

/* The same for an engine just started with CFG (owned from now on), KERNEL_PATH or not. */
int engine_dry_run(struct config *cfg, uint16_t group, uint16_t learn_group, bool kernel_path,
		   struct dynbuf *out);
