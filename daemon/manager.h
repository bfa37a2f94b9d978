/*
 * The manager: the one owner of the daemon's state -- the rule files and
 * runtime rules, the engine and its forwardings, the nf_tables socket and
 * its batch, the inputs (NFLOG, routes, the nf_tables monitor, addresses
 * and neighbours), the conntrack worker and the counters -- and of the
 * work at the end of each loop turn. Control and signals go through the
 * API below; the manager calls no one back but the event hook it is given.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conntrack.h"
#include "engine/engine.h"
#include "engine/tablewrite.h"
#include "engine/trigger.h"
#include "engine/learn.h"
#include "loop.h"
#include "netlink.h"
#include "engine/pair.h"
#include "rules/rulebook.h"
#include "engine/srccheck.h"
#include "engine/stats.h"
#include "engine/tsync.h"

struct event;
struct handover_fds;
struct handover_state;

/* Why forwardings closed (m->closing), counted apart */
enum close_reason {
	CLOSE_FLUSH,		/* flush */
	CLOSE_DEL,		/* their rule removed: del, ipautofw -D, ipautofw -F */
	CLOSE_DISABLE,		/* disable */
	CLOSE_RELOAD,		/* a reload dropped or changed their rule */
	CLOSE_OTHER,		/* another runtime change (add, enable, ipautofw -A) */
	CLOSE__N,
};

extern const char *const close_reason_names[CLOSE__N];

/* What the daemon counts itself; carried across a re-exec (daemon/metrics.c names them) */
struct counters {
	uint64_t nflog_bad;
	uint64_t nflog_lost;
	uint64_t nflog_enobufs;
	uint64_t netlink_errors;
	uint64_t reloads;
	uint64_t reload_failures;
	uint64_t table_rebuilds;
	uint64_t forged;		/* caught by the daemon's source check (the kernel counts its own) */
	uint64_t resyncs;		/* failed transactions after which the kernel was rewritten */
	uint64_t closed[CLOSE__N];	/* forwardings closed, by why */
	uint64_t learned;		/* connections learn mode recorded */
	uint64_t ct_deleted;		/* conntrack entries deleted by earlier workers (a re-exec's) */
	uint64_t pair_marked;		/* trigger connections marked for the other router */
	uint64_t pair_mark_failed;	/* ... that could not be */
	uint64_t pair_events_lost;	/* conntrack event overruns */
};

/* Rate limits of one kind of packet-driven log message. */
struct logrl {
	unsigned count;
	unsigned long long window;
	unsigned suppressed;
};

/* A conntrack entry to mark (daemon/paird.c) */
struct paird_mark {
	int af;
	struct ct_tuple t;
	unsigned tries;
	uint64_t not_before;
	uint32_t seq;		/* the request's, once sent */
};

#define PAIRD_SENT 256

struct paird_watch {
	struct watch w;
	struct manager *m;
};

/* Pair mode: on while the configuration has `pair ct-mark` */
struct paird {
	struct mnl_socket *nl;		/* conntrack events and marks; NULL: pair mode off */
	struct paird_watch *w;		/* its own: freed after the dispatch that stops watching */
	struct pair pair;
	struct paird_mark *v;		/* to mark at the end of the turn */
	size_t n;
	size_t cap;
	struct paird_mark sent[PAIRD_SENT];	/* by seq: what an error refers to */
	uint32_t seq;
	struct logrl rl;
};

struct manager_options {
	const char *const *confdirs;
	size_t n_confdirs;
	const char *uci;		/* OpenWrt's UCI file, read before the rule files */
	const char *ifnames;		/* the names lan and wan may use (uci.h) */
	const char *const *files;	/* --check FILE...: these files instead of the directories */
	size_t n_files;
	uint16_t group;			/* NFLOG group of the trigger rule */
	uint16_t learn_group;		/* NFLOG group of learn mode */
	bool no_owner;
	bool no_persist;		/* the table goes when the daemon goes, even on a crash */
	bool no_kernel_path;		/* the daemon opens every forwarding (no adds in the packet path) */
	const char *state_path;		/* the forwardings' file (lib/engine/fwsave.h), or NULL */
};

