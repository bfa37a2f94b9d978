/*
 * The daemon's metrics (metrics.c): `ipautofwctl metrics` in the
 * Prometheus text format, and the counters a re-exec carries over.
 */
#pragma once

#include "control.h"
#include "manager.h"

struct handover_state;

/* Every figure, in the Prometheus text format. */
void metrics_report(struct manager *m, struct control *ctl, struct dynbuf *out);
/* The counters into ST for the binary that replaces this one; -errno. */
int metrics_save(struct manager *m, struct control *ctl, struct handover_state *st);
/* The counters a previous binary handed over (those it did not have stay 0). */
void metrics_restore(struct manager *m, struct control *ctl, const struct handover_state *st);
