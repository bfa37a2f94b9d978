/*
 * yardstick: the two alternatives ipautofwd is measured against. Each
 * loads its own minimal table, inet ipautofw_floor (a trigger rule that
 * logs to NFLOG, one DNAT rule, one pinhole rule, one map and one set;
 * nothing else), for one rule: trigger TPORT/tcp, forward LO-HI/udp.
 *
 *   yardstick floor WANIF TPORT LO HI      per trigger: read the NFLOG
 *       message, send exactly one batch DESTROY+NEW of the element, read
 *       its acks. Nothing else is on its path: no source checks, no
 *       limits, no bookkeeping, no logging. The least any user-space
 *       daemon can do, so "ipautofwd / floor" means what it says.
 *   yardstick forkexec WANIF TPORT LO HI   runs `nft -f -` per trigger,
 *       as knockd- or sshguard-style tools do
 *
 * IPv4: map act4 { typeof meta nfproto : ip saddr }, the shape of
 * ipautofwd's per-rule maps, looked up by the DNAT rule. IPv6: a pinhole
 * set of host addresses; the previous host's element is destroyed. Both
 * listen on NFLOG group 7070 and delete their table on SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/now.h"

#define GROUP 7070
#define TIMEOUT_MS 300000
#define MSG_DESTROYSETELEM 30	/* newer than Debian 12's UAPI headers */

static volatile sig_atomic_t stop;
static struct mnl_socket *nft, *nflog;
static uint32_t seq;
static char rbuf[65536] __attribute__((aligned(8)));
static char bbuf[8192] __attribute__((aligned(8)));
static int forkexec;
/* NFLOG message in hand to the batch's acks read, per trigger (the floor's own view) */
#define SAMPLES_MAX 65536
static uint32_t samples[SAMPLES_MAX];
static size_t n_samples;

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void print_self(void)
{
	if (!n_samples)
		return;
	qsort(samples, n_samples, sizeof(*samples), cmp_u32);
	printf("self: %zu triggers, message in hand to batch acked p50 %u us, p99 %u us\n", n_samples,
	       samples[(n_samples - 1) / 2], samples[(n_samples - 1) * 99 / 100]);
}

static void on_signal(int sig)
{
	stop = 1;
}

static int run_nft(const char *script)
{
	int p[2], status;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		execlp("nft", "nft", "-f", "-", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	if (write(p[1], script, strlen(script)) < 0)
		perror("yardstick: write");
	close(p[1]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) ? -1 : 0;
}

static void elem_msg(struct mnl_nlmsg_batch *b, uint16_t type, const char *set, const void *key,
		     size_t klen, const void *data, size_t dlen)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, "ipautofw_floor");
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
	if (type == NFT_MSG_NEWSETELEM) {
		if (data)
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, dlen);
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, TIMEOUT_MS);
	}
	nftnl_set_elem_add(s, e);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type, NFPROTO_INET,
				    (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) | NLM_F_ACK, seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	mnl_nlmsg_batch_next(b);
	nftnl_set_free(s);
}

/* One transaction: destroy KEY_OLD, add KEY with DATA; then read both acks. */
static void replace(const char *set, const void *key_old, const void *key, size_t klen,
		    const void *data, size_t dlen)
{
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(bbuf, sizeof(bbuf));
	int acks = 0;

	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	elem_msg(b, MSG_DESTROYSETELEM, set, key_old, klen, NULL, 0);
	elem_msg(b, NFT_MSG_NEWSETELEM, set, key, klen, data, dlen);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(nft, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0) {
		perror("yardstick: send");
		stop = 1;
	}
	mnl_nlmsg_batch_stop(b);
	while (acks < 2 && !stop) {
		ssize_t n = mnl_socket_recvfrom(nft, rbuf, sizeof(rbuf));
		const struct nlmsghdr *nlh = (const void *)rbuf;
		int len = n;

		if (n < 0)
			break;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			acks++;
			if (err->error)
				fprintf(stderr, "yardstick: %s\n", strerror(-err->error));
		}
	}
}

static void on_trigger(int family, const uint8_t *p, size_t len)
{
	static uint8_t last6[16];
	char script[512], host[INET6_ADDRSTRLEN];
	uint8_t nfproto = NFPROTO_IPV4;

	if (family == NFPROTO_IPV4 && len >= 20) {
		if (forkexec) {
			snprintf(script, sizeof(script),
				 "flush map inet ipautofw_floor act4\n"
				 "add element inet ipautofw_floor act4 { ipv4 timeout %us : %s }\n",
				 TIMEOUT_MS / 1000, inet_ntop(AF_INET, p + 12, host, sizeof(host)));
			run_nft(script);
			return;
		}
		replace("act4", &nfproto, &nfproto, 1, p + 12, 4);
	} else if (family == NFPROTO_IPV6 && len >= 40) {
		if (forkexec) {
			snprintf(script, sizeof(script),
				 "flush set inet ipautofw_floor pin6\n"
				 "add element inet ipautofw_floor pin6 { %s timeout %us }\n",
				 inet_ntop(AF_INET6, p + 8, host, sizeof(host)), TIMEOUT_MS / 1000);
			run_nft(script);
			return;
		}
		replace("pin6", last6, p + 8, 16, NULL, 0);
		memcpy(last6, p + 8, 16);
	}
}

