/*
 * The firewall check proper: which packets to try on which chains, and
 * what is worth telling. Each forward-hook base chain outside our table
 * gets, per family, one packet per forward range of each rule (or one for
 * any port when there are no rules), run by fweval; a sure drop with no
 * possible accept before it is a warning, and so is, without
 * pinhole-guard, an IPv6 forward range open to every host while a free
 * port is dropped. One warning per chain and kind; further rules count in
 * .more. See fwcheck.h.
 */
#include <netinet/in.h>	/* before the kernel headers, which would redefine in_addr */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>

#include "fwcheck.h"
#include "fweval.h"

struct warnings {
	struct fwcheck_warning *v;
	size_t n;
	bool oom;
};

static struct fwcheck_warning *warn(struct warnings *w, const struct fwruleset_chain *c,
				    enum fwcheck_warning_kind kind)
{
	struct fwcheck_warning *v;

	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].kind == kind && w->v[i].family == c->family &&
		    !strcmp(w->v[i].table, c->table) && !strcmp(w->v[i].chain, c->name)) {
			w->v[i].more++;
			return NULL;
		}
	v = realloc(w->v, (w->n + 1) * sizeof(*v));
	if (!v) {
		w->oom = true;
		return NULL;
	}
	w->v = v;
	v = &w->v[w->n++];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->family = c->family;
	snprintf(v->table, sizeof(v->table), "%s", c->table);
	snprintf(v->chain, sizeof(v->chain), "%s", c->name);
	v->prio = c->prio;
	return v;
}

static void note(struct fwcheck_warning *v, const struct rule *r, const struct fweval_pkt *p)
{
	if (!v)
		return;
	v->rule = r ? r->name : NULL;
	v->proto = p->l4;
	v->lo = p->lo;
	v->hi = p->hi;
}

/* A port of PROTO that no rule forwards (for either family), or 0. */
static uint16_t free_port(const struct fwcheck_env *env, uint8_t proto)
{
	for (uint32_t port = 1; port <= 65535; port++) {
		bool used = false;

		for (size_t i = 0; i < env->n_rules && !used; i++) {
			const struct rule *r = env->rules[i];

			for (size_t k = 0; k < r->n_forwards && !used; k++)
				used = r->forwards[k].proto == proto && r->forwards[k].lo <= port &&
				       port <= r->forwards[k].hi;
		}
		if (!used)
			return (uint16_t)port;
	}
	return 0;
}

static bool rule_has(const struct rule *r, int af)
{
	if (r->is_static)
		return r->to_af == af;
	return r->family & (af == AF_INET ? RULE_FAMILY_IPV4 : RULE_FAMILY_IPV6);
}

/* Where the check runs out of memory, its result is void. */
static int fate(struct warnings *w, const struct fwruleset *rs, const struct fwruleset_chain *c,
		const struct fweval_pkt *p, bool *ret_maybe_accept)
{
	int r = fweval_chain(rs, c, p, ret_maybe_accept);

	if (r < 0)
		w->oom = true;
	return r;
}

/* Forward range F of rule NAMED (NULL: any forwarding) in family NFPROTO, through C. */
static void check_range(const struct fwruleset *rs, const struct fwcheck_env *env,
			const struct fwruleset_chain *c, int nfproto, const struct rule *named,
			const struct portrange *f, struct warnings *w)
{
	bool v6 = nfproto == NFPROTO_IPV6, maybe;
	struct fweval_pkt p = {
		.nfproto = nfproto, .l4 = f->proto, .lo = f->lo, .hi = f->hi,
		.dnat = !v6, .mark = v6 ? env->mark : 0, .mark_mask = env->mark_mask,
		.wan = env->wan, .lan = env->lan,
	};
	struct fweval_pkt other;

	if (fate(w, rs, c, &p, &maybe) == FWEVAL_FATE_DROP && !maybe)
		note(warn(w, c, v6 ? FWCHECK_DROPS_IPV6 : FWCHECK_DROPS_IPV4), named, &p);
	if (!v6 || env->guard || !named)
		return;
	/* open to every host for sure, while other ports are dropped */
	p.mark = 0;
	if (fate(w, rs, c, &p, &maybe) != FWEVAL_FATE_ACCEPT || maybe)
		return;
	other = p;
	other.lo = other.hi = free_port(env, f->proto);
	if (other.lo && fate(w, rs, c, &other, &maybe) == FWEVAL_FATE_DROP)
		note(warn(w, c, FWCHECK_OPEN_IPV6), named, &p);
}

