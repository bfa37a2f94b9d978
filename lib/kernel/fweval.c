/*
 * The three-valued run of a chain for one kind of forwarded connection;
 * see fweval.h. A tri is NO < MAYBE < YES, so a rule's conditions combine
 * by their minimum. Verdicts met under MAYBE leave a mark in the run
 * (maybe_accept) for the check to weigh.
 */
#include <netinet/in.h>	/* before the kernel headers, which would redefine in_addr */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <linux/netfilter/nf_conntrack_common.h>

#include "fweval.h"

enum tri { NO, MAYBE, YES };

struct run {
	const struct fwruleset *rs;
	const struct fweval_pkt *p;
	bool maybe_accept;
	const struct fwruleset_chain *stack[FWEVAL_DEPTH_MAX];
	int depth;
	bool oom;		/* a set's ranges could not be built: the run is void */
};

static enum tri tri_and(enum tri a, enum tri b)
{
	return a < b ? a : b;
}

static enum tri tri_not(enum tri a)
{
	return a == YES ? NO : a == NO ? YES : MAYBE;
}

/* Is [PLO, PHI] inside [LO, HI] (YES), outside (NO), or partly? */
static enum tri in_range(uint32_t plo, uint32_t phi, uint32_t lo, uint32_t hi)
{
	if (lo <= plo && phi <= hi)
		return YES;
	if (phi < lo || plo > hi)
		return NO;
	return MAYBE;
}

/* The packet's value of a key as candidate ranges (l4: tcp or udp). */
static size_t pkt_values(const struct fweval_pkt *p, enum fwruleset_key k, uint32_t lo[2],
			 uint32_t hi[2])
{
	switch (k) {
	case FWRULESET_KEY_NFPROTO:
		lo[0] = hi[0] = (uint32_t)p->nfproto;
		return 1;
	case FWRULESET_KEY_L4PROTO:
		if (p->l4) {
			lo[0] = hi[0] = p->l4;
			return 1;
		}
		lo[0] = hi[0] = IPPROTO_TCP;
		lo[1] = hi[1] = IPPROTO_UDP;
		return 2;
	case FWRULESET_KEY_DPORT:
		lo[0] = p->lo;
		hi[0] = p->hi;
		return 1;
	case FWRULESET_KEY_CTSTATE:
		lo[0] = hi[0] = NF_CT_STATE_BIT(IP_CT_NEW);
		return 1;
	default:
		return 0;
	}
}

/* Bits of a bitmask key the check knows, and their values. */
static void pkt_bits(const struct run *st, enum fwruleset_key k, uint32_t *known,
		     uint32_t *value)
{
	*known = *value = 0;
	if (k == FWRULESET_KEY_CTSTATUS) {
		*known = IPS_DST_NAT;
		*value = st->p->dnat ? IPS_DST_NAT : 0;
	} else if (k == FWRULESET_KEY_MARK) {
		/* nothing else sets the bits reserved for the pinhole mark */
		*known = st->p->mark_mask;
		*value = st->p->mark;
	}
}

static bool names_overlap(const char *a, bool a_prefix, const char *b, bool b_prefix)
{
	size_t la = strlen(a), lb = strlen(b);

	if (!a_prefix && !b_prefix)
		return !strcmp(a, b);
	if (a_prefix && b_prefix)
		return !strncmp(a, b, la < lb ? la : lb);
	if (a_prefix)
		return !strncmp(a, b, la);
	return !strncmp(a, b, lb);
}

static bool list_overlaps(const struct iflist *l, const char *name, bool prefix)
{
	for (size_t i = 0; l && i < l->n; i++) {
		size_t n = strlen(l->names[i]);
		char pat[IFNAME_MAX + 2];
		bool wild = n && l->names[i][n - 1] == '*';

		snprintf(pat, sizeof(pat), "%.*s", (int)(wild ? n - 1 : n), l->names[i]);
		if (names_overlap(pat, wild, name, prefix))
			return true;
	}
	return false;
}

