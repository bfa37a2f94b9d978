#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/kcaps.h"
#include "engine/learn.h"
#include "control/learnreport.h"
#include "nft/nftelem.h"
#include "nft/nftobj.h"
#include "test.h"

static struct config *cfg;
static struct learn ln;

static void setup(const char *text)
{
	cfg = config_new();
	config_parse_text(cfg, "t.conf", text, strlen(text));
	CHECK_INT(cfg->n_errors, 0);
	learn_init(&ln);
}

static void teardown(void)
{
	learn_fini(&ln);
	config_free(cfg);
}

static union inaddr addr(const char *text)
{
	union inaddr a = { 0 };

	inet_pton(strchr(text, ':') ? AF_INET6 : AF_INET, text, &a);
	return a;
}

static int contact(const char *rule, const char *host, const char *peer, uint64_t now)
{
	union inaddr h = addr(host), p = addr(peer);

	return learn_contact(&ln, config_find_rule(cfg, rule), strchr(host, ':') ? AF_INET6 : AF_INET,
			     &h, &p, now);
}

/* A connection from PEER to DST (the router, or for IPv6 the host) on PROTO/PORT */
static int packet(const char *peer, const char *dst, uint8_t proto, uint16_t port, uint64_t now)
{
	struct nflog_pkt pkt = { .af = strchr(peer, ':') ? AF_INET6 : AF_INET, .proto = proto,
				 .dport = port, .saddr = addr(peer), .daddr = addr(dst) };

	return learn_packet(&ln, &pkt, now, NULL, NULL);
}

static const char *report(const char *rule, bool json, uint64_t now)
{
	static struct dynbuf out;

	dynbuf_free(&out);
	if (learnreport_format(&ln, cfg, rule, now, json, &out) < 0)
		return "error";
	return out.data ? out.data : "";
}

static const char *suggest(const char *rule)
{
	static char buf[512];
	struct strbuf sb = STRBUF_INIT(buf, sizeof(buf));
	struct portrange *v;
	size_t n;
	char tmp[32];

	buf[0] = '\0';
	CHECK_INT(learnreport_suggest(&ln, cfg, config_find_rule(cfg, rule), &v, &n), 0);
	for (size_t i = 0; i < n; i++) {
		portrange_format(&v[i], tmp, sizeof(tmp));
		strbuf_printf(&sb, "%s%s", i ? "," : "", tmp);
	}
	free(v);
	return buf;
}

