/*
 * The daemon's side of learn mode: the second NFLOG group's socket, and
 * the hooks that keep lib/learn.c told of triggers, closed forwardings and
 * configuration changes. The kernel's rules come with the table; their
 * set elements are written in the same batches as the forwardings.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "daemon.h"
#include "log.h"

#define LEARN_READS_PER_TURN 16

static void on_learned(const struct learn_record *rec, uint16_t port, void *data)
{
	events_learned(data, rec, port);
}

static void on_pkt(const struct nflog_pkt *pkt, int err, void *data)
{
	struct daemon *d = data;

	if (err < 0 || pkt->group != d->learn_group)
		return;
	learn_packet(&d->learn, pkt, now_ms(), on_learned, d);
}

/* Bounded work per turn: a flood (already rate-limited by the kernel) never starves triggers. */
static void learn_cb_watch(struct daemon *d, struct watch *w, uint32_t events)
{
	int r = nflogsock_read(d->learn_nflog, LEARN_READS_PER_TURN, on_pkt, d);

	if (r < 0 && r != -ENOBUFS)
		log_debug("learn NFLOG read: %s", strerror(-r));
}

int learnd_open(struct daemon *d)
{
	int err = 0;

	d->learn_nflog = nflogsock_open(d->learn_group, &err);
	if (!d->learn_nflog)
		return err;
	d->learn_w.fd = mnl_socket_get_fd(d->learn_nflog);
	d->learn_w.cb = learn_cb_watch;
	return daemon_watch(d, &d->learn_w, EPOLLIN);
}

void learnd_close(struct daemon *d)
{
	if (d->learn_nflog)
		mnl_socket_close(d->learn_nflog);
	d->learn_nflog = NULL;
	learn_fini(&d->learn);
}

void learnd_event(struct daemon *d, const struct engine_event *ev)
{
	int r;

	if (ev->change != FWD_OPENED && ev->change != FWD_REFRESHED && ev->change != FWD_TAKEN_OVER)
		return;
	if (ev->change == FWD_TAKEN_OVER)
		learn_forget(&d->learn, ev->rule->name, ev->af, &ev->old_host);
	r = learn_contact(&d->learn, ev->rule, ev->af, &ev->host, &ev->dst, now_ms());
	if (r < 0)
		log_debug("learn mode: %s", strerror(-r));
}

void learnd_closed(struct daemon *d, const struct fwd *f)
{
	if (!f->rule->is_static)
		learn_forget(&d->learn, f->rule->name, f->af, &f->host);
}

bool learnd_config(struct daemon *d)
{
	bool on = d->eng.cfg->learn;

	learn_keep_rules(&d->learn, d->eng.cfg);
	if (on == d->table_learn)
		return false;
	learn_set_enabled(&d->learn, on);
	log_info("learn mode %s", on ? "on" : "off");
	return true;
}
