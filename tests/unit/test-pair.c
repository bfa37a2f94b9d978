#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "engine/pair.h"
#include "test.h"

#define MARK 0x20000000u
#define OWN 4242
#define CONNTRACKD 777
#define NOW 100000

static union inaddr a4(const char *s)
{
	union inaddr a = { 0 };

	inet_pton(AF_INET, s, &a.v4);
	return a;
}

static const struct ct_tuple trig = { .proto = IPPROTO_TCP, .sport = 40000, .dport = 7070 };

static struct ct_tuple tuple(const char *src, uint16_t sport)
{
	struct ct_tuple t = trig;

	t.src = a4(src);
	t.dst = a4("203.0.113.9");
	t.sport = sport;
	return t;
}

static void put_tuple(struct nlmsghdr *nlh, int type, const struct ct_tuple *t)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type), *ip, *pr;

	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, &t->src.v4);
	mnl_attr_put(nlh, CTA_IP_V4_DST, 4, &t->dst.v4);
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, n);
}

/* An event as the kernel sends it: KIND, caused by PID (0: the packet path), MARK if HAS_MARK */
static struct nlmsghdr *event(char *buf, enum ct_event kind, uint32_t pid, const struct ct_tuple *t,
			      bool has_mark, uint32_t mark)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct ct_tuple reply = { .src = t->dst, .dst = a4("198.51.100.1"), .proto = t->proto,
				  .sport = t->dport, .dport = t->sport };

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) |
			  (kind == CT_EVENT_DESTROY ? IPCTNL_MSG_CT_DELETE : IPCTNL_MSG_CT_NEW);
	nlh->nlmsg_flags = kind == CT_EVENT_NEW ? NLM_F_CREATE | NLM_F_EXCL : 0;
	nlh->nlmsg_pid = pid;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_INET;
	put_tuple(nlh, CTA_TUPLE_ORIG, t);
	put_tuple(nlh, CTA_TUPLE_REPLY, &reply);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_CONFIRMED | IPS_SRC_NAT));
	if (has_mark)
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	return nlh;
}

static void test_replicated_once(void)
{
	char buf[1024];
	struct pair p;
	struct nflog_pkt pkt;
	struct ct_tuple t = tuple("192.168.7.2", 40000);
	union inaddr host = a4("192.168.7.2");

	pair_init(&p, MARK, MARK);
	/* conntrackd writes the entry before the mark came: nothing yet */
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_NEW, CONNTRACKD, &t, true, 0), OWN, NOW, &pkt), 0);
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_NEW, CONNTRACKD, &t, false, 0), OWN, NOW, &pkt), 0);
	/* ... then the mark (other bits of the mark are the administrator's) */
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_UPDATE, CONNTRACKD, &t, true, MARK | 5), OWN,
			     NOW, &pkt), 1);
	CHECK_INT(pkt.af, AF_INET);
	CHECK(!memcmp(&pkt.saddr, &host, 4));
	CHECK_INT(pkt.proto, IPPROTO_TCP);
	CHECK_INT(pkt.dport, 7070);
	CHECK_INT(pkt.sport, 40000);
	/* its later events (TCP established, closing) are no new trigger */
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_UPDATE, CONNTRACKD, &t, true, MARK), OWN, NOW, &pkt), 0);
	/* conntrackd's resync writes it again: deleted, then created at once */
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_DESTROY, CONNTRACKD, &t, true, MARK), OWN, NOW, &pkt), 0);
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_NEW, CONNTRACKD, &t, true, MARK), OWN, NOW + 5, &pkt), 0);
	/* the other router's connection ended (conntrackd deletes it), a new one of the tuple later */
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_DESTROY, CONNTRACKD, &t, true, MARK), OWN, NOW + 10, &pkt), 0);
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_NEW, CONNTRACKD, &t, true, MARK), OWN,
			     NOW + 10 + PAIR_RECREATE_MS + 1, &pkt), 1);
	/* gone by its timeout here, and a new connection of the same tuple later is one */
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_DESTROY, 0, &t, true, MARK), OWN, NOW, &pkt), 0);
	CHECK_INT(p.n, 0);
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_NEW, CONNTRACKD, &t, true, MARK), OWN, NOW, &pkt), 1);
	pair_fini(&p);
}

