/*
 * The daemon's side of learn mode: the second NFLOG group's socket, and
 * the hooks that keep lib/engine/learn.c told of triggers, closed forwardings and
 * configuration changes. The kernel's rules come with the table; their
 * set elements are written in the same batches as the forwardings (alone,
 * at most every LEARN_WRITE_GAP_MS).
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "control/view.h"
#include "manager.h"
#include "log.h"

#define LEARN_READS_PER_TURN 16

static void on_learned(const struct learn_record *rec, uint16_t port, void *data)
{
	struct manager *m = data;

	m->cnt.learned++;
	events_learned(m, rec, port);
}

static void on_pkt(const struct nflog_pkt *pkt, int err, void *data)
{
	struct manager *m = data;

	if (err < 0 || pkt->group != m->opt.learn_group)
		return;
	learn_packet(&m->learn, pkt, now_ms(), on_learned, m);
}

/* Bounded work per turn: a flood (already rate-limited by the kernel) never starves triggers. */
static void learn_fn(struct watch *w, uint32_t events)
{
	struct manager *m = container_of(w, struct manager, learn_w);
	int r = nflogsock_read(m->learn_nflog, LEARN_READS_PER_TURN, on_pkt, m);

	if (r < 0 && r != -ENOBUFS)
		log_debug("learn NFLOG read: %s", strerror(-r));
}

int learnd_open(struct manager *m)
{
	int err = 0;

	m->learn_nflog = nflogsock_open(m->opt.learn_group, &err);
	if (!m->learn_nflog)
		return err;
	return loop_add(m->loop, &m->learn_w, mnl_socket_get_fd(m->learn_nflog), learn_fn, EPOLLIN);
}

void learnd_close(struct manager *m)
{
	if (m->learn_nflog)
		mnl_socket_close(m->learn_nflog);
	m->learn_nflog = NULL;
}

void learnd_event(struct manager *m, const struct trigger_event *ev)
{
	int r;

	if (ev->change != FWD_OPENED && ev->change != FWD_REFRESHED && ev->change != FWD_TAKEN_OVER)
		return;
	if (ev->change == FWD_TAKEN_OVER)
		learn_forget(&m->learn, ev->rule->name, ev->af, &ev->old_host);
	r = learn_contact(&m->learn, ev->rule, ev->af, &ev->host, &ev->dst, now_ms());
	if (r < 0)
		log_debug("learn mode: %s", strerror(-r));
}

void learnd_closed(struct manager *m, const struct fwd *f)
{
	if (!f->rule->is_static)
		learn_forget(&m->learn, f->rule->name, f->af, &f->host);
}

bool learnd_config(struct manager *m)
{
	const struct config *c = view_config(&m->eng);
	bool on = c->learn;

	learn_keep_rules(&m->learn, c);
	if (on == m->table_learn)
		return false;
	learn_set_enabled(&m->learn, on);
	log_info("learn mode %s", on ? "on" : "off");
	return true;
}
