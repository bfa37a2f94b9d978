/*
 * Rule-file parser. Text is cut into statements (one per line, `#`
 * comments, trailing `\` continues), statements into whitespace-separated
 * tokens that remember their physical line and column, and each statement
 * is parsed into the config. Errors never stop the parse; they accumulate
 * in c->errors with the source line and a caret under the column.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "diag.h"
#include "prefix.h"

const char *const config_default_dirs[3] = {
	"/etc/ipautofw.d",
	"/run/ipautofw.d",
	"/usr/lib/ipautofw.d",
};

struct token {
	const char *s;
	size_t len;
	unsigned line;
	unsigned col;
	const char *ltext;	/* the physical line, for the caret */
	size_t llen;
};

struct parser {
	struct config *c;
	const char *file;
	unsigned start_errors;
};

struct config *config_new(void)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->pinhole_mark = CONFIG_MARK_DEFAULT;
	c->pinhole_mask = CONFIG_MARK_DEFAULT;
	c->max_per_host = CONFIG_MAX_PER_HOST_DEFAULT;
	c->max_forwardings = CONFIG_MAX_FORWARDINGS_DEFAULT;
	c->learn = true;
	return c;
}

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	prefixlist_clear(&c->allow);
	for (size_t i = 0; i < c->n_rules; i++)
		rule_free(c->rules[i]);
	free(c->rules);
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	iflist_clear(&c->lan);
	iflist_clear(&c->wan);
	dynbuf_free(&c->errors);
	dynbuf_free(&c->error_lines);
	free(c);
	return NULL;
}

static const char *intern_file(struct config *c, const char *file)
{
	char **p;

	for (size_t i = 0; i < c->n_files; i++)
		if (!strcmp(c->files[i], file))
			return c->files[i];
	p = realloc(c->files, (c->n_files + 1) * sizeof(*p));
	if (!p)
		return NULL;
	c->files = p;
	c->files[c->n_files] = strdup(file);
	if (!c->files[c->n_files])
		return NULL;
	return c->files[c->n_files++];
}

