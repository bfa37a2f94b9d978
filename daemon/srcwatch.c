/*
 * The source check's view of the router; see srcwatch.h.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <time.h>

#include "netlink.h"
#include "srcwatch.h"

static int apply_cb(const struct nlmsghdr *nlh, void *data)
{
	srccheck_update(data, nlh);
	return MNL_CB_OK;
}

static int dump(uint16_t type, int af, struct srccheck *s)
{
	size_t hdrlen = type == RTM_GETADDR ? sizeof(struct ifaddrmsg) : sizeof(struct ndmsg);

	return nl_route_dump(type, hdrlen, af, apply_cb, s);
}

static int dump_all(struct srccheck *s)
{
	static const int afs[] = { AF_INET, AF_INET6 };
	int r = 0;

	srccheck_clear(s);
	for (size_t i = 0; i < 2 && r == 0; i++) {
		r = dump(RTM_GETADDR, afs[i], s);
		if (r == 0)
			r = dump(RTM_GETNEIGH, afs[i], s);
	}
	return r;
}

struct mnl_socket *srcwatch_open(struct srccheck *s)
{
	static const int groups[] = { RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR };
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	int size = 1 << 20, r;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	for (size_t i = 0; i < 3; i++) {
		int g = groups[i];

		if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
			goto fail;
	}
	/* a busy LAN's neighbour churn must not overflow between two loop turns */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	r = dump_all(s);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	return nl;
fail:
	r = errno;
	mnl_socket_close(nl);
	errno = r;
	return NULL;
}

int srcwatch_read(struct mnl_socket *nl, struct srccheck *s)
{
	static char buf[64 * 1024] __attribute__((aligned(8)));

	for (int i = 0; i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = n;

		if (n < 0) {
			if (errno == ENOBUFS)
				return dump_all(s);
			return errno == EAGAIN ? 0 : -errno;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			srccheck_update(s, nlh);
	}
	return 0;
}
