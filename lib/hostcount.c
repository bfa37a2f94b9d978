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
#include "prefix.h"

struct hostcount_entry {
	int af;
	union inaddr key;
	char pool[RULE_NAME_MAX + 1];
	unsigned n;
	struct hostcount_entry *next;
};

static uint32_t hash(int af, const union inaddr *key, const char *pool)
{
	const unsigned char *p = (const unsigned char *)key;
	uint32_t h = 2166136261u ^ (uint32_t)af;

	for (size_t i = 0; i < sizeof(*key); i++)
		h = (h ^ p[i]) * 16777619u;
	for (p = (const unsigned char *)pool; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static struct hostcount_entry **slot(const struct hostcount *h, int af, const union inaddr *key,
				     const char *pool)
{
	struct hostcount_entry **pp = &h->buckets[hash(af, key, pool) & (h->n_buckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->af == af && !memcmp(&(*pp)->key, key, sizeof(*key)) &&
		    !strcmp((*pp)->pool, pool))
			break;
	return pp;
}

unsigned hostcount_get(const struct hostcount *h, int af, const union inaddr *host, const char *pool)
{
	union inaddr key;
	struct hostcount_entry **pp;

	if (!h->n_buckets)
		return 0;
	host_key(af, host, &key);
	pp = slot(h, af, &key, pool);
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
			uint32_t k = hash(e->af, &e->key, e->pool) & (nb - 1);

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

int hostcount_add(struct hostcount *h, int af, const union inaddr *host, const char *pool, int delta)
{
	struct hostcount_entry **pp, *e;
	union inaddr key;

	host_key(af, host, &key);
	if (delta > 0 && h->n + 1 > h->n_buckets && grow(h) < 0)
		return -ENOMEM;
	if (!h->n_buckets)
		return 0;
	pp = slot(h, af, &key, pool);
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
		e->af = af;
		e->key = key;
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
