/*
 * Per-host forwarding counts; see hostcount.h. A chained hash table whose
 * entries go away when their count drops to zero.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostcount.h"

struct hostcount_entry {
	struct hostid id;
	char pool[RULE_NAME_MAX + 1];
	unsigned n;
	struct hostcount_entry *next;
};

static uint32_t hash(const struct hostid *id, const char *pool)
{
	uint32_t h = hostid_hash(id, 2166136261u);

	for (const unsigned char *p = (const unsigned char *)pool; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static struct hostcount_entry **slot(const struct hostcount *h, const struct hostid *id,
				     const char *pool)
{
	struct hostcount_entry **pp = &h->buckets[hash(id, pool) & (h->n_buckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if (hostid_eq(&(*pp)->id, id) && !strcmp((*pp)->pool, pool))
			break;
	return pp;
}

unsigned hostcount_get(const struct hostcount *h, const struct hostid *id, const char *pool)
{
	struct hostcount_entry **pp;

	if (!h->n_buckets)
		return 0;
	pp = slot(h, id, pool);
	return *pp ? (*pp)->n : 0;
}

static int grow(struct hostcount *h)
{
	size_t nb = h->n_buckets ? h->n_buckets * 2 : 64;
	struct hostcount_entry **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_buckets; i++) {
		struct hostcount_entry *e = h->buckets[i], *next;

		for (; e; e = next) {
			uint32_t k = hash(&e->id, e->pool) & (nb - 1);

			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	}
	free(h->buckets);
	h->buckets = b;
	h->n_buckets = nb;
	return 0;
}

int hostcount_add(struct hostcount *h, const struct hostid *id, const char *pool, int delta)
{
	struct hostcount_entry **pp, *e;

	if (delta > 0 && h->n + 1 > h->n_buckets && grow(h) < 0)
		return -ENOMEM;
	if (!h->n_buckets)
		return 0;
	pp = slot(h, id, pool);
	e = *pp;
	if (delta < 0) {
		if (!e)
			return 0;
		if (--e->n == 0) {
			*pp = e->next;
			free(e);
			h->n--;
		}
		return 0;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->id = *id;
		snprintf(e->pool, sizeof(e->pool), "%s", pool);
		*pp = e;
		h->n++;
	}
	e->n++;
	return 0;
}

void hostcount_clear(struct hostcount *h)
{
	for (size_t i = 0; i < h->n_buckets; i++) {
		struct hostcount_entry *e = h->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(h->buckets);
	memset(h, 0, sizeof(*h));
}
