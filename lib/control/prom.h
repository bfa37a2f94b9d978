/*
 * A writer of the Prometheus text exposition format (version 0.0.4, what
 * `promtool check metrics`, the node exporter's textfile collector and a
 * Prometheus server read): metric families with their HELP and TYPE
 * lines, samples with labels, histograms. The conventions are kept here
 * and nowhere else: a counter's name ends in _total (the writer adds it),
 * names and label names are checked, label values and help texts are
 * escaped, a histogram's buckets are cumulative and end in +Inf with its
 * _sum and _count. Values are whole numbers; a histogram's are counted in
 * millionths of its base unit (microseconds for seconds) and written in it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

enum prom_type {
	PROM_COUNTER,
	PROM_GAUGE,
	PROM_HISTOGRAM,
};

struct prom_label {
	const char *name;
	const char *value;
};

struct prom {
	struct dynbuf *out;
	char family[128];	/* the family being written ("" none) */
	enum prom_type type;
};

void prom_init(struct prom *p, struct dynbuf *out);

/*
 * Begin the family NAME (a counter's without _total): its HELP and TYPE
 * lines. -EINVAL for a name that is not [a-zA-Z_:][a-zA-Z0-9_:]*, or a
 * counter's that ends in _total; nothing is written then, and samples
 * until the next family are dropped.
 */
int prom_family(struct prom *p, const char *name, enum prom_type type, const char *help);

/*
 * One sample of the current counter or gauge, with N labels. -EINVAL for
 * a label name that is not [a-zA-Z_][a-zA-Z0-9_]* or starts with "__",
 * or no current family of that type (nothing written).
 */
int prom_sample(struct prom *p, const struct prom_label *labels, size_t n, uint64_t v);

/*
 * The current histogram's series with N labels: N_BOUNDS upper bounds
 * (ascending, in millionths), COUNTS of N_BOUNDS + 1 observations per
 * bucket (not cumulative; the last beyond every bound), and the SUM of
 * all observations in millionths.
 */
int prom_histogram(struct prom *p, const struct prom_label *labels, size_t n,
		   const uint64_t *bounds, size_t n_bounds, const uint64_t *counts, uint64_t sum);

/* Append V millionths as a decimal number: "0.00025", "3", "1.5". */
void prom_micro(struct dynbuf *out, uint64_t v);
