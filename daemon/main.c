/*
 * ipautofwd: port triggering for nftables. Sets up table inet ipautofw,
 * listens for trigger packets on NFLOG, and keeps the forwarding maps in
 * step with the forwarding table, one batch per event-loop turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "event.h"
#include "handover.h"
#include "log.h"
#include <libnftnl/set.h>

#include "nftobj.h"
#include "notify.h"

#define DEFAULT_SOCKET "/run/ipautofw/control.sock"
#define DEFAULT_GROUP 7070
#define NFLOG_READS_PER_TURN 64

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t now_ms(void)
{
	return now_us() / 1000;
}

int daemon_watch(struct daemon *d, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(d->ep, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? -errno : 0;
}

/*
 * ERRORS gets the full report (with source lines and carets) for a terminal
 * or a client; LOG_LINES, if given, each error's first line, for the log.
 */
static struct config *load_config(struct daemon *d, struct dynbuf *errors, struct dynbuf *log_lines)
{
	struct config *c = config_new();
	int r;

	if (!c)
		return NULL;
	r = config_load_dirs(c, d->confdirs, d->n_confdirs);
	if (r < 0) {
		if (c->errors.len)
			dynbuf_append(errors, c->errors.data, c->errors.len);
		if (log_lines && c->error_lines.len)
			dynbuf_append(log_lines, c->error_lines.data, c->error_lines.len);
		dynbuf_printf(errors, "%u error%s; configuration not applied\n", c->n_errors,
			      c->n_errors == 1 ? "" : "s");
		return config_free(c);
	}
	return c;
}

/* One journal entry at err per configuration error: "FILE:LINE:COL: error: MESSAGE". */
static void log_error_lines(const struct dynbuf *lines)
{
	const char *p = lines->data, *nl;

	for (; p && (nl = strchr(p, '\n')); p = nl + 1)
		log_err("%.*s", (int)(nl - p), p);
}

static unsigned count_lines(const struct dynbuf *lines)
{
	unsigned n = 0;

	for (size_t i = 0; i < lines->len; i++)
		n += lines->data[i] == '\n';
	return n;
}

static const char *fmt_addr(int af, const union inaddr *a, char *buf)
{
	return inet_ntop(af, a, buf, INET6_ADDRSTRLEN);
}

static void describe_forwards(const struct rule *r, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT(buf, size);
	char tmp[32];

	for (size_t i = 0; i < r->n_forwards; i++) {
		portrange_format(&r->forwards[i], tmp, sizeof(tmp));
		strbuf_printf(&sb, "%s%s", i ? "," : "", tmp);
	}
}

static void log_closed(const struct fwd *f, void *data)
{
	struct daemon *d = data;
	char host[INET6_ADDRSTRLEN];

	ct_jobs_closed(&d->ct_jobs, f);
	learnd_closed(d, f);
	events_fwd(d, EVENT_CLOSED, f);
	if (!f->rule->is_static)
		log_info("%s: forwarding to %s closed", f->rule->name, fmt_addr(f->af, &f->host, host));
}

static int commit(struct daemon *d, const char *why)
{
	const char *what;
	int r = nftsock_commit(&d->nft, &d->batch, &what);

	if (r < 0) {
		d->cnt.netlink_errors++;
		log_err("nftables %s failed%s%s: %s", why, what ? " at " : "", what ? what : "",
			strerror(-r));
		/* the daemon's view moved on without the kernel: never leave them apart */
		d->resync = true;
	}
	nlbatch_reset(&d->batch);
	return r;
}

static void on_assigned(const struct fwd *f, const union inaddr *old, void *data)
{
	struct daemon *d = data;

	ct_jobs_assigned(&d->ct_jobs, f, old);
}

/* Write what changed (a reload, a flush, runtime rules): one transaction. */
static int write_changes(struct daemon *d, const char *why)
{
	int r = engine_write_pending(&d->eng, &d->batch, now_ms(), on_assigned, d);

	if (r < 0) {
		nlbatch_reset(&d->batch);
		return r;
	}
	return r ? commit(d, why) : 0;
}

static int reload(struct daemon *d, struct dynbuf *errors);
static int setup_table(struct daemon *d);

int daemon_apply(struct daemon *d, struct config *c, const char *why, struct dynbuf *errors)
{
	int r;

	d->closing = why;
	engine_set_config(&d->eng, c, now_ms(), log_closed, d);
	d->closing = NULL;
	d->check_ifaces = true;
	if (learnd_config(d)) {
		/* learn mode's rules come or go with the table: replaced in one transaction */
		r = setup_table(d);
		if (r < 0) {
			dynbuf_printf(errors, "%s: re-creating the table failed: %s\n", why, strerror(-r));
			d->rebuild = true;
		}
		return r;
	}
	r = write_changes(d, why);
	if (r < 0)
		dynbuf_printf(errors, "%s: writing to nftables failed: %s\n", why, strerror(-r));
	return r;
}

