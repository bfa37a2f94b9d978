/*
 * The daemon's side of the live events: what happened, put into a struct
 * event (lib/event.c formats it) and handed to the monitors. With no
 * monitor connected each of these returns at once.
 */
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "event.h"

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_event(struct daemon *d, struct event *ev)
{
	ev->time_ms = wall_ms();
	control_monitor_send(d, ev);
}

void events_engine(struct daemon *d, const struct engine_event *ev)
{
	struct event e = { .rule = ev->rule, .af = ev->af, .host = ev->host };
	const struct fwd *f = ev->fwd;

	if (!d->n_monitors)
		return;
	switch (ev->change) {
	case FWD_OPENED:
		e.kind = EVENT_OPENED;
		break;
	case FWD_REFRESHED:
		e.kind = EVENT_REFRESHED;
		break;
	case FWD_TAKEN_OVER:
		e.kind = EVENT_TAKEN_OVER;
		e.has_other = true;
		e.other = ev->old_host;
		break;
	case FWD_REFUSED:
		e.kind = EVENT_REFUSED;
		e.reason = "exclusive";
		e.has_other = true;
		e.other = ev->old_host;
		break;
	case FWD_OVER_HOST_LIMIT:
		e.kind = EVENT_REFUSED;
		e.reason = "max-per-host";
		break;
	case FWD_OVER_LIMIT:
		e.kind = EVENT_REFUSED;
		e.reason = "max-forwardings";
		break;
	}
	if (f && ev->rule->peer && e.kind != EVENT_REFUSED) {
		e.has_peer = true;
		e.peer = f->peer;
	}
	send_event(d, &e);
}

void events_fwd(struct daemon *d, int kind, const struct fwd *f)
{
	struct event e = { .kind = kind, .rule = f->rule, .af = f->af, .host = f->host,
			   .reason = d->closing ? d->closing : "reload" };

	if (!d->n_monitors)
		return;
	if (f->rule->peer) {
		e.has_peer = true;
		e.peer = f->peer;
	}
	send_event(d, &e);
}

void events_forged(struct daemon *d, const struct nflog_pkt *pkt, const char *reason,
		   const char *indev)
{
	struct event e = { .kind = EVENT_FORGED, .af = pkt->af, .host = pkt->saddr,
			   .proto = pkt->proto, .port = pkt->dport, .ifname = indev, .reason = reason };

	if (d->n_monitors)
		send_event(d, &e);
}

void events_reloaded(struct daemon *d)
{
	struct event e = { .kind = EVENT_RELOADED, .n_rules = d->eng.cfg ? d->eng.cfg->n_rules : 0,
			   .n_forwardings = d->eng.fwt.n };

	if (d->n_monitors)
		send_event(d, &e);
}

void events_learned(struct daemon *d, const struct learn_record *rec, uint16_t port)
{
	struct event e = { .kind = EVENT_LEARNED, .af = rec->af, .host = rec->host, .has_peer = true,
			   .peer = rec->peer, .proto = rec->proto, .port = port };

	if (!d->n_monitors)
		return;
	e.rule = d->eng.cfg ? config_find_rule(d->eng.cfg, rec->rule) : NULL;
	if (e.rule)
		send_event(d, &e);
}
