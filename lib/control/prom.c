/*
 * The Prometheus text writer; see prom.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "prom.h"

static const char *const type_names[] = {
	[PROM_COUNTER] = "counter",
	[PROM_GAUGE] = "gauge",
	[PROM_HISTOGRAM] = "histogram",
};

void prom_init(struct prom *p, struct dynbuf *out)
{
	*p = (struct prom){ .out = out };
}

static bool name_ok(const char *s, bool colon)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || (colon && *s == ':')))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* HELP text: a backslash and a line feed escaped */
static void help_text(struct dynbuf *out, const char *s)
{
	for (const char *run = s;; s++) {
		if (*s && *s != '\\' && *s != '\n')
			continue;
		dynbuf_append(out, run, s - run);
		if (!*s)
			return;
		dynbuf_append(out, *s == '\\' ? "\\\\" : "\\n", 2);
		run = s + 1;
	}
}

/* A label value: backslash, double quote and line feed escaped; bytes that are not UTF-8 as U+FFFD */
static void label_value(struct dynbuf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str, *run = s;
	size_t left = strlen(str);
	uint32_t cp;

	while (*s) {
		size_t n = *s == '\\' || *s == '"' || *s == '\n' ? 0 :
			   *s < 0x80 ? 1 : utf8_seq(s, left, &cp);

		if (n) {
			s += n;
			left -= n;
			continue;
		}
		dynbuf_append(out, run, s - run);
		if (*s == '\\')
			dynbuf_append(out, "\\\\", 2);
		else if (*s == '"')
			dynbuf_append(out, "\\\"", 2);
		else if (*s == '\n')
			dynbuf_append(out, "\\n", 2);
		else
			dynbuf_append(out, "\xef\xbf\xbd", 3);
		s++;
		left--;
		run = s;
	}
	dynbuf_append(out, run, s - run);
}

int prom_family(struct prom *p, const char *name, enum prom_type type, const char *help)
{
	p->family[0] = '\0';
	if (!name_ok(name, true) || (type == PROM_COUNTER && ends_with(name, "_total")) ||
	    strlen(name) + sizeof("_total") > sizeof(p->family))
		return -EINVAL;
	snprintf(p->family, sizeof(p->family), "%s%s", name, type == PROM_COUNTER ? "_total" : "");
	p->type = type;
	dynbuf_printf(p->out, "# HELP %s ", p->family);
	help_text(p->out, help);
	dynbuf_printf(p->out, "\n# TYPE %s %s\n", p->family, type_names[type]);
	return 0;
}

static bool labels_ok(const struct prom_label *labels, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!name_ok(labels[i].name, false) || !strncmp(labels[i].name, "__", 2) ||
		    !strcmp(labels[i].name, "le"))
			return false;
	return true;
}

/* NAME{LABELS[,EXTRA="VALUE"]} (no braces without labels) */
static void series(struct prom *p, const char *suffix, const struct prom_label *labels, size_t n,
		   const char *extra, const char *extra_value)
{
	dynbuf_printf(p->out, "%s%s", p->family, suffix);
	if (!n && !extra)
		return;
	dynbuf_append(p->out, "{", 1);
	for (size_t i = 0; i < n; i++) {
		dynbuf_printf(p->out, "%s%s=\"", i ? "," : "", labels[i].name);
		label_value(p->out, labels[i].value);
		dynbuf_append(p->out, "\"", 1);
	}
	if (extra)
		dynbuf_printf(p->out, "%s%s=\"%s\"", n ? "," : "", extra, extra_value);
	dynbuf_append(p->out, "}", 1);
}

int prom_sample(struct prom *p, const struct prom_label *labels, size_t n, uint64_t v)
{
	if (!p->family[0] || p->type == PROM_HISTOGRAM || !labels_ok(labels, n))
		return -EINVAL;
	series(p, "", labels, n, NULL, NULL);
	dynbuf_printf(p->out, " %" PRIu64 "\n", v);
	return 0;
}

void prom_micro(struct dynbuf *out, uint64_t v)
{
	char frac[8];
	int len = snprintf(frac, sizeof(frac), "%06" PRIu64, v % 1000000);

	while (len > 0 && frac[len - 1] == '0')
		frac[--len] = '\0';
	dynbuf_printf(out, "%" PRIu64 "%s%s", v / 1000000, len ? "." : "", frac);
}

int prom_histogram(struct prom *p, const struct prom_label *labels, size_t n,
		   const uint64_t *bounds, size_t n_bounds, const uint64_t *counts, uint64_t sum)
{
	struct dynbuf le = { 0 };
	uint64_t total = 0;

	if (!p->family[0] || p->type != PROM_HISTOGRAM || !labels_ok(labels, n))
		return -EINVAL;
	for (size_t i = 1; i < n_bounds; i++)
		if (bounds[i] <= bounds[i - 1])
			return -EINVAL;
	for (size_t i = 0; i <= n_bounds; i++) {
		total += counts[i];
		le.len = 0;
		if (i < n_bounds)
			prom_micro(&le, bounds[i]);
		else
			dynbuf_printf(&le, "+Inf");
		if (le.oom)
			p->out->oom = true;
		series(p, "_bucket", labels, n, "le", le.oom ? "" : le.data);
		dynbuf_printf(p->out, " %" PRIu64 "\n", total);
	}
	dynbuf_free(&le);
	series(p, "_sum", labels, n, NULL, NULL);
	dynbuf_append(p->out, " ", 1);
	prom_micro(p->out, sum);
	dynbuf_append(p->out, "\n", 1);
	series(p, "_count", labels, n, NULL, NULL);
	dynbuf_printf(p->out, " %" PRIu64 "\n", total);
	return 0;
}
