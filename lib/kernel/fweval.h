/*
 * The firewall check's evaluator: what a base chain of the administrator's
 * ruleset (fwruleset.h) does with one kind of forwarded connection, run
 * three-valued, since most of a real ruleset is only partly understood. A
 * condition holds, does not, or may; a verdict under a condition that may
 * hold is remembered, not taken. Jumps and gotos are followed (depth
 * FWEVAL_DEPTH_MAX, loops detected), verdict maps looked up in their
 * elements, down to the chain's policy.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "rules/rule.h"
#include "fwruleset.h"

#define FWEVAL_DEPTH_MAX 16

/* A new inbound connection ipautofw forwards, from a WAN to a LAN interface. */
struct fweval_pkt {
	int nfproto;
	uint8_t l4;			/* 0: tcp or udp */
	uint16_t lo, hi;		/* destination ports it may have */
	bool dnat;			/* ct status dnat */
	uint32_t mark;			/* its mark under mark_mask, */
	uint32_t mark_mask;		/* the bits no one but ipautofw sets */
	const struct iflist *wan;	/* it comes in on one of these */
	const struct iflist *lan;	/* and goes out on one of these; NULL: any but WAN or lo */
};

enum fweval_fate {
	FWEVAL_FATE_CONTINUE,	/* within the evaluator only: no verdict yet */
	FWEVAL_FATE_ACCEPT,
	FWEVAL_FATE_DROP,
	FWEVAL_FATE_UNKNOWN,	/* someone else decides, or the check cannot tell */
};

/*
 * The fate of P in base chain C of RS, by the rules that surely match it:
 * FWEVAL_FATE_ACCEPT, _DROP, or _UNKNOWN (someone else decides, or a
 * jump the check cannot follow); or -ENOMEM. *RET_MAYBE_ACCEPT: an accept
 * on the way may have applied (or the fate is unknown).
 */
int fweval_chain(const struct fwruleset *rs, const struct fwruleset_chain *c,
		 const struct fweval_pkt *p, bool *ret_maybe_accept);
