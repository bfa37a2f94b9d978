/*
 * The daemon's side of a router pair (docs/ha-pair.md; the logic is
 * lib/engine/pair.c): with `pair ct-mark` it marks the conntrack entry of every
 * trigger it served (after the source checks and the limits: a forged or
 * refused trigger stays unmarked), at the end of the loop turn, after the
 * forwarding is in the kernel; and it turns the marked entries conntrackd
 * writes into this router's table into the same forwardings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "control/view.h"
#include "manager.h"
#include "log.h"

#define PAIR_READS_PER_TURN 16
/* a trigger's entry is confirmed just after it is logged: one that is not yet is tried again */
#define PAIR_TRIES 4
#define PAIR_RETRY_MS 5
#define PAIR_MSG_MAX 256

static void on_msg(const struct nlmsghdr *nlh, uint32_t seq, int err, void *data)
{
	struct manager *m = data;
	struct paird *pd = &m->pd;
	struct nflog_pkt pkt;

	if (!nlh) {
		struct paird_mark *s = &pd->sent[seq % PAIRD_SENT];

		if (s->seq != seq)
			return;
		s->seq = 0;
		if (err == -ENOENT && s->tries < PAIR_TRIES) {
			paird_queue(m, s->af, &s->t, s->tries + 1, now_ms() + PAIR_RETRY_MS);
			return;
		}
		m->cnt.pair_mark_failed++;
		if (log_ratelimit(&pd->rl.count, &pd->rl.window, now_ms(), &pd->rl.suppressed))
			log_warn("pair: cannot mark a trigger connection: %s (the other router will not "
				 "open its forwarding)", strerror(-err));
		return;
	}
	if (pair_event(&pd->pair, nlh, mnl_socket_get_portid(pd->nl), now_ms(), &pkt) == 1)
		manager_replicated(m, &pkt);
}

struct sync {
	struct manager *m;
	bool triggers;
	size_t n;
};

static int dumped_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sync *s = data;
	struct nflog_pkt pkt;

	if (pair_dumped(&s->m->pd.pair, nlh, now_ms(), &pkt) == 1 && s->triggers) {
		manager_replicated(s->m, &pkt);
		s->n++;
	}
	return MNL_CB_OK;
}

/*
 * The marked entries in the table now: when pair mode starts, known
 * (a restarted daemon adopted their forwardings); after lost events,
 * those not seen are triggers.
 */
static void sync_table(struct manager *m, bool triggers)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh = ctnl_dump_marked_request(buf, now_ms(), m->pd.pair.mark, m->pd.pair.mask);
	struct sync s = { m, triggers, 0 };
	int r = nl_dump(NETLINK_NETFILTER, nlh, dumped_cb, &s);

	if (r < 0)
		log_warn("pair: reading the conntrack table: %s", strerror(-r));
	if (triggers) {
		manager_triggers_done(m);
		log_info("pair: %zu trigger connection%s found in the conntrack table after lost events",
			 s.n, s.n == 1 ? "" : "s");
	}
}

static void pair_fn(struct watch *w, uint32_t events)
{
	struct manager *m = container_of(w, struct paird_watch, w)->m;
	struct paird *pd = &m->pd;
	int r;

	r = pairsock_read(pd->nl, PAIR_READS_PER_TURN, on_msg, m);
	manager_triggers_done(m);
	if (r == -ENOBUFS) {
		if (!m->cnt.pair_events_lost)
			log_warn("pair: conntrack events were lost (receive buffer overrun); reading the "
				 "table for the trigger connections among them");
		m->cnt.pair_events_lost++;
		sync_table(m, true);
	} else if (r < 0) {
		log_err("pair: reading conntrack events: %s", strerror(-r));
	}
}

void paird_queue(struct manager *m, int af, const struct ct_tuple *t, unsigned tries,
		 uint64_t not_before)
{
	struct paird *pd = &m->pd;

	if (pd->n == pd->cap) {
		size_t cap = pd->cap ? 2 * pd->cap : 16;
		struct paird_mark *v = reallocarray(pd->v, cap, sizeof(*v));

		if (!v) {
			m->cnt.pair_mark_failed++;
			return;
		}
		pd->v = v;
		pd->cap = cap;
	}
	pd->v[pd->n++] = (struct paird_mark){ .af = af, .t = *t, .tries = tries,
					       .not_before = not_before };
}

