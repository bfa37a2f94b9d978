/*
 * The values of options and statements; see value.h. A value is one
 * token, or a comma list cut into sub-tokens so that a diagnostic points
 * at the element it is about.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

const struct ifalias *value_find_alias(const struct ifalias *v, size_t n, const char *name,
				       size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i].name) == len && !memcmp(v[i].name, name, len))
			return &v[i];
	return NULL;
}

static int read_uint(const char *s, size_t len, unsigned long max, unsigned long *ret)
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

int value_port(struct lexer *lx, const struct token *t, uint16_t *ret)
{
	unsigned long v;
	int r = read_uint(t->s, t->len, ULONG_MAX >> 1, &v);

	if (r < 0 || t->len > 5) {
		if (r == -EINVAL) {
			lex_diag(lx, t, "invalid port '%.*s'", (int)t->len, t->s);
			return -EINVAL;
		}
		v = 65536;
	}
	if (v < 1 || v > 65535) {
		lex_diag(lx, t, "port %.*s out of range 1-65535", (int)t->len, t->s);
		return -ERANGE;
	}
	*ret = v;
	return 0;
}

int value_portrange(struct lexer *lx, const struct token *t, struct portrange *ret)
{
	const char *slash = memchr(t->s, '/', t->len);
	const char *dash, *colon;
	struct token ports, proto;
	int r = 0;

	if (!slash) {
		lex_diag(lx, t, "'%.*s' needs a protocol: PORT/tcp, PORT/udp or LOW-HIGH/PROTO",
			 (int)t->len, t->s);
		return -EINVAL;
	}
	ports = lex_sub(t, 0, slash - t->s);
	proto = lex_sub(t, slash - t->s + 1, t->len - (slash - t->s) - 1);
	if (lex_is(&proto, "tcp"))
		ret->proto = IPPROTO_TCP;
	else if (lex_is(&proto, "udp"))
		ret->proto = IPPROTO_UDP;
	else {
		static const char *const protos[] = { "tcp", "udp" };
		char guess[64];

		lex_diag(lx, &proto, "unknown protocol '%.*s' (expected tcp or udp)%s",
			 (int)proto.len, proto.s, lex_guess(&proto, protos, 2, guess, sizeof(guess)));
		r = -EINVAL;
	}
	colon = memchr(ports.s, ':', ports.len);
	if (colon && !memchr(ports.s, '-', ports.len)) {
		/* iptables' --dport LOW:HIGH */
		size_t at = colon - ports.s;

		lex_diag(lx, &ports, "invalid port range '%.*s': ranges are written LOW-HIGH (%.*s-%.*s/%.*s)",
			 (int)ports.len, ports.s, (int)at, ports.s, (int)(ports.len - at - 1), colon + 1,
			 (int)proto.len, proto.s);
		return -EINVAL;
	}
	dash = memchr(ports.s, '-', ports.len);
	if (dash) {
		struct token lo = lex_sub(&ports, 0, dash - ports.s);
		struct token hi = lex_sub(&ports, dash - ports.s + 1, ports.len - (dash - ports.s) - 1);

		if (value_port(lx, &lo, &ret->lo) < 0 || value_port(lx, &hi, &ret->hi) < 0)
			return -EINVAL;
		if (ret->lo > ret->hi) {
			lex_diag(lx, &ports, "range %.*s is reversed: %u > %u", (int)ports.len, ports.s,
				 ret->lo, ret->hi);
			return -EINVAL;
		}
	} else {
		if (value_port(lx, &ports, &ret->lo) < 0)
			return -EINVAL;
		ret->hi = ret->lo;
	}
	ret->loc.file = lx->file;
	ret->loc.line = t->line;
	ret->loc.col = t->col;
	return r;
}

