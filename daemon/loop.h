/*
 * The event loop: one epoll set, one signalfd and one timerfd on
 * CLOCK_MONOTONIC. A
 * watch taken out while events are being dispatched gets none of the
 * events still pending in that batch, and is released (freed) only after
 * the dispatch: a callback may close another watch, or its own.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/now.h"
#include "base/util.h"


struct watch;
typedef void (*watch_fn)(struct watch *w, uint32_t events);

struct watch {
	int fd;
	watch_fn fn;
	bool removed;
	void (*release)(struct watch *w);
	struct watch *next_removed;
};

struct loop {
	int ep;
	int timer_fd;
	struct watch timer_w;
	uint64_t armed;		/* the deadline the timer is armed for; 0: none */
	struct watch sig_w;
	void (*sig_fn)(int signo, void *data);
	void *sig_data;
	struct watch *removed;	/* to release after the dispatch */
};

int loop_init(struct loop *l);
void loop_fini(struct loop *l);

/* Watch FD for EVENTS (EPOLLIN, ...); FN gets them. */
int loop_add(struct loop *l, struct watch *w, int fd, watch_fn fn, uint32_t events);
int loop_mod(struct loop *l, struct watch *w, uint32_t events);
/*
 * Stop watching W (its fd stays open: the owner closes it). RELEASE, if
 * not NULL, is called once the current dispatch is over.
 */
void loop_del(struct loop *l, struct watch *w, void (*release)(struct watch *w));

/* SIGTERM, SIGINT and SIGHUP go to FN from now on (SIGPIPE is ignored). */
int loop_signals(struct loop *l, void (*fn)(int signo, void *data), void *data);

/* Wait for events and dispatch them; -errno if waiting failed (EINTR aside). */
int loop_dispatch(struct loop *l);

/* Wake up at DEADLINE (now_ms() time; UINT64_MAX: only for events). */
void loop_arm(struct loop *l, uint64_t deadline);
