#include <arpa/inet.h>
#include <errno.h>

#include "config.h"
#include "fwtable.h"
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

static void test_heap_order(void)
{
	struct heap h = { 0 };
	struct heap_node n[100];
	uint64_t last = 0;

	for (int i = 0; i < 100; i++) {
		heap_node_init(&n[i]);
		CHECK_INT(heap_push(&h, &n[i], (uint64_t)(i * 7919) % 1000), 0);
	}
	/* remove some from the middle, re-key others */
	for (int i = 0; i < 100; i += 3)
		heap_remove(&h, &n[i]);
	for (int i = 1; i < 100; i += 5)
		heap_update(&h, &n[i], 5000 - i);
	int count = 0;
	struct heap_node *top;

	while ((top = heap_peek(&h))) {
		CHECK(top->deadline >= last);
		last = top->deadline;
		heap_remove(&h, top);
		CHECK(top->idx == HEAP_NOT_QUEUED);
		count++;
	}
	/* 34 removed, 7 of them queued again by the update */
	CHECK_INT(count, 73);
	heap_free(&h);
}

static void test_open_refresh_takeover_expire(void)
{
	struct config *c = cfg("rule ra trigger 7070/tcp forward 6970-7170/udp timeout 10s\n");
	const struct rule *r = c->rules[0];
	union inaddr h1 = v4("192.168.7.2"), h2 = v4("192.168.7.3"), peer = v4("203.0.113.9"), old;
	struct fwtable t;
	struct fwd *f, *g;

	fwtable_init(&t);
	CHECK_INT(fwtable_trigger(&t, r, AF_INET, &h1, &peer, 1000, &f, &old), FWD_OPENED);
	CHECK_INT(f->timer.deadline, 11000);
	CHECK_INT(f->pending, FWD_PENDING_ASSIGN);
	CHECK(fwtable_take_pending(&t) == f);
	f->pending = FWD_PENDING_NONE;

	CHECK_INT(fwtable_trigger(&t, r, AF_INET, &h1, &peer, 5000, &g, &old), FWD_REFRESHED);
	CHECK(g == f);
	CHECK_INT(f->timer.deadline, 15000);
	CHECK_INT(f->pending, FWD_PENDING_REFRESH);

	CHECK_INT(fwtable_trigger(&t, r, AF_INET, &h2, &peer, 6000, &g, &old), FWD_TAKEN_OVER);
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
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h1, NULL, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h2, NULL, 1000, &f, NULL), FWD_REFUSED);
	CHECK(!memcmp(&f->host.v4, &h1.v4, 4));
	CHECK_INT(f->timer.deadline, 10000);	/* a refused trigger does not refresh */
	/* after expiry the other host may have it */
	free(fwtable_pop_expired(&t, 10000));
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h2, NULL, 10001, &f, NULL), FWD_OPENED);
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
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h1, &p1, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h2, &p2, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(t.n, 2);
	CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h2, &p1, 0, &f, NULL), FWD_TAKEN_OVER);
	/* non-peer rules ignore the peer: one forwarding whatever it talked to */
	CHECK_INT(fwtable_trigger(&t, c->rules[1], AF_INET, &h1, &p1, 0, &f, NULL), FWD_OPENED);
	CHECK_INT(fwtable_trigger(&t, c->rules[1], AF_INET, &h1, &p2, 0, &f, NULL), FWD_REFRESHED);
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

		CHECK_INT(fwtable_trigger(&t, c->rules[0], AF_INET, &h, &p, i, &f, NULL), FWD_OPENED);
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

TEST_MAIN(T(test_heap_order), T(test_open_refresh_takeover_expire), T(test_exclusive),
	  T(test_peer_keys_and_families), T(test_many))