static void diag(struct parser *p, const struct token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void diag(struct parser *p, const struct token *t, const char *fmt, ...)
{
	struct diag_loc loc = { .file = p->file };
	va_list ap;

	if (t) {
		loc.line = t->line;
		loc.col = t->col;
		loc.text = t->ltext;
		loc.len = t->llen;
	}
	p->c->n_errors++;
	va_start(ap, fmt);
	diag_vprintf(&p->c->errors, &p->c->error_lines, &loc, fmt, ap);
	va_end(ap);
}

static bool tok_is(const struct token *t, const char *s)
{
	return t->len == strlen(s) && !memcmp(t->s, s, t->len);
}

/* A sub-token: part of T from offset OFF, LEN bytes. */
static struct token subtok(const struct token *t, size_t off, size_t len)
{
	struct token r = *t;

	r.s = t->s + off;
	r.len = len;
	r.col = t->col + off;
	return r;
}

static int parse_uint(const char *s, size_t len, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (!len || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int parse_port(struct parser *p, const struct token *t, uint16_t *ret)
{
	unsigned long v;
	int r = parse_uint(t->s, t->len, ULONG_MAX >> 1, &v);

	if (r < 0 || t->len > 5) {
		if (r == -EINVAL) {
			diag(p, t, "invalid port '%.*s'", (int)t->len, t->s);
			return -EINVAL;
		}
		v = 65536;
	}
	if (v < 1 || v > 65535) {
		diag(p, t, "port %.*s out of range 1-65535", (int)t->len, t->s);
		return -ERANGE;
	}
	*ret = v;
	return 0;
}

/* PORT/PROTO or LOW-HIGH/PROTO */
static int parse_portrange(struct parser *p, const struct token *t, struct portrange *ret)
{
	const char *slash = memchr(t->s, '/', t->len);
	const char *dash;
	struct token ports, proto;
	int r = 0;

	if (!slash) {
		diag(p, t, "'%.*s' needs a protocol: PORT/tcp, PORT/udp or LOW-HIGH/PROTO",
		     (int)t->len, t->s);
		return -EINVAL;
	}
	ports = subtok(t, 0, slash - t->s);
	proto = subtok(t, slash - t->s + 1, t->len - (slash - t->s) - 1);
	if (tok_is(&proto, "tcp"))
		ret->proto = IPPROTO_TCP;
	else if (tok_is(&proto, "udp"))
		ret->proto = IPPROTO_UDP;
	else {
		diag(p, &proto, "unknown protocol '%.*s' (expected tcp or udp)",
		     (int)proto.len, proto.s);
		r = -EINVAL;
	}
	dash = memchr(ports.s, '-', ports.len);
	if (dash) {
		struct token lo = subtok(&ports, 0, dash - ports.s);
		struct token hi = subtok(&ports, dash - ports.s + 1, ports.len - (dash - ports.s) - 1);

		if (parse_port(p, &lo, &ret->lo) < 0 || parse_port(p, &hi, &ret->hi) < 0)
			return -EINVAL;
		if (ret->lo > ret->hi) {
			diag(p, &ports, "range %.*s is reversed: %u > %u", (int)ports.len, ports.s,
			     ret->lo, ret->hi);
			return -EINVAL;
		}
	} else {
		if (parse_port(p, &ports, &ret->lo) < 0)
			return -EINVAL;
		ret->hi = ret->lo;
	}
	ret->loc.file = p->file;
	ret->loc.line = t->line;
	ret->loc.col = t->col;
	return r;
}

/* 300, 300s, 5m, 1h30m, 4m12s */
static int parse_duration(struct parser *p, const struct token *t, uint32_t *ret)
{
	static const char units[] = "hms";
	static const unsigned mult[] = { 3600, 60, 1 };
	unsigned long total = 0, v = 0;
	size_t i = 0, next_unit = 0;

	if (parse_uint(t->s, t->len, CONFIG_TIMEOUT_MAX, &v) == 0) {
		total = v;
		goto check;
	}
	while (i < t->len) {
		size_t start = i;
		const char *u;

		while (i < t->len && isdigit((unsigned char)t->s[i]))
			i++;
		if (i == start || i == t->len || i - start > 7)
			goto invalid;
		u = memchr(units + next_unit, t->s[i], strlen(units + next_unit));
		if (!u)
			goto invalid;
		parse_uint(t->s + start, i - start, ULONG_MAX >> 1, &v);
		total += v * mult[u - units];
		next_unit = u - units + 1;
		i++;
	}
	if (!t->len)
		goto invalid;
check:
	if (total < 1) {
		diag(p, t, "timeout must be at least 1s");
		return -ERANGE;
	}
	if (total > CONFIG_TIMEOUT_MAX) {
		diag(p, t, "timeout '%.*s' is longer than the maximum 720h", (int)t->len, t->s);
		return -ERANGE;
	}
	*ret = total;
	return 0;
invalid:
	diag(p, t, "invalid duration '%.*s' (examples: 300, 300s, 5m, 1h30m, 4m12s)",
	     (int)t->len, t->s);
	return -EINVAL;
}

/*
 * Collect a comma list starting at toks[*i]; "a,b", "a, b" and "a ,b" are
 * all one list. Elements are returned as sub-tokens.
 */
static int collect_list(struct parser *p, const struct token *toks, size_t n, size_t *i,
			struct token **ret, size_t *ret_n)
{
	struct token *el = NULL, last;
	size_t nel = 0;
	bool expect_item = true, more = true;

	while (more && *i < n) {
		const struct token *t = &toks[(*i)++];

		for (size_t k = 0; k < t->len;) {
			if (t->s[k] == ',') {
				if (expect_item) {
					struct token e = subtok(t, k, 1);

					diag(p, &e, "empty element in list");
					free(el);
					return -EINVAL;
				}
				expect_item = true;
				k++;
				continue;
			}
			size_t s = k;
			struct token *q;

			while (k < t->len && t->s[k] != ',')
				k++;
			q = realloc(el, (nel + 1) * sizeof(*el));
			if (!q) {
				free(el);
				return -ENOMEM;
			}
			el = q;
			el[nel++] = subtok(t, s, k - s);
			expect_item = false;
		}
		last = subtok(t, t->len, 0);
		more = expect_item || (*i < n && toks[*i].s[0] == ',');
	}
	if (expect_item) {
		diag(p, &last, "list ends with a comma");
		free(el);
		return -EINVAL;
	}
	*ret = el;
	*ret_n = nel;
	return 0;
}

static int parse_ports(struct parser *p, const struct token *toks, size_t n, size_t *i,
		       struct portrange **ret, size_t *ret_n)
{
	struct token *el;
	size_t nel;
	int r = collect_list(p, toks, n, i, &el, &nel);

	if (r < 0)
		return r;
	*ret = calloc(nel ? nel : 1, sizeof(**ret));
	if (!*ret) {
		free(el);
		return -ENOMEM;
	}
	for (size_t k = 0; k < nel; k++)
		if (parse_portrange(p, &el[k], &(*ret)[k]) < 0)
			r = -EINVAL;
	*ret_n = nel;
	free(el);
	return r;
}

static int parse_ifnames(struct parser *p, const struct token *toks, size_t n, size_t *i,
			 struct iflist *ret)
{
	struct token *el;
	size_t nel;
	int r = collect_list(p, toks, n, i, &el, &nel);

	if (r < 0)
		return r;
	for (size_t k = 0; k < nel; k++) {
		const struct token *t = &el[k];
		char name[IFNAME_MAX + 2];
		size_t namelen = t->len;
		bool bad = false;

		if (namelen && t->s[namelen - 1] == '*')
			namelen--;
		for (size_t j = 0; j < namelen; j++)
			if (t->s[j] == '/' || t->s[j] == '*' || t->s[j] == '"' ||
			    !isgraph((unsigned char)t->s[j]))
				bad = true;
		if (bad) {
			diag(p, t, "invalid interface name '%.*s'", (int)t->len, t->s);
			r = -EINVAL;
			continue;
		}
		if (namelen > IFNAME_MAX || (namelen == 0 && t->len == 0)) {
			diag(p, t, "interface name '%.*s' is longer than %d characters",
			     (int)t->len, t->s, IFNAME_MAX);
			r = -EINVAL;
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)t->len, t->s);
		if (iflist_add(ret, name) < 0)
			r = -ENOMEM;
	}
	free(el);
	return r;
}

static int parse_allow(struct parser *p, const struct token *toks, size_t n, size_t *i,
		       struct prefixlist *ret)
{
	struct token *el;
	size_t nel;
	int r = collect_list(p, toks, n, i, &el, &nel);

	if (r < 0)
		return r;
	for (size_t k = 0; k < nel; k++) {
		const struct token *t = &el[k];
		struct addrprefix a;
		int e = prefix_parse(t->s, t->len, &a);

		if (e == -EADDRNOTAVAIL)
			diag(p, t, "'%.*s' has bits set after the prefix length", (int)t->len, t->s);
		else if (e == -ERANGE)
			diag(p, t, "prefix length out of range in '%.*s'", (int)t->len, t->s);
		else if (e < 0)
			diag(p, t, "invalid address or prefix '%.*s' (examples: 192.168.1.0/24, "
			     "192.168.1.20, fd00::/64)", (int)t->len, t->s);
		else if (prefixlist_add(ret, &a) < 0)
			e = -ENOMEM;
		if (e < 0)
			r = e;
	}
	free(el);
	return r;
}

/* A count for max-per-host or max-forwardings: 1 to CONFIG_LIMIT_MAX. */
static int parse_limit(struct parser *p, const struct token *t, const char *what, unsigned *ret)
{
	unsigned long v = 0;
	int r = parse_uint(t->s, t->len, CONFIG_LIMIT_MAX, &v);
	size_t digits = 0;

	while (digits < t->len && isdigit((unsigned char)t->s[digits]))
		digits++;
	if (r == -EINVAL && (!t->len || digits < t->len)) {
		diag(p, t, "invalid number '%.*s' for '%s'", (int)t->len, t->s, what);
		return r;
	}
	if (r < 0 || v < 1) {
		diag(p, t, "'%s' must be 1 to %u", what, CONFIG_LIMIT_MAX);
		return -ERANGE;
	}
	*ret = v;
	return 0;
}

static bool families_meet(unsigned a, unsigned b)
{
	return (a & b) != 0;
}

static const struct rule *find_overlap(struct config *c, const struct rule *r,
				       const struct portrange *f, const struct portrange **ret_f)
{
	for (size_t k = 0; k < c->n_rules; k++) {
		const struct rule *q = c->rules[k];

		/* peer rules too: the kernel holds one interval per peer and port */
		if (!families_meet(q->family, r->family))
			continue;
		for (size_t j = 0; j < q->n_forwards; j++) {
			const struct portrange *g = &q->forwards[j];

			if (g->proto == f->proto && g->lo <= f->hi && f->lo <= g->hi) {
				*ret_f = g;
				return q;
			}
		}
	}
	return NULL;
}

static void describe_loc(const struct srcloc *l, char *buf, size_t size)
{
	if (l->file)
		snprintf(buf, size, "%s:%u:%u", l->file, l->line, l->col);
	else
		snprintf(buf, size, "runtime");
}

static bool valid_name(const struct token *t)
{
	char name[RULE_NAME_MAX + 1];

	if (t->len < 1 || t->len > RULE_NAME_MAX)
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)t->len, t->s);
	return strlen(name) == t->len && rule_name_valid(name);
}

