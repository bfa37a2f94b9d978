/*
 * Who a trigger's host is (DESIGN §2.11): one machine of the LAN. For an
 * on-link neighbour, the link-layer address the router's neighbour table
 * holds for the source (srccheck_host decides, after the source check
 * compared it with the frame's); for any other source -- routed from
 * behind another router, on a point-to-point or tunnel interface, not
 * (yet) in the neighbour table -- its IPv4 address or its IPv6 /64. The
 * limits count per hostid, so a machine's addresses (IPv6 temporary ones,
 * several IPv4 ones, both families) are one host, and the machines that
 * share a LAN's /64 are many.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rule.h"

enum hostid_kind {
	HOSTID_NONE,	/* static forwardings: nobody's */
	HOSTID_LINK,	/* a neighbour's link-layer address */
	HOSTID_ADDR4,	/* an IPv4 address */
	HOSTID_ADDR6,	/* an IPv6 /64 */
};

#define HOSTID_LINK_MAX 8

struct hostid {
	uint8_t kind;
	uint8_t len;		/* bytes of key in use */
	uint8_t key[16];	/* LINK: the link-layer address; ADDR4/6: the address, the /64 */
};

/* The host an address stands for when nothing else is known: itself (IPv4), its /64 (IPv6). */
void hostid_addr(int af, const union inaddr *a, struct hostid *ret);
/* A neighbour's link-layer address LL (LEN bytes, 1 to HOSTID_LINK_MAX): -EINVAL otherwise. */
int hostid_link(const uint8_t *ll, size_t len, struct hostid *ret);

bool hostid_eq(const struct hostid *a, const struct hostid *b);
uint32_t hostid_hash(const struct hostid *id, uint32_t h);

/* "02:00:00:00:00:02" for a LINK id, "" for any other (BUF of HOSTID_LLADDR_LEN bytes). */
#define HOSTID_LLADDR_LEN (3 * HOSTID_LINK_MAX)
const char *hostid_lladdr(const struct hostid *id, char *buf);
