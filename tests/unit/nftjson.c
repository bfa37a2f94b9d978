/*
 * `nft -j list ruleset` into the firewall check's model; see nftjson.h.
 * nft's JSON leaves out the protocol dependencies it adds in the kernel
 * (`udp dport` also matches `meta l4proto udp`, `ip6 daddr` also
 * `meta nfproto ipv6` in inet tables); they are added back here, so the
 * model is the one the daemon reads from netlink.
 */
#include <netinet/in.h>	/* before the kernel headers, which would redefine in_addr */
#include <errno.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <stdlib.h>
#include <string.h>

#include "nftjson.h"

/* ---- a small JSON reader ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype t;
	long long num;
	char *str;
	struct jval *items;	/* array items, or object values */
	char **keys;		/* object keys */
	size_t n;
};

struct jparser {
	const char *p;
	int err;
};

static void ws(struct jparser *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static char *jstring(struct jparser *j)
{
	size_t cap = 16, n = 0;
	char *s = malloc(cap);

	if (*j->p != '"' || !s) {
		j->err = 1;
		free(s);
		return NULL;
	}
	j->p++;
	while (*j->p && *j->p != '"') {
		char c = *j->p++;

		if (c == '\\') {
			c = *j->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'u':	/* nft prints only ASCII; keep a placeholder */
				for (int i = 0; i < 4 && *j->p; i++)
					j->p++;
				c = '?';
				break;
			case '\0':
				j->err = 1;
				free(s);
				return NULL;
			default:
				break;
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);

			if (!t) {
				free(s);
				j->err = 1;
				return NULL;
			}
			s = t;
		}
		s[n++] = c;
	}
	if (*j->p != '"') {
		free(s);
		j->err = 1;
		return NULL;
	}
	j->p++;
	s[n] = '\0';
	return s;
}

static void jvalue(struct jparser *j, struct jval *v);

static void jpush(struct jparser *j, struct jval *v, char *key)
{
	struct jval *items = realloc(v->items, (v->n + 1) * sizeof(*items));
	char **keys = v->t == J_OBJ ? realloc(v->keys, (v->n + 1) * sizeof(*keys)) : NULL;

	if (!items || (v->t == J_OBJ && !keys)) {
		free(items != v->items ? items : NULL);
		j->err = 1;
		free(key);
		return;
	}
	v->items = items;
	if (v->t == J_OBJ) {
		v->keys = keys;
		v->keys[v->n] = key;
	}
	memset(&v->items[v->n], 0, sizeof(*items));
	jvalue(j, &v->items[v->n++]);
}

static void jvalue(struct jparser *j, struct jval *v)
{
	ws(j);
	memset(v, 0, sizeof(*v));
	if (*j->p == '{' || *j->p == '[') {
		char close = *j->p == '{' ? '}' : ']';

		v->t = *j->p == '{' ? J_OBJ : J_ARR;
		j->p++;
		ws(j);
		if (*j->p == close) {
			j->p++;
			return;
		}
		while (!j->err) {
			char *key = NULL;

			ws(j);
			if (v->t == J_OBJ) {
				key = jstring(j);
				ws(j);
				if (j->err || *j->p != ':') {
					free(key);
					j->err = 1;
					return;
				}
				j->p++;
			}
			jpush(j, v, key);
			ws(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p == close) {
				j->p++;
				return;
			}
			j->err = 1;
		}
	} else if (*j->p == '"') {
		v->t = J_STR;
		v->str = jstring(j);
	} else if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
		char *end;

		v->t = J_NUM;
		v->num = strtoll(j->p, &end, 10);
		j->p = end;
		if (*j->p == '.' || *j->p == 'e' || *j->p == 'E')
			j->err = 1;	/* nft prints integers only */
	} else if (!strncmp(j->p, "null", 4)) {
		j->p += 4;
	} else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
		v->t = J_BOOL;
		v->num = *j->p == 't';
		j->p += v->num ? 4 : 5;
	} else {
		j->err = 1;
	}
}

