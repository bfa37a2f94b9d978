/*
 * The rulebook; see rulebook.h. A change builds the candidate list of
 * runtime rules (pointers into the current one plus at most one new rule),
 * composes it with the file rules, and only then swaps it in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "rulebook.h"

void rulebook_init(struct rulebook *rb, struct config *files)
{
	memset(rb, 0, sizeof(*rb));
	rb->files = files;
}

void rulebook_fini(struct rulebook *rb)
{
	for (size_t i = 0; i < rb->n_runtime; i++)
		rule_free(rb->runtime[i]);
	free(rb->runtime);
	free(rb->switches);
	config_free(rb->files);
	memset(rb, 0, sizeof(*rb));
}

static int compose(const struct rulebook *rb, const struct config *files, struct rule *const *rules,
		   size_t n, struct config **ret, struct dynbuf *errors, struct dynbuf *lines)
{
	struct config *c = config_dup(files);
	int r = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n && r != -ENOMEM; i++) {
		struct rule *q = rule_dup(rules[i]);

		r = q ? config_add_rule(c, "runtime", q) : -ENOMEM;
	}
	if (r == -ENOMEM || c->errors.oom) {
		config_free(c);
		return -ENOMEM;
	}
	if (c->n_errors) {
		dynbuf_append(errors, c->errors.data, c->errors.len);
		if (lines)
			dynbuf_append(lines, c->error_lines.data, c->error_lines.len);
		config_free(c);
		return -EINVAL;
	}
	for (size_t i = 0; i < rb->n_switches; i++) {
		struct rule *q = config_find_rule(c, rb->switches[i].name);

		if (q)
			q->switched = rb->switches[i].on ? 1 : -1;
	}
	*ret = c;
	return 0;
}

/* A switch goes with the last rule of its name. */
static void prune_switches(struct rulebook *rb, const struct config *c)
{
	size_t n = 0;

	for (size_t i = 0; i < rb->n_switches; i++)
		if (config_find_rule(c, rb->switches[i].name))
			rb->switches[n++] = rb->switches[i];
	rb->n_switches = n;
}

int rulebook_compose(const struct rulebook *rb, struct config **ret, struct dynbuf *errors,
		     struct dynbuf *lines)
{
	return compose(rb, rb->files, rb->runtime, rb->n_runtime, ret, errors, lines);
}

int rulebook_set_files(struct rulebook *rb, struct config *files, struct config **ret,
		       struct dynbuf *errors, struct dynbuf *lines)
{
	int r = compose(rb, files, rb->runtime, rb->n_runtime, ret, errors, lines);

	if (r < 0)
		return r;
	config_free(rb->files);
	rb->files = files;
	prune_switches(rb, *ret);
	return 0;
}

static ssize_t runtime_index(const struct rulebook *rb, const char *name)
{
	for (size_t i = 0; i < rb->n_runtime; i++)
		if (!strcmp(rb->runtime[i]->name, name))
			return i;
	return -1;
}

const struct rule *rulebook_runtime(const struct rulebook *rb, const char *name)
{
	ssize_t i = runtime_index(rb, name);

	return i < 0 ? NULL : rb->runtime[i];
}

/*
 * Make the runtime list RULES[N] (pointers to rules the rulebook owns,
 * and NEW_RULE, owned from now on) current if it composes. On failure
 * NEW_RULE is freed and nothing changes.
 */
static int commit(struct rulebook *rb, struct rule **rules, size_t n, struct rule *new_rule,
		  struct config **ret, struct dynbuf *errors)
{
	int r = compose(rb, rb->files, rules, n, ret, errors, NULL);

	if (r < 0) {
		rule_free(new_rule);
		free(rules);
		return r;
	}
	prune_switches(rb, *ret);
	for (size_t i = 0; i < rb->n_runtime; i++) {
		bool kept = false;

		for (size_t k = 0; k < n && !kept; k++)
			kept = rules[k] == rb->runtime[i];
		if (!kept)
			rule_free(rb->runtime[i]);
	}
	free(rb->runtime);
	rb->runtime = rules;
	rb->n_runtime = n;
	return 0;
}

