/*
 * The nf_tables monitor socket (lib/kernel/nftmon's partner): events about our
 * table, to re-create it when someone else deletes or flushes it.
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
#include <linux/netfilter/nf_tables.h>

#include "netlink.h"
#include "kernel/nftmon.h"

#define RECV_BUF (256 * 1024)

static char recvbuf[RECV_BUF] __attribute__((aligned(8)));

struct mnl_socket *monsock_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	int group = NFNLGRP_NFTABLES;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	nlsock_set_buf(nl, SO_RCVBUFFORCE, SO_RCVBUF, 4 << 20);
	return nl;
}

int monsock_read(struct mnl_socket *nl, uint32_t own_portid, bool *foreign)
{
	int changed = 0;

	for (int i = 0; i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(nl, recvbuf, sizeof(recvbuf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)recvbuf;
		int len = n;

		if (n < 0) {
			if (errno == ENOBUFS)
				return 1;	/* lost events: assume the worst */
			return changed;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			uint32_t portid = 0;

			switch (nftmon_classify(nlh, &portid)) {
			case NFTMON_OURS_REMOVED:
				*foreign = true;
				break;
			case NFTMON_GEN:
				if (*foreign && portid != own_portid)
					changed = 1;
				*foreign = false;
				break;
			default:
				break;
			}
		}
	}
	return changed;
}
