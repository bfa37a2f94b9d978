/*
 * `ipautofwctl trace HOST`: what the kernel did to each new connection
 * from HOST and to each new inbound connection on a rule's forward ports,
 * told in one line per packet. The input is the kernel's own trace
 * (NFT_MSG_TRACE on NFNLGRP_NFTRACE, for packets a rule of our table
 * marked with `meta nftrace set 1`): one event per rule that decided
 * something and per chain policy, the packet's headers with the first
 * event of each hook. The kernel gives a packet a new trace id in each
 * hook, so a packet is followed by its flow (addresses, protocol, ports,
 * the IPv4 id) across hooks, and by its id within one.
 *
 * A packet's line is due once it was dropped, or when nothing more came
 * for TRACE_QUIET_MS. What ipautofwd itself did with a trigger (opened,
 * refreshed, took over, refused, forged) is added by the daemon from its
 * own events (trace_note). At most TRACE_PENDING_MAX packets are followed
 * at once; others are counted, not shown. Pure: no sockets, the clock
 * passed in.
 */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "rules/config.h"
#include "base/util.h"

#define TRACE_QUIET_MS 100
#define TRACE_PENDING_MAX 32
#define TRACE_NAME_MAX 64
#define TRACE_NOTE_MAX 160
/* kernel-side caps: packets a second each trace rule marks, and how long at most */
#define TRACE_RATE 10
#define TRACE_DURATION_MAX_S 300
#define TRACE_DURATION_DEFAULT_S 60

/* One trace message, decoded; interface indexes already named by the caller. */
struct trace_event {
	uint32_t id;
	uint32_t type;			/* NFT_TRACETYPE_RULE, _RETURN, _POLICY */
	uint32_t family;		/* the table's */
	char table[TRACE_NAME_MAX];
	char chain[TRACE_NAME_MAX];
	uint64_t handle;		/* the rule's; 0: none */
	int32_t verdict;		/* NF_ACCEPT, NF_DROP or NFT_JUMP, NFT_GOTO, NFT_RETURN, NFT_CONTINUE */
	bool has_verdict;
	char target[TRACE_NAME_MAX];	/* jump and goto */
	uint32_t iif, oif;
	char iifname[17], oifname[17];
	uint8_t nh[40];			/* the network header, when the event has it */
	uint32_t nh_len;
	uint8_t th[8];			/* the transport header's first bytes (ports) */
	uint32_t th_len;
};

/* Decode NLH (an NFT_MSG_TRACE message). 0, or -EINVAL for anything else or malformed. */
int trace_decode(const struct nlmsghdr *nlh, struct trace_event *ret);

struct trace_pkt;

struct tracer {
	int af;				/* HOST's family */
	union inaddr host;
	const struct config *cfg;	/* which ports trigger and forward which rule */
	const struct iflist *wan;	/* the WAN interfaces in use */
	const char *own_table;		/* ours: its chains are told by what they do */
	struct trace_pkt *pkts;		/* TRACE_PENDING_MAX */
	uint64_t shown, not_shown;
};

int tracer_init(struct tracer *t, int af, const union inaddr *host);
void tracer_fini(struct tracer *t);

/* One event at NOW (monotonic ms); WALL_MS (the clock's ms) stamps a new packet's line. */
void tracer_feed(struct tracer *t, const struct trace_event *ev, uint64_t now, uint64_t wall_ms);

/*
 * What ipautofwd did about a trigger from HOST (WHAT: "opened rtsp:
 * 6970-32000/udp to 192.168.7.2, 10m"), added to the line of HOST's
 * trigger packet being followed.
 */
void tracer_note(struct tracer *t, int af, const union inaddr *host, const char *what);

/* A drop's rule, described by the caller (it reads the ruleset): "reject" */
typedef void (*tracer_rule_fn)(uint32_t family, const char *table, const char *chain,
			       uint64_t handle, char *buf, size_t size, void *data);

/*
 * Every packet whose line is due at NOW, each as one line of text or one
 * JSON object (a line) appended to OUT; RULE (may be NULL) describes a
 * rule that dropped one. Returns the next time one may be due
 * (UINT64_MAX: none pending).
 */
uint64_t tracer_due(struct tracer *t, uint64_t now, bool json, tracer_rule_fn rule, void *data,
		    struct dynbuf *out);
