/*
 * The re-exec handover: descriptor names in an environment variable and
 * the state file's lines; see handover.h. Only formatting and parsing:
 * the daemon does the execve().
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "handover.h"

static const struct {
	const char *name;
	size_t off;
} fd_names[] = {
	{ "nft", offsetof(struct handover_fds, nft) },
	{ "nflog", offsetof(struct handover_fds, nflog) },
	{ "control", offsetof(struct handover_fds, control) },
	{ "client", offsetof(struct handover_fds, client) },
	{ "state", offsetof(struct handover_fds, state) },
};

static int *fd_field(struct handover_fds *f, size_t i)
{
	return (int *)((char *)f + fd_names[i].off);
}

void handover_fds_init(struct handover_fds *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(fd_names); i++)
		*fd_field(f, i) = -1;
}

int handover_format_fds(const struct handover_fds *f, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT(buf, size);

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(fd_names); i++) {
		int fd = *fd_field((struct handover_fds *)f, i);

		if (fd >= 0)
			strbuf_printf(&sb, "%s%s=%d", sb.len ? " " : "", fd_names[i].name, fd);
	}
	return sb.len < size ? 0 : -ENOSPC;
}

int handover_parse_fds(const char *s, struct handover_fds *ret)
{
	handover_fds_init(ret);
	while (*s) {
		const char *eq = strchr(s, '='), *p;
		size_t i, len;
		long v = 0;

		if (!eq)
			return -EINVAL;
		len = eq - s;
		for (i = 0; i < ARRAY_SIZE(fd_names); i++)
			if (strlen(fd_names[i].name) == len && !strncmp(s, fd_names[i].name, len))
				break;
		if (i == ARRAY_SIZE(fd_names) || *fd_field(ret, i) >= 0)
			return -EINVAL;
		for (p = eq + 1; *p >= '0' && *p <= '9'; p++) {
			v = v * 10 + (*p - '0');
			if (v > INT_MAX)
				return -EINVAL;
		}
		if (p == eq + 1 || v < 3 || (*p && (*p != ' ' || !p[1])))
			return -EINVAL;
		*fd_field(ret, i) = v;
		s = *p ? p + 1 : p;
	}
	return 0;
}

void handover_format_state(struct dynbuf *out, const struct handover_state *s)
{
	dynbuf_printf(out, "started %" PRIu64 "\n", s->started_ms);
	for (size_t i = 0; i < s->n_runtime; i++)
		dynbuf_printf(out, "runtime %s\n", s->runtime[i]);
	for (size_t i = 0; i < s->n_switches; i++)
		dynbuf_printf(out, "switch %s\n", s->switches[i]);
	for (size_t i = 0; i < s->n_counters; i++)
		dynbuf_printf(out, "counter %s %" PRIu64 "\n", s->counters[i].name, s->counters[i].value);
}

static bool counter_name_ok(const char *name, size_t len)
{
	if (!len || len >= HANDOVER_COUNTER_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return false;
	return true;
}

static struct handover_counter *find_counter(const struct handover_state *s, const char *name,
					     size_t len)
{
	for (size_t i = 0; i < s->n_counters; i++)
		if (strlen(s->counters[i].name) == len && !memcmp(s->counters[i].name, name, len))
			return &s->counters[i];
	return NULL;
}

static int add_counter(struct handover_state *s, const char *name, size_t len, uint64_t value)
{
	struct handover_counter *v;

	if (!counter_name_ok(name, len) || find_counter(s, name, len))
		return -EINVAL;
	v = realloc(s->counters, (s->n_counters + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->counters = v;
	memcpy(v[s->n_counters].name, name, len);
	v[s->n_counters].name[len] = '\0';
	v[s->n_counters++].value = value;
	return 0;
}

int handover_add_counter(struct handover_state *s, const char *name, uint64_t value)
{
	return add_counter(s, name, strlen(name), value);
}

uint64_t handover_counter(const struct handover_state *s, const char *name)
{
	const struct handover_counter *c = find_counter(s, name, strlen(name));

	return c ? c->value : 0;
}

/* A decimal number of LEN characters at V into *RET: -EINVAL if it is not one, or too large. */
static int parse_u64(const char *v, size_t len, uint64_t *ret)
{
	char num[24];
	char *end;

	if (!len || len >= sizeof(num) || v[0] < '0' || v[0] > '9')
		return -EINVAL;
	memcpy(num, v, len);
	num[len] = '\0';
	errno = 0;
	*ret = strtoull(num, &end, 10);
	return *end || errno ? -EINVAL : 0;
}

