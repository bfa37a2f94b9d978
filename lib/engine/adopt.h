/*
 * Adoption: the forwarding elements a daemon that died left in the kernel
 * (the table outlives it), read back from a set-element dump of one of a
 * rule's own sets, so that the next daemon takes them over with the time
 * they have left. The set names the rule; an element the daemon wrote
 * carries a digest of the rule's forwards as userdata (one the kernel
 * added carries none). Static elements (no timeout) are skipped: the
 * configuration brings them back.
 */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>

#include "fwelem.h"

struct adopt_elem {
	struct fwelem_decoded fwd;
	bool has_udata;
	char udata[sizeof(((struct nftelem *)0)->udata)];
	uint64_t left_ms;
};

/*
 * The elements of one dump message of a rule's set of KIND (act4, act4p,
 * pin6, pin6p): CB hears of each that decodes. Returns how many did not
 * (no time left, userdata too long, a key that does not fit KIND), or
 * -EINVAL for a message that is no element list.
 */
int adopt_decode(const struct nlmsghdr *nlh, enum nftobj_rset kind,
		 void (*cb)(const struct adopt_elem *e, void *data), void *data);