static void notify_status(struct daemon *d)
{
	size_t rules = d->eng.cfg ? d->eng.cfg->n_rules : 0, fwds = d->eng.fwt.n;

	if (rules == d->notified_rules && fwds == d->notified_fwds)
		return;
	d->notified_rules = rules;
	d->notified_fwds = fwds;
	notify_send("STATUS=%zu rule%s, %zu forwarding%s", rules, rules == 1 ? "" : "s", fwds,
		    fwds == 1 ? "" : "s");
}

int daemon_reload(struct daemon *d, struct dynbuf *errors)
{
	int r;

	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now_us());
	r = reload(d, errors);
	notify_send("READY=1");
	d->notified_rules = SIZE_MAX;
	notify_status(d);
	return r;
}

static int reload(struct daemon *d, struct dynbuf *errors)
{
	struct dynbuf lines = { 0 };
	struct config *files = load_config(d, errors, &lines), *c = NULL;
	int r = files ? rulebook_set_files(&d->book, files, &c, errors, &lines) : -EINVAL;

	d->cnt.reloads++;
	if (r < 0) {
		unsigned n = count_lines(&lines);

		if (files)
			dynbuf_printf(errors, "the runtime rules above conflict with the rule files; "
				      "configuration not applied\n");
		config_free(files);
		d->cnt.reload_failures++;
		if (files)
			log_err("reload refused, the running configuration stays: %u runtime rule "
				"error%s against the new rule files:", n, n == 1 ? "" : "s");
		else
			log_err("reload refused, the running configuration stays: %u error%s in the "
				"rule files:", n, n == 1 ? "" : "s");
		log_error_lines(&lines);
		if (!n)
			log_err("%s", errors->data ? errors->data : "out of memory");
		dynbuf_free(&lines);
		return -EINVAL;
	}
	dynbuf_free(&lines);
	r = daemon_apply(d, c, "reload", errors);
	if (r < 0)
		return r;
	events_reloaded(d);
	log_info("configuration reloaded: %zu rule%s, %zu forwarding%s", c->n_rules,
		 c->n_rules == 1 ? "" : "s", d->eng.fwt.n, d->eng.fwt.n == 1 ? "" : "s");
	return 0;
}

int daemon_close(struct daemon *d, const char *rule, int af, const union inaddr *addr, size_t *ret_n)
{
	d->closing = "flush";
	*ret_n = engine_close(&d->eng, rule, af, addr, log_closed, d);
	d->closing = NULL;
	if (!*ret_n)
		return 0;
	return write_changes(d, "flush");
}

static void refresh_wan(struct daemon *d)
{
	struct iflist wan = { 0 };
	int r = rtnl_default_wan(&wan);

	if (r < 0) {
		log_warn("cannot read default routes: %s", strerror(-r));
	} else if (engine_set_auto_wan(&d->eng, &wan) && engine_uses_auto_wan(&d->eng)) {
		char names[256] = "";
		struct strbuf sb = STRBUF_INIT(names, sizeof(names));

		for (size_t i = 0; i < wan.n; i++)
			strbuf_printf(&sb, "%s%s", i ? "," : "", wan.names[i]);
		log_info("WAN interfaces (default routes): %s", wan.n ? names : "none");
		if (engine_write_wan(&d->eng, &d->batch) == 0)
			commit(d, "WAN update");
		else
			nlbatch_reset(&d->batch);
	}
	iflist_clear(&wan);
}

