/*
 * Listings for the control socket; see report.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "nft/kcaps.h"
#include "report.h"

struct row {
	const char *cols[8];
	char buf[8][64];
};

static void table_print(struct dynbuf *out, struct row *rows, size_t n, size_t ncols)
{
	size_t w[8] = { 0 };

	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < ncols; c++)
			if (strlen(rows[i].cols[c]) > w[c])
				w[c] = strlen(rows[i].cols[c]);
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < ncols; c++) {
			if (c + 1 == ncols)
				dynbuf_printf(out, "%s\n", rows[i].cols[c]);
			else
				dynbuf_printf(out, "%-*s  ", (int)w[c], rows[i].cols[c]);
		}
	}
}

static uint64_t seconds_left(const struct fwd *f, uint64_t now)
{
	if (f->timer.deadline <= now)
		return 0;
	return (f->timer.deadline - now + 999) / 1000;
}

static void list_json(struct fwd **all, uint64_t now, struct dynbuf *out)
{
	struct json j;

	json_init(&j, out);
	json_array(&j, NULL);
	for (size_t i = 0; all[i]; i++) {
		const struct fwd *f = all[i];
		char host[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN], ll[HOSTID_LLADDR_LEN];

		inet_ntop(f->af, &f->host, host, sizeof(host));
		inet_ntop(f->af, &f->peer, peer, sizeof(peer));
		hostid_lladdr(&f->id, ll);
		for (size_t k = 0; k < f->rule->n_forwards; k++) {
			const struct portrange *p = &f->rule->forwards[k];

			json_object(&j, NULL);
			json_str(&j, "rule", f->rule->name);
			json_str(&j, "family", f->af == AF_INET ? "ipv4" : "ipv6");
			json_str(&j, "proto", proto_name(p->proto));
			json_u64(&j, "port_min", p->lo);
			json_u64(&j, "port_max", p->hi);
			json_str(&j, "host", host);
			json_str(&j, "host_lladdr", ll[0] ? ll : NULL);
			json_str(&j, "peer", f->rule->peer ? peer : NULL);
			if (f->rule->is_static)
				json_null(&j, "expires");
			else
				json_u64(&j, "expires", seconds_left(f, now));
			json_bool(&j, "static", f->rule->is_static);
			json_end(&j);
		}
	}
	json_end(&j);
}

static void list_text(const struct engine *e, struct fwd **all, uint64_t now, struct dynbuf *out)
{
	static const char *const head[] = { "RULE", "FAMILY", "PROTO", "PORTS", "HOST", "PEER",
					    "EXPIRES", "MACHINE" };
	struct row *rows;
	size_t n = 1, ncols = 7;

	/* the machines' link-layer addresses, where some are known */
	for (size_t i = 0; all[i]; i++) {
		n += all[i]->rule->n_forwards;
		if (all[i]->id.kind == HOSTID_LINK)
			ncols = 8;
	}
	rows = calloc(n, sizeof(*rows));
	if (!rows) {
		out->oom = true;
		return;
	}
	memcpy(rows[0].cols, head, sizeof(head));
	n = 1;
	for (size_t i = 0; all[i]; i++) {
		const struct fwd *f = all[i];
		char host[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN] = "-";

		inet_ntop(f->af, &f->host, host, sizeof(host));
		if (f->rule->peer)
			inet_ntop(f->af, &f->peer, peer, sizeof(peer));
		for (size_t k = 0; k < f->rule->n_forwards; k++) {
			const struct portrange *p = &f->rule->forwards[k];
			struct row *r = &rows[n++];

			snprintf(r->buf[0], 64, "%s", f->rule->name);
			snprintf(r->buf[1], 64, "%s", f->af == AF_INET ? "ipv4" : "ipv6");
			snprintf(r->buf[2], 64, "%s", proto_name(p->proto));
			if (p->lo == p->hi)
				snprintf(r->buf[3], 64, "%u", p->lo);
			else
				snprintf(r->buf[3], 64, "%u-%u", p->lo, p->hi);
			snprintf(r->buf[4], 64, "%s", host);
			snprintf(r->buf[5], 64, "%s", peer);
			if (f->rule->is_static)
				snprintf(r->buf[6], 64, "static");
			else
				duration_format(seconds_left(f, now), r->buf[6], 64);
			if (!hostid_lladdr(&f->id, r->buf[7])[0])
				snprintf(r->buf[7], 64, "-");
			for (int c = 0; c < 8; c++)
				r->cols[c] = r->buf[c];
		}
	}
	if (n > 1)
		table_print(out, rows, n, ncols);
	dynbuf_printf(out, "%s%zu forwarding%s, %zu rule%s\n", n > 1 ? "\n" : "", n - 1,
		      n == 2 ? "" : "s", e->cfg ? e->cfg->n_rules : 0,
		      e->cfg && e->cfg->n_rules == 1 ? "" : "s");
	free(rows);
}

