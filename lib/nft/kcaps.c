/*
 * The kernel's facilities and what each one's absence costs; see kcaps.h.
 * The versions are those of mainline Linux that first had each facility;
 * where the issue was only measured (the forward hook's reverse-path
 * lookup) the line says which kernels were seen with and without it.
 */
#include <string.h>

#include "kcaps.h"
#include "nftobj.h"

struct kcap_text {
	const char *name;
	const char *cannot;	/* "this kernel (R) cannot ..." */
	const char *since;	/* "(... can)" */
	const char *instead;	/* what the daemon does, and what is lost */
};

static const struct kcap_text texts[KCAP__N] = {
	[KCAP_DESTROY] = {
		"destroy",
		"delete a table or set element that may already be gone (NFT_MSG_DESTROY)",
		"Linux 6.3 and later can",
		"each replacement or removal first re-adds the element it removes, in the same "
		"transaction (should the kernel's own first add have put another host there, the "
		"transaction fails and every forwarding is written again at once)",
	},
	[KCAP_OWNER] = {
		"owner",
		"reserve a table for its creator (NFT_TABLE_F_OWNER)",
		"Linux 5.12 and later can",
		"other programs can change the table and `nft flush ruleset` removes it; the daemon "
		"re-creates it with every forwarding within milliseconds, but while the daemon is "
		"not running a flush ends every forwarding",
	},
	[KCAP_PERSIST] = {
		"persist",
		"keep an owned table after its owner exits (NFT_TABLE_F_PERSIST)",
		"Linux 6.9 and later can",
		NULL,	/* depends on the flags chosen: see describe_persist */
	},
	[KCAP_FIB_FORWARD] = {
		"fib-forward",
		"look up the route back to a source in the forward hook "
		"(fib saddr . iif oif)",
		"Linux 6.1 can, 5.10 cannot",
		"the daemon checks the route back of every trigger that reaches it, and the kernel "
		"opens a first forwarding only for a neighbour on an on-link prefix of the "
		"interface the trigger came in on; forged triggers still open nothing, but those "
		"the kernel would have counted reach the daemon (rate-limited)",
	},
	[KCAP_KERNEL_PATH] = {
		"kernel-path",
		"add to a rule's maps from the packet path",
		"Linux 5.10 and later can, as built by Debian",
		"the daemon opens every forwarding itself, about 100 us after the trigger: the "
		"first datagrams of an application that answers at once can be dropped",
	},
};

void kcaps_all(struct kcaps *k)
{
	for (int c = 0; c < KCAP__N; c++)
		k->has[c] = true;
}

uint32_t kcaps_table_flags(const struct kcaps *k, bool no_owner, bool no_persist)
{
	if (no_owner || !k->has[KCAP_OWNER])
		return 0;
	if (no_persist)
		return NFTOBJ_TABLE_F_OWNER;
	if (!k->has[KCAP_PERSIST])
		return 0;
	return NFTOBJ_TABLE_F_OWNER | NFTOBJ_TABLE_F_PERSIST;
}

bool kcaps_rpf_in_kernel(const struct kcaps *k)
{
	return k->has[KCAP_FIB_FORWARD];
}

const char *kcaps_name(enum kcap c)
{
	return c < KCAP__N ? texts[c].name : "unknown";
}

bool kcaps_missing(const struct kcaps *k, enum kcap c)
{
	if (c >= KCAP__N || k->has[c])
		return false;
	/* without ownership, persistence is moot: the owner line says it all */
	if (c == KCAP_PERSIST && !k->has[KCAP_OWNER])
		return false;
	return true;
}

void kcaps_describe(const struct kcaps *k, enum kcap c, const char *release, struct dynbuf *out)
{
	const struct kcap_text *t;
	const char *instead;

	if (c >= KCAP__N)
		return;
	t = &texts[c];
	instead = t->instead;
	if (c == KCAP_PERSIST)
		instead = k->has[KCAP_OWNER] ?
			"the table is not owned, so that forwardings outlive a crash of the daemon "
			"as they should; other programs can change it and `nft flush ruleset` removes "
			"it: the daemon re-creates it with every forwarding within milliseconds, but "
			"while the daemon is not running a flush ends every forwarding" :
			"forwardings outlive a crash of the daemon only while nobody flushes the ruleset";
	if (release && release[0])
		dynbuf_printf(out, "this kernel (%s) cannot %s (%s): %s", release, t->cannot, t->since,
			      instead);
	else
		dynbuf_printf(out, "this kernel cannot %s (%s): %s", t->cannot, t->since, instead);
}