static void on_event(const struct engine_event *ev, void *data)
{
	struct daemon *d = data;
	const struct fwd *f = ev->fwd;
	char host[INET6_ADDRSTRLEN], old[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN + 8] = "";
	char fwds[256], dur[32];

	events_engine(d, ev);
	learnd_event(d, ev);
	if (ev->change == FWD_REFRESHED) {
		log_debug("%s: refreshed for %s", f->rule->name, fmt_addr(f->af, &f->host, host));
		return;
	}
	if (ev->change == FWD_OVER_HOST_LIMIT || ev->change == FWD_OVER_LIMIT) {
		rails_refused(d, ev);
		return;
	}
	if (!log_ratelimit(&d->rl_count, &d->rl_window, now_ms(), &d->rl_suppressed))
		return;
	if (d->rl_suppressed) {
		log_info("(%u forwarding messages suppressed)", d->rl_suppressed);
		d->rl_suppressed = 0;
	}
	fmt_addr(f->af, &f->host, host);
	describe_forwards(f->rule, fwds, sizeof(fwds));
	duration_format(f->rule->timeout_s, dur, sizeof(dur));
	if (f->rule->peer) {
		strcpy(peer, " peer ");
		fmt_addr(f->af, &f->peer, peer + 6);
	}
	switch (ev->change) {
	case FWD_OPENED:
		log_info("%s: forwarding %s to %s%s for %s", f->rule->name, fwds, host, peer, dur);
		break;
	case FWD_TAKEN_OVER:
		log_info("%s: forwarding %s taken over by %s from %s%s", f->rule->name, fwds, host,
			 fmt_addr(f->af, &ev->old_host, old), peer);
		break;
	case FWD_REFUSED:
		log_info("%s: exclusive, held by %s; trigger from another host ignored", f->rule->name,
			 fmt_addr(f->af, &ev->old_host, old));
		break;
	default:
		break;
	}
}

static void on_nflog(const struct nflog_pkt *pkt, int err, void *data)
{
	struct daemon *d = data;
	char indev[IF_NAMESIZE] = "", outdev[IF_NAMESIZE] = "";
	int fired;

	if (pkt->has_seq) {
		if (d->have_seq && pkt->seq != d->last_seq + 1)
			d->cnt.nflog_lost += pkt->seq - d->last_seq - 1;
		d->have_seq = true;
		d->last_seq = pkt->seq;
	}
	if (err < 0 || pkt->group != d->group) {
		d->cnt.nflog_bad++;
		return;
	}
	/* without the rtnetlink watch nobody says when links change: no cache then */
	if (!d->rtnl)
		ifname_cache_flush();
	if (!ifname_cached(pkt->indev, indev) || !ifname_cached(pkt->outdev, outdev))
		return;
	if (!rails_source_ok(d, pkt, indev))
		return;
	fired = engine_trigger(&d->eng, pkt, indev, outdev, now_ms(), on_event, d);
	if (fired > 0 && d->turn_n < TURN_TRIGGERS_MAX)
		d->turn_recv_us[d->turn_n++] = now_us();
}

static void nflog_cb_watch(struct daemon *d, struct watch *w, uint32_t events)
{
	int r = nflogsock_read(d->nflog, NFLOG_READS_PER_TURN, on_nflog, d);

	if (r == -ENOBUFS) {
		if (!d->cnt.nflog_enobufs)
			log_warn("NFLOG receive buffer overrun: triggers were lost (counted in status)");
		d->cnt.nflog_enobufs++;
	} else if (r < 0) {
		log_err("NFLOG read: %s", strerror(-r));
	}
}

static void mon_cb(struct daemon *d, struct watch *w, uint32_t events)
{
	if (monsock_read(d->mon, mnl_socket_get_portid(d->nft.nl), &d->mon_foreign) > 0)
		d->rebuild = true;
}

static void rtnl_cb(struct daemon *d, struct watch *w, uint32_t events)
{
	int r = rtnlsock_read(d->rtnl);

	if (r > 0 && (r & RTNL_LINKS))
		ifname_cache_flush();
	if (r > 0 && (r & RTNL_ROUTES))
		refresh_wan(d);
	if (r > 0)
		d->check_ifaces = true;
}

int daemon_interfaces(struct daemon *d, struct iflist *ret_wan, struct iflist *ret_lan)
{
	struct if_nameindex *ni = if_nameindex();
	struct iflist links = { 0 };
	int r = 0;

	if (!ni)
		return -errno;
	for (struct if_nameindex *p = ni; p->if_index && r == 0; p++)
		r = iflist_add(&links, p->if_name);
	if_freenameindex(ni);
	if (r == 0)
		r = engine_interfaces(&d->eng, &links, ret_wan, ret_lan);
	iflist_clear(&links);
	return r;
}

void daemon_no_wan_warning(struct daemon *d, struct dynbuf *out)
{
	const struct config *c = d->eng.cfg;

	dynbuf_printf(out, "no WAN interface: ");
	if (!c || !c->has_wan) {
		dynbuf_printf(out, "no default route and no 'wan' statement");
	} else {
		dynbuf_printf(out, "no interface matches 'wan ");
		for (size_t i = 0; i < c->wan.n; i++)
			dynbuf_printf(out, "%s%s", i ? "," : "", c->wan.names[i]);
		dynbuf_printf(out, "'");
	}
	dynbuf_printf(out, "; nothing can trigger until one appears");
}

