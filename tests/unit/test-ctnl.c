#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "kernel/ctnl.h"
#include "test.h"

static union inaddr a4(const char *s)
{
	union inaddr a = { 0 };

	inet_pton(AF_INET, s, &a.v4);
	return a;
}

/* What the kernel sends for one entry (built with the delete request's tuple code). */
static struct nlmsghdr *entry(char *buf, const char *osrc, const char *odst, uint16_t osport,
			      uint16_t odport, const char *rsrc, uint16_t rsport, uint32_t status)
{
	struct ct_entry e = { .af = AF_INET };
	struct nlmsghdr *nlh;
	struct nlattr *t, *ip, *pr;
	union inaddr rs = a4(rsrc), rd = a4(osrc);

	e.orig.src = a4(osrc);
	e.orig.dst = a4(odst);
	e.orig.proto = IPPROTO_UDP;
	e.orig.sport = osport;
	e.orig.dport = odport;
	nlh = ctnl_delete_request(buf, 1, &e);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	t = mnl_attr_nest_start(nlh, CTA_TUPLE_REPLY);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, &rs.v4);
	mnl_attr_put(nlh, CTA_IP_V4_DST, 4, &rd.v4);
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(rsport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(osport));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, t);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status));
	return nlh;
}

static void test_parse_and_decide(void)
{
	char buf[1024];
	struct ct_entry e;
	union inaddr peer = a4("203.0.113.9"), other = a4("203.0.113.10");
	union inaddr host = a4("192.168.7.2");

	/* a stream that hit the router before the forwarding: not NATed */
	CHECK_INT(ctnl_parse_entry(entry(buf, "203.0.113.9", "203.0.113.1", 40000, 7000,
					 "203.0.113.1", 7000, IPS_CONFIRMED), &e), 0);
	CHECK_INT(e.orig.sport, 40000);
	CHECK_INT(e.orig.dport, 7000);
	CHECK(ctnl_is_stale_unnated(&e, IPPROTO_UDP, 6970, 7170, NULL));
	CHECK(ctnl_is_stale_unnated(&e, IPPROTO_UDP, 6970, 7170, &peer));
	CHECK(!ctnl_is_stale_unnated(&e, IPPROTO_UDP, 6970, 7170, &other));
	CHECK(!ctnl_is_stale_unnated(&e, IPPROTO_UDP, 7001, 7170, NULL));
	CHECK(!ctnl_is_stale_unnated(&e, IPPROTO_TCP, 6970, 7170, NULL));
	CHECK(!ctnl_is_dnat_to(&e, IPPROTO_UDP, 6970, 7170, &host));

	/* the same stream DNATed to 192.168.7.2 */
	CHECK_INT(ctnl_parse_entry(entry(buf, "203.0.113.9", "203.0.113.1", 40000, 7000,
					 "192.168.7.2", 7000, IPS_CONFIRMED | IPS_DST_NAT), &e), 0);
	CHECK(ctnl_is_dnat_to(&e, IPPROTO_UDP, 6970, 7170, &host));
	CHECK(!ctnl_is_dnat_to(&e, IPPROTO_UDP, 6970, 6999, &host));
	CHECK(!ctnl_is_stale_unnated(&e, IPPROTO_UDP, 6970, 7170, NULL));
	host = a4("192.168.7.3");
	CHECK(!ctnl_is_dnat_to(&e, IPPROTO_UDP, 6970, 7170, &host));

	/* malformed: no status, wrong type */
	struct nlmsghdr *nlh = entry(buf, "1.2.3.4", "5.6.7.8", 1, 2, "5.6.7.8", 2, 0);

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	CHECK_INT(ctnl_parse_entry(nlh, &e), -22);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	CHECK_INT(ctnl_parse_entry(nlh, &e), -22);
}

static int count_cb(const struct nlattr *a, void *data)
{
	int *types = data;

	types[mnl_attr_get_type(a) & 0x3f]++;
	return MNL_CB_OK;
}

static void test_dump_request(void)
{
	char buf[512];
	union inaddr host = a4("192.168.7.2");
	struct nlmsghdr *nlh = ctnl_dump_request(buf, 7, AF_INET, IPPROTO_UDP, CT_MATCH_REPLY_SRC, &host);
	int types[64] = { 0 };

	CHECK(nlh->nlmsg_flags & NLM_F_DUMP);
	CHECK_INT(nlh->nlmsg_seq, 7);
	CHECK_INT(mnl_attr_parse(nlh, sizeof(struct nfgenmsg), count_cb, types), MNL_CB_OK);
	CHECK_INT(types[CTA_TUPLE_REPLY], 1);
	CHECK_INT(types[CTA_TUPLE_ORIG], 0);
	CHECK_INT(types[CTA_FILTER], 1);
}

TEST_MAIN(T(test_parse_and_decide), T(test_dump_request))
