/*
 * yardstick: the two alternatives ipautofwd is measured against, on the
 * very same kernel objects (table inet ipautofw as nftobj builds it), so
 * that only the per-event work differs.
 *
 *   yardstick floor RULE-LINE     one libnftnl batch per trigger (destroy +
 *                                 add of the rule's elements), nothing else
 *   yardstick forkexec RULE-LINE  runs `nft -f -` per trigger, as knockd- or
 *                                 sshguard-style tools do
 *
 * Both listen on NFLOG group 7070, like the daemon, and exit on SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/netlink.h"
#include "config.h"
#include "engine.h"
#include "nftobj.h"

static volatile sig_atomic_t stop;
static struct nftsock nft;
static struct nlbatch batch;
static struct engine eng;
static int forkexec;

static void on_signal(int sig)
{
	stop = 1;
}

static int commit(void)
{
	const char *what;
	int r = nftsock_commit(&nft, &batch, &what);

	if (r < 0)
		fprintf(stderr, "yardstick: commit failed at %s: %s\n", what ? what : "?", strerror(-r));
	nlbatch_reset(&batch);
	return r;
}

static void run_nft(const struct rule *r, const char *host)
{
	char script[4096];
	struct strbuf sb = STRBUF_INIT(script, sizeof(script));
	int p[2], status;
	pid_t pid;

	/* nft 1.0.6 has no "destroy element": flush and add, one transaction */
	strbuf_printf(&sb, "flush map inet ipautofw fwd4\n");
	for (size_t i = 0; i < r->n_forwards; i++)
		strbuf_printf(&sb, "add element inet ipautofw fwd4 { %s . %u-%u timeout %us : %s }\n",
			      proto_name(r->forwards[i].proto), r->forwards[i].lo, r->forwards[i].hi,
			      r->timeout_s, host);
	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		execlp("nft", "nft", "-f", "-", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	if (write(p[1], script, sb.len) < 0)
		perror("yardstick: write");
	close(p[1]);
	waitpid(pid, &status, 0);
}

static void on_pkt(const struct nflog_pkt *pkt, int err, void *data)
{
	const struct rule *r = eng.cfg->rules[0];
	struct nftobj_elem e[16];
	struct fwd f = { .rule = r, .af = AF_INET };
	enum nftobj_set s;
	size_t n;
	char host[INET_ADDRSTRLEN];

	if (err < 0 || pkt->af != AF_INET)
		return;
	if (forkexec) {
		run_nft(r, inet_ntop(AF_INET, &pkt->saddr.v4, host, sizeof(host)));
		return;
	}
	f.host = pkt->saddr;
	n = nftobj_fwd_elems(&f, 0, e, &s);
	nftobj_elems(&batch, NFTOBJ_MSG_DESTROYSETELEM, s, e, n);
	nftobj_elems(&batch, NFT_MSG_NEWSETELEM, s, e, n);
	commit();
}

int main(int argc, char **argv)
{
	struct nftobj_params p = { .nflog_group = 7070, .mark = 0x10000000, .mark_mask = 0x10000000 };
	struct config *c = config_new();
	struct mnl_socket *nl;
	int err;

	if (argc != 3 || (strcmp(argv[1], "floor") && strcmp(argv[1], "forkexec"))) {
		fprintf(stderr, "usage: yardstick floor|forkexec RULE-LINE\n");
		return 2;
	}
	forkexec = !strcmp(argv[1], "forkexec");
	if (config_parse_rule_line(c, "yardstick", argv[2]) < 0) {
		fputs(c->errors.data, stderr);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	engine_init(&eng);
	rtnl_default_wan(&eng.auto_wan);
	engine_set_config(&eng, c, 0, NULL, NULL);
	nlbatch_init(&batch, time(NULL));
	if (nftsock_open(&nft) < 0)
		return 1;
	nl = nflogsock_open(7070, &err);
	if (!nl) {
		fprintf(stderr, "yardstick: NFLOG: %s\n", strerror(-err));
		return 1;
	}
	/* the same table, unowned so that nft may write to it */
	nlbatch_reset(&batch);
	nftobj_table(&batch, NFTOBJ_MSG_DESTROYTABLE, 0);
	nftobj_table(&batch, NFT_MSG_NEWTABLE, 0);
	nftobj_skeleton(&batch, &p);
	engine_write_all(&eng, &batch, 0);
	if (commit() < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct timeval tv = { 0, 200000 };
		fd_set fds;

		FD_ZERO(&fds);
		FD_SET(mnl_socket_get_fd(nl), &fds);
		if (select(mnl_socket_get_fd(nl) + 1, &fds, NULL, NULL, &tv) > 0)
			nflogsock_read(nl, 64, on_pkt, NULL);
	}
	nftobj_table(&batch, NFT_MSG_DELTABLE, 0);
	commit();
	mnl_socket_close(nl);
	nftsock_close(&nft);
	engine_fini(&eng);
	nlbatch_free(&batch);
	return 0;
}