int value_duration(struct lexer *lx, const struct token *t, uint32_t *ret)
{
	static const char units[] = "hms";
	static const unsigned mult[] = { 3600, 60, 1 };
	unsigned long total = 0, v = 0;
	size_t i = 0, next_unit = 0;

	if (read_uint(t->s, t->len, VALUE_TIMEOUT_MAX, &v) == 0) {
		total = v;
		/* "timeout 5" meant as minutes would close the forwarding before most replies */
		if (v >= 1 && v < 60)
			lex_warn(lx, t, "timeout %lu is %lu second%s (a bare number is seconds); "
				 "did you mean %lum? (write %lus to keep seconds)", v, v, v == 1 ? "" : "s",
				 v, v);
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
		read_uint(t->s + start, i - start, ULONG_MAX >> 1, &v);
		total += v * mult[u - units];
		next_unit = u - units + 1;
		i++;
	}
	if (!t->len)
		goto invalid;
check:
	if (total < 1) {
		lex_diag(lx, t, "timeout must be at least 1s");
		return -ERANGE;
	}
	if (total > VALUE_TIMEOUT_MAX) {
		lex_diag(lx, t, "timeout '%.*s' is longer than the maximum 720h", (int)t->len, t->s);
		return -ERANGE;
	}
	*ret = total;
	return 0;
invalid:
	lex_diag(lx, t, "invalid duration '%.*s' (examples: 300, 300s, 5m, 1h30m, 4m12s)",
		 (int)t->len, t->s);
	return -EINVAL;
}

int value_limit(struct lexer *lx, const struct token *t, const char *what, unsigned *ret)
{
	unsigned long v = 0;
	int r = read_uint(t->s, t->len, VALUE_LIMIT_MAX, &v);
	size_t digits = 0;

	while (digits < t->len && isdigit((unsigned char)t->s[digits]))
		digits++;
	if (r == -EINVAL && (!t->len || digits < t->len)) {
		lex_diag(lx, t, "invalid number '%.*s' for '%s'", (int)t->len, t->s, what);
		return r;
	}
	if (r < 0 || v < 1) {
		lex_diag(lx, t, "'%s' must be 1 to %u", what, VALUE_LIMIT_MAX);
		return -ERANGE;
	}
	*ret = v;
	return 0;
}

/* The elements of a comma list from toks[*i] on, as sub-tokens. */
static int split_list(struct lexer *lx, const struct token *toks, size_t n, size_t *i,
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
					struct token e = lex_sub(t, k, 1);

					lex_diag(lx, &e, "empty element in list");
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
			el[nel++] = lex_sub(t, s, k - s);
			expect_item = false;
		}
		last = lex_sub(t, t->len, 0);
		more = expect_item || (*i < n && toks[*i].s[0] == ',');
	}
	if (expect_item) {
		lex_diag(lx, &last, "list ends with a comma");
		free(el);
		return -EINVAL;
	}
	*ret = el;
	*ret_n = nel;
	return 0;
}

/* What one element of a list adds to LIST (the list being filled). */
typedef int (*element_fn)(struct lexer *lx, const struct token *t, void *list);

/* Each element of the list from toks[*i] on through ELEMENT; the last error, if any. */
static int read_list(struct lexer *lx, const struct token *toks, size_t n, size_t *i,
		     element_fn element, void *list)
{
	struct token *el;
	size_t nel;
	int r = split_list(lx, toks, n, i, &el, &nel);

	if (r < 0)
		return r;
	for (size_t k = 0; k < nel; k++) {
		int e = element(lx, &el[k], list);

		if (e < 0)
			r = e;
	}
	free(el);
	return r;
}

struct portlist {
	struct portrange *v;
	size_t n;
};

/* A bad range keeps its place: the rule's checks count the ranges given. */
static int port_element(struct lexer *lx, const struct token *t, void *list)
{
	struct portlist *l = list;
	struct portrange *q = realloc(l->v, (l->n + 1) * sizeof(*q));

	if (!q)
		return -ENOMEM;
	l->v = q;
	q = &l->v[l->n++];
	*q = (struct portrange){ 0 };
	return value_portrange(lx, t, q) < 0 ? -EINVAL : 0;
}

int value_ports(struct lexer *lx, const struct token *toks, size_t n, size_t *i,
		struct portrange **ret, size_t *ret_n)
{
	struct portlist l = { 0 };
	int r = read_list(lx, toks, n, i, port_element, &l);

