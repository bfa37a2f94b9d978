#include <arpa/inet.h>
#include <errno.h>

#include "rules/config.h"
#include "engine/fwtable.h"
#include "test.h"

static struct config *cfg(const char *text)
{
	struct config *c = config_new();

	config_parse_text(c, "t.conf", text, strlen(text));
	CHECK_INT(c->n_errors, 0);
	return c;
}

static union inaddr v4(const char *s)
{
	union inaddr a = { 0 };

	inet_pton(AF_INET, s, &a.v4);
	return a;
}

/* HOST's forwardings against R's limit, HOST standing for itself (IPv4) or its /64 */
static unsigned host_count(const struct fwtable *t, const struct rule *r, int af, const union inaddr *host)
{
	struct hostid id;

	hostid_addr(af, host, &id);
	return fwtable_host_count(t, r, &id);
}

static struct hostid mac(uint8_t last)
{
	const uint8_t ll[6] = { 0x02, 0, 0, 0, 0, last };
	struct hostid id;

	hostid_link(ll, sizeof(ll), &id);
	return id;
}

static void test_open_refresh_takeover_expire(void)
{
	struct config *c = cfg("rule ra trigger 7070/tcp forward 6970-7170/udp timeout 10s\n");
	const struct rule *r = c->rules[0];
	union inaddr h1 = v4("192.168.7.2"), h2 = v4("192.168.7.3"), peer = v4("203.0.113.9"), old;
	struct fwtable t;
	struct fwd *f, *g;

	fwtable_init(&t);
	CHECK_INT(fwtable_trigger(&t, r, AF_INET, &h1, NULL, &peer, 1000, &f, &old), FWD_OPENED);
	CHECK_INT(f->timer.deadline, 11000);
	CHECK_INT(f->pending, FWD_PENDING_ASSIGN);
	CHECK(fwtable_take_pending(&t) == f);
	f->pending = FWD_PENDING_NONE;

	CHECK_INT(fwtable_trigger(&t, r, AF_INET, &h1, NULL, &peer, 5000, &g, &old), FWD_REFRESHED);
	CHECK(g == f);
	CHECK_INT(f->timer.deadline, 15000);
	CHECK_INT(f->pending, FWD_PENDING_REFRESH);

	CHECK_INT(fwtable_trigger(&t, r, AF_INET, &h2, NULL, &peer, 6000, &g, &old), FWD_TAKEN_OVER);
	CHECK(g == f);
	CHECK(!memcmp(&old.v4, &h1.v4, 4));
	CHECK(!memcmp(&f->host.v4, &h2.v4, 4));
	CHECK_INT(f->pending, FWD_PENDING_ASSIGN);	/* assign wins over refresh */
	CHECK(f->has_old && !memcmp(&f->old_host.v4, &h1.v4, 4));
	CHECK_INT(t.n, 1);

	CHECK(fwtable_pop_expired(&t, 15999) == NULL);
	CHECK_INT(fwtable_next_deadline(&t), 16000);
	f = fwtable_pop_expired(&t, 16000);
	CHECK(f != NULL);
	CHECK(fwtable_take_pending(&t) == NULL);	/* expired entries leave the pending list */
	free(f);
	CHECK_INT(t.n, 0);
	CHECK_INT(fwtable_next_deadline(&t), FWD_FOREVER);
	CHECK_INT(t.stats.opened, 1);
	CHECK_INT(t.stats.refreshed, 1);
	CHECK_INT(t.stats.taken_over, 1);
	CHECK_INT(t.stats.expired, 1);
	fwtable_clear(&t);
	config_free(c);
}

static void test_exclusive(void)
{
	struct config *c = cfg("rule x trigger 1/tcp forward 100/udp exclusive timeout 10s\n");
	union inaddr h1 = v4("192.168.7.2"), h2 = v4("192.168.7.3");
	struct fwtable t;
	struct fwd *f;

	fwtable_init(&t);
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h1, NULL, NULL, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h2, NULL, NULL, 1000, &f, NULL), FWD_REFUSED);
	CHECK(!memcmp(&f->host.v4, &h1.v4, 4));
	CHECK_INT(f->timer.deadline, 10000);	/* a refused trigger does not refresh */
	/* after expiry the other host may have it */
	free(fwtable_pop_expired(&t, 10000));
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h2, NULL, NULL, 10001, &f, NULL), FWD_OPENED);
	fwtable_clear(&t);
	config_free(c);
}

