/*
 * The manager; see manager.h. Everything that changes the daemon's state
 * goes through it, and each change ends in one nf_tables transaction: a
 * rule change or a flush at once (changes.c), triggers at the end of the
 * loop turn (here, with the sockets, the turn's end, start and stop).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "control/event.h"
#include "control/handover.h"
#include "control/view.h"
#include "log.h"
#include "manager.h"
#include "nft/nftobj.h"
#include "notify.h"
#include "engine/tsync.h"

#define NFLOG_READS_PER_TURN 64

static const char *fmt_addr(int af, const union inaddr *a, char *buf)
{
	return inet_ntop(af, a, buf, INET6_ADDRSTRLEN);
}

static void describe_forwards(const struct rule *r, char *buf, size_t size)
{
	portlist_format(r->forwards, r->n_forwards, buf, size);
}

static void on_expired(const struct fwd *f, void *data)
{
	struct manager *m = data;
	char host[INET6_ADDRSTRLEN], fwds[256];

	describe_forwards(f->rule, fwds, sizeof(fwds));
	log_info("%s: forwarding %s to %s expired", f->rule->name, fwds, fmt_addr(f->af, &f->host, host));
	events_fwd(m, EVENT_EXPIRED, f);
}

static void on_assigned(const struct fwd *f, const union inaddr *old, void *data)
{
	struct manager *m = data;

	ct_jobs_assigned(&m->ct_jobs, f, old);
}

/* Send the batch; a failure is logged here, once, and the kernel rewritten later. */
static int commit(struct manager *m, const char *why)
{
	const struct nlbatch_op *op;
	int r = nftsock_commit(&m->nft, &m->batch, &op);

	if (r < 0) {
		m->cnt.netlink_errors++;
		log_err("nftables %s failed%s%s: %s", why, op ? " at " : "", op ? op->what : "",
			strerror(-r));
		/* the daemon's view moved on without the kernel: never leave them apart */
		tsync_event(&m->sync, TSYNC_EV_COMMIT_FAILED, now_ms());
	}
	else
		m->state_dirty = true;
	nlbatch_reset(&m->batch);
	return r;
}

/*
 * A turn's update, R messages built (or -errno building them): sent, and
 * the triggers' latency taken once it is in the kernel.
 */
static void commit_update(struct manager *m, int r)
{
	bool written;

	if (r < 0) {
		log_err("building nftables update: %s", strerror(-r));
		nlbatch_reset(&m->batch);
		tsync_event(&m->sync, TSYNC_EV_COMMIT_FAILED, now_ms());
	}
	/* committed before the clock is read (an argument's order of evaluation is the compiler's) */
	written = r > 0 && commit(m, "update") == 0;
	latency_turn_end(&m->lat, written, now_us());
}

/* Write what changed (a reload, a flush, runtime rules): one transaction. */
int manager_write_changes(struct manager *m, const char *why)
{
	int r = tablewrite_pending(&m->eng, &m->batch, now_ms(), on_assigned, m);

	if (r < 0) {
		nlbatch_reset(&m->batch);
		return r;
	}
	return r ? commit(m, why) : 0;
}

void manager_notify_status(struct manager *m, bool force)
{
	size_t rules = manager_n_rules(m), fwds = manager_n_forwardings(m);

	if (!force && rules == m->notified_rules && fwds == m->notified_fwds)
		return;
	m->notified_rules = rules;
	m->notified_fwds = fwds;
	notify_send("STATUS=%zu rule%s, %zu forwarding%s", rules, rules == 1 ? "" : "s", fwds,
		    fwds == 1 ? "" : "s");
}

static void refresh_wan(struct manager *m)
{
	struct iflist wan = { 0 };
	int r = rtnl_default_wan(&wan);

	if (r < 0) {
		log_warn("cannot read default routes: %s", strerror(-r));
	} else if (engine_set_auto_wan(&m->eng, &wan) && engine_uses_auto_wan(&m->eng)) {
		char names[256] = "";
		struct strbuf sb = STRBUF_INIT(names, sizeof(names));

		for (size_t i = 0; i < wan.n; i++)
			strbuf_printf(&sb, "%s%s", i ? "," : "", wan.names[i]);
		log_info("WAN interfaces (default routes): %s", wan.n ? names : "none");
		if (tablewrite_wan(&m->eng, &m->batch) == 0)
			commit(m, "WAN update");
		else
			nlbatch_reset(&m->batch);
	}
	iflist_clear(&wan);
}

