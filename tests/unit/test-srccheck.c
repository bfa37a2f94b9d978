#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/srccheck.h"
#include "test.h"
#include "base/util.h"

#define BR 4	/* br-lan */
#define WAN 2

static char buf[1024];

static union inaddr ip(const char *s)
{
	union inaddr a = { 0 };

	if (inet_pton(AF_INET, s, &a.v4) != 1)
		inet_pton(AF_INET6, s, &a.v6);
	return a;
}

static int af_of(const char *s)
{
	return strchr(s, ':') ? AF_INET6 : AF_INET;
}

static struct nlmsghdr *addr_msg(uint16_t type, uint32_t ifindex, const char *addr, unsigned plen,
				 const char *peer)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	int af = af_of(addr);
	union inaddr a = ip(addr);
	size_t len = af == AF_INET ? 4 : 16;

	nlh->nlmsg_type = type;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = af;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_index = ifindex;
	if (af == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, len, &a);
	if (peer)
		a = ip(peer);
	mnl_attr_put(nlh, IFA_ADDRESS, len, &a);
	return nlh;
}

static struct nlmsghdr *neigh_msg(uint16_t type, uint32_t ifindex, const char *addr,
				  const char *mac, uint16_t state)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;
	int af = af_of(addr);
	union inaddr a = ip(addr);
	uint8_t ll[6];

	nlh->nlmsg_type = type;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = af;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = state;
	mnl_attr_put(nlh, NDA_DST, af == AF_INET ? 4 : 16, &a);
	if (mac) {
		sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &ll[0], &ll[1], &ll[2], &ll[3], &ll[4],
		       &ll[5]);
		mnl_attr_put(nlh, NDA_LLADDR, 6, ll);
	}
	return nlh;
}

static const uint8_t mac2[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac3[6] = { 0x02, 0, 0, 0, 0, 0x03 };

static enum srccheck_verdict verdict(const struct srccheck *s, const char *src, uint32_t ifindex,
				     const uint8_t *hw)
{
	union inaddr a = ip(src);

	return srccheck_source(s, af_of(src), &a, ifindex, hw, hw ? 6 : 0);
}

/* the router of the netns suite: br-lan 192.168.7.1/24 + 2001:db8:7::1/64, WAN 203.0.113.1/24 */
static void router(struct srccheck *s)
{
	srccheck_init(s);
	CHECK_INT(srccheck_update(s, addr_msg(RTM_NEWADDR, BR, "192.168.7.1", 24, NULL)), 1);
	CHECK_INT(srccheck_update(s, addr_msg(RTM_NEWADDR, BR, "2001:db8:7::1", 64, NULL)), 1);
	CHECK_INT(srccheck_update(s, addr_msg(RTM_NEWADDR, WAN, "203.0.113.1", 24, NULL)), 1);
	CHECK_INT(srccheck_update(s, addr_msg(RTM_NEWADDR, WAN, "2001:db8:1::1", 64, NULL)), 1);
	CHECK_INT(srccheck_update(s, addr_msg(RTM_NEWADDR, 1, "127.0.0.1", 8, NULL)), 1);
}

static void test_address_classes(void)
{
	static const struct {
		const char *src;
		enum srccheck_verdict v;
	} cases[] = {
		{ "192.168.7.2", SRCCHECK_OK },
		{ "192.168.7.254", SRCCHECK_OK },
		{ "0.0.0.0", SRCCHECK_UNSPECIFIED },
		{ "127.0.0.1", SRCCHECK_LOOPBACK },
		{ "127.1.2.3", SRCCHECK_LOOPBACK },
		{ "224.0.0.5", SRCCHECK_MULTICAST },
		{ "239.255.255.250", SRCCHECK_MULTICAST },
		{ "255.255.255.255", SRCCHECK_BROADCAST },
		{ "192.168.7.255", SRCCHECK_BROADCAST },
		{ "192.168.7.0", SRCCHECK_NETWORK },
		{ "192.168.7.1", SRCCHECK_OWN },
		{ "203.0.113.1", SRCCHECK_OWN },
		{ "203.0.113.0", SRCCHECK_NETWORK },
		{ "203.0.113.255", SRCCHECK_BROADCAST },
		{ "2001:db8:7::2", SRCCHECK_OK },
		{ "2001:db8:7::", SRCCHECK_NETWORK },
		{ "2001:db8:7::1", SRCCHECK_OWN },
		{ "2001:db8:1::1", SRCCHECK_OWN },
		{ "2001:db8:7:0:ffff:ffff:ffff:ffff", SRCCHECK_OK },
		{ "::", SRCCHECK_UNSPECIFIED },
		{ "::1", SRCCHECK_LOOPBACK },
		{ "ff02::1", SRCCHECK_MULTICAST },
		{ "ff0e::1", SRCCHECK_MULTICAST },
		{ "::ffff:192.168.7.2", SRCCHECK_MAPPED },
		{ "::192.168.7.2", SRCCHECK_MAPPED },
	};
	struct srccheck s;

	router(&s);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum srccheck_verdict v = verdict(&s, cases[i].src, BR, NULL);

		if (v != cases[i].v)
			fprintf(stderr, "  %s: %s, expected %s\n", cases[i].src, srccheck_reason(v),
				srccheck_reason(cases[i].v));
		CHECK_INT(v, cases[i].v);
	}
	srccheck_clear(&s);
}