static void test_peer_keys_and_families(void)
{
	struct config *c = cfg("rule v trigger 5060/udp forward 10000-20000/udp peer timeout 2m\n"
			       "rule w trigger 1/tcp forward 30/tcp\n");
	union inaddr h1 = v4("192.168.7.2"), h2 = v4("192.168.7.3");
	union inaddr p1 = v4("203.0.113.9"), p2 = v4("203.0.113.10");
	struct fwtable t;
	struct fwd *f;

	fwtable_init(&t);
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h1, NULL, &p1, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h2, NULL, &p2, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(t.n, 2);
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h2, NULL, &p1, 0, &f, NULL), FWD_TAKEN_OVER);
	/* non-peer rules ignore the peer: one forwarding whatever it talked to */
	CHECK_INT(fwtable_trigger(&t, c->rules[1], AF_INET, &h1, NULL, &p1, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_trigger(&t, c->rules[1], AF_INET, &h1, NULL, &p2, 0, &f, NULL), FWD_REFRESHED);
	CHECK_INT(t.n, 3);
	CHECK(fwtable_lookup(&t, c->rules[0], AF_INET, &p1) != NULL);
	CHECK(fwtable_lookup(&t, c->rules[0], AF_INET6, &p1) == NULL);
	fwtable_clear(&t);
	config_free(c);
}

static void test_many(void)
{
	struct config *c = cfg("rule v trigger 5060/udp forward 10000-20000/udp peer timeout 2m\n");
	struct fwtable t;
	struct fwd *f, **all;
	union inaddr h = v4("192.168.7.2");
	size_t n = 0;

	fwtable_init(&t);
	for (uint32_t i = 0; i < 10000; i++) {
		union inaddr p = { .v4.s_addr = htonl(0xcb007100 + i) };

		CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h, NULL, &p, i, &f, NULL), FWD_OPENED);
	}
	CHECK_INT(t.n, 10000);
	all = fwtable_sorted(&t);
	while (all[n])
		n++;
	CHECK_INT(n, 10000);
	free(all);
	for (uint32_t i = 0; i < 5000; i++)
		free(fwtable_pop_expired(&t, 120000 + 4999));
	CHECK_INT(t.n, 5000);
	CHECK_INT(fwtable_next_deadline(&t), 125000);
	fwtable_clear(&t);
	config_free(c);
}

static union inaddr v6(const char *s)
{
	union inaddr a = { 0 };

	inet_pton(AF_INET6, s, &a.v6);
	return a;
}

