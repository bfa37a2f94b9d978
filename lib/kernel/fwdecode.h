/*
 * The administrator's ruleset, as the kernel dumps it in libnftnl objects,
 * decoded into the firewall check's model (fwruleset.h). A rule's
 * expressions are followed through the registers they load, so that
 * `meta l4proto tcp th dport 80` becomes two conditions; what the model
 * cannot hold becomes a condition that may match, never a guess.
 * iptables-nft's compat matches for conntrack and the mark are read from
 * their xtables structs.
 */
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "fwruleset.h"

/*
 * Chains first, then rules, then sets and their elements. Objects the
 * check has no use for are skipped. Each returns 0, -ENOMEM (the model is
 * incomplete), or -EBADMSG for an object without its table or name.
 */
int fwdecode_chain(struct fwruleset *rs, const struct nftnl_chain *c);
int fwdecode_rule(struct fwruleset *rs, const struct nftnl_rule *r);
int fwdecode_set(struct fwruleset *rs, const struct nftnl_set *s);
int fwdecode_elems(struct fwruleset *rs, const struct nftnl_set *s);