static void test_seed_story(void)
{
	setup("rule realaudio trigger 7070/tcp forward 6970-7170/udp\n");
	CHECK_INT(contact("realaudio", "192.168.7.2", "203.0.113.9", 1000), 0);
	for (uint16_t p = 1100; p >= 1024; p--)
		CHECK_INT(packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, p, 2000 + 1100 - p), 1);
	CHECK_INT(ln.rec.n, 1);
	CHECK_INT(ln.rec.v[0]->n_ranges, 1);
	CHECK_INT(ln.rec.v[0]->ranges[0].lo, 1024);
	CHECK_INT(ln.rec.v[0]->ranges[0].hi, 1100);
	CHECK_INT(ln.rec.v[0]->connections, 77);
	/* a stranger, and another protocol of the same peer */
	CHECK_INT(packet("203.0.113.10", "203.0.113.1", IPPROTO_UDP, 1200, 4000), 0);
	CHECK_INT(ln.unattributed, 1);
	CHECK_INT(packet("203.0.113.9", "203.0.113.1", IPPROTO_TCP, 1500, 4000), 1);
	CHECK_INT(packet("203.0.113.9", "203.0.113.1", IPPROTO_ICMP, 0, 4000), 0);
	CHECK_INT(ln.rec.n, 2);
	CHECK_STR(suggest("realaudio"), "1500/tcp,1024-1100/udp,6970-7170/udp");
	CHECK_STR(report(NULL, false, 64000),
		  "realaudio: peer 203.0.113.9 tried tcp 1500 (1 connection, not forwarded; "
		  "host 192.168.7.2, first 1m ago, last 1m ago)\n"
		  "realaudio: peer 203.0.113.9 tried udp 1024-1100 (77 connections, not forwarded; "
		  "host 192.168.7.2, first 1m2s ago, last 1m1s ago)\n"
		  "realaudio: suggest: forward 1500/tcp,1024-1100/udp,6970-7170/udp\n");
	CHECK_STR(report("realaudio", true, 64000),
		  "{\n"
		  "  \"learn\": true,\n"
		  "  \"rules\": [{\"rule\": \"realaudio\", \"forwards\": [\"6970-7170/udp\"], \"seen\": ["
		  "{\"family\": \"ipv4\", \"peer\": \"203.0.113.9\", \"host\": \"192.168.7.2\", "
		  "\"proto\": \"tcp\", \"ports\": [\"1500\"], \"connections\": 1, \"not_kept\": 0, "
		  "\"first_seen\": 60, \"last_seen\": 60},"
		  "{\"family\": \"ipv4\", \"peer\": \"203.0.113.9\", \"host\": \"192.168.7.2\", "
		  "\"proto\": \"udp\", \"ports\": [\"1024-1100\"], \"connections\": 77, \"not_kept\": 0, "
		  "\"first_seen\": 62, \"last_seen\": 61}], "
		  "\"suggest\": [\"1500/tcp\",\"1024-1100/udp\",\"6970-7170/udp\"]}],\n"
		  "  \"records\": 2,\n"
		  "  \"peers_listed\": 1,\n"
		  "  \"peers_not_listed\": 0,\n"
		  "  \"records_not_kept\": 0,\n"
		  "  \"unattributed\": 1\n"
		  "}\n");
	CHECK_STR(report("nosuch", false, 0), "error");
	/* the contact ends with the rule's timeout */
	CHECK_INT(packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, 3000, 1000 + 300000), 0);
	CHECK_INT(packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, 3000, 1000 + 299999), 1);
	teardown();
}

static void test_issue_example(void)
{
	/* "tried udp 1024-1031,1500 ... suggest: forward 6970-7170/udp,1024-1500/udp" */
	setup("rule realaudio trigger 7070/tcp forward 6970-7170/udp\n"
	      "rule other trigger 1/tcp forward 1200-1210/udp\n"
	      "rule friend trigger 2/tcp forward 1300/udp peer\n");
	contact("realaudio", "192.168.7.2", "203.0.113.9", 0);
	for (uint16_t p = 1024; p <= 1031; p++)
		packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, p, 1);
	packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, 1500, 1);
	/* what other rules forward is left out (they would overlap) */
	CHECK_STR(suggest("realaudio"), "1024-1199/udp,1211-1299/udp,1301-1500/udp,6970-7170/udp");
	CHECK(strstr(report(NULL, false, 1000), "realaudio: peer 203.0.113.9 tried udp 1024-1031,1500 (9 connections"));
	teardown();
}

