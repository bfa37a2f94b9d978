/*
 * OpenWrt's UCI configuration; see uci.h. The file is cut into words
 * (quotes and escapes undone, each word remembering where its value starts
 * in the file) and lines into sections. A finished section becomes the
 * tokens of the statements a rule file would hold: a rule section one
 * `NAME OPTIONS` statement for config_rule_statement, a globals section
 * one global statement per option for config_statement. Keywords are
 * synthetic tokens placed where the UCI option name stands, list values
 * are joined by synthetic commas, so every check and every diagnostic is
 * the rule files' own, with the caret in the UCI file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uci.h"

#define UCI_ALIAS_MAX 64

enum uci_kind {
	UCI_LIST,	/* values, as list lines or separated by spaces or commas */
	UCI_ONE,	/* one value */
	UCI_FLAG,	/* boolean: the keyword alone when true */
	UCI_NOTFLAG,	/* boolean: the keyword alone when false */
	UCI_ONOFF,	/* boolean: the keyword and on or off */
	UCI_BOOL,	/* boolean read by the init script: checked only */
};

struct uci_opt {
	const char *name;	/* in UCI */
	const char *kw;		/* in the rule-file statement; NULL: the rule's name */
	enum uci_kind kind;
};

static const struct uci_opt rule_opts[] = {
	{ "name", NULL, UCI_ONE },
	{ "trigger", "trigger", UCI_LIST },
	{ "forward", "forward", UCI_LIST },
	{ "timeout", "timeout", UCI_ONE },
	{ "to", "to", UCI_ONE },
	{ "peer", "peer", UCI_FLAG },
	{ "exclusive", "exclusive", UCI_FLAG },
	{ "family", "family", UCI_ONE },
	{ "lan", "lan", UCI_LIST },
	{ "wan", "wan", UCI_LIST },
	{ "allow", "allow", UCI_LIST },
	{ "max_per_host", "max-per-host", UCI_ONE },
	{ "enabled", "disabled", UCI_NOTFLAG },
};

static const struct uci_opt global_opts[] = {
	{ "enabled", NULL, UCI_BOOL },
	{ "lan", "lan", UCI_LIST },
	{ "wan", "wan", UCI_LIST },
	{ "allow", "allow", UCI_LIST },
	{ "max_per_host", "max-per-host", UCI_ONE },
	{ "max_forwardings", "max-forwardings", UCI_ONE },
	{ "learn", "learn", UCI_ONOFF },
	{ "pinhole_guard", "pinhole-guard", UCI_ONOFF },
	{ "pinhole_mark", "pinhole-mark", UCI_ONE },
};

struct uci_option {
	bool list;
	struct token name;
	struct token value;
};

struct uci_section {
	bool open;
	const struct uci_opt *table;	/* NULL: an unknown type, its options are skipped */
	size_t n_table;
	struct token type;
	struct token name;		/* len 0: anonymous */
	struct token end;		/* the end of the config line */
	struct uci_option *opts;
	size_t n_opts;
};

struct uci_state {
	struct config *c;
	struct lexer lx;
	struct uci_section sec;
	char **words;		/* the unquoted values that tokens point to */
	size_t n_words;
	struct token *toks;	/* the statement being built */
	size_t n_toks;
	bool oom;
};

static void push(struct uci_state *u, const struct token *t)
{
	struct token *q;

	if (u->oom)
		return;
	q = realloc(u->toks, (u->n_toks + 1) * sizeof(*q));
	if (!q) {
		u->oom = true;
		return;
	}
	u->toks = q;
	u->toks[u->n_toks++] = *t;
}

/* A token that is not in the file (a keyword, a comma), shown at AT. */
static struct token synthetic(const char *s, const struct token *at)
{
	struct token t = *at;

	t.s = s;
	t.len = strlen(s);
	return t;
}

