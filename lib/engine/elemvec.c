/*
 * Elements by set; see elemvec.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elemvec.h"
#include "fwelem.h"

struct elemvec *elemvec_for(struct elemvecs *vs, const struct nftobj_setref *set, size_t k)
{
	struct elemvec *ev = NULL;

	for (size_t i = 0; i < vs->n && !ev; i++)
		if (!strcmp(vs->v[i].set.name, set->name))
			ev = &vs->v[i];
	if (!ev) {
		struct elemvec *v = realloc(vs->v, (vs->n + 1) * sizeof(*v));

		if (!v)
			return NULL;
		vs->v = v;
		ev = memset(&v[vs->n++], 0, sizeof(*ev));
		ev->set = *set;
	}
	if (ev->n + k > ev->cap) {
		size_t cap = ev->cap ? ev->cap : 8;
		struct nftelem *p;

		while (cap < ev->n + k)
			cap *= 2;
		p = realloc(ev->v, cap * sizeof(*p));
		if (!p)
			return NULL;
		ev->v = p;
		ev->cap = cap;
	}
	return ev;
}

int elemvec_add_fwd(struct elemvecs *vs, const struct fwd *f, uint64_t expiration_ms)
{
	struct fwelem stack[4], *out = stack;
	size_t n, max = FWELEM_MAX(f->rule);
	int r = 0;

	if (max > ARRAY_SIZE(stack) && !(out = malloc(max * sizeof(*out))))
		return -ENOMEM;
	n = fwelem_build(f, expiration_ms, out);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct elemvec *ev = elemvec_for(vs, &out[i].set, 1);

		if (ev)
			ev->v[ev->n++] = out[i].e;
		else
			r = -ENOMEM;
	}
	if (out != stack)
		free(out);
	return r;
}

int elemvec_write(struct nlbatch *b, uint16_t type, const struct elemvecs *vs)
{
	int r = 0;

	for (size_t i = 0; i < vs->n && r == 0; i++)
		if (vs->v[i].n)
			r = nftelem_write(b, type, &vs->v[i].set, vs->v[i].v, vs->v[i].n);
	return r;
}

int elemvec_remove(struct nlbatch *b, bool destroy, struct elemvecs *vs)
{
	int r = 0;

	for (size_t i = 0; i < vs->n && r == 0; i++)
		r = nftelem_remove(b, destroy, &vs->v[i].set, vs->v[i].v, vs->v[i].n);
	return r;
}

void elemvec_clear(struct elemvecs *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		vs->v[i].n = 0;
}

void elemvec_free(struct elemvecs *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		free(vs->v[i].v);
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}