void paird_trigger(struct manager *m, const struct nflog_pkt *pkt)
{
	struct ct_tuple t = { .src = pkt->saddr, .dst = pkt->daddr, .proto = pkt->proto,
			      .sport = pkt->sport, .dport = pkt->dport };

	if (!m->pd.nl)
		return;
	m->cnt.pair_marked++;
	pair_note(&m->pd.pair, pkt->af, &t);
	paird_queue(m, pkt->af, &t, 1, 0);
}

uint64_t paird_flush(struct manager *m, uint64_t now)
{
	static char buf[PAIR_MSG_MAX * 64] __attribute__((aligned(8)));
	struct paird *pd = &m->pd;
	uint64_t next = UINT64_MAX;
	size_t len = 0, keep = 0;

	for (size_t i = 0; i < pd->n; i++) {
		struct paird_mark *k = &pd->v[i];
		struct nlmsghdr *nlh;

		if (k->not_before > now || len + PAIR_MSG_MAX > sizeof(buf)) {
			if (k->not_before < next)
				next = k->not_before > now ? k->not_before : now;
			pd->v[keep++] = *k;
			continue;
		}
		if (!++pd->seq)
			pd->seq = 1;
		nlh = ctnl_mark_request(buf + len, pd->seq, k->af, &k->t, pd->pair.mark, pd->pair.mask);
		len += NLMSG_ALIGN(nlh->nlmsg_len);
		k->seq = pd->seq;
		pd->sent[pd->seq % PAIRD_SENT] = *k;
	}
	pd->n = keep;
	if (len && pairsock_send(pd->nl, buf, len) < 0) {
		m->cnt.pair_mark_failed++;
		log_warn("pair: cannot mark trigger connections: %m");
	}
	return next;
}

void paird_config(struct manager *m)
{
	const struct config *c = view_config(&m->eng);
	struct paird *pd = &m->pd;
	bool on = c && c->pair;

	if (on && pd->nl && (pd->pair.mark != c->pair_mark || pd->pair.mask != c->pair_mask)) {
		pair_fini(&pd->pair);
		pair_init(&pd->pair, c->pair_mark, c->pair_mask);
		if (pairsock_filter(pd->nl, c->pair_mark, c->pair_mask) < 0)
			log_warn("pair: cannot filter conntrack events in the kernel (%m): the daemon "
				 "reads them all");
		sync_table(m, false);
		log_info("pair: trigger connections are now marked 0x%x/0x%x", c->pair_mark, c->pair_mask);
	}
	if (on == !!pd->nl)
		return;
	if (!on) {
		log_info("pair mode off");
		paird_close(m);
		return;
	}
	pd->nl = pairsock_open();
	pd->w = calloc(1, sizeof(*pd->w));
	if (!pd->nl || !pd->w ||
	    loop_add(m->loop, &pd->w->w, mnl_socket_get_fd(pd->nl), pair_fn, EPOLLIN) < 0) {
		log_err("pair: cannot listen to conntrack events (%m): this router neither marks trigger "
			"connections nor opens the forwardings of the other router's");
		if (pd->nl)
			mnl_socket_close(pd->nl);
		free(pd->w);
		pd->nl = NULL;
		pd->w = NULL;
		return;
	}
	pd->w->m = m;
	pair_init(&pd->pair, c->pair_mark, c->pair_mask);
	if (pairsock_filter(pd->nl, c->pair_mark, c->pair_mask) < 0)
		log_warn("pair: cannot filter conntrack events in the kernel (%m): the daemon reads "
			 "them all");
	/* after the socket listens: nothing falls between the dump and the events */
	sync_table(m, false);
	log_info("pair mode: trigger connections marked 0x%x/0x%x; those the other router marked open "
		 "forwardings here", c->pair_mark, c->pair_mask);
}

static void release_watch(struct watch *w)
{
	free(container_of(w, struct paird_watch, w));
}

void paird_close(struct manager *m)
{
	struct paird *pd = &m->pd;

	if (pd->nl) {
		/* its events pending in this dispatch are dropped; the watch goes after it */
		loop_del(m->loop, &pd->w->w, release_watch);
		mnl_socket_close(pd->nl);
	}
	pair_fini(&pd->pair);
	free(pd->v);
	memset(pd, 0, sizeof(*pd));
}
