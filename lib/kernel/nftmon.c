/*
 * nf_tables event classification; see nftmon.h.
 */
#include <arpa/inet.h>	/* netinet/in.h before the kernel headers */
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>

#include "nftmon.h"
#include "nft/nftobj.h"

/* Every object's "table" attribute has type 1 (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, ...). */
#define ATTR_TABLE 1

struct find {
	uint16_t type;
	const struct nlattr *attr;
};

static int find_cb(const struct nlattr *a, void *data)
{
	struct find *f = data;

	if (mnl_attr_get_type(a) == f->type)
		f->attr = a;
	return MNL_CB_OK;
}

static const struct nlattr *get_attr(const struct nlmsghdr *nlh, uint16_t type)
{
	struct find f = { .type = type };

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), find_cb, &f) < 0)
		return NULL;
	return f.attr;
}

enum nftmon_event nftmon_classify(const struct nlmsghdr *nlh, uint32_t *ret_portid)
{
	const struct nfgenmsg *g;
	const struct nlattr *a;
	uint16_t msg;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*g) ||
	    (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
		return NFTMON_OTHER;
	msg = nlh->nlmsg_type & 0xff;
	g = mnl_nlmsg_get_payload(nlh);
	if (msg == NFT_MSG_NEWGEN) {
		/*
		 * The kernel sends the event with the committer's netlink port id;
		 * NFTA_GEN_PROC_PID is no use: it is a pid in the initial pid
		 * namespace, which a daemon in a container never sees as its own.
		 */
		*ret_portid = nlh->nlmsg_pid;
		return NFTMON_GEN;
	}
	if (msg != NFT_MSG_DELTABLE && msg != NFT_MSG_DELCHAIN && msg != NFT_MSG_DELRULE &&
	    msg != NFT_MSG_DELSET && msg != NFT_MSG_DELSETELEM)
		return NFTMON_OTHER;
	if (g->nfgen_family != NFPROTO_INET)
		return NFTMON_OTHER;
	a = get_attr(nlh, ATTR_TABLE);
	if (!a || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
	    strcmp(mnl_attr_get_str(a), NFTOBJ_TABLE))
		return NFTMON_OTHER;
	return NFTMON_OURS_REMOVED;
}
