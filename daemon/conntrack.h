#pragma once

#include <libmnl/libmnl.h>

#include "ctnl.h"
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

/*
 * The clean-up runs in a worker thread with its own socket: a conntrack
 * dump walks the whole hash table in the kernel (about 10 ms for a large
 * table even when the filter matches nothing), and trigger packets must
 * not wait for that. Jobs go over a pipe; jobs that pile up meanwhile are
 * served by the same dumps.
 */
struct ct_worker;

struct ct_worker *ct_worker_start(void);
/* Hand the jobs over (and clear them); never blocks. */
void ct_worker_submit(struct ct_worker *w, struct ct_jobs *j);
uint64_t ct_worker_deleted(const struct ct_worker *w);
void ct_worker_stop(struct ct_worker *w);
