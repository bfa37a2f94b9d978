/*
 * What a running daemon hands to the binary that replaces it in place
 * (ipautofwctl reexec): the descriptors it keeps open across execve(),
 * named in one environment variable ("nft=3 nflog=4 control=5 client=6
 * state=7"), and a state file of "KEY VALUE" lines for what the kernel does
 * not hold: the runtime rules, the runtime switches, the start time and the
 * counters (so that a scraper sees them go on, not restart). A newer daemon reads an
 * older one's state, so unknown keys are skipped, never refused.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

struct engine;

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

/* A counter by name ([a-z0-9_], up to HANDOVER_COUNTER_NAME_MAX - 1 characters) */
#define HANDOVER_COUNTER_NAME_MAX 48
struct handover_counter {
	char name[HANDOVER_COUNTER_NAME_MAX];
	uint64_t value;
};

struct handover_state {
	uint64_t started_ms;	/* CLOCK_MONOTONIC, like the daemon's clock */
	char **runtime;		/* runtime rule lines, "NAME options..." */
	size_t n_runtime;
	char **switches;	/* rules switched at run time, "NAME on|off" */
	size_t n_switches;
	struct handover_counter *counters;
	size_t n_counters;
};

void handover_format_state(struct dynbuf *out, const struct handover_state *s);
/* -EINVAL for a malformed known line, -ENOMEM; RET is then empty. */
int handover_parse_state(const char *buf, size_t len, struct handover_state *ret);
void handover_state_free(struct handover_state *s);

/* Add counter NAME: -EINVAL for a name that cannot be one or is there already, -ENOMEM. */
int handover_add_counter(struct handover_state *s, const char *name, uint64_t value);
/* Counter NAME's value, 0 if it was not handed over (an older daemon did not count it). */
uint64_t handover_counter(const struct handover_state *s, const char *name);

/*
 * The engine's counters (what came of triggers and forwardings), by the
 * names a re-exec gives them: added to S, or set from S in the new binary.
 */
int handover_save_engine(struct handover_state *s, const struct engine *e);
void handover_restore_engine(const struct handover_state *s, struct engine *e);