static void test_not_a_trigger(void)
{
	char buf[1024];
	struct pair p;
	struct nflog_pkt pkt;
	struct ct_tuple t = tuple("192.168.7.3", 40001), u = tuple("192.168.7.4", 40002);

	pair_init(&p, MARK, MARK);
	/* the packet path's events and this router's own marks */
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_UPDATE, 0, &t, true, MARK), OWN, NOW, &pkt), 0);
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_UPDATE, OWN, &t, true, MARK), OWN, NOW, &pkt), 0);
	/* another mark */
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_UPDATE, CONNTRACKD, &t, true, 0x40000000), OWN,
			     NOW, &pkt), 0);
	/* this router marked it (then failed over and back): conntrackd's copy is no trigger */
	CHECK_INT(pair_note(&p, AF_INET, &u), 0);
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_NEW, CONNTRACKD, &u, true, MARK), OWN, NOW, &pkt), 0);
	/* not a conntrack message */
	((struct nlmsghdr *)buf)->nlmsg_type = NLMSG_NOOP;
	CHECK(pair_event(&p, (struct nlmsghdr *)buf, OWN, NOW, &pkt) < 0);
	pair_fini(&p);
}

/* What is in the table when pair mode starts is known; after lost events, what is new is a trigger */
static void test_dumped(void)
{
	char buf[1024];
	struct pair p;
	struct nflog_pkt pkt;
	struct ct_tuple t = tuple("192.168.7.2", 40000), u = tuple("192.168.7.3", 40001);
	struct nlmsghdr *nlh;

	pair_init(&p, MARK, MARK);
	CHECK_INT(pair_dumped(&p, event(buf, CT_EVENT_UPDATE, OWN, &t, true, MARK), NOW, &pkt), 1);
	CHECK_INT(pair_dumped(&p, event(buf, CT_EVENT_UPDATE, OWN, &t, true, MARK), NOW, &pkt), 0);
	CHECK_INT(pair_dumped(&p, event(buf, CT_EVENT_UPDATE, OWN, &u, true, 0), NOW, &pkt), 0);
	CHECK_INT(pair_event(&p, event(buf, CT_EVENT_UPDATE, CONNTRACKD, &t, true, MARK), OWN, NOW, &pkt), 0);
	pair_fini(&p);
	nlh = ctnl_dump_marked_request(buf, 3, MARK, MARK);
	CHECK(nlh->nlmsg_flags & NLM_F_DUMP);
	CHECK_INT(nlh->nlmsg_type & 0xff, IPCTNL_MSG_CT_GET);
}

static void test_mark_request(void)
{
	char buf[512];
	struct ct_tuple t = tuple("192.168.7.2", 40000);
	struct nlmsghdr *nlh = ctnl_mark_request(buf, 9, AF_INET, &t, MARK, MARK);
	const struct nlattr *a;
	int seen = 0;

	/* an update, never a creation */
	CHECK(!(nlh->nlmsg_flags & NLM_F_CREATE));
	CHECK_INT(nlh->nlmsg_type & 0xff, IPCTNL_MSG_CT_NEW);
	CHECK_INT(nlh->nlmsg_seq, 9);
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == CTA_MARK && ntohl(mnl_attr_get_u32(a)) == MARK)
			seen |= 1;
		if (mnl_attr_get_type(a) == CTA_MARK_MASK && ntohl(mnl_attr_get_u32(a)) == MARK)
			seen |= 2;
		if (mnl_attr_get_type(a) == CTA_TUPLE_ORIG)
			seen |= 4;
	}
	CHECK_INT(seen, 7);
}

TEST_MAIN(T(test_replicated_once), T(test_not_a_trigger), T(test_dumped), T(test_mark_request))