struct manager {
	struct manager_options opt;
	struct loop *loop;
	struct rulebook book;		/* file and runtime rules */
	struct engine eng;
	struct nftsock nft;
	struct nlbatch batch;
	struct mnl_socket *nflog;
	struct mnl_socket *rtnl;
	struct mnl_socket *mon;		/* nf_tables events: someone else touching our table */
	struct mnl_socket *srcw;	/* addresses and neighbours, for the source check */
	struct mnl_socket *rtq;		/* route lookups, where the kernel cannot check the route back */
	uint32_t rtq_seq;
	struct mnl_socket *learn_nflog;	/* learn mode's NFLOG group */
	struct watch nflog_w;
	struct watch rtnl_w;
	struct watch mon_w;
	struct watch srcw_w;
	struct watch learn_w;
	struct learn learn;
	struct paird pd;
	bool table_learn;		/* the table has learn mode's rules */
	bool table_owned;		/* created with NFT_TABLE_F_OWNER: nobody else can change it */
	bool table_persist;		/* ... and NFT_TABLE_F_PERSIST: it outlives a crash */
	struct ct_worker *ct;
	struct ct_jobs ct_jobs;
	struct srccheck src;
	uint64_t src_digest;		/* what src4ok/src6ok hold (srccheck_write_vetted) */
	struct counters cnt;
	struct nflog_seq seq;
	struct latency lat;
	/* this read's trigger events: told once its forwardings are in the kernel */
	struct trigger_events told_later;
	struct logrl rl_fwd;
	struct logrl rl_forged;
	struct logrl rl_refused;
	struct logrl rl_nomem;
	bool proc_failed;		/* /proc/self/net could not be read (said once) */
	uint64_t started_ms;
	const char *closing;		/* why forwardings are being closed, for events */
	struct tsync sync;		/* is the kernel's table in step with us? */
	bool mon_foreign;		/* our table changed in the transaction being read */
	bool state_dirty;		/* forwardings changed since the file was written */
	uint64_t state_next_ms;		/* ... which is written again no sooner than this */
	bool state_failed;		/* writing it failed (said once) */
	bool check_ifaces;		/* links, routes or rules changed: is there a WAN interface? */
	bool no_wan;			/* warned that there is none */
	size_t notified_rules;
	size_t notified_fwds;
	uint64_t next_watchdog_ms;
	/* the live events go to HOOK while someone listens */
	void (*event_hook)(const struct event *ev, void *data);
	void *event_data;
	size_t listeners;
};

/* FILES (owned from now on) and ST's runtime rules (a re-exec) run from now on. */
int manager_init(struct manager *m, struct loop *loop, const struct manager_options *o,
		 struct config *files, const struct handover_state *st);
void manager_fini(struct manager *m);

/*
 * Open the sockets (or take those handed over in INH), adopt what a
 * previous daemon left, create the table, start following routes,
 * addresses and the table. On error nothing stays open.
 */
int manager_open(struct manager *m, const struct handover_fds *inh);
/* Remove the table and close what manager_open opened. */
void manager_close(struct manager *m);

/* The end of a loop turn: expiries, one batch, conntrack jobs, watchdog. Returns the next deadline. */
uint64_t manager_end_turn(struct manager *m);

/*
 * What a re-exec hands to the new binary (reexec.c): the start time, the
 * runtime rules and switches into ST, the sockets that stay open (nft,
 * NFLOG) into FDS. -ENOMEM.
 */
int manager_handover(const struct manager *m, struct handover_state *st, struct handover_fds *fds);
/* Just before execve(): the conntrack worker ends, its queue done, its count kept. */
void manager_exec_prepare(struct manager *m);
/* execve() failed: the conntrack worker starts again. */
void manager_exec_failed(struct manager *m);

/* changes.c: the configuration's changes, each ending in one transaction */
/*
 * Read the interface names, UCI and rule files of O: NULL on errors, with the full report in ERRORS
 * and each error's first line in LINES (if not NULL), for the log.
 */
struct config *manager_load_files(const struct manager_options *o, struct dynbuf *errors,
				  struct dynbuf *lines);
/* Re-read the rule files; on error the running rules stay and ERRORS says why. */
int manager_reload(struct manager *m, struct dynbuf *errors);

/*
 * Runtime rules. Each returns 0 or -errno with OUT saying why: -EBADMSG
 * for words that cannot be a rule line, -ENOENT for no such rule, -EINVAL
 * for a rule that is wrong or conflicts. WHY names the change in events.
 */
int manager_add_rule(struct manager *m, int argc, const char *const *argv, struct dynbuf *out);
int manager_del_rule(struct manager *m, const char *name, const char *why, struct dynbuf *out);
int manager_clear_rules(struct manager *m, const char *why, struct dynbuf *out);
/* The 1996 -A/-D: 1 when nothing was to change (OUT says why). */
int manager_autofw(struct manager *m, bool add, const char *name, const char *range,
		   const char *port, struct dynbuf *out);
/* enable/disable: 1 when the rule already was; *RET_CLOSED forwardings closed. */
int manager_switch_rule(struct manager *m, const char *name, bool on, size_t *ret_closed,
			struct dynbuf *out);

/* Close forwardings (see engine_close) and write the result. */
int manager_flush(struct manager *m, const char *rule, int af, const union inaddr *addr,
		  size_t *ret_n);

/* manager.c, for changes.c: write what changed (a reload, a flush, runtime rules) in one transaction. */
int manager_write_changes(struct manager *m, const char *why);

/* statefile.c: the forwardings' file, if there is one (m->opt.state_path) */
/* Write it now (manager_end_turn says when). */
void statefile_save(struct manager *m, uint64_t now);
/* No table was left to adopt: put back the forwardings the file kept. */
void statefile_restore(struct manager *m);

/* Tell systemd the rules and forwardings, if they changed (FORCE: anyway). */
void manager_notify_status(struct manager *m, bool force);

