/*
 * The trigger index; see trigindex.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trigindex.h"

static int cmp_entry(const void *a, const void *b)
{
	const struct trigindex_entry *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->lo - y->lo;
}

int trigindex_build(const struct config *cfg, struct trigindex *ret)
{
	struct trigindex_entry *v;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < cfg->n_rules; i++)
		n += cfg->rules[i]->n_triggers;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct rule *r = cfg->rules[i];

		for (size_t t = 0; rule_enabled(r) && t < r->n_triggers; t++)
			v[k++] = (struct trigindex_entry){
				.proto = r->triggers[t].proto, .lo = r->triggers[t].lo,
				.hi = r->triggers[t].hi, .rule = r, .rule_index = i };
	}
	qsort(v, k, sizeof(*v), cmp_entry);
	for (size_t i = 0; i < k; i++) {
		v[i].max_hi = v[i].hi;
		if (i && v[i - 1].proto == v[i].proto && v[i - 1].max_hi > v[i].max_hi)
			v[i].max_hi = v[i - 1].max_hi;
	}
	ret->v = v;
	ret->n = k;
	return 0;
}

void trigindex_free(struct trigindex *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}

size_t trigindex_end(const struct trigindex *x, uint8_t proto, uint16_t port)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct trigindex_entry *t = &x->v[mid];

		if (t->proto < proto || (t->proto == proto && t->lo <= port))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
