/*
 * Learn mode's report; see learnreport.h. A suggestion starts from the
 * rule's forwards and every recorded range, joins what lies close, and
 * takes out what a rule of a family in common forwards already.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "learnreport.h"

static int push_range(struct portrange **v, size_t *n, uint8_t proto, uint16_t lo, uint16_t hi)
{
	struct portrange *p = realloc(*v, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*v = p;
	p[(*n)++] = (struct portrange){ .proto = proto, .lo = lo, .hi = hi };
	return 0;
}

/* Whether Q's forwards may not overlap R's (a configuration error): a family in common. */
static bool competes(const struct rule *r, const struct rule *q)
{
	return q != r && (q->family & r->family);
}

/* V less every range of Q (a range may split in two). */
static int subtract(struct portrange **v, size_t *n, const struct portrange *q)
{
	for (size_t i = 0; i < *n; i++) {
		struct portrange *p = &(*v)[i];

		if (p->proto != q->proto || q->hi < p->lo || q->lo > p->hi)
			continue;
		if (q->lo > p->lo && q->hi < p->hi) {
			uint16_t hi = p->hi;

			p->hi = q->lo - 1;
			if (push_range(v, n, q->proto, q->hi + 1, hi) < 0)
				return -ENOMEM;
		} else if (q->lo <= p->lo && q->hi >= p->hi) {
			(*v)[i--] = (*v)[--*n];
		} else if (q->lo <= p->lo) {
			p->lo = q->hi + 1;
		} else {
			p->hi = q->lo - 1;
		}
	}
	return 0;
}

int learnreport_suggest(const struct learn *l, const struct config *c, const struct rule *r,
			struct portrange **ret, size_t *ret_n)
{
	struct portrange *v = NULL;
	size_t n = 0, m = 0;
	int e = 0;

