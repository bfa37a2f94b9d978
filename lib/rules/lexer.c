/*
 * The rule-file lexer; see lexer.h. Errors never stop the parse; they
 * accumulate in c->errors with the source line and a caret under the
 * column, and each error's first line in c->error_lines.
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

#include "diag.h"
#include "lexer.h"

/* Where token T (NULL: the file as a whole) stands, for a diagnostic */
static struct diag_loc token_loc(const struct parser *p, const struct token *t, bool warning)
{
	struct diag_loc loc = { .file = p->file, .warning = warning };

	if (t) {
		loc.line = t->line;
		loc.col = t->col;
		loc.text = t->ltext;
		loc.len = t->llen;
	}
	return loc;
}

void lex_diag(struct parser *p, const struct token *t, const char *fmt, ...)
{
	struct diag_loc loc = token_loc(p, t, false);
	va_list ap;

	p->c->n_errors++;
	va_start(ap, fmt);
	diag_vprintf(&p->c->errors, &p->c->error_lines, &loc, fmt, ap);
	va_end(ap);
}

void lex_warn(struct parser *p, const struct token *t, const char *fmt, ...)
{
	struct diag_loc loc = token_loc(p, t, true);
	va_list ap;

	p->c->n_warnings++;
	va_start(ap, fmt);
	diag_vprintf(&p->c->errors, &p->c->warning_lines, &loc, fmt, ap);
	va_end(ap);
}

const char *lex_guess(const struct token *t, const char *const *words, size_t n, char *buf,
		      size_t size)
{
	const char *w = suggest_word(t->s, t->len, words, n);

	if (!w)
		return "";
	snprintf(buf, size, " (did you mean '%s'?)", w);
	return buf;
}

bool lex_is(const struct token *t, const char *s)
{
	return t->len == strlen(s) && !memcmp(t->s, s, t->len);
}

/* A sub-token: part of T from offset OFF, LEN bytes. */
struct token lex_sub(const struct token *t, size_t off, size_t len)
{
	struct token r = *t;

	r.s = t->s + off;
	r.len = len;
	r.col = t->col + off;
	return r;
}

int lex_uint(const char *s, size_t len, unsigned long max, unsigned long *ret)
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

int lex_port(struct parser *p, const struct token *t, uint16_t *ret)
{
	unsigned long v;
	int r = lex_uint(t->s, t->len, ULONG_MAX >> 1, &v);

	if (r < 0 || t->len > 5) {
		if (r == -EINVAL) {
			lex_diag(p, t, "invalid port '%.*s'", (int)t->len, t->s);
			return -EINVAL;
		}
		v = 65536;
	}
	if (v < 1 || v > 65535) {
		lex_diag(p, t, "port %.*s out of range 1-65535", (int)t->len, t->s);
		return -ERANGE;
	}
	*ret = v;
	return 0;
}