/* The runtime list with rule I replaced by Q (Q NULL: removed; I == n: Q appended). */
static struct rule **candidate(const struct rulebook *rb, size_t i, struct rule *q, size_t *ret_n)
{
	struct rule **v = calloc(rb->n_runtime + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t k = 0; k < rb->n_runtime; k++) {
		if (k != i)
			v[n++] = rb->runtime[k];
		else if (q)
			v[n++] = q;
	}
	if (i == rb->n_runtime && q)
		v[n++] = q;
	*ret_n = n;
	return v;
}

static int change(struct rulebook *rb, size_t i, struct rule *q, struct config **ret,
		  struct dynbuf *errors)
{
	size_t n;
	struct rule **v = candidate(rb, i, q, &n);

	if (!v) {
		rule_free(q);
		return -ENOMEM;
	}
	return commit(rb, v, n, q, ret, errors);
}

int rulebook_set(struct rulebook *rb, const struct rule *r, struct config **ret,
		 struct dynbuf *errors)
{
	ssize_t i = runtime_index(rb, r->name);
	struct rule *q = rule_dup(r);

	if (!q)
		return -ENOMEM;
	q->loc.file = NULL;
	for (size_t k = 0; k < q->n_triggers; k++)
		q->triggers[k].loc.file = NULL;
	for (size_t k = 0; k < q->n_forwards; k++)
		q->forwards[k].loc.file = NULL;
	return change(rb, i < 0 ? rb->n_runtime : (size_t)i, q, ret, errors);
}

int rulebook_del(struct rulebook *rb, const char *name, struct config **ret, struct dynbuf *errors)
{
	ssize_t i = runtime_index(rb, name);

	if (i < 0)
		return -ENOENT;
	return change(rb, i, NULL, ret, errors);
}

int rulebook_clear(struct rulebook *rb, struct config **ret, struct dynbuf *errors)
{
	return commit(rb, NULL, 0, NULL, ret, errors);
}

/*
 * The words of an `add` become one rule line: a newline would end it
 * early (and start a second rule), a '#' would cut it short as a comment.
 */
static int join_words(const char *label, int argc, const char *const *argv, struct dynbuf *line,
		      struct dynbuf *errors)
{
	size_t *cols = calloc(argc + 1, sizeof(*cols));
	int r = 0;

	if (!cols)
		return -ENOMEM;
	for (int i = 0; i < argc; i++) {
		if (i)
			dynbuf_append(line, " ", 1);
		cols[i] = line->len + 1;
		dynbuf_append(line, argv[i], strlen(argv[i]));
	}
	if (line->oom) {
		free(cols);
		return -ENOMEM;
	}
	for (int i = 0; i < argc; i++)
		for (size_t k = 0; argv[i][k]; k++) {
			unsigned char c = argv[i][k];
			struct diag_loc loc = { .file = label, .line = 1, .col = cols[i] + k,
						.text = line->data, .len = line->len };

			if (c < 0x20 || c == 0x7f) {
				diag_printf(errors, NULL, &loc, "control character 0x%02x in word %d: a rule "
					    "is one line of printable words", c, i + 1);
				r = -EBADMSG;
			} else if (c == '#') {
				diag_printf(errors, NULL, &loc, "'#' in word %d: a rule given here has no "
					    "comments", i + 1);
				r = -EBADMSG;
			}
		}
	free(cols);
	return r;
}

int rulebook_add(struct rulebook *rb, const char *label, int argc, const char *const *argv,
		 struct config **ret, struct dynbuf *errors)
{
	struct dynbuf line = { 0 };
	struct config *c = NULL;
	struct rule *q, **v;
	int r = join_words(label, argc, argv, &line, errors);

	if (r == 0)
		r = rulebook_compose(rb, &c, errors, NULL);
	if (r == 0 && config_parse_rule_line(c, label, line.data ? line.data : "") < 0) {
		dynbuf_append(errors, c->errors.data, c->errors.len);
		r = c->errors.oom ? -ENOMEM : -EINVAL;
	}
	dynbuf_free(&line);
	if (r < 0) {
		config_free(c);
		return r;
	}
	/* C was composed with the new rule in it: keep it, no second pass */
	q = rule_dup(c->rules[c->n_rules - 1]);
	v = q ? realloc(rb->runtime, (rb->n_runtime + 1) * sizeof(*v)) : NULL;
	if (!v) {
		rule_free(q);
		config_free(c);
		return -ENOMEM;
	}
	rb->runtime = v;
	rb->runtime[rb->n_runtime++] = q;
	*ret = c;
	return 0;
}

