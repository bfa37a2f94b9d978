/*
 * The daemon's side of the live events: what happened, put into a struct
 * event (lib/control/event.c formats it) and handed to the manager's event hook
 * (the monitors). With no one listening each of these returns at once.
 */
#include <string.h>
#include <time.h>

#include "manager.h"
#include "control/event.h"

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_event(struct manager *m, struct event *ev)
{
	ev->time_ms = wall_ms();
	if (m->event_hook)
		m->event_hook(ev, m->event_data);
}

/* What each change of a trigger's forwarding is to a monitor; OTHER: the holder is named */
static const struct {
	enum event_kind kind;
	const char *reason;
	bool other;
} changes[] = {
	[FWD_OPENED] = { EVENT_OPENED, NULL, false },
	[FWD_REFRESHED] = { EVENT_REFRESHED, NULL, false },
	[FWD_TAKEN_OVER] = { EVENT_TAKEN_OVER, NULL, true },
	[FWD_REFUSED] = { EVENT_REFUSED, "exclusive", true },
	[FWD_OVER_HOST_LIMIT] = { EVENT_REFUSED, "max-per-host", false },
	[FWD_OVER_LIMIT] = { EVENT_REFUSED, "max-forwardings", false },
};

void events_trigger(struct manager *m, const struct trigger_event *ev)
{
	struct event e = { .kind = changes[ev->change].kind, .rule = ev->rule, .af = ev->af,
			   .host = ev->host, .id = ev->id, .reason = changes[ev->change].reason };
	const struct fwd *f = ev->fwd;

	if (!m->listeners)
		return;
	if (changes[ev->change].other) {
		e.has_other = true;
		e.other = ev->old_host;
	}
	if (f && ev->rule->peer && e.kind != EVENT_REFUSED) {
		e.has_peer = true;
		e.peer = f->peer;
	}
	send_event(m, &e);
}

void events_fwd(struct manager *m, int kind, const struct fwd *f)
{
	struct event e = { .kind = kind, .rule = f->rule, .af = f->af, .host = f->host, .id = f->id,
			   .reason = m->closing ? m->closing : "reload" };

	if (!m->listeners)
		return;
	if (f->rule->peer) {
		e.has_peer = true;
		e.peer = f->peer;
	}
	send_event(m, &e);
}

void events_forged(struct manager *m, const struct nflog_pkt *pkt, const char *reason,
		   const char *indev)
{
	struct event e = { .kind = EVENT_FORGED, .af = pkt->af, .host = pkt->saddr,
			   .proto = pkt->proto, .port = pkt->dport, .ifname = indev, .reason = reason };

	/* the frame's link-layer source: who sent it, whatever address it claimed */
	hostid_link(pkt->hwaddr, pkt->hwlen, &e.id);
	if (m->listeners)
		send_event(m, &e);
}

void events_reloaded(struct manager *m)
{
	struct event e = { .kind = EVENT_RELOADED, .n_rules = manager_n_rules(m),
			   .n_forwardings = manager_n_forwardings(m) };

	if (m->listeners)
		send_event(m, &e);
}

void events_learned(struct manager *m, const struct learn_record *rec, uint16_t port)
{
	struct event e = { .kind = EVENT_LEARNED, .af = rec->af, .host = rec->host, .has_peer = true,
			   .peer = rec->peer, .proto = rec->proto, .port = port };

	if (!m->listeners)
		return;
	e.rule = manager_find_rule(m, rec->rule);
	if (e.rule)
		send_event(m, &e);
}

void manager_set_event_hook(struct manager *m, void (*hook)(const struct event *ev, void *data),
			    void *data)
{
	m->event_hook = hook;
	m->event_data = data;
}

void manager_set_listeners(struct manager *m, size_t listeners)
{
	m->listeners = listeners;
}
