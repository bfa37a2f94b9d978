/*
 * The trace of one host's packets, told in plain words; see trace.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json.h"
#include "trace.h"

struct trace_pkt {
	bool used;
	uint32_t ids[6];		/* the trace ids it had, one per hook */
	size_t n_ids;
	int af;
	union inaddr src, dst, dnat;
	bool has_dnat;
	uint8_t proto;
	uint16_t sport, dport, ipid;
	bool out;			/* from HOST */
	char iifname[17], oifname[17];
	uint64_t wall_ms, last;
	/* the verdict */
	bool dropped, policy;
	uint32_t family;
	char table[TRACE_NAME_MAX], chain[TRACE_NAME_MAX];
	uint64_t handle;
	/* what our own table did */
	bool trigger, forged, limited, logged, our_dnat, pinhole, guard, forward_hook;
	char notes[2][TRACE_NOTE_MAX];
	size_t n_notes;
};

int tracer_init(struct tracer *t, int af, const union inaddr *host)
{
	memset(t, 0, sizeof(*t));
	t->pkts = calloc(TRACE_PENDING_MAX, sizeof(*t->pkts));
	if (!t->pkts)
		return -ENOMEM;
	t->af = af;
	t->host = *host;
	return 0;
}

void tracer_fini(struct tracer *t)
{
	free(t->pkts);
	t->pkts = NULL;
}

static size_t addr_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

/* The flow of the headers in EV: 0, or -EINVAL if they are not IPv4 or IPv6 (with ports). */
static int parse_headers(const struct trace_event *ev, struct trace_pkt *k)
{
	const uint8_t *h = ev->nh;

	memset(k, 0, sizeof(*k));
	if (ev->nh_len >= 20 && (h[0] >> 4) == 4) {
		k->af = AF_INET;
		k->proto = h[9];
		k->ipid = (uint16_t)(h[4] << 8 | h[5]);
		memcpy(&k->src.v4, h + 12, 4);
		memcpy(&k->dst.v4, h + 16, 4);
	} else if (ev->nh_len >= 40 && (h[0] >> 4) == 6) {
		k->af = AF_INET6;
		k->proto = h[6];
		memcpy(&k->src.v6, h + 8, 16);
		memcpy(&k->dst.v6, h + 24, 16);
	} else {
		return -EINVAL;
	}
	if ((k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) && ev->th_len >= 4) {
		k->sport = (uint16_t)(ev->th[0] << 8 | ev->th[1]);
		k->dport = (uint16_t)(ev->th[2] << 8 | ev->th[3]);
	}
	return 0;
}

static struct trace_pkt *by_id(struct tracer *t, uint32_t id)
{
	for (size_t i = 0; i < TRACE_PENDING_MAX; i++)
		for (size_t k = 0; t->pkts[i].used && k < t->pkts[i].n_ids; k++)
			if (t->pkts[i].ids[k] == id)
				return &t->pkts[i];
	return NULL;
}

/*
 * The packet K continues, in a later hook: same source, protocol and
 * ports (a DNAT changes the destination), same IPv4 id.
 */
static struct trace_pkt *by_flow(struct tracer *t, const struct trace_pkt *k)
{
	for (size_t i = 0; i < TRACE_PENDING_MAX; i++) {
		struct trace_pkt *p = &t->pkts[i];

		if (p->used && p->af == k->af && p->proto == k->proto && p->sport == k->sport &&
		    p->ipid == k->ipid && !memcmp(&p->src, &k->src, addr_len(k->af)) &&
		    (p->dport == k->dport || p->has_dnat || p->our_dnat))
			return p;
	}
	return NULL;
}