/*
 * Interfaces are taken at their best: a name that one of the packet's
 * possible interfaces may have matches (the administrator's line for that
 * path), and "not NAME" fails only when NAME is the one interface there is.
 */
static enum tri ifname_match(const struct run *st, bool in, const char *name, bool prefix)
{
	const struct iflist *wan = st->p->wan;

	if (in)
		return list_overlaps(wan, name, prefix) ? YES : NO;
	if (st->p->lan)
		return list_overlaps(st->p->lan, name, prefix) ? YES : NO;
	if (!prefix && (!strcmp(name, "lo") || list_overlaps(wan, name, false)))
		return NO;
	return YES;
}

static enum tri ifname_cond(const struct run *st, const struct fwruleset_cond *c)
{
	bool in = c->key == FWRULESET_KEY_IIFNAME;
	const struct iflist *l = in ? st->p->wan : st->p->lan;
	enum tri t = ifname_match(st, in, c->ifname, c->prefix);

	if (c->op == FWRULESET_OP_EQ)
		return t;
	/* != NAME: false only where NAME is the one interface of the packet's side */
	if (l && l->n == 1 && !c->prefix && !strcmp(l->names[0], c->ifname))
		return NO;
	return YES;
}

/* A set element as a range of key values, with what it maps to. */
struct span {
	uint32_t lo, hi;
	bool end;		/* interval sets: closes the range before it (exclusive) */
	enum fwruleset_verdict verdict;
	const char *target;
};

static uint32_t key_max(enum fwruleset_key k)
{
	return k == FWRULESET_KEY_DPORT ? 0xffff : fwruleset_key_len(k) == 1 ? 0xff : 0xffffffff;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (int)y->end - (int)x->end;	/* an end before a start at the same key */
}

/*
 * The set's elements as ranges of KEY values. Returns how many, -EMEDIUMTYPE
 * when they cannot be read as such (other key lengths), or -ENOMEM.
 * Interval sets come as start elements and (exclusive) end elements; a
 * start without an end runs to the end of the key space.
 */
static ssize_t set_spans(const struct fwruleset_set *s, enum fwruleset_key k,
			 struct span **ret)
{
	size_t n = s->n_elems, m = 0, len = fwruleset_key_len(k);
	struct span *v = calloc(n ? n : 1, sizeof(*v)), *out;

	*ret = NULL;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct fwruleset_elem *e = &s->elems[i];

		if (e->len != len) {
			free(v);
			return -EMEDIUMTYPE;
		}
		v[i].lo = fwruleset_key_value(k, e->key);
		v[i].hi = fwruleset_key_value(k, e->key_end);
		v[i].end = s->interval && e->interval_end;
		v[i].verdict = e->verdict;
		v[i].target = e->target;
	}
	if (!s->interval) {
		*ret = v;
		return (ssize_t)n;
	}
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(v);
		return -ENOMEM;
	}
	qsort(v, n, sizeof(*v), cmp_span);
	for (size_t i = 0; i < n; i++) {
		if (v[i].end)
			continue;
		out[m] = v[i];
		if (v[i].hi == v[i].lo) {	/* not a range in one element (key_end) */
			out[m].hi = key_max(k);
			for (size_t j = i + 1; j < n; j++)
				if (v[j].end) {
					out[m].hi = v[j].lo - 1;
					break;
				}
		}
		m++;
	}
	free(v);
	*ret = out;
	return (ssize_t)m;
}

/* Does the packet's KEY, and-ed with MASK, fall in [LO, HI]? */
static enum tri value_in(const struct run *st, enum fwruleset_key k, uint32_t mask, uint32_t lo,
			 uint32_t hi)
{
	uint32_t plo[2], phi[2], known, value;
	size_t n = pkt_values(st->p, k, plo, phi);
	size_t yes = 0, no = 0;

	if (k == FWRULESET_KEY_CTSTATE) {
		value = NF_CT_STATE_BIT(IP_CT_NEW) & mask;
		return lo <= value && value <= hi ? YES : NO;
	}
	if (!n || mask != 0xffffffff) {
		/* bitmasks: decided by the bits the check knows */
		pkt_bits(st, k, &known, &value);
		if (!known || lo != hi)
			return MAYBE;
		if (!(mask & ~known))
			return (value & mask) == lo ? YES : NO;
		return (value & mask & known) != (lo & mask & known) ? NO : MAYBE;
	}
	for (size_t i = 0; i < n; i++) {
		enum tri t = in_range(plo[i], phi[i], lo, hi);

		yes += t == YES;
		no += t == NO;
	}
	return yes == n ? YES : no == n ? NO : MAYBE;
}

