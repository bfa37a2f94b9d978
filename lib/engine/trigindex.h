/*
 * Every trigger range of every enabled rule, sorted by (proto, lo), with
 * the largest hi so far: a packet's rules are found by binary search
 * instead of a walk over all rules. Built with the configuration; read
 * for each trigger.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rules/config.h"

struct trigindex_entry {
	uint8_t proto;
	uint16_t lo;
	uint16_t hi;
	uint16_t max_hi;	/* over this entry and all before it of the same proto */
	const struct rule *rule;
	size_t rule_index;	/* in cfg->rules */
};

struct trigindex {
	struct trigindex_entry *v;
	size_t n;
};

/* The index of CFG's enabled rules into *RET; -ENOMEM (RET untouched). */
int trigindex_build(const struct config *cfg, struct trigindex *ret);
void trigindex_free(struct trigindex *x);

/*
 * The first entry past (PROTO, PORT): the candidates are before it, walked
 * backwards until one of another proto or with a max_hi below PORT.
 */
size_t trigindex_end(const struct trigindex *x, uint8_t proto, uint16_t port);
