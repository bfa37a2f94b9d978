/*
 * The daemon's side of the safety rails: following the router's addresses
 * and neighbours for the source check, logging (rate-limited) what the
 * checks and limits refuse, the route lookups the kernel cannot make in
 * its forward hook, reading the trigger path's kernel counters, and
 * putting the kernel back in step after a failed transaction. The
 * decisions themselves are in lib/ (lib/engine/trigger.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>
#include <libnftnl/object.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "manager.h"
#include "control/listen.h"
#include "control/view.h"
#include "log.h"
#include "nft/nftobj.h"
#include "kernel/rtmon.h"
#include "srcwatch.h"

static void srcw_fn(struct watch *w, uint32_t events)
{
	struct manager *m = container_of(w, struct manager, srcw_w);
	int r = srcwatch_read(m->srcw, &m->src);

	if (r < 0)
		log_warn("reading addresses and neighbours: %s", strerror(-r));
	rails_write_vetted(m, false);
}

/* interface names, a few remembered for one rewrite (a LAN's neighbours are on few interfaces) */
struct ifnames {
	uint32_t index[8];
	char name[8][IF_NAMESIZE];
	bool ok[8];
};

static const char *ifname_of(uint32_t ifindex, char *buf, void *data)
{
	struct ifnames *c = data;
	size_t i = ifindex % 8;

	if (c->index[i] != ifindex) {
		c->index[i] = ifindex;
		c->ok[i] = if_indextoname(ifindex, c->name[i]) != NULL;
	}
	if (!c->ok[i])
		return NULL;
	memcpy(buf, c->name[i], IF_NAMESIZE);
	return buf;
}

void rails_write_vetted(struct manager *m, bool force)
{
	struct ifnames names = { 0 };
	const struct nlbatch_op *op;
	int r;

	/* (with or without the kernel path: they key the per-host log budget too) */
	if (!m->srcw)
		return;
	if (force)
		m->src_digest = 0;
	nlbatch_reset(&m->batch);
	r = srccheck_write_vetted(&m->src, ifname_of, &names, &m->batch, &m->src_digest);
	if (r > 0)
		r = nftsock_commit(&m->nft, &m->batch, &op);
	nlbatch_reset(&m->batch);
	if (r < 0) {
		/* the kernel serves fewer first triggers; the daemon serves the rest: try again next change */
		m->src_digest = ~0ull;
		log_warn("writing the vetted trigger sources: %s", strerror(-r));
	}
}

