/*
 * What a running daemon hands to the binary that replaces it in place
 * (ipautofwctl reexec): the descriptors it keeps open across execve(),
 * named in one environment variable ("nft=3 nflog=4 control=5 client=6
 * state=7"), and a state file of "KEY VALUE" lines for what the kernel does
 * not hold: the runtime rules, the runtime switches and the start time. A newer daemon reads an
 * older one's state, so unknown keys are skipped, never refused.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define HANDOVER_ENV "IPAUTOFW_REEXEC"

struct handover_fds {
	int nft;	/* owns table inet ipautofw: the table lives as long as it */
	int nflog;	/* bound to the NFLOG group; queued triggers survive */
	int control;	/* the listening control socket */
	int client;	/* the ipautofwctl that asked; the new daemon answers it */
	int state;	/* the state file, read from offset 0 */
};

/* Every field -1. */
void handover_fds_init(struct handover_fds *f);
/* -ENOSPC if SIZE is too small. */
int handover_format_fds(const struct handover_fds *f, char *buf, size_t size);
/*
 * Parse the environment variable; fields not named stay -1. -EINVAL for
 * an unknown name, a name given twice, or a number that is not a
 * descriptor above 2.
 */
int handover_parse_fds(const char *s, struct handover_fds *ret);

struct handover_state {
	uint64_t started_ms;	/* CLOCK_MONOTONIC, like the daemon's clock */
	char **runtime;		/* runtime rule lines, "NAME options..." */
	size_t n_runtime;
	char **switches;	/* rules switched at run time, "NAME on|off" */
	size_t n_switches;
};

void handover_format_state(struct dynbuf *out, const struct handover_state *s);
/* -EINVAL for a malformed known line, -ENOMEM; RET is then empty. */
int handover_parse_state(const char *buf, size_t len, struct handover_state *ret);
void handover_state_free(struct handover_state *s);
