/*
 * NFLOG message and packet decoder; see nflog.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <string.h>

#include "nflog.h"

#define IPV6_EXT_MAX 8

static int decode_ports(const uint8_t *p, size_t len, uint8_t proto, struct nflog_pkt *pkt)
{
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -EINVAL;
	if (len < 4)
		return -EINVAL;
	pkt->proto = proto;
	pkt->sport = (p[0] << 8) | p[1];
	pkt->dport = (p[2] << 8) | p[3];
	return 0;
}

static int decode_ipv4(const uint8_t *p, size_t len, struct nflog_pkt *pkt)
{
	size_t ihl, total;
	uint16_t frag;

	if (len < 20 || (p[0] >> 4) != 4)
		return -EINVAL;
	ihl = (p[0] & 0xf) * 4;
	total = (p[2] << 8) | p[3];
	if (ihl < 20 || ihl > len || total < ihl)
		return -EINVAL;
	frag = ((p[6] << 8) | p[7]) & 0x1fff;
	if (frag)
		return -EINVAL;	/* not the first fragment: no ports */
	pkt->af = AF_INET;
	memcpy(&pkt->saddr.v4, p + 12, 4);
	memcpy(&pkt->daddr.v4, p + 16, 4);
	if (total < len)
		len = total;
	return decode_ports(p + ihl, len - ihl, p[9], pkt);
}

static int decode_ipv6(const uint8_t *p, size_t len, struct nflog_pkt *pkt)
{
	size_t off = 40;
	uint8_t nh;

	if (len < 40 || (p[0] >> 4) != 6)
		return -EINVAL;
	pkt->af = AF_INET6;
	memcpy(&pkt->saddr.v6, p + 8, 16);
	memcpy(&pkt->daddr.v6, p + 24, 16);
	nh = p[6];
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 8 > len)
				return -EINVAL;
			nh = p[off];
			off += (p[off + 1] + 1) * 8;
			continue;
		case IPPROTO_FRAGMENT:
			if (off + 8 > len)
				return -EINVAL;
			if ((((p[off + 2] << 8) | p[off + 3]) & 0xfff8) != 0)
				return -EINVAL;	/* not the first fragment */
			nh = p[off];
			off += 8;
			continue;
		default:
			if (off > len)
				return -EINVAL;
			return decode_ports(p + off, len - off, nh, pkt);
		}
	}
	return -EINVAL;
}

int nflog_decode_packet(int af, const uint8_t *p, size_t len, struct nflog_pkt *pkt)
{
	if (af == AF_INET)
		return decode_ipv4(p, len, pkt);
	if (af == AF_INET6)
		return decode_ipv6(p, len, pkt);
	return -EINVAL;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFULA_MAX) < 0)
		return MNL_CB_OK;	/* newer kernels may add attributes */
	switch (type) {
	case NFULA_IFINDEX_INDEV:
	case NFULA_IFINDEX_OUTDEV:
	case NFULA_SEQ:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	}
	tb[type] = a;
	return MNL_CB_OK;
}

static void parse_hwaddr(const struct nlattr *a, struct nflog_pkt *pkt)
{
	const struct nfulnl_msg_packet_hw *hw;
	uint16_t len;

	if (mnl_attr_get_payload_len(a) < sizeof(*hw))
		return;
	hw = mnl_attr_get_payload(a);
	len = ntohs(hw->hw_addrlen);
	if (len > sizeof(pkt->hwaddr) || len > sizeof(hw->hw_addr))
		return;
	memcpy(pkt->hwaddr, hw->hw_addr, len);
	pkt->hwlen = len;
}

int nflog_parse(const struct nlmsghdr *nlh, struct nflog_pkt *pkt)
{
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	const struct nfgenmsg *g;
	int af;

	memset(pkt, 0, sizeof(*pkt));
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*g))
		return -EINVAL;
	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET ||
	    (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_ULOG)
		return -EINVAL;
	g = mnl_nlmsg_get_payload(nlh);
	af = g->nfgen_family == NFPROTO_IPV4 ? AF_INET :
	     g->nfgen_family == NFPROTO_IPV6 ? AF_INET6 : 0;
	if (!af)
		return -EINVAL;
	pkt->group = ntohs(g->res_id);
	if (mnl_attr_parse(nlh, sizeof(*g), attr_cb, tb) < 0)
		return -EINVAL;
	if (!tb[NFULA_PAYLOAD])
		return -EINVAL;
	if (tb[NFULA_IFINDEX_INDEV])
		pkt->indev = ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_INDEV]));
	if (tb[NFULA_IFINDEX_OUTDEV])
		pkt->outdev = ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_OUTDEV]));
	if (tb[NFULA_HWADDR])
		parse_hwaddr(tb[NFULA_HWADDR], pkt);
	if (tb[NFULA_PREFIX]) {
		const char *p = mnl_attr_get_payload(tb[NFULA_PREFIX]);
		size_t n = strnlen(p, mnl_attr_get_payload_len(tb[NFULA_PREFIX]));

		if (n < sizeof(pkt->prefix))
			memcpy(pkt->prefix, p, n);
	}
	if (tb[NFULA_SEQ]) {
		pkt->has_seq = true;
		pkt->seq = ntohl(mnl_attr_get_u32(tb[NFULA_SEQ]));
	}
	return nflog_decode_packet(af, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
				   mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), pkt);
}
