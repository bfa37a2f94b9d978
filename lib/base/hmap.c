/*
 * The chained hash map; see hmap.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

int hmap_reserve(struct hmap *m)
{
	size_t nb = m->n_buckets ? m->n_buckets * 2 : 64;
	struct hmap_node **b;

	if (m->n + 1 <= m->n_buckets || (m->max_buckets && m->n_buckets >= m->max_buckets))
		return 0;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct hmap_node *x = m->buckets[i], *next; x; x = next) {
			next = x->next;
			x->next = b[x->hash & (nb - 1)];
			b[x->hash & (nb - 1)] = x;
		}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = nb;
	return 0;
}

void hmap_insert(struct hmap *m, struct hmap_node *node, uint32_t hash)
{
	struct hmap_node **b = &m->buckets[hash & (m->n_buckets - 1)];

	node->hash = hash;
	node->next = *b;
	*b = node;
	m->n++;
}

void hmap_remove(struct hmap *m, struct hmap_node *node)
{
	for (struct hmap_node **pp = &m->buckets[node->hash & (m->n_buckets - 1)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == node) {
			*pp = node->next;
			m->n--;
			return;
		}
}

struct hmap_node *hmap_first(const struct hmap *m, uint32_t hash)
{
	struct hmap_node *x;

	if (!m->n_buckets)
		return NULL;
	for (x = m->buckets[hash & (m->n_buckets - 1)]; x && x->hash != hash; x = x->next)
		;
	return x;
}

struct hmap_node *hmap_next(const struct hmap_node *node)
{
	struct hmap_node *x;

	for (x = node->next; x && x->hash != node->hash; x = x->next)
		;
	return x;
}

void hmap_clear(struct hmap *m)
{
	size_t max = m->max_buckets;

	free(m->buckets);
	memset(m, 0, sizeof(*m));
	m->max_buckets = max;
}
