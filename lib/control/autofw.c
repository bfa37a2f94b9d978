/*
 * The 1996 front-end's argument parser; see autofw.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autofw.h"
#include "rules/config.h"
#include "rules/value.h"

const char autofw_usage[] =
	"IP Autoforward control program (ipautofw for nftables)\n"
	"Usage: ipautofw -A -r PROTO LOW HIGH -c PROTO PORT   forward a range to the last host\n"
	"                                                     that opened the control port\n"
	"       ipautofw -A -r PROTO LOW HIGH -h HOST         forward a range to a fixed host\n"
	"       ipautofw -A -p PROTO PORT HOST:PORT           redirect one port to HOST:PORT\n"
	"       ipautofw -D ...                               delete (same arguments as -A)\n"
	"       ipautofw -F                                   remove every runtime rule\n"
	"       ipautofw -L                                   list active forwardings\n"
	"PROTO is tcp or udp. Another -A with the same -r and a different -c adds that\n"
	"control port to the same rule. -u and -v are accepted; -v says what was done.\n"
	"Rules made here last until deleted or the daemon restarts; for permanent ones\n"
	"write rule files in /etc/ipautofw.d (see ipautofw.conf(5)).\n";

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool is_proto(const char *s)
{
	return !strcmp(s, "tcp") || !strcmp(s, "udp");
}

static long port(const char *s)
{
	char *end;
	long v;

	if (!s[0] || strlen(s) > 5)
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	return v;
}

static void set_args(struct autofw_cmd *c, const char *cmd, int n, ...)
{
	va_list ap;

	c->cmd = cmd;
	c->argc = n;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		snprintf(c->args[i], sizeof(c->args[i]), "%s", va_arg(ap, const char *));
	va_end(ap);
}

/* What the words say, before it becomes a control request. */
struct autofw_opts {
	char op;				/* A, D, F or L */
	const char *r_proto, *c_proto, *host, *p_proto, *p_to;
	long r_lo, r_hi, c_port, p_port;
};

/* -r PROTO LOW HIGH at ARGV[*I]; *I moves past the words taken. */
static int parse_range(struct autofw_opts *o, char *const *argv, int *i, int left, char *err,
		       size_t errlen)
{
	if (left < 3)
		return fail(err, errlen, "-r needs PROTO LOW HIGH");
	o->r_proto = argv[++*i];
	o->r_lo = port(argv[++*i]);
	o->r_hi = port(argv[++*i]);
	if (!is_proto(o->r_proto))
		return fail(err, errlen, "-r: unknown protocol '%s' (tcp or udp)", o->r_proto);
	if (o->r_lo < 0 || o->r_hi < 0)
		return fail(err, errlen, "-r: ports must be 1-65535");
	if (o->r_lo > o->r_hi)
		return fail(err, errlen, "-r: range %ld-%ld is reversed", o->r_lo, o->r_hi);
	return 0;
}

/* -c PROTO PORT */
static int parse_control(struct autofw_opts *o, char *const *argv, int *i, int left, char *err,
			 size_t errlen)
{
	if (left < 2)
		return fail(err, errlen, "-c needs PROTO PORT");
	o->c_proto = argv[++*i];
	o->c_port = port(argv[++*i]);
	if (!is_proto(o->c_proto))
		return fail(err, errlen, "-c: unknown protocol '%s' (tcp or udp)", o->c_proto);
	if (o->c_port < 0)
		return fail(err, errlen, "-c: port must be 1-65535");
	return 0;
}

/* -p PROTO PORT HOST:PORT */
static int parse_redirect(struct autofw_opts *o, char *const *argv, int *i, int left, char *err,
			  size_t errlen)
{
	if (left < 3)
		return fail(err, errlen, "-p needs PROTO PORT HOST:PORT");
	o->p_proto = argv[++*i];
	o->p_port = port(argv[++*i]);
	o->p_to = argv[++*i];
	if (!is_proto(o->p_proto))
		return fail(err, errlen, "-p: unknown protocol '%s' (tcp or udp)", o->p_proto);
	if (o->p_port < 0)
		return fail(err, errlen, "-p: port must be 1-65535");
	if (!strchr(o->p_to, ':'))
		return fail(err, errlen, "-p: '%s' is not HOST:PORT", o->p_to);
	return 0;
}

