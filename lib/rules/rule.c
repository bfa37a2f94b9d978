/*
 * Helpers over the rule model: formatting back into the rule-file grammar
 * (used for `rules` listings, their JSON and golden tests), comparison for reload, and
 * nft-style interface wildcard matching.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "rule.h"
#include "base/util.h"

void iflist_clear(struct iflist *l)
{
	free(l->names);
	l->names = NULL;
	l->n = 0;
}

int iflist_add(struct iflist *l, const char *name)
{
	void *p;

	if (strlen(name) > IFNAME_MAX + 1)
		return -EINVAL;
	p = realloc(l->names, (l->n + 1) * sizeof(*l->names));
	if (!p)
		return -ENOMEM;
	l->names = p;
	snprintf(l->names[l->n++], sizeof(*l->names), "%s", name);
	return 0;
}

int iflist_copy(struct iflist *dst, const struct iflist *src)
{
	dst->names = NULL;
	dst->n = 0;
	if (!src->n)
		return 0;
	dst->names = malloc(src->n * sizeof(*src->names));
	if (!dst->names)
		return -ENOMEM;
	memcpy(dst->names, src->names, src->n * sizeof(*src->names));
	dst->n = src->n;
	return 0;
}

bool iflist_match(const struct iflist *l, const char *ifname)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *pat = l->names[i];
		size_t len = strlen(pat);

		if (len && pat[len - 1] == '*') {
			if (!strncmp(pat, ifname, len - 1))
				return true;
		} else if (!strcmp(pat, ifname)) {
			return true;
		}
	}
	return false;
}

struct rule *rule_new(const char *name)
{
	struct rule *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->timeout_s = RULE_TIMEOUT_DEFAULT;
	r->family = RULE_FAMILY_BOTH;
	return r;
}

bool rule_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len < 1 || len > RULE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

struct rule *rule_free(struct rule *r)
{
	if (!r)
		return NULL;
	free(r->triggers);
	free(r->forwards);
	iflist_clear(&r->lan);
	iflist_clear(&r->wan);
	prefixlist_clear(&r->allow);
	free(r);
	return NULL;
}

static void *memdup(const void *p, size_t n)
{
	void *q;

	if (!n)
		return NULL;
	q = malloc(n);
	if (q)
		memcpy(q, p, n);
	return q;
}

struct rule *rule_dup(const struct rule *r)
{
	struct rule *q = malloc(sizeof(*q));

	if (!q)
		return NULL;
	*q = *r;
	q->triggers = memdup(r->triggers, r->n_triggers * sizeof(*r->triggers));
	q->forwards = memdup(r->forwards, r->n_forwards * sizeof(*r->forwards));
	/* nothing of R's may be freed with Q if a copy below fails */
	q->lan = q->wan = (struct iflist){ 0 };
	q->allow = (struct prefixlist){ 0 };
	if (iflist_copy(&q->lan, &r->lan) < 0 || iflist_copy(&q->wan, &r->wan) < 0 ||
	    prefixlist_copy(&q->allow, &r->allow) < 0 ||
	    (r->n_triggers && !q->triggers) || (r->n_forwards && !q->forwards))
		return rule_free(q);
	return q;
}

struct rule *rule_find(struct rule *const *rules, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rules[i]->name, name))
			return rules[i];
	return NULL;
}

const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	}
	return "?";
}

int portrange_format(const struct portrange *p, char *buf, size_t size)
{
	if (p->lo == p->hi)
		return snprintf(buf, size, "%u/%s", p->lo, proto_name(p->proto));
	return snprintf(buf, size, "%u-%u/%s", p->lo, p->hi, proto_name(p->proto));
}

void srcloc_format(const struct srcloc *l, char *buf, size_t size)
{
	if (l->file)
		snprintf(buf, size, "%s:%u:%u", l->file, l->line, l->col);
	else
		snprintf(buf, size, "runtime");
}

int portrange_cmp(const void *a, const void *b)
{
	const struct portrange *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->lo - y->lo;
}

