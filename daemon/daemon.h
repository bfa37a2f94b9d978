/*
 * The daemon's parts as main puts them together: the loop, the manager
 * that owns the state, and the control socket. Only a re-exec needs all
 * three at once.
 */
#pragma once

#include "control.h"
#include "loop.h"
#include "manager.h"

struct daemon {
	struct loop loop;
	struct manager m;
	struct control ctl;
	bool quit;
};

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
