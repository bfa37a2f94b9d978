/*
 * Conntrack clean-up jobs; see ctjobs.h.
 */
#include <stdlib.h>
#include <string.h>

#include "ctjobs.h"

void ct_jobs_add(struct ct_jobs *j, const struct ct_job *job)
{
	for (size_t i = 0; i < j->n; i++)
		if (!memcmp(&j->v[i], job, sizeof(*job)))
			return;
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 16;
		struct ct_job *v = realloc(j->v, cap * sizeof(*v));

		if (!v)
			return;	/* best effort: the flows then end at their own timeout */
		j->v = v;
		j->cap = cap;
	}
	j->v[j->n++] = *job;
}

static void add_ranges(struct ct_jobs *j, const struct fwd *f, enum ct_match m,
		       const union inaddr *addr)
{
	for (size_t i = 0; i < f->rule->n_forwards; i++) {
		const struct portrange *p = &f->rule->forwards[i];
		struct ct_job job;

		memset(&job, 0, sizeof(job));
		job.match = m;
		job.proto = p->proto;
		job.lo = p->lo;
		job.hi = p->hi;
		if (addr)
			job.addr.v4 = addr->v4;
		/*
		 * Un-NATed flows to the router on the range are stale whichever
		 * peer sent them, so no per-peer jobs: one per range dedupes.
		 */
		ct_jobs_add(j, &job);
	}
}

void ct_jobs_assigned(struct ct_jobs *j, const struct fwd *f, const union inaddr *old)
{
	if (f->af != AF_INET)
		return;
	add_ranges(j, f, CT_MATCH_ORIG_DST, NULL);
	if (old && memcmp(&old->v4, &f->host.v4, 4))
		add_ranges(j, f, CT_MATCH_REPLY_SRC, old);
}

void ct_jobs_closed(struct ct_jobs *j, const struct fwd *f)
{
	if (f->af == AF_INET)
		add_ranges(j, f, CT_MATCH_REPLY_SRC, &f->host);
}

void ct_jobs_free(struct ct_jobs *j)
{
	free(j->v);
	*j = (struct ct_jobs){ 0 };
}
