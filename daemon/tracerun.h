/*
 * ipautofwctl trace HOST: the daemon's side (tracerun.c); see lib/kernel/trace.h
 * for how the kernel's trace is told.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "rules/rule.h"
#include "base/util.h"

struct control;
struct client;
struct event;

/* Trace HOST for SECS seconds, streaming to C; on failure -errno and why in ERR. */
int tracerun_start(struct control *ctl, struct client *c, int af, const union inaddr *host,
		   uint32_t secs, bool json, struct dynbuf *err);
/* End the trace: the last lines and why to its client, the kernel's objects removed. */
void tracerun_stop(struct control *ctl, const char *why);
/* Its client went (or the daemon closes every client): end it, telling no one. */
void tracerun_client_gone(struct control *ctl);
/* The daemon is stopping: end it at once, freeing everything (no loop turn follows). */
void tracerun_close(struct control *ctl);
/* Lines due, the end; returns the next deadline (UINT64_MAX: no trace). */
uint64_t tracerun_tick(struct control *ctl, uint64_t now);
/* The daemon's event EV, for the line of the trigger it is about. */
void tracerun_event(struct control *ctl, const struct event *ev);
