/*
 * ipautofwctl trace HOST: one trace at a time, streamed to the client that
 * asked for it. Its chain and sets go into our table (lib/nft/nfttrace.c:
 * nfttrace_add), the kernel's trace messages come in on a socket of
 * their own (NFNLGRP_NFTRACE), lib/kernel/trace.c tells them in words, and the
 * daemon's own events about HOST's triggers are added to them. It ends
 * after its time, when the client goes or the daemon stops; the kernel's
 * element timeouts end the marking even if the daemon does not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "control.h"
#include "control/event.h"
#include "control/view.h"
#include "log.h"
#include "manager.h"
#include "netlink.h"
#include "nft/nftobj.h"
#include "nft/nfttrace.h"
#include "kernel/trace.h"
#include "tracerun.h"

/* trace messages read in one second at most; beyond, they are dropped and counted */
#define TRACE_MSGS_PER_S 2000

struct tracerun {
	struct control *ctl;
	struct client *c;
	struct tracer t;
	struct mnl_socket *nl;
	struct watch w;
	struct iflist wan;
	bool json;
	uint64_t end_ms;
	uint64_t sec, msgs;
	uint64_t dropped_msgs;
	char host[INET6_ADDRSTRLEN];
};

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int commit_objects(struct manager *m, bool add, int af, const union inaddr *host, uint32_t secs)
{
	struct nlbatch b;
	const struct nlbatch_op *op = NULL;
	int r;

	nlbatch_init(&b, (uint32_t)now_ms() ^ 0x5a5a0000u);
	nlbatch_reset(&b);
	r = add ? nfttrace_add(&b, af, host, view_config(&m->eng), secs) : nfttrace_del(&b);
	if (r == 0)
		r = nftsock_commit(&m->nft, &b, &op);
	if (r < 0 && add)
		log_warn("trace: %s: %s", op ? op->what : "building the batch", strerror(-r));
	nlbatch_free(&b);
	return r;
}

struct rule_find {
	const char *chain;
	uint64_t handle;
	char *buf;
	size_t size;
};

static int describe_expr(struct nftnl_expr *e, void *data)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	struct rule_find *f = data;

	if (!strcmp(name, "reject"))
		snprintf(f->buf, f->size, "reject");
	else if (!f->buf[0] && !strcmp(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT) &&
		 nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NF_DROP)
		snprintf(f->buf, f->size, "drop");
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_find *f = data;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    !strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), f->chain) &&
	    nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE) == f->handle)
		nftnl_expr_foreach(r, describe_expr, f);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* What the rule that dropped a packet does: "reject" or "drop", from the kernel's ruleset. */
static void describe_rule(uint32_t family, const char *table, const char *chain, uint64_t handle,
			  char *buf, size_t size, void *data)
{
	struct rule_find f = { .chain = chain, .handle = handle, .buf = buf, .size = size };

	buf[0] = '\0';
	nft_dump_table(NFT_MSG_GETRULE, family, table, rule_cb, &f);
}

static void send_text(struct tracerun *tr, struct dynbuf *out)
{
	if (out->len)
		control_stream(tr->ctl, tr->c, out->data, out->len);
	dynbuf_free(out);
}

static uint64_t due(struct tracerun *tr, uint64_t now)
{
	struct dynbuf out = { 0 };
	uint64_t next;

	tr->t.cfg = view_config(&tr->ctl->m->eng);
	next = tracer_due(&tr->t, now, tr->json, describe_rule, NULL, &out);
	send_text(tr, &out);
	return next;
}

static void read_cb(struct watch *w, uint32_t events)
{
	struct tracerun *tr = container_of(w, struct tracerun, w);
	char buf[65536];

	for (int reads = 0; reads < 64; reads++) {
		ssize_t n = recv(mnl_socket_get_fd(tr->nl), buf, sizeof(buf), MSG_DONTWAIT);
		uint64_t now = now_ms();
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left;

		if (n < 0) {
			if (errno == ENOBUFS)
				tr->dropped_msgs++;
			else
				break;
			continue;
		}
		if (now / 1000 != tr->sec) {
			tr->sec = now / 1000;
			tr->msgs = 0;
		}
		for (left = (int)n; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			struct trace_event ev;

			if (++tr->msgs > TRACE_MSGS_PER_S) {
				tr->dropped_msgs++;
				continue;
			}
			if (trace_decode(nlh, &ev) < 0)
				continue;
			if (ev.iif)
				ifname_cached(ev.iif, ev.iifname);
			if (ev.oif)
				ifname_cached(ev.oif, ev.oifname);
			tracer_feed(&tr->t, &ev, now, wall_ms());
		}
	}
}

static struct mnl_socket *open_socket(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	int group = NFNLGRP_NFTRACE;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		int err = errno;

		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	nlsock_set_buf(nl, SO_RCVBUFFORCE, SO_RCVBUF, 4 << 20);
	return nl;
}