/* What a trigger changed, said (log, live events, learn mode) after the kernel has it. */
static void tell_event(struct manager *m, const struct trigger_event *ev)
{
	const struct fwd *f = ev->fwd;
	char host[INET6_ADDRSTRLEN], old[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN + 8] = "";
	char fwds[256], dur[32];

	events_trigger(m, ev);
	learnd_event(m, ev);
	if (ev->change == FWD_REFRESHED) {
		log_debug("%s: refreshed for %s", f->rule->name, fmt_addr(ev->af, &ev->host, host));
		return;
	}
	if (ev->change == FWD_OVER_HOST_LIMIT || ev->change == FWD_OVER_LIMIT) {
		rails_refused(m, ev);
		return;
	}
	if (!log_ratelimit(&m->rl_fwd.count, &m->rl_fwd.window, now_ms(), &m->rl_fwd.suppressed))
		return;
	if (m->rl_fwd.suppressed) {
		log_info("(%u forwarding messages suppressed)", m->rl_fwd.suppressed);
		m->rl_fwd.suppressed = 0;
	}
	fmt_addr(ev->af, &ev->host, host);
	describe_forwards(f->rule, fwds, sizeof(fwds));
	duration_format(f->rule->timeout_s, dur, sizeof(dur));
	if (f->rule->peer) {
		strcpy(peer, " peer ");
		fmt_addr(f->af, &f->peer, peer + 6);
	}
	if (ev->change == FWD_OPENED)
		log_info("%s: forwarding %s to %s%s for %s%s", f->rule->name, fwds, host, peer, dur,
			 f->replicated ? " (a trigger the other router of the pair served)" : "");
	else if (ev->change == FWD_TAKEN_OVER)
		log_info("%s: forwarding %s taken over by %s from %s%s%s", f->rule->name, fwds, host,
			 fmt_addr(f->af, &ev->old_host, old), peer,
			 f->replicated ? " (a trigger the other router of the pair served)" : "");
	else if (ev->change == FWD_REFUSED)
		log_info("%s: exclusive, held by %s; trigger from another host ignored", f->rule->name,
			 fmt_addr(f->af, &ev->old_host, old));
}

/* Commit what this read's triggers changed, then say what it was. */
static void write_triggers(struct manager *m)
{
	/* a table being re-created gets everything at the end of the turn (said now, written then) */
	if (tsync_writable(&m->sync))
		commit_update(m, tablewrite_pending(&m->eng, &m->batch, now_ms(), on_assigned, m));
	/* what the kernel opened itself changed the forwardings too, with nothing to commit */
	if (m->told_later.n)
		m->state_dirty = true;
	for (size_t i = 0; i < m->told_later.n; i++)
		tell_event(m, &m->told_later.v[i]);
	m->told_later.n = 0;
}

/*
 * A trigger's events wait in m->told_later until the read's forwardings
 * are committed: a log line, a monitor event or learn mode's bookkeeping
 * on the way would delay the forwarding a trigger's peer is about to use.
 */
static void on_nflog(const struct nflog_pkt *pkt, int err, void *data)
{
	struct manager *m = data;
	char indev[IF_NAMESIZE] = "", outdev[IF_NAMESIZE] = "";
	uint64_t in_hand_us = now_us();
	struct trigger_in in = { .pkt = pkt, .indev = indev, .outdev = outdev, .src = &m->src,
				 .route_back = rails_route_back, .data = m, .clock = now_ms };
	struct trigger_result res;
	int r;

	if (pkt->has_seq) {
		uint32_t lost = nflog_seq_lost(&m->seq, pkt->seq);

		m->cnt.nflog_lost += lost;
		/* what the kernel opened for the lost triggers is unknown here: rewrite it all */
		if (lost && view_kernel_path(&m->eng))
			tsync_event(&m->sync, TSYNC_EV_LOST, now_ms());
	}
	if (err < 0 || pkt->group != m->opt.group) {
		m->cnt.nflog_bad++;
		return;
	}
	/* without the rtnetlink watch nobody says when links change: no cache then */
	if (!m->rtnl)
		ifname_cache_flush();
	if (!ifname_cached(pkt->indev, indev) || !ifname_cached(pkt->outdev, outdev))
		return;
	r = trigger_decide(&m->eng, &in, &m->told_later, &res);
	if ((r < 0 || res.untold) &&
	    log_ratelimit(&m->rl_nomem.count, &m->rl_nomem.window, now_ms(), &m->rl_nomem.suppressed))
		log_err("out of memory deciding a trigger: %s", r < 0 ? "rules left undecided" :
			"forwarding changes made but not told to monitors");
	if (res.verdict == TRIGGER_FORGED)
		rails_forged(m, pkt, &res, indev);
	if (res.fired > 0)
		latency_trigger(&m->lat, in_hand_us);
	/* genuine, within the limits, and served: the other router of a pair follows it */
	if (res.verdict == TRIGGER_SERVED)
		paird_trigger(m, pkt);
}

