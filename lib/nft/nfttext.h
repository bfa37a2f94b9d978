/*
 * The ruleset as text: the table nftskel_build and nftlayout_write build,
 * with the elements that batch ELEMS leaves in their sets, in `nft -f`
 * syntax, exactly as `nft list table inet ipautofw` shows it (no table
 * flags: the text is for reading and loading).
 */
#pragma once

#include "nftlayout.h"
#include "nftobj.h"
#include "base/nlbatch.h"
#include "base/util.h"

struct config;
int nfttext_table(const struct nftobj_params *p, const struct config *cfg, const struct nftlayout *l,
		  const struct nlbatch *elems, struct dynbuf *out);