static void test_small_prefixes(void)
{
	struct srccheck s;

	srccheck_init(&s);
	/* point-to-point /31 and /32 peers, /127: no network or broadcast address */
	srccheck_update(&s, addr_msg(RTM_NEWADDR, 5, "10.0.0.0", 31, NULL));
	srccheck_update(&s, addr_msg(RTM_NEWADDR, 6, "10.9.0.1", 32, "10.9.0.2"));
	srccheck_update(&s, addr_msg(RTM_NEWADDR, 7, "2001:db8:9::", 127, NULL));
	CHECK_INT(verdict(&s, "10.0.0.1", 5, NULL), SRCCHECK_OK);
	CHECK_INT(verdict(&s, "10.0.0.0", 5, NULL), SRCCHECK_OWN);
	CHECK_INT(verdict(&s, "10.9.0.2", 6, NULL), SRCCHECK_OK);
	CHECK_INT(verdict(&s, "2001:db8:9::1", 7, NULL), SRCCHECK_OK);
	/* a /30 has both */
	srccheck_update(&s, addr_msg(RTM_NEWADDR, 8, "10.1.0.1", 30, NULL));
	CHECK_INT(verdict(&s, "10.1.0.0", 8, NULL), SRCCHECK_NETWORK);
	CHECK_INT(verdict(&s, "10.1.0.3", 8, NULL), SRCCHECK_BROADCAST);
	CHECK_INT(verdict(&s, "10.1.0.2", 8, NULL), SRCCHECK_OK);
	/* a prefix length that is not a multiple of 8 */
	srccheck_update(&s, addr_msg(RTM_NEWADDR, 9, "172.16.4.1", 22, NULL));
	CHECK_INT(verdict(&s, "172.16.4.0", 9, NULL), SRCCHECK_NETWORK);
	CHECK_INT(verdict(&s, "172.16.7.255", 9, NULL), SRCCHECK_BROADCAST);
	CHECK_INT(verdict(&s, "172.16.5.0", 9, NULL), SRCCHECK_OK);
	CHECK_INT(verdict(&s, "172.16.6.255", 9, NULL), SRCCHECK_OK);
	srccheck_clear(&s);
}

