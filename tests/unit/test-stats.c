#include "engine/stats.h"
#include "base/util.h"
#include "test.h"

static void test_nflog_seq(void)
{
	struct nflog_seq s = { 0 };

	CHECK_INT(nflog_seq_lost(&s, 100), 0);
	CHECK_INT(nflog_seq_lost(&s, 101), 0);
	CHECK_INT(nflog_seq_lost(&s, 105), 3);
	/* the counter wraps */
	CHECK_INT(nflog_seq_lost(&s, 0xffffffff), 0xffffffff - 106);
	CHECK_INT(nflog_seq_lost(&s, 1), 1);
}

static void test_latency(void)
{
	static struct latency l;
	uint32_t p50, p99;

	latency_percentiles(&l, &p50, &p99);
	CHECK_INT(p50, 0);
	CHECK_INT(p99, 0);
	/* a turn whose batch failed counts nothing */
	latency_trigger(&l, 1000);
	latency_turn_end(&l, false, 5000);
	CHECK_INT(l.n, 0);
	for (int i = 1; i <= 100; i++)
		latency_trigger(&l, 10000 - i);
	latency_turn_end(&l, true, 10000);
	CHECK_INT(l.n, 100);
	latency_percentiles(&l, &p50, &p99);
	CHECK_INT(p50, 50);
	CHECK_INT(p99, 99);
	/* the ring keeps the last LATENCY_RING samples */
	for (int t = 0; t < 3; t++) {
		for (int i = 0; i < 500; i++)
			latency_trigger(&l, 0);
		latency_turn_end(&l, true, 7);
	}
	CHECK_INT(l.n, LATENCY_RING);
	latency_percentiles(&l, &p50, &p99);
	CHECK_INT(p50, 7);
	CHECK_INT(p99, 7);
	/* more triggers in one turn than it can remember: the first are kept */
	for (int i = 0; i < LATENCY_TURN_MAX + 10; i++)
		latency_trigger(&l, i);
	CHECK_INT(l.turn_n, LATENCY_TURN_MAX);
	latency_turn_end(&l, true, LATENCY_TURN_MAX + 100);
	CHECK_INT(l.turn_n, 0);
}

/* Every sample since the start, in the bucket of the first bound it does not pass */
static void test_latency_histogram(void)
{
	static struct latency l;
	static const uint64_t ages[] = { 0, 50, 51, 100, 249999, 250000, 250001, 10000000 };
	uint64_t sum = 0;

	for (size_t i = 0; i < ARRAY_SIZE(ages); i++) {
		latency_trigger(&l, 20000000 - ages[i]);
		sum += ages[i];
	}
	latency_turn_end(&l, true, 20000000);
	CHECK_INT(l.buckets[0], 2);	/* <= 50 */
	CHECK_INT(l.buckets[1], 2);	/* <= 100 */
	CHECK_INT(l.buckets[LATENCY_BUCKETS - 1], 2);	/* <= 250000 */
	CHECK_INT(l.buckets[LATENCY_BUCKETS], 2);	/* beyond */
	CHECK_INT(l.sum_us, sum);
	/* a failed turn counts nothing; the ring wrapping forgets nothing here */
	latency_trigger(&l, 1);
	latency_turn_end(&l, false, 2);
	for (int i = 0; i < LATENCY_RING + 1; i++)
		latency_trigger(&l, 0);
	latency_turn_end(&l, true, 10);
	CHECK_INT(l.buckets[0], 2 + LATENCY_RING + 1);
	CHECK_INT(l.sum_us, sum + 10 * (LATENCY_RING + 1));
	for (size_t b = 1; b < LATENCY_BUCKETS; b++)
		CHECK(latency_bounds_us[b] > latency_bounds_us[b - 1]);
}

TEST_MAIN(T(test_nflog_seq), T(test_latency), T(test_latency_histogram))
