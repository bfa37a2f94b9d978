/*
 * Conntrack hygiene for forwardings (see lib/ctnl.h): filtered dumps on a
 * socket of its own, then deletes by exact tuple. IPv4 only: pinholes do
 * no NAT, so there is nothing to steer.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "conntrack.h"
#include "log.h"

#define LOCAL_ADDRS_MAX 64
#define DUMP_BUF 32768
#define MSG_BUF 8192

static void add_job(struct ct_jobs *j, const struct ct_job *job)
{
	for (size_t i = 0; i < j->n; i++)
		if (!memcmp(&j->v[i], job, sizeof(*job)))
			return;
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 16;
		struct ct_job *v = realloc(j->v, cap * sizeof(*v));

		if (!v)
			return;	/* best effort: the flows then end at their own timeout */
		j->v = v;
		j->cap = cap;
	}
	j->v[j->n++] = *job;
}

static void add_ranges(struct ct_jobs *j, const struct fwd *f, enum ct_match m,
		       const union inaddr *addr)
{
	for (size_t i = 0; i < f->rule->n_forwards; i++) {
		const struct portrange *p = &f->rule->forwards[i];
		struct ct_job job;

		memset(&job, 0, sizeof(job));
		job.match = m;
		job.proto = p->proto;
		job.lo = p->lo;
		job.hi = p->hi;
		if (addr)
			job.addr.v4 = addr->v4;
		if (f->rule->peer && m == CT_MATCH_ORIG_DST) {
			job.has_peer = true;
			job.peer.v4 = f->peer.v4;
		}
		add_job(j, &job);
	}
}

void ct_jobs_assigned(struct ct_jobs *j, const struct fwd *f, const union inaddr *old)
{
	if (f->af != AF_INET)
		return;
	add_ranges(j, f, CT_MATCH_ORIG_DST, NULL);
	if (old && memcmp(&old->v4, &f->host.v4, 4))
		add_ranges(j, f, CT_MATCH_REPLY_SRC, old);
}

void ct_jobs_closed(struct ct_jobs *j, const struct fwd *f)
{
	if (f->af == AF_INET)
		add_ranges(j, f, CT_MATCH_REPLY_SRC, &f->host);
}

struct mnl_socket *ctsock_open(void)
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
		    ctnl_is_stale_unnated(e, j->proto, j->lo, j->hi, j->has_peer ? &j->peer : NULL))
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

static int delete(struct mnl_socket *nl, const struct ct_entry *e)
{
	char buf[MSG_BUF] = { 0 };
	uint32_t seq = time(NULL);
	struct nlmsghdr *nlh = ctnl_delete_request(buf, seq, e);
	ssize_t n;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		return errno == ENOENT ? 0 : -errno;	/* gone already: fine */
	return 1;
}

/* IPv4 addresses of this host, loopback aside. */
static size_t local_addrs(union inaddr *out, size_t max)
{
	char buf[DUMP_BUF] = { 0 };
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	struct timeval tv = { .tv_sec = 1 };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t seq = time(NULL);
	size_t n = 0;
	ssize_t len;

	if (!nl)
		return 0;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		int rest = len;

		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
			struct nlattr *a;

			if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
				goto out;
			if (nlh->nlmsg_type != RTM_NEWADDR ||
			    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*ifa))
				continue;
			mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
				if (mnl_attr_get_type(a) != IFA_LOCAL || mnl_attr_get_payload_len(a) != 4 ||
				    n == max)
					continue;
				memcpy(&out[n].v4, mnl_attr_get_payload(a), 4);
				if ((ntohl(out[n].v4.s_addr) >> 24) != 127)
					n++;
			}
		}
	}
out:
	mnl_socket_close(nl);
	return n;
}

int ct_run(struct mnl_socket *nl, struct ct_jobs *j)
{
	union inaddr local[LOCAL_ADDRS_MAX];
	size_t n_local = 0;
	bool need_local = false;
	int deleted = 0;

	if (!j->n)
		return 0;
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].match == CT_MATCH_ORIG_DST)
			need_local = true;
	if (need_local)
		n_local = local_addrs(local, LOCAL_ADDRS_MAX);
	for (size_t i = 0; i < j->n; i++) {
		const struct ct_job *job = &j->v[i];
		const union inaddr *addrs = job->match == CT_MATCH_ORIG_DST ? local : &job->addr;
		size_t n_addrs = job->match == CT_MATCH_ORIG_DST ? n_local : 1;
		bool done = false;

		/* one dump per (match, address, protocol), serving every job that shares it */
		for (size_t k = 0; k < i && !done; k++)
			done = j->v[k].match == job->match && j->v[k].proto == job->proto &&
			       (job->match == CT_MATCH_ORIG_DST ||
				!memcmp(&j->v[k].addr, &job->addr, sizeof(job->addr)));
		for (size_t a = 0; a < n_addrs && !done; a++) {
			struct collect c = { .jobs = j, .match = job->match, .proto = job->proto,
					     .addr = &addrs[a] };
			int r = dump(nl, &c);

			if (r < 0)
				log_warn("conntrack dump: %s", strerror(-r));
			for (size_t e = 0; e < c.n; e++) {
				r = delete(nl, &c.v[e]);
				if (r > 0)
					deleted++;
				else if (r < 0)
					log_warn("conntrack delete: %s", strerror(-r));
			}
			free(c.v);
		}
	}
	j->n = 0;
	return deleted;
}