static bool ours(const struct tracer *t, const struct trace_event *ev)
{
	return t->own_table && ev->family == NFPROTO_INET && !strcmp(ev->table, t->own_table);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* What a decision in our own table means. */
static void own_event(struct trace_pkt *p, const struct trace_event *ev)
{
	const char *c = ev->chain;

	if (ev->type != NFT_TRACETYPE_RULE || !ev->has_verdict)
		return;
	if (!strcmp(c, "trigger") && ev->verdict == NFT_JUMP)
		p->trigger = true;
	else if ((starts(c, "trig_vetted") || !strcmp(c, "trig_shared") || !strcmp(c, "trigger4") ||
		  !strcmp(c, "trigger6")) && ev->verdict == NFT_RETURN)
		p->limited = true;	/* over its machine's budget, or the shared one */
	else if (!strcmp(c, "trig_forged"))
		p->forged = true;
	else if (!strcmp(c, "trig_log"))
		p->logged = true;
	else if (starts(c, "d4_") && ev->verdict == NF_ACCEPT)
		p->our_dnat = true;
	else if (starts(c, "p6_"))
		p->pinhole = true;
	else if (!strcmp(c, "pinhole") && ev->verdict == NF_DROP)
		p->guard = true;
}

/* ID now names P alone: the kernel may give a later packet an id an earlier one had. */
static void bind_id(struct tracer *t, struct trace_pkt *p, uint32_t id)
{
	for (size_t i = 0; i < TRACE_PENDING_MAX; i++) {
		struct trace_pkt *q = &t->pkts[i];

		for (size_t k = 0; q->used && k < q->n_ids; k++)
			if (q->ids[k] == id) {
				if (q == p)
					return;
				q->ids[k] = q->ids[--q->n_ids];
				break;
			}
	}
	if (p->n_ids == ARRAY_SIZE(p->ids))
		memmove(p->ids, p->ids + 1, --p->n_ids * sizeof(p->ids[0]));
	p->ids[p->n_ids++] = id;
}

void tracer_feed(struct tracer *t, const struct trace_event *ev, uint64_t now, uint64_t wall_ms)
{
	struct trace_pkt *p = NULL, k;

	/* headers (the first event of each hook) say which packet it is; the id, the rest */
	if (ev->nh_len && parse_headers(ev, &k) == 0) {
		p = by_flow(t, &k);
		if (!p) {
			for (size_t i = 0; i < TRACE_PENDING_MAX && !p; i++)
				if (!t->pkts[i].used)
					p = &t->pkts[i];
			if (!p) {
				t->not_shown++;
				return;
			}
			*p = k;
			p->used = true;
			p->wall_ms = wall_ms;
			p->out = k.af == t->af && !memcmp(&k.src, &t->host, addr_len(k.af));
			snprintf(p->iifname, sizeof(p->iifname), "%s", ev->iifname);
		} else if (memcmp(&k.dst, &p->dst, addr_len(k.af))) {
			p->has_dnat = true;
			p->dnat = k.dst;
		}
		bind_id(t, p, ev->id);
	} else if (!ev->nh_len) {
		p = by_id(t, ev->id);
	}
	if (!p || p->dropped)
		return;
	p->last = now;
	if (ev->oif) {
		p->forward_hook = true;
		if (!p->oifname[0])
			snprintf(p->oifname, sizeof(p->oifname), "%s", ev->oifname);
	}
	if (ours(t, ev)) {
		own_event(p, ev);
		if (!p->guard)
			return;
	}
	if (ev->has_verdict && ev->verdict == NF_DROP) {
		p->dropped = true;
		p->policy = ev->type == NFT_TRACETYPE_POLICY;
		p->family = ev->family;
		snprintf(p->table, sizeof(p->table), "%s", ev->table);
		snprintf(p->chain, sizeof(p->chain), "%s", ev->chain);
		p->handle = ev->handle;
	}
}

void tracer_note(struct tracer *t, int af, const union inaddr *host, const char *what)
{
	struct trace_pkt *best = NULL;

	if (af != t->af || memcmp(host, &t->host, addr_len(af)))
		return;
	/* the latest trigger of HOST still followed */
	for (size_t i = 0; i < TRACE_PENDING_MAX; i++) {
		struct trace_pkt *p = &t->pkts[i];

		if (p->used && p->out && (p->logged || p->trigger) && p->n_notes < ARRAY_SIZE(p->notes) &&
		    (!best || p->wall_ms >= best->wall_ms))
			best = p;
	}
	if (best)
		snprintf(best->notes[best->n_notes++], TRACE_NOTE_MAX, "%s", what);
}

static const char *family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_NETDEV: return "netdev";
	case NFPROTO_ARP: return "arp";
	}
	return "?";
}

static const char *l4_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp" :
	       p == IPPROTO_ICMPV6 ? "icmpv6" : "other";
}

static bool covers(const struct portrange *v, size_t n, uint8_t proto, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].proto == proto && v[i].lo <= port && port <= v[i].hi)
			return true;
	return false;
}

static bool family_ok(const struct rule *r, int af)
{
	return r->family & (af == AF_INET ? RULE_FAMILY_IPV4 : RULE_FAMILY_IPV6);
}

/* The rules PORT triggers (comma list in BUF), or "" */
static void triggered_rules(const struct tracer *t, const struct trace_pkt *p, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT(buf, size);

	buf[0] = '\0';
	for (size_t i = 0; t->cfg && i < t->cfg->n_rules; i++) {
		const struct rule *r = t->cfg->rules[i];

		if (!r->is_static && family_ok(r, p->af) && covers(r->triggers, r->n_triggers, p->proto, p->dport))
			strbuf_printf(&sb, "%s%s", sb.len ? ", " : "", r->name);
	}
}