void report_list(const struct engine *e, uint64_t now, bool json, struct dynbuf *out)
{
	struct fwd **all = fwtable_sorted(&e->fwt);

	if (!all) {
		out->oom = true;
		return;
	}
	if (json)
		list_json(all, now, out);
	else
		list_text(e, all, now, out);
	free(all);
}

static void source(const struct rule *r, char *buf, size_t size)
{
	if (r->loc.file)
		snprintf(buf, size, "%s:%u", r->loc.file, r->loc.line);
	else
		snprintf(buf, size, "runtime");
}

struct rule_pos {
	const struct rule *rule;
	size_t index;
};

static int cmp_rule_pos(const void *a, const void *b)
{
	const struct rule *x = ((const struct rule_pos *)a)->rule, *y = ((const struct rule_pos *)b)->rule;

	return x < y ? -1 : x > y;
}

struct count_ctx {
	struct rule_pos *pos;
	size_t n;
	size_t *counts;
};

static void count_fwd(struct fwd *f, void *data)
{
	struct count_ctx *c = data;
	struct rule_pos key = { f->rule, 0 };
	const struct rule_pos *p = bsearch(&key, c->pos, c->n, sizeof(*c->pos), cmp_rule_pos);

	if (p)
		c->counts[p->index]++;
}

