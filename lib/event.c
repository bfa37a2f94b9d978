/*
 * Live events; see event.h. The text form reads as a sentence after the
 * time and the event's name; the JSON form always carries "event", "rule"
 * and "host" (null where there is none), then what the kind adds.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "event.h"

static const char *const names[EVENT__KINDS] = {
	[EVENT_OPENED] = "opened",
	[EVENT_REFRESHED] = "refreshed",
	[EVENT_TAKEN_OVER] = "taken_over",
	[EVENT_REFUSED] = "refused",
	[EVENT_EXPIRED] = "expired",
	[EVENT_CLOSED] = "closed",
	[EVENT_FORGED] = "forged",
	[EVENT_LEARNED] = "learned",
	[EVENT_RELOADED] = "reloaded",
};

const char *event_name(enum event_kind k)
{
	return k < EVENT__KINDS ? names[k] : "?";
}

static const char *addr(int af, const union inaddr *a, char *buf)
{
	return inet_ntop(af, a, buf, INET6_ADDRSTRLEN) ? buf : "?";
}

static void forwards(const struct rule *r, bool json, struct dynbuf *out)
{
	char tmp[32];

	for (size_t i = 0; i < r->n_forwards; i++) {
		portrange_format(&r->forwards[i], tmp, sizeof(tmp));
		dynbuf_printf(out, json ? "%s\"%s\"" : "%s%s", i ? "," : "", tmp);
	}
}

static void json_addr(struct dynbuf *out, const char *key, bool has, int af, const union inaddr *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (has)
		dynbuf_printf(out, ", \"%s\": \"%s\"", key, addr(af, a, buf));
	else
		dynbuf_printf(out, ", \"%s\": null", key);
}

static void format_json(const struct event *ev, struct dynbuf *out)
{
	const struct rule *r = ev->rule;

	dynbuf_printf(out, "{\"time\": %llu.%03u, \"event\": \"%s\", \"rule\": ",
		      (unsigned long long)(ev->time_ms / 1000), (unsigned)(ev->time_ms % 1000),
		      event_name(ev->kind));
	if (r)
		dynbuf_json_string(out, r->name);
	else
		dynbuf_printf(out, "null");
	json_addr(out, "host", ev->af != 0, ev->af, &ev->host);
	if (ev->af)
		dynbuf_printf(out, ", \"family\": \"%s\"", ev->af == AF_INET ? "ipv4" : "ipv6");
	switch (ev->kind) {
	case EVENT_OPENED:
	case EVENT_REFRESHED:
	case EVENT_TAKEN_OVER:
		json_addr(out, "peer", ev->has_peer, ev->af, &ev->peer);
		dynbuf_printf(out, ", \"forwards\": [");
		forwards(r, true, out);
		dynbuf_printf(out, "], \"timeout\": %u", r->timeout_s);
		if (ev->kind == EVENT_TAKEN_OVER)
			json_addr(out, "old_host", ev->has_other, ev->af, &ev->other);
		break;
	case EVENT_REFUSED:
		dynbuf_printf(out, ", \"reason\": \"%s\"", ev->reason);
		json_addr(out, "holder", ev->has_other, ev->af, &ev->other);
		break;
	case EVENT_EXPIRED:
	case EVENT_CLOSED:
		json_addr(out, "peer", ev->has_peer, ev->af, &ev->peer);
		if (ev->kind == EVENT_CLOSED)
			dynbuf_printf(out, ", \"reason\": \"%s\"", ev->reason);
		break;
	case EVENT_FORGED:
		dynbuf_printf(out, ", \"proto\": \"%s\", \"port\": %u, \"interface\": ",
			      proto_name(ev->proto), ev->port);
		dynbuf_json_string(out, ev->ifname ? ev->ifname : "");
		dynbuf_printf(out, ", \"reason\": \"%s\"", ev->reason);
		break;
	case EVENT_LEARNED:
		json_addr(out, "peer", ev->has_peer, ev->af, &ev->peer);
		dynbuf_printf(out, ", \"proto\": \"%s\", \"port\": %u", proto_name(ev->proto), ev->port);
		break;
	case EVENT_RELOADED:
		dynbuf_printf(out, ", \"rules\": %zu, \"forwardings\": %zu", ev->n_rules,
			      ev->n_forwardings);
		break;
	default:
		break;
	}
	dynbuf_printf(out, "}\n");
}

static void format_text(const struct event *ev, struct dynbuf *out)
{
	const struct rule *r = ev->rule;
	char host[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN], other[INET6_ADDRSTRLEN], dur[32];
	time_t t = ev->time_ms / 1000;
	struct tm tm;

	localtime_r(&t, &tm);
	dynbuf_printf(out, "%02d:%02d:%02d.%03u %s", tm.tm_hour, tm.tm_min, tm.tm_sec,
		      (unsigned)(ev->time_ms % 1000), event_name(ev->kind));
	if (r)
		dynbuf_printf(out, " %s:", r->name);
	if (ev->af)
		addr(ev->af, &ev->host, host);
	if (ev->has_peer)
		addr(ev->af, &ev->peer, peer);
	if (ev->has_other)
		addr(ev->af, &ev->other, other);
	switch (ev->kind) {
	case EVENT_OPENED:
	case EVENT_REFRESHED:
	case EVENT_TAKEN_OVER:
		dynbuf_printf(out, " ");
		forwards(r, false, out);
		dynbuf_printf(out, " to %s", host);
		if (ev->has_peer)
			dynbuf_printf(out, " for peer %s", peer);
		duration_format(r->timeout_s, dur, sizeof(dur));
		dynbuf_printf(out, ", %s", dur);
		if (ev->kind == EVENT_TAKEN_OVER && ev->has_other)
			dynbuf_printf(out, ", taken from %s", other);
		break;
	case EVENT_REFUSED:
		dynbuf_printf(out, " trigger from %s (%s", host, ev->reason);
		if (ev->has_other)
			dynbuf_printf(out, ", held by %s", other);
		dynbuf_printf(out, ")");
		break;
	case EVENT_EXPIRED:
	case EVENT_CLOSED:
		dynbuf_printf(out, " forwarding to %s", host);
		if (ev->has_peer)
			dynbuf_printf(out, " for peer %s", peer);
		if (ev->kind == EVENT_CLOSED)
			dynbuf_printf(out, " (%s)", ev->reason);
		break;
	case EVENT_FORGED:
		dynbuf_printf(out, " %u/%s from %s on ", ev->port, proto_name(ev->proto), host);
		dynbuf_append_escaped(out, ev->ifname ? ev->ifname : "?",
				      strlen(ev->ifname ? ev->ifname : "?"));
		dynbuf_printf(out, ": %s", ev->reason);
		break;
	case EVENT_LEARNED:
		dynbuf_printf(out, " peer %s tried %u/%s (host %s)", ev->has_peer ? peer : "?",
			      ev->port, proto_name(ev->proto), host);
		break;
	case EVENT_RELOADED:
		dynbuf_printf(out, " %zu rule%s, %zu forwarding%s", ev->n_rules,
			      ev->n_rules == 1 ? "" : "s", ev->n_forwardings,
			      ev->n_forwardings == 1 ? "" : "s");
		break;
	default:
		break;
	}
	dynbuf_printf(out, "\n");
}

void event_format(const struct event *ev, bool json, struct dynbuf *out)
{
	if (json)
		format_json(ev, out);
	else
		format_text(ev, out);
}
