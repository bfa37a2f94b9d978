/*
 * A chained hash map of intrusive nodes: an entry embeds a struct
 * hmap_node and is found by the hash it was inserted with, the caller
 * comparing keys (the map neither hashes nor compares, and allocates no
 * entry). Buckets are a power of two, 64 at first, doubled when the
 * entries would outnumber them (up to max_buckets, if set); a new entry
 * goes first in its chain. Entries stay where they are in memory.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct hmap_node {
	struct hmap_node *next;
	uint32_t hash;
};

struct hmap {
	struct hmap_node **buckets;
	size_t n_buckets;	/* 0 or a power of two */
	size_t n;
	size_t max_buckets;	/* 0: no bound; past it the chains lengthen */
};

/* Room for one more entry: 0, or -ENOMEM (the map is unchanged then). */
int hmap_reserve(struct hmap *m);
/* Insert NODE with HASH, after hmap_reserve() made room. */
void hmap_insert(struct hmap *m, struct hmap_node *node, uint32_t hash);
void hmap_remove(struct hmap *m, struct hmap_node *node);
/* The first node inserted with HASH, or NULL; then the next one with it. */
struct hmap_node *hmap_first(const struct hmap *m, uint32_t hash);
struct hmap_node *hmap_next(const struct hmap_node *node);
/* Free the buckets (the entries are the caller's: walk them first) and empty M. */
void hmap_clear(struct hmap *m);

/* Every node N of M, bucket by bucket; N may be removed (or freed) in the body. */
#define HMAP_FOREACH(m, i, n, next_)                                                 \
	for (size_t i = 0; i < (m)->n_buckets; i++)                                  \
		for ((n) = (m)->buckets[i]; (n) && ((next_) = (n)->next, 1); (n) = (next_))
