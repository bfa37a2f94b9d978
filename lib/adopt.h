/*
 * Adoption: the forwarding elements a daemon that died left in the kernel
 * (the table outlives it), read back from a set-element dump so that the
 * next daemon takes them over with the time they have left. Each element
 * carries its rule's name as userdata. Static elements (no timeout) are
 * skipped: the configuration brings them back.
 */
#pragma once

#include <linux/netlink.h>

#include "nftobj.h"

struct adopt_elem {
	char rule[RULE_NAME_MAX + 1];
	struct nftobj_fwd_elem fwd;
	uint64_t left_ms;
};

/*
 * The elements of one dump message of forwarding set S: CB hears of each
 * that decodes. Returns how many did not (no name, no time left, a key
 * that does not fit S), or -EINVAL for a message that is no element list.
 */
int adopt_decode(const struct nlmsghdr *nlh, enum nftobj_set s,
		 void (*cb)(const struct adopt_elem *e, void *data), void *data);
