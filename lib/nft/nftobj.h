/*
 * lib/nft/ owns what ipautofw writes into nf_tables: the table, its sets,
 * counters and chains (here), their rules (nftskel, nftchain), what a
 * configuration adds (nftlayout), set elements (nftelem), the ruleset as
 * text, the trace chain, and what the running kernel can do (kcaps) with
 * its probes. It knows rules and configurations, never forwardings: those
 * become elements in lib/engine (fwelem). The files: nftdefs.h.
 * May use: base, rules.
 *
 * The nft objects: table inet ipautofw, its sets and maps, the three base
 * chains (set lookups only, so the packet path costs the same for one rule
 * or a thousand), the sets each rule adds (its maps, and its own lists),
 * and the named counters. Everything is written into an nlbatch; nothing
 * here touches a socket.
 *
 * The kernel path: a trigger that passed the kernel's source checks and
 * the log rate limit jumps (verdict map on its port) to its segment's
 * chain, where each rule the port triggers, if the packet may trigger it,
 * adds its forwarding: `add` only, so it opens a rule's first forwarding
 * (IPv6: a per-rule owner set keyed by a constant guards the pinhole set)
 * and changes nothing otherwise. Refreshes, takeovers and everything else
 * stay with the daemon, which sees every trigger through NFLOG.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/nlbatch.h"
#include "base/util.h"

#define NFTOBJ_TABLE "ipautofw"

/*
 * The forward-hook priorities of our two filter chains. Triggers are seen
 * last, after every other forward chain has accepted the packet, whatever
 * its priority (postrouting would be later still, but the kernel refuses
 * `fib saddr . iif oif` there). Pinhole marks are set first, before any
 * other forward chain looks for them. Of two chains with the same priority
 * the one registered later runs first, so only a chain at exactly these
 * priorities, loaded before us, could still come before (after) us; the
 * firewall check warns about it.
 */
#define NFTOBJ_PRIO_LAST INT32_MAX
#define NFTOBJ_PRIO_FIRST INT32_MIN

/* Newer than Debian 12's UAPI headers; probed at run time. */
#define NFTOBJ_TABLE_F_OWNER 0x2
#define NFTOBJ_TABLE_F_PERSIST 0x4
#define NFTOBJ_MSG_DESTROYTABLE 26
#define NFTOBJ_MSG_DESTROYSETELEM 30

enum nftobj_set {
	NFTOBJ_WANIF,		/* ifname, interval: WAN interfaces (wildcards as ranges) */
	NFTOBJ_LANIF,		/* ifname, interval: the global `lan` list */
	NFTOBJ_ALLOW4,		/* ipv4_addr, interval: the global `allow` list */
	NFTOBJ_ALLOW6,		/* ipv6_addr, interval */
	NFTOBJ_TRIGGERS,	/* inet_proto . inet_service, interval */
	/* inet_proto . inet_service : verdict, interval: a port segment's chain */
	NFTOBJ_FWD4V,		/* forward ports, IPv4: jump d4_* (DNAT) */
	NFTOBJ_FWD6V,		/* forward ports, IPv6: jump p6_* (pinholes) */
	NFTOBJ_TRIG4V,		/* trigger ports, IPv4: jump t4_* (the kernel's add) */
	NFTOBJ_TRIG6V,		/* trigger ports, IPv6: jump t6_* */
	NFTOBJ_REDIR4,		/* inet_proto . inet_service : ipv4_addr . inet_service (port remap) */
	NFTOBJ_GUARD6,		/* inet_proto . inet_service, interval: pinhole-guard's ports */
	/* filled by the trigger rules themselves: a log rate limit per vetted machine (ether_addr) */
	NFTOBJ_RATELL,
	/* learn mode: peers whose new inbound connections that nothing forwards are logged */
	NFTOBJ_LEARN4,		/* ipv4_addr(peer), timeout */
	NFTOBJ_LEARN6,		/* ipv6_addr(peer) . ipv6_addr(host), timeout */
	/*
	 * the sources the daemon vetted (lib/engine/srccheck.c: srccheck_vetted), the
	 * only ones the kernel serves a first trigger for: ifname . ipv4_addr
	 * (ipv6_addr) . ether_addr, each neighbour with its MAC (names, not
	 * indexes: a listing loads back where the interfaces do not exist)
	 */
	NFTOBJ_SRC4OK,
	NFTOBJ_SRC6OK,
	NFTOBJ__SETS,
};

/*
 * Named counters of the trigger path, read by `status` and `metrics` (and
 * by any exporter of nft counters, without the daemon).
 */
enum nftobj_counter {
	NFTOBJ_CTR_FORGED,	/* failed the kernel's source checks */
	NFTOBJ_CTR_LIMITED,	/* a vetted source over its machine's log rate */
	NFTOBJ_CTR_LIMITED_SHARED,	/* any other source over the shared log rate */
	NFTOBJ_CTR_TRIGGERS,	/* logged to the daemon: passed the checks and the rate limit */
	NFTOBJ__COUNTERS,
};

/* A named counter's values (what a table created anew starts from) */
struct nftobj_ctr {
	uint64_t packets;
	uint64_t bytes;
};

