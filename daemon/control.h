/*
 * The control socket server: non-blocking clients, one request each, a
 * size limit and an idle timeout, a cap on concurrent clients, SO_PEERCRED
 * to keep changes for root, and the monitors that stream events. Requests
 * are dispatched to the commands of commands.c, which call the manager's
 * API; nothing here holds or reads the daemon's state.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/heap.h"
#include "loop.h"
#include "rules/rule.h"
#include "base/util.h"

struct event;
struct manager;
struct control;

struct client {
	struct watch w;
	struct control *ctl;
	struct heap_node timer;
	char *in;
	size_t in_len;
	struct dynbuf out;
	size_t out_off;
	struct ucred cred;
	bool dead;			/* released by the loop after its dispatch */
	size_t charged;			/* reply bytes counted in control.unprivileged_out */
	bool monitor;			/* streams events until it goes (or stops reading) */
	bool trace;			/* streams a trace (a monitor of its own kind) */
	bool json;
	struct client *next;
};

/* Why a client was refused or cut off, for the metrics */
enum control_refusal {
	CONTROL_REFUSED_PERMISSION,	/* a change asked by a client other than root */
	CONTROL_REFUSED_BUSY,		/* its reply would pass what replies may hold */
	CONTROL_REFUSED_MALFORMED,	/* a request that is not one, or an unknown command */
	CONTROL_REFUSED_FULL,		/* every slot taken, none to free for it */
	CONTROL_REFUSED_EVICTED,	/* closed to make room for a newcomer */
	CONTROL_REFUSED_IDLE,		/* said nothing, or read nothing, in time */
	CONTROL_REFUSED_MONITOR,	/* a monitor that stopped reading */
	CONTROL_REFUSED_NO_FDS,		/* the daemon was out of descriptors */
	CONTROL_REFUSED__N,
};

extern const char *const control_refusal_names[CONTROL_REFUSED__N];

struct control_stats {
	uint64_t clients;			/* accepted */
	uint64_t refused[CONTROL_REFUSED__N];
};

struct control {
	struct loop *loop;
	struct manager *m;
	const char *sockpath;
	const char *sockgroup;
	struct watch w;			/* the listening socket */
	int sock_dfd;			/* the socket's directory */
	const char *sock_base;		/* the socket's name in it */
	ino_t sock_ino;			/* the socket we bound, to remove only that one */
	dev_t sock_dev;
	int spare_fd;			/* given up to accept and refuse a client on EMFILE */
	struct client *clients;
	size_t n_clients;
	size_t n_dead;			/* killed, not yet released */
	size_t n_monitors;		/* clients streaming events */
	size_t unprivileged_out;	/* reply bytes held for clients that are not root */
	struct heap client_timers;
	struct client *reexec_client;	/* asked for reexec; answered by the new binary */
	struct control_stats stats;
	struct tracerun *trace;		/* the trace running, if any (tracerun.c) */
	struct {			/* what `trace` asked for, for handle() to start */
		int af;
		union inaddr host;
		uint32_t secs;
	} trace_req;
};

/* The manager's events go to the monitors from now on. */
void control_init(struct control *ctl, struct loop *loop, struct manager *m, const char *sockpath,
		  const char *sockgroup);
/* Listen on ctl->sockpath, or on FD (>= 0) handed over by a re-exec. */
int control_listen(struct control *ctl, int fd);
void control_close(struct control *ctl);
/* Expire idle clients, write to monitors; returns the next client deadline. */
uint64_t control_tick(struct control *ctl, uint64_t now);
/* Answer a client whose command said CONTROL_REPLY_LATER. */
void control_reply(struct control *ctl, struct client *c, int status, const char *text);
/* The manager's event hook: EV to every monitor (DATA is the control). */
void control_event(const struct event *ev, void *data);

/* What a command returns when its reply comes later (reexec). */
#define CONTROL_REPLY_LATER (-1)
/* What `monitor` returns: the client streams events from now on. */
#define CONTROL_MONITOR (-2)
/* What `trace` returns: the client streams the trace of ctl->trace_req from now on. */
#define CONTROL_TRACE (-3)

/* Stream TEXT to C (a trace client); one that stopped reading goes. */
void control_stream(struct control *ctl, struct client *c, const char *text, size_t len);
/* C's stream is over: it is closed once what waits is written. */
void control_end_stream(struct control *ctl, struct client *c);

/* ctlsock.c: the socket's file */
/* Bind ctl->sockpath (or take FD, >= 0, handed over by a re-exec); returns the listening socket. */
int ctlsock_open(struct control *ctl, int fd);
/* The socket closed: remove its file if it is still ours. */
void ctlsock_remove(struct control *ctl);
