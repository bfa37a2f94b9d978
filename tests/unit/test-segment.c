/* Port segments: disjoint pieces, their owners, merging, protocols apart. */
#include <netinet/in.h>

#include "base/segment.h"
#include "test.h"

struct want {
	uint8_t proto;
	uint16_t lo, hi;
	uint32_t owners[4];
	size_t n;
};

static void check(const struct segment_input *in, size_t n, const struct want *w, size_t nw)
{
	struct segment *s;
	size_t ns;

	CHECK_INT(segment_build(in, n, &s, &ns), 0);
	CHECK_INT(ns, nw);
	for (size_t i = 0; i < ns && i < nw; i++) {
		CHECK_INT(s[i].proto, w[i].proto);
		CHECK_INT(s[i].lo, w[i].lo);
		CHECK_INT(s[i].hi, w[i].hi);
		CHECK_INT(s[i].n_owners, w[i].n);
		for (size_t k = 0; k < s[i].n_owners && k < w[i].n; k++)
			CHECK_INT(s[i].owners[k], w[i].owners[k]);
	}
	segment_free(s, ns);
}

static void test_disjoint(void)
{
	static const struct segment_input in[] = {
		{ IPPROTO_UDP, 6970, 7170, 0 },
		{ IPPROTO_TCP, 7070, 7070, 1 },
		{ IPPROTO_UDP, 1000, 2000, 2 },
	};
	static const struct want w[] = {
		{ IPPROTO_TCP, 7070, 7070, { 1 }, 1 },
		{ IPPROTO_UDP, 1000, 2000, { 2 }, 1 },
		{ IPPROTO_UDP, 6970, 7170, { 0 }, 1 },
	};

	check(in, 3, w, 3);
}

static void test_overlap(void)
{
	/* two peer rules sharing part of their forwards, a trigger port two rules use */
	static const struct segment_input in[] = {
		{ IPPROTO_UDP, 10000, 20000, 3 },
		{ IPPROTO_UDP, 15000, 25000, 1 },
		{ IPPROTO_TCP, 7070, 7070, 2 },
		{ IPPROTO_TCP, 7070, 7070, 0 },
	};
	static const struct want w[] = {
		{ IPPROTO_TCP, 7070, 7070, { 0, 2 }, 2 },
		{ IPPROTO_UDP, 10000, 14999, { 3 }, 1 },
		{ IPPROTO_UDP, 15000, 20000, { 1, 3 }, 2 },
		{ IPPROTO_UDP, 20001, 25000, { 1 }, 1 },
	};

	check(in, 4, w, 4);
}

static void test_merge_and_edges(void)
{
	/* adjacent ranges of one owner are one segment; 65535 and 0 are ports too */
	static const struct segment_input in[] = {
		{ IPPROTO_UDP, 100, 199, 5 },
		{ IPPROTO_UDP, 200, 299, 5 },
		{ IPPROTO_UDP, 150, 160, 5 },
		{ IPPROTO_TCP, 65000, 65535, 1 },
		{ IPPROTO_TCP, 0, 0, 2 },
	};
	static const struct want w[] = {
		{ IPPROTO_TCP, 0, 0, { 2 }, 1 },
		{ IPPROTO_TCP, 65000, 65535, { 1 }, 1 },
		{ IPPROTO_UDP, 100, 299, { 5 }, 1 },
	};

	check(in, 5, w, 3);
}

static void test_empty(void)
{
	check(NULL, 0, NULL, 0);
}

TEST_MAIN(T(test_disjoint), T(test_overlap), T(test_merge_and_edges), T(test_empty))
