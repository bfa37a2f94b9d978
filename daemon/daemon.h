#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conntrack.h"
#include "engine.h"
#include "learn.h"
#include "heap.h"
#include "netlink.h"
#include "json.h"
#include "rulebook.h"
#include "srccheck.h"

struct daemon;

struct watch {
	int fd;
	void (*cb)(struct daemon *d, struct watch *w, uint32_t events);
};

struct client {
	struct watch w;
	struct heap_node timer;
	char *in;
	size_t in_len;
	struct dynbuf out;
	size_t out_off;
	struct ucred cred;
	bool dead;
	size_t charged;			/* reply bytes counted in daemon.unprivileged_out */
	bool monitor;			/* streams events until it goes (or stops reading) */
	bool json;
	struct client *next;
};

#define LATENCY_RING 1024
#define TURN_TRIGGERS_MAX 4096

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
};

/* Rate limits of one kind of packet-driven log message. */
struct logrl {
	unsigned count;
	unsigned long long window;
	unsigned suppressed;
};

struct daemon {
	int ep;
	struct watch sig_w;
	struct watch timer_w;
	uint64_t timer_next;		/* the deadline the timer is armed for; 0: none */
	struct watch nflog_w;
	struct watch rtnl_w;
	struct watch mon_w;
	struct watch ctl_w;
	struct nftsock nft;
	struct mnl_socket *nflog;
	struct mnl_socket *learn_nflog;	/* learn mode's NFLOG group */
	struct watch learn_w;
	struct learn learn;
	uint16_t learn_group;
	bool table_learn;		/* the table has learn mode's rules */
	struct mnl_socket *rtnl;
	struct mnl_socket *mon;		/* nf_tables events: someone else touching our table */
	bool mon_foreign;		/* our table changed in the transaction being read */
	bool rebuild;			/* re-create the table at the end of this turn */
	bool no_owner;
	bool no_persist;		/* the table goes when the daemon goes, even on a crash */
	struct client *reexec_client;	/* asked for reexec; answered by the new binary */
	struct ct_worker *ct;
	struct ct_jobs ct_jobs;
	struct nlbatch batch;
	struct engine eng;
	const char **confdirs;
	size_t n_confdirs;
	struct rulebook book;		/* file and runtime rules */
	const char *sockpath;
	const char *sockgroup;
	int sock_dfd;			/* the socket's directory */
	const char *sock_base;		/* the socket's name in it */
	ino_t sock_ino;			/* the socket we bound, to remove only that one */
	dev_t sock_dev;
	int spare_fd;			/* given up to accept and refuse a client on EMFILE */
	uint16_t group;
	struct client *clients;
	size_t n_clients;
	size_t n_monitors;		/* clients streaming events */
	const char *closing;		/* why forwardings are being closed, for events */
	size_t n_dead;			/* killed, freed at the end of the loop turn */
	size_t unprivileged_out;	/* reply bytes held for clients that are not root */
	struct heap client_timers;
	struct counters cnt;
	struct srccheck src;		/* the router's addresses and neighbours */
	struct mnl_socket *srcw;
	struct watch srcw_w;
	bool resync;			/* a transaction failed: rewrite the kernel's state */
	uint64_t resync_after_ms;
	struct logrl rl_forged;
	struct logrl rl_refused;
	bool have_seq;
	uint32_t last_seq;
	uint64_t started_ms;
	uint64_t turn_recv_us[TURN_TRIGGERS_MAX];
	size_t turn_n;
	uint32_t lat_us[LATENCY_RING];
	size_t lat_n;
	size_t lat_pos;
	unsigned rl_count;
	unsigned long long rl_window;
	unsigned rl_suppressed;
	bool quit;
	bool check_ifaces;		/* links, routes or rules changed: is there a WAN interface? */
	bool no_wan;			/* warned that there is none */
	size_t notified_rules;
	size_t notified_fwds;
	uint64_t next_watchdog_ms;
};

uint64_t now_ms(void);
uint64_t now_us(void);