/* Warn when the WAN set becomes empty (nothing can trigger), say so when it fills again. */
static void check_interfaces(struct daemon *d)
{
	struct iflist wan = { 0 }, lan = { 0 };
	struct dynbuf msg = { 0 };
	int r = daemon_interfaces(d, &wan, &lan);

	d->check_ifaces = false;
	if (r < 0) {
		log_debug("listing interfaces: %s", strerror(-r));
	} else if (!wan.n && !d->no_wan) {
		d->no_wan = true;
		daemon_no_wan_warning(d, &msg);
		log_warn("%s", msg.data ? msg.data : "no WAN interface");
	} else if (wan.n && d->no_wan) {
		d->no_wan = false;
		for (size_t i = 0; i < wan.n; i++)
			dynbuf_printf(&msg, "%s%s", i ? "," : "", wan.names[i]);
		log_info("WAN interface%s now %s: triggers can work again", wan.n == 1 ? "" : "s",
			 msg.data ? msg.data : "");
	}
	dynbuf_free(&msg);
	iflist_clear(&wan);
	iflist_clear(&lan);
}

static void signal_cb(struct daemon *d, struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			struct dynbuf errors = { 0 };

			log_info("SIGHUP: reloading");
			daemon_reload(d, &errors);
			dynbuf_free(&errors);
		} else {
			log_info("%s: removing table inet %s and exiting", strsignal(si.ssi_signo),
				 NFTOBJ_TABLE);
			d->quit = true;
		}
	}
}

/* The work a timer stands for is done in end_of_turn; here it is only drained. */
static void timer_cb(struct daemon *d, struct watch *w, uint32_t events)
{
	uint64_t ticks;

	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_debug("timerfd: %m");
	d->timer_next = 0;	/* disarmed now */
}


static void end_of_turn(struct daemon *d)
{
	uint64_t now = now_ms(), next, cnext;
	struct itimerspec its = { 0 };
	struct fwd *f;
	int r;

	if (d->check_ifaces)
		check_interfaces(d);
	if (d->rebuild) {
		d->rebuild = false;
		d->cnt.table_rebuilds++;
		log_warn("table inet %s was changed by another program; re-creating it with "
			 "%zu forwarding%s", NFTOBJ_TABLE, d->eng.fwt.n, d->eng.fwt.n == 1 ? "" : "s");
		setup_table(d);
	}
	while ((f = fwtable_pop_expired(&d->eng.fwt, now))) {
		char host[INET6_ADDRSTRLEN];

		char fwds[256];

		describe_forwards(f->rule, fwds, sizeof(fwds));
		log_info("%s: forwarding %s to %s expired", f->rule->name, fwds,
			 fmt_addr(f->af, &f->host, host));
		events_fwd(d, EVENT_EXPIRED, f);
		free(f);
	}
	r = engine_write_pending(&d->eng, &d->batch, now, on_assigned, d);
	if (r >= 0) {
		int k = learn_write_pending(&d->learn, &d->batch, now);

		r = k < 0 ? k : r + k;
	}
	if (r > 0) {
		if (commit(d, "update") == 0) {
			uint64_t t = now_us();

			for (size_t i = 0; i < d->turn_n; i++) {
				d->lat_us[d->lat_pos] = t - d->turn_recv_us[i];
				d->lat_pos = (d->lat_pos + 1) % LATENCY_RING;
				if (d->lat_n < LATENCY_RING)
					d->lat_n++;
			}
		}
	} else if (r < 0) {
		log_err("building nftables update: %s", strerror(-r));
		nlbatch_reset(&d->batch);
		d->resync = true;
	}
	if (d->resync)
		rails_resync(d, now);
	d->turn_n = 0;
	if (d->ct)
		ct_worker_submit(d->ct, &d->ct_jobs);
	d->ct_jobs.n = 0;
	notify_status(d);
	if (notify_watchdog_usec()) {
		if (now >= d->next_watchdog_ms) {
			notify_send("WATCHDOG=1");
			d->next_watchdog_ms = now + notify_watchdog_usec() / 1000;
		}
	}
	next = fwtable_next_deadline(&d->eng.fwt);
	cnext = control_tick(d, now);
	if (cnext < next)
		next = cnext;
	if (notify_watchdog_usec() && d->next_watchdog_ms < next)
		next = d->next_watchdog_ms;
	/* the kernel is not yet back in step: come back for it without waiting for an event */
	if (d->rebuild)
		next = now;
	else if (d->resync && d->resync_after_ms < next)
		next = d->resync_after_ms;
	/* most turns (a trigger, a refresh) leave the earliest deadline where it was */
	if (next == d->timer_next)
		return;
	d->timer_next = next;
	if (next != UINT64_MAX) {
		uint64_t delta = next > now ? next - now : 1;

		its.it_value.tv_sec = delta / 1000;
		its.it_value.tv_nsec = (delta % 1000) * 1000000;
	}
	timerfd_settime(d->timer_w.fd, 0, &its, NULL);
}

