/*
 * What the daemon reads of the engine: its status, its metrics, its
 * control commands and its own bookkeeping see the running configuration,
 * the forwarding table, the counters and the kernel's facilities through
 * these read-only views of a const struct engine, and never reach into it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "kernel/fwcheck.h"

/* The running configuration; NULL before the first. */
const struct config *view_config(const struct engine *e);

/* The running rule named NAME, or NULL. */
const struct rule *view_find_rule(const struct engine *e, const char *name);

/* The trigger counters, and the forwarding table (its counters, limits and deadlines). */
const struct engine_stats *view_stats(const struct engine *e);
const struct fwtable *view_table(const struct engine *e);

/* What the kernel can do, and whether it opens first forwardings itself (the kernel path). */
const struct kcaps *view_caps(const struct engine *e);
bool view_kernel_path(const struct engine *e);

/*
 * What the firewall check needs of the running configuration: its pinhole
 * mark and guard, its LAN, its rules, and the WAN interfaces in use (added
 * to WAN, which RET points to). 1 with RET filled; 0 without a running
 * configuration (nothing to check); -errno.
 */
int view_fwcheck_env(const struct engine *e, struct iflist *wan, struct fwcheck_env *ret);

/*
 * The active forwardings of each rule of the running configuration, in
 * its order, by family: RET[i][0] IPv4, RET[i][1] IPv6 (RET holds
 * engine_n_rules() entries, each set here). -ENOMEM.
 */
int view_rule_forwardings(const struct engine *e, uint64_t (*ret)[2]);