void manager_replicated(struct manager *m, const struct nflog_pkt *pkt)
{
	struct trigger_result res;

	/* triggers meet the table as it is now (as in nflog_fn) */
	engine_expire(&m->eng, now_ms(), on_expired, m);
	trigger_replicated(&m->eng, pkt, now_ms(), &m->told_later, &res);
}

void manager_triggers_done(struct manager *m)
{
	write_triggers(m);
}

static void nflog_fn(struct watch *w, uint32_t events)
{
	struct manager *m = container_of(w, struct manager, nflog_w);
	int r;

	/* triggers meet the table as it is now: nothing past its deadline is refreshed or held */
	engine_expire(&m->eng, now_ms(), on_expired, m);
	r = nflogsock_read(m->nflog, NFLOG_READS_PER_TURN, on_nflog, m);
	write_triggers(m);

	if (r == -ENOBUFS) {
		if (!m->cnt.nflog_enobufs)
			log_warn("NFLOG receive buffer overrun: triggers were lost (counted in status)");
		m->cnt.nflog_enobufs++;
		if (view_kernel_path(&m->eng))
			tsync_event(&m->sync, TSYNC_EV_LOST, now_ms());
	} else if (r < 0) {
		log_err("NFLOG read: %s", strerror(-r));
	}
}

static void mon_fn(struct watch *w, uint32_t events)
{
	struct manager *m = container_of(w, struct manager, mon_w);

	if (monsock_read(m->mon, mnl_socket_get_portid(m->nft.nl), &m->mon_foreign) > 0)
		tsync_event(&m->sync, TSYNC_EV_FOREIGN, now_ms());
}

static void rtnl_fn(struct watch *w, uint32_t events)
{
	struct manager *m = container_of(w, struct manager, rtnl_w);
	int r = rtnlsock_read(m->rtnl);

	if (r > 0 && (r & RTNL_LINKS))
		ifname_cache_flush();
	if (r > 0 && (r & RTNL_ROUTES))
		refresh_wan(m);
	if (r > 0)
		m->check_ifaces = true;
}

/* Warn when the WAN set becomes empty (nothing can trigger), say so when it fills again. */
static void check_interfaces(struct manager *m)
{
	struct iflist wan = { 0 }, lan = { 0 };
	struct dynbuf msg = { 0 };
	int r = manager_interfaces(m, &wan, &lan);

	m->check_ifaces = false;
	if (r < 0) {
		log_debug("listing interfaces: %s", strerror(-r));
	} else if (!wan.n && !m->no_wan) {
		m->no_wan = true;
		manager_no_wan_warning(m, &msg);
		log_warn("%s", msg.data ? msg.data : "no WAN interface");
	} else if (wan.n && m->no_wan) {
		m->no_wan = false;
		for (size_t i = 0; i < wan.n; i++)
			dynbuf_printf(&msg, "%s%s", i ? "," : "", wan.names[i]);
		log_info("WAN interface%s now %s: triggers can work again", wan.n == 1 ? "" : "s",
			 msg.data ? msg.data : "");
	}
	dynbuf_free(&msg);
	iflist_clear(&wan);
	iflist_clear(&lan);
}

