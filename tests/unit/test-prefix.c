#include <arpa/inet.h>
#include <errno.h>

#include "rules/prefix.h"
#include "test.h"

static int parse(const char *s, struct addrprefix *p)
{
	return prefix_parse(s, strlen(s), p);
}

static char *fmt(const char *s)
{
	static char buf[64];
	struct addrprefix p;

	if (parse(s, &p) < 0)
		return NULL;
	prefix_format(&p, buf, sizeof(buf));
	return buf;
}

static void test_parse(void)
{
	struct addrprefix p;

	CHECK_STR(fmt("192.168.1.0/24"), "192.168.1.0/24");
	CHECK_STR(fmt("192.168.1.20"), "192.168.1.20");
	CHECK_STR(fmt("192.168.1.20/32"), "192.168.1.20");
	CHECK_STR(fmt("0.0.0.0/0"), "0.0.0.0/0");
	CHECK_STR(fmt("fd00::/64"), "fd00::/64");
	CHECK_STR(fmt("FD00:0::/8"), "fd00::/8");
	CHECK_STR(fmt("2001:db8::5"), "2001:db8::5");
	CHECK_STR(fmt("::/0"), "::/0");
	CHECK_INT(parse("192.168.1.5/24", &p), -EADDRNOTAVAIL);
	CHECK_INT(parse("fd00::1/64", &p), -EADDRNOTAVAIL);
	CHECK_INT(parse("192.168.1.0/33", &p), -ERANGE);
	CHECK_INT(parse("fd00::/129", &p), -ERANGE);
	CHECK_INT(parse("192.168.1.0/", &p), -EINVAL);
	CHECK_INT(parse("192.168.1.0/-1", &p), -EINVAL);
	CHECK_INT(parse("192.168.1.0/+8", &p), -EINVAL);
	CHECK_INT(parse("192.168.1.0/2x", &p), -EINVAL);
	CHECK_INT(parse("192.168.1.0/0024", &p), -EINVAL);
	CHECK_INT(parse("192.168.1/24", &p), -EINVAL);
	CHECK_INT(parse("host.example", &p), -EINVAL);
	CHECK_INT(parse("", &p), -EINVAL);
	CHECK_INT(parse("/24", &p), -EINVAL);
	CHECK_INT(parse("1111:2222:3333:4444:5555:6666:7777:8888:9999", &p), -EINVAL);
	/* not NUL-terminated: only LEN bytes count */
	CHECK_INT(prefix_parse("10.0.0.0/89", 9, &p), -EINVAL);
	CHECK_INT(prefix_parse("10.0.0.0/8junk", 10, &p), 0);
	CHECK_INT(p.plen, 8);
}

static void test_match(void)
{
	struct prefixlist l = { 0 }, copy;
	struct addrprefix p;
	union inaddr a;

	parse("192.168.1.0/24", &p);
	prefixlist_add(&l, &p);
	parse("10.0.0.7", &p);
	prefixlist_add(&l, &p);
	parse("fd00:1:2:3::/64", &p);
	prefixlist_add(&l, &p);
	inet_pton(AF_INET, "192.168.1.200", &a.v4);
	CHECK(prefixlist_match(&l, AF_INET, &a));
	inet_pton(AF_INET, "192.168.2.1", &a.v4);
	CHECK(!prefixlist_match(&l, AF_INET, &a));
	inet_pton(AF_INET, "10.0.0.7", &a.v4);
	CHECK(prefixlist_match(&l, AF_INET, &a));
	inet_pton(AF_INET, "10.0.0.8", &a.v4);
	CHECK(!prefixlist_match(&l, AF_INET, &a));
	inet_pton(AF_INET6, "fd00:1:2:3:ffff::1", &a.v6);
	CHECK(prefixlist_match(&l, AF_INET6, &a));
	inet_pton(AF_INET6, "fd00:1:2:4::1", &a.v6);
	CHECK(!prefixlist_match(&l, AF_INET6, &a));
	/* an IPv4 prefix never matches an IPv6 address with the same first bytes */
	memset(&a, 0, sizeof(a));
	a.v6.s6_addr[0] = 192;
	a.v6.s6_addr[1] = 168;
	a.v6.s6_addr[2] = 1;
	CHECK(!prefixlist_match(&l, AF_INET6, &a));
	CHECK_INT(prefixlist_copy(&copy, &l), 0);
	CHECK_INT(copy.n, 3);
	prefixlist_clear(&l);
	inet_pton(AF_INET, "10.0.0.7", &a.v4);
	CHECK(!prefixlist_match(&l, AF_INET, &a));
	CHECK(prefixlist_match(&copy, AF_INET, &a));
	prefixlist_clear(&copy);
}

static void test_host_key(void)
{
	union inaddr a, k, want;

	memset(&a, 0xee, sizeof(a));
	inet_pton(AF_INET, "192.168.7.2", &a.v4);
	host_key(AF_INET, &a, &k);
	memset(&want, 0, sizeof(want));
	inet_pton(AF_INET, "192.168.7.2", &want.v4);
	CHECK(!memcmp(&k, &want, sizeof(k)));
	inet_pton(AF_INET6, "2001:db8:7:0:1234:5678:9abc:def0", &a.v6);
	host_key(AF_INET6, &a, &k);
	inet_pton(AF_INET6, "2001:db8:7::", &want.v6);
	CHECK(!memcmp(&k, &want, sizeof(k)));
}

TEST_MAIN(T(test_parse), T(test_match), T(test_host_key))
