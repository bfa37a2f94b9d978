/*
 * Conntrack hygiene for forwardings (see lib/kernel/ctnl.h): filtered dumps on a
 * socket of its own, then deletes by exact tuple. IPv4 only: pinholes do
 * no NAT, so there is nothing to steer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "conntrack.h"
#include "netlink.h"
#include "log.h"

#define LOCAL_ADDRS_MAX 64
#define ROUND_GAP_US 100000
#define DUMP_BUF 32768
#define MSG_BUF 8192

static struct mnl_socket *ctsock_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	struct timeval tv = { .tv_sec = 1 };

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return nl;
}

struct collect {
	struct ct_entry *v;
	size_t n;
	size_t cap;
	const struct ct_jobs *jobs;
	enum ct_match match;
	uint8_t proto;
	const union inaddr *addr;
};

static bool wanted(const struct collect *c, const struct ct_entry *e)
{
	for (size_t i = 0; i < c->jobs->n; i++) {
		const struct ct_job *j = &c->jobs->v[i];

		if (j->match != c->match || j->proto != c->proto)
			continue;
		if (j->match == CT_MATCH_ORIG_DST &&
		    ctnl_is_stale_unnated(e, j->proto, j->lo, j->hi, NULL))
			return true;
		if (j->match == CT_MATCH_REPLY_SRC && !memcmp(&j->addr.v4, &c->addr->v4, 4) &&
		    ctnl_is_dnat_to(e, j->proto, j->lo, j->hi, &j->addr))
			return true;
	}
	return false;
}

static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	struct ct_entry e;

	if (ctnl_parse_entry(nlh, &e) < 0 || !wanted(c, &e))
		return MNL_CB_OK;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct ct_entry *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return MNL_CB_OK;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = e;
	return MNL_CB_OK;
}

static int dump(struct mnl_socket *nl, struct collect *c)
{
	char buf[DUMP_BUF] = { 0 };
	uint32_t seq = time(NULL) ^ (uint32_t)c->n;
	struct nlmsghdr *nlh = ctnl_dump_request(buf, seq, AF_INET, c->proto, c->match, c->addr);
	ssize_t n;
	int r = MNL_CB_OK;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), entry_cb, c);
		if (r <= MNL_CB_STOP)
			break;
	}
	return n < 0 || r < 0 ? -errno : 0;
}

/* Delete ENTRIES by exact tuple: every request in one send, then the acks. */
static int delete_all(struct mnl_socket *nl, const struct ct_entry *entries, size_t n)
{
	static char buf[DUMP_BUF] __attribute__((aligned(8)));
	uint32_t seq0 = time(NULL) << 8;
	int deleted = 0;

	for (size_t i = 0; i < n;) {
		size_t len = 0, sent = 0, acked = 0;

		while (i < n && len + 512 <= sizeof(buf)) {
			struct nlmsghdr *nlh = ctnl_delete_request(buf + len, seq0 + i, &entries[i]);

			len += NLMSG_ALIGN(nlh->nlmsg_len);
			i++;
			sent++;
		}
		if (mnl_socket_sendto(nl, buf, len) < 0)
			return deleted ? deleted : -errno;
		while (acked < sent) {
			ssize_t got = mnl_socket_recvfrom(nl, buf, sizeof(buf));
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
			int rest = got;

			if (got < 0)
				return deleted ? deleted : -errno;
			for (; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

				if (nlh->nlmsg_type != NLMSG_ERROR ||
				    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*err))
					continue;
				acked++;
				/* ENOENT: gone by itself meanwhile, which is fine */
				if (!err->error)
					deleted++;
			}
		}
	}
	return deleted;
}

struct addrs {
	union inaddr *v;
	size_t n;
	size_t max;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addrs *a = data;
	struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct ifaddrmsg))
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(struct ifaddrmsg)) {
		if (mnl_attr_get_type(attr) != IFA_LOCAL || mnl_attr_get_payload_len(attr) != 4 ||
		    a->n == a->max)
			continue;
		memcpy(&a->v[a->n].v4, mnl_attr_get_payload(attr), 4);
		if ((ntohl(a->v[a->n].v4.s_addr) >> 24) != 127)
			a->n++;
	}
	return MNL_CB_OK;
}

/* IPv4 addresses of this host, loopback aside. */
static size_t local_addrs(union inaddr *out, size_t max)
{
	struct addrs a = { out, 0, max };

	nl_route_dump(RTM_GETADDR, sizeof(struct ifaddrmsg), AF_INET, addr_cb, &a);
	return a.n;
}