uint64_t manager_end_turn(struct manager *m)
{
	uint64_t now = now_ms(), next, pair_next;
	int r;

	if (m->check_ifaces)
		check_interfaces(m);
	if (tsync_due(&m->sync, now) == TSYNC_DO_REBUILD) {
		m->cnt.table_rebuilds++;
		if (!m->sync.failing)
			log_warn("table inet %s was changed by another program; re-creating it with "
				 "%zu forwarding%s", NFTOBJ_TABLE, manager_n_forwardings(m),
				 manager_n_forwardings(m) == 1 ? "" : "s");
		table_recreate(m);
	}
	engine_expire(&m->eng, now, on_expired, m);
	/* with no table to write to, the next re-creation writes everything */
	if (tsync_writable(&m->sync)) {
		r = tablewrite_pending(&m->eng, &m->batch, now, on_assigned, m);
		if (r >= 0) {
			int k = learn_write_pending(&m->learn, &m->batch, now);

			r = k < 0 ? k : r + k;
		}
		commit_update(m, r);
	}
	if (tsync_due(&m->sync, now) == TSYNC_DO_RESYNC)
		rails_resync(m, now);
	if (m->state_dirty && m->opt.state_path && now >= m->state_next_ms)
		statefile_save(m, now);
	if (m->ct)
		ct_worker_submit(m->ct, &m->ct_jobs);
	m->ct_jobs.n = 0;
	pair_next = m->pd.nl ? paird_flush(m, now) : UINT64_MAX;
	manager_notify_status(m, false);
	if (notify_watchdog_usec() && now >= m->next_watchdog_ms) {
		notify_send("WATCHDOG=1");
		m->next_watchdog_ms = now + notify_watchdog_usec() / 1000;
	}
	next = fwtable_next_deadline(view_table(&m->eng));
	if (pair_next < next)
		next = pair_next;
	if (learn_deadline(&m->learn) < next)
		next = learn_deadline(&m->learn);
	if (notify_watchdog_usec() && m->next_watchdog_ms < next)
		next = m->next_watchdog_ms;
	/* the kernel is not yet back in step: come back for it without waiting for an event */
	if (m->state_dirty && m->opt.state_path && m->state_next_ms < next)
		next = m->state_next_ms;
	if (tsync_deadline(&m->sync) < next)
		next = tsync_deadline(&m->sync) > now ? tsync_deadline(&m->sync) : now;
	return next;
}

int manager_handover(const struct manager *m, struct handover_state *st, struct handover_fds *fds)
{
	int r;

	st->started_ms = m->started_ms;
	r = rulebook_runtime_lines(&m->book, &st->runtime, &st->n_runtime);
	if (r == 0)
		r = rulebook_switch_lines(&m->book, &st->switches, &st->n_switches);
	fds->nft = mnl_socket_get_fd(m->nft.nl);
	fds->nflog = mnl_socket_get_fd(m->nflog);
	return r;
}

void manager_exec_prepare(struct manager *m)
{
	m->cnt.ct_deleted += m->ct ? ct_worker_deleted(m->ct) : 0;
	ct_worker_stop(m->ct);
	m->ct = NULL;
}

void manager_exec_failed(struct manager *m)
{
	m->ct = ct_worker_start();
}

int manager_init(struct manager *m, struct loop *loop, const struct manager_options *o,
		 struct config *files, const struct handover_state *st)
{
	struct iflist wan = { 0 };
	struct dynbuf errors = { 0 };
	struct config *c = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	m->opt = *o;
	m->loop = loop;
	m->started_ms = st->started_ms ? st->started_ms : now_ms();
	m->notified_rules = SIZE_MAX;
	engine_init(&m->eng);
	engine_set_learn_group(&m->eng, o->learn_group);
	learn_init(&m->learn);
	tsync_init(&m->sync);
	m->learn.caps = view_caps(&m->eng);
	nlbatch_init(&m->batch, time(NULL));
	rulebook_init(&m->book, files);
	r = rtnl_default_wan(&wan);
	if (r < 0)
		log_warn("cannot read default routes: %s", strerror(-r));
	engine_set_auto_wan(&m->eng, &wan);
	iflist_clear(&wan);
	if (st->n_runtime &&
	    rulebook_add_lines(&m->book, st->runtime, st->n_runtime, &c, &errors) == -EINVAL)
		log_err("the runtime rules handed over do not fit this version; dropped:\n%s",
			errors.data);
	if (st->n_switches) {
		rulebook_add_switch_lines(&m->book, (char *const *)st->switches, st->n_switches);
		c = config_free(c);
	}
	dynbuf_free(&errors);
	r = c ? 0 : rulebook_compose(&m->book, &c, &errors, NULL);
	dynbuf_free(&errors);
	if (r < 0)
		return r;
	r = engine_set_config(&m->eng, c, now_ms(), NULL, NULL);
	if (r < 0) {
		config_free(c);
		return r;
	}
	learn_set_enabled(&m->learn, c->learn);
	return 0;
}