static void test_max_per_host(void)
{
	struct config *c = cfg("rule v trigger 5060/udp forward 10000-20000/udp peer timeout 10s\n"
			       "rule w trigger 1/tcp forward 30/tcp timeout 10s\n"
			       "rule big trigger 2/tcp forward 40/tcp peer timeout 10s max-per-host 5\n");
	const struct rule *v = c->rules[0], *w = c->rules[1], *big = c->rules[2];
	union inaddr h1 = v4("192.168.7.2"), h2 = v4("192.168.7.3"), p;
	struct fwtable t;
	struct fwd *f;

	fwtable_init(&t);
	t.max_per_host = 3;
	for (int i = 0; i < 3; i++) {
		p = v4("203.0.113.9");
		p.v4.s_addr = htonl(ntohl(p.v4.s_addr) + i);
		CHECK_INT(fwtable_trigger(&t, v, AF_INET, &h1, NULL, &p, 0, &f, NULL), FWD_OPENED);
	}
	CHECK_INT(host_count(&t, v, AF_INET, &h1), 3);
	/* a fourth is refused: nothing opened, nothing closed */
	p = v4("203.0.113.50");
	CHECK_INT(fwtable_trigger(&t, v, AF_INET, &h1, NULL, &p, 0, &f, NULL), FWD_OVER_HOST_LIMIT);
	CHECK(f == NULL);
	CHECK_INT(fwtable_trigger(&t, w, AF_INET, &h1, NULL, NULL, 0, &f, NULL), FWD_OVER_HOST_LIMIT);
	CHECK_INT(t.n, 3);
	CHECK_INT(t.stats.over_host_limit, 2);
	CHECK(t.pending != NULL);
	/* refreshing what it holds still works */
	p = v4("203.0.113.9");
	CHECK_INT(fwtable_trigger(&t, v, AF_INET, &h1, NULL, &p, 500, &f, NULL), FWD_REFRESHED);
	/* another host is not affected, and may take one over */
	CHECK_INT(fwtable_trigger(&t, w, AF_INET, &h2, NULL, NULL, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_trigger(&t, v, AF_INET, &h2, NULL, &p, 0, &f, NULL), FWD_TAKEN_OVER);
	CHECK_INT(host_count(&t, v, AF_INET, &h1), 2);
	CHECK_INT(host_count(&t, v, AF_INET, &h2), 2);
	/* but a host at its limit cannot take one over: the holder keeps it */
	CHECK_INT(fwtable_trigger(&t, w, AF_INET, &h1, NULL, NULL, 0, &f, NULL), FWD_TAKEN_OVER);
	CHECK_INT(host_count(&t, w, AF_INET, &h1), 3);
	p = v4("203.0.113.9");
	CHECK_INT(fwtable_trigger(&t, v, AF_INET, &h1, NULL, &p, 0, &f, NULL), FWD_OVER_HOST_LIMIT);
	CHECK(f && !memcmp(&f->host, &h2, 4));
	/* a rule with its own max-per-host counts apart */
	for (int i = 0; i < 5; i++) {
		p = v4("198.51.100.1");
		p.v4.s_addr = htonl(ntohl(p.v4.s_addr) + i);
		CHECK_INT(fwtable_trigger(&t, big, AF_INET, &h1, NULL, &p, 0, &f, NULL), FWD_OPENED);
	}
	p = v4("198.51.100.99");
	CHECK_INT(fwtable_trigger(&t, big, AF_INET, &h1, NULL, &p, 0, &f, NULL), FWD_OVER_HOST_LIMIT);
	CHECK_INT(host_count(&t, big, AF_INET, &h1), 5);
	CHECK_INT(host_count(&t, v, AF_INET, &h1), 3);
	/* expiry gives room again */
	while ((f = fwtable_pop_expired(&t, 10000)))
		free(f);
	CHECK_INT(t.n, 0);
	CHECK_INT(t.n_dynamic, 0);
	CHECK_INT(t.hosts.map.n, 0);
	CHECK_INT(fwtable_trigger(&t, big, AF_INET, &h1, NULL, &p, 10001, &f, NULL), FWD_OPENED);
	fwtable_clear(&t);
	config_free(c);
}

static void test_max_per_host_ipv6(void)
{
	struct config *c = cfg("rule v trigger 5060/udp forward 10000-20000/udp peer timeout 10s\n");
	const struct rule *v = c->rules[0];
	union inaddr a1 = v6("2001:db8:7::2"), a2 = v6("2001:db8:7::3"), other = v6("2001:db8:8::2");
	union inaddr p1 = v6("2001:db8:1::9"), p2 = v6("2001:db8:1::10"), p3 = v6("2001:db8:1::11");
	struct fwtable t;
	struct fwd *f;

	fwtable_init(&t);
	t.max_per_host = 2;
	/* one /64 is one host, whatever address of it triggers */
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &a1, NULL, &p1, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &a2, NULL, &p2, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &a2, NULL, &p3, 0, &f, NULL), FWD_OVER_HOST_LIMIT);
	CHECK_INT(host_count(&t, v, AF_INET6, &a1), 2);
	/* within its /64 an address may take over from another: the count stays */
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &a2, NULL, &p1, 0, &f, NULL), FWD_TAKEN_OVER);
	CHECK_INT(host_count(&t, v, AF_INET6, &a1), 2);
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &other, NULL, &p3, 0, &f, NULL), FWD_OPENED);
	fwtable_clear(&t);
	config_free(c);
}

