/*
 * The daemon's forwardings kept in a file beside the control socket
 * (rewritten after changes, a few times a second at most), so that a
 * daemon restarted after a crash can put back what the kernel lost while
 * none was running: a table that nobody owns any more (no owner, or a
 * crash on a kernel with persistence) is removed by `nft flush ruleset`
 * like any other. The kernel's own table, where it survived, comes first:
 * the file only stands in for a table that is gone.
 *
 * One line per forwarding: "fwd RULE ipv4|ipv6 HOST PEER|- DIGEST UNTIL",
 * UNTIL in milliseconds of CLOCK_BOOTTIME (the file lives in /run: it does
 * not outlive a boot). Static forwardings are not kept: the configuration
 * has them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "base/util.h"

/* E's forwardings at NOW (the engine's clock), BOOT_NOW (CLOCK_BOOTTIME ms) */
void fwsave_format(const struct engine *e, uint64_t now, uint64_t boot_now, struct dynbuf *out);

/*
 * Give E the forwardings of BUF that still fit its configuration and have
 * time left at BOOT_NOW. Returns how many were taken; lines that cannot be
 * read are counted in *RET_BAD.
 */
size_t fwsave_restore(struct engine *e, const char *buf, size_t len, uint64_t now, uint64_t boot_now,
		      size_t *ret_bad);