static void jfree(struct jval *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jfree(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

static const struct jval *jget(const struct jval *v, const char *key)
{
	for (size_t i = 0; v && v->t == J_OBJ && i < v->n; i++)
		if (!strcmp(v->keys[i], key))
			return &v->items[i];
	return NULL;
}

static const char *jstr(const struct jval *v, const char *key)
{
	const struct jval *s = jget(v, key);

	return s && s->t == J_STR ? s->str : NULL;
}

/* The single key of an object like {"accept": null}. */
static const char *jkind(const struct jval *v)
{
	return v && v->t == J_OBJ && v->n == 1 ? v->keys[0] : NULL;
}

/* ---- nft's JSON into the model ---- */

static int family_of(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "inet"))
		return NFPROTO_INET;
	if (!strcmp(s, "ip"))
		return NFPROTO_IPV4;
	if (!strcmp(s, "ip6"))
		return NFPROTO_IPV6;
	return -1;
}

static int hook_of(const char *s)
{
	static const char *const hooks[] = { "prerouting", "input", "forward", "output", "postrouting" };

	for (size_t i = 0; s && i < 5; i++)
		if (!strcmp(s, hooks[i]))
			return (int)i;
	return -1;
}

struct named {
	const char *name;
	uint32_t value;
};

static const struct named l4protos[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 }, { "dccp", 33 },
	{ "esp", 50 }, { "ah", 51 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 }, { "sctp", 132 },
	{ "udplite", 136 },
};

static const struct named ctstates[] = {
	{ "invalid", 1 }, { "established", 2 }, { "related", 4 }, { "new", 8 }, { "untracked", 64 },
};

static const struct named ctstatuses[] = {
	{ "expected", IPS_EXPECTED }, { "seen-reply", IPS_SEEN_REPLY }, { "assured", IPS_ASSURED },
	{ "confirmed", IPS_CONFIRMED }, { "snat", IPS_SRC_NAT }, { "dnat", IPS_DST_NAT },
	{ "dying", IPS_DYING },
};

static bool lookup_name(const struct named *t, size_t n, const char *s, uint32_t *ret)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, s)) {
			*ret = t[i].value;
			return true;
		}
	return false;
}

#define LOOKUP(t, s, ret) lookup_name(t, sizeof(t) / sizeof(t[0]), s, ret)

/* A scalar of KEY from a number or a symbolic name. */
static bool scalar(enum fwruleset_key k, const struct jval *v, uint32_t *ret)
{
	if (v->t == J_NUM) {
		*ret = (uint32_t)v->num;
		return true;
	}
	if (v->t == J_ARR && (k == FWRULESET_KEY_CTSTATE || k == FWRULESET_KEY_CTSTATUS)) {
		*ret = 0;
		for (size_t i = 0; i < v->n; i++) {
			uint32_t b;

			if (!scalar(k, &v->items[i], &b))
				return false;
			*ret |= b;
		}
		return true;
	}
	if (v->t != J_STR)
		return false;
	switch (k) {
	case FWRULESET_KEY_NFPROTO:
		if (!strcmp(v->str, "ipv4"))
			*ret = NFPROTO_IPV4;
		else if (!strcmp(v->str, "ipv6"))
			*ret = NFPROTO_IPV6;
		else
			return false;
		return true;
	case FWRULESET_KEY_L4PROTO:
		return LOOKUP(l4protos, v->str, ret);
	case FWRULESET_KEY_CTSTATE:
		return LOOKUP(ctstates, v->str, ret);
	case FWRULESET_KEY_CTSTATUS:
		return LOOKUP(ctstatuses, v->str, ret);
	default:
		return false;
	}
}

