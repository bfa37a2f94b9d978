/*
 * Is a trigger's source genuine (DESIGN §2.10)? The kernel's trigger rule
 * already drops what the FIB can tell (strict reverse path, the router's
 * own, broadcast and anycast addresses); this is the daemon's half: a
 * mirror of the router's addresses (every interface, with prefixes) and
 * of its neighbour table (IP to link-layer address per interface), fed
 * with rtnetlink messages, and the verdict on one trigger's source, its
 * incoming interface and the link-layer source address NFLOG saw.
 */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hmap.h"
#include "hostid.h"
#include "base/nlbatch.h"
#include "nft/nftelem.h"
#include "nft/nftobj.h"
#include "rules/rule.h"

#define SRCCHECK_HWADDR_MAX 8

enum srccheck_verdict {
	SRCCHECK_OK,
	SRCCHECK_UNSPECIFIED,
	SRCCHECK_LOOPBACK,
	SRCCHECK_MULTICAST,
	SRCCHECK_BROADCAST,	/* 255.255.255.255 or a prefix's broadcast address */
	SRCCHECK_NETWORK,	/* the network (IPv6: subnet-router anycast) address of a prefix */
	SRCCHECK_OWN,		/* one of the router's addresses */
	SRCCHECK_MAPPED,	/* IPv4-mapped or -compatible IPv6 */
	SRCCHECK_HWADDR,	/* the neighbour table names another link-layer address */
	SRCCHECK_REVERSE_PATH,	/* the kernel's check: the route back leaves elsewhere */
};

struct srccheck_addr {
	uint32_t ifindex;
	int af;
	uint8_t plen;
	union inaddr addr;	/* the router's address */
	union inaddr prefix;	/* the prefix it belongs to (IPv4 point-to-point: the peer's) */
};

struct srccheck_neigh {
	uint32_t ifindex;
	int af;
	union inaddr addr;
	uint8_t lladdr[SRCCHECK_HWADDR_MAX];
	uint8_t lllen;
	struct hmap_node node;
};

struct srccheck {
	struct srccheck_addr *addrs;
	size_t n_addrs;
	size_t cap_addrs;
	struct hmap neigh;	/* by interface and address */
	/*
	 * Vet only neighbours on an on-link prefix of their interface: where
	 * the kernel cannot check the route back before serving a trigger
	 * (lib/nft/kcaps.h), that is what vouches for it.
	 */
	bool vet_onlink_only;
};

void srccheck_init(struct srccheck *s);
/* Forget everything (before a fresh dump, after lost events). */
void srccheck_clear(struct srccheck *s);

/*
 * Apply one rtnetlink message: RTM_NEWADDR/DELADDR, RTM_NEWNEIGH/DELNEIGH
 * (AF_INET and AF_INET6; anything else is ignored). Returns 1 if it
 * changed the mirror, 0 if it did not concern it, -EINVAL if malformed,
 * -ENOMEM.
 */
int srccheck_update(struct srccheck *s, const struct nlmsghdr *nlh);

/*
 * The verdict on source SRC of family AF that came in on IFINDEX with
 * link-layer source HW (HWLEN 0: unknown, e.g. a tunnel; no link-layer
 * check then).
 */
/*
 * Is ADDR on a prefix of one of the router's addresses on IFINDEX (the
 * route back to it is that interface's, unless a more specific route says
 * otherwise)?
 */
bool srccheck_onlink(const struct srccheck *s, uint32_t ifindex, int af, const union inaddr *addr);

enum srccheck_verdict srccheck_source(const struct srccheck *s, int af, const union inaddr *src,
				      uint32_t ifindex, const uint8_t *hw, size_t hwlen);

const char *srccheck_reason(enum srccheck_verdict v);

/*
 * The host (DESIGN §2.11) a genuine trigger from SRC on IFINDEX comes
 * from: the link-layer address the neighbour table holds for SRC on that
 * interface (srccheck_source has compared it with the frame's), else --
 * not an on-link neighbour, or not yet one -- the address or its /64.
 */
void srccheck_host(const struct srccheck *s, int af, const union inaddr *src, uint32_t ifindex,
		   struct hostid *ret);

/*
 * An interface's name (into BUF, IFNAMSIZ bytes), or NULL to leave its
 * neighbours out (gone, or not one a trigger may come in on).
 */
typedef const char *srccheck_ifname_fn(uint32_t ifindex, char *buf, void *data);

/*
 * The sources the kernel may serve a first trigger for by itself (DESIGN
 * §2.10): each neighbour with an Ethernet address whose address passes
 * srccheck_source with that address (unicast, not a prefix's network or
 * broadcast address, not the router's own), on an interface IFNAME names.
 * The elements of src4ok and src6ok (ifname . address . ether_addr), at
 * most MAX each, into *RET4 and *RET6 (malloc'd; free them). Returns 0 or
 * -ENOMEM.
 */
int srccheck_vetted(const struct srccheck *s, srccheck_ifname_fn *ifname, void *data, size_t max,
		    struct nftelem **ret4, size_t *n4, struct nftelem **ret6, size_t *n6);

/*
 * Rewrite src4ok and src6ok in B (flush, then every vetted source) unless
 * they hold what *DIGEST says they hold; *DIGEST is updated. Returns 1 if
 * written, 0 if unchanged, -ENOMEM.
 */
int srccheck_write_vetted(const struct srccheck *s, srccheck_ifname_fn *ifname, void *data,
			  struct nlbatch *b, uint64_t *digest);
