/*
 * The probe batches of lib/nft/kcaps.h's facilities; see kprobe.c.
 */
#pragma once

#include "kcaps.h"
#include "base/nlbatch.h"

/* The facilities a probe batch finds out (the kernel path is found out by the table itself). */
#define KPROBE_FIRST KCAP_DESTROY
#define KPROBE_END KCAP_KERNEL_PATH

/*
 * Append to B (reset, nothing else in it) the messages that find out C,
 * on table TABLE (a name nobody uses). -EINVAL for a facility no batch
 * finds out, -ENOMEM.
 */
int kprobe_batch(struct nlbatch *b, enum kcap c, const char *table);
