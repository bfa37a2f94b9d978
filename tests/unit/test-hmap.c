#include <stdbool.h>
#include <stdlib.h>

#include "base/hmap.h"
#include "test.h"
#include "base/util.h"

struct item {
	unsigned key;
	struct hmap_node node;
};

/* A weak hash on purpose: every fourth key shares one, so chains hold strangers. */
static uint32_t hash_of(unsigned key)
{
	return key / 4 * 2654435761u;
}

static struct item *find(const struct hmap *m, unsigned key)
{
	for (struct hmap_node *n = hmap_first(m, hash_of(key)); n; n = hmap_next(n)) {
		struct item *it = container_of(n, struct item, node);

		if (it->key == key)
			return it;
	}
	return NULL;
}

static void test_insert_find_remove(void)
{
	struct hmap m = { 0 };
	struct item *v = calloc(1000, sizeof(*v));
	struct hmap_node *n, *next;
	size_t seen = 0;

	CHECK(find(&m, 1) == NULL);
	for (unsigned i = 0; i < 1000; i++) {
		v[i].key = i;
		CHECK_INT(hmap_reserve(&m), 0);
		hmap_insert(&m, &v[i].node, hash_of(i));
	}
	CHECK_INT(m.n, 1000);
	CHECK_INT(m.n_buckets, 1024);	/* 64, doubled as entries came */
	for (unsigned i = 0; i < 1000; i++)
		CHECK(find(&m, i) == &v[i]);
	CHECK(find(&m, 1000) == NULL);
	for (unsigned i = 0; i < 1000; i += 2)
		hmap_remove(&m, &v[i].node);
	CHECK_INT(m.n, 500);
	for (unsigned i = 0; i < 1000; i++)
		CHECK(find(&m, i) == (i % 2 ? &v[i] : NULL));
	/* a walk that removes what it visits */
	HMAP_FOREACH(&m, i, n, next) {
		CHECK(container_of(n, struct item, node)->key % 2 == 1);
		hmap_remove(&m, n);
		seen++;
	}
	CHECK_INT(seen, 500);
	CHECK_INT(m.n, 0);
	hmap_clear(&m);
	CHECK(m.buckets == NULL && m.n_buckets == 0);
	free(v);
}

/* equal hashes in one chain, the newest first; a bound on the buckets */
static void test_order_and_bound(void)
{
	struct hmap m = { .max_buckets = 128 };
	struct item v[300], extra = { .key = 300 };

	for (unsigned i = 0; i < 300; i++) {
		v[i].key = i;
		CHECK_INT(hmap_reserve(&m), 0);
		hmap_insert(&m, &v[i].node, hash_of(i));
	}
	CHECK_INT(m.n_buckets, 128);
	{
		unsigned same = 0, n = 0;

		for (struct hmap_node *x = hmap_first(&m, hash_of(8)); x; x = hmap_next(x), n++)
			same |= 1u << (container_of(x, struct item, node)->key - 8);
		CHECK_INT(n, 4);
		CHECK_INT(same, 0xf);
	}
	/* inserted last: first in its chain (until the buckets double) */
	CHECK_INT(hmap_reserve(&m), 0);
	hmap_insert(&m, &extra.node, hash_of(8));
	CHECK(hmap_first(&m, hash_of(8)) == &extra.node);
	hmap_remove(&m, &extra.node);
	CHECK_INT(m.n, 300);
	for (unsigned i = 0; i < 300; i++)
		CHECK(find(&m, i) == &v[i]);
	hmap_clear(&m);
	CHECK_INT(m.max_buckets, 128);
}

TEST_MAIN(T(test_insert_find_remove), T(test_order_and_bound))