static void test_address_removed(void)
{
	struct srccheck s;

	router(&s);
	CHECK_INT(verdict(&s, "192.168.7.0", BR, NULL), SRCCHECK_NETWORK);
	CHECK_INT(srccheck_update(&s, addr_msg(RTM_DELADDR, BR, "192.168.7.1", 24, NULL)), 1);
	CHECK_INT(verdict(&s, "192.168.7.0", BR, NULL), SRCCHECK_OK);
	CHECK_INT(verdict(&s, "192.168.7.1", BR, NULL), SRCCHECK_OK);
	CHECK_INT(srccheck_update(&s, addr_msg(RTM_DELADDR, BR, "192.168.7.1", 24, NULL)), 0);
	/* a re-announced address replaces, not duplicates */
	CHECK_INT(srccheck_update(&s, addr_msg(RTM_NEWADDR, WAN, "203.0.113.1", 24, NULL)), 1);
	CHECK_INT(s.n_addrs, 4);
	srccheck_clear(&s);
}

static void test_neighbours(void)
{
	struct srccheck s;

	router(&s);
	/* no entry: nothing to compare */
	CHECK_INT(verdict(&s, "192.168.7.3", BR, mac2), SRCCHECK_OK);
	CHECK_INT(srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.3", "02:00:00:00:00:03",
						  NUD_REACHABLE)), 1);
	CHECK_INT(srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "2001:db8:7::3", "02:00:00:00:00:03",
						  NUD_STALE)), 1);
	CHECK_INT(verdict(&s, "192.168.7.3", BR, mac3), SRCCHECK_OK);
	CHECK_INT(verdict(&s, "192.168.7.3", BR, mac2), SRCCHECK_HWADDR);
	CHECK_INT(verdict(&s, "2001:db8:7::3", BR, mac3), SRCCHECK_OK);
	CHECK_INT(verdict(&s, "2001:db8:7::3", BR, mac2), SRCCHECK_HWADDR);
	/* unknown link layer (a tunnel): no check */
	CHECK_INT(verdict(&s, "192.168.7.3", BR, NULL), SRCCHECK_OK);
	/* the entry is per interface */
	CHECK_INT(verdict(&s, "192.168.7.3", 9, mac2), SRCCHECK_OK);
	/* the host moved to another NIC: the kernel's new entry wins */
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.3", "02:00:00:00:00:02", NUD_DELAY));
	CHECK_INT(verdict(&s, "192.168.7.3", BR, mac2), SRCCHECK_OK);
	CHECK_INT(verdict(&s, "192.168.7.3", BR, mac3), SRCCHECK_HWADDR);
	CHECK_INT(s.neigh.n, 2);
	/* a failed or incomplete entry vouches for nothing */
	CHECK_INT(srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.3", NULL, NUD_FAILED)), 1);
	CHECK_INT(verdict(&s, "192.168.7.3", BR, mac3), SRCCHECK_OK);
	CHECK_INT(srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.4", NULL,
						  NUD_INCOMPLETE)), 0);
	CHECK_INT(srccheck_update(&s, neigh_msg(RTM_DELNEIGH, BR, "2001:db8:7::3", "02:00:00:00:00:03",
						  NUD_STALE)), 1);
	CHECK_INT(verdict(&s, "2001:db8:7::3", BR, mac2), SRCCHECK_OK);
	CHECK_INT(s.neigh.n, 0);
	srccheck_clear(&s);
}

static void test_many_neighbours(void)
{
	struct srccheck s;
	char a[32];

	srccheck_init(&s);
	for (int i = 0; i < 5000; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.%d", i >> 16, (i >> 8) & 0xff, i & 0xff);
		CHECK_INT(srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, a, "02:00:00:00:00:03",
							  NUD_REACHABLE)), 1);
	}
	CHECK_INT(s.neigh.n, 5000);
	CHECK_INT(verdict(&s, "10.0.19.135", BR, mac2), SRCCHECK_HWADDR);
	CHECK_INT(verdict(&s, "10.0.19.135", BR, mac3), SRCCHECK_OK);
	srccheck_clear(&s);
}