/* The log prefix of the (rate-limited) logs of forged triggers. */
#define NFTOBJ_FORGED_PREFIX "ipautofw:forged"
#define NFTOBJ_FORGED_LOG_RATE 10
/* Elements of each rate limiter set (the kernel refuses more). */
#define NFTOBJ_RATE_SET_SIZE 65536
/*
 * Elements of each learn set: far more than the daemon lists at once
 * (LEARN_PEERS_MAX), so that elements that expired but are not yet
 * collected never make an add fail (and with it the whole transaction).
 */
#define NFTOBJ_LEARN_SET_SIZE 65536
/* Vetted sources each source set holds (a neighbour table far larger is served by the daemon) */
#define NFTOBJ_SRC_SET_SIZE 16384
/* Connections learn mode logs per second, and the burst above that. */
#define NFTOBJ_LEARN_RATE 100
#define NFTOBJ_LEARN_BURST 200

/*
 * The sets one rule adds, named KIND_RULE ("act4_realaudio"). A rule's
 * forwardings live in its own maps, so the packet path can add to them:
 *   act4   nf_proto : ipv4_addr     one element (key ipv4): the host
 *   act4p  ipv4_addr : ipv4_addr    peer : host (peer rules)
 *   own6   nf_proto                 the rule has a pinhole (key ipv6)
 *   pin6   ipv6_addr                the host the pinhole is for
 *   own6p  ipv6_addr                per peer: it has a pinhole
 *   pin6p  ipv6_addr . ipv6_addr    host . peer
 *   wan, lan, allow4, allow6        the rule's own lists, for the kernel's checks
 */
enum nftobj_rset {
	NFTOBJ_RS_ACT4,
	NFTOBJ_RS_ACT4P,
	NFTOBJ_RS_OWN6,
	NFTOBJ_RS_PIN6,
	NFTOBJ_RS_OWN6P,
	NFTOBJ_RS_PIN6P,
	NFTOBJ_RS_WAN,
	NFTOBJ_RS_LAN,
	NFTOBJ_RS_ALLOW4,
	NFTOBJ_RS_ALLOW6,
	NFTOBJ__RS,
};

/* "allow4_" and the longest rule name */
#define NFTOBJ_NAME_MAX 48
/* Elements a rule's own maps of a constant key may hold (one live, some expired ones). */
#define NFTOBJ_ONE_SET_SIZE 16

/* A set by name, with what writing its elements needs. */
struct nftobj_setref {
	char name[NFTOBJ_NAME_MAX];
	uint8_t key_len;
	uint8_t data_len;
};

/*
 * Per vetted machine, and for all other sources together: trigger logs
 * per second, and the burst allowed above it. (A
 * set that logs identical triggers once per window would bound floods
 * more, but would also swallow a host's trigger that should take a
 * forwarding back within the window: last host wins must hold.)
 */
#define NFTOBJ_RATE 200
#define NFTOBJ_BURST 400

struct nftobj_params {
	uint32_t table_flags;
	uint32_t fwd_set_size;	/* elements each peer rule's sets may hold (0: no limit) */
	bool kernel_triggers;	/* the kernel opens first forwardings (else only the daemon) */
	bool rpf_kernel;	/* the trigger chain checks the route back (else the daemon does) */
	uint16_t nflog_group;
	uint32_t mark;
	uint32_t mark_mask;
	bool learn;		/* learn mode's log rules */
	uint16_t learn_group;	/* their NFLOG group */
	struct nftobj_ctr counters[NFTOBJ__COUNTERS];	/* the named counters start from these */
};

const char *nftobj_set_name(enum nftobj_set s);
const char *nftobj_counter_name(enum nftobj_counter c);
/* Sets the packet path fills (rate limits): never flushed or written by us. */
bool nftobj_set_is_dynamic(enum nftobj_set s);

/* Create (NFT_MSG_NEWTABLE, with FLAGS) or delete the table; -ENOMEM. */
int nftobj_table(struct nlbatch *b, uint16_t msg_type, uint32_t flags);

void nftobj_setref(enum nftobj_set s, struct nftobj_setref *ret);
void nftobj_setref_rule(enum nftobj_rset kind, const char *rule, struct nftobj_setref *ret);
/* The name of RULE's set of KIND ("act4_realaudio") into BUF (NFTOBJ_NAME_MAX bytes) */
void nftobj_rset_name(char *buf, enum nftobj_rset kind, const char *rule);

/*
 * For the builders of lib/nft: the objects as libnftnl builds them. The
 * netlink messages and the nft text of --dry-run are both made from them,
 * so the two cannot tell different stories.
 */
struct chaindef;
struct nftnl_chain;
struct nftnl_obj;
struct nftnl_set;
struct nlmsghdr;

struct nlmsghdr *nftobj_begin_msg(struct nlbatch *b, uint16_t type);
/* SIZE: the elements the set may hold (0: no limit; rate sets have their own) */
struct nftnl_set *nftobj_set_object(enum nftobj_set id, uint32_t size);
/* Set NAME of KIND, holding SIZE (0: no limit); ID: its set id in the transaction */
#define NFTOBJ_RSET_ID_BASE (NFTOBJ__SETS + 16)
struct nftnl_set *nftobj_rset_object(enum nftobj_rset kind, const char *name, uint32_t size,
				     uint32_t id);
struct nftnl_obj *nftobj_counter_object(enum nftobj_counter id);
struct nftnl_chain *nftobj_chain_object(const struct chaindef *d);
/* The skeleton's sets, counters and base chains (their rules: nftskel) */
int nftobj_add_objects(struct nlbatch *b, const struct nftobj_params *p);