/* The option at ARGV[*I] (and its words); *I ends on its last word. */
static int parse_option(struct autofw_opts *o, int argc, char *const *argv, int *i,
			struct autofw_cmd *ret, char *err, size_t errlen)
{
	const char *a = argv[*i];
	int left = argc - *i - 1;

	if (!strcmp(a, "-A") || !strcmp(a, "-D") || !strcmp(a, "-F") || !strcmp(a, "-L")) {
		if (o->op)
			return fail(err, errlen, "only one of -A, -D, -F, -L at a time");
		o->op = a[1];
		return 0;
	}
	if (!strcmp(a, "-r"))
		return parse_range(o, argv, i, left, err, errlen);
	if (!strcmp(a, "-c"))
		return parse_control(o, argv, i, left, err, errlen);
	if (!strcmp(a, "-h")) {
		if (left < 1)
			return fail(err, errlen, "-h needs a HOST address");
		o->host = argv[++*i];
		return 0;
	}
	if (!strcmp(a, "-p"))
		return parse_redirect(o, argv, i, left, err, errlen);
	if (!strcmp(a, "-u"))
		return 0;	/* 1996: no 15 s arm window; forwardings here always last their timeout */
	if (!strcmp(a, "-v")) {
		ret->verbose = true;
		return 0;
	}
	if (!strcmp(a, "-d") || !strcmp(a, "-i"))
		return fail(err, errlen, "%s is not supported (see ipautofw.conf(5) for 'peer')", a);
	return fail(err, errlen, "unknown argument '%s'", a);
}

/* -A/-D -p: a runtime rule per redirected port */
static int build_redirect(const struct autofw_opts *o, struct autofw_cmd *ret, char *err,
			  size_t errlen)
{
	char name[96], range[64];

	if (o->r_proto || o->c_proto || o->host)
		return fail(err, errlen, "-p cannot be combined with -r, -c or -h");
	snprintf(name, sizeof(name), "autofw-redir-%s-%ld", o->p_proto, o->p_port);
	snprintf(range, sizeof(range), "%ld/%s", o->p_port, o->p_proto);
	if (o->op == 'A')
		set_args(ret, "add", 5, name, "forward", range, "to", o->p_to);
	else
		set_args(ret, "del", 1, name);
	return 0;
}

/* -A/-D -r with -h (a static rule) or -c (a control port of the range's rule) */
static int build_range(const struct autofw_opts *o, struct autofw_cmd *ret, char *err,
		       size_t errlen)
{
	char name[96], range[64], trig[64];

	if (!o->r_proto)
		return fail(err, errlen, "-%c needs -r PROTO LOW HIGH (or -p)", o->op);
	if (o->c_proto && o->host)
		return fail(err, errlen, "-c and -h exclude each other: a fixed host has no control port");
	if (!o->c_proto && !o->host)
		return fail(err, errlen, "-%c -r needs -c PROTO PORT or -h HOST", o->op);
	if (o->r_lo == o->r_hi) {
		snprintf(name, sizeof(name), "autofw-%s-%ld", o->r_proto, o->r_lo);
		snprintf(range, sizeof(range), "%ld/%s", o->r_lo, o->r_proto);
	} else {
		snprintf(name, sizeof(name), "autofw-%s-%ld-%ld", o->r_proto, o->r_lo, o->r_hi);
		snprintf(range, sizeof(range), "%ld-%ld/%s", o->r_lo, o->r_hi, o->r_proto);
	}
	if (o->host) {
		if (o->op == 'A')
			set_args(ret, "add", 5, name, "forward", range, "to", o->host);
		else
			set_args(ret, "del", 1, name);
		return 0;
	}
	snprintf(trig, sizeof(trig), "%ld/%s", o->c_port, o->c_proto);
	set_args(ret, o->op == 'A' ? "autofw-add" : "autofw-del", 3, name, range, trig);
	return 0;
}

