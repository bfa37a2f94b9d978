/*
 * `rule NAME OPTIONS`; see ruleopt.h. Each option's parser reads its
 * value from the tokens after its keyword; check_rule then sees what the
 * options given exclude or need of each other.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleopt.h"

static bool families_meet(unsigned a, unsigned b)
{
	return (a & b) != 0;
}

static const struct rule *find_overlap(struct rule *const *rules, size_t n_rules,
				       const struct rule *r, const struct portrange *f,
				       const struct portrange **ret_f)
{
	for (size_t k = 0; k < n_rules; k++) {
		const struct rule *q = rules[k];

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
			*ret = lex_sub(&toks[i], f->loc.col - toks[i].col, 1);
			return ret;
		}
	return toks;
}

void ruleopt_conflicts(struct lexer *lx, const struct rule *r, struct rule *const *rules,
		       size_t n_rules, const struct token *toks, size_t n, unsigned errors)
{
	const struct rule *first = r->name[0] ? rule_find(rules, n_rules, r->name) : NULL;
	char where[300], who[RULE_NAME_MAX + 16] = "";

	if (!toks)
		snprintf(who, sizeof(who), "rule '%s': ", r->name);
	if (first) {
		srcloc_format(&first->loc, where, sizeof(where));
		lex_diag(lx, toks, "%sduplicate rule name '%s' (first defined at %s)", who, r->name, where);
	}
	for (size_t k = 0; k < r->n_forwards && lex_errors(lx) == errors; k++) {
		const struct portrange *f = &r->forwards[k], *g;
		const struct rule *q;
		struct token t;
		char a[32], b[32];

		for (size_t j = 0; j < k; j++) {
			g = &r->forwards[j];
			if (g->proto == f->proto && g->lo <= f->hi && f->lo <= g->hi) {
				portrange_format(f, a, sizeof(a));
				portrange_format(g, b, sizeof(b));
				lex_diag(lx, fwd_token(toks, n, f, &t),
				     "%sforward %s overlaps forward %s of the same rule", who, a, b);
			}
		}
		q = find_overlap(rules, n_rules, r, f, &g);
		if (q) {
			portrange_format(f, a, sizeof(a));
			portrange_format(g, b, sizeof(b));
			srcloc_format(&g->loc, where, sizeof(where));
			lex_diag(lx, fwd_token(toks, n, f, &t), "%sforward %s overlaps forward %s of rule '%s' (%s)",
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

enum {
	O_TRIGGER, O_FORWARD, O_TIMEOUT, O_TO, O_PEER, O_EXCLUSIVE, O_FAMILY, O_LAN, O_WAN,
	O_ALLOW, O_MAX_PER_HOST, O_DISABLED, O__N,
};

/* A rule being read: where it reports, the names that stand for interfaces. */
struct parser {
	struct lexer *lx;
	const struct ifalias *aliases;
	size_t n_aliases;
};

/* Where each option was given: its keyword and, for those that take one, its value. */
struct ruleopts {
	const struct token *kw[O__N];
	const struct token *val[O__N];
};

/* An option's parser: its value (if any) starts at toks[*i]; it moves *I past what it used. */
typedef void (*opt_fn)(struct parser *p, struct rule *r, const struct token *toks, size_t n,
		       size_t *i);

static void opt_trigger(struct parser *p, struct rule *r, const struct token *toks, size_t n,
			size_t *i)
{
	value_ports(p->lx, toks, n, i, &r->triggers, &r->n_triggers);
}

static void opt_forward(struct parser *p, struct rule *r, const struct token *toks, size_t n,
			size_t *i)
{
	value_ports(p->lx, toks, n, i, &r->forwards, &r->n_forwards);
}

static void opt_timeout(struct parser *p, struct rule *r, const struct token *toks, size_t n,
			size_t *i)
{
	value_duration(p->lx, &toks[(*i)++], &r->timeout_s);
}

static void opt_max_per_host(struct parser *p, struct rule *r, const struct token *toks, size_t n,
			     size_t *i)
{
	value_limit(p->lx, &toks[(*i)++], "max-per-host", &r->max_per_host);
}

static void opt_lan(struct parser *p, struct rule *r, const struct token *toks, size_t n, size_t *i)
{
	r->has_lan = true;
	value_ifnames(p->lx, p->aliases, p->n_aliases, toks, n, i, &r->lan);
}

static void opt_wan(struct parser *p, struct rule *r, const struct token *toks, size_t n, size_t *i)
{
	r->has_wan = true;
	value_ifnames(p->lx, p->aliases, p->n_aliases, toks, n, i, &r->wan);
}

static void opt_allow(struct parser *p, struct rule *r, const struct token *toks, size_t n, size_t *i)
{
	r->has_allow = true;
	value_allow(p->lx, toks, n, i, &r->allow);
}