static int parse_bool(const struct token *t)
{
	static const char *const yes[] = { "1", "yes", "on", "true", "enabled" };
	static const char *const no[] = { "0", "no", "off", "false", "disabled" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (lex_is(t, yes[i]))
			return 1;
		if (lex_is(t, no[i]))
			return 0;
	}
	return -EINVAL;
}

/* The words of a value (cut at white space), each pushed, commas between; returns how many. */
static size_t push_words(struct uci_state *u, const struct token *v, bool commas, size_t before)
{
	size_t n = before;

	for (size_t k = 0; k < v->len;) {
		size_t s;
		struct token w;

		if (isspace((unsigned char)v->s[k])) {
			k++;
			continue;
		}
		for (s = k; k < v->len && !isspace((unsigned char)v->s[k]); k++)
			;
		w = lex_sub(v, s, k - s);
		/* "a, b" and "a ,b" are already one list */
		if (commas && n && !u->oom && u->toks[u->n_toks - 1].s[u->toks[u->n_toks - 1].len - 1] != ',' &&
		    w.s[0] != ',') {
			struct token comma = synthetic(",", &w);

			push(u, &comma);
		}
		push(u, &w);
		n++;
	}
	return n;
}

/*
 * Push the statement part of option E of the section: its keyword and
 * values. Returns false when there is nothing to push (a false flag, an
 * error already reported).
 */
static bool push_option(struct uci_state *u, const struct uci_opt *e)
{
	const struct uci_option *first = NULL;
	struct token kw;
	size_t words = 0;
	int b;

	if (u->oom)
		return false;
	for (size_t i = 0; i < u->sec.n_opts; i++) {
		const struct uci_option *o = &u->sec.opts[i];

		if (!lex_is(&o->name, e->name))
			continue;
		if (!first) {
			first = o;
			continue;
		}
		if (e->kind != UCI_LIST)
			lex_diag(&u->lx, &o->name, "'%s' given twice in this section (first at line %u)",
				 e->name, first->name.line);
	}
	if (e->kind != UCI_LIST && first->list) {
		lex_diag(&u->lx, &first->name, "'%s' takes one value: write 'option %s'", e->name, e->name);
		return false;
	}
	kw = synthetic(e->kw ? e->kw : e->name, &first->name);
	switch (e->kind) {
	case UCI_LIST:
		push(u, &kw);
		for (size_t i = 0; i < u->sec.n_opts; i++) {
			const struct uci_option *o = &u->sec.opts[i];
			size_t was = words;

			if (!lex_is(&o->name, e->name))
				continue;
			words = push_words(u, &o->value, true, words);
			if (words == was)
				lex_diag(&u->lx, &o->value, "empty value for '%s'", e->name);
		}
		if (u->oom)
			return false;
		/* a list ends with its option: it must not run on into the next */
		if (words && u->toks[u->n_toks - 1].s[u->toks[u->n_toks - 1].len - 1] == ',') {
			const struct token *last = &u->toks[u->n_toks - 1];
			struct token after = lex_sub(last, last->len, 0);

			lex_diag(&u->lx, &after, "list ends with a comma");
			u->toks[u->n_toks - 1].len--;
		}
		if (!words)
			u->n_toks--;
		return words > 0;
	case UCI_ONE:
		if (e->kw)
			push(u, &kw);
		words = push_words(u, &first->value, false, 0);
		if (words == 1 || u->oom)
			return words == 1 && !u->oom;
		if (words)
			lex_diag(&u->lx, &u->toks[u->n_toks - words + 1],
				 "'%s' takes one value (quote nothing that holds spaces)", e->name);
		else
			lex_diag(&u->lx, &first->value, "'%s' needs a value", e->name);
		u->n_toks -= words + (e->kw ? 1 : 0);
		return false;
	default:
		break;
	}
	b = parse_bool(&first->value);
	if (b < 0) {
		lex_diag(&u->lx, &first->value, "invalid value '%.*s' for '%s' (expected 1 or 0)",
			 (int)first->value.len, first->value.s, e->name);
		return false;
	}
	if (e->kind == UCI_ONOFF) {
		struct token v = synthetic(b ? "on" : "off", &first->value);

		push(u, &kw);
		push(u, &v);
		return true;
	}
	if (e->kind == UCI_BOOL || (e->kind == UCI_FLAG) != (b == 1))
		return false;
	push(u, &kw);
	return true;
}

