/*
 * The engine's read-only views; see view.h. Pointers into the engine are
 * handed out const: whoever holds one reads what the engine decided and
 * changes nothing of it.
 */
#include <errno.h>
#include <stdlib.h>

#include "nft/nftobj.h"
#include "view.h"

const struct config *view_config(const struct engine *e)
{
	return e->cfg;
}

const struct rule *view_find_rule(const struct engine *e, const char *name)
{
	return e->cfg ? config_find_rule(e->cfg, name) : NULL;
}

const struct engine_stats *view_stats(const struct engine *e)
{
	return &e->stats;
}

const struct fwtable *view_table(const struct engine *e)
{
	return &e->fwt;
}

const struct kcaps *view_caps(const struct engine *e)
{
	return &e->caps;
}

bool view_kernel_path(const struct engine *e)
{
	return e->kernel_triggers;
}

int view_fwcheck_env(const struct engine *e, struct iflist *wan, struct fwcheck_env *ret)
{
	const struct config *cfg = e->cfg;
	int r;

	if (!cfg)
		return 0;
	r = engine_all_wan(e, wan);
	if (r < 0)
		return r;
	*ret = (struct fwcheck_env){
		.mark = cfg->pinhole_mark,
		.mark_mask = cfg->pinhole_mask,
		.guard = cfg->pinhole_guard,
		.wan = wan,
		.lan = cfg->has_lan ? &cfg->lan : NULL,
		.rules = (const struct rule *const *)cfg->rules,
		.n_rules = cfg->n_rules,
		.own_table = NFTOBJ_TABLE,
	};
	return 1;
}

struct rule_idx {
	const struct rule *r;
	size_t i;
};

static int cmp_rule_idx(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct rule_idx *)a)->r;
	uintptr_t y = (uintptr_t)((const struct rule_idx *)b)->r;

	return x < y ? -1 : x > y;
}

struct fwd_count {
	struct rule_idx *idx;
	size_t n;
	uint64_t (*count)[2];
};

/* (a forwarding's rule is found by address: a table of the rules sorted by it) */
static void count_fwd(struct fwd *f, void *data)
{
	struct fwd_count *c = data;
	struct rule_idx key = { .r = f->rule }, *hit;

	hit = bsearch(&key, c->idx, c->n, sizeof(key), cmp_rule_idx);
	if (hit)
		c->count[hit->i][f->af == AF_INET6]++;
}

int view_rule_forwardings(const struct engine *e, uint64_t (*ret)[2])
{
	size_t n = engine_n_rules(e);
	struct fwd_count c = { .n = n, .count = ret };

	if (!n)
		return 0;
	c.idx = calloc(n, sizeof(*c.idx));
	if (!c.idx)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c.idx[i] = (struct rule_idx){ e->cfg->rules[i], i };
		ret[i][0] = ret[i][1] = 0;
	}
	qsort(c.idx, n, sizeof(*c.idx), cmp_rule_idx);
	fwtable_foreach(&e->fwt, count_fwd, &c);
	free(c.idx);
	return 0;
}