/* Element bytes as the kernel holds them (see fwruleset_key_value). */
static bool elem_bytes(enum fwruleset_key k, const struct jval *v, uint8_t *out, size_t *len)
{
	uint32_t x;

	memset(out, 0, FWRULESET_KEY_LEN);
	if (k == FWRULESET_KEY_IIFNAME || k == FWRULESET_KEY_OIFNAME) {
		if (v->t != J_STR || strlen(v->str) > 15 || strchr(v->str, '*'))
			return false;
		memcpy(out, v->str, strlen(v->str));
		*len = 16;
		return true;
	}
	if (!scalar(k, v, &x))
		return false;
	switch (k) {
	case FWRULESET_KEY_NFPROTO:
	case FWRULESET_KEY_L4PROTO:
		out[0] = (uint8_t)x;
		*len = 1;
		return true;
	case FWRULESET_KEY_DPORT:
		out[0] = (uint8_t)(x >> 8);
		out[1] = (uint8_t)x;
		*len = 2;
		return true;
	case FWRULESET_KEY_CTSTATE:
	case FWRULESET_KEY_CTSTATUS:
	case FWRULESET_KEY_MARK:
		memcpy(out, &x, 4);
		*len = 4;
		return true;
	default:
		return false;
	}
}

struct ctx {
	struct fwruleset *rs;
	int family;
	const char *family_name;
	const char *table;
	unsigned anon;
	const char *xt;
};

static void add(struct ctx *x, struct fwruleset_rule *r, enum fwruleset_key k,
		enum fwruleset_op op, uint32_t mask, uint32_t value)
{
	struct fwruleset_cond c = { .key = k, .op = op, .mask = mask, .value = value };

	if (fwruleset_cond_add(r, &c) < 0)
		x->rs->oom = 1;
}

static void maybe(struct ctx *x, struct fwruleset_rule *r)
{
	add(x, r, FWRULESET_KEY_OTHER, FWRULESET_OP_MAYBE, 0, 0);
}

/* The key an expression loads, its mask, and the dependency nft left out. */
static enum fwruleset_key key_of(struct ctx *x, struct fwruleset_rule *r, const struct jval *e,
				 uint32_t *mask)
{
	const char *kind = jkind(e);
	const struct jval *body = kind ? &e->items[0] : NULL;

	*mask = 0xffffffff;
	if (!kind)
		return FWRULESET_KEY_OTHER;
	if (!strcmp(kind, "&") && body->t == J_ARR && body->n == 2 && body->items[1].t == J_NUM) {
		uint32_t m;
		enum fwruleset_key k = key_of(x, r, &body->items[0], &m);

		*mask = m & (uint32_t)body->items[1].num;
		return k;
	}
	if (!strcmp(kind, "concat") && body->t == J_ARR) {
		/* only for the dependencies of its parts */
		for (size_t i = 0; i < body->n; i++)
			key_of(x, r, &body->items[i], mask);
		*mask = 0xffffffff;
		return FWRULESET_KEY_OTHER;
	}
	if (!strcmp(kind, "meta")) {
		const char *key = jstr(body, "key");

		if (!key)
			return FWRULESET_KEY_OTHER;
		if (!strcmp(key, "nfproto"))
			return FWRULESET_KEY_NFPROTO;
		if (!strcmp(key, "l4proto"))
			return FWRULESET_KEY_L4PROTO;
		if (!strcmp(key, "mark"))
			return FWRULESET_KEY_MARK;
		if (!strcmp(key, "iifname"))
			return FWRULESET_KEY_IIFNAME;
		if (!strcmp(key, "oifname"))
			return FWRULESET_KEY_OIFNAME;
		return FWRULESET_KEY_OTHER;
	}
	if (!strcmp(kind, "ct")) {
		const char *key = jstr(body, "key");

		if (!key || jget(body, "dir"))
			return FWRULESET_KEY_OTHER;
		return !strcmp(key, "state") ? FWRULESET_KEY_CTSTATE :
		       !strcmp(key, "status") ? FWRULESET_KEY_CTSTATUS : FWRULESET_KEY_OTHER;
	}
	if (!strcmp(kind, "payload")) {
		const char *proto = jstr(body, "protocol"), *field = jstr(body, "field");
		uint32_t l4;

		if (!proto || !field)
			return FWRULESET_KEY_OTHER;
		if (!strcmp(proto, "ip") && x->family == NFPROTO_INET)
			add(x, r, FWRULESET_KEY_NFPROTO, FWRULESET_OP_EQ, 0xffffffff, NFPROTO_IPV4);
		else if (!strcmp(proto, "ip6") && x->family == NFPROTO_INET)
			add(x, r, FWRULESET_KEY_NFPROTO, FWRULESET_OP_EQ, 0xffffffff, NFPROTO_IPV6);
		else if (lookup_name(l4protos, sizeof(l4protos) / sizeof(l4protos[0]), proto, &l4))
			add(x, r, FWRULESET_KEY_L4PROTO, FWRULESET_OP_EQ, 0xffffffff, l4);
		if (!strcmp(field, "dport") && strcmp(proto, "ip") && strcmp(proto, "ip6"))
			return FWRULESET_KEY_DPORT;
		return FWRULESET_KEY_OTHER;
	}
	return FWRULESET_KEY_OTHER;
}