static void test_ipv6_and_forget(void)
{
	setup("rule ra trigger 7070/tcp forward 6970-7170/udp\n"
	      "rule vo trigger 5060/udp forward 10000-10100/udp peer\n");
	contact("ra", "2001:db8:7::2", "2001:db8:1::9", 0);
	/* to another host of the LAN: not this contact */
	CHECK_INT(packet("2001:db8:1::9", "2001:db8:7::3", IPPROTO_UDP, 2000, 1), 0);
	CHECK_INT(packet("2001:db8:1::9", "2001:db8:7::2", IPPROTO_UDP, 2000, 1), 1);
	CHECK(strstr(report(NULL, true, 1000), "{\"family\": \"ipv6\", \"peer\": \"2001:db8:1::9\", "
		     "\"host\": \"2001:db8:7::2\", \"proto\": \"udp\", \"ports\": [\"2000\"]"));
	/* two rules whose host contacted the same peer: both record */
	contact("ra", "192.168.7.2", "203.0.113.9", 0);
	contact("vo", "192.168.7.3", "203.0.113.9", 0);
	CHECK_INT(packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, 4000, 1), 2);
	/* a forwarding that closes takes its contacts along */
	union inaddr h = addr("192.168.7.2");

	learn_forget(&ln, "ra", AF_INET, &h);
	CHECK_INT(packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, 4001, 1), 1);
	learn_forget(&ln, "vo", AF_INET6, &h);	/* another family: nothing */
	h = addr("192.168.7.3");
	learn_forget(&ln, "vo", AF_INET, &h);
	CHECK_INT(packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, 4002, 1), 0);
	CHECK_INT(ln.rec.n, 3);
	/* a rule gone from the configuration takes its records */
	config_free(cfg);
	cfg = config_new();
	config_parse_text(cfg, "t.conf", "rule vo trigger 5060/udp forward 10000-10100/udp peer\n", 54);
	learn_keep_rules(&ln, cfg);
	CHECK_INT(ln.rec.n, 1);
	CHECK_STR(ln.rec.v[0]->rule, "vo");
	CHECK_INT(learn_clear(&ln, "vo"), 1);
	CHECK_STR(report(NULL, false, 0), "nothing learned yet\n");
	teardown();
}

static void test_bounded(void)
{
	setup("rule ra trigger 7070/tcp forward 6970-7170/udp\n");
	contact("ra", "192.168.7.2", "203.0.113.9", 0);
	/* every other port: ranges do not coalesce, the cap holds */
	for (unsigned p = 0; p < 2 * (LEARN_RANGES_MAX + 10); p += 2)
		packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, 20000 + p, 1);
	CHECK_INT(ln.rec.v[0]->n_ranges, LEARN_RANGES_MAX);
	CHECK_INT(ln.rec.v[0]->not_kept, 10);
	CHECK_INT(ln.rec.v[0]->connections, LEARN_RANGES_MAX + 10);
	/* filling a gap joins two ranges */
	packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, 20001, 1);
	CHECK_INT(ln.rec.v[0]->n_ranges, LEARN_RANGES_MAX - 1);
	CHECK_INT(ln.rec.v[0]->ranges[0].lo, 20000);
	CHECK_INT(ln.rec.v[0]->ranges[0].hi, 20002);
	CHECK(strstr(report(NULL, false, 1000), "; 10 to more ports not kept;"));

	/* records: one per peer here, capped */
	for (unsigned i = 0; i < LEARN_RECORDS_MAX + 5; i++) {
		union inaddr h = addr("192.168.7.2"), p = { .v4.s_addr = htonl(0xc6120000 + i) };
		struct nflog_pkt pkt = { .af = AF_INET, .proto = IPPROTO_UDP, .dport = 1, .saddr = p };

		learn_contact(&ln, cfg->rules[0], AF_INET, &h, &p, 0);
		learn_packet(&ln, &pkt, 1, NULL, NULL);
	}
	CHECK_INT(ln.rec.n, LEARN_RECORDS_MAX);
	CHECK_INT(ln.rec.not_kept, 6);
	/* peers: at most LEARN_PEERS_MAX listed; more wait until listed ones expire */
	size_t listed = ln.n_peers;

	for (unsigned i = 0; i < LEARN_PEERS_MAX + 3; i++) {
		union inaddr h = addr("192.168.7.2"), p = { .v4.s_addr = htonl(0x0a000000 + i) };

		learn_contact(&ln, cfg->rules[0], AF_INET, &h, &p, 10 + i);
	}
	CHECK_INT(ln.n_peers, LEARN_PEERS_MAX);
	CHECK_INT(ln.peers_not_listed, listed + 3);
	{
		union inaddr h = addr("192.168.7.2"), p = { .v4.s_addr = htonl(0x0a000000 + LEARN_PEERS_MAX + 2) };
		struct nflog_pkt last = { .af = AF_INET, .proto = IPPROTO_UDP, .dport = 2, .saddr = p };

		CHECK_INT(learn_packet(&ln, &last, 20, NULL, NULL), 0);
		/* once the listed ones are past their time, at most a second later, it is */
		learn_contact(&ln, cfg->rules[0], AF_INET, &h, &p, 400000);
		CHECK_INT(ln.n_peers, 1);
		CHECK_INT(learn_packet(&ln, &last, 400001, NULL, NULL), 1);
	}
	teardown();
}