static void opt_family(struct parser *p, struct rule *r, const struct token *toks, size_t n,
		       size_t *i)
{
	const struct token *val = &toks[(*i)++];

	if (lex_is(val, "ipv4"))
		r->family = RULE_FAMILY_IPV4;
	else if (lex_is(val, "ipv6"))
		r->family = RULE_FAMILY_IPV6;
	else if (lex_is(val, "both"))
		r->family = RULE_FAMILY_BOTH;
	else {
		static const char *const families[] = { "ipv4", "ipv6", "both" };
		char guess[64];

		lex_diag(p->lx, val, "unknown family '%.*s' (expected ipv4, ipv6 or both)%s",
			 (int)val->len, val->s, lex_guess(val, families, 3, guess, sizeof(guess)));
	}
}

/* to ADDRESS, or to A.B.C.D:PORT (a port remap: IPv4 only, an IPv6 address has colons) */
static void opt_to(struct parser *p, struct rule *r, const struct token *toks, size_t n, size_t *i)
{
	const struct token *val = &toks[(*i)++];
	const char *colon = memchr(val->s, ':', val->len);
	char addr[INET6_ADDRSTRLEN + 1];
	struct token port;

	r->is_static = true;
	if (colon && !memchr(colon + 1, ':', val->len - (colon + 1 - val->s)) &&
	    colon - val->s <= INET_ADDRSTRLEN) {
		port = lex_sub(val, colon - val->s + 1, val->len - (colon - val->s) - 1);
		if (value_port(p->lx, &port, &r->to_port) < 0)
			return;
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - val->s), val->s);
		if (inet_pton(AF_INET, addr, &r->to.v4) == 1)
			r->to_af = AF_INET;
		else
			lex_diag(p->lx, val, "invalid address '%s' (a port remap needs an IPv4 address: A.B.C.D:PORT)",
				 addr);
	} else {
		snprintf(addr, sizeof(addr), "%.*s", (int)val->len, val->s);
		if (val->len < sizeof(addr) && inet_pton(AF_INET, addr, &r->to.v4) == 1)
			r->to_af = AF_INET;
		else if (val->len < sizeof(addr) && inet_pton(AF_INET6, addr, &r->to.v6) == 1)
			r->to_af = AF_INET6;
		else
			lex_diag(p->lx, val, "invalid address '%.*s' (expected an IPv4 or IPv6 address)",
				 (int)val->len, val->s);
	}
	if (r->to_af && not_a_host(r->to_af, &r->to)) {
		lex_diag(p->lx, val, "'%.*s' is not a host to forward to: %s", (int)val->len, val->s,
			 not_a_host(r->to_af, &r->to));
		r->to_af = 0;
	}
}

static void opt_peer(struct parser *p, struct rule *r, const struct token *toks, size_t n, size_t *i)
{
	r->peer = true;
}

static void opt_exclusive(struct parser *p, struct rule *r, const struct token *toks, size_t n,
			  size_t *i)
{
	r->exclusive = true;
}

static void opt_disabled(struct parser *p, struct rule *r, const struct token *toks, size_t n,
			 size_t *i)
{
	r->disabled = true;
}

static const struct optdef {
	const char *name;
	bool flag;		/* takes no value */
	opt_fn parse;
} opts[O__N] = {
	[O_TRIGGER] = { "trigger", false, opt_trigger },
	[O_FORWARD] = { "forward", false, opt_forward },
	[O_TIMEOUT] = { "timeout", false, opt_timeout },
	[O_TO] = { "to", false, opt_to },
	[O_PEER] = { "peer", true, opt_peer },
	[O_EXCLUSIVE] = { "exclusive", true, opt_exclusive },
	[O_FAMILY] = { "family", false, opt_family },
	[O_LAN] = { "lan", false, opt_lan },
	[O_WAN] = { "wan", false, opt_wan },
	[O_ALLOW] = { "allow", false, opt_allow },
	[O_MAX_PER_HOST] = { "max-per-host", false, opt_max_per_host },
	[O_DISABLED] = { "disabled", true, opt_disabled },
};

bool ruleopt_is_option(const struct token *t)
{
	for (size_t k = 0; k < O__N; k++)
		if (lex_is(t, opts[k].name))
			return true;
	return false;
}

