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

#include "rules/rule.h"

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
	bool has_mark;
	uint32_t mark;
};

enum ct_match {
	CT_MATCH_ORIG_DST,	/* flows sent to ADDR (the router's own address) */
	CT_MATCH_REPLY_SRC,	/* flows answered by ADDR (DNATed to a host) */
};

struct nlmsghdr *ctnl_dump_request(char *buf, uint32_t seq, int af, uint8_t proto,
				   enum ct_match match, const union inaddr *addr);
struct nlmsghdr *ctnl_delete_request(char *buf, uint32_t seq, const struct ct_entry *e);
int ctnl_parse_entry(const struct nlmsghdr *nlh, struct ct_entry *ret);

/*
 * An update of the entry whose original tuple is T (family AF, zone 0):
 * the mark bits MASK set to MARK, the others kept. No ack asked: only an
 * error comes back, with SEQ.
 */
struct nlmsghdr *ctnl_mark_request(char *buf, uint32_t seq, int af, const struct ct_tuple *t,
				   uint32_t mark, uint32_t mask);

/* A dump of the entries whose mark has the bits MASK set to MARK (both families). */
struct nlmsghdr *ctnl_dump_marked_request(char *buf, uint32_t seq, uint32_t mark, uint32_t mask);

enum ct_event {
	CT_EVENT_NEW,		/* created (NLM_F_CREATE) */
	CT_EVENT_UPDATE,
	CT_EVENT_DESTROY,
};

/* An event of the conntrack groups: the entry, and what happened to it. */
int ctnl_parse_event(const struct nlmsghdr *nlh, struct ct_entry *ret, enum ct_event *ret_kind);

/* Reached the router un-NATed on proto LO-HI (from PEER, if not NULL). */
bool ctnl_is_stale_unnated(const struct ct_entry *e, uint8_t proto, uint16_t lo, uint16_t hi,
			   const union inaddr *peer);
/* DNATed to HOST on proto LO-HI. */
bool ctnl_is_dnat_to(const struct ct_entry *e, uint8_t proto, uint16_t lo, uint16_t hi,
		     const union inaddr *host);
