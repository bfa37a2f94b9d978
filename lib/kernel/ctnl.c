/*
 * ctnetlink requests and entry decoding; see ctnl.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>

#include "ctnl.h"

/* Linux 5.10; Debian 12's headers have CTA_FILTER but not the flags */
#ifndef CTA_FILTER_FLAG_CTA_IP_SRC
#define CTA_FILTER_FLAG_CTA_IP_SRC (1 << 0)
#define CTA_FILTER_FLAG_CTA_IP_DST (1 << 1)
#define CTA_FILTER_FLAG_CTA_PROTO_NUM (1 << 3)
#endif

static struct nlmsghdr *header(char *buf, uint16_t type, uint16_t flags, uint32_t seq, int af)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = af;
	g->version = NFNETLINK_V0;
	return nlh;
}

static void put_addr(struct nlmsghdr *nlh, int af, bool src, const union inaddr *a)
{
	if (af == AF_INET)
		mnl_attr_put(nlh, src ? CTA_IP_V4_SRC : CTA_IP_V4_DST, 4, &a->v4);
	else
		mnl_attr_put(nlh, src ? CTA_IP_V6_SRC : CTA_IP_V6_DST, 16, &a->v6);
}

struct nlmsghdr *ctnl_dump_request(char *buf, uint32_t seq, int af, uint8_t proto,
				   enum ct_match match, const union inaddr *addr)
{
	struct nlmsghdr *nlh = header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq, af);
	struct nlattr *tuple, *ip, *pr, *filter;
	bool reply = match == CT_MATCH_REPLY_SRC;

	tuple = mnl_attr_nest_start(nlh, reply ? CTA_TUPLE_REPLY : CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	put_addr(nlh, af, reply, addr);
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, tuple);
	filter = mnl_attr_nest_start(nlh, CTA_FILTER);
	/* host byte order, unlike most of ctnetlink */
	mnl_attr_put_u32(nlh, reply ? CTA_FILTER_REPLY_FLAGS : CTA_FILTER_ORIG_FLAGS,
			 (reply ? CTA_FILTER_FLAG_CTA_IP_SRC : CTA_FILTER_FLAG_CTA_IP_DST) |
			 CTA_FILTER_FLAG_CTA_PROTO_NUM);
	mnl_attr_nest_end(nlh, filter);
	return nlh;
}

static void put_tuple(struct nlmsghdr *nlh, int af, const struct ct_tuple *t)
{
	struct nlattr *tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP), *pr;

	put_addr(nlh, af, true, &t->src);
	put_addr(nlh, af, false, &t->dst);
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, tuple);
}

struct nlmsghdr *ctnl_mark_request(char *buf, uint32_t seq, int af, const struct ct_tuple *t,
				   uint32_t mark, uint32_t mask)
{
	/* without NLM_F_CREATE: an update of the entry, never a new one */
	struct nlmsghdr *nlh = header(buf, IPCTNL_MSG_CT_NEW, 0, seq, af);

	put_tuple(nlh, af, t);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	return nlh;
}

struct nlmsghdr *ctnl_dump_marked_request(char *buf, uint32_t seq, uint32_t mark, uint32_t mask)
{
	struct nlmsghdr *nlh = header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq, AF_UNSPEC);

	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	return nlh;
}

struct nlmsghdr *ctnl_delete_request(char *buf, uint32_t seq, const struct ct_entry *e)
{
	struct nlmsghdr *nlh = header(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, seq, e->af);

	put_tuple(nlh, e->af, &e->orig);
	if (e->has_zone)
		mnl_attr_put_u16(nlh, CTA_ZONE, htons(e->zone));
	return nlh;
}

struct parse_ctx {
	const struct nlattr **tb;
	int max;
};

static int table_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *c = data;
	int type = mnl_attr_get_type(a);

	if (type > c->max)
		return MNL_CB_OK;
	c->tb[type] = a;
	return MNL_CB_OK;
}

