/*
 * Reading default routes out of rtnetlink messages, to follow which
 * interfaces are WAN when the configuration names none.
 */
#pragma once

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

/*
 * If NLH is an RTM_NEWROUTE for a default route (prefix length 0, main
 * table, unicast), store its output interfaces (multipath included) in
 * OIFS and return how many; otherwise return 0. -EINVAL if malformed.
 */
int rtmon_default_oifs(const struct nlmsghdr *nlh, uint32_t *oifs, size_t max);

/* True if NLH announces a change that may concern default routes. */
int rtmon_is_default_change(const struct nlmsghdr *nlh);

/* True if NLH announces an interface that appeared, changed or went away. */
int rtmon_is_link_change(const struct nlmsghdr *nlh);

/*
 * The route back to a trigger's source, for kernels whose forward hook
 * cannot look it up (lib/nft/kcaps.h): an RTM_GETROUTE request for ADDR of
 * family AF built into BUF (at least RTMON_REQUEST_SIZE bytes), and the
 * verdict on the kernel's answer: 1 when the route leaves through IFINDEX
 * (strict reverse path), 0 when it does not or there is none (an error
 * answer), -EINVAL when NLH is neither.
 */
#define RTMON_REQUEST_SIZE 128
struct nlmsghdr *rtmon_route_request(void *buf, int af, const void *addr, uint32_t seq);
int rtmon_route_back_ok(const struct nlmsghdr *nlh, uint32_t ifindex);