static void check_chain(const struct fwruleset *rs, const struct fwcheck_env *env,
			const struct fwruleset_chain *c, struct warnings *w)
{
	static const struct portrange any = { .lo = 1, .hi = 65535 };

	for (int v6 = 0; v6 <= 1; v6++) {
		int nfproto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;

		if (c->family != NFPROTO_INET && c->family != nfproto)
			continue;
		if (!env->n_rules)
			check_range(rs, env, c, nfproto, NULL, &any, w);
		for (size_t i = 0; i < env->n_rules; i++) {
			const struct rule *r = env->rules[i];

			if (!rule_has(r, v6 ? AF_INET6 : AF_INET))
				continue;
			for (size_t k = 0; k < r->n_forwards; k++)
				check_range(rs, env, c, nfproto, r, &r->forwards[k], w);
		}
	}
}

int fwcheck_run(const struct fwruleset *rs, const struct fwcheck_env *env,
		struct fwcheck_warning **ret)
{
	struct warnings w = { 0 };

	*ret = NULL;
	for (size_t i = 0; i < rs->n_chains; i++) {
		const struct fwruleset_chain *c = &rs->chains[i];

		if (!fwruleset_chain_checked(c, env->own_table))
			continue;
		if (c->prio == INT32_MAX || c->prio == INT32_MIN)
			warn(&w, c, FWCHECK_SAME_PRIO);
		check_chain(rs, env, c, &w);
	}
	if (w.oom || rs->oom) {
		free(w.v);
		return -ENOMEM;
	}
	*ret = w.v;
	return (int)w.n;
}

static const char *family_name(int f)
{
	return f == NFPROTO_INET ? "inet" : f == NFPROTO_IPV4 ? "ip" : "ip6";
}

int fwcheck_warning_format(const struct fwcheck_warning *w, const struct fwcheck_env *env,
			   char *buf, size_t size)
{
	char what[96], more[32] = "";

	if (w->more)
		snprintf(more, sizeof(more), ", and %u more", w->more);
	if (w->rule && w->lo == w->hi)
		snprintf(what, sizeof(what), "rule %s, %u/%s%s", w->rule, w->lo,
			 w->proto == IPPROTO_TCP ? "tcp" : "udp", more);
	else if (w->rule)
		snprintf(what, sizeof(what), "rule %s, %u-%u/%s%s", w->rule, w->lo, w->hi,
			 w->proto == IPPROTO_TCP ? "tcp" : "udp", more);
	else
		snprintf(what, sizeof(what), "any forward port");
	switch (w->kind) {
	case FWCHECK_DROPS_IPV4:
		return snprintf(buf, size, "table %s %s, chain %s drops IPv4 forwardings (%s): "
				"accept them with 'ct status dnat accept' before the drop",
				family_name(w->family), w->table, w->chain, what);
	case FWCHECK_DROPS_IPV6:
		return snprintf(buf, size, "table %s %s, chain %s drops IPv6 pinholes (%s): accept "
				"them with 'meta mark and 0x%x == 0x%x accept' before the drop",
				family_name(w->family), w->table, w->chain, what, env->mark_mask,
				env->mark);
	case FWCHECK_OPEN_IPV6:
		return snprintf(buf, size, "table %s %s, chain %s lets new IPv6 connections to the "
				"forward ports (%s) through to every LAN host, not only to "
				"pinholes: set 'pinhole-guard on'",
				family_name(w->family), w->table, w->chain, what);
	case FWCHECK_SAME_PRIO:
		return snprintf(buf, size, "table %s %s, chain %s has priority %d, like ipautofw's "
				"%s chain: which of the two runs first depends on which was "
				"loaded last", family_name(w->family), w->table, w->chain, w->prio,
				w->prio == INT32_MAX ? "trigger" : "pinhole");
	}
	return snprintf(buf, size, "?");
}