static int parse_nested(const struct nlattr *nest, const struct nlattr **tb, int max)
{
	struct parse_ctx c = { tb, max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	return mnl_attr_parse_nested(nest, table_cb, &c) < 0 ? -EINVAL : 0;
}

static int parse_tuple(const struct nlattr *nest, int af, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1], *pr[CTA_PROTO_MAX + 1];
	size_t alen = af == AF_INET ? 4 : 16;
	int s = af == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC;
	int d = af == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST;

	if (parse_nested(nest, tb, CTA_TUPLE_MAX) < 0 || !tb[CTA_TUPLE_IP] || !tb[CTA_TUPLE_PROTO])
		return -EINVAL;
	if (parse_nested(tb[CTA_TUPLE_IP], ip, CTA_IP_MAX) < 0 ||
	    parse_nested(tb[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX) < 0)
		return -EINVAL;
	if (!ip[s] || !ip[d] || mnl_attr_get_payload_len(ip[s]) != alen ||
	    mnl_attr_get_payload_len(ip[d]) != alen || !pr[CTA_PROTO_NUM] ||
	    mnl_attr_get_payload_len(pr[CTA_PROTO_NUM]) != 1)
		return -EINVAL;
	memcpy(&t->src, mnl_attr_get_payload(ip[s]), alen);
	memcpy(&t->dst, mnl_attr_get_payload(ip[d]), alen);
	t->proto = mnl_attr_get_u8(pr[CTA_PROTO_NUM]);
	if (pr[CTA_PROTO_SRC_PORT] && mnl_attr_get_payload_len(pr[CTA_PROTO_SRC_PORT]) == 2)
		t->sport = ntohs(mnl_attr_get_u16(pr[CTA_PROTO_SRC_PORT]));
	if (pr[CTA_PROTO_DST_PORT] && mnl_attr_get_payload_len(pr[CTA_PROTO_DST_PORT]) == 2)
		t->dport = ntohs(mnl_attr_get_u16(pr[CTA_PROTO_DST_PORT]));
	return 0;
}

static int parse_entry(const struct nlmsghdr *nlh, struct ct_entry *ret)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };
	struct parse_ctx c = { tb, CTA_MAX };
	const struct nfgenmsg *g;

	memset(ret, 0, sizeof(*ret));
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*g))
		return -EINVAL;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->nfgen_family != AF_INET && g->nfgen_family != AF_INET6)
		return -EINVAL;
	ret->af = g->nfgen_family;
	if (mnl_attr_parse(nlh, sizeof(*g), table_cb, &c) < 0)
		return -EINVAL;
	if (!tb[CTA_TUPLE_ORIG] || !tb[CTA_TUPLE_REPLY] || !tb[CTA_STATUS] ||
	    mnl_attr_get_payload_len(tb[CTA_STATUS]) != 4)
		return -EINVAL;
	if (parse_tuple(tb[CTA_TUPLE_ORIG], ret->af, &ret->orig) < 0 ||
	    parse_tuple(tb[CTA_TUPLE_REPLY], ret->af, &ret->reply) < 0)
		return -EINVAL;
	ret->status = ntohl(mnl_attr_get_u32(tb[CTA_STATUS]));
	if (tb[CTA_ZONE] && mnl_attr_get_payload_len(tb[CTA_ZONE]) == 2) {
		ret->has_zone = true;
		ret->zone = ntohs(mnl_attr_get_u16(tb[CTA_ZONE]));
	}
	if (tb[CTA_MARK] && mnl_attr_get_payload_len(tb[CTA_MARK]) == 4) {
		ret->has_mark = true;
		ret->mark = ntohl(mnl_attr_get_u32(tb[CTA_MARK]));
	}
	return 0;
}

int ctnl_parse_entry(const struct nlmsghdr *nlh, struct ct_entry *ret)
{
	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK ||
	    (nlh->nlmsg_type & 0xff) != IPCTNL_MSG_CT_NEW) {
		memset(ret, 0, sizeof(*ret));
		return -EINVAL;
	}
	return parse_entry(nlh, ret);
}

int ctnl_parse_event(const struct nlmsghdr *nlh, struct ct_entry *ret, enum ct_event *ret_kind)
{
	uint8_t type = nlh->nlmsg_type & 0xff;

	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK ||
	    (type != IPCTNL_MSG_CT_NEW && type != IPCTNL_MSG_CT_DELETE)) {
		memset(ret, 0, sizeof(*ret));
		return -EINVAL;
	}
	if (type == IPCTNL_MSG_CT_DELETE)
		*ret_kind = CT_EVENT_DESTROY;
	else
		*ret_kind = nlh->nlmsg_flags & NLM_F_CREATE ? CT_EVENT_NEW : CT_EVENT_UPDATE;
	return parse_entry(nlh, ret);
}

bool ctnl_is_stale_unnated(const struct ct_entry *e, uint8_t proto, uint16_t lo, uint16_t hi,
			   const union inaddr *peer)
{
	size_t alen = e->af == AF_INET ? 4 : 16;

	return !(e->status & IPS_DST_NAT) && e->orig.proto == proto && e->orig.dport >= lo &&
	       e->orig.dport <= hi && (!peer || !memcmp(&e->orig.src, peer, alen));
}

bool ctnl_is_dnat_to(const struct ct_entry *e, uint8_t proto, uint16_t lo, uint16_t hi,
		     const union inaddr *host)
{
	size_t alen = e->af == AF_INET ? 4 : 16;

	return (e->status & IPS_DST_NAT) && e->reply.proto == proto && e->reply.sport >= lo &&
	       e->reply.sport <= hi && !memcmp(&e->reply.src, host, alen);
}