int rails_open(struct manager *m)
{
	srccheck_init(&m->src);
	m->src.vet_onlink_only = !kcaps_rpf_in_kernel(view_caps(&m->eng));
	if (m->src.vet_onlink_only) {
		struct timeval tv = { .tv_usec = 200000 };

		m->rtq = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
		if (m->rtq && mnl_socket_bind(m->rtq, 0, MNL_SOCKET_AUTOPID) < 0) {
			mnl_socket_close(m->rtq);
			m->rtq = NULL;
		}
		if (m->rtq)
			setsockopt(mnl_socket_get_fd(m->rtq), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		else
			log_warn("cannot open a routing socket (%m): triggers the kernel does not "
				 "serve are refused, as their route back cannot be checked");
	}
	m->srcw = srcwatch_open(&m->src);
	if (!m->srcw) {
		int r = -errno;

		/* what a dump that failed half-way filled in: a host is then an address or /64 */
		srccheck_clear(&m->src);
		return r;
	}
	rails_write_vetted(m, true);
	return loop_add(m->loop, &m->srcw_w, mnl_socket_get_fd(m->srcw), srcw_fn, EPOLLIN);
}

void rails_close(struct manager *m)
{
	if (m->srcw)
		mnl_socket_close(m->srcw);
	if (m->rtq)
		mnl_socket_close(m->rtq);
	m->srcw = m->rtq = NULL;
	srccheck_clear(&m->src);
}

static bool ratelimit(struct logrl *rl, const char *what)
{
	if (!log_ratelimit(&rl->count, &rl->window, now_ms(), &rl->suppressed))
		return false;
	if (rl->suppressed) {
		log_info("(%u %s messages suppressed)", rl->suppressed, what);
		rl->suppressed = 0;
	}
	return true;
}

void rails_forged(struct manager *m, const struct nflog_pkt *pkt, const struct trigger_result *res,
		  const char *indev)
{
	char src[INET6_ADDRSTRLEN], hw[3 * SRCCHECK_HWADDR_MAX + 1] = "";
	struct strbuf sb = STRBUF_INIT(hw, sizeof(hw));

	/* what the kernel's trigger rule caught it counted (and logged only some of) */
	if (!res->caught)
		m->cnt.forged++;
	events_forged(m, pkt, srccheck_reason(res->forged), indev);
	if (!ratelimit(&m->rl_forged, "forged trigger"))
		return;
	for (size_t i = 0; i < pkt->hwlen; i++)
		strbuf_printf(&sb, "%s%02x", i ? ":" : "", pkt->hwaddr[i]);
	inet_ntop(pkt->af, &pkt->saddr, src, sizeof(src));
	log_warn("forged trigger ignored: %u/%s from %s%s%s%s on %s: %s", pkt->dport,
		 proto_name(pkt->proto), src, hw[0] ? " (" : "", hw, hw[0] ? ")" : "",
		 indev[0] ? indev : "?", srccheck_reason(res->forged));
}

/* One RTM_GETROUTE on the daemon's routing socket, per trigger. */
bool rails_route_back(const struct nflog_pkt *pkt, void *data)
{
	static char buf[8192] __attribute__((aligned(8)));
	struct manager *m = data;
	uint32_t seq = ++m->rtq_seq;
	struct nlmsghdr *req;

	if (!m->rtq)
		return false;
	req = rtmon_route_request(buf, pkt->af, &pkt->saddr, seq);
	if (mnl_socket_sendto(m->rtq, req, req->nlmsg_len) < 0)
		return false;
	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = mnl_socket_recvfrom(m->rtq, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = n;

		if (n < 0)
			return false;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (nlh->nlmsg_seq == seq)
				return rtmon_route_back_ok(nlh, pkt->indev) == 1;
	}
	return false;
}

void rails_refused(struct manager *m, const struct trigger_event *ev)
{
	const struct fwtable *t = view_table(&m->eng);
	char host[INET6_ADDRSTRLEN], ll[HOSTID_LLADDR_LEN], who[HOSTID_LLADDR_LEN + 16] = "";

	if (!ratelimit(&m->rl_refused, "refused trigger"))
		return;
	inet_ntop(ev->af, &ev->host, host, sizeof(host));
	if (ev->id.kind == HOSTID_LINK)
		snprintf(who, sizeof(who), " (machine %s)", hostid_lladdr(&ev->id, ll));
	else if (ev->id.kind == HOSTID_ADDR6)
		snprintf(who, sizeof(who), " (its /64)");
	if (ev->change == FWD_OVER_LIMIT)
		log_warn("%s: trigger from %s refused: %zu forwardings active (max-forwardings %zu)",
			 ev->rule->name, host, t->n_dynamic, t->max_forwardings);
	else
		log_warn("%s: trigger from %s refused: the host%s holds %u forwardings (max-per-host %u%s)",
			 ev->rule->name, host, who, fwtable_host_count(t, ev->rule, &ev->id),
			 ev->rule->max_per_host ? ev->rule->max_per_host : t->max_per_host,
			 ev->rule->max_per_host ? ", this rule's" : "");
}

void rails_resync(struct manager *m, uint64_t now)
{
	const struct nlbatch_op *op;
	int r;

	m->cnt.resyncs++;
	nlbatch_reset(&m->batch);
	r = tablewrite_all(&m->eng, &m->batch, now);
	if (r == 0)
		r = learn_write_all(&m->learn, &m->batch, now);
	if (r == 0)
		r = nftsock_commit(&m->nft, &m->batch, &op);
	nlbatch_reset(&m->batch);
	if (r == 0) {
		log_warn("after a failed transaction, every forwarding was written again (%zu)",
			 manager_n_forwardings(m));
		tsync_event(&m->sync, TSYNC_EV_RESYNCED, now);
		return;
	}
	/* the table itself may be what is wrong: the end of the turn re-creates it */
	log_err("rewriting the forwardings failed: %s; re-creating the table", strerror(-r));
	tsync_event(&m->sync, TSYNC_EV_RESYNC_FAILED, now);
}

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftobj_ctr *c = data;
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (o && nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER &&
	    nftnl_obj_is_set(o, NFTNL_OBJ_NAME)) {
		for (int i = 0; i < NFTOBJ__COUNTERS; i++)
			if (!strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_NAME), nftobj_counter_name(i))) {
				c[i].packets = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
				c[i].bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
			}
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

