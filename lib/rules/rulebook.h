/*
 * The rulebook: the rules from the rule files and the rules added at run
 * time, each kept as a parsed struct rule (never as text). Every change is
 * checked by composing the configuration it would give: the files' globals
 * and rules, then the runtime rules in the order they came, each checked
 * against everything before it. On error nothing changes; on success the
 * caller gets that configuration, which is what the engine runs.
 *
 * A rule switched on or off at run time (enable/disable) stays so through
 * every change while a rule of its name exists; the switch goes with it.
 */
#pragma once

#include "config.h"

struct rulebook_switch {
	char name[RULE_NAME_MAX + 1];
	bool on;
};

struct rulebook {
	struct config *files;	/* the rule files as last loaded */
	struct rule **runtime;	/* added at run time; loc.file is NULL */
	size_t n_runtime;
	struct rulebook_switch *switches;	/* enable/disable at run time */
	size_t n_switches;
};

/* FILES (owned from now on) are the rule files as loaded. */
void rulebook_init(struct rulebook *rb, struct config *files);
void rulebook_fini(struct rulebook *rb);

/*
 * The running configuration: -EINVAL (ERRORS says why; LINES, if not NULL,
 * gets each error's first line) or -ENOMEM.
 */
int rulebook_compose(const struct rulebook *rb, struct config **ret, struct dynbuf *errors,
		     struct dynbuf *lines);

/*
 * Replace the file rules by FILES. On success the rulebook owns FILES and
 * *RET is the new configuration; on -EINVAL (a runtime rule now conflicts
 * with the files) the caller keeps FILES and the rulebook is unchanged.
 */
int rulebook_set_files(struct rulebook *rb, struct config *files, struct config **ret,
		       struct dynbuf *errors, struct dynbuf *lines);

/*
 * Add the rule line ARGV (the words after `add`). A word with a control
 * character or a '#' is refused with -EBADMSG before anything is parsed;
 * errors point at LABEL:1:COL of the words joined by single spaces.
 * -EINVAL: the rule is wrong or conflicts with another.
 */
int rulebook_add(struct rulebook *rb, const char *label, int argc, const char *const *argv,
		 struct config **ret, struct dynbuf *errors);

/* Replace the runtime rule of R's name, in place, or append a copy of R. */
int rulebook_set(struct rulebook *rb, const struct rule *r, struct config **ret,
		 struct dynbuf *errors);

/* Remove runtime rule NAME; -ENOENT if there is none. */
int rulebook_del(struct rulebook *rb, const char *name, struct config **ret, struct dynbuf *errors);

/* Remove every runtime rule. */
int rulebook_clear(struct rulebook *rb, struct config **ret, struct dynbuf *errors);

/*
 * Switch rule NAME on or off at run time. -ENOENT: no such rule. Returns 1
 * (and no configuration) when the rule is already in that state, else 0.
 */
int rulebook_switch(struct rulebook *rb, const char *name, bool on, struct config **ret,
		    struct dynbuf *errors);

const struct rule *rulebook_runtime(const struct rulebook *rb, const char *name);

/*
 * The runtime rules as rule lines without the leading "rule", for the
 * binary that replaces this one (reexec); an array of RET_N strings that
 * the caller frees (each, then the array).
 */
int rulebook_runtime_lines(const struct rulebook *rb, char ***ret, size_t *ret_n);

/*
 * Add runtime rules given as such lines (from an older binary), labelled
 * "runtime" in errors. All or none: on -EINVAL nothing is added.
 */
int rulebook_add_lines(struct rulebook *rb, char *const *lines, size_t n, struct config **ret,
		       struct dynbuf *errors);

/* The switches as "NAME on|off" lines, for the binary that replaces this one (reexec). */
int rulebook_switch_lines(const struct rulebook *rb, char ***ret, size_t *ret_n);

/* Set switches from such lines, for the rules that exist; malformed lines are skipped. */
void rulebook_add_switch_lines(struct rulebook *rb, char *const *lines, size_t n);
