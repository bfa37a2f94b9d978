/*
 * The configuration: global statements and the entry points of the
 * rule-file parser (see lexer.h for how its files divide the work). The
 * configuration owns the file names that locations point to and the
 * diagnostics: a lexer made here reports into them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ruleopt.h"

/* A statement being read into C. */
struct parser {
	struct config *c;
	struct lexer *lx;
};

const char *const config_default_dirs[3] = {
	"/etc/ipautofw.d",
	"/run/ipautofw.d",
	"/usr/lib/ipautofw.d",
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
	for (size_t i = 0; i < c->n_aliases; i++) {
		free(c->aliases[i].name);
		iflist_clear(&c->aliases[i].devs);
	}
	free(c->aliases);
	dynbuf_free(&c->errors);
	dynbuf_free(&c->error_lines);
	dynbuf_free(&c->warning_lines);
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

int config_lexer(struct config *c, const char *file, struct lexer *ret)
{
	ret->file = intern_file(c, file);
	ret->sink = (struct diag_sink){ &c->errors, &c->error_lines, &c->warning_lines,
					&c->n_errors, &c->n_warnings };
	return ret->file ? 0 : -ENOMEM;
}

int config_add_alias(struct config *c, const char *name, const struct iflist *devs)
{
	struct ifalias *q = realloc(c->aliases, (c->n_aliases + 1) * sizeof(*q));

	if (!q)
		return -ENOMEM;
	c->aliases = q;
	q = &c->aliases[c->n_aliases];
	*q = (struct ifalias){ .name = strdup(name) };
	if (!q->name || iflist_copy(&q->devs, devs) < 0) {
		free(q->name);
		iflist_clear(&q->devs);
		return -ENOMEM;
	}
	c->n_aliases++;
	return 0;
}

static int append_rule(struct config *c, struct rule *r)
{
	struct rule **q = realloc(c->rules, (c->n_rules + 1) * sizeof(*q));

	if (!q)
		return -ENOMEM;
	c->rules = q;
	c->rules[c->n_rules++] = r;
	return 0;
}

/* Whether KW is the first of its kind (else reported); LOC remembers where it was. */
static bool set_once(struct parser *p, const struct token *kw, struct srcloc *loc)
{
	char where[300];

	if (loc->file || loc->line) {
		srcloc_format(loc, where, sizeof(where));
		lex_diag(p->lx, kw, "'%.*s' given twice (first at %s)", (int)kw->len, kw->s, where);
		return false;
	}
	loc->file = p->lx->file;
	loc->line = kw->line;
	loc->col = kw->col;
	return true;
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
		lex_diag(p->lx, end, "'%s' needs a list of interfaces", wan ? "wan" : "lan");
		return;
	}
	if (*has) {
		srcloc_format(loc, where, sizeof(where));
		lex_diag(p->lx, &toks[0], "'%s' given twice (first at %s); set it once, or per rule",
		     wan ? "wan" : "lan", where);
		return;
	}
	*has = true;
	loc->file = p->lx->file;
	loc->line = toks[0].line;
	loc->col = toks[0].col;
	value_ifnames(p->lx, c->aliases, c->n_aliases, toks, n, &i, l);
	if (i < n)
		lex_diag(p->lx, &toks[i], "unexpected '%.*s' after the interface list",
		     (int)toks[i].len, toks[i].s);
}

