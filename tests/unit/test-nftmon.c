#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "kernel/nftmon.h"
#include "test.h"
#include "base/util.h"

static struct nlmsghdr *msg(char *buf, uint16_t type, uint8_t family, const char *table)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	if (table)
		mnl_attr_put_strz(nlh, 1, table);
	return nlh;
}

static void test_classify(void)
{
	static const struct {
		uint16_t type;
		uint8_t family;
		const char *table;
		enum nftmon_event want;
	} cases[] = {
		{ NFT_MSG_DELTABLE, NFPROTO_INET, "ipautofw", NFTMON_OURS_REMOVED },
		{ NFT_MSG_DELCHAIN, NFPROTO_INET, "ipautofw", NFTMON_OURS_REMOVED },
		{ NFT_MSG_DELRULE, NFPROTO_INET, "ipautofw", NFTMON_OURS_REMOVED },
		{ NFT_MSG_DELSET, NFPROTO_INET, "ipautofw", NFTMON_OURS_REMOVED },
		{ NFT_MSG_DELSETELEM, NFPROTO_INET, "ipautofw", NFTMON_OURS_REMOVED },
		{ NFT_MSG_NEWSETELEM, NFPROTO_INET, "ipautofw", NFTMON_OTHER },
		{ NFT_MSG_DELTABLE, NFPROTO_INET, "filter", NFTMON_OTHER },
		{ NFT_MSG_DELTABLE, NFPROTO_IPV4, "ipautofw", NFTMON_OTHER },
		{ NFT_MSG_DELTABLE, NFPROTO_INET, NULL, NFTMON_OTHER },
	};
	char buf[256];
	uint32_t portid = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_INT(nftmon_classify(msg(buf, cases[i].type, cases[i].family, cases[i].table), &portid),
			  cases[i].want);
}

static void test_gen(void)
{
	char buf[256];
	struct nlmsghdr *nlh = msg(buf, NFT_MSG_NEWGEN, NFPROTO_UNSPEC, NULL);
	uint32_t portid = 0;

	/* whose: the committer's netlink port id, not the pid (another pid namespace's) */
	nlh->nlmsg_pid = 3120562;
	mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(5));
	mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(4321));
	mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, "nft");
	CHECK_INT(nftmon_classify(nlh, &portid), NFTMON_GEN);
	CHECK_INT(portid, 3120562);
	nlh = msg(buf, NFT_MSG_NEWGEN, NFPROTO_UNSPEC, NULL);
	CHECK_INT(nftmon_classify(nlh, &portid), NFTMON_GEN);
	CHECK_INT(portid, 0);
	/* not nf_tables at all */
	nlh = msg(buf, NFT_MSG_DELTABLE, NFPROTO_INET, "ipautofw");
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFT_MSG_DELTABLE;
	CHECK_INT(nftmon_classify(nlh, &portid), NFTMON_OTHER);
}

TEST_MAIN(T(test_classify), T(test_gen))
