/*
 * `rule NAME OPTIONS`: each option parsed by its entry in a table, the
 * rule then checked as a whole (what options exclude or need of each
 * other), and against the rules before it (a duplicate name, overlapping
 * forwards). The rule is handed back; the configuration keeps it.
 */
#pragma once

#include "lexer.h"
#include "rule.h"
#include "value.h"

/* Whether T is the keyword of a rule option */
bool ruleopt_is_option(const struct token *t);

/*
 * TOKS[0] is the rule name, END the end of the statement; ALIASES the
 * names that stand for interfaces. Returns the rule, checked or not (the
 * errors are in the lexer's sink), or NULL when there is none to check.
 */
struct rule *ruleopt_parse(struct lexer *lx, const struct ifalias *aliases, size_t n_aliases,
			   const struct token *toks, size_t n, const struct token *end);

/*
 * A duplicate name, or a forward that overlaps another forward of R or of
 * one of RULES (the forwards only while the sink holds ERRORS errors, R's
 * own having none). TOKS (NULL for a rule parsed before) place the caret;
 * without them the message names R.
 */
void ruleopt_conflicts(struct lexer *lx, const struct rule *r, struct rule *const *rules,
		       size_t n_rules, const struct token *toks, size_t n, unsigned errors);
