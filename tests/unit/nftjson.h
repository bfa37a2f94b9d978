/*
 * For the firewall check's unit tests: `nft -j list ruleset` output read
 * into the check's model (lib/kernel/fwruleset.h), the way the daemon
 * fills it from netlink. A small JSON reader; only what nft prints is
 * handled.
 */
#pragma once

#include "kernel/fwruleset.h"

/*
 * nft's JSON shows an iptables-nft compat match by its name only
 * ({"xt": {"type": "match", "name": "conntrack"}}); what it matches comes
 * from XT, when given: lines "FAMILY TABLE CHAIN HANDLE RULE" from
 * `nft -a list ruleset`, which translates them (`ct state ...`,
 * `ct status ...`). Without a line the match may or may not match.
 * Returns 0, or -EINVAL for text that is not nft's JSON.
 */
int nftjson_load(struct fwruleset *rs, const char *json, const char *xt);
/* PATH, and PATH with .json replaced by .xt when there is one. */
int nftjson_load_file(struct fwruleset *rs, const char *path);