static const struct uci_opt *find_opt(const struct uci_section *s, const struct token *name)
{
	for (size_t k = 0; k < s->n_table; k++)
		if (lex_is(name, s->table[k].name))
			return &s->table[k];
	return NULL;
}

/* Each option once, in the order of its first line; unknown ones reported. */
static void each_option(struct uci_state *u, void (*fn)(struct uci_state *u, const struct uci_opt *e))
{
	struct uci_section *s = &u->sec;

	for (size_t i = 0; i < s->n_opts; i++) {
		const struct uci_opt *e = find_opt(s, &s->opts[i].name);
		bool seen = false;

		if (!e) {
			lex_diag(&u->lx, &s->opts[i].name, s->table == rule_opts ?
				 "unknown option '%.*s' in a rule section (expected name, trigger, forward, "
				 "timeout, to, peer, exclusive, family, lan, wan, allow, max_per_host or enabled)" :
				 "unknown option '%.*s' in the globals section (expected enabled, lan, wan, "
				 "allow, max_per_host, max_forwardings, learn, pinhole_guard or pinhole_mark)",
				 (int)s->opts[i].name.len, s->opts[i].name.s);
			continue;
		}
		for (size_t j = 0; j < i && !seen; j++)
			seen = lex_is(&s->opts[j].name, e->name);
		if (!seen)
			fn(u, e);
	}
}

static void rule_option(struct uci_state *u, const struct uci_opt *e)
{
	if (e->kw)
		push_option(u, e);
}

static void global_option(struct uci_state *u, const struct uci_opt *e)
{
	u->n_toks = 0;
	if (push_option(u, e) && !u->oom)
		config_statement(u->c, &u->lx, u->toks, u->n_toks, &u->sec.end);
}

static void finish_rule(struct uci_state *u)
{
	struct uci_section *s = &u->sec;
	bool has_name = false;

	u->n_toks = 0;
	for (size_t i = 0; i < s->n_opts; i++)
		has_name |= lex_is(&s->opts[i].name, "name");
	if (has_name) {
		/* pushes the name's one word, or reports why there is none */
		if (!push_option(u, &rule_opts[0]))
			return;
	} else if (s->name.len) {
		push(u, &s->name);
	} else {
		lex_diag(&u->lx, &s->type, "a rule section needs 'option name'");
		return;
	}
	each_option(u, rule_option);
	if (!u->oom)
		config_rule_statement(u->c, &u->lx, u->toks, u->n_toks, &s->end);
}

static void finish_section(struct uci_state *u)
{
	struct uci_section *s = &u->sec;

	if (s->open && s->table == rule_opts)
		finish_rule(u);
	else if (s->open && s->table == global_opts)
		each_option(u, global_option);
	free(s->opts);
	*s = (struct uci_section){ 0 };
}

static void open_section(struct uci_state *u, const struct token *w, size_t n, const struct token *end)
{
	struct uci_section *s = &u->sec;

	finish_section(u);
	/* a section in error is open all the same: its options are skipped, not reported */
	s->open = true;
	if (n < 2) {
		lex_diag(&u->lx, end, "'config' needs a type: globals or rule");
		return;
	}
	if (n > 3) {
		lex_diag(&u->lx, &w[3], "unexpected '%.*s' after 'config TYPE NAME'", (int)w[3].len, w[3].s);
		return;
	}
	s->type = w[1];
	s->end = *end;
	if (n == 3)
		s->name = w[2];
	if (lex_is(&w[1], "rule")) {
		s->table = rule_opts;
		s->n_table = ARRAY_SIZE(rule_opts);
	} else if (lex_is(&w[1], "globals")) {
		s->table = global_opts;
		s->n_table = ARRAY_SIZE(global_opts);
	} else {
		lex_diag(&u->lx, &w[1], "unknown section type '%.*s' (expected globals or rule)",
			 (int)w[1].len, w[1].s);
	}
}