static void test_malformed(void)
{
	struct srccheck s;
	struct nlmsghdr *nlh;

	srccheck_init(&s);
	/* an IPv4 address attribute of the wrong length */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	mnl_attr_put(nlh, IFA_LOCAL, 3, "abc");
	CHECK_INT(srccheck_update(&s, nlh), -EINVAL);
	/* a prefix longer than the address */
	nlh = addr_msg(RTM_NEWADDR, 1, "10.0.0.1", 24, NULL);
	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_prefixlen = 33;
	CHECK_INT(srccheck_update(&s, nlh), -EINVAL);
	/* truncated header */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	CHECK_INT(srccheck_update(&s, nlh), -EINVAL);
	/* an oversized link-layer address */
	nlh = neigh_msg(RTM_NEWNEIGH, BR, "10.0.0.2", NULL, NUD_REACHABLE);
	mnl_attr_put(nlh, NDA_LLADDR, 20, "01234567890123456789");
	CHECK_INT(srccheck_update(&s, nlh), -EINVAL);
	/* other families and messages are not ours */
	nlh = neigh_msg(RTM_NEWNEIGH, BR, "10.0.0.2", "02:00:00:00:00:03", NUD_REACHABLE);
	((struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_family = AF_BRIDGE;
	CHECK_INT(srccheck_update(&s, nlh), 0);
	nlh = neigh_msg(RTM_NEWNEIGH, BR, "10.0.0.2", "02:00:00:00:00:03", NUD_REACHABLE);
	((struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_flags = NTF_PROXY;
	CHECK_INT(srccheck_update(&s, nlh), 0);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	CHECK_INT(srccheck_update(&s, nlh), 0);
	CHECK_INT(s.n_addrs + s.neigh.n, 0);
	srccheck_clear(&s);
}

static bool has_vetted(const struct nftelem *v, size_t n, const char *ifname, const char *addr,
		       const uint8_t *mac)
{
	union inaddr a = ip(addr);
	size_t al = af_of(addr) == AF_INET ? 4 : 16;
	char name[16] = { 0 };

	strcpy(name, ifname);
	for (size_t i = 0; i < n; i++)
		if (!memcmp(v[i].key, name, 16) && !memcmp(v[i].key + 16, &a, al) &&
		    !memcmp(v[i].key + 16 + al, mac, 6) && !v[i].has_data && !v[i].timeout_ms)
			return true;
	return false;
}

/* br-lan and wan; interface 9 is gone */
static const char *names(uint32_t ifindex, char *name, void *data)
{
	(*(int *)data)++;
	if (ifindex != BR && ifindex != WAN)
		return NULL;
	snprintf(name, 16, "%s", ifindex == BR ? "br-lan" : "wan");
	return name;
}

/* What the kernel may serve by itself: neighbours that pass the check with their own MAC */
static void test_vetted(void)
{
	static const uint8_t mac4[6] = { 0x02, 0, 0, 0, 0, 0x04 };
	struct nftelem *v4, *v6;
	struct srccheck s;
	struct nlbatch b;
	uint64_t digest = 0;
	size_t n4, n6;
	int calls = 0;

	router(&s);
	CHECK_INT(srccheck_vetted(&s, names, &calls, 100, &v4, &n4, &v6, &n6), 0);
	CHECK_INT(n4 + n6, 0);
	free(v4);
	free(v6);
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.3", "02:00:00:00:00:03", NUD_REACHABLE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.4", "02:00:00:00:00:04", NUD_STALE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "2001:db8:7::3", "02:00:00:00:00:03", NUD_STALE));
	/* a prefix's network and broadcast addresses, the router's own, loopback: never */
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.0", "02:00:00:00:00:02", NUD_REACHABLE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.255", "02:00:00:00:00:02", NUD_REACHABLE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "203.0.113.1", "02:00:00:00:00:02", NUD_REACHABLE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "2001:db8:7::", "02:00:00:00:00:02", NUD_REACHABLE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "224.0.0.5", "02:00:00:00:00:02", NUD_PERMANENT));
	/* an interface that is gone: its neighbours are left out */
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, 9, "192.168.9.3", "02:00:00:00:00:03", NUD_REACHABLE));
	/* an entry without a usable link-layer address vouches for nothing */
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.9", NULL, NUD_INCOMPLETE));
	CHECK_INT(srccheck_vetted(&s, names, &calls, 100, &v4, &n4, &v6, &n6), 0);
	CHECK_INT(n4, 2);
	CHECK_INT(n6, 1);
	CHECK(has_vetted(v4, n4, "br-lan", "192.168.7.3", mac3));
	CHECK(has_vetted(v4, n4, "br-lan", "192.168.7.4", mac4));
	CHECK(!has_vetted(v4, n4, "br-lan", "192.168.7.3", mac2));
	CHECK(has_vetted(v6, n6, "br-lan", "2001:db8:7::3", mac3));
	CHECK(calls >= 4);
	free(v4);
	free(v6);
	/* bounded: never more than the set's size */
	CHECK_INT(srccheck_vetted(&s, names, &calls, 1, &v4, &n4, &v6, &n6), 0);
	CHECK_INT(n4, 1);
	free(v4);
	free(v6);
	/* written once per change, not per message */
	nlbatch_init(&b, 0);
	nlbatch_reset(&b);
	CHECK_INT(srccheck_write_vetted(&s, names, &calls, &b, &digest), 1);
	CHECK(nlbatch_finish(&b) > 0);
	nlbatch_reset(&b);
	CHECK_INT(srccheck_write_vetted(&s, names, &calls, &b, &digest), 0);
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.3", "02:00:00:00:00:03", NUD_STALE));
	CHECK_INT(srccheck_write_vetted(&s, names, &calls, &b, &digest), 0);
	/* the host's MAC changed: the old pair leaves the set */
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.3", "02:00:00:00:00:02", NUD_DELAY));
	CHECK_INT(srccheck_write_vetted(&s, names, &calls, &b, &digest), 1);
	CHECK_INT(srccheck_vetted(&s, names, &calls, 100, &v4, &n4, &v6, &n6), 0);
	CHECK(has_vetted(v4, n4, "br-lan", "192.168.7.3", mac2) && !has_vetted(v4, n4, "br-lan", "192.168.7.3", mac3));
	free(v4);
	free(v6);
	nlbatch_free(&b);
	srccheck_clear(&s);
}