static const char *op(const struct nlbatch *b, size_t i)
{
	return i < b->n_ops ? b->ops[i].what : "";
}

static void test_kernel_writes(void)
{
	struct nlbatch b;

	nlbatch_init(&b, 1);
	setup("rule ra trigger 7070/tcp forward 6970-7170/udp timeout 80s\n");
	contact("ra", "192.168.7.2", "203.0.113.9", 0);
	contact("ra", "2001:db8:7::2", "2001:db8:1::9", 0);
	nlbatch_reset(&b);
	CHECK_INT(learn_write_pending(&ln, &b, 0), 2);
	CHECK_STR(op(&b, 0), "add 1 in learn4");
	CHECK_STR(op(&b, 1), "add 1 in learn6");
	/* a refresh within an eighth of the timeout is not written */
	contact("ra", "192.168.7.2", "203.0.113.9", 10000);
	nlbatch_reset(&b);
	CHECK_INT(learn_write_pending(&ln, &b, 10000), 0);
	contact("ra", "192.168.7.2", "203.0.113.9", 10001);
	/* the kernel's element goes first: before Linux 6.12 an add keeps its old timeout */
	CHECK_INT(learn_write_pending(&ln, &b, 10001), 2);
	CHECK_STR(op(&b, 0), "delete 1 in learn4");
	CHECK_STR(op(&b, 1), "add 1 in learn4");
	CHECK_INT(b.ops[0].type, NFTOBJ_MSG_DESTROYSETELEM);
	nlbatch_reset(&b);
	/* a commit of learn elements alone: at most every LEARN_WRITE_GAP_MS, the rest held back */
	contact("ra", "192.168.7.3", "203.0.113.10", 10001);
	nlbatch_reset(&b);
	CHECK_INT(learn_deadline(&ln), 10001 + LEARN_WRITE_GAP_MS);
	CHECK_INT(learn_write_pending(&ln, &b, 10001 + LEARN_WRITE_GAP_MS - 1), 0);
	CHECK_INT(learn_write_pending(&ln, &b, 10001 + LEARN_WRITE_GAP_MS), 1);
	CHECK_INT(learn_deadline(&ln), UINT64_MAX);
	/* but into a batch that goes anyway, at once */
	contact("ra", "192.168.7.3", "203.0.113.11", 10004);
	nlbatch_reset(&b);
	CHECK_INT(learn_write_pending(&ln, &b, 10004), 0);
	nlbatch_reset(&b);
	{
		union inaddr other = addr("203.0.113.12");
		struct nftelem e;

		nftelem_learn(AF_INET, &other, NULL, 1000, 1000, &e);
		CHECK_INT(nftelem_write_set(&b, NFT_MSG_NEWSETELEM, NFTOBJ_LEARN4, &e, 1), 0);
	}
	CHECK_INT(learn_write_pending(&ln, &b, 10004), 1);
	CHECK_STR(op(&b, 1), "add 1 in learn4");
	/* the whole state after a flush */
	nlbatch_reset(&b);
	CHECK_INT(learn_write_all(&ln, &b, 20000), 0);
	CHECK_INT(b.n_ops, 2);
	/* without DESTROY (before 6.3): added, deleted, added, so that an expired one cannot fail the batch */
	{
		struct kcaps k;

		kcaps_all(&k);
		k.has[KCAP_DESTROY] = false;
		ln.caps = &k;
		contact("ra", "192.168.7.2", "203.0.113.9", 40002);
		nlbatch_reset(&b);
		CHECK_INT(learn_write_pending(&ln, &b, 40002), 3);
		CHECK_INT(b.ops[0].type, NFT_MSG_NEWSETELEM);
		CHECK_INT(b.ops[1].type, NFT_MSG_DELSETELEM);
		CHECK_INT(b.ops[2].type, NFT_MSG_NEWSETELEM);
		ln.caps = NULL;
	}
	/* learn off: nothing is listed or recorded */
	learn_set_enabled(&ln, false);
	CHECK_INT(ln.n_peers, 0);
	CHECK_INT(contact("ra", "192.168.7.2", "203.0.113.9", 50000), 0);
	CHECK_INT(packet("203.0.113.9", "203.0.113.1", IPPROTO_UDP, 1, 50001), 0);
	nlbatch_reset(&b);
	CHECK_INT(learn_write_pending(&ln, &b, 50002), 0);
	CHECK(strstr(report(NULL, false, 0), "learn mode is off"));
	nlbatch_free(&b);
	teardown();
}