static int add_line(char ***v, size_t *n, const char *line, size_t len)
{
	char **lines = realloc(*v, (*n + 1) * sizeof(*lines));

	if (!lines)
		return -ENOMEM;
	*v = lines;
	lines[*n] = strndup(line, len);
	if (!lines[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int parse_line(struct handover_state *s, const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len), *v, *sp2;
	size_t klen, vlen;
	uint64_t n;

	if (!sp)
		return len ? 0 : -EINVAL;	/* a key alone: from a newer daemon */
	klen = sp - line;
	v = sp + 1;
	vlen = len - klen - 1;
	if (memchr(line, '\0', len))
		return -EINVAL;
	if (klen == 7 && !memcmp(line, "started", 7))
		return parse_u64(v, vlen, &s->started_ms);
	if (klen == 7 && !memcmp(line, "counter", 7)) {
		/* counter NAME VALUE */
		sp2 = memchr(v, ' ', vlen);
		if (!sp2 || parse_u64(sp2 + 1, vlen - (sp2 + 1 - v), &n) < 0)
			return -EINVAL;
		return add_counter(s, v, sp2 - v, n);
	}
	if (klen == 7 && !memcmp(line, "runtime", 7))
		return vlen ? add_line(&s->runtime, &s->n_runtime, v, vlen) : -EINVAL;
	if (klen == 6 && !memcmp(line, "switch", 6))
		return vlen ? add_line(&s->switches, &s->n_switches, v, vlen) : -EINVAL;
	return 0;
}

int handover_parse_state(const char *buf, size_t len, struct handover_state *ret)
{
	size_t pos = 0;

	*ret = (struct handover_state){ 0 };
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		int r;

		if (!nl)
			r = -EINVAL;	/* cut short */
		else
			r = parse_line(ret, buf + pos, l);
		if (r < 0) {
			handover_state_free(ret);
			return r;
		}
		pos += l + 1;
	}
	return 0;
}

void handover_state_free(struct handover_state *s)
{
	for (size_t i = 0; i < s->n_runtime; i++)
		free(s->runtime[i]);
	free(s->runtime);
	for (size_t i = 0; i < s->n_switches; i++)
		free(s->switches[i]);
	free(s->switches);
	free(s->counters);
	*s = (struct handover_state){ 0 };
}

/* Where a counter is in struct engine; it must be a uint64_t (the build fails otherwise) */
#define ENGINE_COUNTER(field)                                                                 \
	(offsetof(struct engine, field) +                                                     \
	 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((struct engine *)0)->field), \
						     uint64_t) ? 1 : -1]))

/* The engine's counters, by name: where each is in struct engine */
static const struct {
	const char *name;
	size_t off;
} engine_counters[] = {
	{ "opened", ENGINE_COUNTER(fwt.stats.opened) },
	{ "refreshed", ENGINE_COUNTER(fwt.stats.refreshed) },
	{ "taken_over", ENGINE_COUNTER(fwt.stats.taken_over) },
	{ "refused", ENGINE_COUNTER(fwt.stats.refused) },
	{ "expired", ENGINE_COUNTER(fwt.stats.expired) },
	{ "over_host_limit", ENGINE_COUNTER(fwt.stats.over_host_limit) },
	{ "over_limit", ENGINE_COUNTER(fwt.stats.over_limit) },
	{ "triggers_seen", ENGINE_COUNTER(stats.triggers_seen) },
	{ "triggers_unmatched", ENGINE_COUNTER(stats.triggers_unmatched) },
	{ "triggers_not_allowed", ENGINE_COUNTER(stats.triggers_not_allowed) },
	{ "pair_triggers_replicated", ENGINE_COUNTER(stats.triggers_replicated) },
};

int handover_save_engine(struct handover_state *s, const struct engine *e)
{
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(engine_counters) && r == 0; i++)
		r = handover_add_counter(s, engine_counters[i].name,
					 *(const uint64_t *)((const char *)e + engine_counters[i].off));
	return r;
}

void handover_restore_engine(const struct handover_state *s, struct engine *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(engine_counters); i++)
		*(uint64_t *)((char *)e + engine_counters[i].off) =
			handover_counter(s, engine_counters[i].name);
}
