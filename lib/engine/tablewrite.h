/*
 * The engine's state written into the kernel: table inet ipautofw's
 * layout (the rules' sets and chains, as the configuration has them), the
 * small sets rewritten whole (trigger ports, interfaces, allowed sources,
 * guarded ports), and the forwardings' elements, either what changed since
 * the last write or everything at once. Writes go into an nlbatch; the
 * daemon commits it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/nlbatch.h"
#include "base/util.h"
#include "engine.h"

/*
 * Elements for what changed since the last call; returns messages added.
 * ASSIGNED (if not NULL) hears of every forwarding written anew, with the
 * host it took over from (or NULL).
 */
int tablewrite_pending(struct engine *e, struct nlbatch *b, uint64_t now,
		       void (*assigned)(const struct fwd *f, const union inaddr *old, void *data),
		       void *data);

/* Rewrite the WAN interface set. */
int tablewrite_wan(struct engine *e, struct nlbatch *b);

/* Flush every set and write the whole state (start, reload, resync). */
int tablewrite_all(struct engine *e, struct nlbatch *b, uint64_t now);

/*
 * The whole table in one transaction: table inet ipautofw replaced (with
 * FLAGS, NFTOBJ_TABLE_F_*; a table of that name is deleted first if
 * EXISTS, or where the kernel can delete what may not exist), its sets,
 * chains and rules (triggers logged to NFLOG group GROUP, learn mode's
 * connections to e->learn_group unless `learn off`), and the whole state
 * (the learn sets left empty).
 */
int tablewrite_table(struct engine *e, struct nlbatch *b, uint16_t group, uint32_t flags,
		     bool exists, uint64_t now);

/* What tablewrite_table would create, in `nft -f` syntax (--dry-run). */
int tablewrite_text(struct engine *e, uint16_t group, uint64_t now, struct dynbuf *out);

/* The same for an engine just started with CFG (owned from now on), KERNEL_PATH or not. */
int tablewrite_dry_run(struct config *cfg, uint16_t group, uint16_t learn_group, bool kernel_path,
		       struct dynbuf *out);