static int ct_run(struct mnl_socket *nl, struct ct_jobs *j)
{
	union inaddr local[LOCAL_ADDRS_MAX];
	size_t n_local = 0;
	bool need_local = false;
	int deleted = 0;

	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].match == CT_MATCH_ORIG_DST)
			need_local = true;
	if (need_local)
		n_local = local_addrs(local, LOCAL_ADDRS_MAX);
	/* one dump per (match, address, protocol) serves every job that shares it */
	while (j->n) {
		struct ct_job first = j->v[0];
		const union inaddr *addrs = first.match == CT_MATCH_ORIG_DST ? local : &first.addr;
		size_t n_addrs = first.match == CT_MATCH_ORIG_DST ? n_local : 1;

		for (size_t a = 0; a < n_addrs; a++) {
			struct collect c = { .jobs = j, .match = first.match, .proto = first.proto,
					     .addr = &addrs[a] };
			int r = dump(nl, &c);

			if (r < 0)
				log_warn("conntrack dump: %s", strerror(-r));
			r = delete_all(nl, c.v, c.n);
			if (r < 0)
				log_warn("conntrack delete: %s", strerror(-r));
			else
				deleted += r;
			free(c.v);
		}
		for (size_t k = 0; k < j->n;) {
			const struct ct_job *o = &j->v[k];

			if (o->match == first.match && o->proto == first.proto &&
			    (first.match == CT_MATCH_ORIG_DST ||
			     !memcmp(&o->addr, &first.addr, sizeof(first.addr)))) {
				j->v[k] = j->v[--j->n];
				continue;
			}
			k++;
		}
	}
	return deleted;
}

struct ct_worker {
	pthread_t thread;
	int pipe[2];
	struct mnl_socket *nl;
	uint64_t deleted;	/* atomic */
	uint64_t dropped;	/* atomic: jobs the pipe had no room for */
};

static void *worker_main(void *arg)
{
	struct ct_worker *w = arg;
	struct ct_jobs jobs = { 0 };
	struct ct_job job;

	/*
	 * Hygiene, not the forwarding itself: it yields the CPU to the
	 * trigger path (a dump walks the whole conntrack table; on a small
	 * router it would share a core with the next trigger's batch). Not
	 * SCHED_IDLE: on a busy router the streams must still follow.
	 */
	setpriority(PRIO_PROCESS, gettid(), 19);
	for (;;) {
		ssize_t n = read(w->pipe[0], &job, sizeof(job));
		int r;

		if (n == 0)
			break;	/* the daemon is stopping */
		if (n != sizeof(job))
			continue;
		ct_jobs_add(&jobs, &job);
		/*
		 * At most one round of dumps per 100 ms: each walks the kernel's
		 * whole table, and under a flood of new forwardings the waiting
		 * lets one round serve them all. A stream still follows its
		 * forwarding well within a second.
		 */
		usleep(ROUND_GAP_US);
		/* gather what else is queued: one round of dumps serves it all */
		fcntl(w->pipe[0], F_SETFL, O_NONBLOCK);
		while (read(w->pipe[0], &job, sizeof(job)) == sizeof(job))
			ct_jobs_add(&jobs, &job);
		fcntl(w->pipe[0], F_SETFL, 0);
		r = ct_run(w->nl, &jobs);
		if (r > 0)
			__atomic_add_fetch(&w->deleted, r, __ATOMIC_RELAXED);
	}
	free(jobs.v);
	return NULL;
}

struct ct_worker *ct_worker_start(void)
{
	struct ct_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->nl = ctsock_open();
	if (!w->nl || pipe2(w->pipe, O_CLOEXEC) < 0)
		goto fail_sock;
	/* the daemon's end never blocks: a full pipe drops jobs (counted) */
	fcntl(w->pipe[1], F_SETFL, O_NONBLOCK);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		goto fail_pipe;
	return w;
fail_pipe:
	close(w->pipe[0]);
	close(w->pipe[1]);
fail_sock:
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w);
	return NULL;
}

_Static_assert(sizeof(struct ct_job) <= PIPE_BUF, "a job must fit one atomic pipe write");

void ct_worker_submit(struct ct_worker *w, struct ct_jobs *j)
{
	/* whole jobs, one write per pipe-atomic chunk: a full pipe takes none of a chunk */
	const size_t per_write = PIPE_BUF / sizeof(j->v[0]);

	for (size_t i = 0; i < j->n; i += per_write) {
		size_t n = j->n - i < per_write ? j->n - i : per_write;

		if (write(w->pipe[1], &j->v[i], n * sizeof(j->v[0])) != (ssize_t)(n * sizeof(j->v[0])))
			__atomic_add_fetch(&w->dropped, n, __ATOMIC_RELAXED);
	}
	j->n = 0;
}

uint64_t ct_worker_deleted(const struct ct_worker *w)
{
	return __atomic_load_n(&w->deleted, __ATOMIC_RELAXED);
}

void ct_worker_stop(struct ct_worker *w)
{
	if (!w)
		return;
	close(w->pipe[1]);
	pthread_join(w->thread, NULL);
	close(w->pipe[0]);
	mnl_socket_close(w->nl);
	free(w);
}