static enum tri set_cond(struct run *st, const struct fwruleset_cond *c)
{
	const struct fwruleset_set *s = &st->rs->sets[c->set];
	enum tri t = NO;
	struct span *v;
	ssize_t n;

	if (!s->has_elems || c->key == FWRULESET_KEY_OTHER)
		return MAYBE;
	if (c->key == FWRULESET_KEY_IIFNAME || c->key == FWRULESET_KEY_OIFNAME) {
		if (s->interval)
			return MAYBE;
		for (size_t i = 0; i < s->n_elems && t != YES; i++) {
			char name[17] = { 0 };

			memcpy(name, s->elems[i].key, s->elems[i].len < 16 ? s->elems[i].len : 16);
			t = ifname_match(st, c->key == FWRULESET_KEY_IIFNAME, name, false);
		}
	} else {
		n = set_spans(s, c->key, &v);
		if (n == -ENOMEM)
			st->oom = true;
		if (n < 0)
			return MAYBE;
		for (ssize_t i = 0; i < n && t != YES; i++) {
			enum tri u = value_in(st, c->key, c->mask, v[i].lo, v[i].hi);

			if (u > t)
				t = u;
		}
		free(v);
	}
	return c->op == FWRULESET_OP_NOT_IN ? tri_not(t) : t;
}

static enum tri cond_match(struct run *st, const struct fwruleset_cond *c)
{
	switch (c->op) {
	case FWRULESET_OP_MAYBE:
		return MAYBE;
	case FWRULESET_OP_IN:
	case FWRULESET_OP_NOT_IN:
		return set_cond(st, c);
	default:
		break;
	}
	if (c->key == FWRULESET_KEY_OTHER)
		return MAYBE;
	if (c->key == FWRULESET_KEY_IIFNAME || c->key == FWRULESET_KEY_OIFNAME)
		return ifname_cond(st, c);
	switch (c->op) {
	case FWRULESET_OP_EQ:
		return value_in(st, c->key, c->mask, c->value, c->value);
	case FWRULESET_OP_NEQ:
		return tri_not(value_in(st, c->key, c->mask, c->value, c->value));
	case FWRULESET_OP_GTE:
		return c->mask == 0xffffffff ? value_in(st, c->key, c->mask, c->value, key_max(c->key)) : MAYBE;
	case FWRULESET_OP_LTE:
		return c->mask == 0xffffffff ? value_in(st, c->key, c->mask, 0, c->value) : MAYBE;
	default:
		return MAYBE;
	}
}

static enum fweval_fate eval_chain(struct run *st, const struct fwruleset_chain *c);

/*
 * One verdict under a condition that holds (YES) or may hold (MAYBE).
 * Returns true when evaluation stops here with *RES.
 */
static bool apply(struct run *st, const struct fwruleset_chain *c, enum tri m,
		  enum fwruleset_verdict v, const char *target, enum fweval_fate *res)
{
	const struct fwruleset_chain *t;
	enum fweval_fate r;

