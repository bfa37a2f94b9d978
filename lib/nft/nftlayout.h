/*
 * What a configuration adds to the skeleton: each rule's sets, and a
 * chain per port segment (DNAT, pinhole, and the kernel's add for each
 * family; nftchain), which the verdict maps jump to. Built from the
 * configuration alone; it keeps names and digests, never pointers into
 * the configuration, so the running table can be told apart from the
 * next one after a reload.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nftchain.h"
#include "nftobj.h"
#include "base/nlbatch.h"

struct nftlayout_set {
	char name[NFTOBJ_NAME_MAX];
	enum nftobj_rset kind;
	uint32_t size;
	size_t rule;		/* index in the configuration it was built from */
};

struct nftlayout {
	struct nftlayout_set *sets;
	size_t n_sets;
	struct nftchain *chains;
	size_t n_chains;
};

struct config;
int nftlayout_build(const struct config *cfg, const struct nftobj_params *p, struct nftlayout *ret);
void nftlayout_free(struct nftlayout *l);

/*
 * Create NEW's objects (OLD NULL: in a table that has none), or change the
 * table from OLD's to NEW's: the verdict maps rewritten, a chain whose
 * rules changed rewritten, sets and chains that went deleted, the sets of
 * rules that stay (and the forwardings in them) kept. CFG is what NEW was
 * built from.
 */
int nftlayout_write(struct nlbatch *b, const struct nftobj_params *p, const struct config *cfg,
		    const struct nftlayout *old, const struct nftlayout *new);