/* Active forwardings per rule of the running configuration (same index); NULL on ENOMEM. */
static size_t *count_forwardings(const struct engine *e, size_t n)
{
	struct count_ctx c = { .n = n };

	c.counts = calloc(n + 1, sizeof(*c.counts));
	c.pos = calloc(n + 1, sizeof(*c.pos));
	if (!c.counts || !c.pos) {
		free(c.pos);
		free(c.counts);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		c.pos[i] = (struct rule_pos){ e->cfg->rules[i], i };
	qsort(c.pos, n, sizeof(*c.pos), cmp_rule_pos);
	fwtable_foreach(&e->fwt, count_fwd, &c);
	free(c.pos);
	return c.counts;
}

static const char *state_name(const struct rule *r)
{
	if (!r->switched)
		return rule_enabled(r) ? "enabled" : "disabled";
	return rule_enabled(r) ? "enabled at run time" : "disabled at run time";
}

static void rules_json(const struct engine *e, uint64_t now, const size_t *counts,
		       struct dynbuf *out)
{
	char src[4096], to[INET6_ADDRSTRLEN];
	struct json j;

	json_init(&j, out);
	json_array(&j, NULL);
	for (size_t i = 0; e->cfg && i < e->cfg->n_rules; i++) {
		const struct rule *r = e->cfg->rules[i];
		uint64_t last = e->last_trigger ? e->last_trigger[i] : 0;

		source(r, src, sizeof(src));
		json_object(&j, NULL);
		json_str(&j, "name", r->name);
		portranges_json(&j, "triggers", r->triggers, r->n_triggers);
		portranges_json(&j, "forwards", r->forwards, r->n_forwards);
		if (r->is_static)
			json_null(&j, "timeout");
		else
			json_u64(&j, "timeout", r->timeout_s);
		json_str(&j, "to", r->is_static ? inet_ntop(r->to_af, &r->to, to, sizeof(to)) : NULL);
		json_bool(&j, "peer", r->peer);
		json_bool(&j, "exclusive", r->exclusive);
		json_str(&j, "source", src);
		json_bool(&j, "enabled", rule_enabled(r));
		json_bool(&j, "switched", r->switched);
		json_u64(&j, "forwardings", counts[i]);
		if (last)
			json_u64(&j, "last_triggered", now > last ? (now - last) / 1000 : 0);
		else
			json_null(&j, "last_triggered");
		json_end(&j);
	}
	json_end(&j);
}

static void rules_text(const struct engine *e, uint64_t now, const size_t *counts,
		       struct dynbuf *out)
{
	size_t n = e->cfg ? e->cfg->n_rules : 0;
	char src[4096], ago[32];

	for (size_t i = 0; i < n; i++) {
		const struct rule *r = e->cfg->rules[i];
		uint64_t last = e->last_trigger ? e->last_trigger[i] : 0;
		size_t len = rule_format(r, NULL, 0) + 1;
		char *text = malloc(len);

		if (!text) {
			out->oom = true;
			return;
		}
		source(r, src, sizeof(src));
		rule_format(r, text, len);
		if (last)
			duration_format(now > last ? (now - last) / 1000 : 0, ago, sizeof(ago));
		/* a file name is bytes from the file system: shown escaped */
		dynbuf_printf(out, "%s\n    # ", text);
		dynbuf_append_escaped(out, src, strlen(src));
		dynbuf_printf(out, "; %s, %zu forwarding%s, %s%s%s\n", state_name(r), counts[i],
			      counts[i] == 1 ? "" : "s",
			      last ? "last triggered " : r->is_static ? "static" : "never triggered",
			      last ? ago : "", last ? " ago" : "");
		free(text);
	}
	dynbuf_printf(out, "%s%zu rule%s\n", n ? "\n" : "", n, n == 1 ? "" : "s");
}

void report_rules(const struct engine *e, uint64_t now, bool json, struct dynbuf *out)
{
	size_t *counts = count_forwardings(e, e->cfg ? e->cfg->n_rules : 0);

	if (!counts) {
		out->oom = true;
		return;
	}
	if (json)
		rules_json(e, now, counts, out);
	else
		rules_text(e, now, counts, out);
	free(counts);
}

void report_figures(const struct report_figure *v, size_t n, struct json *j, struct dynbuf *out)
{
	const char *open = NULL;

	for (size_t i = 0; i < n; i++) {
		if (j) {
			if (v[i].key)
				json_u64(j, v[i].key, v[i].v);
			continue;
		}
		if (!v[i].line || (v[i].text_if_set && !v[i].v))
			continue;
		if (!open || strcmp(open, v[i].line)) {
			if (open)
				dynbuf_printf(out, "\n");
			open = v[i].line;
			dynbuf_printf(out, "%s:%*s", open, (int)(12 - strlen(open)), "");
		}
		dynbuf_printf(out, "%s%llu%s", v[i].before ? v[i].before : "", (unsigned long long)v[i].v,
			      v[i].after ? v[i].after : "");
	}
	if (open)
		dynbuf_printf(out, "\n");
}

void report_hosts(const struct engine *e, struct json *j, struct dynbuf *out)
{
	struct fwtable_host *v;
	size_t n;
	ssize_t all = fwtable_hosts(&e->fwt, 5, &v, &n);

	if (all < 0) {
		(j ? j->out : out)->oom = true;
		return;
	}
	if (j) {
		json_u64(j, "hosts", all);
		json_array(j, "busiest_hosts");
	} else if (all) {
		dynbuf_printf(out, "hosts:       %zd holding forwardings; the most:", all);
	}
	for (size_t i = 0; i < n; i++) {
		char host[INET6_ADDRSTRLEN], ll[HOSTID_LLADDR_LEN];

		inet_ntop(v[i].af, &v[i].addr, host, sizeof(host));
		hostid_lladdr(&v[i].id, ll);
		if (j) {
			json_object(j, NULL);
			json_str(j, "host", host);
			json_str(j, "host_lladdr", ll[0] ? ll : NULL);
			json_u64(j, "forwardings", v[i].n);
			json_end(j);
		} else {
			dynbuf_printf(out, "%s %s%s%s%s %zu", i ? "," : "", host, ll[0] ? " (" : "", ll,
				      ll[0] ? ")" : "", v[i].n);
		}
	}
	if (j)
		json_end(j);
	else if (all)
		dynbuf_printf(out, "\n");
	free(v);
}

void report_no_wan(const struct engine *e, struct dynbuf *out)
{
	const struct config *c = e->cfg;

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

void report_kernel(const struct engine *e, const char *release, const char *table,
		   bool no_kernel_path, struct json *j, struct dynbuf *out)
{
	const struct kcaps *k = &e->caps;

	if (j) {
		json_object(j, "kernel");
		json_str(j, "release", release);
		json_str(j, "table", table);
		json_bool(j, "kernel_path", e->kernel_triggers);
		json_array(j, "has");
		for (int c = 0; c < KCAP__N; c++)
			if (kcaps_has(k, c))
				json_str(j, NULL, kcaps_name(c));
		json_end(j);
		json_array(j, "lacks");
		for (int c = 0; c < KCAP__N; c++)
			if (!kcaps_has(k, c))
				json_str(j, NULL, kcaps_name(c));
		json_end(j);
		json_array(j, "notes");
		for (int c = 0; c < KCAP__N; c++)
			if (kcaps_missing(k, c)) {
				struct dynbuf line = { 0 };

				kcaps_describe(k, c, release, &line);
				json_str(j, NULL, line.data ? line.data : "");
				dynbuf_free(&line);
			}
		json_end(j);
		json_end(j);
		return;
	}
	dynbuf_printf(out, "kernel:      %s; table %s; first triggers %s\n", release, table,
		      e->kernel_triggers ? "in the kernel" :
		      no_kernel_path ? "by the daemon (--no-kernel-path)" : "by the daemon");
	for (int c = 0; c < KCAP__N; c++)
		if (kcaps_missing(k, c)) {
			dynbuf_printf(out, "kernel:      ");
			kcaps_describe(k, c, NULL, out);
			dynbuf_printf(out, "\n");
		}
}