/* The token a forward range came from (runtime rules composed later have none). */
static const struct token *fwd_token(const struct token *toks, size_t n, const struct portrange *f,
				     struct token *ret)
{
	for (size_t i = 0; toks && i < n; i++)
		if (toks[i].line == f->loc.line && toks[i].col <= f->loc.col &&
		    f->loc.col < toks[i].col + toks[i].len) {
			*ret = subtok(&toks[i], f->loc.col - toks[i].col, 1);
			return ret;
		}
	return toks;
}

/*
 * A duplicate name, or a forward that overlaps another forward of R or of
 * a rule already in the configuration. TOKS (NULL for a rule that was
 * parsed before) place the caret; without them the message names R.
 */
static void check_conflicts(struct parser *p, const struct rule *r, const struct token *toks,
			    size_t n, unsigned errors)
{
	struct config *c = p->c;
	const struct rule *first = r->name[0] ? config_find_rule(c, r->name) : NULL;
	char where[300], who[RULE_NAME_MAX + 16] = "";

	if (!toks)
		snprintf(who, sizeof(who), "rule '%s': ", r->name);
	if (first) {
		describe_loc(&first->loc, where, sizeof(where));
		diag(p, toks, "%sduplicate rule name '%s' (first defined at %s)", who, r->name, where);
	}
	for (size_t k = 0; k < r->n_forwards && c->n_errors == errors; k++) {
		const struct portrange *f = &r->forwards[k], *g;
		const struct rule *q;
		struct token t;
		char a[32], b[32];

		for (size_t j = 0; j < k; j++) {
			g = &r->forwards[j];
			if (g->proto == f->proto && g->lo <= f->hi && f->lo <= g->hi) {
				portrange_format(f, a, sizeof(a));
				portrange_format(g, b, sizeof(b));
				diag(p, fwd_token(toks, n, f, &t),
				     "%sforward %s overlaps forward %s of the same rule", who, a, b);
			}
		}
		q = find_overlap(c, r, f, &g);
		if (q) {
			portrange_format(f, a, sizeof(a));
			portrange_format(g, b, sizeof(b));
			describe_loc(&g->loc, where, sizeof(where));
			diag(p, fwd_token(toks, n, f, &t), "%sforward %s overlaps forward %s of rule '%s' (%s)",
			     who, a, b, q->name, where);
		}
	}
}