int autofw_parse(int argc, char *const *argv, struct autofw_cmd *ret, char *err, size_t errlen)
{
	struct autofw_opts o = { 0 };
	int r;

	memset(ret, 0, sizeof(*ret));
	if (argc <= 1) {
		ret->usage = true;
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		r = parse_option(&o, argc, argv, &i, ret, err, errlen);
		if (r < 0)
			return r;
	}
	if (!o.op)
		return fail(err, errlen, "one of -A, -D, -F or -L is needed");
	if (o.op == 'F' || o.op == 'L') {
		if (o.r_proto || o.c_proto || o.host || o.p_proto)
			return fail(err, errlen, "-%c takes no other options", o.op);
		set_args(ret, o.op == 'F' ? "flush-runtime" : "list", 0);
		return 0;
	}
	if (o.p_proto)
		return build_redirect(&o, ret, err, errlen);
	return build_range(&o, ret, err, errlen);
}

static bool same_range(const struct portrange *a, const struct portrange *b)
{
	return a->proto == b->proto && a->lo == b->lo && a->hi == b->hi;
}

static ssize_t find_port(const struct rule *r, const struct portrange *p)
{
	for (size_t i = 0; r && i < r->n_triggers; i++)
		if (same_range(&r->triggers[i], p))
			return i;
	return -1;
}

/* A copy of R with control port P added (I < 0) or the one at index I removed. */
static struct rule *with_port(const struct rule *r, const struct portrange *p, ssize_t i)
{
	struct rule *q = rule_dup(r);
	struct portrange *v;

	if (!q)
		return NULL;
	if (i >= 0) {
		memmove(&q->triggers[i], &q->triggers[i + 1],
			(q->n_triggers - i - 1) * sizeof(*q->triggers));
		q->n_triggers--;
		return q;
	}
	v = realloc(q->triggers, (q->n_triggers + 1) * sizeof(*v));
	if (!v)
		return rule_free(q);
	q->triggers = v;
	q->triggers[q->n_triggers++] = *p;
	return q;
}

int autofw_edit(const struct rule *existing, const char *name, const char *range,
		const char *port, bool add, struct rule **ret, struct dynbuf *msg)
{
	const struct rule *r = existing;
	struct portrange fwd, trig;
	ssize_t i;

	*ret = NULL;
	if (!rule_name_valid(name) || value_parse_portrange(range, &fwd) < 0 ||
	    value_parse_portrange(port, &trig) < 0) {
		/* the words are a client's: shown escaped */
		dynbuf_printf(msg, "invalid request: rule name '");
		dynbuf_append_escaped(msg, name, strlen(name));
		dynbuf_printf(msg, "', range '");
		dynbuf_append_escaped(msg, range, strlen(range));
		dynbuf_printf(msg, "', control port '");
		dynbuf_append_escaped(msg, port, strlen(port));
		dynbuf_printf(msg, "'\n");
		return -EINVAL;
	}
	if (r && (r->is_static || r->n_forwards != 1 || !same_range(&r->forwards[0], &fwd))) {
		dynbuf_printf(msg, "rule '%s' exists and is not a triggered forward of %s\n", name, range);
		return -EINVAL;
	}
	i = find_port(r, &trig);
	if (add && i >= 0) {
		dynbuf_printf(msg, "rule '%s' already has control port %s\n", name, port);
		return AUTOFW_EDIT_NONE;
	}
	if (!add && i < 0) {
		dynbuf_printf(msg, "no entry: forward %s with control port %s\n", range, port);
		return -ENOENT;
	}
	if (!add && r->n_triggers == 1)
		return AUTOFW_EDIT_DEL;
	if (r) {
		*ret = with_port(r, &trig, add ? -1 : i);
	} else if ((*ret = rule_new(name))) {
		(*ret)->triggers = malloc(sizeof(trig));
		(*ret)->forwards = malloc(sizeof(fwd));
		if (!(*ret)->triggers || !(*ret)->forwards) {
			*ret = rule_free(*ret);
		} else {
			(*ret)->triggers[(*ret)->n_triggers++] = trig;
			(*ret)->forwards[(*ret)->n_forwards++] = fwd;
		}
	}
	return *ret ? AUTOFW_EDIT_SET : -ENOMEM;
}
