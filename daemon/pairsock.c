/*
 * The conntrack socket of a router pair (lib/engine/pair.h): it hears the
 * conntrack table's events (new, updated and destroyed entries) and marks
 * the entries of genuine triggers. Events its own marks cause carry its
 * port id; conntrackd's carry conntrackd's.
 */
#include <endian.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_compat.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink.h"

/* a burst of new connections (conntrackd's resync) must not overrun it */
#define PAIRSOCK_RCVBUF (4 << 20)

/*
 * The kernel drops the events of entries without the mark before they
 * wake the daemon: a conntrack message passes only if its CTA_MARK (the
 * kernel's attribute search, SKF_AD_NLATTR) has the bits; every other
 * message (errors) passes.
 */
int pairsock_filter(struct mnl_socket *nl, uint32_t mark, uint32_t mask)
{
	/* the byte of nlmsg_type that holds the subsystem (host order) */
	const unsigned subsys = offsetof(struct nlmsghdr, nlmsg_type) + (BYTE_ORDER == LITTLE_ENDIAN);
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, subsys),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NFNL_SUBSYS_CTNETLINK, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_LD | BPF_IMM, NLMSG_HDRLEN + sizeof(struct nfgenmsg)),
		BPF_STMT(BPF_LDX | BPF_IMM, CTA_MARK),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_NLATTR),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 4, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		/* the attribute's payload, big-endian like the load */
		BPF_STMT(BPF_LD | BPF_W | BPF_IND, 4),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mark, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	return setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			  sizeof(prog)) < 0 ? -errno : 0;
}

struct mnl_socket *pairsock_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	unsigned groups = NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE |
			  NF_NETLINK_CONNTRACK_DESTROY;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	nlsock_set_buf(nl, SO_RCVBUFFORCE, SO_RCVBUF, PAIRSOCK_RCVBUF);
	return nl;
}

int pairsock_send(struct mnl_socket *nl, const void *buf, size_t len)
{
	return mnl_socket_sendto(nl, buf, len) < 0 ? -errno : 0;
}

int pairsock_read(struct mnl_socket *nl, unsigned max_reads, pairsock_cb cb, void *data)
{
	static char buf[65536] __attribute__((aligned(8)));

	for (unsigned i = 0; i < max_reads; i++) {
		ssize_t n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = n;

		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type == NLMSG_ERROR) {
				if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(*err))
					cb(NULL, nlh->nlmsg_seq, err->error, data);
			} else {
				cb(nlh, 0, 0, data);
			}
		}
	}
	return 1;
}