/* Why A (of family AF) cannot be a fixed host, or NULL when it can. */
static const char *not_a_host(int af, const union inaddr *a)
{
	if (af == AF_INET) {
		uint32_t v = ntohl(a->v4.s_addr);

		if (v == 0xffffffff)
			return "the broadcast address";
		if ((v >> 24) == 0)
			return v ? "in 0.0.0.0/8 (this network)" : "the unspecified address";
		if ((v >> 24) == 127)
			return "a loopback address";
		if ((v >> 28) == 0xe)
			return "a multicast address";
		if ((v >> 28) == 0xf)
			return "reserved (240.0.0.0/4)";
		return NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&a->v6))
		return "the unspecified address";
	if (IN6_IS_ADDR_LOOPBACK(&a->v6))
		return "the loopback address";
	if (IN6_IS_ADDR_MULTICAST(&a->v6))
		return "a multicast address";
	if (IN6_IS_ADDR_LINKLOCAL(&a->v6))
		return "link-local: no one outside can reach it";
	if (IN6_IS_ADDR_V4MAPPED(&a->v6) || IN6_IS_ADDR_V4COMPAT(&a->v6))
		return "IPv4-mapped: write the IPv4 address";
	return NULL;
}

static int add_rule(struct config *c, struct rule *r)
{
	struct rule **q = realloc(c->rules, (c->n_rules + 1) * sizeof(*q));

	if (!q)
		return -ENOMEM;
	c->rules = q;
	c->rules[c->n_rules++] = r;
	return 0;
}

/* toks[0] is the rule name. END marks the end of the statement. */
static void parse_rule(struct parser *p, const struct token *toks, size_t n, const struct token *end)
{
	struct config *c = p->c;
	unsigned errors = c->n_errors;
	const struct token *name, *seen[16] = { 0 };
	const struct token *to_tok = NULL;
	struct rule *r;
	enum { O_TRIGGER, O_FORWARD, O_TIMEOUT, O_TO, O_PEER, O_EXCLUSIVE, O_FAMILY, O_LAN, O_WAN,
	       O_ALLOW, O_MAX_PER_HOST, O_DISABLED };
	static const char *const opts[] = { "trigger", "forward", "timeout", "to", "peer",
					    "exclusive", "family", "lan", "wan", "allow",
					    "max-per-host", "disabled" };

	if (!n) {
		diag(p, end, "'rule' needs a name");
		return;
	}
	r = rule_new("");
	if (!r) {
		diag(p, NULL, "out of memory");
		return;
	}
	name = &toks[0];
	if (!valid_name(name))
		diag(p, name, "invalid rule name '%.*s' (1-%d of A-Z a-z 0-9 _ . -)",
		     (int)name->len, name->s, RULE_NAME_MAX);
	else
		snprintf(r->name, sizeof(r->name), "%.*s", (int)name->len, name->s);
	r->loc.file = p->file;
	r->loc.line = name->line;
	r->loc.col = name->col;

	for (size_t i = 1; i < n;) {
		const struct token *kw = &toks[i++];
		const struct token *val = i < n ? &toks[i] : end;
		size_t o;

		for (o = 0; o < ARRAY_SIZE(opts); o++)
			if (tok_is(kw, opts[o]))
				break;
		if (o == ARRAY_SIZE(opts)) {
			diag(p, kw, "unknown option '%.*s' (expected trigger, forward, timeout, "
			     "to, peer, exclusive, family, lan, wan, allow, max-per-host or disabled)",
			     (int)kw->len, kw->s);
			continue;
		}
		if (seen[o]) {
			diag(p, kw, "'%s' given twice in rule '%s' (first at column %u)", opts[o],
			     r->name, seen[o]->col);
			/* skip its value so it is not read as an option */
			if (o != O_PEER && o != O_EXCLUSIVE && o != O_DISABLED && i < n)
				i++;
			continue;
		}
		seen[o] = kw;
		if (o == O_PEER) {
			r->peer = true;
			continue;
		}
		if (o == O_EXCLUSIVE) {
			r->exclusive = true;
			continue;
		}
		if (o == O_DISABLED) {
			r->disabled = true;
			continue;
		}
		if (i >= n) {
			diag(p, end, "'%s' needs a value", opts[o]);
			break;
		}
		switch (o) {
		case O_TRIGGER:
			parse_ports(p, toks, n, &i, &r->triggers, &r->n_triggers);
			break;
		case O_FORWARD:
			parse_ports(p, toks, n, &i, &r->forwards, &r->n_forwards);
			break;
		case O_LAN:
			r->has_lan = true;
			parse_ifnames(p, toks, n, &i, &r->lan);
			break;
		case O_WAN:
			r->has_wan = true;
			parse_ifnames(p, toks, n, &i, &r->wan);
			break;
		case O_TIMEOUT:
			i++;
			parse_duration(p, val, &r->timeout_s);
			break;
		case O_ALLOW:
			r->has_allow = true;
			parse_allow(p, toks, n, &i, &r->allow);
			break;
		case O_MAX_PER_HOST:
			i++;
			parse_limit(p, val, "max-per-host", &r->max_per_host);
			break;
		case O_FAMILY:
			i++;
			if (tok_is(val, "ipv4"))
				r->family = RULE_FAMILY_IPV4;
			else if (tok_is(val, "ipv6"))
				r->family = RULE_FAMILY_IPV6;
			else if (tok_is(val, "both"))
				r->family = RULE_FAMILY_BOTH;
			else
				diag(p, val, "unknown family '%.*s' (expected ipv4, ipv6 or both)",
				     (int)val->len, val->s);
			break;
		case O_TO: {
			char addr[INET6_ADDRSTRLEN + 1];
			const char *colon = memchr(val->s, ':', val->len);
			struct token port;

			i++;
			to_tok = val;
			r->is_static = true;
			/* A.B.C.D:PORT remaps the port (IPv4 only; an IPv6 address has colons) */
			if (colon && !memchr(colon + 1, ':', val->len - (colon + 1 - val->s)) &&
			    colon - val->s <= INET_ADDRSTRLEN) {
				port = subtok(val, colon - val->s + 1, val->len - (colon - val->s) - 1);
				if (parse_port(p, &port, &r->to_port) < 0)
					break;
				snprintf(addr, sizeof(addr), "%.*s", (int)(colon - val->s), val->s);
				if (inet_pton(AF_INET, addr, &r->to.v4) == 1)
					r->to_af = AF_INET;
				else
					diag(p, val, "invalid address '%s' (a port remap needs an IPv4 address: A.B.C.D:PORT)",
					     addr);
				break;
			}
			snprintf(addr, sizeof(addr), "%.*s", (int)val->len, val->s);
			if (val->len < sizeof(addr) && inet_pton(AF_INET, addr, &r->to.v4) == 1)
				r->to_af = AF_INET;
			else if (val->len < sizeof(addr) && inet_pton(AF_INET6, addr, &r->to.v6) == 1)
				r->to_af = AF_INET6;
			else
				diag(p, val, "invalid address '%.*s' (expected an IPv4 or IPv6 address)",
				     (int)val->len, val->s);
			break;
		}
		}
		if (o == O_TO && r->to_af && not_a_host(r->to_af, &r->to)) {
			diag(p, to_tok, "'%.*s' is not a host to forward to: %s", (int)to_tok->len,
			     to_tok->s, not_a_host(r->to_af, &r->to));
			r->to_af = 0;
		}
	}

	if (!seen[O_FORWARD])
		diag(p, name, "rule '%.*s' has no 'forward'", (int)name->len, name->s);
	if (!seen[O_TRIGGER] && !seen[O_TO])
		diag(p, name, "rule '%.*s' needs 'trigger PORTS' or a fixed host 'to ADDRESS'",
		     (int)name->len, name->s);
	if (seen[O_TO]) {
		if (seen[O_TRIGGER])
			diag(p, seen[O_TRIGGER], "a rule with a fixed host ('to') has no triggers");
		if (seen[O_TIMEOUT])
			diag(p, seen[O_TIMEOUT], "a rule with a fixed host ('to') has no timeout");
		if (seen[O_PEER])
			diag(p, seen[O_PEER], "a rule with a fixed host ('to') cannot be 'peer'");
		if (seen[O_EXCLUSIVE])
			diag(p, seen[O_EXCLUSIVE], "a rule with a fixed host ('to') cannot be 'exclusive'");
		if (seen[O_ALLOW])
			diag(p, seen[O_ALLOW], "a rule with a fixed host ('to') has no triggers to 'allow'");
		if (seen[O_MAX_PER_HOST])
			diag(p, seen[O_MAX_PER_HOST], "a rule with a fixed host ('to') has no 'max-per-host'");
		if (r->to_af) {
			unsigned af = r->to_af == AF_INET ? RULE_FAMILY_IPV4 : RULE_FAMILY_IPV6;

			if (seen[O_FAMILY] && !(r->family & af))
				diag(p, to_tok, "address is %s but the rule is family %s",
				     af == RULE_FAMILY_IPV4 ? "IPv4" : "IPv6",
				     r->family == RULE_FAMILY_IPV4 ? "ipv4" : "ipv6");
			r->family = af;
		}
	}
	if (r->to_port && (r->n_forwards != 1 || r->forwards[0].lo != r->forwards[0].hi))
		diag(p, to_tok, "a port remap (to ADDRESS:PORT) needs exactly one forward port");
	if (r->has_lan && r->has_wan)
		for (size_t k = 0; k < r->lan.n; k++)
			if (iflist_match(&r->wan, r->lan.names[k]))
				diag(p, seen[O_LAN], "interface '%s' is both lan and wan",
				     r->lan.names[k]);
	check_conflicts(p, r, toks, n, errors);
	if (c->n_errors != errors || add_rule(c, r) < 0)
		rule_free(r);
}

