/*
 * The daemon's own measurements: NFLOG losses told by the gaps in the
 * sequence numbers the kernel stamps on each log message, and the
 * trigger-to-forwarding latency over the last LATENCY_RING triggers with
 * its percentiles, and of every trigger since the start in the buckets of
 * a histogram (what a Prometheus scrape reads). Times are passed in.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LATENCY_RING 1024
#define LATENCY_TURN_MAX 4096
/* The histogram's upper bounds in microseconds (one bucket more, beyond them) */
#define LATENCY_BUCKETS 12
extern const uint64_t latency_bounds_us[LATENCY_BUCKETS];

struct nflog_seq {
	bool have;
	uint32_t last;
};

/* Messages lost before the one numbered SEQ (0 when it follows the last). */
uint32_t nflog_seq_lost(struct nflog_seq *s, uint32_t seq);

struct latency {
	uint64_t turn_us[LATENCY_TURN_MAX];	/* when this turn's triggers arrived */
	size_t turn_n;
	uint32_t us[LATENCY_RING];
	size_t n;
	size_t pos;
	uint64_t buckets[LATENCY_BUCKETS + 1];	/* since the start: samples per bucket */
	uint64_t sum_us;
};

/* A trigger that fired arrived at NOW_US; it counts once its turn is written. */
void latency_trigger(struct latency *l, uint64_t now_us);
/* The turn's batch is in the kernel at NOW_US (WRITTEN), or was not: the turn ends. */
void latency_turn_end(struct latency *l, bool written, uint64_t now_us);
/* The median and 99th percentile of the samples (0 without any). */
void latency_percentiles(const struct latency *l, uint32_t *ret_p50, uint32_t *ret_p99);