/* What the options given exclude or need of each other; NAME is the rule's name token. */
static void check_rule(struct parser *p, struct rule *r, const struct ruleopts *o,
			  const struct token *name)
{
	static const struct { int opt; const char *msg; } not_static[] = {
		{ O_TRIGGER, "a rule with a fixed host ('to') has no triggers" },
		{ O_TIMEOUT, "a rule with a fixed host ('to') has no timeout" },
		{ O_PEER, "a rule with a fixed host ('to') cannot be 'peer'" },
		{ O_EXCLUSIVE, "a rule with a fixed host ('to') cannot be 'exclusive'" },
		{ O_ALLOW, "a rule with a fixed host ('to') has no triggers to 'allow'" },
		{ O_MAX_PER_HOST, "a rule with a fixed host ('to') has no 'max-per-host'" },
	};

	if (!o->kw[O_FORWARD])
		lex_diag(p->lx, name, "rule '%.*s' has no 'forward'", (int)name->len, name->s);
	if (!o->kw[O_TRIGGER] && !o->kw[O_TO])
		lex_diag(p->lx, name, "rule '%.*s' needs 'trigger PORTS' or a fixed host 'to ADDRESS'",
			 (int)name->len, name->s);
	if (o->kw[O_TO]) {
		for (size_t k = 0; k < ARRAY_SIZE(not_static); k++)
			if (o->kw[not_static[k].opt])
				lex_diag(p->lx, o->kw[not_static[k].opt], "%s", not_static[k].msg);
		if (r->to_af) {
			unsigned af = r->to_af == AF_INET ? RULE_FAMILY_IPV4 : RULE_FAMILY_IPV6;

			if (o->kw[O_FAMILY] && !(r->family & af))
				lex_diag(p->lx, o->val[O_TO], "address is %s but the rule is family %s",
					 af == RULE_FAMILY_IPV4 ? "IPv4" : "IPv6",
					 r->family == RULE_FAMILY_IPV4 ? "ipv4" : "ipv6");
			r->family = af;
		}
	}
	if (r->to_port && (r->n_forwards != 1 || r->forwards[0].lo != r->forwards[0].hi))
		lex_diag(p->lx, o->val[O_TO], "a port remap (to ADDRESS:PORT) needs exactly one forward port");
	if (r->has_lan && r->has_wan)
		for (size_t k = 0; k < r->lan.n; k++)
			if (iflist_match(&r->wan, r->lan.names[k]))
				lex_diag(p->lx, o->kw[O_LAN], "interface '%s' is both lan and wan",
					 r->lan.names[k]);
}

/* Each option by its entry in the table; END marks the end of the statement. */
static void parse_options(struct parser *p, struct rule *r, const struct token *toks, size_t n,
			  const struct token *end, struct ruleopts *o)
{
	for (size_t i = 1; i < n;) {
		const struct token *kw = &toks[i++];
		size_t k;

		for (k = 0; k < O__N && !lex_is(kw, opts[k].name); k++)
			;
		if (k == O__N) {
			const char *names[O__N];
			const char *w;

			for (k = 0; k < O__N; k++)
				names[k] = opts[k].name;
			w = suggest_word(kw->s, kw->len, names, O__N);
			if (w) {
				lex_diag(p->lx, kw, "unknown option '%.*s' (did you mean '%s'?)",
					 (int)kw->len, kw->s, w);
				/* the misspelt option's value is not an option of its own */
				for (k = 0; k < O__N; k++)
					if (!strcmp(names[k], w) && !opts[k].flag && i < n)
						i++;
			} else
				lex_diag(p->lx, kw, "unknown option '%.*s' (expected trigger, forward, timeout, "
					 "to, peer, exclusive, family, lan, wan, allow, max-per-host or disabled)",
					 (int)kw->len, kw->s);
			continue;
		}
		if (o->kw[k]) {
			lex_diag(p->lx, kw, "'%s' given twice in rule '%s' (first at column %u)", opts[k].name,
				 r->name, o->kw[k]->col);
			/* skip its value so it is not read as an option */
			if (!opts[k].flag && i < n)
				i++;
			continue;
		}
		o->kw[k] = kw;
		if (!opts[k].flag && i >= n) {
			lex_diag(p->lx, end, "'%s' needs a value", opts[k].name);
			break;
		}
		if (!opts[k].flag)
			o->val[k] = &toks[i];
		opts[k].parse(p, r, toks, n, &i);
	}
}

struct rule *ruleopt_parse(struct lexer *lx, const struct ifalias *aliases, size_t n_aliases,
			   const struct token *toks, size_t n, const struct token *end)
{
	struct parser p = { lx, aliases, n_aliases };
	struct ruleopts o = { { 0 }, { 0 } };
	const struct token *name;
	struct rule *r;

	if (!n) {
		lex_diag(lx, end, "'rule' needs a name");
		return NULL;
	}
	r = rule_new("");
	if (!r) {
		lex_diag(lx, NULL, "out of memory");
		return NULL;
	}
	name = &toks[0];
	if (!valid_name(name))
		lex_diag(lx, name, "invalid rule name '%.*s' (1-%d of A-Z a-z 0-9 _ . -)",
			 (int)name->len, name->s, RULE_NAME_MAX);
	else
		snprintf(r->name, sizeof(r->name), "%.*s", (int)name->len, name->s);
	r->loc.file = lx->file;
	r->loc.line = name->line;
	r->loc.col = name->col;
	parse_options(&p, r, toks, n, end, &o);
	check_rule(&p, r, &o, name);
	return r;
}
