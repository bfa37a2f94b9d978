/*
 * Is the kernel's table in step with the daemon? One state and one
 * transition function: everything that can put the two apart (a failed
 * transaction, lost NFLOG messages, another program touching the table, a
 * reload that changes the table's shape) or together again (the table
 * written whole, every element rewritten) is an event here, and the end of
 * each loop turn asks what is due. Retries are paced (a second apart) and
 * a failure that lasts is said once, not every second.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum tsync_state {
	TSYNC_NONE,		/* no table yet */
	TSYNC_IN_STEP,		/* the kernel holds what the daemon holds */
	TSYNC_RESYNC,		/* a transaction failed, or triggers were lost: rewrite every element */
	TSYNC_REBUILD,		/* the table must be written whole (changed by someone else, new shape) */
	TSYNC_REBUILD_WAIT,	/* writing it failed: again once the pause is over */
	TSYNC__STATES,
};

enum tsync_event {
	TSYNC_EV_CREATED,	/* the table was written whole */
	TSYNC_EV_CREATE_FAILED,
	TSYNC_EV_COMMIT_FAILED,	/* an update's transaction failed */
	TSYNC_EV_LOST,		/* NFLOG lost triggers the kernel may have served */
	TSYNC_EV_FOREIGN,	/* another program changed or deleted the table */
	TSYNC_EV_RESYNCED,	/* every element written again */
	TSYNC_EV_RESYNC_FAILED,	/* ... which failed: the table itself may be what is wrong */
	TSYNC_EV_RESHAPE,	/* the table's rules change (learn mode on or off): write it whole */
	TSYNC__EVENTS,
};

/* What the end of a turn does now. */
enum tsync_do {
	TSYNC_DO_NOTHING,
	TSYNC_DO_RESYNC,
	TSYNC_DO_REBUILD,
};

/* What the daemon says about an event (once per episode, not per retry). */
enum tsync_say {
	TSYNC_SAY_NOTHING,
	TSYNC_SAY_FAILING,	/* writing the table failed: tried again every TSYNC_RETRY_MS */
	TSYNC_SAY_RECOVERED,	/* ... and now it worked */
};

#define TSYNC_RETRY_MS 1000

struct tsync {
	enum tsync_state state;
	uint64_t not_before;	/* no resync or re-creation before this */
	bool failing;		/* a re-creation failed and it was said */
};

void tsync_init(struct tsync *t);
/* Apply EV at NOW; returns what to say about it. */
enum tsync_say tsync_event(struct tsync *t, enum tsync_event ev, uint64_t now);
/* What is due at NOW. */
enum tsync_do tsync_due(const struct tsync *t, uint64_t now);
/* When something becomes due (UINT64_MAX: nothing will). */
uint64_t tsync_deadline(const struct tsync *t);
/* May a turn write its updates (there is a table to write to)? */
bool tsync_writable(const struct tsync *t);
const char *tsync_state_name(enum tsync_state s);
