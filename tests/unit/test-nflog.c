#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "kernel/nflog.h"
#include "test.h"

static size_t ipv4(uint8_t *p, uint8_t proto, uint16_t sport, uint16_t dport, uint16_t frag)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = 0;
	p[3] = 28;
	p[6] = frag >> 8;
	p[7] = frag & 0xff;
	p[9] = proto;
	memcpy(p + 12, "\xc0\xa8\x07\x02", 4);
	memcpy(p + 16, "\xcb\x00\x71\x09", 4);
	p[20] = sport >> 8;
	p[21] = sport & 0xff;
	p[22] = dport >> 8;
	p[23] = dport & 0xff;
	return 28;
}

static void test_ipv4(void)
{
	uint8_t p[64];
	struct nflog_pkt pkt = { 0 };
	size_t n = ipv4(p, IPPROTO_TCP, 40000, 7070, 0);

	CHECK_INT(nflog_decode_packet(AF_INET, p, n, &pkt), 0);
	CHECK_INT(pkt.af, AF_INET);
	CHECK_INT(pkt.proto, IPPROTO_TCP);
	CHECK_INT(pkt.sport, 40000);
	CHECK_INT(pkt.dport, 7070);
	CHECK(!memcmp(&pkt.saddr.v4, "\xc0\xa8\x07\x02", 4));
	CHECK(!memcmp(&pkt.daddr.v4, "\xcb\x00\x71\x09", 4));
	/* first fragment (MF set, offset 0) still carries the ports */
	n = ipv4(p, IPPROTO_UDP, 1, 2, 0x2000);
	CHECK_INT(nflog_decode_packet(AF_INET, p, n, &pkt), 0);

	/* rejected: later fragments, ICMP, truncation, bad header lengths, wrong version */
	n = ipv4(p, IPPROTO_UDP, 1, 2, 0x0010);
	CHECK_INT(nflog_decode_packet(AF_INET, p, n, &pkt), -EINVAL);
	n = ipv4(p, IPPROTO_ICMP, 1, 2, 0);
	CHECK_INT(nflog_decode_packet(AF_INET, p, n, &pkt), -EINVAL);
	n = ipv4(p, IPPROTO_TCP, 1, 2, 0);
	for (size_t k = 0; k < 24; k++)
		CHECK_INT(nflog_decode_packet(AF_INET, p, k, &pkt), -EINVAL);
	p[0] = 0x4f;	/* ihl 60 > len */
	CHECK_INT(nflog_decode_packet(AF_INET, p, n, &pkt), -EINVAL);
	p[0] = 0x44;	/* ihl 16 < 20 */
	CHECK_INT(nflog_decode_packet(AF_INET, p, n, &pkt), -EINVAL);
	p[0] = 0x65;
	CHECK_INT(nflog_decode_packet(AF_INET, p, n, &pkt), -EINVAL);
	n = ipv4(p, IPPROTO_TCP, 1, 2, 0);
	p[3] = 22;	/* total length cuts the ports */
	CHECK_INT(nflog_decode_packet(AF_INET, p, n, &pkt), -EINVAL);
	CHECK_INT(nflog_decode_packet(AF_PACKET, p, n, &pkt), -EINVAL);
}

static size_t ipv6(uint8_t *p, uint8_t nh)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = nh;
	p[8] = 0x20;
	p[9] = 0x01;
	p[10] = 0x0d;
	p[11] = 0xb8;
	p[23] = 2;
	return 40;
}

static void test_ipv6(void)
{
	uint8_t p[128];
	struct nflog_pkt pkt;
	size_t n = ipv6(p, IPPROTO_UDP);

	p[n + 2] = 0x1b;
	p[n + 3] = 0x9e;	/* dport 7070 */
	CHECK_INT(nflog_decode_packet(AF_INET6, p, n + 8, &pkt), 0);
	CHECK_INT(pkt.dport, 7070);
	CHECK_INT(pkt.proto, IPPROTO_UDP);
	CHECK_INT(pkt.saddr.v6.s6_addr[0], 0x20);

	/* hop-by-hop (8 bytes), then a first fragment, then TCP */
	n = ipv6(p, IPPROTO_HOPOPTS);
	memset(p + 40, 0, 24);
	p[40] = IPPROTO_FRAGMENT;
	p[41] = 0;
	p[48] = IPPROTO_TCP;
	p[56 + 3] = 23;
	CHECK_INT(nflog_decode_packet(AF_INET6, p, 64, &pkt), 0);
	CHECK_INT(pkt.proto, IPPROTO_TCP);
	CHECK_INT(pkt.dport, 23);
	/* not a first fragment */
	p[48 + 3] = 0x08;
	CHECK_INT(nflog_decode_packet(AF_INET6, p, 64, &pkt), -EINVAL);
	/* extension header running past the end */
	p[41] = 200;
	CHECK_INT(nflog_decode_packet(AF_INET6, p, 64, &pkt), -EINVAL);
	/* endless chain of headers is bounded */
	n = ipv6(p, IPPROTO_DSTOPTS);
	for (int i = 0; i < 10; i++) {
		p[40 + 8 * i] = IPPROTO_DSTOPTS;
		p[41 + 8 * i] = 0;
	}
	CHECK_INT(nflog_decode_packet(AF_INET6, p, 128, &pkt), -EINVAL);
	n = ipv6(p, IPPROTO_ICMPV6);
	CHECK_INT(nflog_decode_packet(AF_INET6, p, n + 8, &pkt), -EINVAL);
	CHECK_INT(nflog_decode_packet(AF_INET6, p, 39, &pkt), -EINVAL);
}