static const char *forwarding_rule(const struct tracer *t, const struct trace_pkt *p)
{
	for (size_t i = 0; t->cfg && i < t->cfg->n_rules; i++) {
		const struct rule *r = t->cfg->rules[i];

		if (family_ok(r, p->af) && covers(r->forwards, r->n_forwards, p->proto, p->dport))
			return r->name;
	}
	return NULL;
}

struct report {
	char text[1024];
	struct strbuf sb;
	char rule[160];		/* the dropping rule, described */
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], dnat[INET6_ADDRSTRLEN];
	char triggers[256];
	const char *fwd_rule;
	bool wan;		/* left by a WAN interface */
};

static void say_drop(const struct trace_pkt *p, struct report *r, const char *prefix)
{
	strbuf_printf(&r->sb, "%sdropped by table %s %s, chain %s", prefix, family_name(p->family),
		      p->table, p->chain);
	if (p->policy)
		strbuf_printf(&r->sb, " (its policy)");
	else if (p->handle)
		strbuf_printf(&r->sb, ", rule handle %llu%s%s%s", (unsigned long long)p->handle,
			      r->rule[0] ? " (" : "", r->rule, r->rule[0] ? ")" : "");
}

static void say_out(const struct tracer *t, const struct trace_pkt *p, struct report *r)
{
	if (p->dropped) {
		say_drop(p, r, "");
		if (r->triggers[0])
			strbuf_printf(&r->sb, ": a connection the firewall drops triggers nothing "
				      "(trigger of %s)", r->triggers);
		return;
	}
	if (!p->oifname[0]) {
		strbuf_printf(&r->sb, "not forwarded (for the router itself): triggers nothing");
		return;
	}
	if (!r->wan) {
		strbuf_printf(&r->sb, "accepted, left by %s, which is not a WAN interface: triggers nothing",
			      p->oifname);
		return;
	}
	strbuf_printf(&r->sb, "accepted, left by %s (WAN)", p->oifname);
	if (!r->triggers[0]) {
		strbuf_printf(&r->sb, "; %u/%s is no rule's trigger", p->dport, l4_name(p->proto));
		return;
	}
	strbuf_printf(&r->sb, "; trigger of %s", r->triggers);
	if (p->forged)
		strbuf_printf(&r->sb, ": forged, the kernel's source check refused it (the route back "
			      "leaves by another interface, or not a unicast source): opens nothing");
	else if (p->limited)
		strbuf_printf(&r->sb, ": rate-limited, this host sends more than 200 triggers a second: "
			      "not passed to ipautofwd");
	else if (!p->trigger && !p->logged)
		strbuf_printf(&r->sb, ": ipautofw's trigger chain did not take it (not a new connection?)");
	for (size_t i = 0; i < p->n_notes; i++)
		strbuf_printf(&r->sb, "%s%s", i ? "; " : ": ipautofwd ", p->notes[i]);
	if (!p->n_notes && p->logged)
		strbuf_printf(&r->sb, ": passed to ipautofwd, which changed nothing");
}

static void say_in(const struct tracer *t, const struct trace_pkt *p, struct report *r,
		   uint32_t mark, uint32_t mask)
{
	if (p->has_dnat && p->our_dnat && r->fwd_rule)
		strbuf_printf(&r->sb, "DNATed to %s by ipautofw (rule %s)", r->dnat, r->fwd_rule);
	else if (p->has_dnat)
		strbuf_printf(&r->sb, "DNATed to %s%s", r->dnat, p->our_dnat ? " by ipautofw" : "");
	else if (p->pinhole)
		strbuf_printf(&r->sb, "through the pinhole of %s%s", r->fwd_rule ? "rule " : "",
			      r->fwd_rule ? r->fwd_rule : "ipautofw");
	else if (p->forward_hook)
		strbuf_printf(&r->sb, "no forwarding of ipautofw holds %u/%s", p->dport, l4_name(p->proto));
	else if (r->fwd_rule)
		strbuf_printf(&r->sb, "to the router itself: no forwarding holds %u/%s (rule %s has none "
			      "active)", p->dport, l4_name(p->proto), r->fwd_rule);
	else
		strbuf_printf(&r->sb, "to the router itself: no forwarding holds %u/%s", p->dport,
			      l4_name(p->proto));
	if (p->dropped) {
		say_drop(p, r, ", then ");
		if (p->guard)
			strbuf_printf(&r->sb, ": pinhole-guard, no pinhole covers it");
		else if (p->has_dnat && p->our_dnat && p->forward_hook)
			strbuf_printf(&r->sb, ": that chain needs 'ct status dnat accept' before the drop");
		else if (p->pinhole && p->forward_hook)
			strbuf_printf(&r->sb, ": that chain needs 'meta mark and 0x%x == 0x%x accept' "
				      "before the drop", mask, mark);
		return;
	}
	if (p->oifname[0])
		strbuf_printf(&r->sb, ", accepted, left by %s", p->oifname);
	else
		strbuf_printf(&r->sb, ", accepted");
}