static void parse_global_ifs(struct parser *p, const struct token *toks, size_t n,
			     const struct token *end, bool wan)
{
	struct config *c = p->c;
	struct iflist *l = wan ? &c->wan : &c->lan;
	struct srcloc *loc = wan ? &c->wan_loc : &c->lan_loc;
	bool *has = wan ? &c->has_wan : &c->has_lan;
	size_t i = 1;
	char where[300];

	if (n < 2) {
		diag(p, end, "'%s' needs a list of interfaces", wan ? "wan" : "lan");
		return;
	}
	if (*has) {
		describe_loc(loc, where, sizeof(where));
		diag(p, &toks[0], "'%s' given twice (first at %s); set it once, or per rule",
		     wan ? "wan" : "lan", where);
		return;
	}
	*has = true;
	loc->file = p->file;
	loc->line = toks[0].line;
	loc->col = toks[0].col;
	parse_ifnames(p, toks, n, &i, l);
	if (i < n)
		diag(p, &toks[i], "unexpected '%.*s' after the interface list",
		     (int)toks[i].len, toks[i].s);
}

static void parse_mark(struct parser *p, const struct token *toks, size_t n,
		       const struct token *end)
{
	struct config *c = p->c;
	char buf[64], *slash, *e1, *e2 = NULL;
	unsigned long long v, m = 0xffffffffu;

	if (n != 2) {
		diag(p, n < 2 ? end : &toks[2], n < 2 ? "'pinhole-mark' needs VALUE[/MASK]" :
		     "unexpected word after 'pinhole-mark VALUE[/MASK]'");
		return;
	}
	if (c->has_mark) {
		char where[300];

		describe_loc(&c->mark_loc, where, sizeof(where));
		diag(p, &toks[0], "'pinhole-mark' given twice (first at %s)", where);
		return;
	}
	c->has_mark = true;
	c->mark_loc.file = p->file;
	c->mark_loc.line = toks[0].line;
	c->mark_loc.col = toks[0].col;
	snprintf(buf, sizeof(buf), "%.*s", (int)toks[1].len, toks[1].s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	errno = 0;
	v = strtoull(buf, &e1, 0);
	if (slash)
		m = strtoull(slash + 1, &e2, 0);
	if (errno || *e1 || !buf[0] || (slash && (*e2 || !slash[1])) || toks[1].len >= sizeof(buf) ||
	    v > 0xffffffffu || m > 0xffffffffu || buf[0] == '-' || (slash && slash[1] == '-')) {
		diag(p, &toks[1], "invalid mark '%.*s' (expected VALUE[/MASK], e.g. 0x10000000/0x10000000)",
		     (int)toks[1].len, toks[1].s);
		return;
	}
	if (!v || !m || (v & ~m)) {
		diag(p, &toks[1], "mark 0x%llx has bits outside mask 0x%llx or is zero", v, m);
		return;
	}
	c->pinhole_mark = v;
	c->pinhole_mask = m;
}

/* NAME on|off, once: pinhole-guard, learn */
static void parse_onoff(struct parser *p, const struct token *toks, size_t n, const struct token *end,
			bool *val, struct srcloc *loc)
{
	char name[32], where[300];

	snprintf(name, sizeof(name), "%.*s", (int)toks[0].len, toks[0].s);
	if (n != 2) {
		diag(p, n < 2 ? end : &toks[2], n < 2 ? "'%s' needs on or off" :
		     "unexpected word after '%s on|off'", name);
		return;
	}
	if (!tok_is(&toks[1], "on") && !tok_is(&toks[1], "off")) {
		diag(p, &toks[1], "invalid value '%.*s' for '%s' (expected on or off)",
		     (int)toks[1].len, toks[1].s, name);
		return;
	}
	if (loc->line) {
		describe_loc(loc, where, sizeof(where));
		diag(p, &toks[0], "'%s' given twice (first at %s)", name, where);
		return;
	}
	*val = tok_is(&toks[1], "on");
	loc->file = p->file;
	loc->line = toks[0].line;
	loc->col = toks[0].col;
}

static bool set_once(struct parser *p, const struct token *kw, struct srcloc *loc)
{
	char where[300];

	if (loc->file || loc->line) {
		describe_loc(loc, where, sizeof(where));
		diag(p, kw, "'%.*s' given twice (first at %s)", (int)kw->len, kw->s, where);
		return false;
	}
	loc->file = p->file;
	loc->line = kw->line;
	loc->col = kw->col;
	return true;
}

static void parse_global_allow(struct parser *p, const struct token *toks, size_t n,
			       const struct token *end)
{
	struct config *c = p->c;
	size_t i = 1;

	if (n < 2) {
		diag(p, end, "'allow' needs a list of addresses or prefixes");
		return;
	}
	if (!set_once(p, &toks[0], &c->allow_loc))
		return;
	c->has_allow = true;
	parse_allow(p, toks, n, &i, &c->allow);
	if (i < n)
		diag(p, &toks[i], "unexpected '%.*s' after the list", (int)toks[i].len, toks[i].s);
}

static void parse_global_limit(struct parser *p, const struct token *toks, size_t n,
			       const struct token *end, unsigned *val, struct srcloc *loc)
{
	char what[32];

	snprintf(what, sizeof(what), "%.*s", (int)toks[0].len, toks[0].s);
	if (n != 2) {
		diag(p, n < 2 ? end : &toks[2], n < 2 ? "'%s' needs a number" :
		     "unexpected word after '%s N'", what);
		return;
	}
	if (set_once(p, &toks[0], loc))
		parse_limit(p, &toks[1], what, val);
}

static void parse_statement(struct parser *p, const struct token *toks, size_t n,
			    const struct token *end)
{
	if (!n)
		return;
	if (tok_is(&toks[0], "rule"))
		parse_rule(p, toks + 1, n - 1, end);
	else if (tok_is(&toks[0], "lan"))
		parse_global_ifs(p, toks, n, end, false);
	else if (tok_is(&toks[0], "wan"))
		parse_global_ifs(p, toks, n, end, true);
	else if (tok_is(&toks[0], "pinhole-mark"))
		parse_mark(p, toks, n, end);
	else if (tok_is(&toks[0], "pinhole-guard"))
		parse_onoff(p, toks, n, end, &p->c->pinhole_guard, &p->c->guard_loc);
	else if (tok_is(&toks[0], "learn"))
		parse_onoff(p, toks, n, end, &p->c->learn, &p->c->learn_loc);
	else if (tok_is(&toks[0], "allow"))
		parse_global_allow(p, toks, n, end);
	else if (tok_is(&toks[0], "max-per-host"))
		parse_global_limit(p, toks, n, end, &p->c->max_per_host, &p->c->max_per_host_loc);
	else if (tok_is(&toks[0], "max-forwardings"))
		parse_global_limit(p, toks, n, end, &p->c->max_forwardings,
				   &p->c->max_forwardings_loc);
	else
		diag(p, &toks[0], "unknown statement '%.*s' (expected rule, lan, wan, pinhole-mark, "
		     "pinhole-guard, learn, allow, max-per-host or max-forwardings)", (int)toks[0].len, toks[0].s);
}

static int parse_buffer(struct config *c, const char *file, const char *text, size_t len,
			bool rule_only)
{
	struct parser p = { .c = c, .start_errors = c->n_errors };
	struct token *toks = NULL, end = { 0 };
	size_t n = 0, cap = 0, pos = 0;
	unsigned line = 0;
	bool cont = false;

	p.file = intern_file(c, file);
	if (!p.file)
		return -ENOMEM;
	while (pos < len) {
		const char *ls = text + pos;
		const char *nl = memchr(ls, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - ls) : len - pos;
		size_t body, k;

		pos += llen + (nl ? 1 : 0);
		line++;
		if (llen && ls[llen - 1] == '\r')
			llen--;
		if (memchr(ls, '\0', llen)) {
			const char *nul = memchr(ls, '\0', llen);
			struct token t = { .s = nul, .len = 0, .line = line, .col = nul - ls + 1,
					   .ltext = ls, .llen = nul - ls };

			diag(&p, &t, "line contains a NUL byte");
			n = 0;
			cont = false;
			continue;
		}
		body = llen;
		for (k = 0; k < llen && !rule_only; k++)
			if (ls[k] == '#') {
				body = k;
				break;
			}
		while (body && isspace((unsigned char)ls[body - 1]))
			body--;
		bool next_cont = !rule_only && body && ls[body - 1] == '\\';

		if (next_cont)
			body--;
		if (!cont)
			n = 0;
		for (k = 0; k < body;) {
			size_t s;

			if (isspace((unsigned char)ls[k])) {
				k++;
				continue;
			}
			for (s = k; k < body && !isspace((unsigned char)ls[k]); k++)
				;
			if (n == cap) {
				struct token *q = realloc(toks, (cap = cap ? cap * 2 : 16) * sizeof(*q));

				if (!q) {
					free(toks);
					return -ENOMEM;
				}
				toks = q;
			}
			toks[n++] = (struct token){ .s = ls + s, .len = k - s, .line = line,
						    .col = s + 1, .ltext = ls, .llen = llen };
		}
		end = (struct token){ .s = ls + body, .len = 0, .line = line,
				      .col = body + 1, .ltext = ls, .llen = llen };
		cont = next_cont;
		if (!cont) {
			if (rule_only)
				parse_rule(&p, toks, n, &end);
			else
				parse_statement(&p, toks, n, &end);
			n = 0;
		}
	}
	if (cont) {
		if (rule_only)
			parse_rule(&p, toks, n, &end);
		else
			parse_statement(&p, toks, n, &end);
	}
	free(toks);
	return c->n_errors == p.start_errors ? 0 : -EINVAL;
}

int config_parse_text(struct config *c, const char *file, const char *text, size_t len)
{
	/* a UTF-8 byte-order mark, as some editors write: not part of the first line */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	return parse_buffer(c, file, text, len, false);
}

int config_parse_rule_line(struct config *c, const char *label, const char *text)
{
	size_t before = c->n_rules, len = strlen(text);
	struct parser p = { .c = c, .file = intern_file(c, label) };
	int r;

	if (!p.file)
		return -ENOMEM;
	if (memchr(text, '\n', len)) {
		diag(&p, NULL, "a rule line cannot contain a newline");
		return -EINVAL;
	}
	r = parse_buffer(c, label, text, len, true);
	if (r == 0 && c->n_rules == before) {
		diag(&p, NULL, "no rule given");
		return -EINVAL;
	}
	/* runtime rules carry no file location */
	if (r == 0)
		for (size_t i = before; i < c->n_rules; i++) {
			struct rule *q = c->rules[i];

			q->loc.file = NULL;
			for (size_t k = 0; k < q->n_forwards; k++)
				q->forwards[k].loc.file = NULL;
			for (size_t k = 0; k < q->n_triggers; k++)
				q->triggers[k].loc.file = NULL;
		}
	return r;
}

int config_add_rule(struct config *c, const char *label, struct rule *r)
{
	struct parser p = { .c = c, .file = intern_file(c, label) };
	unsigned errors = c->n_errors;

	if (!p.file) {
		rule_free(r);
		return -ENOMEM;
	}
	check_conflicts(&p, r, NULL, 0, errors);
	if (c->n_errors != errors) {
		rule_free(r);
		return -EINVAL;
	}
	if (add_rule(c, r) < 0) {
		rule_free(r);
		return -ENOMEM;
	}
	return 0;
}

int config_parse_portrange(const char *text, struct portrange *ret)
{
	struct config scratch = { 0 };
	struct parser p = { .c = &scratch, .file = "" };
	struct token t = { .s = text, .len = strlen(text), .line = 1, .col = 1,
			   .ltext = text, .llen = strlen(text) };
	int r = parse_portrange(&p, &t, ret);

	dynbuf_free(&scratch.errors);
	dynbuf_free(&scratch.error_lines);
	if (r == 0)
		ret->loc.file = NULL;
	return r < 0 ? -EINVAL : 0;
}

static const char *reintern(struct config *c, const char *file)
{
	return file ? intern_file(c, file) : NULL;
}

struct config *config_dup(const struct config *src)
{
	struct config *c = config_new();

	if (!c)
		return NULL;
	c->has_lan = src->has_lan;
	c->has_wan = src->has_wan;
	c->has_mark = src->has_mark;
	c->lan_loc = src->lan_loc;
	c->wan_loc = src->wan_loc;
	c->mark_loc = src->mark_loc;
	c->pinhole_mark = src->pinhole_mark;
	c->pinhole_mask = src->pinhole_mask;
	c->pinhole_guard = src->pinhole_guard;
	c->guard_loc = src->guard_loc;
	c->guard_loc.file = reintern(c, src->guard_loc.file);
	c->learn = src->learn;
	c->learn_loc = src->learn_loc;
	c->learn_loc.file = reintern(c, src->learn_loc.file);
	c->lan_loc.file = reintern(c, src->lan_loc.file);
	c->wan_loc.file = reintern(c, src->wan_loc.file);
	c->mark_loc.file = reintern(c, src->mark_loc.file);
	c->has_allow = src->has_allow;
	c->allow_loc = src->allow_loc;
	c->allow_loc.file = reintern(c, src->allow_loc.file);
	c->max_per_host = src->max_per_host;
	c->max_per_host_loc = src->max_per_host_loc;
	c->max_per_host_loc.file = reintern(c, src->max_per_host_loc.file);
	c->max_forwardings = src->max_forwardings;
	c->max_forwardings_loc = src->max_forwardings_loc;
	c->max_forwardings_loc.file = reintern(c, src->max_forwardings_loc.file);
	if (iflist_copy(&c->lan, &src->lan) < 0 || iflist_copy(&c->wan, &src->wan) < 0 ||
	    prefixlist_copy(&c->allow, &src->allow) < 0)
		return config_free(c);
	for (size_t i = 0; i < src->n_rules; i++) {
		struct rule *r = rule_dup(src->rules[i]);

		if (!r || add_rule(c, r) < 0) {
			rule_free(r);
			return config_free(c);
		}
		r->loc.file = reintern(c, r->loc.file);
		for (size_t k = 0; k < r->n_forwards; k++)
			r->forwards[k].loc.file = reintern(c, r->forwards[k].loc.file);
		for (size_t k = 0; k < r->n_triggers; k++)
			r->triggers[k].loc.file = reintern(c, r->triggers[k].loc.file);
	}
	return c;
}

struct rule *config_find_rule(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_rules; i++)
		if (!strcmp(c->rules[i]->name, name))
			return c->rules[i];
	return NULL;
}