static void add_option(struct uci_state *u, const struct token *w, size_t n, const struct token *end)
{
	struct uci_section *s = &u->sec;
	struct uci_option *q;

	if (n != 3) {
		lex_diag(&u->lx, n < 3 ? end : &w[3], n < 3 ? "'%.*s' needs a name and a value" :
			 "unexpected '%.*s' after the value (quote a value that holds spaces)",
			 n < 3 ? (int)w[0].len : (int)w[3].len, n < 3 ? w[0].s : w[3].s);
		return;
	}
	if (!s->open) {
		lex_diag(&u->lx, &w[0], "'%.*s' outside a section: a 'config' line comes first",
			 (int)w[0].len, w[0].s);
		return;
	}
	if (!s->table)
		return;
	q = realloc(s->opts, (s->n_opts + 1) * sizeof(*q));
	if (!q) {
		u->oom = true;
		return;
	}
	s->opts = q;
	s->opts[s->n_opts++] = (struct uci_option){ .list = lex_is(&w[0], "list"), .name = w[1],
						    .value = w[2] };
}

static void statement(struct uci_state *u, const struct token *w, size_t n, const struct token *end)
{
	if (!n)
		return;
	if (lex_is(&w[0], "config"))
		open_section(u, w, n, end);
	else if (lex_is(&w[0], "option") || lex_is(&w[0], "list"))
		add_option(u, w, n, end);
	else if (lex_is(&w[0], "package")) {
		if (n != 2)
			lex_diag(&u->lx, n < 2 ? end : &w[2], "'package' needs one name");
	} else
		lex_diag(&u->lx, &w[0], "unknown keyword '%.*s' (expected config, option, list or package)",
			 (int)w[0].len, w[0].s);
}

/*
 * One word from LS[*k]: bare pieces, 'single-quoted' and "double-quoted"
 * ones, joined. The token's text is the value; its column is where the
 * value starts (inside the quote). Returns -EINVAL after reporting.
 */
static int read_word(struct uci_state *u, const char *ls, size_t llen, size_t *k, unsigned line,
		     struct token *ret)
{
	struct dynbuf v = { 0 };
	size_t vcol = 0;
	char **q;

	*ret = (struct token){ .line = line, .col = *k + 1, .ltext = ls, .llen = llen };
	while (*k < llen && !isspace((unsigned char)ls[*k])) {
		char c = ls[*k];

		if (c == '\'' || c == '"') {
			size_t open = (*k)++;

			if (!vcol)
				vcol = *k + 1;
			while (*k < llen && ls[*k] != c) {
				if (c == '"' && ls[*k] == '\\' && *k + 1 < llen)
					(*k)++;
				dynbuf_append(&v, &ls[(*k)++], 1);
			}
			if (*k == llen) {
				struct token t = *ret;

				t.col = open + 1;
				lex_diag(&u->lx, &t, "unterminated quote");
				dynbuf_free(&v);
				return -EINVAL;
			}
			(*k)++;
			continue;
		}
		if (!vcol)
			vcol = *k + 1;
		if (c == '\\') {
			if (*k + 1 == llen) {
				struct token t = *ret;

				t.col = *k + 1;
				lex_diag(&u->lx, &t, "'\\' at the end of a line: UCI values do not continue");
				dynbuf_free(&v);
				return -EINVAL;
			}
			(*k)++;
		}
		dynbuf_append(&v, &ls[(*k)++], 1);
	}
	dynbuf_append(&v, "", 1);
	q = v.oom ? NULL : realloc(u->words, (u->n_words + 1) * sizeof(*q));
	if (!q) {
		dynbuf_free(&v);
		u->oom = true;
		return -ENOMEM;
	}
	u->words = q;
	u->words[u->n_words++] = v.data;
	ret->s = v.data;
	ret->len = v.len - 1;
	ret->col = vcol;
	return 0;
}