int daemon_reload(struct daemon *d, struct dynbuf *errors);
/* Run C (a rulebook change's result, owned from now on) and write what changed. */
int daemon_apply(struct daemon *d, struct config *c, const char *why, struct dynbuf *errors);
/* Close forwardings (see engine_close) and write the result. */
int daemon_close(struct daemon *d, const char *rule, int af, const union inaddr *addr, size_t *ret_n);
int daemon_watch(struct daemon *d, struct watch *w, uint32_t events);
/* The WAN and LAN interfaces in use among those that exist now. */
int daemon_interfaces(struct daemon *d, struct iflist *ret_wan, struct iflist *ret_lan);
/* Why there is no WAN interface, for the log and status. */
void daemon_no_wan_warning(struct daemon *d, struct dynbuf *out);

/* rails.c: the safety rails of DESIGN §2.10 and §2.11 around the trigger path */
int rails_open(struct daemon *d);
void rails_close(struct daemon *d);
/* Is this trigger's source genuine? If not, it is counted and logged, and false returned. */
bool rails_source_ok(struct daemon *d, const struct nflog_pkt *pkt, const char *indev);
/* A trigger refused at max-per-host or max-forwardings. */
void rails_refused(struct daemon *d, const struct engine_event *ev);
/* After a failed transaction: rewrite every forwarding (at most once a second). */
void rails_resync(struct daemon *d, uint64_t now);
/* The safety rails' part of status: members of J, or lines of OUT when J is NULL. */
void rails_status(struct daemon *d, struct json *j, struct dynbuf *out);
/* Lines of warning for forward ranges over the router's own WAN ports; returns how many. */
int rails_warnings(struct daemon *d, struct dynbuf *out);

/* learnd.c: the daemon's side of learn mode (the logic is lib/learn.c) */
int learnd_open(struct daemon *d);
void learnd_close(struct daemon *d);
/* A trigger's outcome: its peer is listed (or, taken over, the old host's go). */
void learnd_event(struct daemon *d, const struct engine_event *ev);
/* A forwarding closed: its contacts go. */
void learnd_closed(struct daemon *d, const struct fwd *f);
/* After a configuration change: records of rules gone go; true if the table must be re-created. */
bool learnd_config(struct daemon *d);

/* events.c: the live events of `ipautofwctl monitor`, each a no-op without a monitor */
struct event;
void events_engine(struct daemon *d, const struct engine_event *ev);
/* EXPIRED or CLOSED (with d->closing as the reason) */
void events_fwd(struct daemon *d, int kind, const struct fwd *f);
void events_forged(struct daemon *d, const struct nflog_pkt *pkt, const char *reason,
		   const char *indev);
void events_reloaded(struct daemon *d);
void events_learned(struct daemon *d, const struct learn_record *rec, uint16_t port);

/* Listen on d->sockpath, or on FD (>= 0) handed over by a re-exec. */
int control_listen(struct daemon *d, int fd);
/* Answer a client whose command said CONTROL_REPLY_LATER. */
void control_reply(struct daemon *d, struct client *c, int status, const char *text);
/* What a command returns when its reply comes later (reexec). */
#define CONTROL_REPLY_LATER (-1)
/* What `monitor` returns: the client streams events from now on. */
#define CONTROL_MONITOR (-2)
/* Queue EV for every monitor; one that lets too much pile up is dropped. */
void control_monitor_send(struct daemon *d, const struct event *ev);
void control_close(struct daemon *d);
/* Expire idle clients, free dead ones; returns the next client deadline. */
uint64_t control_tick(struct daemon *d, uint64_t now);

struct handover_fds;
struct handover_state;
/* Remember ARGV and the binary's path, to run the same again. */
void reexec_init(char **argv);
/* The handover of a re-exec: 1 if this process is one, 0 if not, -errno. */
int reexec_inherited(struct handover_fds *ret, struct handover_state *st);
/* Replace this process by the installed ipautofwd; returns only on failure, answered. */
void daemon_reexec(struct daemon *d);
/* The new binary is ready: tell the client that asked (and close FD). */
void reexec_reply(int fd, const struct daemon *d);