int tracerun_start(struct control *ctl, struct client *c, int af, const union inaddr *host,
		   uint32_t secs, bool json, struct dynbuf *err)
{
	struct manager *m = ctl->m;
	struct tracerun *tr;
	int r;

	if (ctl->trace) {
		dynbuf_printf(err, "a trace of %s is running; one at a time\n", ctl->trace->host);
		return -EBUSY;
	}
	tr = calloc(1, sizeof(*tr));
	if (!tr || tracer_init(&tr->t, af, host) < 0) {
		free(tr);
		dynbuf_printf(err, "out of memory\n");
		return -ENOMEM;
	}
	tr->ctl = ctl;
	tr->c = c;
	tr->json = json;
	tr->t.own_table = NFTOBJ_TABLE;
	tr->t.cfg = view_config(&m->eng);
	engine_all_wan(&m->eng, &tr->wan);
	tr->t.wan = &tr->wan;
	inet_ntop(af, host, tr->host, sizeof(tr->host));
	tr->nl = open_socket();
	if (!tr->nl) {
		r = -errno;
		dynbuf_printf(err, "cannot listen to the kernel's trace: %s\n", strerror(-r));
		goto fail;
	}
	/* what a trace cut short by a re-exec left (inert: its elements timed out) */
	commit_objects(m, false, 0, NULL, 0);
	/* a second more in the kernel than here: the last packets still get their lines */
	r = commit_objects(m, true, af, host, secs + 1);
	if (r < 0) {
		dynbuf_printf(err, "cannot add the trace rules to table inet %s: %s\n", NFTOBJ_TABLE,
			      strerror(-r));
		goto fail;
	}
	r = loop_add(ctl->loop, &tr->w, mnl_socket_get_fd(tr->nl), read_cb, EPOLLIN);
	if (r < 0) {
		commit_objects(m, false, 0, NULL, 0);
		dynbuf_printf(err, "%s\n", strerror(-r));
		goto fail;
	}
	tr->end_ms = now_ms() + (uint64_t)secs * 1000;
	ctl->trace = tr;
	log_info("trace of %s for %us started", tr->host, secs);
	return 0;
fail:
	if (tr->nl)
		mnl_socket_close(tr->nl);
	iflist_clear(&tr->wan);
	tracer_fini(&tr->t);
	free(tr);
	return r;
}

static void release(struct watch *w)
{
	struct tracerun *tr = container_of(w, struct tracerun, w);

	mnl_socket_close(tr->nl);
	tracer_fini(&tr->t);
	iflist_clear(&tr->wan);
	free(tr);
}

void tracerun_stop(struct control *ctl, const char *why)
{
	struct tracerun *tr = ctl->trace;
	struct dynbuf out = { 0 };

	if (!tr)
		return;
	ctl->trace = NULL;
	commit_objects(ctl->m, false, 0, NULL, 0);
	if (tr->c) {
		tr->t.cfg = view_config(&ctl->m->eng);
		tracer_due(&tr->t, UINT64_MAX - TRACE_QUIET_MS, tr->json, describe_rule, NULL, &out);
		if (tr->json)
			dynbuf_printf(&out, "{\"event\": \"trace_ended\", \"host\": \"%s\", \"reason\": \"%s\", "
				      "\"shown\": %llu, \"not_shown\": %llu}\n", tr->host, why,
				      (unsigned long long)tr->t.shown,
				      (unsigned long long)(tr->t.not_shown + tr->dropped_msgs));
		else
			dynbuf_printf(&out, "trace of %s ended (%s): %llu packet%s told, %llu not "
				      "(more than %u a second, or too many at once)\n", tr->host, why,
				      (unsigned long long)tr->t.shown, tr->t.shown == 1 ? "" : "s",
				      (unsigned long long)(tr->t.not_shown + tr->dropped_msgs),
				      NFTTRACE_RATE);
		send_text(tr, &out);
		control_end_stream(ctl, tr->c);
	}
	log_info("trace of %s ended (%s)", tr->host, why);
	loop_del(ctl->loop, &tr->w, release);
}

void tracerun_close(struct control *ctl)
{
	struct tracerun *tr = ctl->trace;

	if (!tr)
		return;
	ctl->trace = NULL;
	/* after manager_close the table, trace chain and all, is gone with the socket */
	if (ctl->m->nft.nl)
		commit_objects(ctl->m, false, 0, NULL, 0);
	/* freed with the loop's other removed watches (loop_fini at the latest), never before */
	loop_del(ctl->loop, &tr->w, release);
}

void tracerun_client_gone(struct control *ctl)
{
	if (ctl->trace) {
		ctl->trace->c = NULL;
		tracerun_stop(ctl, "the client went");
	}
}

uint64_t tracerun_tick(struct control *ctl, uint64_t now)
{
	struct tracerun *tr = ctl->trace;
	uint64_t next;

	if (!tr)
		return UINT64_MAX;
	if (now >= tr->end_ms) {
		tracerun_stop(ctl, "its time is up");
		return UINT64_MAX;
	}
	next = due(tr, now);
	return next < tr->end_ms ? next : tr->end_ms;
}

void tracerun_event(struct control *ctl, const struct event *ev)
{
	struct dynbuf line = { 0 };
	const char *p;

	/* what a trigger led to; expiries and the like are no packet's doing */
	if (!ctl->trace || !ev->af || (ev->kind != EVENT_OPENED && ev->kind != EVENT_REFRESHED &&
				       ev->kind != EVENT_TAKEN_OVER && ev->kind != EVENT_REFUSED &&
				       ev->kind != EVENT_FORGED))
		return;
	event_format(ev, false, &line);
	/* "HH:MM:SS.mmm opened rtsp: ..." without the time and the newline */
	p = line.data ? strchr(line.data, ' ') : NULL;
	if (p) {
		char what[TRACE_NOTE_MAX];

		snprintf(what, sizeof(what), "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
		tracer_note(&ctl->trace->t, ev->af, &ev->host, what);
	}
	dynbuf_free(&line);
}
