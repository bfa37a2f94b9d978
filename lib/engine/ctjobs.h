/*
 * The conntrack clean-up a change of forwardings needs, as jobs for the
 * conntrack worker: a forwarding opened or moved leaves flows to the
 * router's own address on its ranges that were never NATed (they came
 * before it) and, when moved, flows still NATed to the old host; one that
 * closed leaves flows to its host. The same job is queued once however
 * many forwardings ask for it in a turn.
 */
#pragma once

#include "kernel/ctnl.h"
#include "fwtable.h"

struct ct_job {
	enum ct_match match;
	uint8_t proto;
	uint16_t lo;
	uint16_t hi;
	union inaddr addr;	/* CT_MATCH_REPLY_SRC: the old host */
};

struct ct_jobs {
	struct ct_job *v;
	size_t n;
	size_t cap;
};

/* Queue the clean-up a forwarding needs: opened (OLD NULL) or moved from OLD. */
void ct_jobs_assigned(struct ct_jobs *j, const struct fwd *f, const union inaddr *old);
/* Queue the clean-up of a forwarding that closed. */
void ct_jobs_closed(struct ct_jobs *j, const struct fwd *f);
void ct_jobs_free(struct ct_jobs *j);
/* Queue JOB unless it is queued already. */
void ct_jobs_add(struct ct_jobs *j, const struct ct_job *job);
