/*
 * Port segments; see segment.h. A sweep over the range boundaries of each
 * protocol: every boundary starts a piece, whose owners are the ranges
 * that cover its first port, kept as the sweep goes (ranges sorted by
 * their start enter, those that ended leave): n log n for a thousand rules.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"

struct bound {
	uint8_t proto;
	uint32_t port;		/* a range's lo, or hi + 1 */
};

static int cmp_bound(const void *a, const void *b)
{
	const struct bound *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->port < y->port ? -1 : x->port > y->port;
}

static int cmp_input(const void *a, const void *b)
{
	const struct segment_input *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->lo - y->lo;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool same_owners(const struct segment *s, const uint32_t *o, size_t n)
{
	return s->n_owners == n && !memcmp(s->owners, o, n * sizeof(*o));
}

int segment_build(const struct segment_input *in, size_t n, struct segment **ret, size_t *ret_n)
{
	struct bound *b = malloc((2 * n + 1) * sizeof(*b));
	struct segment_input *v = malloc((n + 1) * sizeof(*v));
	const struct segment_input **act = malloc((n + 1) * sizeof(*act));
	uint32_t *tmp = malloc((n + 1) * sizeof(*tmp));
	struct segment *seg = NULL;
	size_t nb = 0, ns = 0, cap = 0, next = 0, n_act = 0;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!b || !v || !act || !tmp) {
		r = -ENOMEM;
		goto out;
	}
	if (n)
		memcpy(v, in, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_input);
	for (size_t i = 0; i < n; i++) {
		b[nb++] = (struct bound){ v[i].proto, v[i].lo };
		b[nb++] = (struct bound){ v[i].proto, (uint32_t)v[i].hi + 1 };
	}
	qsort(b, nb, sizeof(*b), cmp_bound);
	for (size_t i = 0; i + 1 < nb; i++) {
		size_t k = 0, m = 0;

		/* the ranges covering b[i]: those that started, less those that ended */
		while (next < n && (v[next].proto < b[i].proto ||
				    (v[next].proto == b[i].proto && v[next].lo <= b[i].port)))
			act[n_act++] = &v[next++];
		for (size_t a = 0; a < n_act; a++)
			if (act[a]->proto == b[i].proto && act[a]->hi >= b[i].port)
				act[m++] = act[a];
		n_act = m;
		if (b[i].proto != b[i + 1].proto || b[i].port == b[i + 1].port)
			continue;
		for (size_t a = 0; a < n_act; a++)
			tmp[k++] = act[a]->owner;
		qsort(tmp, k, sizeof(*tmp), cmp_u32);
		/* one owner may list overlapping ranges of its own */
		for (size_t a = m = 0; a < k; a++)
			if (!m || tmp[m - 1] != tmp[a])
				tmp[m++] = tmp[a];
		k = m;
		if (!k)
			continue;
		/* the piece before ends where this one starts: extend it */
		if (ns && seg[ns - 1].proto == b[i].proto && seg[ns - 1].hi + 1u == b[i].port &&
		    same_owners(&seg[ns - 1], tmp, k)) {
			seg[ns - 1].hi = b[i + 1].port - 1;
			continue;
		}
		if (ns == cap) {
			struct segment *p = realloc(seg, (cap = 2 * cap + 4) * sizeof(*p));

			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			seg = p;
		}
		seg[ns].owners = malloc(k * sizeof(*tmp));
		if (!seg[ns].owners) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(seg[ns].owners, tmp, k * sizeof(*tmp));
		seg[ns].n_owners = k;
		seg[ns].proto = b[i].proto;
		seg[ns].lo = b[i].port;
		seg[ns].hi = b[i + 1].port - 1;
		ns++;
	}
	*ret = seg;
	*ret_n = ns;
	seg = NULL;
	ns = 0;
out:
	segment_free(seg, ns);
	free(b);
	free(v);
	free(act);
	free(tmp);
	return r;
}

void segment_free(struct segment *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].owners);
	free(s);
}
