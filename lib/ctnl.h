/*
 * Conntrack hygiene over ctnetlink: the requests and the decisions, with
 * no socket. NAT is decided on a flow's first packet, so when a
 * forwarding opens, flows that reached the router un-NATed on its range
 * must go (a stream that started a moment before the trigger), and when
 * a forwarding moves or closes, flows DNATed to the old host on its range
 * must go (so the stream follows the new host). Dumps are filtered in the
 * kernel to one address and protocol; the port range is checked here.
 */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "rule.h"

struct ct_tuple {
	union inaddr src;
	union inaddr dst;
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
};

struct ct_entry {
	int af;
	struct ct_tuple orig;
	struct ct_tuple reply;
	uint32_t status;
	bool has_zone;
	uint16_t zone;
};

enum ct_match {
	CT_MATCH_ORIG_DST,	/* flows sent to ADDR (the router's own address) */
	CT_MATCH_REPLY_SRC,	/* flows answered by ADDR (DNATed to a host) */
};

struct nlmsghdr *ctnl_dump_request(char *buf, uint32_t seq, int af, uint8_t proto,
				   enum ct_match match, const union inaddr *addr);
struct nlmsghdr *ctnl_delete_request(char *buf, uint32_t seq, const struct ct_entry *e);
int ctnl_parse_entry(const struct nlmsghdr *nlh, struct ct_entry *ret);

/* Reached the router un-NATed on proto LO-HI (from PEER, if not NULL). */
bool ctnl_is_stale_unnated(const struct ct_entry *e, uint8_t proto, uint16_t lo, uint16_t hi,
			   const union inaddr *peer);
/* DNATed to HOST on proto LO-HI. */
bool ctnl_is_dnat_to(const struct ct_entry *e, uint8_t proto, uint16_t lo, uint16_t hi,
		     const union inaddr *host);
