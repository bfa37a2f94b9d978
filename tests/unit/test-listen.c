#include <arpa/inet.h>
#include <errno.h>

#include "control/listen.h"
#include "test.h"

/* on a little-endian host, as the kernel prints them */
static const char tcp4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
	"   1: 0100007F:1B58 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1\n"
	"   2: 017100CB:1B3E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1\n"
	"   3: 0107A8C0:1B3F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1\n"
	"   4: 017100CB:1B40 097100CB:C350 01 00000000:00000000 00:00000000 00000000     0        0 5 1\n"
	"   5: garbage\n";
static const char udp4[] =
	"   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	"  10: 00000000:1B59 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 6 2 0 0\n"
	"  11: 00000000:1B5A 097100CB:0035 01 00000000:00000000 00:00000000 00000000     0        0 7 2 0 0\n";
static const char tcp6[] =
	"  sl  local_address                         remote_address                        st tx_queue rx_queue\n"
	"   0: 00000000000000000000000000000000:1B5E 00000000000000000000000000000000:0000 0A 00000000:00000000\n"
	"   1: 0000000000000000FFFF0000017100CB:1B5F 00000000000000000000000000000000:0000 0A 00000000:00000000\n"
	"   2: 000000000000000000000000FFFFFFFF:1B60 00000000000000000000000000000000:0000 0A 00000000:00000000\n";

static bool wan_addr(int af, const union inaddr *a, void *data)
{
	struct in_addr w;

	inet_pton(AF_INET, "203.0.113.1", &w);
	return af == AF_INET && a->v4.s_addr == w.s_addr;
}

static void test_parse(void)
{
	struct listen_set s = { 0 };
	char a[INET6_ADDRSTRLEN];

	CHECK_INT(listen_parse(&s, tcp4, strlen(tcp4), IPPROTO_TCP, AF_INET), 4);
	CHECK_INT(s.v[0].port, 22);
	CHECK_STR(inet_ntop(AF_INET, &s.v[1].addr, a, sizeof(a)), "127.0.0.1");
	CHECK_STR(inet_ntop(AF_INET, &s.v[2].addr, a, sizeof(a)), "203.0.113.1");
	CHECK_INT(s.v[2].port, 6974);
	/* UDP: bound and unconnected only */
	CHECK_INT(listen_parse(&s, udp4, strlen(udp4), IPPROTO_UDP, AF_INET), 1);
	CHECK_INT(s.v[4].port, 7001);
	CHECK_INT(listen_parse(&s, tcp6, strlen(tcp6), IPPROTO_TCP, AF_INET6), 3);
	CHECK_STR(inet_ntop(AF_INET6, &s.v[6].addr, a, sizeof(a)), "::ffff:203.0.113.1");
	/* nothing but a header, or nothing at all */
	CHECK_INT(listen_parse(&s, "header only", 11, IPPROTO_TCP, AF_INET), 0);
	CHECK_INT(listen_parse(&s, "", 0, IPPROTO_TCP, AF_INET), 0);
	listen_clear(&s);
}

static void test_warnings(void)
{
	struct config *c = config_new();
	const char *text = "rule ra trigger 7070/tcp forward 6970-7170/tcp,6970-7170/udp\n"
			   "rule ssh trigger 1/tcp forward 20-30/tcp family ipv6\n";
	struct listen_set s = { 0 };
	struct dynbuf out = { 0 };
	struct engine e;

	config_parse_text(c, "t.conf", text, strlen(text));
	CHECK_INT(c->n_errors, 0);
	engine_init(&e);
	engine_set_config(&e, c, 0, NULL, NULL);
	listen_parse(&s, tcp4, strlen(tcp4), IPPROTO_TCP, AF_INET);
	listen_parse(&s, udp4, strlen(udp4), IPPROTO_UDP, AF_INET);
	listen_parse(&s, tcp6, strlen(tcp6), IPPROTO_TCP, AF_INET6);
	/*
	 * ra: tcp 6974 on the WAN address, tcp 6975 on a LAN address (not
	 * reachable from the WAN), udp 7001 on the wildcard, tcp 7006 on ::,
	 * tcp 7007 on the mapped WAN address; 7008 on another mapped address
	 * is not. ssh is IPv6 only: pinholes do not shadow. 7000 is on loopback.
	 */
	CHECK_INT(listen_warnings(&e, &s, wan_addr, NULL, &out), 4);
	CHECK(strstr(out.data, "rule 'ra' forwards 6970-7170/tcp, which covers tcp port 6974 "
		     "the router itself listens on (203.0.113.1)"));
	CHECK(strstr(out.data, "covers udp port 7001 the router itself listens on (0.0.0.0)"));
	CHECK(strstr(out.data, "covers tcp port 7006 the router itself listens on ([::])"));
	CHECK(strstr(out.data, "covers tcp port 7007"));
	CHECK(!strstr(out.data, "port 6975"));
	CHECK(!strstr(out.data, "port 7008"));
	CHECK(!strstr(out.data, "'ssh'"));
	CHECK(!strstr(out.data, "port 7000 "));
	dynbuf_free(&out);
	/* the same port on tcp and tcp6 wildcards: one warning */
	listen_clear(&s);
	listen_parse(&s, tcp6, strlen(tcp6), IPPROTO_TCP, AF_INET6);
	listen_parse(&s, tcp6, strlen(tcp6), IPPROTO_TCP, AF_INET6);
	CHECK_INT(listen_warnings(&e, &s, wan_addr, NULL, &out), 2);
	dynbuf_free(&out);
	listen_clear(&s);
	engine_fini(&e);
}

TEST_MAIN(T(test_parse), T(test_warnings))