	if (m == NO)
		return false;
	switch (v) {
	case FWRULESET_VERDICT_CONTINUE:
	case FWRULESET_VERDICT_VMAP:
		return false;
	case FWRULESET_VERDICT_ACCEPT:
	case FWRULESET_VERDICT_DROP:
	case FWRULESET_VERDICT_UNKNOWN:
		r = v == FWRULESET_VERDICT_ACCEPT ? FWEVAL_FATE_ACCEPT :
		    v == FWRULESET_VERDICT_DROP ? FWEVAL_FATE_DROP : FWEVAL_FATE_UNKNOWN;
		break;
	case FWRULESET_VERDICT_RETURN:
		if (m == YES) {
			*res = FWEVAL_FATE_CONTINUE;
			return true;
		}
		st->maybe_accept = true;	/* a caller may accept what is left */
		return false;
	case FWRULESET_VERDICT_JUMP:
	case FWRULESET_VERDICT_GOTO:
		t = fwruleset_chain_find(st->rs, c->family, c->table, target);
		for (int i = 0; t && i < st->depth; i++)
			if (st->stack[i] == t)
				t = NULL;	/* a loop: the kernel refuses them; unknown here */
		if (!t || st->depth >= FWEVAL_DEPTH_MAX) {
			r = FWEVAL_FATE_UNKNOWN;
			break;
		}
		r = eval_chain(st, t);
		if (r == FWEVAL_FATE_CONTINUE) {
			if (v == FWRULESET_VERDICT_GOTO && m == YES) {
				*res = FWEVAL_FATE_CONTINUE;
				return true;
			}
			return false;
		}
		break;
	default:
		return false;
	}
	if (m == YES) {
		*res = r;
		return true;
	}
	st->maybe_accept |= r == FWEVAL_FATE_ACCEPT || r == FWEVAL_FATE_UNKNOWN;
	return false;
}

static bool apply_vmap(struct run *st, const struct fwruleset_chain *c, enum tri m,
		       const struct fwruleset_rule *r, enum fweval_fate *res)
{
	const struct fwruleset_cond *k = &r->vmap;
	const struct fwruleset_set *s = &st->rs->sets[k->set];
	struct span *v = NULL;
	ssize_t n = -1;
	bool stop = false;

	if (s->has_elems && k->key != FWRULESET_KEY_OTHER && k->key != FWRULESET_KEY_IIFNAME &&
	    k->key != FWRULESET_KEY_OIFNAME)
		n = set_spans(s, k->key, &v);
	if (n < 0) {
		/* what it maps to is unknown, or when: every verdict may apply */
		for (size_t i = 0; i < s->n_elems && !stop; i++)
			stop = apply(st, c, tri_and(m, MAYBE), s->elems[i].verdict,
				     s->elems[i].target, res);
		if (!s->has_elems)
			st->maybe_accept = true;
		return stop;
	}
	for (ssize_t i = 0; i < n && !stop; i++)
		stop = apply(st, c, tri_and(m, value_in(st, k->key, k->mask, v[i].lo, v[i].hi)),
			     v[i].verdict, v[i].target, res);
	free(v);
	return stop;
}

static enum fweval_fate eval_chain(struct run *st, const struct fwruleset_chain *c)
{
	enum fweval_fate res = FWEVAL_FATE_CONTINUE;

	st->stack[st->depth++] = c;
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct fwruleset_rule *r = &c->rules[i];
		enum tri m = YES;
		bool stop;

		for (size_t k = 0; k < r->n_conds && m != NO; k++)
			m = tri_and(m, cond_match(st, &r->conds[k]));
		if (r->verdict == FWRULESET_VERDICT_VMAP)
			stop = apply_vmap(st, c, m, r, &res);
		else
			stop = apply(st, c, m, r->verdict, r->target, &res);
		if (stop)
			break;
	}
	st->depth--;
	return res;
}

int fweval_chain(const struct fwruleset *rs, const struct fwruleset_chain *c,
		 const struct fweval_pkt *p, bool *ret_maybe_accept)
{
	struct run st = { .rs = rs, .p = p };
	enum fweval_fate r = eval_chain(&st, c);

	if (r == FWEVAL_FATE_CONTINUE)
		r = c->policy_drop ? FWEVAL_FATE_DROP : FWEVAL_FATE_ACCEPT;
	*ret_maybe_accept = st.maybe_accept || r == FWEVAL_FATE_UNKNOWN;
	return st.oom ? -ENOMEM : (int)r;
}
