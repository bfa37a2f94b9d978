/*
 * The daemon's netlink sockets: nf_tables transactions with every ack
 * read and mapped back to its request, the NFLOG group the trigger rule
 * logs to, and rtnetlink for default routes.
 */
#include <netinet/in.h>	/* before the kernel headers */
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>

#include "netlink.h"
#include "nftmon.h"
#include "nftobj.h"
#include "rtmon.h"

#define RECV_BUF (256 * 1024)
#define MSG_BUF 8192

static char recvbuf[RECV_BUF] __attribute__((aligned(8)));

static void set_buf(struct mnl_socket *nl, int opt_force, int opt, int size)
{
	int fd = mnl_socket_get_fd(nl);

	if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

static void nftsock_setup(struct nftsock *s)
{
	struct timeval tv = { .tv_sec = 2 };
	int one = 1;

	mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s->sndbuf = 1 << 20;
	set_buf(s->nl, SO_SNDBUFFORCE, SO_SNDBUF, s->sndbuf);
	set_buf(s->nl, SO_RCVBUFFORCE, SO_RCVBUF, 4 << 20);
}

int nftsock_open(struct nftsock *s)
{
	s->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!s->nl)
		return -errno;
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		nftsock_close(s);
		return err;
	}
	nftsock_setup(s);
	return 0;
}

int nftsock_fdopen(struct nftsock *s, int fd)
{
	s->nl = mnl_socket_fdopen(fd);
	if (!s->nl)
		return -errno;
	nftsock_setup(s);
	return 0;
}

void nftsock_close(struct nftsock *s)
{
	if (s->nl)
		mnl_socket_close(s->nl);
	s->nl = NULL;
}

int nftsock_commit(struct nftsock *s, struct nlbatch *b, const char **ret_what)
{
	size_t expect = nlbatch_finish(b), got = 0;
	uint32_t first, last;
	int first_err = 0;

	*ret_what = NULL;
	if (b->oom)
		return -ENOMEM;
	if (!expect)
		return 0;
	first = b->ops[0].seq;
	last = b->ops[b->n_ops - 1].seq;
	if ((size_t)s->sndbuf < b->len) {
		s->sndbuf = b->len;
		set_buf(s->nl, SO_SNDBUFFORCE, SO_SNDBUF, s->sndbuf);
	}
	if (mnl_socket_sendto(s->nl, b->buf, b->len) < 0)
		return -errno;
	while (got < expect) {
		ssize_t n = mnl_socket_recvfrom(s->nl, recvbuf, sizeof(recvbuf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)recvbuf;
		int len = n;

		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *err;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq < first ||
			    nlh->nlmsg_seq > last)
				continue;
			if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*err))
				return -EBADMSG;
			err = mnl_nlmsg_get_payload(nlh);
			got++;
			if (err->error && !first_err) {
				first_err = err->error;
				*ret_what = nlbatch_describe(b, nlh->nlmsg_seq);
			}
		}
	}
	return first_err;
}

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
	set_buf(nl, SO_RCVBUFFORCE, SO_RCVBUF, 8 << 20);
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

int nft_dump(uint16_t msg_type, int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	char buf[MSG_BUF] = { 0 };

	return nl_dump(NETLINK_NETFILTER,
		       nftnl_nlmsg_build_hdr(buf, msg_type, NFPROTO_UNSPEC, NLM_F_DUMP, time(NULL)), cb, data);
}

int nft_dump_set_elems(int family, const char *table, const char *set,
		       int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	char buf[MSG_BUF] = { 0 };
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, time(NULL));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nl_dump(NETLINK_NETFILTER, nlh, cb, data);
}

int nft_dump_elems(const char *set, int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	return nft_dump_set_elems(NFPROTO_INET, NFTOBJ_TABLE, set, cb, data);
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
	set_buf(nl, SO_RCVBUFFORCE, SO_RCVBUF, 4 << 20);
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
	char buf[MSG_BUF] = { 0 };
	struct wan_collect c = { ret };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rt;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = time(NULL);
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = AF_UNSPEC;
	return nl_dump(NETLINK_ROUTE, nlh, route_cb, &c);
}
