/*
 * Does the administrator's ruleset let ipautofw's forwardings through?
 * An accept in our table cannot override a drop in another base chain, so
 * every other forward-hook base chain whose policy is drop needs its own
 * `ct status dnat accept` (IPv4) and pinhole-mark accept (IPv6). This
 * looks for those in chains and rules the daemon dumped; a jump into
 * another chain is not followed, so it can only say "may".
 */
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct fwcheck_chain {
	int family;
	char table[64];
	char name[64];
	bool dnat_ok;
	bool mark_ok;
};

struct fwcheck {
	struct fwcheck_chain *v;
	size_t n;
};

void fwcheck_add_chain(struct fwcheck *fc, const struct nftnl_chain *c);
void fwcheck_add_rule(struct fwcheck *fc, const struct nftnl_rule *r);
/* Warnings, one line each; returns how many. */
int fwcheck_report(const struct fwcheck *fc, uint32_t mark, uint32_t mask, struct dynbuf *out);
void fwcheck_free(struct fwcheck *fc);
