#pragma once

#include <libmnl/libmnl.h>

#include "engine/ctjobs.h"

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
