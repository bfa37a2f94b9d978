/*
 * The kernel's trace messages (NFT_MSG_TRACE) decoded; see trace.h. What
 * libnftnl's parser takes for granted is checked first: it aborts the
 * program when an attribute it expects is missing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <libnftnl/trace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);
	int r = 0;

	if (mnl_attr_type_valid(a, NFTA_TRACE_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case NFTA_TRACE_TABLE:
	case NFTA_TRACE_CHAIN:
		r = mnl_attr_validate(a, MNL_TYPE_NUL_STRING);
		break;
	case NFTA_TRACE_ID:
	case NFTA_TRACE_TYPE:
	case NFTA_TRACE_IIF:
	case NFTA_TRACE_OIF:
	case NFTA_TRACE_MARK:
	case NFTA_TRACE_NFPROTO:
	case NFTA_TRACE_POLICY:
		r = mnl_attr_validate(a, MNL_TYPE_U32);
		break;
	case NFTA_TRACE_IIFTYPE:
	case NFTA_TRACE_OIFTYPE:
		r = mnl_attr_validate(a, MNL_TYPE_U16);
		break;
	case NFTA_TRACE_RULE_HANDLE:
		r = mnl_attr_validate(a, MNL_TYPE_U64);
		break;
	case NFTA_TRACE_VERDICT:
		r = mnl_attr_validate(a, MNL_TYPE_NESTED);
		break;
	}
	if (r < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static int verdict_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFTA_VERDICT_MAX) < 0)
		return MNL_CB_OK;
	if ((type == NFTA_VERDICT_CODE && mnl_attr_validate(a, MNL_TYPE_U32) < 0) ||
	    (type == NFTA_VERDICT_CHAIN && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0))
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static bool well_formed(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NFTA_TRACE_MAX + 1] = { NULL }, *vt[NFTA_VERDICT_MAX + 1] = { NULL };
	uint32_t code;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)) ||
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0)
		return false;
	if (!tb[NFTA_TRACE_TABLE] || !tb[NFTA_TRACE_CHAIN] || !tb[NFTA_TRACE_ID] || !tb[NFTA_TRACE_TYPE])
		return false;
	if (!tb[NFTA_TRACE_VERDICT])
		return true;
	if (mnl_attr_parse_nested(tb[NFTA_TRACE_VERDICT], verdict_cb, vt) < 0 || !vt[NFTA_VERDICT_CODE])
		return false;
	code = ntohl(mnl_attr_get_u32(vt[NFTA_VERDICT_CODE]));
	return (code != (uint32_t)NFT_JUMP && code != (uint32_t)NFT_GOTO) || vt[NFTA_VERDICT_CHAIN];
}

int trace_decode(const struct nlmsghdr *nlh, struct trace_event *ret)
{
	struct nftnl_trace *t;
	const void *p;
	uint32_t len;
	int r = -EINVAL;

	memset(ret, 0, sizeof(*ret));
	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_TRACE || (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES ||
	    !well_formed(nlh))
		return -EINVAL;
	t = nftnl_trace_alloc();
	if (!t)
		return -ENOMEM;
	if (nftnl_trace_nlmsg_parse(nlh, t) < 0 || !nftnl_trace_is_set(t, NFTNL_TRACE_ID) ||
	    !nftnl_trace_is_set(t, NFTNL_TRACE_TYPE) || !nftnl_trace_is_set(t, NFTNL_TRACE_TABLE) ||
	    !nftnl_trace_is_set(t, NFTNL_TRACE_CHAIN))
		goto out;
	ret->id = nftnl_trace_get_u32(t, NFTNL_TRACE_ID);
	ret->type = nftnl_trace_get_u32(t, NFTNL_TRACE_TYPE);
	ret->family = nftnl_trace_get_u32(t, NFTNL_TRACE_FAMILY);
	snprintf(ret->table, sizeof(ret->table), "%s", nftnl_trace_get_str(t, NFTNL_TRACE_TABLE));
	snprintf(ret->chain, sizeof(ret->chain), "%s", nftnl_trace_get_str(t, NFTNL_TRACE_CHAIN));
	if (nftnl_trace_is_set(t, NFTNL_TRACE_RULE_HANDLE))
		ret->handle = nftnl_trace_get_u64(t, NFTNL_TRACE_RULE_HANDLE);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_VERDICT)) {
		ret->has_verdict = true;
		ret->verdict = (int32_t)nftnl_trace_get_u32(t, NFTNL_TRACE_VERDICT);
	} else if (nftnl_trace_is_set(t, NFTNL_TRACE_POLICY)) {
		ret->has_verdict = true;
		ret->verdict = (int32_t)nftnl_trace_get_u32(t, NFTNL_TRACE_POLICY);
	}
	if (nftnl_trace_is_set(t, NFTNL_TRACE_JUMP_TARGET))
		snprintf(ret->target, sizeof(ret->target), "%s",
			 nftnl_trace_get_str(t, NFTNL_TRACE_JUMP_TARGET));
	if (nftnl_trace_is_set(t, NFTNL_TRACE_IIF))
		ret->iif = nftnl_trace_get_u32(t, NFTNL_TRACE_IIF);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_OIF))
		ret->oif = nftnl_trace_get_u32(t, NFTNL_TRACE_OIF);
	p = nftnl_trace_is_set(t, NFTNL_TRACE_NETWORK_HEADER) ?
	    nftnl_trace_get_data(t, NFTNL_TRACE_NETWORK_HEADER, &len) : NULL;
	if (p) {
		ret->nh_len = len < sizeof(ret->nh) ? len : sizeof(ret->nh);
		memcpy(ret->nh, p, ret->nh_len);
	}
	p = nftnl_trace_is_set(t, NFTNL_TRACE_TRANSPORT_HEADER) ?
	    nftnl_trace_get_data(t, NFTNL_TRACE_TRANSPORT_HEADER, &len) : NULL;
	if (p) {
		ret->th_len = len < sizeof(ret->th) ? len : sizeof(ret->th);
		memcpy(ret->th, p, ret->th_len);
	}
	r = 0;
out:
	nftnl_trace_free(t);
	return r;
}