/* An anonymous set (or map, with verdicts) from {"set": [...]}. */
static int anon_set(struct ctx *x, enum fwruleset_key k, const struct jval *items, bool map)
{
	char name[32];
	int idx;

	snprintf(name, sizeof(name), "__json%u", x->anon++);
	idx = fwruleset_set_ref(x->rs, x->family, x->table, name);
	if (idx < 0)
		return idx;
	x->rs->sets[idx].has_elems = true;
	for (size_t i = 0; i < items->n; i++) {
		const struct jval *it = &items->items[i], *key = it, *verdict = NULL;
		struct fwruleset_elem e = { 0 };

		if (map) {
			if (it->t != J_ARR || it->n != 2)
				goto unknown;
			key = &it->items[0];
			verdict = &it->items[1];
		}
		if (jkind(key) && !strcmp(jkind(key), "range")) {
			const struct jval *rg = &key->items[0];
			size_t l2;

			if (rg->t != J_ARR || rg->n != 2 || !elem_bytes(k, &rg->items[0], e.key, &e.len) ||
			    !elem_bytes(k, &rg->items[1], e.key_end, &l2))
				goto unknown;
		} else if (elem_bytes(k, key, e.key, &e.len)) {
			memcpy(e.key_end, e.key, sizeof(e.key));
		} else {
			goto unknown;
		}
		if (verdict) {
			const char *v = jkind(verdict);

			if (!v)
				goto unknown;
			e.verdict = !strcmp(v, "accept") ? FWRULESET_VERDICT_ACCEPT :
				    !strcmp(v, "drop") ? FWRULESET_VERDICT_DROP :
				    !strcmp(v, "jump") ? FWRULESET_VERDICT_JUMP :
				    !strcmp(v, "goto") ? FWRULESET_VERDICT_GOTO :
				    !strcmp(v, "return") ? FWRULESET_VERDICT_RETURN :
				    !strcmp(v, "continue") ? FWRULESET_VERDICT_CONTINUE :
				    FWRULESET_VERDICT_UNKNOWN;
			if (jstr(&verdict->items[0], "target"))
				snprintf(e.target, sizeof(e.target), "%s", jstr(&verdict->items[0], "target"));
		}
		if (fwruleset_elem_add(x->rs, idx, &e) < 0)
			return -ENOMEM;
	}
	return idx;
unknown:
	/* elements the check cannot read: lookups may match */
	x->rs->sets[idx].has_elems = false;
	return idx;
}

