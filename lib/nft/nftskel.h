/*
 * The skeleton of the table: its sets, counters and base chains (nftobj)
 * and the base chains' few fixed rules, which depend on the parameters
 * alone, never on the configuration's rules (those are nftlayout's): the
 * trigger path up to the verdict maps, DNAT, pinholes, learn mode's logs.
 */
#pragma once

#include <stdbool.h>

#include "nftobj.h"
#include "base/nlbatch.h"
#include "base/util.h"

int nftskel_build(struct nlbatch *b, const struct nftobj_params *p);
/* The rules of base chain CHAIN (nftdefs.h) as nft lists them: "\t\tRULE\n" each */
void nftskel_rules_text(struct dynbuf *out, const struct nftobj_params *p, int chain);
/* Is WHAT (an nlbatch_op's) the trigger chains' reverse-path rule (kernels may refuse it)? */
bool nftskel_rule_is_rpf(const char *what);