struct dropin {
	char *name;
	char *path;
};

static int cmp_dropin(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->name, ((const struct dropin *)b)->name);
}

static bool is_conf(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".conf");
}

static void file_error(struct config *c, const char *path, const char *what, int err)
{
	struct parser p = { .c = c, .file = intern_file(c, path) };

	if (p.file)
		diag(&p, NULL, "%s: %s", what, strerror(err));
}

static void not_regular(struct config *c, const char *path)
{
	struct parser p = { .c = c, .file = intern_file(c, path) };

	if (p.file)
		diag(&p, NULL, "not a regular file");
}

static int read_file(struct config *c, const char *path)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t k;

	/*
	 * Opening a FIFO for reading blocks until a writer comes, a device may
	 * do anything: look first, then open without blocking and look again
	 * at what was opened (it may have been swapped in between).
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		not_regular(c, path);
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		file_error(c, path, "cannot open", errno);
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		not_regular(c, path);
		return -EINVAL;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	while ((k = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len)) > 0)
		len += k;
	if (k < 0) {
		file_error(c, path, "cannot read", errno);
		return -errno;
	}
	if (len > CONFIG_FILE_MAX) {
		file_error(c, path, "file larger than 1 MiB", EFBIG);
		return -EFBIG;
	}
	return config_parse_text(c, path, buf, len);
}

int config_load_dirs(struct config *c, const char *const *dirs, size_t n_dirs)
{
	struct dropin *list = NULL;
	size_t n = 0;
	int r = 0;

	for (size_t d = 0; d < n_dirs; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (!dir) {
			if (errno != ENOENT)
				file_error(c, dirs[d], "cannot open directory", errno);
			continue;
		}
		while ((de = readdir(dir))) {
			bool shadowed = false;
			struct dropin *q;

			if (!is_conf(de->d_name))
				continue;
			for (size_t k = 0; k < n; k++)
				if (!strcmp(list[k].name, de->d_name))
					shadowed = true;
			if (shadowed)
				continue;
			q = realloc(list, (n + 1) * sizeof(*q));
			if (!q) {
				r = -ENOMEM;
				break;
			}
			list = q;
			list[n].name = strdup(de->d_name);
			if (asprintf(&list[n].path, "%s/%s", dirs[d], de->d_name) < 0)
				list[n].path = NULL;
			n++;
			if (!list[n - 1].name || !list[n - 1].path) {
				r = -ENOMEM;
				break;
			}
		}
		closedir(dir);
	}
	if (r == 0) {
		qsort(list, n, sizeof(*list), cmp_dropin);
		for (size_t k = 0; k < n; k++) {
			char real[PATH_MAX];

			if (realpath(list[k].path, real) && !strcmp(real, "/dev/null"))
				continue;
			read_file(c, list[k].path);
		}
	}
	for (size_t k = 0; k < n; k++) {
		free(list[k].name);
		free(list[k].path);
	}
	free(list);
	if (r < 0)
		return r;
	return c->n_errors ? -EINVAL : 0;
}
