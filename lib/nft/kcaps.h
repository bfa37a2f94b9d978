/*
 * What the running kernel's nf_tables can do (DESIGN §2.14), and what
 * ipautofw does where it cannot. The daemon finds each facility out once
 * at start, by trying it in a batch the kernel checks and throws away
 * (kprobe.c builds it, daemon/table.c sends it); everything that depends
 * on one asks this struct.
 * Nothing anywhere asks for a kernel version.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

enum kcap {
	KCAP_DESTROY,		/* NFT_MSG_DESTROYTABLE/DESTROYSETELEM: delete what may be gone */
	KCAP_OWNER,		/* NFT_TABLE_F_OWNER: nobody else can change or flush the table */
	KCAP_PERSIST,		/* NFT_TABLE_F_PERSIST: an owned table outlives its owner */
	KCAP_FIB_FORWARD,	/* fib saddr . iif oif in the forward hook (strict reverse path) */
	KCAP_KERNEL_PATH,	/* the packet path's adds to a rule's maps (first triggers) */
	KCAP__N,
};

struct kcaps {
	bool has[KCAP__N];
};

/* Everything: what `--dry-run` and the unit tests assume. */
void kcaps_all(struct kcaps *k);

static inline bool kcaps_has(const struct kcaps *k, enum kcap c)
{
	return k->has[c];
}

/*
 * The table's flags. Owned and persistent where the kernel has both. An
 * owned table without persistence would end every forwarding with a
 * crash (DESIGN §2.8); a table nobody owns keeps them, and the daemon
 * re-creates it when another program deletes or flushes it. So without
 * PERSIST the table is not owned, unless NO_PERSIST asks for exactly that.
 */
uint32_t kcaps_table_flags(const struct kcaps *k, bool no_owner, bool no_persist);

/* Is the strict reverse-path check the kernel's (else the daemon's, for what reaches it)? */
bool kcaps_rpf_in_kernel(const struct kcaps *k);

/* Short name of C ("destroy", "owner", ...): status -j, metrics, the probe's debug log. */
const char *kcaps_name(enum kcap c);

/*
 * What the lack of C means, in plain words, as one line: what the
 * kernel cannot do, the first Linux that can, what the daemon does
 * instead and what the user loses. RELEASE is the running kernel's
 * (uname -r; NULL or "" leaves it out). TABLE_FLAGS are the flags chosen,
 * for the ownership lines.
 */
void kcaps_describe(const struct kcaps *k, enum kcap c, const char *release, struct dynbuf *out);

/* C is missing and worth a line (KERNEL_PATH: only when not switched off by option). */
bool kcaps_missing(const struct kcaps *k, enum kcap c);
