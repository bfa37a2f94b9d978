/*
 * Per-host forwarding counts; see hostcount.h. A hash map whose entries go
 * away when their count drops to zero.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostcount.h"
#include "base/util.h"

struct hostcount_entry {
	struct hostid id;
	char pool[RULE_NAME_MAX + 1];
	unsigned n;
	struct hmap_node node;
};

static uint32_t hash(const struct hostid *id, const char *pool)
{
	uint32_t h = hostid_hash(id, 2166136261u);

	for (const unsigned char *p = (const unsigned char *)pool; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static struct hostcount_entry *find(const struct hostcount *h, const struct hostid *id,
				    const char *pool)
{
	for (struct hmap_node *n = hmap_first(&h->map, hash(id, pool)); n; n = hmap_next(n)) {
		struct hostcount_entry *e = container_of(n, struct hostcount_entry, node);

		if (hostid_eq(&e->id, id) && !strcmp(e->pool, pool))
			return e;
	}
	return NULL;
}

unsigned hostcount_get(const struct hostcount *h, const struct hostid *id, const char *pool)
{
	struct hostcount_entry *e = find(h, id, pool);

	return e ? e->n : 0;
}

int hostcount_add(struct hostcount *h, const struct hostid *id, const char *pool, int delta)
{
	struct hostcount_entry *e;

	if (delta > 0 && hmap_reserve(&h->map) < 0)
		return -ENOMEM;
	e = find(h, id, pool);
	if (delta < 0) {
		if (e && --e->n == 0) {
			hmap_remove(&h->map, &e->node);
			free(e);
		}
		return 0;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->id = *id;
		snprintf(e->pool, sizeof(e->pool), "%s", pool);
		hmap_insert(&h->map, &e->node, hash(id, pool));
	}
	e->n++;
	return 0;
}

void hostcount_clear(struct hostcount *h)
{
	struct hmap_node *n, *next;

	HMAP_FOREACH(&h->map, i, n, next)
		free(container_of(n, struct hostcount_entry, node));
	hmap_clear(&h->map);
}