static int set_of(struct ctx *x, enum fwruleset_key k, const struct jval *right, bool map)
{
	if (right->t == J_STR && right->str[0] == '@')
		return fwruleset_set_ref(x->rs, x->family, x->table, right->str + 1);
	if (jkind(right) && !strcmp(jkind(right), "set") && right->items[0].t == J_ARR)
		return anon_set(x, k, &right->items[0], map);
	if (right->t == J_ARR)	/* a map's data written as a bare list */
		return anon_set(x, k, right, map);
	return -1;
}

static void match(struct ctx *x, struct fwruleset_rule *r, const struct jval *m)
{
	const char *op = jstr(m, "op");
	const struct jval *left = jget(m, "left"), *right = jget(m, "right");
	uint32_t mask, v;
	enum fwruleset_key k;
	bool neq;

	if (!op || !left || !right) {
		maybe(x, r);
		return;
	}
	k = key_of(x, r, left, &mask);
	neq = !strcmp(op, "!=");
	if (k == FWRULESET_KEY_OTHER) {
		maybe(x, r);
	} else if (k == FWRULESET_KEY_IIFNAME || k == FWRULESET_KEY_OIFNAME) {
		struct fwruleset_cond c = { .key = k, .op = neq ? FWRULESET_OP_NEQ : FWRULESET_OP_EQ,
					    .mask = 0xffffffff };
		size_t n;

		if (right->t == J_STR && right->str[0] != '@' && (neq || !strcmp(op, "=="))) {
			n = strlen(right->str);
			c.prefix = n && right->str[n - 1] == '*';
			snprintf(c.ifname, sizeof(c.ifname), "%.*s", (int)(c.prefix ? n - 1 : n),
				 right->str);
		} else {
			c.op = neq ? FWRULESET_OP_NOT_IN : FWRULESET_OP_IN;
			c.set = set_of(x, k, right, false);
			if (c.set < 0) {
				maybe(x, r);
				return;
			}
		}
		if (fwruleset_cond_add(r, &c) < 0)
			x->rs->oom = 1;
	} else if (!strcmp(op, "in") && scalar(k, right, &v)) {
		/* flags: any of them set */
		add(x, r, k, FWRULESET_OP_NEQ, mask & v, 0);
	} else if (jkind(right) && !strcmp(jkind(right), "range")) {
		const struct jval *rg = &right->items[0];
		uint32_t lo, hi;

		if (neq || rg->t != J_ARR || rg->n != 2 || !scalar(k, &rg->items[0], &lo) ||
		    !scalar(k, &rg->items[1], &hi)) {
			maybe(x, r);
			return;
		}
		add(x, r, k, FWRULESET_OP_GTE, mask, lo);
		add(x, r, k, FWRULESET_OP_LTE, mask, hi);
	} else if (scalar(k, right, &v)) {
		enum fwruleset_op o = !strcmp(op, "==") ? FWRULESET_OP_EQ : neq ? FWRULESET_OP_NEQ :
				      !strcmp(op, ">=") ? FWRULESET_OP_GTE :
				      !strcmp(op, "<=") ? FWRULESET_OP_LTE : FWRULESET_OP_MAYBE;

		if (!strcmp(op, ">")) {
			o = FWRULESET_OP_GTE;
			v++;
		} else if (!strcmp(op, "<")) {
			o = FWRULESET_OP_LTE;
			v--;
		}
		add(x, r, k, o, mask, v);
	} else {
		struct fwruleset_cond c = { .key = mask == 0xffffffff ? k : FWRULESET_KEY_OTHER,
					    .op = neq ? FWRULESET_OP_NOT_IN : FWRULESET_OP_IN,
					    .mask = mask };

		c.set = set_of(x, k, right, false);
		if (c.set < 0 || (strcmp(op, "==") && !neq && strcmp(op, "in"))) {
			maybe(x, r);
			return;
		}
		if (fwruleset_cond_add(r, &c) < 0)
			x->rs->oom = 1;
	}
}