/* Live events go to HOOK (with DATA) while there are LISTENERS. */
void manager_set_event_hook(struct manager *m, void (*hook)(const struct event *ev, void *data),
			    void *data);
void manager_set_listeners(struct manager *m, size_t listeners);

/* status.c: what the manager shows (read only) */
/* The WAN and LAN interfaces in use among those that exist now. */
int manager_interfaces(struct manager *m, struct iflist *ret_wan, struct iflist *ret_lan);
/* Why there is no WAN interface, for the log and status. */
void manager_no_wan_warning(struct manager *m, struct dynbuf *out);
/* Counters, latency, interfaces and warnings, as text or JSON. */
void status_report(struct manager *m, bool json, struct dynbuf *out);
/* The forwardings and the rules, as `ipautofwctl list` and `rules` show them. */
void manager_list(struct manager *m, bool json, struct dynbuf *out);
void manager_rules(struct manager *m, bool json, struct dynbuf *out);
/* The running rule named NAME (from a file or runtime), or NULL. */
const struct rule *manager_find_rule(const struct manager *m, const char *name);
size_t manager_n_rules(const struct manager *m);
size_t manager_n_forwardings(const struct manager *m);
size_t manager_n_runtime(const struct manager *m);
/* Learn mode's records (of RULE, or all if NULL): -ENOENT for no such rule. */
int manager_learn_report(struct manager *m, const char *rule, bool json, struct dynbuf *out);
int manager_learn_clear(struct manager *m, const char *rule, size_t *ret_n);

/* table.c: table inet ipautofw */
/* Find out what the kernel can do (m->eng.caps), and say once what it cannot. */
void table_probe(struct manager *m);
/* Take over the forwardings a previous daemon left in the kernel; false if it left no table. */
bool table_adopt(struct manager *m);
/* Create the table (replacing one left behind) with the whole state, in one transaction. */
int table_setup(struct manager *m);
/* The same, once the table was created before: its sync state is told, and a failure said once. */
int table_recreate(struct manager *m);
void table_remove(struct manager *m);

/* rails.c: the safety rails of DESIGN §2.10 and §2.11 around the trigger path */
int rails_open(struct manager *m);
void rails_close(struct manager *m);
/* src4ok/src6ok in step with the mirror; FORCE after the table was created (they are empty) */
void rails_write_vetted(struct manager *m, bool force);
/* The route back of a trigger the kernel could not check (a trigger_route_fn; DATA the manager). */
bool rails_route_back(const struct nflog_pkt *pkt, void *data);
/* A trigger whose source is not genuine (RES says why): counted unless the kernel did, and logged. */
void rails_forged(struct manager *m, const struct nflog_pkt *pkt, const struct trigger_result *res,
		  const char *indev);
/* A trigger refused at max-per-host or max-forwardings. */
void rails_refused(struct manager *m, const struct trigger_event *ev);
/* After a failed transaction: rewrite every forwarding (at most once a second). */
void rails_resync(struct manager *m, uint64_t now);
/* The table's named counters now: -errno (-ENOENT without a table), RET untouched then. */
int rails_kernel_counters(struct nftobj_ctr ret[NFTOBJ__COUNTERS]);
/* Lines of warning for forward ranges over the router's own WAN ports; returns how many. */
int rails_warnings(struct manager *m, struct dynbuf *out);

/* events.c: the live events of `ipautofwctl monitor`, each a no-op with no one listening */
void events_trigger(struct manager *m, const struct trigger_event *ev);
/* EXPIRED or CLOSED (with m->closing as the reason) */
void events_fwd(struct manager *m, int kind, const struct fwd *f);
void events_forged(struct manager *m, const struct nflog_pkt *pkt, const char *reason,
		   const char *indev);
void events_reloaded(struct manager *m);
void events_learned(struct manager *m, const struct learn_record *rec, uint16_t port);

/* manager.c: a trigger connection the other router of a pair served, and the end of a read of them */
void manager_replicated(struct manager *m, const struct nflog_pkt *pkt);
void manager_triggers_done(struct manager *m);

/* paird.c: a router pair */
/* Pair mode on or off, as the configuration now says. */
void paird_config(struct manager *m);
void paird_close(struct manager *m);
/* A trigger this router served: its entry is marked at the end of the turn. */
void paird_trigger(struct manager *m, const struct nflog_pkt *pkt);
void paird_queue(struct manager *m, int af, const struct ct_tuple *t, unsigned tries,
		 uint64_t not_before);
/* Send the marks due by NOW; returns when the next is due (UINT64_MAX: none). */
uint64_t paird_flush(struct manager *m, uint64_t now);

/* learnd.c: the daemon's side of learn mode (the logic is lib/engine/learn.c) */
int learnd_open(struct manager *m);
void learnd_close(struct manager *m);
/* A trigger's outcome: its peer is listed (or, taken over, the old host's go). */
void learnd_event(struct manager *m, const struct trigger_event *ev);
/* A forwarding closed: its contacts go. */
void learnd_closed(struct manager *m, const struct fwd *f);
/* After a configuration change: records of rules gone go; true if the table must be re-created. */
bool learnd_config(struct manager *m);
