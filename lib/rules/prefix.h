/*
 * Address prefixes and lists of them: the `allow` statement's sources
 * (`192.168.1.0/24`, `192.168.1.20`, `fd00::/64`), and what counts as one
 * host for the limits of DESIGN §2.11 (an IPv4 address, an IPv6 /64).
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

union inaddr {
	struct in_addr v4;
	struct in6_addr v6;
};

/* An address prefix, host bits zero. */
struct addrprefix {
	int af;
	uint8_t plen;
	union inaddr addr;
};

struct prefixlist {
	struct addrprefix *v;
	size_t n;
};

/*
 * Parse ADDR or ADDR/LEN (S, LEN bytes, not NUL-terminated). Returns 0,
 * -EINVAL if it is no address or prefix, -ERANGE for a length beyond the
 * family's, -EADDRNOTAVAIL if host bits are set (192.168.1.5/24).
 */
int prefix_parse(const char *s, size_t len, struct addrprefix *ret);
int prefix_format(const struct addrprefix *p, char *buf, size_t size);
bool prefix_contains(const struct addrprefix *p, int af, const union inaddr *a);

int prefixlist_add(struct prefixlist *l, const struct addrprefix *p);
void prefixlist_clear(struct prefixlist *l);
int prefixlist_copy(struct prefixlist *dst, const struct prefixlist *src);
bool prefixlist_match(const struct prefixlist *l, int af, const union inaddr *a);

/* The host an address stands for: itself (IPv4), or its /64 (IPv6), host bits zero. */
void host_key(int af, const union inaddr *a, union inaddr *ret);