void portranges_json(struct json *j, const char *key, const struct portrange *v, size_t n)
{
	char tmp[32];

	json_array(j, key);
	for (size_t i = 0; i < n; i++) {
		portrange_format(&v[i], tmp, sizeof(tmp));
		json_str(j, NULL, tmp);
	}
	json_end(j);
}

bool rule_same_forwards(const struct rule *a, const struct rule *b)
{
	if (a->n_forwards != b->n_forwards || a->family != b->family ||
	    a->peer != b->peer || a->is_static != b->is_static)
		return false;
	for (size_t i = 0; i < a->n_forwards; i++) {
		const struct portrange *x = &a->forwards[i], *y = &b->forwards[i];

		if (x->proto != y->proto || x->lo != y->lo || x->hi != y->hi)
			return false;
	}
	if (a->is_static)
		return a->to_af == b->to_af && a->to_port == b->to_port &&
		       !memcmp(&a->to, &b->to, sizeof(a->to));
	return true;
}

int duration_format(uint64_t s, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT(buf, size);

	if (s >= 3600)
		strbuf_printf(&sb, "%luh", (unsigned long)(s / 3600));
	if (s % 3600 >= 60)
		strbuf_printf(&sb, "%lum", (unsigned long)(s % 3600 / 60));
	if (s % 60 || !s)
		strbuf_printf(&sb, "%lus", (unsigned long)(s % 60));
	return sb.len;
}

int portlist_format(const struct portrange *p, size_t n, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT(buf, size);
	char tmp[32];

	for (size_t i = 0; i < n; i++) {
		portrange_format(&p[i], tmp, sizeof(tmp));
		strbuf_printf(&sb, "%s%s", i ? "," : "", tmp);
	}
	return sb.len;
}

static void format_ports(struct strbuf *sb, const char *kw, const struct portrange *p, size_t n)
{
	size_t room;

	if (!n)
		return;
	strbuf_printf(sb, " %s ", kw);
	room = sb->len < sb->size ? sb->size - sb->len : 0;
	sb->len += portlist_format(p, n, room ? sb->buf + sb->len : NULL, room);
}

static void format_ifs(struct strbuf *sb, const char *kw, const struct iflist *l)
{
	strbuf_printf(sb, " %s ", kw);
	for (size_t i = 0; i < l->n; i++)
		strbuf_printf(sb, "%s%s", i ? "," : "", l->names[i]);
}

int rule_format(const struct rule *r, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT(buf, size);
	char tmp[INET6_ADDRSTRLEN + 8];

	strbuf_printf(&sb, "rule %s", r->name);
	format_ports(&sb, "trigger", r->triggers, r->n_triggers);
	format_ports(&sb, "forward", r->forwards, r->n_forwards);
	if (r->is_static) {
		inet_ntop(r->to_af, &r->to, tmp, sizeof(tmp));
		strbuf_printf(&sb, " to %s", tmp);
		if (r->to_port)
			strbuf_printf(&sb, ":%u", r->to_port);
	} else {
		duration_format(r->timeout_s, tmp, sizeof(tmp));
		strbuf_printf(&sb, " timeout %s", tmp);
	}
	if (r->peer)
		strbuf_printf(&sb, " peer");
	if (r->exclusive)
		strbuf_printf(&sb, " exclusive");
	if (r->family != RULE_FAMILY_BOTH)
		strbuf_printf(&sb, " family %s", r->family == RULE_FAMILY_IPV4 ? "ipv4" : "ipv6");
	if (r->has_lan)
		format_ifs(&sb, "lan", &r->lan);
	if (r->has_wan)
		format_ifs(&sb, "wan", &r->wan);
	if (r->has_allow) {
		strbuf_printf(&sb, " allow ");
		for (size_t i = 0; i < r->allow.n; i++) {
			prefix_format(&r->allow.v[i], tmp, sizeof(tmp));
			strbuf_printf(&sb, "%s%s", i ? "," : "", tmp);
		}
	}
	if (r->max_per_host)
		strbuf_printf(&sb, " max-per-host %u", r->max_per_host);
	if (r->disabled)
		strbuf_printf(&sb, " disabled");
	return sb.len;
}