int rulebook_switch(struct rulebook *rb, const char *name, bool on, struct config **ret,
		    struct dynbuf *errors)
{
	struct config *c = NULL;
	struct rule *q;
	size_t i;
	int r = rulebook_compose(rb, &c, errors, NULL);

	if (r < 0)
		return r;
	q = config_find_rule(c, name);
	if (!q) {
		config_free(c);
		return -ENOENT;
	}
	/* recorded even when nothing changes: it outlasts a `disabled` taken out of the file */
	for (i = 0; i < rb->n_switches && strcmp(rb->switches[i].name, name); i++)
		;
	if (i == rb->n_switches) {
		struct rulebook_switch *v = realloc(rb->switches, (i + 1) * sizeof(*v));

		if (!v) {
			config_free(c);
			return -ENOMEM;
		}
		rb->switches = v;
		snprintf(v[i].name, sizeof(v[i].name), "%s", q->name);
		rb->n_switches++;
	}
	rb->switches[i].on = on;
	if (rule_enabled(q) == on) {
		config_free(c);
		return 1;
	}
	q->switched = on ? 1 : -1;
	*ret = c;
	return 0;
}

int rulebook_switch_lines(const struct rulebook *rb, char ***ret, size_t *ret_n)
{
	char **v = calloc(rb->n_switches + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < rb->n_switches; i++) {
		if (asprintf(&v[i], "%s %s", rb->switches[i].name, rb->switches[i].on ? "on" : "off") < 0) {
			while (i-- > 0)
				free(v[i]);
			free(v);
			return -ENOMEM;
		}
	}
	*ret = v;
	*ret_n = rb->n_switches;
	return 0;
}

void rulebook_add_switch_lines(struct rulebook *rb, char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char name[RULE_NAME_MAX + 1], state[4];
		struct config *c = NULL;
		struct dynbuf errors = { 0 };

		if (sscanf(lines[i], "%32s %3s", name, state) != 2 ||
		    (strcmp(state, "on") && strcmp(state, "off")))
			continue;
		if (rulebook_switch(rb, name, !strcmp(state, "on"), &c, &errors) == 0)
			config_free(c);
		dynbuf_free(&errors);
	}
}

int rulebook_runtime_lines(const struct rulebook *rb, char ***ret, size_t *ret_n)
{
	char **v = calloc(rb->n_runtime + 1, sizeof(*v));
	size_t i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < rb->n_runtime; i++) {
		size_t len = rule_format(rb->runtime[i], NULL, 0) + 1;

		v[i] = malloc(len);
		if (!v[i])
			break;
		rule_format(rb->runtime[i], v[i], len);
		/* "rule NAME ..." without "rule " */
		memmove(v[i], v[i] + 5, len - 5);
	}
	if (i < rb->n_runtime) {
		while (i-- > 0)
			free(v[i]);
		free(v);
		return -ENOMEM;
	}
	*ret = v;
	*ret_n = rb->n_runtime;
	return 0;
}

int rulebook_add_lines(struct rulebook *rb, char *const *lines, size_t n, struct config **ret,
		       struct dynbuf *errors)
{
	struct config *c = NULL;
	size_t before, n_new = 0;
	struct rule **v;
	int r = rulebook_compose(rb, &c, errors, NULL);

	if (r < 0)
		return r;
	before = c->n_rules;
	for (size_t i = 0; i < n; i++)
		config_parse_rule_line(c, "runtime", lines[i]);
	if (c->n_errors || c->errors.oom) {
		dynbuf_append(errors, c->errors.data, c->errors.len);
		r = c->errors.oom ? -ENOMEM : -EINVAL;
		config_free(c);
		return r;
	}
	v = realloc(rb->runtime, (rb->n_runtime + c->n_rules - before + 1) * sizeof(*v));
	if (!v) {
		config_free(c);
		return -ENOMEM;
	}
	rb->runtime = v;
	for (size_t i = before; i < c->n_rules; i++) {
		v[rb->n_runtime + n_new] = rule_dup(c->rules[i]);
		if (!v[rb->n_runtime + n_new]) {
			while (n_new-- > 0)
				rule_free(v[rb->n_runtime + n_new]);
			config_free(c);
			return -ENOMEM;
		}
		n_new++;
	}
	rb->n_runtime += n_new;
	*ret = c;
	return 0;
}