struct adopt_ctx {
	struct daemon *d;
	enum nftobj_set set;
	unsigned adopted;
	unsigned dropped;
};

static int adopt_cb(const struct nlmsghdr *nlh, void *data)
{
	struct adopt_ctx *a = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	if (!s || nftnl_set_elems_nlmsg_parse(nlh, s) < 0 || !(it = nftnl_set_elems_iter_create(s))) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	while ((el = nftnl_set_elems_iter_next(it))) {
		uint32_t klen = 0, kelen = 0, dlen = 0, ulen = 0;
		const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &klen);
		const void *kend = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY_END, &kelen);
		const void *dat = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &dlen);
		const char *ud = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &ulen);
		uint64_t left = nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_EXPIRATION) ?
				nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_EXPIRATION) : 0;
		struct nftobj_fwd_elem fe;
		char name[RULE_NAME_MAX + 1];

		if (!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT))
			continue;	/* static: the configuration brings it back */
		if (!ud || !ulen || ulen > RULE_NAME_MAX || !left ||
		    nftobj_decode_fwd(a->set, key, klen, kend, kelen, dat, dlen, &fe) < 0) {
			a->dropped++;
			continue;
		}
		memcpy(name, ud, ulen);
		name[ulen] = '\0';
		if (engine_adopt(&a->d->eng, name, &fe, left, now_ms()) > 0)
			a->adopted++;
		else
			a->dropped++;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/*
 * A table left by a daemon that died (kept by PERSIST): take over its
 * forwardings with their remaining time. The table is then replaced in
 * one transaction, so nothing stops forwarding in between.
 */
static void adopt(struct daemon *d)
{
	static const enum nftobj_set fwd_sets[] = { NFTOBJ_FWD4, NFTOBJ_FWD4P, NFTOBJ_PIN6, NFTOBJ_PIN6P };
	struct adopt_ctx a = { .d = d };

	for (size_t i = 0; i < ARRAY_SIZE(fwd_sets); i++) {
		a.set = fwd_sets[i];
		if (nft_dump_elems(nftobj_set_name(fwd_sets[i]), adopt_cb, &a) == -ENOENT && i == 0)
			return;	/* no table: a clean start */
	}
	if (a.adopted || a.dropped)
		log_info("adopted %u forwarding element%s left by a previous ipautofwd%s", a.adopted,
			 a.adopted == 1 ? "" : "s", a.dropped ? " (and dropped those that no longer fit)" : "");
}

static int setup_table(struct daemon *d)
{
	uint32_t flags[] = { NFTOBJ_TABLE_F_OWNER | NFTOBJ_TABLE_F_PERSIST, NFTOBJ_TABLE_F_OWNER };
	size_t n_flags = ARRAY_SIZE(flags);
	int r = -EINVAL;

	if (d->no_owner || d->no_persist) {
		flags[0] = d->no_owner ? 0 : NFTOBJ_TABLE_F_OWNER;
		n_flags = 1;
	}
	for (size_t i = 0; i < n_flags; i++) {
		const char *what;

		nlbatch_reset(&d->batch);
		r = engine_write_table(&d->eng, &d->batch, d->group, flags[i], now_ms());
		if (r == 0)
			r = learn_write_all(&d->learn, &d->batch, now_ms());
		if (r < 0)
			break;
		r = nftsock_commit(&d->nft, &d->batch, &what);
		if (r == 0) {
			log_debug("table inet %s created (%s)", NFTOBJ_TABLE,
				  flags[i] & NFTOBJ_TABLE_F_PERSIST ? "owner, persist" :
				  flags[i] ? "owner" : "not owned: other tools may change it");
			if (flags[i] && !(flags[i] & NFTOBJ_TABLE_F_PERSIST) && !d->no_persist)
				log_warn("this kernel cannot keep a table after its owner exits "
					 "(NFT_TABLE_F_PERSIST, Linux 6.9); forwardings end with the daemon");
			break;
		}
		if (r == -EPERM && what && !strcmp(what, "delete table")) {
			log_err("table inet %s belongs to another process (is ipautofwd already running?)",
				NFTOBJ_TABLE);
			break;
		}
		log_debug("creating table with flags 0x%x failed at %s: %s", flags[i],
			  what ? what : "?", strerror(-r));
		if (!what || strcmp(what, "create table"))
			break;
	}
	if (r < 0)
		log_err("cannot create table inet %s: %s", NFTOBJ_TABLE, strerror(-r));
	else
		d->table_learn = d->eng.cfg->learn;
	nlbatch_reset(&d->batch);
	return r;
}

