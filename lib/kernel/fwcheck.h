/*
 * Does the administrator's ruleset let ipautofw's forwardings through?
 * An accept in our table cannot override a drop in another base chain, so
 * every other forward-hook base chain must itself accept the forwarded
 * connections: IPv4 forwardings are DNATed (`ct status dnat accept`), IPv6
 * pinholes carry the pinhole mark.
 *
 * The ruleset is held as a small model (fwruleset.h), filled from what the
 * daemon dumps (fwdecode.h) or directly by the unit tests. Each
 * forward-hook base chain is then run, three-valued (fweval.h), for the
 * packets ipautofw forwards: a new inbound connection on each rule's
 * forward ranges, from a WAN interface to a LAN interface. A chain is
 * reported when such a packet is dropped for sure and no accept on the
 * way could have applied; and, without pinhole-guard, when it opens a
 * rule's forward ports to every LAN host for IPv6 while dropping other
 * ports. This header is the one a caller of the check includes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rule.h"
#include "fwdecode.h"
#include "fwruleset.h"

struct fwcheck_env {
	uint32_t mark;
	uint32_t mark_mask;
	bool guard;			/* pinhole-guard on */
	const struct iflist *wan;	/* the WAN interfaces in use */
	const struct iflist *lan;	/* NULL: every interface that is not WAN */
	const struct rule *const *rules;
	size_t n_rules;
	const char *own_table;		/* table inet NAME: ours, not checked */
};

enum fwcheck_warning_kind {
	FWCHECK_DROPS_IPV4,	/* drops IPv4 forwardings */
	FWCHECK_DROPS_IPV6,	/* drops IPv6 pinholes */
	FWCHECK_OPEN_IPV6,	/* accepts unmarked IPv6 to the forward ports: pinhole-guard needed */
	FWCHECK_SAME_PRIO,	/* shares a priority with one of our forward chains */
};

struct fwcheck_warning {
	enum fwcheck_warning_kind kind;
	int family;
	char table[FWRULESET_NAME_MAX];
	char chain[FWRULESET_NAME_MAX];
	const char *rule;	/* the first rule affected; NULL: any forwarding */
	uint8_t proto;
	uint16_t lo, hi;
	unsigned more;		/* further rules' ranges affected */
	int32_t prio;
};

/*
 * Run the check. Returns the number of warnings (*RET, to free()) or
 * -ENOMEM.
 */
int fwcheck_run(const struct fwruleset *rs, const struct fwcheck_env *env,
		struct fwcheck_warning **ret);
/* One warning as a line of text (no "warning: " prefix, no newline). */
int fwcheck_warning_format(const struct fwcheck_warning *w, const struct fwcheck_env *env,
			   char *buf, size_t size);