void manager_fini(struct manager *m)
{
	ct_jobs_free(&m->ct_jobs);
	learn_fini(&m->learn);
	engine_fini(&m->eng);
	rulebook_fini(&m->book);
	nlbatch_free(&m->batch);
}

static void watch_socket(struct manager *m, struct mnl_socket *nl, struct watch *w, watch_fn fn)
{
	if (loop_add(m->loop, w, mnl_socket_get_fd(nl), fn, EPOLLIN) < 0)
		log_warn("cannot watch a netlink socket: %m");
}

int manager_open(struct manager *m, const struct handover_fds *inh)
{
	int r, nerr = 0;

	r = inh->nft >= 0 ? nftsock_fdopen(&m->nft, inh->nft) : nftsock_open(&m->nft);
	if (r < 0) {
		log_err("cannot open nftables netlink socket: %s", strerror(-r));
		return r;
	}
	/* bind NFLOG first: a trigger rule without a listener would log into the void */
	m->nflog = inh->nflog >= 0 ? mnl_socket_fdopen(inh->nflog) : nflogsock_open(m->opt.group, &nerr);
	if (!m->nflog) {
		r = inh->nflog >= 0 ? -errno : nerr;
		log_err("cannot bind NFLOG group %u: %s%s", m->opt.group, strerror(-r),
			r == -EBUSY || r == -EPERM ?
			" (another program, such as ulogd, holds it; choose one with --nflog-group)" : "");
		goto out_nft;
	}
	r = learnd_open(m);
	if (r < 0)
		log_warn("cannot bind NFLOG group %u for learn mode: %s (choose one with --learn-group); "
			 "nothing will be learned", m->opt.learn_group, strerror(-r));
	table_probe(m);
	if (!table_adopt(m))
		statefile_restore(m);
	r = table_setup(m);
	if (r < 0)
		goto out_nflog;
	tsync_event(&m->sync, TSYNC_EV_CREATED, now_ms());
	watch_socket(m, m->nflog, &m->nflog_w, nflog_fn);
	/*
	 * Only an unowned table can be changed by someone else. (Watching an
	 * owned one would only wake the daemon for its own commits, one
	 * event per element written, on every trigger.)
	 */
	m->mon = m->table_owned ? NULL : monsock_open();
	if (m->mon)
		watch_socket(m, m->mon, &m->mon_w, mon_fn);
	else if (!m->table_owned)
		log_warn("cannot watch nf_tables events (%m): a deleted table would not be re-created");
	m->rtnl = rtnlsock_open();
	if (m->rtnl)
		watch_socket(m, m->rtnl, &m->rtnl_w, rtnl_fn);
	else
		log_warn("cannot follow routes: %m");
	r = rails_open(m);
	if (r < 0)
		log_warn("cannot follow addresses and neighbours (%s): triggers get the kernel's "
			 "source checks only, share one log budget, and a host is an address or /64",
			 strerror(-r));
	m->ct = ct_worker_start();
	if (!m->ct)
		log_warn("no conntrack clean-up (%m): streams will not follow a moved forwarding");
	paird_config(m);
	m->check_ifaces = true;
	return 0;
out_nflog:
	learnd_close(m);
	mnl_socket_close(m->nflog);
	m->nflog = NULL;
out_nft:
	nftsock_close(&m->nft);
	return r;
}

void manager_close(struct manager *m)
{
	table_remove(m);
	/* a clean stop closes every forwarding (DESIGN §2.8): nothing to put back */
	if (m->opt.state_path)
		unlink(m->opt.state_path);
	ct_worker_stop(m->ct);
	m->ct = NULL;
	paird_close(m);
	rails_close(m);
	if (m->rtnl)
		mnl_socket_close(m->rtnl);
	if (m->mon)
		mnl_socket_close(m->mon);
	mnl_socket_close(m->nflog);
	learnd_close(m);
	trigger_events_free(&m->told_later);
	m->rtnl = m->mon = m->nflog = NULL;
	nftsock_close(&m->nft);
}
