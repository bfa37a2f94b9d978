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
	bool has_peer;
	union inaddr peer;
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

struct mnl_socket *ctsock_open(void);
/* Run and clear the jobs; returns how many conntrack entries were deleted. */
int ct_run(struct mnl_socket *nl, struct ct_jobs *j);