static int nflog_cfg(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	if (mnl_socket_sendto(nflog, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(nflog, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, n, nlh->nlmsg_seq, mnl_socket_get_portid(nflog), NULL, NULL);
}

static int bind_nflog(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int size = 8 << 20;

	nflog = mnl_socket_open(NETLINK_NETFILTER);
	if (!nflog || mnl_socket_bind(nflog, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	setsockopt(mnl_socket_get_fd(nflog), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, GROUP);
	nflog_attr_put_cfg_cmd(nlh, NFULNL_CFG_CMD_BIND);
	if (nflog_cfg(nlh) < 0)
		return -1;
	nlh = nflog_nlmsg_put_header(buf, NFULNL_MSG_CONFIG, AF_UNSPEC, GROUP);
	nflog_attr_put_cfg_mode(nlh, NFULNL_COPY_PACKET, 128);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(0));
	return nflog_cfg(nlh) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: recv returns */
	char ruleset[2048];
	int one = 1;

	if (argc != 6 || (strcmp(argv[1], "floor") && strcmp(argv[1], "forkexec"))) {
		fprintf(stderr, "usage: yardstick floor|forkexec WANIF TRIGGER_PORT LO HI\n");
		return 2;
	}
	forkexec = !strcmp(argv[1], "forkexec");
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	seq = time(NULL);
	/* bind NFLOG first: a trigger rule without a listener would log into the void */
	if (bind_nflog() < 0) {
		perror("yardstick: NFLOG");
		return 1;
	}
	snprintf(ruleset, sizeof(ruleset),
		 "table inet ipautofw_floor {\n"
		 " map act4 { typeof meta nfproto : ip saddr; size 16; flags dynamic,timeout; }\n"
		 " set pin6 { type ipv6_addr; size 16; flags dynamic,timeout; }\n"
		 " chain trigger { type filter hook forward priority filter + 10; policy accept;\n"
		 "  ct state new tcp dport %s log group %d snaplen 128 queue-threshold 1; }\n"
		 " chain prerouting { type nat hook prerouting priority dstnat + 10; policy accept;\n"
		 "  iifname \"%s\" udp dport %s-%s dnat ip to meta nfproto map @act4; }\n"
		 " chain pinhole { type filter hook forward priority filter - 10; policy accept;\n"
		 "  iifname \"%s\" ct state new udp dport %s-%s ip6 daddr @pin6"
		 " meta mark set meta mark or 0x10000000; }\n"
		 "}\n", argv[3], GROUP, argv[2], argv[4], argv[5], argv[2], argv[4], argv[5]);
	run_nft("add table inet ipautofw_floor\ndelete table inet ipautofw_floor\n");
	if (run_nft(ruleset) < 0) {
		fprintf(stderr, "yardstick: cannot load its table\n");
		return 1;
	}
	nft = mnl_socket_open(NETLINK_NETFILTER);
	if (!nft || mnl_socket_bind(nft, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("yardstick: nftables socket");
		return 1;
	}
	mnl_socket_setsockopt(nft, NETLINK_CAP_ACK, &one, sizeof(one));
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		ssize_t n = mnl_socket_recvfrom(nflog, rbuf, sizeof(rbuf));
		const struct nlmsghdr *nlh = (const void *)rbuf;
		uint64_t t = now_us();
		int len = n, triggers = 0;

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("yardstick: NFLOG read");
			break;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
			const struct nlattr *a;

			if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
				continue;
			mnl_attr_for_each(a, nlh, sizeof(*g))
				if (mnl_attr_get_type(a) == NFULA_PAYLOAD) {
					on_trigger(g->nfgen_family, mnl_attr_get_payload(a),
						   mnl_attr_get_payload_len(a));
					triggers++;
				}
		}
		/* the own view counts reads that carried a trigger, as the daemon's does */
		if (triggers && n_samples < SAMPLES_MAX)
			samples[n_samples++] = now_us() - t;
	}
	print_self();
	run_nft("delete table inet ipautofw_floor\n");
	mnl_socket_close(nflog);
	mnl_socket_close(nft);
	return 0;
}