static void remove_table(struct daemon *d)
{
	const char *what;
	int r;

	nlbatch_reset(&d->batch);
	nftobj_table(&d->batch, NFT_MSG_DELTABLE, 0);
	r = nftsock_commit(&d->nft, &d->batch, &what);
	if (r < 0)
		log_err("removing table inet %s: %s", NFTOBJ_TABLE, strerror(-r));
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ipautofwd [OPTIONS]\n"
		"Port triggering for nftables.\n\n"
		"  -f, --foreground        stay in the foreground, log to stderr\n"
		"  -C, --config-dir DIR    read rule files from DIR (repeatable; replaces\n"
		"                          /etc/ipautofw.d /run/ipautofw.d /usr/lib/ipautofw.d)\n"
		"  -s, --socket PATH       control socket (default %s)\n"
		"  -g, --nflog-group N     NFLOG group for trigger packets (default %d)\n"
		"      --learn-group N     NFLOG group of learn mode (default: the one after -g)\n"
		"      --socket-group NAME group that may use read commands on the control\n"
		"                          socket (default: ipautofw if it exists, else root)\n"
		"      --no-owner          do not own the table: nft may inspect and change it\n"
		"                          (the daemon re-creates it if it is deleted)\n"
		"      --no-persist        do not keep the table when the daemon dies: a crash\n"
		"                          closes every forwarding at once\n"
		"      --check             check the configuration and exit (no privileges needed)\n"
		"      --dry-run           print the nf_tables ruleset the configuration would\n"
		"                          load, in nft -f syntax, and exit (no privileges needed)\n"
		"      --syslog            log to syslog instead of stderr\n"
		"  -v, --verbose           log debug messages\n"
		"  -h, --help              show this help\n"
		"  -V, --version           show the version\n",
		DEFAULT_SOCKET, DEFAULT_GROUP);
}

/* --dry-run: what the daemon would load at start, built like it, printed */
static int print_ruleset(struct config *cfg, uint16_t group, uint16_t learn_group)
{
	struct dynbuf out = { 0 };
	struct engine e;
	int r;

	engine_init(&e);
	e.learn_group = learn_group;
	engine_set_config(&e, cfg, 0, NULL, NULL);
	r = engine_ruleset_text(&e, group, 0, &out);
	if (r == 0)
		fwrite(out.data, 1, out.len, stdout);
	else
		fprintf(stderr, "ipautofwd: %s\n", strerror(-r));
	engine_fini(&e);
	dynbuf_free(&out);
	return r == 0 && fflush(stdout) == 0 ? 0 : 1;
}