	*ret = l.v;
	*ret_n = l.n;
	return r;
}

struct ifnames {
	const struct ifalias *aliases;
	size_t n_aliases;
	struct iflist *l;
};

static int ifname_element(struct lexer *lx, const struct token *t, void *list)
{
	struct ifnames *names = list;
	const struct ifalias *a = value_find_alias(names->aliases, names->n_aliases, t->s, t->len);
	char name[IFNAME_MAX + 2];
	size_t namelen = t->len;
	int r = 0;

	if (a) {
		for (size_t j = 0; j < a->devs.n; j++)
			if (iflist_add(names->l, a->devs.names[j]) < 0)
				r = -ENOMEM;
		return r;
	}
	if (namelen && t->s[namelen - 1] == '*')
		namelen--;
	for (size_t j = 0; j < namelen; j++)
		if (t->s[j] == '/' || t->s[j] == '*' || t->s[j] == '"' ||
		    !isgraph((unsigned char)t->s[j])) {
			lex_diag(lx, t, "invalid interface name '%.*s'", (int)t->len, t->s);
			return -EINVAL;
		}
	if (namelen > IFNAME_MAX || (namelen == 0 && t->len == 0)) {
		lex_diag(lx, t, "interface name '%.*s' is longer than %d characters",
			 (int)t->len, t->s, IFNAME_MAX);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)t->len, t->s);
	return iflist_add(names->l, name) < 0 ? -ENOMEM : 0;
}

int value_ifnames(struct lexer *lx, const struct ifalias *aliases, size_t n_aliases,
		  const struct token *toks, size_t n, size_t *i, struct iflist *ret)
{
	struct ifnames names = { aliases, n_aliases, ret };

	return read_list(lx, toks, n, i, ifname_element, &names);
}

static int prefix_element(struct lexer *lx, const struct token *t, void *list)
{
	struct addrprefix a;
	int e = prefix_parse(t->s, t->len, &a);

	if (e == -EADDRNOTAVAIL)
		lex_diag(lx, t, "'%.*s' has bits set after the prefix length", (int)t->len, t->s);
	else if (e == -ERANGE)
		lex_diag(lx, t, "prefix length out of range in '%.*s'", (int)t->len, t->s);
	else if (e < 0)
		lex_diag(lx, t, "invalid address or prefix '%.*s' (examples: 192.168.1.0/24, "
			 "192.168.1.20, fd00::/64)", (int)t->len, t->s);
	else if (prefixlist_add(list, &a) < 0)
		e = -ENOMEM;
	return e;
}

int value_allow(struct lexer *lx, const struct token *toks, size_t n, size_t *i,
		struct prefixlist *ret)
{
	return read_list(lx, toks, n, i, prefix_element, ret);
}

/* A token of its own for TEXT, its diagnostics dropped. */
static int parse_text(const char *text, int (*parse)(struct lexer *lx, const struct token *t,
						     void *ret), void *ret)
{
	struct dynbuf out = { 0 }, lines = { 0 };
	unsigned n_errors = 0, n_warnings = 0;
	struct lexer lx = { .file = "", .sink = { &out, &lines, &lines, &n_errors, &n_warnings } };
	struct token t = { .s = text, .len = strlen(text), .line = 1, .col = 1,
			   .ltext = text, .llen = strlen(text) };
	int r = parse(&lx, &t, ret);

	dynbuf_free(&out);
	dynbuf_free(&lines);
	return r < 0 ? -EINVAL : 0;
}

static int portrange_text(struct lexer *lx, const struct token *t, void *ret)
{
	return value_portrange(lx, t, ret);
}

static int duration_text(struct lexer *lx, const struct token *t, void *ret)
{
	return value_duration(lx, t, ret);
}

int value_parse_portrange(const char *text, struct portrange *ret)
{
	int r = parse_text(text, portrange_text, ret);

	if (r == 0)
		ret->loc.file = NULL;
	return r;
}

int value_parse_duration(const char *text, uint32_t *ret)
{
	return parse_text(text, duration_text, ret);
}
