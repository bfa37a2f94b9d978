#pragma once

#include <libmnl/libmnl.h>

#include "engine/srccheck.h"

/*
 * The router's addresses and neighbour table, followed through rtnetlink
 * (RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR) into a
 * srccheck mirror: subscribe first, then dump, so no change falls between.
 */
struct mnl_socket *srcwatch_open(struct srccheck *s);
/* Apply what arrived; after lost events (ENOBUFS) the mirror is dumped anew. Returns -errno. */
int srcwatch_read(struct mnl_socket *nl, struct srccheck *s);
