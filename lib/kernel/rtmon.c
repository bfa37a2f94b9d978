/*
 * Default-route parsing; see rtmon.h.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "rtmon.h"

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == RTA_OIF || type == RTA_TABLE) && mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static const struct rtmsg *route_msg(const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE)
		return NULL;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct rtmsg))
		return NULL;
	return mnl_nlmsg_get_payload(nlh);
}

int rtmon_is_default_change(const struct nlmsghdr *nlh)
{
	const struct rtmsg *rt = route_msg(nlh);

	return rt && rt->rtm_dst_len == 0;
}

int rtmon_is_link_change(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK;
}

int rtmon_default_oifs(const struct nlmsghdr *nlh, uint32_t *oifs, size_t max)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rt = route_msg(nlh);
	uint32_t table;
	size_t n = 0;

	if (!rt || nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (rt->rtm_dst_len != 0 || rt->rtm_type != RTN_UNICAST ||
	    (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6))
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*rt), attr_cb, tb) < 0)
		return -EINVAL;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rt->rtm_table;
	if (table != RT_TABLE_MAIN)
		return 0;
	if (tb[RTA_OIF] && n < max)
		oifs[n++] = mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_MULTIPATH]) {
		const char *p = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
		size_t len = mnl_attr_get_payload_len(tb[RTA_MULTIPATH]);

		while (len >= sizeof(struct rtnexthop)) {
			const struct rtnexthop *nh = (const struct rtnexthop *)p;

			if (nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > len)
				return -EINVAL;
			if (n < max && nh->rtnh_ifindex > 0)
				oifs[n++] = nh->rtnh_ifindex;
			size_t step = RTNH_ALIGN(nh->rtnh_len);

			if (step >= len)
				break;
			len -= step;
			p += step;
		}
	}
	return n;
}

struct nlmsghdr *rtmon_route_request(void *buf, int af, const void *addr, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rt;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = af;
	rt->rtm_dst_len = af == AF_INET ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, af == AF_INET ? 4 : 16, addr);
	return nlh;
}

int rtmon_route_back_ok(const struct nlmsghdr *nlh, uint32_t ifindex)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rt;

	if (nlh->nlmsg_type == NLMSG_ERROR)
		return 0;
	rt = route_msg(nlh);
	if (!rt || nlh->nlmsg_type != RTM_NEWROUTE)
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(*rt), attr_cb, tb) < 0)
		return -EINVAL;
	return rt->rtm_type == RTN_UNICAST && tb[RTA_OIF] && mnl_attr_get_u32(tb[RTA_OIF]) == ifindex;
}