int rails_kernel_counters(struct nftobj_ctr ret[NFTOBJ__COUNTERS])
{
	struct nftobj_ctr v[NFTOBJ__COUNTERS] = { { 0 } };
	int r = nft_dump_table(NFT_MSG_GETOBJ, NFPROTO_INET, NFTOBJ_TABLE, obj_cb, v);

	if (r >= 0)
		memcpy(ret, v, sizeof(v));
	return r < 0 ? r : 0;
}

/*
 * /proc/self/net/NAME whole, in *RET (it is generated as it is read; a
 * router has few sockets). The daemon's own: the unit's ProcSubset=pid
 * leaves no /proc/net.
 */
static int read_proc(const char *name, char **ret, size_t *ret_len)
{
	char path[64], *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/self/net/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		if (len + 4096 > cap) {
			char *p = cap >= (16u << 20) ? NULL : realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!p) {
				r = cap >= (16u << 20) ? -EFBIG : -ENOMEM;
				break;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n > 0)
			len += n;
		else if (n < 0)
			r = -errno;
	} while (n > 0);
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

struct wan_ctx {
	const struct srccheck *src;
	struct iflist wan;
};

static bool is_wan_addr(int af, const union inaddr *a, void *data)
{
	const struct wan_ctx *w = data;

	for (size_t i = 0; i < w->src->n_addrs; i++) {
		const struct srccheck_addr *x = &w->src->addrs[i];
		char name[IF_NAMESIZE];

		if (x->af == af && !memcmp(&x->addr, a, af == AF_INET ? 4 : 16) &&
		    if_indextoname(x->ifindex, name) && iflist_match(&w->wan, name))
			return true;
	}
	return false;
}

int rails_warnings(struct manager *m, struct dynbuf *out)
{
	static const struct {
		const char *name;
		uint8_t proto;
		int af;
	} files[] = {
		{ "tcp", IPPROTO_TCP, AF_INET }, { "tcp6", IPPROTO_TCP, AF_INET6 },
		{ "udp", IPPROTO_UDP, AF_INET }, { "udp6", IPPROTO_UDP, AF_INET6 },
	};
	struct wan_ctx w = { .src = &m->src };
	struct listen_set s = { 0 };
	const char *failed = NULL;
	int n = 0, r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(files) && r >= 0; i++) {
		char *text = NULL;
		size_t len = 0;

		r = read_proc(files[i].name, &text, &len);
		if (r == -ENOENT && files[i].af == AF_INET6)
			r = 0;	/* a kernel without IPv6 */
		else if (r == 0)
			r = listen_parse(&s, text, len, files[i].proto, files[i].af);
		if (r < 0)
			failed = files[i].name;
		free(text);
	}
	if (r < 0) {
		dynbuf_printf(out, "cannot read /proc/self/net/%s (%s): forward ranges over the "
			      "router's own ports are not checked\n", failed, strerror(-r));
		if (!m->proc_failed)
			log_warn("cannot read /proc/self/net/%s (%s): forward ranges over the "
				 "router's own ports are not checked", failed, strerror(-r));
		m->proc_failed = true;
		n = 1;
	} else if (engine_all_wan(&m->eng, &w.wan) == 0) {
		n = listen_warnings(&m->eng, &s, is_wan_addr, &w, out);
	}
	iflist_clear(&w.wan);
	listen_clear(&s);
	return n;
}
