/*
 * The daemon's measurements; see stats.h.
 */
#include <stdlib.h>
#include <string.h>

#include "stats.h"

uint32_t nflog_seq_lost(struct nflog_seq *s, uint32_t seq)
{
	uint32_t lost = s->have ? seq - s->last - 1 : 0;

	s->have = true;
	s->last = seq;
	return lost;
}

void latency_trigger(struct latency *l, uint64_t now_us)
{
	if (l->turn_n < LATENCY_TURN_MAX)
		l->turn_us[l->turn_n++] = now_us;
}

const uint64_t latency_bounds_us[LATENCY_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
};

static void count(struct latency *l, uint64_t us)
{
	size_t b = 0;

	while (b < LATENCY_BUCKETS && us > latency_bounds_us[b])
		b++;
	l->buckets[b]++;
	l->sum_us += us;
}

void latency_turn_end(struct latency *l, bool written, uint64_t now_us)
{
	for (size_t i = 0; written && i < l->turn_n; i++) {
		uint64_t us = now_us - l->turn_us[i];

		count(l, us);
		l->us[l->pos] = us > UINT32_MAX ? UINT32_MAX : us;
		l->pos = (l->pos + 1) % LATENCY_RING;
		if (l->n < LATENCY_RING)
			l->n++;
	}
	l->turn_n = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void latency_percentiles(const struct latency *l, uint32_t *ret_p50, uint32_t *ret_p99)
{
	uint32_t v[LATENCY_RING];

	*ret_p50 = *ret_p99 = 0;
	if (!l->n)
		return;
	memcpy(v, l->us, l->n * sizeof(*v));
	qsort(v, l->n, sizeof(*v), cmp_u32);
	*ret_p50 = v[(l->n - 1) / 2];
	*ret_p99 = v[(l->n - 1) * 99 / 100];
}
