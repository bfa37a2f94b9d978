/*
 * Live events; see event.h. The text form reads as a sentence after the
 * time and the event's name; the JSON form always carries "event", "rule"
 * and "host" (null where there is none), then what the kind adds.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "base/json.h"

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

static void forwards(const struct rule *r, struct dynbuf *out)
{
	size_t len = portlist_format(r->forwards, r->n_forwards, NULL, 0);
	char *text = malloc(len + 1);

	if (!text) {
		out->oom = true;
		return;
	}
	portlist_format(r->forwards, r->n_forwards, text, len + 1);
	dynbuf_append(out, text, len);
	free(text);
}

static void json_addr(struct json *j, const char *key, bool has, int af, const union inaddr *a)
{
	char buf[INET6_ADDRSTRLEN];

	json_str(j, key, has ? addr(af, a, buf) : NULL);
}

static void format_json(const struct event *ev, struct dynbuf *out)
{
	const struct rule *r = ev->rule;
	char tmp[32];
	struct json j;

	json_init_line(&j, out);
	json_object(&j, NULL);
	json_fixed(&j, "time", ev->time_ms, 3);
	json_str(&j, "event", event_name(ev->kind));
	json_str(&j, "rule", r ? r->name : NULL);
	json_addr(&j, "host", ev->af != 0, ev->af, &ev->host);
	if (ev->af) {
		char ll[HOSTID_LLADDR_LEN];

		json_str(&j, "host_lladdr", hostid_lladdr(&ev->id, ll)[0] ? ll : NULL);
	}
	if (ev->af)
		json_str(&j, "family", ev->af == AF_INET ? "ipv4" : "ipv6");
	switch (ev->kind) {
	case EVENT_OPENED:
	case EVENT_REFRESHED:
	case EVENT_TAKEN_OVER:
		json_addr(&j, "peer", ev->has_peer, ev->af, &ev->peer);
		json_array(&j, "forwards");
		for (size_t i = 0; i < r->n_forwards; i++) {
			portrange_format(&r->forwards[i], tmp, sizeof(tmp));
			json_str(&j, NULL, tmp);
		}
		json_end(&j);
		json_u64(&j, "timeout", r->timeout_s);
		if (ev->kind == EVENT_TAKEN_OVER)
			json_addr(&j, "old_host", ev->has_other, ev->af, &ev->other);
		break;
	case EVENT_REFUSED:
		json_str(&j, "reason", ev->reason);
		json_addr(&j, "holder", ev->has_other, ev->af, &ev->other);
		break;
	case EVENT_EXPIRED:
	case EVENT_CLOSED:
		json_addr(&j, "peer", ev->has_peer, ev->af, &ev->peer);
		if (ev->kind == EVENT_CLOSED)
			json_str(&j, "reason", ev->reason);
		break;
	case EVENT_FORGED:
		json_str(&j, "proto", proto_name(ev->proto));
		json_u64(&j, "port", ev->port);
		json_str(&j, "interface", ev->ifname ? ev->ifname : "");
		json_str(&j, "reason", ev->reason);
		break;
	case EVENT_LEARNED:
		json_addr(&j, "peer", ev->has_peer, ev->af, &ev->peer);
		json_str(&j, "proto", proto_name(ev->proto));
		json_u64(&j, "port", ev->port);
		break;
	case EVENT_RELOADED:
		json_u64(&j, "rules", ev->n_rules);
		json_u64(&j, "forwardings", ev->n_forwardings);
		break;
	default:
		break;
	}
	json_end(&j);
}

static void format_text(const struct event *ev, struct dynbuf *out)
{
	const struct rule *r = ev->rule;
	char host[INET6_ADDRSTRLEN + HOSTID_LLADDR_LEN + 3], peer[INET6_ADDRSTRLEN];
	char other[INET6_ADDRSTRLEN], dur[32], ll[HOSTID_LLADDR_LEN];
	time_t t = ev->time_ms / 1000;
	struct tm tm;

	localtime_r(&t, &tm);
	dynbuf_printf(out, "%02d:%02d:%02d.%03u %s", tm.tm_hour, tm.tm_min, tm.tm_sec,
		      (unsigned)(ev->time_ms % 1000), event_name(ev->kind));
	if (r)
		dynbuf_printf(out, " %s:", r->name);
	if (ev->af)
		addr(ev->af, &ev->host, host);
	if (ev->af && hostid_lladdr(&ev->id, ll)[0])
		snprintf(host + strlen(host), sizeof(host) - strlen(host), " (%s)", ll);
	if (ev->has_peer)
		addr(ev->af, &ev->peer, peer);
	if (ev->has_other)
		addr(ev->af, &ev->other, other);
	switch (ev->kind) {
	case EVENT_OPENED:
	case EVENT_REFRESHED:
	case EVENT_TAKEN_OVER:
		dynbuf_printf(out, " ");
		forwards(r, out);
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