/* The translated text of a rule with a compat match, from the .xt lines. */
static const char *xt_text(const struct ctx *x, const char *chain, long long handle)
{
	char head[256];
	const char *p = x->xt;
	size_t n;

	snprintf(head, sizeof(head), "%s %s %s %lld ", x->family_name, x->table, chain, handle);
	n = strlen(head);
	while (p && *p) {
		if (!strncmp(p, head, n))
			return p + n;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* `ct state a,b` and `ct status c` in a translated rule; false if neither. */
static bool xt_conds(struct ctx *x, struct fwruleset_rule *r, const char *text)
{
	const char *end = strchr(text, '\n');
	bool found = false;

	if (!end)
		end = text + strlen(text);
	for (const char *p = text; p < end; p++) {
		enum fwruleset_key k;
		char word[128];
		struct jval v = { .t = J_STR, .str = word };
		uint32_t bits = 0, b;
		size_t n;

		if (!strncmp(p, "ct state ", 9)) {
			k = FWRULESET_KEY_CTSTATE;
			p += 9;
		} else if (!strncmp(p, "ct status ", 10)) {
			k = FWRULESET_KEY_CTSTATUS;
			p += 10;
		} else {
			continue;
		}
		while (p < end && *p != ' ') {
			n = strcspn(p, ", \n");
			if (n >= sizeof(word))
				return false;
			memcpy(word, p, n);
			word[n] = '\0';
			if (!scalar(k, &v, &b))
				return false;
			bits |= b;
			p += n;
			if (*p == ',')
				p++;
		}
		add(x, r, k, FWRULESET_OP_NEQ, bits, 0);
		found = true;
	}
	return found;
}

static bool is_statement(const char *kind)
{
	static const char *const names[] = {
		"counter", "log", "mangle", "ct helper", "masquerade", "snat", "dnat", "redirect",
		"notrack", "flow", "set", "map", "ct timeout", "ct expectation", "synproxy", "tproxy",
		"dup", "fwd", "last",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(kind, names[i]))
			return true;
	return false;
}

static void rule(struct ctx *x, const struct jval *j)
{
	const char *chain = jstr(j, "chain");
	const struct jval *expr = jget(j, "expr"), *handle = jget(j, "handle");
	struct fwruleset_chain *c = chain ? fwruleset_chain_find(x->rs, x->family, x->table, chain) : NULL;
	struct fwruleset_rule *r;

	if (!c || !expr || expr->t != J_ARR)
		return;
	r = fwruleset_rule_add(c);
	if (!r) {
		x->rs->oom = 1;
		return;
	}
	for (size_t i = 0; i < expr->n; i++) {
		const struct jval *st = &expr->items[i];
		const char *kind = jkind(st);
		const struct jval *body = kind ? &st->items[0] : NULL;

		if (!kind) {
			maybe(x, r);
		} else if (!strcmp(kind, "match")) {
			match(x, r, body);
		} else if (!strcmp(kind, "accept")) {
			r->verdict = FWRULESET_VERDICT_ACCEPT;
		} else if (!strcmp(kind, "drop") || !strcmp(kind, "reject")) {
			r->verdict = FWRULESET_VERDICT_DROP;
		} else if (!strcmp(kind, "return")) {
			r->verdict = FWRULESET_VERDICT_RETURN;
		} else if (!strcmp(kind, "continue")) {
			r->verdict = FWRULESET_VERDICT_CONTINUE;
		} else if (!strcmp(kind, "jump") || !strcmp(kind, "goto")) {
			r->verdict = kind[0] == 'j' ? FWRULESET_VERDICT_JUMP : FWRULESET_VERDICT_GOTO;
			snprintf(r->target, sizeof(r->target), "%s", jstr(body, "target") ? jstr(body, "target") : "");
		} else if (!strcmp(kind, "queue")) {
			r->verdict = FWRULESET_VERDICT_UNKNOWN;
		} else if (!strcmp(kind, "xt")) {
			const char *t = handle && jstr(body, "name") && !strcmp(jstr(body, "name"), "conntrack") ?
					xt_text(x, chain, handle->num) : NULL;

			if (!t || !xt_conds(x, r, t))
				maybe(x, r);
		} else if (!strcmp(kind, "vmap")) {
			uint32_t mask;
			enum fwruleset_key k = key_of(x, r, jget(body, "key"), &mask);
			const struct jval *data = jget(body, "data");
			int set = data ? set_of(x, k, data, true) : -1;

			if (set < 0) {
				r->verdict = FWRULESET_VERDICT_UNKNOWN;
				maybe(x, r);
				continue;
			}
			r->verdict = FWRULESET_VERDICT_VMAP;
			r->vmap = (struct fwruleset_cond){
				.key = mask == 0xffffffff ? k : FWRULESET_KEY_OTHER,
				.op = FWRULESET_OP_IN, .mask = mask, .set = set,
			};
		} else if (!is_statement(kind)) {
			maybe(x, r);	/* limit, quota, xt, ...: may or may not match */
		}
	}
}

static void named_set(struct ctx *x, const struct jval *j)
{
	const char *name = jstr(j, "name");
	const struct jval *flags = jget(j, "flags");
	int idx;

	if (!name)
		return;
	idx = fwruleset_set_ref(x->rs, x->family, x->table, name);
	if (idx < 0) {
		x->rs->oom = 1;
		return;
	}
	for (size_t i = 0; flags && flags->t == J_ARR && i < flags->n; i++)
		if (flags->items[i].t == J_STR && !strcmp(flags->items[i].str, "interval"))
			x->rs->sets[idx].interval = true;
	/* elements of named sets are not decoded: the type decides their bytes */
}

int nftjson_load(struct fwruleset *rs, const char *json, const char *xt)
{
	struct jparser j = { .p = json };
	struct jval root;
	const struct jval *list;
	struct ctx x = { .rs = rs, .xt = xt };
	int r = 0;

	jvalue(&j, &root);
	list = jget(&root, "nftables");
	if (j.err || !list || list->t != J_ARR) {
		jfree(&root);
		return -EINVAL;
	}
	/* chains first, so that rules and jumps find them wherever they are */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < list->n; i++) {
			const char *kind = jkind(&list->items[i]);
			const struct jval *b = kind ? &list->items[i].items[0] : NULL;

			if (!kind)
				continue;
			x.family_name = jstr(b, "family");
			x.family = family_of(x.family_name);
			x.table = jstr(b, "table");
			if (x.family < 0 || !x.table)
				continue;
			if (pass == 0 && !strcmp(kind, "chain") && jstr(b, "name")) {
				struct fwruleset_chain *c = fwruleset_chain_add(rs, x.family, x.table,
										jstr(b, "name"));
				int hook = hook_of(jstr(b, "hook"));

				if (c && hook >= 0) {
					c->base = true;
					c->hook = (uint32_t)hook;
					c->prio = jget(b, "prio") ? (int32_t)jget(b, "prio")->num : 0;
					c->policy_drop = jstr(b, "policy") && !strcmp(jstr(b, "policy"), "drop");
				}
			} else if (pass == 1 && (!strcmp(kind, "set") || !strcmp(kind, "map"))) {
				named_set(&x, b);
			} else if (pass == 1 && !strcmp(kind, "rule")) {
				rule(&x, b);
			}
		}
	if (rs->oom)
		r = -ENOMEM;
	jfree(&root);
	return r;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, k;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *t = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!t) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = t;
		}
		k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
	} while (k);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

int nftjson_load_file(struct fwruleset *rs, const char *path)
{
	char xt_path[512], *json = slurp(path), *xt;
	size_t n = strlen(path);
	int r;

	if (!json)
		return -errno;
	snprintf(xt_path, sizeof(xt_path), "%.*s.xt", (int)(n > 5 ? n - 5 : n), path);
	xt = slurp(xt_path);
	r = nftjson_load(rs, json, xt);
	free(json);
	free(xt);
	return r;
}
