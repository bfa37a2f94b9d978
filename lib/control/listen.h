/*
 * The router's own listening sockets, read from /proc/self/net/{tcp,udp}{,6}
 * text (passed in), and the warning `status` gives when a rule's forward
 * range covers one of them on the WAN side: an inbound connection to the
 * router's WAN address on that port would be DNATed to a LAN host while a
 * forwarding is active, shadowing the router's own SSH or VPN.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "base/util.h"

struct listen_sock {
	uint8_t proto;
	int af;
	union inaddr addr;	/* the wildcard (all zero) or one address */
	uint16_t port;
};

struct listen_set {
	struct listen_sock *v;
	size_t n;
};

/*
 * Add the listening sockets in TEXT, the contents of /proc/self/net/PROTO or
 * PROTO6 (AF says which): TCP in state LISTEN, UDP bound and unconnected.
 * Malformed lines are skipped. Returns how many were added, or -ENOMEM.
 */
int listen_parse(struct listen_set *s, const char *text, size_t len, uint8_t proto, int af);
void listen_clear(struct listen_set *s);

/*
 * One line of warning per (rule, forward range, socket) where an IPv4
 * forward range of rule covers a socket that accepts connections to a WAN
 * address: bound to the wildcard, or to an address IS_WAN_ADDR says is
 * on a WAN interface. Returns the number of lines added to OUT.
 */
int listen_warnings(const struct engine *e, const struct listen_set *s,
		    bool (*is_wan_addr)(int af, const union inaddr *a, void *data), void *data,
		    struct dynbuf *out);