/* VALUE[/MASK] (MASK 0xffffffff if not given): a mark, nonzero and inside its mask */
static bool parse_mark_value(struct parser *p, const struct token *tok, uint32_t *ret_v,
			     uint32_t *ret_m)
{
	char buf[64], *slash, *e1, *e2 = NULL;
	unsigned long long v, m = 0xffffffffu;

	snprintf(buf, sizeof(buf), "%.*s", (int)tok->len, tok->s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	errno = 0;
	v = strtoull(buf, &e1, 0);
	if (slash)
		m = strtoull(slash + 1, &e2, 0);
	if (errno || *e1 || !buf[0] || (slash && (*e2 || !slash[1])) || tok->len >= sizeof(buf) ||
	    v > 0xffffffffu || m > 0xffffffffu || buf[0] == '-' || (slash && slash[1] == '-')) {
		lex_diag(p->lx, tok, "invalid mark '%.*s' (expected VALUE[/MASK], e.g. 0x10000000/0x10000000)",
		     (int)tok->len, tok->s);
		return false;
	}
	if (!v || !m || (v & ~m)) {
		lex_diag(p->lx, tok, "mark 0x%llx has bits outside mask 0x%llx or is zero", v, m);
		return false;
	}
	*ret_v = v;
	*ret_m = m;
	return true;
}

static void parse_mark(struct parser *p, const struct token *toks, size_t n,
		       const struct token *end)
{
	struct config *c = p->c;
	uint32_t v, m;

	if (n != 2) {
		lex_diag(p->lx, n < 2 ? end : &toks[2], n < 2 ? "'pinhole-mark' needs VALUE[/MASK]" :
		     "unexpected word after 'pinhole-mark VALUE[/MASK]'");
		return;
	}
	if (!set_once(p, &toks[0], &c->mark_loc))
		return;
	c->has_mark = true;
	if (!parse_mark_value(p, &toks[1], &v, &m))
		return;
	c->pinhole_mark = v;
	c->pinhole_mask = m;
}

/* pair ct-mark VALUE[/MASK], once */
static void parse_pair(struct parser *p, const struct token *toks, size_t n, const struct token *end)
{
	struct config *c = p->c;
	uint32_t v, m;

	if (n >= 2 && !lex_is(&toks[1], "ct-mark")) {
		lex_diag(p->lx, &toks[1], "unknown pair setting '%.*s' (expected ct-mark VALUE[/MASK])",
		     (int)toks[1].len, toks[1].s);
		return;
	}
	if (n != 3) {
		lex_diag(p->lx, n < 3 ? end : &toks[3], n < 3 ? "'pair' needs ct-mark VALUE[/MASK]" :
		     "unexpected word after 'pair ct-mark VALUE[/MASK]'");
		return;
	}
	if (!set_once(p, &toks[0], &c->pair_loc))
		return;
	if (!parse_mark_value(p, &toks[2], &v, &m))
		return;
	c->pair = true;
	c->pair_mark = v;
	c->pair_mask = m;
}

/* NAME on|off, once: pinhole-guard, learn */
static void parse_onoff(struct parser *p, const struct token *toks, size_t n, const struct token *end,
			bool *val, struct srcloc *loc)
{
	char name[32];

	snprintf(name, sizeof(name), "%.*s", (int)toks[0].len, toks[0].s);
	if (n != 2) {
		lex_diag(p->lx, n < 2 ? end : &toks[2], n < 2 ? "'%s' needs on or off" :
		     "unexpected word after '%s on|off'", name);
		return;
	}
	if (!lex_is(&toks[1], "on") && !lex_is(&toks[1], "off")) {
		lex_diag(p->lx, &toks[1], "invalid value '%.*s' for '%s' (expected on or off)",
		     (int)toks[1].len, toks[1].s, name);
		return;
	}
	if (set_once(p, &toks[0], loc))
		*val = lex_is(&toks[1], "on");
}

static void parse_global_allow(struct parser *p, const struct token *toks, size_t n,
			       const struct token *end)
{
	struct config *c = p->c;
	size_t i = 1;

	if (n < 2) {
		lex_diag(p->lx, end, "'allow' needs a list of addresses or prefixes");
		return;
	}
	if (!set_once(p, &toks[0], &c->allow_loc))
		return;
	c->has_allow = true;
	value_allow(p->lx, toks, n, &i, &c->allow);
	if (i < n)
		lex_diag(p->lx, &toks[i], "unexpected '%.*s' after the list", (int)toks[i].len, toks[i].s);
}

static void parse_global_limit(struct parser *p, const struct token *toks, size_t n,
			       const struct token *end, unsigned *val, struct srcloc *loc)
{
	char what[32];

	snprintf(what, sizeof(what), "%.*s", (int)toks[0].len, toks[0].s);
	if (n != 2) {
		lex_diag(p->lx, n < 2 ? end : &toks[2], n < 2 ? "'%s' needs a number" :
		     "unexpected word after '%s N'", what);
		return;
	}
	if (set_once(p, &toks[0], loc))
		value_limit(p->lx, &toks[1], what, val);
}

static void unknown_statement(struct parser *p, const struct token *toks, size_t n)
{
	static const char *const statements[] = { "rule", "lan", "wan", "pinhole-mark",
		"pinhole-guard", "pair", "learn", "allow", "max-per-host", "max-forwardings" };
	const char *w = suggest_word(toks[0].s, toks[0].len, statements, ARRAY_SIZE(statements));

	if (w)
		lex_diag(p->lx, &toks[0], "unknown statement '%.*s' (did you mean '%s'?)",
			 (int)toks[0].len, toks[0].s, w);
	else if (n >= 2 && ruleopt_is_option(&toks[1]))
		lex_diag(p->lx, &toks[0], "unknown statement '%.*s' (a rule starts with 'rule': "
			 "rule %.*s %.*s ...)", (int)toks[0].len, toks[0].s, (int)toks[0].len,
			 toks[0].s, (int)toks[1].len, toks[1].s);
	else
		lex_diag(p->lx, &toks[0], "unknown statement '%.*s' (expected rule, lan, wan, pinhole-mark, "
			 "pinhole-guard, pair, learn, allow, max-per-host or max-forwardings)",
			 (int)toks[0].len, toks[0].s);
}

void config_rule_statement(struct config *c, struct lexer *lx, const struct token *toks, size_t n,
			   const struct token *end)
{
	unsigned errors = c->n_errors;
	struct rule *r = ruleopt_parse(lx, c->aliases, c->n_aliases, toks, n, end);

	if (!r)
		return;
	ruleopt_conflicts(lx, r, c->rules, c->n_rules, toks, n, errors);
	if (c->n_errors != errors || append_rule(c, r) < 0)
		rule_free(r);
}

void config_statement(struct config *c, struct lexer *lx, const struct token *toks, size_t n,
		      const struct token *end)
{
	struct parser p = { c, lx };

	if (!n)
		return;
	if (lex_is(&toks[0], "rule"))
		config_rule_statement(c, lx, toks + 1, n - 1, end);
	else if (lex_is(&toks[0], "lan"))
		parse_global_ifs(&p, toks, n, end, false);
	else if (lex_is(&toks[0], "wan"))
		parse_global_ifs(&p, toks, n, end, true);
	else if (lex_is(&toks[0], "pinhole-mark"))
		parse_mark(&p, toks, n, end);
	else if (lex_is(&toks[0], "pinhole-guard"))
		parse_onoff(&p, toks, n, end, &c->pinhole_guard, &c->guard_loc);
	else if (lex_is(&toks[0], "pair"))
		parse_pair(&p, toks, n, end);
	else if (lex_is(&toks[0], "learn"))
		parse_onoff(&p, toks, n, end, &c->learn, &c->learn_loc);
	else if (lex_is(&toks[0], "allow"))
		parse_global_allow(&p, toks, n, end);
	else if (lex_is(&toks[0], "max-per-host"))
		parse_global_limit(&p, toks, n, end, &c->max_per_host, &c->max_per_host_loc);
	else if (lex_is(&toks[0], "max-forwardings"))
		parse_global_limit(&p, toks, n, end, &c->max_forwardings, &c->max_forwardings_loc);
	else
		unknown_statement(&p, toks, n);
}

static void file_statement(struct lexer *lx, const struct token *toks, size_t n,
			   const struct token *end, void *c)
{
	config_statement(c, lx, toks, n, end);
}

static void line_statement(struct lexer *lx, const struct token *toks, size_t n,
			   const struct token *end, void *c)
{
	config_rule_statement(c, lx, toks, n, end);
}

int config_parse_text(struct config *c, const char *file, const char *text, size_t len)
{
	struct lexer lx;

	if (config_lexer(c, file, &lx) < 0)
		return -ENOMEM;
	/* a UTF-8 byte-order mark, as some editors write: not part of the first line */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	return lex_buffer(&lx, text, len, false, file_statement, c);
}

int config_parse_rule_line(struct config *c, const char *label, const char *text)
{
	size_t before = c->n_rules, len = strlen(text);
	struct lexer lx;
	int r;

	if (config_lexer(c, label, &lx) < 0)
		return -ENOMEM;
	if (memchr(text, '\n', len)) {
		lex_diag(&lx, NULL, "a rule line cannot contain a newline");
		return -EINVAL;
	}
	r = lex_buffer(&lx, text, len, true, line_statement, c);
	if (r == 0 && c->n_rules == before) {
		lex_diag(&lx, NULL, "no rule given");
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
	unsigned errors = c->n_errors;
	struct lexer lx;

	if (config_lexer(c, label, &lx) < 0) {
		rule_free(r);
		return -ENOMEM;
	}
	ruleopt_conflicts(&lx, r, c->rules, c->n_rules, NULL, 0, errors);
	if (c->n_errors != errors) {
		rule_free(r);
		return -EINVAL;
	}
	if (append_rule(c, r) < 0) {
		rule_free(r);
		return -ENOMEM;
	}
	return 0;
}

static const char *reintern(struct config *c, const char *file)
{
	return file ? intern_file(c, file) : NULL;
}

struct config *config_dup(const struct config *src)
{
	struct config *c = malloc(sizeof(*c));
	struct srcloc *locs[] = {
		&c->lan_loc, &c->wan_loc, &c->mark_loc, &c->guard_loc, &c->learn_loc,
		&c->allow_loc, &c->max_per_host_loc, &c->max_forwardings_loc, &c->pair_loc,
	};

	if (!c)
		return NULL;
	/*
	 * The whole, then what it owns copied again: a field added is copied
	 * (test-config's test_dup_whole fails for an owned one left shared).
	 */
	memcpy(c, src, sizeof(*c));
	c->rules = NULL;
	c->n_rules = 0;
	c->aliases = NULL;
	c->n_aliases = 0;
	c->files = NULL;
	c->n_files = 0;
	c->errors = c->error_lines = c->warning_lines = (struct dynbuf){ 0 };
	c->lan = c->wan = (struct iflist){ 0 };
	c->allow = (struct prefixlist){ 0 };
	/* the diagnostics too, as text of their own */
	if (src->errors.len)
		dynbuf_append(&c->errors, src->errors.data, src->errors.len);
	if (src->error_lines.len)
		dynbuf_append(&c->error_lines, src->error_lines.data, src->error_lines.len);
	if (src->warning_lines.len)
		dynbuf_append(&c->warning_lines, src->warning_lines.data, src->warning_lines.len);
	if (c->errors.oom || c->error_lines.oom || c->warning_lines.oom)
		goto fail;
	if (iflist_copy(&c->lan, &src->lan) < 0 || iflist_copy(&c->wan, &src->wan) < 0 ||
	    prefixlist_copy(&c->allow, &src->allow) < 0)
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(locs); i++)
		if (locs[i]->file && !(locs[i]->file = intern_file(c, locs[i]->file)))
			goto fail;
	/* runtime rules given later resolve the same names */
	for (size_t i = 0; i < src->n_aliases; i++)
		if (config_add_alias(c, src->aliases[i].name, &src->aliases[i].devs) < 0)
			goto fail;
	for (size_t i = 0; i < src->n_rules; i++) {
		struct rule *r = rule_dup(src->rules[i]);

		if (!r || append_rule(c, r) < 0) {
			rule_free(r);
			goto fail;
		}
		r->loc.file = reintern(c, r->loc.file);
		for (size_t k = 0; k < r->n_forwards; k++)
			r->forwards[k].loc.file = reintern(c, r->forwards[k].loc.file);
		for (size_t k = 0; k < r->n_triggers; k++)
			r->triggers[k].loc.file = reintern(c, r->triggers[k].loc.file);
	}
	return c;
fail:
	return config_free(c);
}

struct rule *config_find_rule(const struct config *c, const char *name)
{
	return rule_find(c->rules, c->n_rules, name);
}
