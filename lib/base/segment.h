/*
 * Port segments: the disjoint (protocol, port range) pieces that a list
 * of possibly overlapping ranges cuts the port space into, each with the
 * owners (rules) whose ranges cover all of it. The kernel path maps each
 * segment to a chain (one verdict map lookup per packet), whose rules are
 * the owners' in configuration order: one trigger port may serve several
 * rules, overlapping peer rules share their forward ports.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct segment_input {
	uint8_t proto;
	uint16_t lo;
	uint16_t hi;
	uint32_t owner;
};

struct segment {
	uint8_t proto;
	uint16_t lo;
	uint16_t hi;
	uint32_t *owners;	/* ascending, no duplicates */
	size_t n_owners;
};

/*
 * Segments of IN, ordered by protocol and port; adjacent pieces with the
 * same owners are one segment. Returns 0 or -ENOMEM.
 */
int segment_build(const struct segment_input *in, size_t n, struct segment **ret, size_t *ret_n);
void segment_free(struct segment *s, size_t n);
