/*
 * The deadline heap against a plain reference: random pushes, cancels of
 * queued nodes (by the index they hold), re-keys and pops, with the heap
 * shape checked after every step and the pop order checked against the
 * reference's minimum.
 */
#include <stdint.h>

#include "base/heap.h"
#include "test.h"

#define NODES 300

static uint64_t rng;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Every slot's node knows its slot, and no child is earlier than its parent. */
static int heap_ok(const struct heap *h)
{
	for (size_t i = 0; i < h->n; i++) {
		if (h->v[i]->idx != i)
			return 0;
		if (i && h->v[(i - 1) / 2]->deadline > h->v[i]->deadline)
			return 0;
	}
	return 1;
}

struct ref {
	uint64_t deadline[NODES];
	int queued[NODES];
	size_t n;
};

static int ref_min(const struct ref *r, uint64_t *ret)
{
	int found = 0;

	for (size_t i = 0; i < NODES; i++)
		if (r->queued[i] && (!found || r->deadline[i] < *ret)) {
			*ret = r->deadline[i];
			found = 1;
		}
	return found;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct mix {
	uint64_t seed;
	int ops;
	unsigned push, cancel, update;	/* percentages; the rest pops */
	uint32_t range;			/* deadlines in [0, range): small ranges mean ties */
};

static void run_mix(const struct mix *m)
{
	static struct heap_node node[NODES];
	struct heap h = { 0 };
	struct ref r = { 0 };
	uint64_t sorted[NODES];
	size_t ns = 0;
	int bad_shape = 0, bad_pop = 0, bad_count = 0;

	rng = m->seed;
	for (size_t i = 0; i < NODES; i++)
		heap_node_init(&node[i]);
	for (int op = 0; op < m->ops; op++) {
		unsigned dice = next() % 100;
		size_t i = next() % NODES;
		uint64_t d = next() % m->range;

		if (dice < m->push) {
			/* pushing a queued node re-keys it */
			CHECK_INT(heap_push(&h, &node[i], d), 0);
			r.n += !r.queued[i];
			r.queued[i] = 1;
			r.deadline[i] = d;
		} else if (dice < m->push + m->cancel) {
			/* cancel: a node removes itself by its stored index; twice is harmless */
			heap_remove(&h, &node[i]);
			heap_remove(&h, &node[i]);
			CHECK(node[i].idx == HEAP_NOT_QUEUED);
			r.n -= r.queued[i];
			r.queued[i] = 0;
		} else if (dice < m->push + m->cancel + m->update) {
			CHECK_INT(heap_update(&h, &node[i], d), 0);
			r.n += !r.queued[i];
			r.queued[i] = 1;
			r.deadline[i] = d;
		} else {
			struct heap_node *top = heap_peek(&h);
			uint64_t want = 0;

			if (!ref_min(&r, &want)) {
				CHECK(top == NULL);
				continue;
			}
			if (!top || top->deadline != want) {
				bad_pop++;
				continue;
			}
			heap_remove(&h, top);
			r.queued[top - node] = 0;
			r.n--;
		}
		bad_shape += !heap_ok(&h);
		bad_count += h.n != r.n;
	}
	CHECK_INT(bad_shape, 0);
	CHECK_INT(bad_pop, 0);
	CHECK_INT(bad_count, 0);

	/* drain: the pops come out exactly as the sorted reference */
	for (size_t i = 0; i < NODES; i++)
		if (r.queued[i])
			sorted[ns++] = r.deadline[i];
	qsort(sorted, ns, sizeof(sorted[0]), cmp_u64);
	for (size_t k = 0; k < ns; k++) {
		struct heap_node *top = heap_peek(&h);

		if (!top) {
			CHECK(top != NULL);
			break;
		}
		if (top->deadline != sorted[k])
			bad_pop++;
		heap_remove(&h, top);
		bad_shape += !heap_ok(&h);
	}
	CHECK_INT(bad_pop, 0);
	CHECK_INT(bad_shape, 0);
	CHECK(heap_peek(&h) == NULL);
	CHECK_INT(h.n, 0);
	heap_free(&h);
	CHECK(h.v == NULL && h.cap == 0);
}

static void test_random(void)
{
	static const struct mix mixes[] = {
		{ 1, 5000, 60, 10, 10, 1000000 },	/* grows well past the first 64 slots */
		{ 42, 5000, 30, 30, 30, 1000000 },	/* mostly cancels and re-keys */
		{ 7, 5000, 40, 20, 20, 8 },		/* many equal deadlines */
		{ 99, 3000, 80, 0, 0, 1u << 31 },	/* push and pop only */
		{ 2026, 8000, 34, 33, 33, 50 },		/* never pops until the drain */
		{ 123456789, 4000, 50, 0, 40, 100 },	/* re-keys up and down, no cancels */
	};

	for (size_t i = 0; i < sizeof(mixes) / sizeof(mixes[0]); i++) {
		int before = test_failures;

		run_mix(&mixes[i]);
		if (test_failures != before)
			fprintf(stderr, "  in mix %zu (seed %llu)\n", i,
				(unsigned long long)mixes[i].seed);
	}
}

static void test_edges(void)
{
	struct heap h = { 0 };
	struct heap_node a, b, c;

	heap_node_init(&a);
	heap_node_init(&b);
	heap_node_init(&c);
	CHECK(heap_peek(&h) == NULL);
	heap_remove(&h, &a);			/* not queued: nothing happens */
	CHECK_INT(h.n, 0);
	CHECK_INT(heap_update(&h, &a, 30), 0);	/* update of an unqueued node queues it */
	CHECK_INT(heap_push(&h, &b, 20), 0);
	CHECK_INT(heap_push(&h, &c, 10), 0);
	CHECK(heap_peek(&h) == &c);
	CHECK_INT(heap_push(&h, &c, 40), 0);	/* re-key later: no second copy */
	CHECK_INT(h.n, 3);
	CHECK(heap_peek(&h) == &b);
	CHECK_INT(heap_update(&h, &a, 5), 0);	/* re-key earlier */
	CHECK(heap_peek(&h) == &a);
	heap_remove(&h, &b);			/* cancel from the middle */
	CHECK(b.idx == HEAP_NOT_QUEUED);
	CHECK(heap_peek(&h) == &a);
	heap_remove(&h, &a);
	CHECK(heap_peek(&h) == &c);
	CHECK_INT(c.deadline, 40);
	heap_remove(&h, &c);			/* the last slot */
	CHECK(heap_peek(&h) == NULL);
	heap_free(&h);
}

static void test_heap_order(void)
{
	struct heap h = { 0 };
	struct heap_node n[100];
	uint64_t last = 0;

	for (int i = 0; i < 100; i++) {
		heap_node_init(&n[i]);
		CHECK_INT(heap_push(&h, &n[i], (uint64_t)(i * 7919) % 1000), 0);
	}
	/* remove some from the middle, re-key others */
	for (int i = 0; i < 100; i += 3)
		heap_remove(&h, &n[i]);
	for (int i = 1; i < 100; i += 5)
		heap_update(&h, &n[i], 5000 - i);
	int count = 0;
	struct heap_node *top;

	while ((top = heap_peek(&h))) {
		CHECK(top->deadline >= last);
		last = top->deadline;
		heap_remove(&h, top);
		CHECK(top->idx == HEAP_NOT_QUEUED);
		count++;
	}
	/* 34 removed, 7 of them queued again by the update */
	CHECK_INT(count, 73);
	heap_free(&h);
}

TEST_MAIN(T(test_random), T(test_edges), T(test_heap_order))
