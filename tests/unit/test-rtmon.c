/*
 * Default-route and link parsing from rtnetlink messages built as bytes
 * here: which routes count as default routes, the interfaces they go out
 * of (multipath included), and malformed messages.
 */
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "kernel/rtmon.h"
#include "test.h"

#define NONE 0xffffffffu

struct route_case {
	const char *name;
	uint16_t type;
	uint8_t family, dst_len, table, rtype;
	uint32_t rta_table;		/* RTA_TABLE attribute, NONE if absent */
	uint32_t oif;			/* RTA_OIF attribute, NONE if absent */
	int n_hops;			/* RTA_MULTIPATH with these ifindexes */
	int hops[3];
	uint16_t bad_hop_len;		/* if set, the last hop claims this length */
	size_t max;
	int ret;			/* rtmon_default_oifs */
	uint32_t oifs[4];
	int default_change;
};

static const struct route_case routes[] = {
	{ "v4 default", RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE, 7, 0, { 0 },
	  0, 4, 1, { 7 }, 1 },
	{ "v6 default", RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE, 9, 0, { 0 },
	  0, 4, 1, { 9 }, 1 },
	{ "not a default route", RTM_NEWROUTE, AF_INET, 24, RT_TABLE_MAIN, RTN_UNICAST, NONE, 7,
	  0, { 0 }, 0, 4, 0, { 0 }, 0 },
	{ "other table in the header", RTM_NEWROUTE, AF_INET, 0, 100, RTN_UNICAST, NONE, 7, 0,
	  { 0 }, 0, 4, 0, { 0 }, 1 },
	{ "RTA_TABLE wins over the header", RTM_NEWROUTE, AF_INET, 0, RT_TABLE_UNSPEC, RTN_UNICAST,
	  RT_TABLE_MAIN, 5, 0, { 0 }, 0, 4, 1, { 5 }, 1 },
	{ "RTA_TABLE not main", RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST, 1000, 5, 0,
	  { 0 }, 0, 4, 0, { 0 }, 1 },
	{ "unreachable default", RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNREACHABLE, NONE,
	  NONE, 0, { 0 }, 0, 4, 0, { 0 }, 1 },
	{ "other family", RTM_NEWROUTE, AF_BRIDGE, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE, 7, 0,
	  { 0 }, 0, 4, 0, { 0 }, 1 },
	{ "deleted default", RTM_DELROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE, 7, 0,
	  { 0 }, 0, 4, 0, { 0 }, 1 },
	{ "deleted other route", RTM_DELROUTE, AF_INET, 8, RT_TABLE_MAIN, RTN_UNICAST, NONE, 7, 0,
	  { 0 }, 0, 4, 0, { 0 }, 0 },
	{ "no output interface", RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE, NONE,
	  0, { 0 }, 0, 4, 0, { 0 }, 1 },
	{ "multipath", RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE, NONE, 2,
	  { 3, 4 }, 0, 4, 2, { 3, 4 }, 1 },
	{ "oif and multipath", RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE, 2, 3,
	  { 3, 0, 4 }, 0, 4, 3, { 2, 3, 4 }, 1 },	/* ifindex 0 skipped */
	{ "more than max", RTM_NEWROUTE, AF_INET, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE, 2, 3,
	  { 3, 5, 4 }, 0, 2, 2, { 2, 3 }, 1 },
	{ "hop length too long", RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE,
	  NONE, 2, { 3, 4 }, 200, 4, -1, { 0 }, 1 },
	{ "hop length too short", RTM_NEWROUTE, AF_INET6, 0, RT_TABLE_MAIN, RTN_UNICAST, NONE,
	  NONE, 2, { 3, 4 }, 4, 4, -1, { 0 }, 1 },
};

static struct nlmsghdr *build(char *buf, const struct route_case *c)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rt;

	nlh->nlmsg_type = c->type;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = c->family;
	rt->rtm_dst_len = c->dst_len;
	rt->rtm_table = c->table;
	rt->rtm_type = c->rtype;
	if (c->rta_table != NONE)
		mnl_attr_put_u32(nlh, RTA_TABLE, c->rta_table);
	if (c->oif != NONE)
		mnl_attr_put_u32(nlh, RTA_OIF, c->oif);
	if (c->n_hops) {
		struct rtnexthop nh[3] = { 0 };

		for (int i = 0; i < c->n_hops; i++)
			nh[i] = (struct rtnexthop){ .rtnh_len = sizeof(nh[0]),
						    .rtnh_ifindex = c->hops[i] };
		if (c->bad_hop_len)
			nh[c->n_hops - 1].rtnh_len = c->bad_hop_len;
		mnl_attr_put(nlh, RTA_MULTIPATH, c->n_hops * sizeof(nh[0]), nh);
	}
	return nlh;
}

static void test_routes(void)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route_case *c = &routes[i];
		char buf[512];
		uint32_t oifs[4] = { 0 };
		struct nlmsghdr *nlh = build(buf, c);
		int ret = rtmon_default_oifs(nlh, oifs, c->max);
		int before = test_failures;

		if (c->ret < 0)
			CHECK(ret < 0);
		else
			CHECK_INT(ret, c->ret);
		for (int k = 0; k < c->ret; k++)
			CHECK_INT(oifs[k], c->oifs[k]);
		CHECK_INT(!!rtmon_is_default_change(nlh), c->default_change);
		CHECK(!rtmon_is_link_change(nlh));
		if (test_failures != before)
			fprintf(stderr, "  in case \"%s\"\n", c->name);
	}
}

static void test_short_and_other(void)
{
	static const struct {
		uint16_t type;
		int link;
	} msgs[] = {
		{ RTM_NEWLINK, 1 }, { RTM_DELLINK, 1 }, { RTM_GETLINK, 0 }, { RTM_NEWADDR, 0 },
		{ RTM_NEWROUTE, 0 }, { NLMSG_ERROR, 0 },
	};
	char buf[512];
	uint32_t oifs[4];

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct ifinfomsg *ifi;

		nlh->nlmsg_type = msgs[i].type;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_index = 3;
		CHECK_INT(!!rtmon_is_link_change(nlh), msgs[i].link);
		if (msgs[i].type != RTM_NEWROUTE) {
			CHECK(!rtmon_is_default_change(nlh));
			CHECK_INT(rtmon_default_oifs(nlh, oifs, 4), 0);
		}
	}

	/* a route message too short for its header is not a route */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = RTM_NEWROUTE;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg) - 4);
	CHECK(!rtmon_is_default_change(nlh));
	CHECK_INT(rtmon_default_oifs(nlh, oifs, 4), 0);

	/* RTA_OIF of the wrong size is malformed */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));

	rt->rtm_family = AF_INET;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_type = RTN_UNICAST;
	mnl_attr_put_u16(nlh, RTA_OIF, 7);
	CHECK(rtmon_default_oifs(nlh, oifs, 4) < 0);
}

TEST_MAIN(T(test_routes), T(test_short_and_other))
