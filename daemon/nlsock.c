/*
 * What every netlink socket of the daemon shares: socket buffer sizes
 * (forced where the daemon may), and one-shot dumps on a socket of their
 * own (chains, rules, sets, elements, routes, addresses).
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

#include "netlink.h"

void nlsock_set_buf(struct mnl_socket *nl, int opt_force, int opt, int size)
{
	int fd = mnl_socket_get_fd(nl);

	if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

int nl_dump(int bus, const struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
	struct timeval tv = { .tv_sec = 2 };
	size_t size = 65536;
	char *buf = malloc(size);
	ssize_t n = 0;
	int r = 0;

	if (!nl || !buf) {
		r = nl ? -ENOMEM : -errno;
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, size)) > 0) {
		r = mnl_cb_run(buf, n, req->nlmsg_seq, mnl_socket_get_portid(nl), cb, data);
		if (r <= MNL_CB_STOP)
			break;
	}
	r = (n < 0 || r < 0) ? -errno : 0;
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return r;
}

int nl_route_dump(uint16_t type, size_t hdrlen, uint8_t family, mnl_cb_t cb, void *data)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint8_t *fam;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = time(NULL);
	fam = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	*fam = family;
	return nl_dump(NETLINK_ROUTE, nlh, cb, data);
}
