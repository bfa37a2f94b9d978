/*
 * The firewall check; see fwcheck.h.
 */
#include <netinet/in.h>	/* before the kernel headers, which would redefine in_addr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "fwcheck.h"
#include "nftobj.h"

void fwcheck_add_chain(struct fwcheck *fc, const struct nftnl_chain *c)
{
	const char *table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	uint32_t family = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	struct fwcheck_chain *v;

	if (!table || !name || !nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) ||
	    !nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY))
		return;
	if (nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) != NF_INET_FORWARD ||
	    nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) != NF_DROP)
		return;
	if (family == NFPROTO_INET && !strcmp(table, NFTOBJ_TABLE))
		return;
	if (family != NFPROTO_INET && family != NFPROTO_IPV4 && family != NFPROTO_IPV6)
		return;
	v = realloc(fc->v, (fc->n + 1) * sizeof(*v));
	if (!v)
		return;
	fc->v = v;
	v = &fc->v[fc->n++];
	memset(v, 0, sizeof(*v));
	v->family = family;
	snprintf(v->table, sizeof(v->table), "%s", table);
	snprintf(v->name, sizeof(v->name), "%s", name);
}

void fwcheck_add_rule(struct fwcheck *fc, const struct nftnl_rule *r)
{
	const char *table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
	const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	uint32_t family = nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
	bool ct_status = false, mark = false, accept = false;
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;

	if (!table || !chain)
		return;
	it = nftnl_expr_iter_create(r);
	if (!it)
		return;
	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (!strcmp(name, "ct") && nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG) &&
		    nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_STATUS)
			ct_status = true;
		else if (!strcmp(name, "meta") && nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG) &&
			 nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_MARK)
			mark = true;
		else if (!strcmp(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT) &&
			 (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NF_ACCEPT)
			accept = true;
	}
	nftnl_expr_iter_destroy(it);
	if (!accept)
		return;
	for (size_t i = 0; i < fc->n; i++) {
		struct fwcheck_chain *c = &fc->v[i];

		if (c->family != (int)family || strcmp(c->table, table) || strcmp(c->name, chain))
			continue;
		c->dnat_ok |= ct_status;
		c->mark_ok |= mark;
	}
}

static const char *family_name(int f)
{
	return f == NFPROTO_INET ? "inet" : f == NFPROTO_IPV4 ? "ip" : "ip6";
}

int fwcheck_report(const struct fwcheck *fc, uint32_t mark, uint32_t mask, struct dynbuf *out)
{
	int n = 0;

	for (size_t i = 0; i < fc->n; i++) {
		const struct fwcheck_chain *c = &fc->v[i];

		if (c->family != NFPROTO_IPV6 && !c->dnat_ok) {
			dynbuf_printf(out, "warning: table %s %s, chain %s drops forwarded packets by "
				      "default and has no 'ct status dnat accept': IPv4 forwardings may "
				      "be dropped\n", family_name(c->family), c->table, c->name);
			n++;
		}
		if (c->family != NFPROTO_IPV4 && !c->mark_ok) {
			dynbuf_printf(out, "warning: table %s %s, chain %s drops forwarded packets by "
				      "default and has no 'meta mark and 0x%x == 0x%x accept': IPv6 "
				      "pinholes may be dropped\n", family_name(c->family), c->table,
				      c->name, mask, mark);
			n++;
		}
	}
	return n;
}

void fwcheck_free(struct fwcheck *fc)
{
	free(fc->v);
	fc->v = NULL;
	fc->n = 0;
}