static void test_max_forwardings(void)
{
	struct config *c = cfg("rule v trigger 5060/udp forward 10000-20000/udp peer timeout 10s\n"
			       "rule s forward 40/tcp to 192.168.7.9\n");
	const struct rule *v = c->rules[0];
	union inaddr h, p = v4("203.0.113.9"), s = v4("192.168.7.9");
	struct fwtable t;
	struct fwd *f;

	fwtable_init(&t);
	t.max_forwardings = 100;
	t.max_per_host = 1;
	/* static forwardings count toward neither limit */
	CHECK_INT(fwtable_insert(&t, c->rules[1], AF_INET, &s, NULL, 0, FWD_FOREVER, &f), 0);
	for (int i = 0; i < 100; i++) {
		h.v4.s_addr = htonl(0xc0a81000 + i);
		p.v4.s_addr = htonl(0xcb007100 + i);
		CHECK_INT(fwtable_trigger(&t, v, AF_INET, &h, NULL, &p, 0, &f, NULL), FWD_OPENED);
	}
	h.v4.s_addr = htonl(0xc0a81000 + 200);
	p.v4.s_addr = htonl(0xcb007100 + 200);
	CHECK_INT(fwtable_trigger(&t, v, AF_INET, &h, NULL, &p, 0, &f, NULL), FWD_OVER_LIMIT);
	CHECK_INT(t.stats.over_limit, 1);
	CHECK_INT(t.n, 101);
	/* a takeover adds none: allowed at the limit */
	p.v4.s_addr = htonl(0xcb007100 + 5);
	CHECK_INT(fwtable_trigger(&t, v, AF_INET, &h, NULL, &p, 0, &f, NULL), FWD_TAKEN_OVER);
	/* recounting (after a reload) gives the same */
	CHECK_INT(fwtable_recount(&t), 0);
	CHECK_INT(t.n_dynamic, 100);
	CHECK_INT(host_count(&t, v, AF_INET, &h), 1);
	h.v4.s_addr = htonl(0xc0a81000 + 5);
	CHECK_INT(host_count(&t, v, AF_INET, &h), 0);
	fwtable_clear(&t);
	config_free(c);
}

static unsigned hc_get(const struct hostcount *h, int af, const union inaddr *a, const char *pool)
{
	struct hostid id;

	hostid_addr(af, a, &id);
	return hostcount_get(h, &id, pool);
}

static int hc_add(struct hostcount *h, int af, const union inaddr *a, const char *pool, int delta)
{
	struct hostid id;

	hostid_addr(af, a, &id);
	return hostcount_add(h, &id, pool, delta);
}

static void test_hostcount(void)
{
	struct hostcount h = { 0 };
	union inaddr a = v4("10.0.0.1"), b = v6("2001:db8::1"), b2 = v6("2001:db8::ffff:1");
	struct hostid m1 = mac(1), m2 = mac(2);

	CHECK_INT(hc_get(&h, AF_INET, &a, ""), 0);
	hc_add(&h, AF_INET, &a, "", -1);	/* never below zero */
	CHECK_INT(hc_get(&h, AF_INET, &a, ""), 0);
	for (int i = 0; i < 1000; i++) {
		union inaddr x = { .v4.s_addr = htonl(0x0a000000 + i) };

		CHECK_INT(hc_add(&h, AF_INET, &x, i % 2 ? "r" : "", 1), 0);
	}
	CHECK_INT(h.map.n, 1000);
	CHECK_INT(hc_get(&h, AF_INET, &a, "r"), 1);
	CHECK_INT(hc_get(&h, AF_INET, &a, ""), 0);
	hc_add(&h, AF_INET6, &b, "", 1);
	hc_add(&h, AF_INET6, &b2, "", 1);
	CHECK_INT(hc_get(&h, AF_INET6, &b, ""), 2);
	/* the same bytes in another family are another host */
	CHECK_INT(hc_get(&h, AF_INET, &b, ""), 0);
	hc_add(&h, AF_INET6, &b, "", -1);
	hc_add(&h, AF_INET6, &b2, "", -1);
	CHECK_INT(h.map.n, 1000);
	/* machines: by link-layer address, apart from any address's count */
	CHECK_INT(hostcount_add(&h, &m1, "", 1), 0);
	CHECK_INT(hostcount_add(&h, &m1, "", 1), 0);
	CHECK_INT(hostcount_get(&h, &m1, ""), 2);
	CHECK_INT(hostcount_get(&h, &m2, ""), 0);
	hostcount_clear(&h);
	CHECK_INT(h.map.n, 0);
}

