/*
 * ipautofwctl trace: a chain at the first priority that sees conntrack's
 * verdict (raw, -300, comes before it) marks, for the kernel's trace, the
 * new connections of one host and the new inbound connections on the
 * rules' forward ports. The kernel keeps it bounded by itself: each rule
 * marks at most NFTTRACE_RATE packets a second, and the host's and the
 * families' elements time out, so a daemon that dies mid-trace leaves
 * nothing that still marks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "nftdefs.h"
#include "nftelem.h"
#include "nftstmt.h"
#include "nfttrace.h"
#include "rules/config.h"

enum { TR_HOST4, TR_HOST6, TR_ON, TR_FWD, TR__N };

static const struct {
	const char *name;
	uint32_t key_type;
	uint8_t key_len;
	bool interval;
} tracesets[TR__N] = {
	[TR_HOST4] = { "trace4", TYPE_IPADDR, 4, false },
	[TR_HOST6] = { "trace6", TYPE_IP6ADDR, 16, false },
	[TR_ON] = { "traceon", TYPE_NFPROTO, 1, false },
	[TR_FWD] = { "tracefwd", (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE, 8, true },
};

static const struct chaindef trace_chain = { "trace", "filter", NF_INET_PRE_ROUTING, -199 };

/* set ids of this transaction, apart from the skeleton's */
#define TRACE_SET_ID(i) (0x7000 + (i))

static int trace_set(struct nlbatch *b, int i)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	static const uint8_t fields[2] = { 1, 2 };

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, tracesets[i].name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, TRACE_SET_ID(i));
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, tracesets[i].interval ? NFT_SET_INTERVAL | NFT_SET_CONCAT :
			  NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, tracesets[i].key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, tracesets[i].key_len);
	if (tracesets[i].interval)
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, 2);
	nlh = nftobj_begin_msg(b, NFT_MSG_NEWSET);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		nlbatch_commit(b, nlh, "create trace set");
	}
	nftnl_set_free(s);
	return b->oom ? -ENOMEM : 0;
}

static void st_trace_mark(struct nftstmt *b)
{
	struct nftnl_expr *e = nftstmt_limit(b, NFTTRACE_RATE, NFTTRACE_RATE, false);
	uint8_t one = 1;

	nftstmt_add(b, e);
	nftstmt_say(b, "meta nftrace set 1");
	e = nftstmt_expr(b, "immediate");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &one, 1);
		nftstmt_add(b, e);
	}
	nftstmt_meta_set(b, NFT_META_NFTRACE, NFT_REG_1);
}

/* 0: the host's new connections (IPv4), 1: IPv6, 2: new inbound ones on forward ports */
static int trace_rule(struct nlbatch *b, int which)
{
	struct nftstmt rb;
	int r = nftstmt_begin(&rb, b, trace_chain.name);

	if (r < 0)
		return r;
	nftstmt_ct_new(&rb);
	if (which < 2) {
		nftstmt_need_nfproto(&rb, which == 1);
		nftstmt_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, which ? 8 : 12, which ? 16 : 4, NFT_REG_1);
		nftstmt_lookup_id(&rb, NFT_REG_1, tracesets[which].name, TRACE_SET_ID(which), false, -1);
	} else {
		nftstmt_wanif(&rb, false, false);
		nftstmt_meta_load(&rb, NFT_META_NFPROTO, NFT_REG_1);
		nftstmt_lookup_id(&rb, NFT_REG_1, tracesets[TR_ON].name, TRACE_SET_ID(TR_ON), false, -1);
		nftstmt_proto_port(&rb, NFT_REG_1, NFT_REG32_01);
		nftstmt_lookup_id(&rb, NFT_REG_1, tracesets[TR_FWD].name, TRACE_SET_ID(TR_FWD), false, -1);
	}
	st_trace_mark(&rb);
	return nftstmt_end(&rb, "add trace rule");
}

static int trace_elems(struct nlbatch *b, int i, const struct nftelem *e, size_t n)
{
	struct nftobj_setref s = { .key_len = tracesets[i].key_len };

	snprintf(s.name, sizeof(s.name), "%s", tracesets[i].name);
	return nftelem_write(b, NFT_MSG_NEWSETELEM, &s, e, n);
}

int nfttrace_add(struct nlbatch *b, int af, const union inaddr *host, const struct config *cfg,
		 uint32_t secs)
{
	struct nftelem host_e = { .timeout_ms = (uint64_t)secs * 1000 }, on[2];
	struct nftelem *fwd = NULL;
	struct portrange *all = NULL;
	size_t n_all = 0, n_fwd = 0;
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;
	int r = 0;

	for (int i = 0; i < TR__N && r == 0; i++)
		r = trace_set(b, i);
	c = r ? NULL : nftobj_chain_object(&trace_chain);
	if (!r && !c)
		r = -ENOMEM;
	if (c) {
		nlh = nftobj_begin_msg(b, NFT_MSG_NEWCHAIN);
		if (nlh) {
			nftnl_chain_nlmsg_build_payload(nlh, c);
			nlbatch_commit(b, nlh, "create chain trace");
		}
		nftnl_chain_free(c);
	}
	for (int i = 0; i < 3 && r == 0; i++)
		r = trace_rule(b, i);
	if (r)
		return r;
	memcpy(host_e.key, host, af == AF_INET ? 4 : 16);
	memset(on, 0, sizeof(on));
	on[0].key[0] = NFPROTO_IPV4;
	on[1].key[0] = NFPROTO_IPV6;
	on[0].timeout_ms = on[1].timeout_ms = host_e.timeout_ms;
	r = trace_elems(b, af == AF_INET ? TR_HOST4 : TR_HOST6, &host_e, 1);
	if (r == 0)
		r = trace_elems(b, TR_ON, on, 2);
	for (size_t i = 0; cfg && i < cfg->n_rules && r == 0; i++) {
		const struct rule *q = cfg->rules[i];
		struct portrange *v = realloc(all, (n_all + q->n_forwards + 1) * sizeof(*v));

		if (!v) {
			r = -ENOMEM;
			break;
		}
		all = v;
		memcpy(all + n_all, q->forwards, q->n_forwards * sizeof(*v));
		n_all += q->n_forwards;
	}
	if (r == 0 && n_all)
		r = nftelem_portranges(all, n_all, &fwd, &n_fwd);
	if (r == 0 && n_fwd)
		r = trace_elems(b, TR_FWD, fwd, n_fwd);
	free(all);
	free(fwd);
	return r ? r : b->oom ? -ENOMEM : 0;
}

int nfttrace_del(struct nlbatch *b)
{
	struct nftnl_chain *c = nftobj_chain_object(&trace_chain);
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	nlh = nftobj_begin_msg(b, NFT_MSG_DELCHAIN);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nlbatch_commit(b, nlh, "delete chain trace");
	}
	nftnl_chain_free(c);
	for (int i = 0; i < TR__N; i++) {
		struct nftnl_set *s = nftnl_set_alloc();

		if (!s)
			return -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, tracesets[i].name);
		nlh = nftobj_begin_msg(b, NFT_MSG_DELSET);
		if (nlh) {
			nftnl_set_nlmsg_build_payload(nlh, s);
			nlbatch_commit(b, nlh, "delete trace set");
		}
		nftnl_set_free(s);
	}
	return b->oom ? -ENOMEM : 0;
}