static void test_elements(void)
{
	union inaddr p = addr("203.0.113.9"), h = addr("2001:db8:7::2"), p6 = addr("2001:db8:1::9");
	struct nftelem e;

	CHECK_INT(nftelem_learn(AF_INET, &p, NULL, 300000, 1000, &e), NFTOBJ_LEARN4);
	CHECK(!memcmp(e.key, "\xcb\x00\x71\x09", 4) && e.timeout_ms == 300000 && e.expiration_ms == 1000);
	CHECK_INT(nftelem_learn(AF_INET6, &p6, &h, 0, 0, &e), NFTOBJ_LEARN6);
	CHECK(!memcmp(e.key, &p6, 16) && !memcmp(e.key + 16, &h, 16) && !e.has_key_end);
}

static union inaddr nth_peer(int af, unsigned i)
{
	union inaddr a = { 0 };

	if (af == AF_INET) {
		a.v4.s_addr = htonl(0xcb007100 + i);	/* past 203.0.113.255: any address will do */
	} else {
		a = addr("2001:db8:1::");
		a.v6.s6_addr[14] = i >> 8;
		a.v6.s6_addr[15] = i & 0xff;
	}
	return a;
}

static int nth_packet(int af, unsigned i, const char *dst, uint64_t now)
{
	struct nflog_pkt pkt = { .af = af, .proto = IPPROTO_UDP, .dport = 9, .saddr = nth_peer(af, i),
				 .daddr = addr(dst) };

	return learn_packet(&ln, &pkt, now, NULL, NULL);
}

/*
 * The peer index past the cap: every listed peer (both families, two
 * timeouts) is found, every refused one is not, refreshes at the cap
 * list nothing new, and when the short-lived ones expire only they go.
 */
