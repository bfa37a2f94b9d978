/*
 * The nf_tables socket (lib/nft/nftobj's partner): transactions with every ack
 * read and mapped back to its request, and the dumps of sets, chains and
 * rules the daemon reads back.
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
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>

#include "netlink.h"
#include "nft/nftobj.h"

#define RECV_BUF (256 * 1024)
#define MSG_BUF 8192

static char recvbuf[RECV_BUF] __attribute__((aligned(8)));

static void nftsock_setup(struct nftsock *s)
{
	struct timeval tv = { .tv_sec = 2 };
	int one = 1;

	mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s->sndbuf = 1 << 20;
	nlsock_set_buf(s->nl, SO_SNDBUFFORCE, SO_SNDBUF, s->sndbuf);
	s->rcvbuf = 4 << 20;
	nlsock_set_buf(s->nl, SO_RCVBUFFORCE, SO_RCVBUF, s->rcvbuf);
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

static int transact(struct nftsock *s, struct nlbatch *b, bool commit, const struct nlbatch_op **ret_op)
{
	size_t expect = commit ? nlbatch_finish(b) : b->n_ops, got = 0;
	uint32_t first, last;
	int first_err = 0;

	*ret_op = NULL;
	if (b->oom)
		return -ENOMEM;
	if (!expect)
		return 0;
	first = b->ops[0].seq;
	last = b->ops[b->n_ops - 1].seq;
	if ((size_t)s->sndbuf < b->len) {
		s->sndbuf = b->len;
		nlsock_set_buf(s->nl, SO_SNDBUFFORCE, SO_SNDBUF, s->sndbuf);
	}
	/*
	 * Every ack is queued before sendto returns, each a buffer of its own
	 * (about 700 bytes of the socket's budget): a table of a thousand
	 * rules is some 11,000 of them.
	 */
	if ((size_t)s->rcvbuf < expect * 1024 + (256 << 10)) {
		s->rcvbuf = expect * 1024 + (256 << 10);
		nlsock_set_buf(s->nl, SO_RCVBUFFORCE, SO_RCVBUF, s->rcvbuf);
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
				*ret_op = nlbatch_op(b, nlh->nlmsg_seq);
			}
		}
	}
	return first_err;
}

int nft_dump(uint16_t msg_type, int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	char buf[MSG_BUF] = { 0 };

	return nl_dump(NETLINK_NETFILTER,
		       nftnl_nlmsg_build_hdr(buf, msg_type, NFPROTO_UNSPEC, NLM_F_DUMP, time(NULL)), cb, data);
}

int nft_dump_table(uint16_t msg_type, int family, const char *table,
		   int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	char buf[MSG_BUF] = { 0 };
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, msg_type, family, NLM_F_DUMP, time(NULL));

	/* NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE and NFTA_OBJ_TABLE are all 1 */
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table);
	return nl_dump(NETLINK_NETFILTER, nlh, cb, data);
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

int nftsock_commit(struct nftsock *s, struct nlbatch *b, const struct nlbatch_op **ret_op)
{
	return transact(s, b, true, ret_op);
}

/*
 * A batch without BATCH_END: the kernel checks every message (and, since
 * the batch never ends, the whole of it as a commit would), acks each one
 * and then throws the batch away. What `nft -c` does.
 */
int nftsock_try(struct nftsock *s, struct nlbatch *b, const struct nlbatch_op **ret_op)
{
	return transact(s, b, false, ret_op);
}