static void emit(struct tracer *t, struct trace_pkt *p, bool json, tracer_rule_fn rule, void *data,
		 struct dynbuf *out)
{
	struct report r = { .sb = STRBUF_INIT(r.text, sizeof(r.text)) };
	uint32_t mark = t->cfg ? t->cfg->pinhole_mark : 0x10000000, mask = t->cfg ? t->cfg->pinhole_mask : mark;
	char when[32];
	time_t secs = p->wall_ms / 1000;
	struct tm tm;

	inet_ntop(p->af, &p->src, r.src, sizeof(r.src));
	inet_ntop(p->af, &p->dst, r.dst, sizeof(r.dst));
	if (p->has_dnat)
		inet_ntop(p->af, &p->dnat, r.dnat, sizeof(r.dnat));
	if (p->dropped && !p->policy && p->handle && rule)
		rule(p->family, p->table, p->chain, p->handle, r.rule, sizeof(r.rule), data);
	triggered_rules(t, p, r.triggers, sizeof(r.triggers));
	r.fwd_rule = forwarding_rule(t, p);
	r.wan = p->oifname[0] && t->wan && iflist_match(t->wan, p->oifname);
	if (p->out)
		say_out(t, p, &r);
	else
		say_in(t, p, &r, mark, mask);
	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (!json) {
		dynbuf_printf(out, "%s.%03u %s %s -> %s %u/%s on %s: %s\n", when,
			      (unsigned)(p->wall_ms % 1000), p->out ? "out" : "in", r.src, r.dst,
			      p->dport, l4_name(p->proto), p->iifname[0] ? p->iifname : "?", r.text);
	} else {
		struct json j;

		json_init_line(&j, out);
		json_object(&j, NULL);
		json_fixed(&j, "time", p->wall_ms, 3);
		json_str(&j, "direction", p->out ? "out" : "in");
		json_str(&j, "family", p->af == AF_INET ? "ipv4" : "ipv6");
		json_str(&j, "proto", l4_name(p->proto));
		json_str(&j, "src", r.src);
		json_u64(&j, "sport", p->sport);
		json_str(&j, "dst", r.dst);
		json_u64(&j, "dport", p->dport);
		json_str(&j, "iif", p->iifname);
		if (p->oifname[0]) {
			json_str(&j, "oif", p->oifname);
			json_bool(&j, "oif_wan", r.wan);
		} else {
			json_null(&j, "oif");
			json_null(&j, "oif_wan");
		}
		json_str(&j, "verdict", p->dropped ? "dropped" : "accepted");
		if (p->dropped) {
			char fam_table[TRACE_NAME_MAX + 8];

			snprintf(fam_table, sizeof(fam_table), "%s %s", family_name(p->family), p->table);
			json_str(&j, "table", fam_table);
			json_str(&j, "chain", p->chain);
			if (p->policy)
				json_null(&j, "handle");
			else
				json_u64(&j, "handle", p->handle);
			json_bool(&j, "policy", p->policy);
			if (r.rule[0])
				json_str(&j, "rule", r.rule);
			else
				json_null(&j, "rule");
		}
		if (p->has_dnat)
			json_str(&j, "dnat", r.dnat);
		else
			json_null(&j, "dnat");
		json_bool(&j, "pinhole", p->pinhole);
		json_bool(&j, "trigger", r.triggers[0] != '\0');
		json_bool(&j, "forged", p->forged);
		json_bool(&j, "rate_limited", p->limited);
		json_array(&j, "ipautofwd");
		for (size_t i = 0; i < p->n_notes; i++)
			json_str(&j, NULL, p->notes[i]);
		json_end(&j);
		json_str(&j, "text", r.text);
		json_end(&j);
	}
	t->shown++;
	memset(p, 0, sizeof(*p));
}

uint64_t tracer_due(struct tracer *t, uint64_t now, bool json, tracer_rule_fn rule, void *data,
		    struct dynbuf *out)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < TRACE_PENDING_MAX; i++) {
		struct trace_pkt *p = &t->pkts[i];

		if (!p->used)
			continue;
		/* a dropped trigger waits too: ipautofwd's word on it, if any, comes after */
		if (now >= p->last + TRACE_QUIET_MS)
			emit(t, p, json, rule, data, out);
		else if (p->last + TRACE_QUIET_MS < next)
			next = p->last + TRACE_QUIET_MS;
	}
	return next;
}
