/*
 * Listings for the control socket; see report.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct row {
	const char *cols[7];
	char buf[7][64];
};

static void table_print(struct dynbuf *out, struct row *rows, size_t n, size_t ncols)
{
	size_t w[7] = { 0 };

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

void report_list(const struct engine *e, uint64_t now, bool json, struct dynbuf *out)
{
	struct fwd **all = fwtable_sorted(&e->fwt);
	struct row *rows = NULL;
	size_t n = 0, nrows = 1;

	if (!all) {
		out->oom = true;
		return;
	}
	for (size_t i = 0; all[i]; i++)
		nrows += all[i]->rule->n_forwards;
	if (!json) {
		rows = calloc(nrows, sizeof(*rows));
		if (!rows) {
			free(all);
			out->oom = true;
			return;
		}
		static const char *const head[] = { "RULE", "FAMILY", "PROTO", "PORTS", "HOST",
						    "PEER", "EXPIRES" };
		memcpy(rows[0].cols, head, sizeof(head));
		n = 1;
	} else {
		dynbuf_printf(out, "[");
	}
	size_t count = 0;

	for (size_t i = 0; all[i]; i++) {
		const struct fwd *f = all[i];
		char host[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN] = "-";

		inet_ntop(f->af, &f->host, host, sizeof(host));
		if (f->rule->peer)
			inet_ntop(f->af, &f->peer, peer, sizeof(peer));
		for (size_t k = 0; k < f->rule->n_forwards; k++) {
			const struct portrange *p = &f->rule->forwards[k];
			const char *fam = f->af == AF_INET ? "ipv4" : "ipv6";

			if (json) {
				dynbuf_printf(out, "%s\n  {\"rule\": ", count ? "," : "");
				dynbuf_json_string(out, f->rule->name);
				dynbuf_printf(out, ", \"family\": \"%s\", \"proto\": \"%s\", "
					      "\"port_min\": %u, \"port_max\": %u, \"host\": \"%s\", ",
					      fam, proto_name(p->proto), p->lo, p->hi, host);
				if (f->rule->peer)
					dynbuf_printf(out, "\"peer\": \"%s\", ", peer);
				else
					dynbuf_printf(out, "\"peer\": null, ");
				if (f->rule->is_static)
					dynbuf_printf(out, "\"expires\": null, \"static\": true}");
				else
					dynbuf_printf(out, "\"expires\": %llu, \"static\": false}",
						      (unsigned long long)seconds_left(f, now));
			} else {
				struct row *r = &rows[n++];

				snprintf(r->buf[0], 64, "%s", f->rule->name);
				snprintf(r->buf[1], 64, "%s", fam);
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
				for (int c = 0; c < 7; c++)
					r->cols[c] = r->buf[c];
			}
			count++;
		}
	}
	if (json) {
		dynbuf_printf(out, "%s]\n", count ? "\n" : "");
	} else {
		if (count)
			table_print(out, rows, n, 7);
		dynbuf_printf(out, "%s%zu forwarding%s, %zu rule%s\n", count ? "\n" : "", count,
			      count == 1 ? "" : "s", e->cfg ? e->cfg->n_rules : 0,
			      e->cfg && e->cfg->n_rules == 1 ? "" : "s");
	}
	free(rows);
	free(all);
}

static void json_ports(struct dynbuf *out, const struct portrange *p, size_t n)
{
	char tmp[32];

	dynbuf_printf(out, "[");
	for (size_t i = 0; i < n; i++) {
		portrange_format(&p[i], tmp, sizeof(tmp));
		dynbuf_printf(out, "%s\"%s\"", i ? ", " : "", tmp);
	}
	dynbuf_printf(out, "]");
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

void report_rules(const struct engine *e, uint64_t now, bool json, struct dynbuf *out)
{
	size_t n = e->cfg ? e->cfg->n_rules : 0;
	size_t *counts = count_forwardings(e, n);
	char src[4096], line[INET6_ADDRSTRLEN], ago[32];

	if (!counts) {
		out->oom = true;
		return;
	}
	if (json)
		dynbuf_printf(out, "[");
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = e->cfg->rules[i];
		uint64_t last = e->last_trigger ? e->last_trigger[i] : 0;
		unsigned long long last_s = last && now > last ? (now - last) / 1000 : 0;

		source(r, src, sizeof(src));
		if (json) {
			dynbuf_printf(out, "%s\n  {\"name\": ", i ? "," : "");
			dynbuf_json_string(out, r->name);
			dynbuf_printf(out, ", \"triggers\": ");
			json_ports(out, r->triggers, r->n_triggers);
			dynbuf_printf(out, ", \"forwards\": ");
			json_ports(out, r->forwards, r->n_forwards);
			if (r->is_static) {
				inet_ntop(r->to_af, &r->to, line, sizeof(line));
				dynbuf_printf(out, ", \"timeout\": null, \"to\": \"%s\"", line);
			} else {
				dynbuf_printf(out, ", \"timeout\": %u, \"to\": null", r->timeout_s);
			}
			dynbuf_printf(out, ", \"peer\": %s, \"exclusive\": %s, \"source\": ",
				      r->peer ? "true" : "false", r->exclusive ? "true" : "false");
			dynbuf_json_string(out, src);
			dynbuf_printf(out, ", \"enabled\": %s, \"switched\": %s, \"forwardings\": %zu, "
				      "\"last_triggered\": ", rule_enabled(r) ? "true" : "false",
				      r->switched ? "true" : "false", counts[i]);
			if (last)
				dynbuf_printf(out, "%llu}", last_s);
			else
				dynbuf_printf(out, "null}");
		} else {
			size_t len = rule_format(r, NULL, 0) + 1;
			char *text = malloc(len);

			if (!text) {
				out->oom = true;
				break;
			}
			rule_format(r, text, len);
			if (last)
				duration_format(last_s, ago, sizeof(ago));
			/* a file name is bytes from the file system: shown escaped */
			dynbuf_printf(out, "%s\n    # ", text);
			dynbuf_append_escaped(out, src, strlen(src));
			dynbuf_printf(out, "; %s, %zu forwarding%s, %s%s%s\n", state_name(r), counts[i],
				      counts[i] == 1 ? "" : "s",
				      last ? "last triggered " : r->is_static ? "static" : "never triggered",
				      last ? ago : "", last ? " ago" : "");
			free(text);
		}
	}
	if (json)
		dynbuf_printf(out, "%s]\n", n ? "\n" : "");
	else
		dynbuf_printf(out, "%s%zu rule%s\n", n ? "\n" : "", n, n == 1 ? "" : "s");
	free(counts);
}