/* DESIGN §2.11: a neighbour is its machine; anyone else its address or /64 */
static void test_host(void)
{
	struct srccheck s;
	struct hostid id, x, y;
	union inaddr a;
	char ll[HOSTID_LLADDR_LEN];

	router(&s);
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.3", "02:00:00:00:00:03", NUD_REACHABLE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "2001:db8:7::3", "02:00:00:00:00:03", NUD_STALE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "2001:db8:7::a:3", "02:00:00:00:00:03", NUD_DELAY));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "2001:db8:7::4", "02:00:00:00:00:04", NUD_REACHABLE));
	/* being resolved: no link-layer address the kernel vouches for yet */
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.5", NULL, NUD_INCOMPLETE));
	a = ip("192.168.7.3");
	srccheck_host(&s, AF_INET, &a, BR, &x);
	CHECK_INT(x.kind, HOSTID_LINK);
	CHECK_STR(hostid_lladdr(&x, ll), "02:00:00:00:00:03");
	/* the machine's IPv6 addresses, its temporary one too, are the same host */
	a = ip("2001:db8:7::3");
	srccheck_host(&s, AF_INET6, &a, BR, &id);
	CHECK(hostid_eq(&id, &x));
	a = ip("2001:db8:7::a:3");
	srccheck_host(&s, AF_INET6, &a, BR, &id);
	CHECK(hostid_eq(&id, &x));
	/* its neighbour in the same /64 is another */
	a = ip("2001:db8:7::4");
	srccheck_host(&s, AF_INET6, &a, BR, &y);
	CHECK(y.kind == HOSTID_LINK && !hostid_eq(&x, &y));
	/* no neighbour entry (routed, not yet resolved, another interface): the address, the /64 */
	a = ip("192.168.7.5");
	srccheck_host(&s, AF_INET, &a, BR, &id);
	CHECK_INT(id.kind, HOSTID_ADDR4);
	a = ip("192.168.7.3");
	srccheck_host(&s, AF_INET, &a, WAN, &id);
	CHECK_INT(id.kind, HOSTID_ADDR4);
	a = ip("2001:db8:50::10");
	srccheck_host(&s, AF_INET6, &a, BR, &id);
	hostid_addr(AF_INET6, &(union inaddr){ .v6 = ip("2001:db8:50::11").v6 }, &y);
	CHECK(id.kind == HOSTID_ADDR6 && hostid_eq(&id, &y));
	/* the neighbour gone: its address again */
	srccheck_update(&s, neigh_msg(RTM_DELNEIGH, BR, "192.168.7.3", "02:00:00:00:00:03", NUD_REACHABLE));
	a = ip("192.168.7.3");
	srccheck_host(&s, AF_INET, &a, BR, &id);
	CHECK_INT(id.kind, HOSTID_ADDR4);
	srccheck_clear(&s);
}

