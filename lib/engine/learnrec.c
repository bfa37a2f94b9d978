/*
 * Learn mode's records; see learnrec.h. A sorted array of pointers: a
 * lookup is a binary search, a new record moves pointers, not records.
 * A record's ranges are sorted and never touch: a port that joins two
 * ranges merges them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learnrec.h"

static size_t addr_len(int af)
{
	return af == AF_INET ? 4 : 16;
}

static int cmp_record_key(const char *rule, int af, const union inaddr *peer, uint8_t proto,
			  const struct learn_record *r)
{
	int c = strcmp(rule, r->rule);

	if (c)
		return c;
	if (af != r->af)
		return af < r->af ? -1 : 1;
	c = memcmp(peer, &r->peer, addr_len(af));
	if (c)
		return c;
	return proto < r->proto ? -1 : proto > r->proto;
}

/* The index of the record of this key, or where it would go (*FOUND false). */
static size_t find_record(const struct learnrec *t, const char *rule, int af, const union inaddr *peer,
			  uint8_t proto, bool *found)
{
	size_t lo = 0, hi = t->n;

	*found = false;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_record_key(rule, af, peer, proto, t->v[mid]);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Port P into REC's ranges; false if it did not fit. */
static bool add_port(struct learn_record *rec, uint16_t p)
{
	struct learn_range *v = rec->ranges;
	size_t n = rec->n_ranges, i = 0;

	while (i < n && v[i].hi < p)
		i++;
	if (i < n && v[i].lo <= p)
		return true;	/* known */
	if (i > 0 && v[i - 1].hi + 1 == p) {
		v[i - 1].hi = p;
		/* it may close the gap to the next range */
		if (i < n && v[i].lo == p + 1) {
			v[i - 1].hi = v[i].hi;
			memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
			rec->n_ranges--;
		}
		return true;
	}
	if (i < n && v[i].lo == p + 1) {
		v[i].lo = p;
		return true;
	}
	if (n == LEARN_RANGES_MAX)
		return false;
	memmove(&v[i + 1], &v[i], (n - i) * sizeof(*v));
	v[i] = (struct learn_range){ p, p };
	rec->n_ranges++;
	return true;
}

static struct learn_record *get_record(struct learnrec *t, const char *rule, int af,
				       const union inaddr *peer, uint8_t proto)
{
	bool found;
	size_t i = find_record(t, rule, af, peer, proto, &found);
	struct learn_record *rec, **v;

	if (found)
		return t->v[i];
	if (t->n >= LEARN_RECORDS_MAX)
		return NULL;
	rec = calloc(1, sizeof(*rec));
	v = rec ? realloc(t->v, (t->n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(rec);
		return NULL;
	}
	t->v = v;
	memmove(&v[i + 1], &v[i], (t->n - i) * sizeof(*v));
	v[i] = rec;
	t->n++;
	snprintf(rec->rule, sizeof(rec->rule), "%s", rule);
	rec->af = af;
	memcpy(&rec->peer, peer, addr_len(af));
	rec->proto = proto;
	return rec;
}

struct learn_record *learnrec_add(struct learnrec *t, const char *rule, int af,
				  const union inaddr *peer, uint8_t proto, uint16_t port,
				  const union inaddr *host, uint64_t now)
{
	struct learn_record *rec = get_record(t, rule, af, peer, proto);

	if (!rec) {
		t->not_kept++;
		return NULL;
	}
	if (!rec->connections)
		rec->first_ms = now;
	rec->connections++;
	rec->last_ms = now;
	rec->host = *host;
	if (!add_port(rec, port))
		rec->not_kept++;
	return rec;
}

size_t learnrec_clear(struct learnrec *t, const char *rule)
{
	size_t n = 0, gone = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (!rule || !strcmp(t->v[i]->rule, rule)) {
			free(t->v[i]);
			gone++;
		} else {
			t->v[n++] = t->v[i];
		}
	}
	t->n = n;
	if (!rule)
		t->not_kept = 0;
	return gone;
}

void learnrec_keep_rules(struct learnrec *t, const struct config *c)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (config_find_rule(c, t->v[i]->rule))
			t->v[n++] = t->v[i];
		else
			free(t->v[i]);
	}
	t->n = n;
}

void learnrec_free(struct learnrec *t)
{
	learnrec_clear(t, NULL);
	free(t->v);
	t->v = NULL;
}