static void test_index_past_cap(void)
{
	const unsigned half = LEARN_PEERS_MAX / 2, extra = 1000;
	union inaddr h4 = addr("192.168.7.2"), h6 = addr("2001:db8:7::2"), p;
	struct nlbatch b;

	nlbatch_init(&b, 1);
	setup("rule short trigger 1/tcp forward 2/udp timeout 1m\n"
	      "rule long trigger 3/tcp forward 4/udp timeout 10m\n");
	/* IPv4 peers of the short rule, IPv6 peers of the long one, then more of each */
	for (unsigned i = 0; i < half + extra; i++) {
		p = nth_peer(AF_INET, i);
		CHECK_INT(learn_contact(&ln, cfg->rules[0], AF_INET, &h4, &p, i), 0);
		p = nth_peer(AF_INET6, i);
		CHECK_INT(learn_contact(&ln, cfg->rules[1], AF_INET6, &h6, &p, i), 0);
	}
	CHECK_INT(ln.n_peers, LEARN_PEERS_MAX);
	CHECK_INT(ln.peers_not_listed, 2 * extra);
	/* every listed peer, and only those, is written once */
	nlbatch_reset(&b);
	CHECK_INT(learn_write_pending(&ln, &b, 10000), 16);	/* 256 elements a message */
	for (size_t i = 0; i < 16; i++)
		CHECK_STR(op(&b, i), i < 8 ? "add 256 in learn4" : "add 256 in learn6");
	for (unsigned i = 0; i < half + extra; i += 7) {
		CHECK_INT(nth_packet(AF_INET, i, "203.0.113.1", 20000), i < half);
		CHECK_INT(nth_packet(AF_INET6, i, "2001:db8:7::2", 20000), i < half);
	}
	/* IPv6: the host is part of the key */
	CHECK_INT(nth_packet(AF_INET6, 0, "2001:db8:7::3", 20000), 0);
	/* a listed peer contacted by more rules and hosts is one peer, found with each */
	p = nth_peer(AF_INET, 5);
	CHECK_INT(learn_contact(&ln, cfg->rules[1], AF_INET, &h4, &p, 30000), 0);
	for (unsigned k = 3; k < 6; k++) {
		union inaddr h = h4;

		h.v4.s_addr = htonl(ntohl(h.v4.s_addr) + k);
		CHECK_INT(learn_contact(&ln, cfg->rules[1], AF_INET, &h, &p, 30000), 0);
	}
	CHECK_INT(ln.n_peers, LEARN_PEERS_MAX);
	CHECK_INT(nth_packet(AF_INET, 5, "203.0.113.1", 30001), 5);
	learn_forget(&ln, "long", AF_INET, &h4);
	CHECK_INT(nth_packet(AF_INET, 5, "203.0.113.1", 30002), 4);
	/* nothing has expired: new peers wait, none of the listed ones goes */
	p = nth_peer(AF_INET, half + extra);
	CHECK_INT(learn_contact(&ln, cfg->rules[0], AF_INET, &h4, &p, 40000), 0);
	CHECK_INT(ln.n_peers, LEARN_PEERS_MAX);
	CHECK_INT(ln.peers_not_listed, 2 * extra + 1);
	/* the short rule's peers (but peer 5, still contacted for the long one) expire: only they go */
	CHECK_INT(learn_contact(&ln, cfg->rules[0], AF_INET, &h4, &p, 120000), 0);
	CHECK_INT(ln.n_peers, half + 1 + 1);
	CHECK_INT(nth_packet(AF_INET, half + extra, "203.0.113.1", 120001), 1);
	CHECK_INT(nth_packet(AF_INET, 5, "203.0.113.1", 120001), 3);
	CHECK_INT(nth_packet(AF_INET, 6, "203.0.113.1", 120001), 0);
	for (unsigned i = 0; i < half; i += 5)
		CHECK_INT(nth_packet(AF_INET6, i, "2001:db8:7::2", 120001), 1);
	/* the room made lists new peers again */
	for (unsigned i = half; i < half + extra; i++) {
		p = nth_peer(AF_INET6, i);
		CHECK_INT(learn_contact(&ln, cfg->rules[1], AF_INET6, &h6, &p, 130000), 0);
	}
	CHECK_INT(ln.n_peers, half + 2 + extra);
	CHECK_INT(nth_packet(AF_INET6, half + extra - 1, "2001:db8:7::2", 130001), 1);
	nlbatch_free(&b);
	teardown();
}

TEST_MAIN(T(test_seed_story), T(test_issue_example), T(test_ipv6_and_forget), T(test_bounded),
	  T(test_kernel_writes), T(test_elements),
	  T(test_index_past_cap))