/*
 * Where the forward hook cannot look up the route back (kernels before
 * 6.1): a source on the incoming interface's own prefix is vouched for by
 * it, and only such neighbours are vetted for the kernel's first add.
 */
static void test_onlink(void)
{
	struct nftelem *v4, *v6;
	union inaddr a;
	struct srccheck s;
	size_t n4, n6;
	int calls = 0;

	router(&s);
	a = ip("192.168.7.9");
	CHECK(srccheck_onlink(&s, BR, AF_INET, &a));
	CHECK(!srccheck_onlink(&s, WAN, AF_INET, &a));
	a = ip("192.168.8.9");
	CHECK(!srccheck_onlink(&s, BR, AF_INET, &a));
	a = ip("2001:db8:7::1:2");
	CHECK(srccheck_onlink(&s, BR, AF_INET6, &a));
	a = ip("2001:db8:1::9");
	CHECK(!srccheck_onlink(&s, BR, AF_INET6, &a));
	/* a neighbour off the interface's prefixes (an ARP request's sender says what it likes) */
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.3", "02:00:00:00:00:03", NUD_REACHABLE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "10.9.9.9", "02:00:00:00:00:03", NUD_STALE));
	CHECK_INT(srccheck_vetted(&s, names, &calls, 100, &v4, &n4, &v6, &n6), 0);
	CHECK_INT(n4, 2);
	free(v4);
	free(v6);
	s.vet_onlink_only = true;
	srccheck_clear(&s);
	CHECK(s.vet_onlink_only);	/* kept across a fresh dump */
	router(&s);
	s.vet_onlink_only = true;
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "192.168.7.3", "02:00:00:00:00:03", NUD_REACHABLE));
	srccheck_update(&s, neigh_msg(RTM_NEWNEIGH, BR, "10.9.9.9", "02:00:00:00:00:03", NUD_STALE));
	CHECK_INT(srccheck_vetted(&s, names, &calls, 100, &v4, &n4, &v6, &n6), 0);
	CHECK_INT(n4, 1);
	free(v4);
	free(v6);
	srccheck_clear(&s);
}

TEST_MAIN({ "address classes", test_address_classes },
	  { "on-link", test_onlink },
	  { "hosts", test_host },
	  { "small prefixes", test_small_prefixes },
	  { "address removed", test_address_removed },
	  { "neighbours", test_neighbours },
	  { "many neighbours", test_many_neighbours },
	  { "malformed", test_malformed },
	  { "vetted sources", test_vetted })