	for (size_t i = 0; i < r->n_forwards && e == 0; i++)
		e = push_range(&v, &n, r->forwards[i].proto, r->forwards[i].lo, r->forwards[i].hi);
	for (size_t i = 0; i < l->rec.n && e == 0; i++) {
		const struct learn_record *rec = l->rec.v[i];

		if (strcmp(rec->rule, r->name))
			continue;
		for (size_t k = 0; k < rec->n_ranges && e == 0; k++)
			e = push_range(&v, &n, rec->proto, rec->ranges[k].lo, rec->ranges[k].hi);
	}
	if (e < 0) {
		free(v);
		return e;
	}
	qsort(v, n, sizeof(*v), portrange_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m && v[m - 1].proto == v[i].proto &&
		    (uint32_t)v[m - 1].hi + LEARN_MERGE_GAP + 1 >= v[i].lo) {
			if (v[i].hi > v[m - 1].hi)
				v[m - 1].hi = v[i].hi;
			continue;
		}
		v[m++] = v[i];
	}
	n = m;
	for (size_t i = 0; c && i < c->n_rules && e == 0; i++)
		for (size_t k = 0; competes(r, c->rules[i]) && k < c->rules[i]->n_forwards && e == 0; k++)
			e = subtract(&v, &n, &c->rules[i]->forwards[k]);
	if (e < 0) {
		free(v);
		return e;
	}
	qsort(v, n, sizeof(*v), portrange_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

static void range_text(char *buf, size_t size, const struct learn_range *g)
{
	if (g->lo == g->hi)
		snprintf(buf, size, "%u", g->lo);
	else
		snprintf(buf, size, "%u-%u", g->lo, g->hi);
}

static unsigned long long ago_s(uint64_t now, uint64_t t)
{
	return now > t ? (now - t) / 1000 : 0;
}

static void record_json(struct json *j, const struct learn_record *rec, uint64_t now)
{
	char peer[INET6_ADDRSTRLEN], host[INET6_ADDRSTRLEN], tmp[16];

	json_object(j, NULL);
	json_str(j, "family", rec->af == AF_INET ? "ipv4" : "ipv6");
	json_str(j, "peer", inet_ntop(rec->af, &rec->peer, peer, sizeof(peer)));
	json_str(j, "host", inet_ntop(rec->af, &rec->host, host, sizeof(host)));
	json_str(j, "proto", proto_name(rec->proto));
	json_array(j, "ports");
	for (size_t i = 0; i < rec->n_ranges; i++) {
		range_text(tmp, sizeof(tmp), &rec->ranges[i]);
		json_str(j, NULL, tmp);
	}
	json_end(j);
	json_u64(j, "connections", rec->connections);
	json_u64(j, "not_kept", rec->not_kept);
	json_u64(j, "first_seen", ago_s(now, rec->first_ms));
	json_u64(j, "last_seen", ago_s(now, rec->last_ms));
	json_end(j);
}

static void record_text(struct dynbuf *out, const struct learn_record *rec, uint64_t now)
{
	char peer[INET6_ADDRSTRLEN], host[INET6_ADDRSTRLEN], first[32], last[32], tmp[16];

	inet_ntop(rec->af, &rec->peer, peer, sizeof(peer));
	inet_ntop(rec->af, &rec->host, host, sizeof(host));
	duration_format(ago_s(now, rec->first_ms), first, sizeof(first));
	duration_format(ago_s(now, rec->last_ms), last, sizeof(last));
	dynbuf_printf(out, "%s: peer %s tried %s ", rec->rule, peer, proto_name(rec->proto));
	for (size_t i = 0; i < rec->n_ranges; i++) {
		range_text(tmp, sizeof(tmp), &rec->ranges[i]);
		dynbuf_printf(out, "%s%s", i ? "," : "", tmp);
	}
	dynbuf_printf(out, " (%llu connection%s, not forwarded", (unsigned long long)rec->connections,
		      rec->connections == 1 ? "" : "s");
	if (rec->not_kept)
		dynbuf_printf(out, "; %llu to more ports not kept", (unsigned long long)rec->not_kept);
	dynbuf_printf(out, "; host %s, first %s ago, last %s ago)\n", host, first, last);
}

/* One rule's part of the report. */
static int rule_report(const struct learn *l, const struct config *c, const struct rule *r,
		       uint64_t now, struct json *j, struct dynbuf *out)
{
	struct portrange *sug = NULL;
	size_t n_sug = 0, shown = 0;
	char tmp[32];
	int e = learnreport_suggest(l, c, r, &sug, &n_sug);

	if (e < 0)
		return e;
	if (j) {
		json_object(j, NULL);
		json_str(j, "rule", r->name);
		portranges_json(j, "forwards", r->forwards, r->n_forwards);
		json_array(j, "seen");
	}
	for (size_t i = 0; i < l->rec.n; i++) {
		const struct learn_record *rec = l->rec.v[i];

		if (strcmp(rec->rule, r->name))
			continue;
		if (j)
			record_json(j, rec, now);
		else
			record_text(out, rec, now);
		shown++;
	}
	if (j) {
		json_end(j);
		portranges_json(j, "suggest", sug, n_sug);
		json_end(j);
	} else if (shown) {
		dynbuf_printf(out, "%s: suggest: forward ", r->name);
		for (size_t i = 0; i < n_sug; i++) {
			portrange_format(&sug[i], tmp, sizeof(tmp));
			dynbuf_printf(out, "%s%s", i ? "," : "", tmp);
		}
		dynbuf_printf(out, "\n");
	} else {
		dynbuf_printf(out, "%s: nothing seen\n", r->name);
	}
	free(sug);
	return 0;
}

int learnreport_format(const struct learn *l, const struct config *c, const char *rule,
		       uint64_t now, bool json, struct dynbuf *out)
{
	const struct rule *only = rule ? config_find_rule(c, rule) : NULL;
	struct json j;
	size_t n_rules = 0;
	int e = 0;

	if (rule && !only)
		return -ENOENT;
	if (json) {
		json_init(&j, out);
		json_object(&j, NULL);
		json_bool(&j, "learn", l->enabled);
		json_array(&j, "rules");
	}
	for (size_t i = 0; i < c->n_rules && e == 0; i++) {
		const struct rule *r = c->rules[i];
		bool seen = false;

		if (only && r != only)
			continue;
		for (size_t k = 0; k < l->rec.n && !seen; k++)
			seen = !strcmp(l->rec.v[k]->rule, r->name);
		if (!seen && !only)
			continue;
		e = rule_report(l, c, r, now, json ? &j : NULL, out);
		n_rules++;
	}
	if (e < 0)
		return e;
	if (json) {
		json_end(&j);
		json_u64(&j, "records", l->rec.n);
		json_u64(&j, "peers_listed", l->n_peers);
		json_u64(&j, "peers_not_listed", l->peers_not_listed);
		json_u64(&j, "records_not_kept", l->rec.not_kept);
		json_u64(&j, "unattributed", l->unattributed);
		json_end(&j);
		return 0;
	}
	if (!l->enabled)
		dynbuf_printf(out, "learn mode is off ('learn off' in the rule files)\n");
	else if (!n_rules)
		dynbuf_printf(out, "nothing learned yet\n");
	if (l->rec.not_kept)
		dynbuf_printf(out, "%llu connections not kept (more than %d rule x peer x protocol records)\n",
			      (unsigned long long)l->rec.not_kept, LEARN_RECORDS_MAX);
	return 0;
}
