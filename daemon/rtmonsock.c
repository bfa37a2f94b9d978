/*
 * The rtnetlink socket (lib/kernel/rtmon's partner): default routes (the WAN
 * interfaces when none are named) and links, and the interface names by
 * index that the trigger path caches until links change.
 */
#include <netinet/in.h>	/* before the kernel headers */
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "netlink.h"
#include "kernel/rtmon.h"

#define RECV_BUF (256 * 1024)
#define MSG_BUF 8192

static char recvbuf[RECV_BUF] __attribute__((aligned(8)));

/* Interface names by index, kept until the links change (the rtnetlink watch says when). */
#define IFCACHE 64

static struct {
	unsigned index;
	char name[IF_NAMESIZE];
} ifcache[IFCACHE];

const char *ifname_cached(unsigned index, char *buf)
{
	unsigned k = index % IFCACHE;

	if (!index)
		return NULL;
	if (ifcache[k].index != index) {
		if (!if_indextoname(index, ifcache[k].name))
			return NULL;
		ifcache[k].index = index;
	}
	memcpy(buf, ifcache[k].name, IF_NAMESIZE);
	return buf;
}

void ifname_cache_flush(void)
{
	memset(ifcache, 0, sizeof(ifcache));
}

struct mnl_socket *rtnlsock_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_LINK,
			    MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

int rtnlsock_read(struct mnl_socket *nl)
{
	int changed = 0;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, recvbuf, sizeof(recvbuf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)recvbuf;
		int len = n;

		if (n < 0)
			return errno == EAGAIN ? changed :
			       errno == ENOBUFS ? RTNL_ROUTES | RTNL_LINKS : -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (rtmon_is_default_change(nlh))
				changed |= RTNL_ROUTES;
			if (rtmon_is_link_change(nlh))
				changed |= RTNL_LINKS;
		}
	}
}

struct wan_collect {
	struct iflist *l;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct wan_collect *c = data;
	uint32_t oifs[16];
	int n = rtmon_default_oifs(nlh, oifs, 16);

	for (int i = 0; i < n; i++) {
		char name[IF_NAMESIZE];

		if (if_indextoname(oifs[i], name) && !iflist_match(c->l, name))
			iflist_add(c->l, name);
	}
	return MNL_CB_OK;
}

int rtnl_default_wan(struct iflist *ret)
{
	struct wan_collect c = { ret };

	return nl_route_dump(RTM_GETROUTE, sizeof(struct rtmsg), AF_UNSPEC, route_cb, &c);
}