int uci_parse_text(struct config *c, const char *file, const char *text, size_t len)
{
	struct uci_state u = { .c = c };
	unsigned start_errors = c->n_errors, line = 0;
	struct token w[4], ln;
	size_t pos = 0;
	int r;

	if (config_lexer(c, file, &u.lx) < 0)
		return -ENOMEM;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	while (!u.oom && (r = lex_line(&u.lx, text, len, &pos, &line, &ln)) != 0) {
		const char *ls = ln.s;
		size_t llen = ln.len, k = 0, n = 0;
		struct token end;
		bool bad = false;

		if (r < 0)
			continue;
		while (k < llen) {
			struct token t;

			if (isspace((unsigned char)ls[k])) {
				k++;
				continue;
			}
			if (ls[k] == '#')
				break;
			if (read_word(&u, ls, llen, &k, line, &t) < 0) {
				bad = true;
				break;
			}
			/* past the fourth word only the fourth is reported */
			if (n < ARRAY_SIZE(w))
				w[n++] = t;
		}
		end = (struct token){ .s = ls + k, .line = line, .col = k + 1, .ltext = ls, .llen = llen };
		if (!bad)
			statement(&u, w, n, &end);
	}
	finish_section(&u);
	for (size_t i = 0; i < u.n_words; i++)
		free(u.words[i]);
	free(u.words);
	free(u.toks);
	if (u.oom) {
		lex_diag(&u.lx, NULL, "out of memory");
		return -ENOMEM;
	}
	return c->n_errors == start_errors ? 0 : -EINVAL;
}

static bool alias_name_valid(const struct token *t)
{
	if (!t->len || t->len > UCI_ALIAS_MAX)
		return false;
	for (size_t i = 0; i < t->len; i++)
		if (!isalnum((unsigned char)t->s[i]) && !strchr("_.-", t->s[i]))
			return false;
	return true;
}

static void names_statement(struct lexer *lx, const struct token *toks, size_t n,
			    const struct token *end, void *data)
{
	struct config *c = data;
	struct iflist devs = { 0 };
	unsigned errors = c->n_errors;
	char name[UCI_ALIAS_MAX + 1];
	size_t i = 1;

	if (!n)
		return;
	if (!alias_name_valid(&toks[0])) {
		lex_diag(lx, &toks[0], "invalid name '%.*s' (1-%d of A-Z a-z 0-9 _ . -)", (int)toks[0].len,
			 toks[0].s, UCI_ALIAS_MAX);
		return;
	}
	if (value_find_alias(c->aliases, c->n_aliases, toks[0].s, toks[0].len)) {
		lex_diag(lx, &toks[0], "'%.*s' given twice", (int)toks[0].len, toks[0].s);
		return;
	}
	if (n < 2) {
		lex_diag(lx, end, "'%.*s' needs at least one device", (int)toks[0].len, toks[0].s);
		return;
	}
	/* devices are devices here, whatever names came before: no aliases */
	while (i < n)
		value_ifnames(lx, NULL, 0, toks, n, &i, &devs);
	snprintf(name, sizeof(name), "%.*s", (int)toks[0].len, toks[0].s);
	if (c->n_errors == errors && config_add_alias(c, name, &devs) < 0)
		lex_diag(lx, NULL, "out of memory");
	iflist_clear(&devs);
}

int uci_parse_names(struct config *c, const char *file, const char *text, size_t len)
{
	struct lexer lx;

	if (config_lexer(c, file, &lx) < 0)
		return -ENOMEM;
	return lex_buffer(&lx, text, len, false, names_statement, c);
}
