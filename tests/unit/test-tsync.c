#include "test.h"
#include "engine/tsync.h"

/* Every state with every event: the next state, what is said, what is due. */
static void test_transitions(void)
{
#define N TSYNC_NONE
#define S TSYNC_IN_STEP
#define R TSYNC_RESYNC
#define B TSYNC_REBUILD
#define W TSYNC_REBUILD_WAIT
	/* next[state][event] */
	static const enum tsync_state next[TSYNC__STATES][TSYNC__EVENTS] = {
		/*        CREATED FAILED COMMIT LOST FOREIGN RESYNCED RSYNC_FAIL RESHAPE */
		[N] = { S, W, N, N, B, N, B, B },
		[S] = { S, W, R, R, B, S, B, B },
		[R] = { S, W, R, R, B, S, B, B },
		[B] = { S, W, B, B, B, B, B, B },
		[W] = { S, W, W, W, W, W, W, W },
	};

	for (int st = 0; st < TSYNC__STATES; st++)
		for (int ev = 0; ev < TSYNC__EVENTS; ev++) {
			struct tsync t = { .state = st };
			enum tsync_say say = tsync_event(&t, ev, 5000);

			if (t.state != next[st][ev])
				fprintf(stderr, "%s + event %d -> %s, expected %s\n", tsync_state_name(st), ev,
					tsync_state_name(t.state), tsync_state_name(next[st][ev]));
			CHECK_INT(t.state, next[st][ev]);
			CHECK_INT(say, ev == TSYNC_EV_CREATE_FAILED ? TSYNC_SAY_FAILING : TSYNC_SAY_NOTHING);
			CHECK_INT(tsync_writable(&t), t.state == S || t.state == R);
		}
#undef N
#undef S
#undef R
#undef B
#undef W
}

/* Re-creation failed: tried again a second later, said once, and said when it works again. */
static void test_failing_rebuild(void)
{
	struct tsync t;

	tsync_init(&t);
	CHECK_INT(tsync_due(&t, 0), TSYNC_DO_NOTHING);
	CHECK_INT(tsync_event(&t, TSYNC_EV_CREATED, 0), TSYNC_SAY_NOTHING);
	CHECK_INT(tsync_deadline(&t), UINT64_MAX);
	CHECK_INT(tsync_event(&t, TSYNC_EV_FOREIGN, 100), TSYNC_SAY_NOTHING);
	CHECK_INT(tsync_due(&t, 100), TSYNC_DO_REBUILD);
	CHECK_INT(tsync_deadline(&t), 0);
	CHECK(!tsync_writable(&t));
	CHECK_INT(tsync_event(&t, TSYNC_EV_CREATE_FAILED, 100), TSYNC_SAY_FAILING);
	CHECK_INT(tsync_due(&t, 100), TSYNC_DO_NOTHING);
	CHECK_INT(tsync_due(&t, 1099), TSYNC_DO_NOTHING);
	CHECK_INT(tsync_deadline(&t), 1100);
	CHECK_INT(tsync_due(&t, 1100), TSYNC_DO_REBUILD);
	/* failing again: not said again */
	CHECK_INT(tsync_event(&t, TSYNC_EV_CREATE_FAILED, 1100), TSYNC_SAY_NOTHING);
	/* another foreign change does not hurry the pause */
	tsync_event(&t, TSYNC_EV_FOREIGN, 1200);
	CHECK_INT(tsync_due(&t, 1200), TSYNC_DO_NOTHING);
	CHECK_INT(tsync_due(&t, 2100), TSYNC_DO_REBUILD);
	CHECK_INT(tsync_event(&t, TSYNC_EV_CREATED, 2100), TSYNC_SAY_RECOVERED);
	CHECK_INT(t.state, TSYNC_IN_STEP);
	/* a later failure is said again */
	tsync_event(&t, TSYNC_EV_FOREIGN, 3000);
	CHECK_INT(tsync_event(&t, TSYNC_EV_CREATE_FAILED, 3000), TSYNC_SAY_FAILING);
}

/* Resyncs a second apart; a failed one re-creates the table. */
static void test_resync_pacing(void)
{
	struct tsync t;

	tsync_init(&t);
	tsync_event(&t, TSYNC_EV_CREATED, 0);
	tsync_event(&t, TSYNC_EV_COMMIT_FAILED, 10);
	CHECK_INT(tsync_due(&t, 10), TSYNC_DO_RESYNC);
	CHECK(tsync_writable(&t));
	tsync_event(&t, TSYNC_EV_RESYNCED, 10);
	CHECK_INT(t.state, TSYNC_IN_STEP);
	tsync_event(&t, TSYNC_EV_LOST, 20);
	CHECK_INT(tsync_due(&t, 20), TSYNC_DO_NOTHING);
	CHECK_INT(tsync_deadline(&t), 1010);
	CHECK_INT(tsync_due(&t, 1010), TSYNC_DO_RESYNC);
	tsync_event(&t, TSYNC_EV_RESYNC_FAILED, 1010);
	CHECK_INT(tsync_due(&t, 1010), TSYNC_DO_REBUILD);
	tsync_event(&t, TSYNC_EV_CREATED, 1010);
	CHECK_INT(tsync_due(&t, 1010), TSYNC_DO_NOTHING);
}

TEST_MAIN(T(test_transitions), T(test_failing_rebuild), T(test_resync_pacing))
