/*
 * lib/rules/ owns the rule files: the address prefixes and the rule model,
 * the lexer, the values of options and the options of a rule, the
 * configuration made from files (or OpenWrt's UCI) and runtime lines, and
 * the rulebook that composes them; each of these may use those before it.
 * May use: base.
 *
 * The configuration: global interface defaults, the pinhole mark and the
 * rules, built from rule files (or runtime rule lines) by a hand-written
 * parser. Every error is recorded as "FILE:LINE:COL: error: MESSAGE" with
 * the offending line and a caret; parsing goes on so that all errors are
 * reported, and a configuration with any error must not be applied.
 * Warnings (a bare timeout under a minute, a file skipped for its name)
 * are reported the same way, "FILE:LINE:COL: warning: MESSAGE", and
 * applied all the same.
 */
#pragma once

#include "lexer.h"
#include "rule.h"
#include "value.h"
#include "base/util.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_MARK_DEFAULT 0x10000000u
#define CONFIG_MAX_PER_HOST_DEFAULT 64
#define CONFIG_MAX_FORWARDINGS_DEFAULT 16384

struct config {
	struct rule **rules;
	size_t n_rules;
	bool has_lan;
	bool has_wan;
	struct iflist lan;
	struct iflist wan;
	struct srcloc lan_loc;
	struct srcloc wan_loc;
	uint32_t pinhole_mark;
	uint32_t pinhole_mask;
	bool has_mark;
	struct srcloc mark_loc;
	bool pinhole_guard;	/* drop IPv6 to forward ports that no pinhole covers */
	struct srcloc guard_loc;	/* line 0: not given */
	bool pair;		/* `pair ct-mark`: a router pair (docs/ha-pair.md) */
	uint32_t pair_mark;	/* the conntrack mark bits of a genuine trigger connection */
	uint32_t pair_mask;
	struct srcloc pair_loc;	/* line 0: not given */
	bool learn;		/* learn mode (default on) */
	struct srcloc learn_loc;	/* line 0: not given */
	bool has_allow;
	struct prefixlist allow;	/* sources that may trigger, unless a rule says */
	struct srcloc allow_loc;
	unsigned max_per_host;		/* per host (IPv4 address, IPv6 /64) */
	struct srcloc max_per_host_loc;
	unsigned max_forwardings;	/* in all */
	struct srcloc max_forwardings_loc;
	struct ifalias *aliases;	/* resolved in lan and wan lists */
	size_t n_aliases;
	char **files;		/* owned names that srclocs point to */
	size_t n_files;
	struct dynbuf errors;		/* every diagnostic, errors and warnings, in order */
	struct dynbuf error_lines;	/* each error's first line only: one log entry each */
	unsigned n_errors;
	struct dynbuf warning_lines;	/* each warning's first line: they never stop a load */
	unsigned n_warnings;
};

struct config *config_new(void);
struct config *config_free(struct config *c);

/* Parse one file's text. Returns 0, or -EINVAL when it added errors. */
int config_parse_text(struct config *c, const char *file, const char *text, size_t len);

/*
 * Parse a single rule given as the words after `rule` (runtime `add`) on
 * one line (no comments, no continuation); LABEL stands in for the file
 * name in diagnostics. The rule is checked against C's rules and appended.
 */
int config_parse_rule_line(struct config *c, const char *label, const char *text);

/*
 * Append R (a rule parsed earlier, taking ownership) after checking it
 * against C's rules: name and forward ranges must be free. On a conflict
 * the errors are recorded under LABEL, R is freed and -EINVAL returned.
 */
int config_add_rule(struct config *c, const char *label, struct rule *r);

/*
 * Read DIRS (highest priority first) the systemd way: *.conf only, same
 * name shadowed by earlier directories, symlinks to /dev/null mask, all
 * files read in lexical order of their names. Other files are skipped
 * with a warning (hidden ones silently). With REQUIRED, a directory that
 * does not exist is an error (one the user named), else it is skipped
 * (the default directories).
 */
int config_load_dirs(struct config *c, const char *const *dirs, size_t n_dirs, bool required);

/* Read the files PATHS in the order given, whatever their names (ipautofwd --check FILE...). */
int config_load_files(struct config *c, const char *const *paths, size_t n_paths);

/* Read the file at PATH (at most CONFIG_FILE_MAX bytes) with PARSE; errors go to C. */
typedef int (*config_parse_fn)(struct config *c, const char *file, const char *text, size_t len);
int config_load_file(struct config *c, const char *path, config_parse_fn parse);


/*
 * A copy of C's rules and globals (not its errors). File names in source
 * locations are interned again, so the copy outlives C.
 */
struct config *config_dup(const struct config *c);

struct rule *config_find_rule(const struct config *c, const char *name);

/* From now on NAME in a `lan` or `wan` list stands for DEVS. */
int config_add_alias(struct config *c, const char *name, const struct iflist *devs);

/*
 * For the readers of rule files and of other syntaxes (confload.c, uci.c):
 * a lexer for FILE (its name interned in C) that reports into C's
 * diagnostics; one statement in rule-file tokens (TOKS[0] its keyword);
 * one rule, checked against C's and added (TOKS[0] its name).
 */
int config_lexer(struct config *c, const char *file, struct lexer *ret);
void config_statement(struct config *c, struct lexer *lx, const struct token *toks, size_t n,
		      const struct token *end);
void config_rule_statement(struct config *c, struct lexer *lx, const struct token *toks, size_t n,
			   const struct token *end);

extern const char *const config_default_dirs[3];
