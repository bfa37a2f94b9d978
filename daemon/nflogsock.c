/*
 * The NFLOG socket (lib/kernel/nflog's partner): bound to the trigger rule's
 * group, copying packets, delivered at once (queue threshold 1), read in
 * batches with recvmmsg.
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
#include <libnetfilter_log/libnetfilter_log.h>
#include <sys/socket.h>

#include "netlink.h"

#define MSG_BUF 8192

static int nflog_cfg(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MSG_BUF] = { 0 };
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, n, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		return -errno;
	return 0;
}

struct mnl_socket *nflogsock_open(uint16_t group, int *ret_err)
{
	char buf[MSG_BUF] = { 0 };
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	struct nlmsghdr *nlh;
	int r;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		*ret_err = -errno;
		goto fail;
	}
	nlsock_set_buf(nl, SO_RCVBUFFORCE, SO_RCVBUF, 8 << 20);
	nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, group);
	nflog_attr_put_cfg_cmd(nlh, NFULNL_CFG_CMD_BIND);
	r = nflog_cfg(nl, nlh);
	if (r < 0) {
		*ret_err = r;
		goto fail;
	}
	nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, group);
	nflog_attr_put_cfg_mode(nlh, NFULNL_COPY_PACKET, 128);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(0));
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	r = nflog_cfg(nl, nlh);
	if (r < 0) {
		*ret_err = r;
		goto fail;
	}
	fcntl(mnl_socket_get_fd(nl), F_SETFL, O_NONBLOCK);
	return nl;
fail:
	if (nl)
		mnl_socket_close(nl);
	return NULL;
}

/*
 * NFLOG datagrams are small (one log each, queue threshold 1), so one
 * recvmmsg takes everything queued: no second call to learn that the
 * socket is empty before the turn's batch goes out.
 */
#define NFLOG_VLEN 16
#define NFLOG_DGRAM 16384

int nflogsock_read(struct mnl_socket *nl, unsigned max_reads, nflog_cb cb, void *data)
{
	static char bufs[NFLOG_VLEN][NFLOG_DGRAM] __attribute__((aligned(8)));
	struct sockaddr_nl from[NFLOG_VLEN];
	struct iovec iov[NFLOG_VLEN];
	struct mmsghdr m[NFLOG_VLEN];
	unsigned done = 0;

	while (done < max_reads) {
		unsigned v = max_reads - done < NFLOG_VLEN ? max_reads - done : NFLOG_VLEN;
		int n;

		for (unsigned i = 0; i < v; i++) {
			iov[i] = (struct iovec){ bufs[i], NFLOG_DGRAM };
			m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof(from[i]),
							.msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		n = recvmmsg(mnl_socket_get_fd(nl), m, v, MSG_DONTWAIT, NULL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (int i = 0; i < n; i++) {
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)bufs[i];
			int len = m[i].msg_len;

			/* only the kernel speaks here; a truncated datagram is a lost one */
			if (from[i].nl_pid != 0)
				continue;
			if (m[i].msg_hdr.msg_flags & MSG_TRUNC) {
				struct nflog_pkt pkt = { 0 };

				cb(&pkt, -EMSGSIZE, data);
				continue;
			}
			for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
				struct nflog_pkt pkt;
				int r;

				if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE)
					continue;
				r = nflog_parse(nlh, &pkt);
				cb(&pkt, r, data);
			}
		}
		done += n;
		if ((unsigned)n < v)
			return 0;	/* drained */
	}
	return 0;
}