static void test_hostid(void)
{
	const uint8_t ll[6] = { 0x02, 0xaa, 0, 0, 0xbe, 0xef };
	union inaddr a = v6("2001:db8:7::2"), b = v6("2001:db8:7::ffff:3"), c = v6("2001:db8:8::2");
	struct hostid x, y;
	char buf[HOSTID_LLADDR_LEN];

	hostid_addr(AF_INET6, &a, &x);
	hostid_addr(AF_INET6, &b, &y);
	CHECK(hostid_eq(&x, &y));
	CHECK_INT(hostid_hash(&x, 1), hostid_hash(&y, 1));
	hostid_addr(AF_INET6, &c, &y);
	CHECK(!hostid_eq(&x, &y));
	CHECK_STR(hostid_lladdr(&x, buf), "");
	CHECK_INT(hostid_link(ll, 6, &x), 0);
	CHECK_STR(hostid_lladdr(&x, buf), "02:aa:00:00:be:ef");
	CHECK_INT(hostid_link(ll, 0, &x), -EINVAL);
	CHECK_INT(hostid_link(ll, HOSTID_LINK_MAX + 1, &x), -EINVAL);
	/* the longest link-layer address fits its text */
	{
		const uint8_t l8[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

		CHECK_INT(hostid_link(l8, 8, &y), 0);
		CHECK_STR(hostid_lladdr(&y, buf), "ff:ff:ff:ff:ff:ff:ff:ff");
	}
	/* an IPv4 address and a MAC with the same bytes are different hosts */
	hostid_addr(AF_INET, &(union inaddr){ .v4.s_addr = htonl(0x02aa0000) }, &y);
	CHECK(!hostid_eq(&x, &y));
}

/* DESIGN §2.11: a host is a machine */
static void test_machines(void)
{
	struct config *c = cfg("rule v trigger 5060/udp forward 10000-20000/udp peer timeout 10s max-per-host 3\n"
			       "rule x trigger 7070/udp forward 6970-7170/udp exclusive timeout 10s\n"
			       "rule t trigger 7071/udp forward 7300/udp timeout 10s\n"
			       "rule y trigger 7072/udp forward 7400/udp exclusive timeout 10s\n");
	const struct rule *v = c->rules[0], *x = c->rules[1], *tk = c->rules[2], *y = c->rules[3];
	union inaddr a1 = v6("2001:db8:7::2"), a1b = v6("2001:db8:7::9:2"), a2 = v6("2001:db8:7::3");
	union inaddr four = v4("192.168.7.2"), p = v6("2001:db8:1::9"), old;
	union inaddr c6 = v6("2001:db8:9::1"), c6b = v6("2001:db8:9::2");
	struct hostid m1 = mac(1), m2 = mac(2);
	struct fwtable t;
	struct fwd *f;

	fwtable_init(&t);
	/* one machine's addresses, of both families, are one host */
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &a1, &m1, &p, 0, &f, NULL), FWD_OPENED);
	p.v6.s6_addr[15]++;
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &a1b, &m1, &p, 0, &f, NULL), FWD_OPENED);
	p.v6.s6_addr[15]++;
	CHECK_INT(fwtable_trigger(&t, v, AF_INET, &four, &m1, &(union inaddr){ .v4.s_addr = 9 }, 0, &f, NULL),
		  FWD_OPENED);
	CHECK_INT(fwtable_host_count(&t, v, &m1), 3);
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &a1b, &m1, &p, 0, &f, NULL), FWD_OVER_HOST_LIMIT);
	/* the machine beside it in the same /64 is another host: the busy one does not starve it */
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &a2, &m2, &p, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_host_count(&t, v, &m2), 1);
	/* ... and what neither machine is known as (no neighbour entry) counts by its /64 */
	p.v6.s6_addr[15]++;
	CHECK_INT(fwtable_trigger(&t, v, AF_INET6, &a2, NULL, &p, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(host_count(&t, v, AF_INET6, &a2), 1);
	CHECK_INT(fwtable_host_count(&t, v, &m2), 1);

	/* exclusive: the holder's new (temporary) address refreshes, and the forwarding follows it */
	CHECK_INT(fwtable_trigger(&t, x, AF_INET6, &a1, &m1, NULL, 1000, &f, NULL), FWD_OPENED);
	fwtable_take_pending(&t);
	f->pending = FWD_PENDING_NONE;
	CHECK_INT(fwtable_trigger(&t, x, AF_INET6, &a1b, &m1, NULL, 2000, &f, &old), FWD_REFRESHED);
	CHECK(!memcmp(&f->host, &a1b, 16));
	CHECK(!memcmp(&old, &a1, 16));
	CHECK_INT(f->pending, FWD_PENDING_ASSIGN);	/* the old address's pinhole goes */
	CHECK(f->has_old && !memcmp(&f->old_host, &a1, 16));
	CHECK_INT(f->timer.deadline, 12000);
	CHECK_INT(fwtable_host_count(&t, x, &m1), 1);
	/* another machine, even from the same /64, is refused */
	CHECK_INT(fwtable_trigger(&t, x, AF_INET6, &a2, &m2, NULL, 3000, &f, NULL), FWD_REFUSED);
	CHECK(!memcmp(&f->host, &a1b, 16));
	/* ... and so is any address of the /64 the neighbour table does not know */
	CHECK_INT(fwtable_trigger(&t, x, AF_INET6, &a2, NULL, NULL, 3000, &f, NULL), FWD_REFUSED);
	/* a holder known by its /64 only does not follow another of its addresses either */
	{
		struct fwd *g;

		CHECK_INT(fwtable_trigger(&t, y, AF_INET6, &c6, NULL, NULL, 0, &g, NULL), FWD_OPENED);
		CHECK_INT(fwtable_trigger(&t, y, AF_INET6, &c6b, NULL, NULL, 0, &g, NULL), FWD_REFUSED);
		fwtable_remove(&t, g);
	}

	/* the same address, known by its machine now: a refresh that counts for the machine */
	CHECK_INT(fwtable_trigger(&t, tk, AF_INET6, &a2, NULL, NULL, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(host_count(&t, tk, AF_INET6, &a2), 1);
	CHECK_INT(fwtable_trigger(&t, tk, AF_INET6, &a2, &m2, NULL, 0, &f, NULL), FWD_REFRESHED);
	CHECK_INT(host_count(&t, tk, AF_INET6, &a2), 0);
	CHECK_INT(fwtable_host_count(&t, tk, &m2), 1);
	CHECK(hostid_eq(&f->id, &m2));
	/* a takeover by another machine is held to its limit, and moves the count */
	t.max_per_host = 1;
	CHECK_INT(fwtable_trigger(&t, tk, AF_INET6, &a1, &m1, NULL, 0, &f, NULL), FWD_OVER_HOST_LIMIT);
	t.max_per_host = 10;
	CHECK_INT(fwtable_trigger(&t, tk, AF_INET6, &a1, &m1, NULL, 0, &f, NULL), FWD_TAKEN_OVER);
	CHECK_INT(fwtable_host_count(&t, tk, &m2), 0);
	CHECK_INT(fwtable_host_count(&t, tk, &m1), 2);
	/* and a recount (a reload) finds the same */
	CHECK_INT(fwtable_recount(&t), 0);
	CHECK_INT(fwtable_host_count(&t, tk, &m1), 2);
	CHECK_INT(fwtable_host_count(&t, v, &m1), 3);
	CHECK_INT(fwtable_host_count(&t, tk, &m2), 0);
	fwtable_clear(&t);
	config_free(c);
}

TEST_MAIN(T(test_open_refresh_takeover_expire), T(test_exclusive),
	  T(test_peer_keys_and_families), T(test_many), T(test_max_per_host),
	  T(test_max_per_host_ipv6), T(test_max_forwardings), T(test_hostcount), T(test_hostid),
	  T(test_machines))
