/*
 * The nft object builder: table inet ipautofw, its sets and maps, the
 * three base chains and their few rules (set lookups only, so the packet
 * path costs the same for one rule or a thousand), and the set elements
 * that carry forwardings. Everything is written into an nlbatch; nothing
 * here touches a socket.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "fwtable.h"
#include "nlbatch.h"
#include "rule.h"
#include "util.h"

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
	NFTOBJ_TRIGGERS,	/* inet_proto . inet_service, interval */
	NFTOBJ_FWD4,		/* inet_proto . inet_service : ipv4_addr */
	NFTOBJ_FWD4P,		/* ipv4_addr(peer) . inet_proto . inet_service : ipv4_addr */
	NFTOBJ_PIN6,		/* ipv6_addr(host) . inet_proto . inet_service */
	NFTOBJ_PIN6P,		/* ipv6_addr(host) . ipv6_addr(peer) . inet_proto . inet_service */
	NFTOBJ_REDIR4,		/* inet_proto . inet_service : ipv4_addr . inet_service (port remap) */
	NFTOBJ_GUARD6,		/* inet_proto . inet_service, interval: pinhole-guard's ports */
	/* filled by the trigger rules themselves: a log rate limit per host (IPv4 address, IPv6 /64) */
	NFTOBJ_RATE4,
	NFTOBJ_RATE6,
	/* learn mode: peers whose new inbound connections that nothing forwards are logged */
	NFTOBJ_LEARN4,		/* ipv4_addr(peer), timeout */
	NFTOBJ_LEARN6,		/* ipv6_addr(peer) . ipv6_addr(host), timeout */
	NFTOBJ__SETS,
};

/* Named counters of the trigger path, read by `status`. */
enum nftobj_counter {
	NFTOBJ_CTR_FORGED,	/* failed the kernel's source checks */
	NFTOBJ_CTR_LIMITED,	/* over a host's log rate */
	NFTOBJ__COUNTERS,
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
/* Connections learn mode logs per second, and the burst above that. */
#define NFTOBJ_LEARN_RATE 100
#define NFTOBJ_LEARN_BURST 200

#define NFTOBJ_KEY_MAX 40

/*
 * Per host: trigger logs per second, and the burst allowed above it. (A
 * set that logs identical triggers once per window would bound floods
 * more, but would also swallow a host's trigger that should take a
 * forwarding back within the window: last host wins must hold.)
 */
#define NFTOBJ_RATE 200
#define NFTOBJ_BURST 400

struct nftobj_elem {
	uint8_t key[NFTOBJ_KEY_MAX];
	uint8_t key_end[NFTOBJ_KEY_MAX];
	uint8_t data[8];
	bool has_key_end;	/* concatenated ranges: inclusive end */
	bool interval_end;	/* plain interval sets: this element closes a range */
	bool has_data;
	uint64_t timeout_ms;	/* 0: permanent */
	uint64_t expiration_ms;	/* 0: a full timeout */
	const char *owner;	/* rule name, kept as element userdata for adoption */
};

/* A forwarding element read back from the kernel (see nftobj_decode_fwd). */
struct nftobj_fwd_elem {
	int af;
	union inaddr host;
	union inaddr peer;
	bool has_peer;
	uint8_t proto;
	uint16_t lo;
	uint16_t hi;
};

struct nftobj_params {
	uint32_t table_flags;
	uint32_t fwd_set_size;	/* elements each forwarding set may hold (0: no limit) */
	uint16_t nflog_group;
	uint32_t mark;
	uint32_t mark_mask;
	bool learn;		/* learn mode's log rules */
	uint16_t learn_group;	/* their NFLOG group */
};

const char *nftobj_set_name(enum nftobj_set s);
const char *nftobj_counter_name(enum nftobj_counter c);
/* Sets whose elements carry forwardings (sized by nftobj_params.fwd_set_size). */
bool nftobj_set_is_fwd(enum nftobj_set s);
/* Change the size of the forwarding sets (the kernel takes it on an existing set). */
int nftobj_resize_fwd_sets(struct nlbatch *b, uint32_t size);
/* Sets the packet path fills (rate limits): never flushed or written by us. */
bool nftobj_set_is_dynamic(enum nftobj_set s);

/* Create (NFT_MSG_NEWTABLE, with FLAGS) or delete the table; -ENOMEM. */
int nftobj_table(struct nlbatch *b, uint16_t msg_type, uint32_t flags);
int nftobj_skeleton(struct nlbatch *b, const struct nftobj_params *p);

/*
 * The table nftobj_skeleton builds, with the elements that batch ELEMS
 * leaves in its sets, in `nft -f` syntax, exactly as `nft list table inet
 * ipautofw` shows it (no table flags: the text is for reading and loading).
 */
int nftobj_text(const struct nftobj_params *p, const struct nlbatch *elems, struct dynbuf *out);

/* Element messages, split so that no attribute nest passes 64 KiB. */
int nftobj_elems(struct nlbatch *b, uint16_t msg_type, enum nftobj_set s,
		 const struct nftobj_elem *e, size_t n);
int nftobj_flush_set(struct nlbatch *b, enum nftobj_set s);

/*
 * The elements that carry forwarding F: one per forward range of its rule
 * (that matches F's family). OUT must hold rule->n_forwards entries.
 * Returns how many were written; *RET_SET says which set they go to.
 */
enum nftobj_set nftobj_fwd_set(const struct fwd *f);
size_t nftobj_fwd_elems(const struct fwd *f, uint64_t expiration_ms, struct nftobj_elem *out,
			enum nftobj_set *ret_set);

/*
 * Decode a forwarding element of set S from its key, key end and data.
 * Returns 0, or -EINVAL for lengths or contents that do not fit S.
 */
int nftobj_decode_fwd(enum nftobj_set s, const void *key, size_t key_len, const void *key_end,
		      size_t key_end_len, const void *data, size_t data_len,
		      struct nftobj_fwd_elem *ret);

/*
 * The learn set element for PEER (IPv6: connecting to HOST), lasting
 * EXPIRATION_MS of TIMEOUT_MS (both 0 for a delete); returns its set.
 */
enum nftobj_set nftobj_learn_elem(int af, const union inaddr *peer, const union inaddr *host,
				  uint64_t timeout_ms, uint64_t expiration_ms, struct nftobj_elem *out);

/* Interval elements (start/end pairs, merged) matching any of the names. */
int nftobj_ifname_elems(const struct iflist *l, struct nftobj_elem **ret, size_t *ret_n);

/* Disjoint (proto, range) elements covering all PORTS. */
int nftobj_portrange_elems(const struct portrange *ports, size_t n, struct nftobj_elem **ret,
			   size_t *ret_n);