/* PORT/PROTO or LOW-HIGH/PROTO */
int lex_portrange(struct parser *p, const struct token *t, struct portrange *ret)
{
	const char *slash = memchr(t->s, '/', t->len);
	const char *dash, *colon;
	struct token ports, proto;
	int r = 0;

	if (!slash) {
		lex_diag(p, t, "'%.*s' needs a protocol: PORT/tcp, PORT/udp or LOW-HIGH/PROTO",
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

		lex_diag(p, &proto, "unknown protocol '%.*s' (expected tcp or udp)%s",
		     (int)proto.len, proto.s, lex_guess(&proto, protos, 2, guess, sizeof(guess)));
		r = -EINVAL;
	}
	colon = memchr(ports.s, ':', ports.len);
	if (colon && !memchr(ports.s, '-', ports.len)) {
		/* iptables' --dport LOW:HIGH */
		size_t at = colon - ports.s;

		lex_diag(p, &ports, "invalid port range '%.*s': ranges are written LOW-HIGH (%.*s-%.*s/%.*s)",
		     (int)ports.len, ports.s, (int)at, ports.s, (int)(ports.len - at - 1), colon + 1,
		     (int)proto.len, proto.s);
		return -EINVAL;
	}
	dash = memchr(ports.s, '-', ports.len);
	if (dash) {
		struct token lo = lex_sub(&ports, 0, dash - ports.s);
		struct token hi = lex_sub(&ports, dash - ports.s + 1, ports.len - (dash - ports.s) - 1);

		if (lex_port(p, &lo, &ret->lo) < 0 || lex_port(p, &hi, &ret->hi) < 0)
			return -EINVAL;
		if (ret->lo > ret->hi) {
			lex_diag(p, &ports, "range %.*s is reversed: %u > %u", (int)ports.len, ports.s,
			     ret->lo, ret->hi);
			return -EINVAL;
		}
	} else {
		if (lex_port(p, &ports, &ret->lo) < 0)
			return -EINVAL;
		ret->hi = ret->lo;
	}
	ret->loc.file = p->file;
	ret->loc.line = t->line;
	ret->loc.col = t->col;
	return r;
}

/* 300, 300s, 5m, 1h30m, 4m12s */
int lex_duration(struct parser *p, const struct token *t, uint32_t *ret)
{
	static const char units[] = "hms";
	static const unsigned mult[] = { 3600, 60, 1 };
	unsigned long total = 0, v = 0;
	size_t i = 0, next_unit = 0;

	if (lex_uint(t->s, t->len, CONFIG_TIMEOUT_MAX, &v) == 0) {
		total = v;
		/* "timeout 5" meant as minutes would close the forwarding before most replies */
		if (v >= 1 && v < 60)
			lex_warn(p, t, "timeout %lu is %lu second%s (a bare number is seconds); "
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
		lex_uint(t->s + start, i - start, ULONG_MAX >> 1, &v);
		total += v * mult[u - units];
		next_unit = u - units + 1;
		i++;
	}
	if (!t->len)
		goto invalid;
check:
	if (total < 1) {
		lex_diag(p, t, "timeout must be at least 1s");
		return -ERANGE;
	}
	if (total > CONFIG_TIMEOUT_MAX) {
		lex_diag(p, t, "timeout '%.*s' is longer than the maximum 720h", (int)t->len, t->s);
		return -ERANGE;
	}
	*ret = total;
	return 0;
invalid:
	lex_diag(p, t, "invalid duration '%.*s' (examples: 300, 300s, 5m, 1h30m, 4m12s)",
	     (int)t->len, t->s);
	return -EINVAL;
}

/*
 * Collect a comma list starting at toks[*i]; "a,b", "a, b" and "a ,b" are
 * all one list. Elements are returned as sub-tokens.
 */
int lex_list(struct parser *p, const struct token *toks, size_t n, size_t *i,
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

					lex_diag(p, &e, "empty element in list");
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
		lex_diag(p, &last, "list ends with a comma");
		free(el);
		return -EINVAL;
	}
	*ret = el;
	*ret_n = nel;
	return 0;
}

int lex_ports(struct parser *p, const struct token *toks, size_t n, size_t *i,
		       struct portrange **ret, size_t *ret_n)
{
	struct token *el;
	size_t nel;
	int r = lex_list(p, toks, n, i, &el, &nel);

	if (r < 0)
		return r;
	*ret = calloc(nel ? nel : 1, sizeof(**ret));
	if (!*ret) {
		free(el);
		return -ENOMEM;
	}
	for (size_t k = 0; k < nel; k++)
		if (lex_portrange(p, &el[k], &(*ret)[k]) < 0)
			r = -EINVAL;
	*ret_n = nel;
	free(el);
	return r;
}

int lex_ifnames(struct parser *p, const struct token *toks, size_t n, size_t *i,
			 struct iflist *ret)
{
	struct token *el;
	size_t nel;
	int r = lex_list(p, toks, n, i, &el, &nel);

	if (r < 0)
		return r;
	for (size_t k = 0; k < nel; k++) {
		const struct token *t = &el[k];
		const struct ifalias *a = config_find_alias(p->c, t->s, t->len);
		char name[IFNAME_MAX + 2];
		size_t namelen = t->len;
		bool bad = false;

		if (a) {
			for (size_t j = 0; j < a->devs.n; j++)
				if (iflist_add(ret, a->devs.names[j]) < 0)
					r = -ENOMEM;
			continue;
		}

		if (namelen && t->s[namelen - 1] == '*')
			namelen--;
		for (size_t j = 0; j < namelen; j++)
			if (t->s[j] == '/' || t->s[j] == '*' || t->s[j] == '"' ||
			    !isgraph((unsigned char)t->s[j]))
				bad = true;
		if (bad) {
			lex_diag(p, t, "invalid interface name '%.*s'", (int)t->len, t->s);
			r = -EINVAL;
			continue;
		}
		if (namelen > IFNAME_MAX || (namelen == 0 && t->len == 0)) {
			lex_diag(p, t, "interface name '%.*s' is longer than %d characters",
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

int lex_allow(struct parser *p, const struct token *toks, size_t n, size_t *i,
		       struct prefixlist *ret)
{
	struct token *el;
	size_t nel;
	int r = lex_list(p, toks, n, i, &el, &nel);

	if (r < 0)
		return r;
	for (size_t k = 0; k < nel; k++) {
		const struct token *t = &el[k];
		struct addrprefix a;
		int e = prefix_parse(t->s, t->len, &a);

		if (e == -EADDRNOTAVAIL)
			lex_diag(p, t, "'%.*s' has bits set after the prefix length", (int)t->len, t->s);
		else if (e == -ERANGE)
			lex_diag(p, t, "prefix length out of range in '%.*s'", (int)t->len, t->s);
		else if (e < 0)
			lex_diag(p, t, "invalid address or prefix '%.*s' (examples: 192.168.1.0/24, "
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
int lex_limit(struct parser *p, const struct token *t, const char *what, unsigned *ret)
{
	unsigned long v = 0;
	int r = lex_uint(t->s, t->len, CONFIG_LIMIT_MAX, &v);
	size_t digits = 0;

	while (digits < t->len && isdigit((unsigned char)t->s[digits]))
		digits++;
	if (r == -EINVAL && (!t->len || digits < t->len)) {
		lex_diag(p, t, "invalid number '%.*s' for '%s'", (int)t->len, t->s, what);
		return r;
	}
	if (r < 0 || v < 1) {
		lex_diag(p, t, "'%s' must be 1 to %u", what, CONFIG_LIMIT_MAX);
		return -ERANGE;
	}
	*ret = v;
	return 0;
}

void lex_describe_loc(const struct srcloc *l, char *buf, size_t size)
{
	if (l->file)
		snprintf(buf, size, "%s:%u:%u", l->file, l->line, l->col);
	else
		snprintf(buf, size, "runtime");
}

int lex_buffer(struct config *c, const char *file, const char *text, size_t len, bool rule_only,
	       lex_statement_fn statement)
{
	struct parser p = { .c = c, .start_errors = c->n_errors };
	struct token *toks = NULL, end = { 0 };
	size_t n = 0, cap = 0, pos = 0;
	unsigned line = 0;
	bool cont = false;

	p.file = config_intern_file(c, file);
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

			lex_diag(&p, &t, "line contains a NUL byte");
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
			statement(&p, toks, n, &end);
			n = 0;
		}
	}
	if (cont)
		statement(&p, toks, n, &end);
	free(toks);
	return c->n_errors == p.start_errors ? 0 : -EINVAL;
}