static struct nlmsghdr *message(char *buf, uint8_t family, bool with_payload, bool bad_seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	uint8_t p[64];

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->res_id = htons(7070);
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_INDEV, htonl(3));
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_OUTDEV, htonl(4));
	if (bad_seq)
		mnl_attr_put_u16(nlh, NFULA_SEQ, 1);
	else
		mnl_attr_put_u32(nlh, NFULA_SEQ, htonl(41));
	if (with_payload)
		mnl_attr_put(nlh, NFULA_PAYLOAD, ipv4(p, IPPROTO_TCP, 1, 7070, 0), p);
	return nlh;
}

static void test_message(void)
{
	char buf[512];
	struct nflog_pkt pkt;
	struct nlmsghdr *nlh;

	nlh = message(buf, NFPROTO_IPV4, true, false);
	CHECK_INT(nflog_parse(nlh, &pkt), 0);
	CHECK_INT(pkt.group, 7070);
	CHECK_INT(pkt.indev, 3);
	CHECK_INT(pkt.outdev, 4);
	CHECK(pkt.has_seq);
	CHECK_INT(pkt.seq, 41);
	CHECK_INT(pkt.dport, 7070);
	CHECK_INT(nflog_parse(message(buf, NFPROTO_IPV4, false, false), &pkt), -EINVAL);
	CHECK_INT(nflog_parse(message(buf, NFPROTO_ARP, true, false), &pkt), -EINVAL);
	CHECK_INT(nflog_parse(message(buf, NFPROTO_IPV4, true, true), &pkt), -EINVAL);
	nlh = message(buf, NFPROTO_IPV4, true, false);
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFULNL_MSG_PACKET;
	CHECK_INT(nflog_parse(nlh, &pkt), -EINVAL);
	nlh = message(buf, NFPROTO_IPV4, true, false);
	nlh->nlmsg_len = NLMSG_HDRLEN + 2;	/* shorter than nfgenmsg */
	CHECK_INT(nflog_parse(nlh, &pkt), -EINVAL);
}

static void test_hwaddr_prefix(void)
{
	struct nfulnl_msg_packet_hw hw = { .hw_addrlen = htons(6),
					   .hw_addr = { 2, 0, 0, 0, 0, 3 } };
	char buf[512];
	struct nflog_pkt pkt;
	struct nlmsghdr *nlh;

	nlh = message(buf, NFPROTO_IPV4, true, false);
	CHECK_INT(nflog_parse(nlh, &pkt), 0);
	CHECK_INT(pkt.hwlen, 0);
	CHECK_STR(pkt.prefix, "");
	mnl_attr_put(nlh, NFULA_HWADDR, sizeof(hw), &hw);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "ipautofw:forged");
	CHECK_INT(nflog_parse(nlh, &pkt), 0);
	CHECK_INT(pkt.hwlen, 6);
	CHECK(!memcmp(pkt.hwaddr, hw.hw_addr, 6));
	CHECK_STR(pkt.prefix, "ipautofw:forged");
	/* a length beyond the address field, a short attribute, an overlong prefix: ignored */
	hw.hw_addrlen = htons(9);
	nlh = message(buf, NFPROTO_IPV4, true, false);
	mnl_attr_put(nlh, NFULA_HWADDR, sizeof(hw), &hw);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "0123456789012345678901234567890123456789");
	CHECK_INT(nflog_parse(nlh, &pkt), 0);
	CHECK_INT(pkt.hwlen, 0);
	CHECK_STR(pkt.prefix, "");
	nlh = message(buf, NFPROTO_IPV4, true, false);
	mnl_attr_put(nlh, NFULA_HWADDR, 3, &hw);
	CHECK_INT(nflog_parse(nlh, &pkt), 0);
	CHECK_INT(pkt.hwlen, 0);
}

TEST_MAIN(T(test_ipv4), T(test_ipv6), T(test_message), T(test_hwaddr_prefix))
