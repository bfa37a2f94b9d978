/*
 * The table's sync state; see tsync.h.
 */
#include "tsync.h"
#include "base/util.h"

void tsync_init(struct tsync *t)
{
	*t = (struct tsync){ .state = TSYNC_NONE };
}

/* (A resync already waiting, or a table to be written whole, covers it.) */
static void resync(struct tsync *t)
{
	if (t->state == TSYNC_IN_STEP)
		t->state = TSYNC_RESYNC;
}

enum tsync_say tsync_event(struct tsync *t, enum tsync_event ev, uint64_t now)
{
	enum tsync_say say = TSYNC_SAY_NOTHING;

	switch (ev) {
	case TSYNC_EV_CREATED:
		if (t->failing)
			say = TSYNC_SAY_RECOVERED;
		t->failing = false;
		t->state = TSYNC_IN_STEP;
		break;
	case TSYNC_EV_CREATE_FAILED:
		if (!t->failing)
			say = TSYNC_SAY_FAILING;
		t->failing = true;
		t->state = TSYNC_REBUILD_WAIT;
		t->not_before = now + TSYNC_RETRY_MS;
		break;
	case TSYNC_EV_COMMIT_FAILED:
	case TSYNC_EV_LOST:
		resync(t);
		break;
	case TSYNC_EV_RESYNCED:
		/* resyncs a second apart: a failure that repeats costs a transaction a second */
		if (t->state == TSYNC_RESYNC)
			t->state = TSYNC_IN_STEP;
		t->not_before = now + TSYNC_RETRY_MS;
		break;
	case TSYNC_EV_RESYNC_FAILED:
		t->not_before = now + TSYNC_RETRY_MS;
		/* the table itself may be what is wrong */
		__attribute__((fallthrough));
	case TSYNC_EV_FOREIGN:
	case TSYNC_EV_RESHAPE:
		/* a re-creation that keeps failing waits out its pause */
		if (t->state != TSYNC_REBUILD_WAIT)
			t->state = TSYNC_REBUILD;
		break;
	default:
		break;
	}
	return say;
}

enum tsync_do tsync_due(const struct tsync *t, uint64_t now)
{
	switch (t->state) {
	case TSYNC_RESYNC:
		return now >= t->not_before ? TSYNC_DO_RESYNC : TSYNC_DO_NOTHING;
	case TSYNC_REBUILD:
		return TSYNC_DO_REBUILD;
	case TSYNC_REBUILD_WAIT:
		return now >= t->not_before ? TSYNC_DO_REBUILD : TSYNC_DO_NOTHING;
	default:
		return TSYNC_DO_NOTHING;
	}
}

uint64_t tsync_deadline(const struct tsync *t)
{
	switch (t->state) {
	case TSYNC_REBUILD:
		return 0;
	case TSYNC_RESYNC:
	case TSYNC_REBUILD_WAIT:
		return t->not_before;
	default:
		return UINT64_MAX;
	}
}

bool tsync_writable(const struct tsync *t)
{
	return t->state == TSYNC_IN_STEP || t->state == TSYNC_RESYNC;
}

const char *tsync_state_name(enum tsync_state s)
{
	static const char *const names[] = {
		[TSYNC_NONE] = "none",
		[TSYNC_IN_STEP] = "in step",
		[TSYNC_RESYNC] = "resync due",
		[TSYNC_REBUILD] = "re-creation due",
		[TSYNC_REBUILD_WAIT] = "re-creation failed, waiting to try again",
	};

	return s < ARRAY_SIZE(names) ? names[s] : "unknown";
}
