/*
 * Min-heap over embedded nodes; see heap.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "heap.h"

static void set(struct heap *h, size_t i, struct heap_node *n)
{
	h->v[i] = n;
	n->idx = i;
}

static void sift_up(struct heap *h, size_t i)
{
	struct heap_node *n = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->v[parent]->deadline <= n->deadline)
			break;
		set(h, i, h->v[parent]);
		i = parent;
	}
	set(h, i, n);
}

static void sift_down(struct heap *h, size_t i)
{
	struct heap_node *n = h->v[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->deadline < h->v[c]->deadline)
			c++;
		if (n->deadline <= h->v[c]->deadline)
			break;
		set(h, i, h->v[c]);
		i = c;
	}
	set(h, i, n);
}

int heap_push(struct heap *h, struct heap_node *n, uint64_t deadline)
{
	if (n->idx != HEAP_NOT_QUEUED)
		return heap_update(h, n, deadline);
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct heap_node **v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	n->deadline = deadline;
	set(h, h->n++, n);
	sift_up(h, n->idx);
	return 0;
}

void heap_remove(struct heap *h, struct heap_node *n)
{
	size_t i = n->idx;

	if (i == HEAP_NOT_QUEUED)
		return;
	n->idx = HEAP_NOT_QUEUED;
	if (i == --h->n)
		return;
	set(h, i, h->v[h->n]);
	sift_down(h, i);
	sift_up(h, h->v[i]->idx);
}

int heap_update(struct heap *h, struct heap_node *n, uint64_t deadline)
{
	uint64_t old = n->deadline;

	if (n->idx == HEAP_NOT_QUEUED)
		return heap_push(h, n, deadline);
	n->deadline = deadline;
	if (deadline < old)
		sift_up(h, n->idx);
	else
		sift_down(h, n->idx);
	return 0;
}

struct heap_node *heap_peek(const struct heap *h)
{
	return h->n ? h->v[0] : NULL;
}

void heap_free(struct heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
