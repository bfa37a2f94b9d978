/*
 * The administrator's ruleset as the firewall check holds it: growing the
 * model one chain, rule, condition, set and element at a time, and the
 * questions asked of it before it is complete (which chains are checked,
 * which sets' elements the check needs). See fwruleset.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>

#include "fwruleset.h"

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, FWRULESET_NAME_MAX, "%s", src ? src : "");
}

struct fwruleset_chain *fwruleset_chain_find(const struct fwruleset *rs, int family,
					     const char *table, const char *name)
{
	for (size_t i = 0; i < rs->n_chains; i++) {
		struct fwruleset_chain *c = &rs->chains[i];

		if (c->family == family && !strcmp(c->table, table) && !strcmp(c->name, name))
			return c;
	}
	return NULL;
}

struct fwruleset_chain *fwruleset_chain_add(struct fwruleset *rs, int family, const char *table,
					    const char *name)
{
	struct fwruleset_chain *v = realloc(rs->chains, (rs->n_chains + 1) * sizeof(*v));

	if (!v) {
		rs->oom = 1;
		return NULL;
	}
	rs->chains = v;
	v = &rs->chains[rs->n_chains++];
	memset(v, 0, sizeof(*v));
	v->family = family;
	copy_name(v->table, table);
	copy_name(v->name, name);
	return v;
}

struct fwruleset_rule *fwruleset_rule_add(struct fwruleset_chain *c)
{
	struct fwruleset_rule *v = realloc(c->rules, (c->n_rules + 1) * sizeof(*v));

	if (!v)
		return NULL;
	c->rules = v;
	v = &c->rules[c->n_rules++];
	memset(v, 0, sizeof(*v));
	return v;
}

int fwruleset_cond_add(struct fwruleset_rule *r, const struct fwruleset_cond *cond)
{
	struct fwruleset_cond *v = realloc(r->conds, (r->n_conds + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->conds = v;
	r->conds[r->n_conds++] = *cond;
	return 0;
}

int fwruleset_set_find(const struct fwruleset *rs, int family, const char *table,
		       const char *name)
{
	for (size_t i = 0; i < rs->n_sets; i++) {
		const struct fwruleset_set *v = &rs->sets[i];

		if (v->family == family && !strcmp(v->table, table) && !strcmp(v->name, name))
			return (int)i;
	}
	return -ENOENT;
}

int fwruleset_set_ref(struct fwruleset *rs, int family, const char *table, const char *name)
{
	struct fwruleset_set *v;
	int i = fwruleset_set_find(rs, family, table, name);

	if (i >= 0)
		return i;
	v = realloc(rs->sets, (rs->n_sets + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rs->sets = v;
	v = &rs->sets[rs->n_sets];
	memset(v, 0, sizeof(*v));
	v->family = family;
	copy_name(v->table, table);
	copy_name(v->name, name);
	return (int)rs->n_sets++;
}

int fwruleset_elem_add(struct fwruleset *rs, int set, const struct fwruleset_elem *e)
{
	struct fwruleset_set *s = &rs->sets[set];
	struct fwruleset_elem *v = realloc(s->elems, (s->n_elems + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->elems = v;
	s->elems[s->n_elems++] = *e;
	s->has_elems = true;
	return 0;
}

void fwruleset_free(struct fwruleset *rs)
{
	for (size_t i = 0; i < rs->n_chains; i++) {
		for (size_t k = 0; k < rs->chains[i].n_rules; k++)
			free(rs->chains[i].rules[k].conds);
		free(rs->chains[i].rules);
	}
	for (size_t i = 0; i < rs->n_sets; i++)
		free(rs->sets[i].elems);
	free(rs->chains);
	free(rs->sets);
	memset(rs, 0, sizeof(*rs));
}

size_t fwruleset_key_len(enum fwruleset_key k)
{
	switch (k) {
	case FWRULESET_KEY_NFPROTO:
	case FWRULESET_KEY_L4PROTO:
		return 1;
	case FWRULESET_KEY_DPORT:
		return 2;
	case FWRULESET_KEY_CTSTATE:
	case FWRULESET_KEY_CTSTATUS:
	case FWRULESET_KEY_MARK:
		return 4;
	case FWRULESET_KEY_IIFNAME:
	case FWRULESET_KEY_OIFNAME:
		return 16;
	default:
		return 0;
	}
}

uint32_t fwruleset_key_value(enum fwruleset_key k, const uint8_t *p)
{
	uint32_t v;

	switch (k) {
	case FWRULESET_KEY_NFPROTO:
	case FWRULESET_KEY_L4PROTO:
		return p[0];
	case FWRULESET_KEY_DPORT:
		return (uint32_t)p[0] << 8 | p[1];
	default:
		memcpy(&v, p, 4);
		return v;
	}
}

bool fwruleset_chain_checked(const struct fwruleset_chain *c, const char *own_table)
{
	if (!c->base || c->hook != NF_INET_FORWARD)
		return false;
	return !(c->family == NFPROTO_INET && own_table && !strcmp(c->table, own_table));
}

static void reach(const struct fwruleset *rs, const struct fwruleset_chain *c, bool *seen,
		  bool *wanted)
{
	size_t ci = (size_t)(c - rs->chains);

	if (seen[ci])
		return;
	seen[ci] = true;
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct fwruleset_rule *r = &c->rules[i];
		const struct fwruleset_chain *t;

		for (size_t k = 0; k < r->n_conds; k++)
			if (r->conds[k].op == FWRULESET_OP_IN || r->conds[k].op == FWRULESET_OP_NOT_IN)
				wanted[r->conds[k].set] = true;
		if (r->verdict == FWRULESET_VERDICT_JUMP || r->verdict == FWRULESET_VERDICT_GOTO) {
			t = fwruleset_chain_find(rs, c->family, c->table, r->target);
			if (t)
				reach(rs, t, seen, wanted);
		} else if (r->verdict == FWRULESET_VERDICT_VMAP) {
			const struct fwruleset_set *s = &rs->sets[r->vmap.set];

			wanted[r->vmap.set] = true;
			for (size_t k = 0; k < s->n_elems; k++) {
				t = fwruleset_chain_find(rs, c->family, c->table, s->elems[k].target);
				if (t && (s->elems[k].verdict == FWRULESET_VERDICT_JUMP ||
					  s->elems[k].verdict == FWRULESET_VERDICT_GOTO))
					reach(rs, t, seen, wanted);
			}
		}
	}
}

int fwruleset_sets_wanted(const struct fwruleset *rs, const char *own_table, bool *wanted)
{
	bool *seen = calloc(rs->n_chains ? rs->n_chains : 1, sizeof(*seen));

	if (!seen)
		return -ENOMEM;
	memset(wanted, 0, rs->n_sets * sizeof(*wanted));
	for (size_t i = 0; i < rs->n_chains; i++)
		if (fwruleset_chain_checked(&rs->chains[i], own_table))
			reach(rs, &rs->chains[i], seen, wanted);
	free(seen);
	return 0;
}
