/*
 * A binary min-heap of deadlines. Each node stores its own index, so a
 * node can be removed or re-keyed in O(log n) without a search.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HEAP_NOT_QUEUED SIZE_MAX

struct heap_node {
	uint64_t deadline;
	size_t idx;
};

struct heap {
	struct heap_node **v;
	size_t n;
	size_t cap;
};

static inline void heap_node_init(struct heap_node *n)
{
	n->idx = HEAP_NOT_QUEUED;
}

int heap_push(struct heap *h, struct heap_node *n, uint64_t deadline);
void heap_remove(struct heap *h, struct heap_node *n);
int heap_update(struct heap *h, struct heap_node *n, uint64_t deadline);
struct heap_node *heap_peek(const struct heap *h);
void heap_free(struct heap *h);
