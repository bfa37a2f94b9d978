/*
 * lib/kernel/ owns the decoding of what the kernel sends: trigger packets
 * (here), nf_tables events, routes, conntrack requests and events, the
 * administrator's ruleset as dumped and checked (fwruleset, fwdecode,
 * fweval, fwcheck), and traces.
 * May use: base, rules, nft.
 *
 * Decoding of NFLOG messages from the trigger rule: the netlink attributes
 * (interfaces, sequence number, payload) and the packet itself (IPv4 or
 * IPv6 with extension headers, TCP or UDP ports). Everything from the
 * kernel is length-checked; anything malformed or not a first TCP/UDP
 * packet is rejected with -EINVAL, never asserted.
 */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "rules/rule.h"

struct nflog_pkt {
	uint16_t group;
	uint32_t indev;
	uint32_t outdev;
	bool has_seq;
	uint32_t seq;
	int af;
	union inaddr saddr;
	union inaddr daddr;
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint8_t hwaddr[8];	/* link-layer source (NFULA_HWADDR); hwlen 0 if none */
	uint8_t hwlen;
	char prefix[32];	/* the log statement's prefix, "" if none */
};

/* Decode an L3 packet of family AF into PKT's address and port fields. */
int nflog_decode_packet(int af, const uint8_t *p, size_t len, struct nflog_pkt *pkt);

/* Decode one NFULNL_MSG_PACKET message. */
int nflog_parse(const struct nlmsghdr *nlh, struct nflog_pkt *pkt);