/* Fork; the parent exits when the child says it is ready (or failed). */
static int daemonize(int *ret_fd)
{
	int p[2];
	pid_t pid;
	char c = 1;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	*ret_fd = p[1];
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config-dir", required_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, 's' },
		{ "nflog-group", required_argument, NULL, 'g' },
		{ "learn-group", required_argument, NULL, 'L' },
		{ "socket-group", required_argument, NULL, 'G' },
		{ "no-owner", no_argument, NULL, 'O' },
		{ "no-persist", no_argument, NULL, 'P' },
		{ "check", no_argument, NULL, 'k' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	static struct daemon dd;
	struct daemon *d = &dd;
	bool foreground = false, check = false, dry_run = false, verbose = false, use_syslog = false, reexeced;
	struct handover_fds inh;
	struct handover_state st;
	const char *dirs[64];
	size_t n_dirs = 0;
	struct dynbuf errors = { 0 }, log_lines = { 0 };
	struct config *cfg;
	int opt, r, ready_fd = -1, nerr, learn_group = -1;
	sigset_t mask;
	char *end;

	reexec_init(argv);
	d->sockpath = getenv("IPAUTOFW_SOCKET") ? getenv("IPAUTOFW_SOCKET") : DEFAULT_SOCKET;
	d->group = DEFAULT_GROUP;
	while ((opt = getopt_long(argc, argv, "fC:s:g:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			foreground = true;
			break;
		case 'C':
			if (n_dirs == ARRAY_SIZE(dirs)) {
				fprintf(stderr, "ipautofwd: too many --config-dir options\n");
				return 2;
			}
			dirs[n_dirs++] = optarg;
			break;
		case 's':
			d->sockpath = optarg;
			break;
		case 'g':
		case 'L': {
			unsigned long g = strtoul(optarg, &end, 10);

			if (*end || !optarg[0] || g > 65535) {
				fprintf(stderr, "ipautofwd: invalid NFLOG group '%s' (0-65535)\n", optarg);
				return 2;
			}
			if (opt == 'g')
				d->group = g;
			else
				learn_group = g;
			break;
		}
		case 'G':
			d->sockgroup = optarg;
			break;
		case 'O':
			d->no_owner = true;
			break;
		case 'P':
			d->no_persist = true;
			break;
		case 'k':
			check = true;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'S':
			use_syslog = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ipautofwd %s\n", VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ipautofwd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	d->learn_group = learn_group >= 0 ? learn_group : d->group < 65535 ? d->group + 1 : d->group - 1;
	if (d->learn_group == d->group) {
		fprintf(stderr, "ipautofwd: the learn group must differ from the NFLOG group (%u)\n", d->group);
		return 2;
	}
	if (n_dirs) {
		d->confdirs = dirs;
		d->n_confdirs = n_dirs;
	} else {
		d->confdirs = (const char **)config_default_dirs;
		d->n_confdirs = ARRAY_SIZE(config_default_dirs);
	}

	cfg = load_config(d, &errors, &log_lines);
	if (check || dry_run) {
		dynbuf_free(&log_lines);
		if (!cfg) {
			fputs(errors.data ? errors.data : "out of memory\n", stderr);
			dynbuf_free(&errors);
			return 1;
		}
		if (dry_run)
			return print_ruleset(cfg, d->group, d->learn_group);
		printf("configuration OK: %zu rule%s\n", cfg->n_rules, cfg->n_rules == 1 ? "" : "s");
		config_free(cfg);
		return 0;
	}
	if (!cfg) {
		if (log_detect_target() == LOG_TARGET_JOURNAL && log_lines.len) {
			unsigned n = count_lines(&log_lines);

			/* under systemd: one entry at err per error, not one per line at info */
			log_setup(LOG_TARGET_JOURNAL, verbose);
			log_err("cannot start: %u error%s in the rule files:", n, n == 1 ? "" : "s");
			log_error_lines(&log_lines);
		} else {
			fputs(errors.data ? errors.data : "out of memory\n", stderr);
		}
		dynbuf_free(&log_lines);
		dynbuf_free(&errors);
		return 1;
	}
	dynbuf_free(&log_lines);
	/* under systemd (Type=notify) the service manager does the detaching */
	notify_init();
	if (getenv("NOTIFY_SOCKET"))
		foreground = true;
	/* a re-exec keeps the PID: it detached, if at all, the first time */
	reexeced = getenv(HANDOVER_ENV);
	if (!foreground) {
		r = reexeced ? 0 : daemonize(&ready_fd);
		if (r < 0) {
			fprintf(stderr, "ipautofwd: cannot detach: %s\n", strerror(-r));
			return 1;
		}
		use_syslog = true;
	}
	log_setup(use_syslog ? LOG_TARGET_SYSLOG : log_detect_target(), verbose);

	d->started_ms = now_ms();
	if (reexec_inherited(&inh, &st) < 0)
		return 1;
	if (reexeced) {
		if (st.started_ms)
			d->started_ms = st.started_ms;
	}
	d->ctl_w.fd = -1;
	d->spare_fd = -1;
	engine_init(&d->eng);
	d->eng.learn_group = d->learn_group;
	learn_init(&d->learn);
	nlbatch_init(&d->batch, time(NULL));
	r = rtnl_default_wan(&d->eng.auto_wan);
	if (r < 0)
		log_warn("cannot read default routes: %s", strerror(-r));
	rulebook_init(&d->book, cfg);
	cfg = NULL;
	if (st.n_runtime &&
	    rulebook_add_lines(&d->book, st.runtime, st.n_runtime, &cfg, &errors) == -EINVAL)
		log_err("the runtime rules handed over do not fit this version; dropped:\n%s",
			errors.data);
	if (st.n_switches) {
		rulebook_add_switch_lines(&d->book, st.switches, st.n_switches);
		cfg = config_free(cfg);
	}
	handover_state_free(&st);
	if (!cfg)
		rulebook_compose(&d->book, &cfg, &errors, NULL);
	if (!cfg) {
		log_err("out of memory");
		return 1;
	}
	engine_set_config(&d->eng, cfg, now_ms(), NULL, NULL);
	learn_set_enabled(&d->learn, cfg->learn);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->sig_w.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->sig_w.cb = signal_cb;
	d->timer_w.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->timer_w.cb = timer_cb;
	if (d->ep < 0 || d->sig_w.fd < 0 || d->timer_w.fd < 0) {
		log_err("event loop setup: %m");
		return 1;
	}
	daemon_watch(d, &d->sig_w, EPOLLIN);
	daemon_watch(d, &d->timer_w, EPOLLIN);

	/* first: a second daemon given the same socket stops here, before touching any table */
	r = control_listen(d, inh.control);
	if (r < 0) {
		log_err("control socket %s: %s", d->sockpath, strerror(-r));
		return 1;
	}
	r = inh.nft >= 0 ? nftsock_fdopen(&d->nft, inh.nft) : nftsock_open(&d->nft);
	if (r < 0) {
		log_err("cannot open nftables netlink socket: %s", strerror(-r));
		control_close(d);
		return 1;
	}
	/* bind NFLOG first: a trigger rule without a listener would log into the void */
	d->nflog = inh.nflog >= 0 ? mnl_socket_fdopen(inh.nflog) : nflogsock_open(d->group, &nerr);
	if (!d->nflog && inh.nflog >= 0)
		nerr = -errno;
	if (!d->nflog) {
		log_err("cannot bind NFLOG group %u: %s%s", d->group, strerror(-nerr),
			nerr == -EBUSY || nerr == -EPERM ?
			" (another program, such as ulogd, holds it; choose one with --nflog-group)" : "");
		control_close(d);
		return 1;
	}
	r = learnd_open(d);
	if (r < 0)
		log_warn("cannot bind NFLOG group %u for learn mode: %s (choose one with --learn-group); "
			 "nothing will be learned", d->learn_group, strerror(-r));
	adopt(d);
	if (setup_table(d) < 0) {
		control_close(d);
		return 1;
	}
	d->nflog_w.fd = mnl_socket_get_fd(d->nflog);
	d->nflog_w.cb = nflog_cb_watch;
	daemon_watch(d, &d->nflog_w, EPOLLIN);
	d->mon = monsock_open();
	if (d->mon) {
		d->mon_w.fd = mnl_socket_get_fd(d->mon);
		d->mon_w.cb = mon_cb;
		daemon_watch(d, &d->mon_w, EPOLLIN);
	} else {
		log_warn("cannot watch nf_tables events (%m): a deleted table would not be re-created");
	}
	d->rtnl = rtnlsock_open();
	if (d->rtnl) {
		d->rtnl_w.fd = mnl_socket_get_fd(d->rtnl);
		d->rtnl_w.cb = rtnl_cb;
		daemon_watch(d, &d->rtnl_w, EPOLLIN);
	} else {
		log_warn("cannot follow routes: %m");
	}
	r = rails_open(d);
	if (r < 0)
		log_warn("cannot follow addresses and neighbours (%s): triggers get the kernel's "
			 "source checks only", strerror(-r));
	d->ct = ct_worker_start();
	if (!d->ct)
		log_warn("no conntrack clean-up (%m): streams will not follow a moved forwarding");
	log_info("ready%s: %zu rule%s, NFLOG group %u, control socket %s",
		 reexeced ? " (re-executed)" : "", d->eng.cfg->n_rules,
		 d->eng.cfg->n_rules == 1 ? "" : "s", d->group, d->sockpath);
	check_interfaces(d);
	d->notified_rules = SIZE_MAX;
	notify_status(d);
	notify_send("READY=1");
	if (ready_fd >= 0) {
		char ok = 0;

		if (write(ready_fd, &ok, 1) < 0)
			log_debug("ready pipe: %m");
		close(ready_fd);
	}
	if (inh.client >= 0)
		reexec_reply(inh.client, d);

	/* arms the timer (the watchdog's first keep-alive) before any event comes */
	end_of_turn(d);
	while (!d->quit) {
		struct epoll_event evs[32];
		int n = epoll_wait(d->ep, evs, ARRAY_SIZE(evs), -1);

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %m");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;

			w->cb(d, w, evs[i].events);
		}
		end_of_turn(d);
		if (d->reexec_client && !d->quit)
			daemon_reexec(d);
	}

	notify_send("STOPPING=1");
	remove_table(d);
	control_close(d);
	notify_close();
	if (d->rtnl)
		mnl_socket_close(d->rtnl);
	rails_close(d);
	if (d->mon)
		mnl_socket_close(d->mon);
	mnl_socket_close(d->nflog);
	learnd_close(d);
	ct_worker_stop(d->ct);
	free(d->ct_jobs.v);
	nftsock_close(&d->nft);
	engine_fini(&d->eng);
	rulebook_fini(&d->book);
	nlbatch_free(&d->batch);
	dynbuf_free(&errors);
	close(d->timer_w.fd);
	close(d->sig_w.fd);
	close(d->ep);
	return 0;
}
