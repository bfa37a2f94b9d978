/*
 * The batches that find out what the kernel can do (lib/nft/kcaps.h): one per
 * facility, on a table of a name of its own, each meant to be sent
 * without BATCH_END so that the kernel checks it and throws it away. A
 * batch that the kernel acks without an error means the facility is there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <string.h>

#include "kprobe.h"
#include "nftobj.h"

static void put_table(struct nlbatch *b, uint16_t type, const char *table, uint32_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t) {
		b->oom = 1;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, flags);
	nlh = nftobj_begin_msg(b, type);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		nlbatch_commit(b, nlh, type == NFT_MSG_NEWTABLE ? "probe: create table" : "probe: destroy table");
	}
	nftnl_table_free(t);
}

/* set s { type ipv4_addr; flags timeout; }, and a DESTROY of an element it does not hold */
static void put_set_destroy(struct nlbatch *b, const char *table)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	struct nlmsghdr *nlh;
	uint32_t key = htonl(0xc0000201);

	if (!s || !e) {
		b->oom = 1;
		goto out;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "s");
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nlh = nftobj_begin_msg(b, NFT_MSG_NEWSET);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		nlbatch_commit(b, nlh, "probe: create set");
	}
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof(key));
	nftnl_set_elem_add(s, e);
	e = NULL;
	nlh = nftobj_begin_msg(b, NFTOBJ_MSG_DESTROYSETELEM);
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nlbatch_commit(b, nlh, "probe: destroy element");
	}
out:
	if (e)
		nftnl_set_elem_free(e);
	if (s)
		nftnl_set_free(s);
}

/* chain c { type filter hook forward priority 0; } with `fib saddr . iif oif missing` */
static void put_fib_forward(struct nlbatch *b, const char *table)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *fib = nftnl_expr_alloc("fib"), *cmp = nftnl_expr_alloc("cmp");
	struct nlmsghdr *nlh;
	uint32_t zero = 0;

	if (!c || !r || !fib || !cmp) {
		b->oom = 1;
		goto out;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "c");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nftobj_begin_msg(b, NFT_MSG_NEWCHAIN);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nlbatch_commit(b, nlh, "probe: create chain");
	}
	nftnl_expr_set_u32(fib, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR | NFTA_FIB_F_IIF | NFTA_FIB_F_PRESENT);
	nftnl_expr_set_u32(fib, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_OIF);
	nftnl_expr_set_u32(fib, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, fib);
	fib = NULL;
	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, &zero, sizeof(zero));
	nftnl_rule_add_expr(r, cmp);
	cmp = NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "c");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nlh = nftobj_begin_msg(b, NFT_MSG_NEWRULE);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nlbatch_commit(b, nlh, "probe: add fib rule");
	}
out:
	if (fib)
		nftnl_expr_free(fib);
	if (cmp)
		nftnl_expr_free(cmp);
	if (r)
		nftnl_rule_free(r);
	if (c)
		nftnl_chain_free(c);
}

int kprobe_batch(struct nlbatch *b, enum kcap c, const char *table)
{
	switch (c) {
	case KCAP_DESTROY:
		put_table(b, NFTOBJ_MSG_DESTROYTABLE, table, 0);
		put_table(b, NFT_MSG_NEWTABLE, table, 0);
		put_set_destroy(b, table);
		break;
	case KCAP_OWNER:
		put_table(b, NFT_MSG_NEWTABLE, table, NFTOBJ_TABLE_F_OWNER);
		break;
	case KCAP_PERSIST:
		put_table(b, NFT_MSG_NEWTABLE, table, NFTOBJ_TABLE_F_OWNER | NFTOBJ_TABLE_F_PERSIST);
		break;
	case KCAP_FIB_FORWARD:
		put_table(b, NFT_MSG_NEWTABLE, table, 0);
		put_fib_forward(b, table);
		break;
	default:
		return -EINVAL;	/* found out by the table itself (see daemon/table.c) */
	}
	return b->oom ? -ENOMEM : 0;
}
