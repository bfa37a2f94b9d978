#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>

#include "adopt.h"
#include "config.h"
#include "test.h"

static struct adopt_elem got[4];
static size_t n_got;

static void collect(const struct adopt_elem *e, void *data)
{
	if (n_got < 4)
		got[n_got++] = *e;
}

/* One element of set S in a message of its own, as a dump brings them, read as set AS. */
static int decode_as(enum nftobj_set s, enum nftobj_set as, const struct nftobj_elem *e)
{
	struct nlbatch b;
	size_t begin;
	int r;

	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	begin = b.len;	/* after BATCH_BEGIN */
	CHECK_INT(nftobj_elems(&b, NFT_MSG_NEWSETELEM, s, e, 1), 0);
	r = adopt_decode((const struct nlmsghdr *)(b.buf + begin), as, collect, NULL);
	nlbatch_free(&b);
	return r;
}

static int decode_one(enum nftobj_set s, const struct nftobj_elem *e)
{
	return decode_as(s, s, e);
}

static void test_decode(void)
{
	struct config *c = config_new();
	const char *text = "rule voip trigger 5060/udp forward 10000-20000/udp peer\n"
			   "rule game forward 27015/udp to 192.168.1.20\n";
	struct fwd f = { .af = AF_INET };
	struct nftobj_elem e[2];
	enum nftobj_set s;

	config_parse_text(c, "t.conf", text, strlen(text));
	f.rule = c->rules[0];
	inet_pton(AF_INET, "192.168.7.2", &f.host);
	inet_pton(AF_INET, "203.0.113.9", &f.peer);
	CHECK_INT(nftobj_fwd_elems(&f, 4200, e, &s), 1);
	CHECK_INT(s, NFTOBJ_FWD4P);
	n_got = 0;
	CHECK_INT(decode_one(s, e), 0);
	CHECK_INT(n_got, 1);
	CHECK_STR(got[0].rule, "voip");
	CHECK_INT(got[0].left_ms, 4200);
	CHECK_INT(got[0].fwd.af, AF_INET);
	CHECK(got[0].fwd.has_peer);
	CHECK(!memcmp(&got[0].fwd.host.v4, &f.host.v4, 4));
	CHECK(!memcmp(&got[0].fwd.peer.v4, &f.peer.v4, 4));
	CHECK_INT(got[0].fwd.lo, 10000);
	CHECK_INT(got[0].fwd.hi, 20000);

	/* no name: not adoptable */
	e[0].owner = NULL;
	n_got = 0;
	CHECK_INT(decode_one(s, e), 1);
	CHECK_INT(n_got, 0);
	/* read as another set, the key does not fit */
	e[0].owner = "voip";
	CHECK_INT(decode_as(s, NFTOBJ_FWD4, e), 1);
	/* a static element (no timeout): the configuration brings it back */
	f.rule = c->rules[1];
	inet_pton(AF_INET, "192.168.1.20", &f.host);
	CHECK_INT(nftobj_fwd_elems(&f, 0, e, &s), 1);
	n_got = 0;
	CHECK_INT(decode_one(s, e), 0);
	CHECK_INT(n_got, 0);
	config_free(c);
}

TEST_MAIN(T(test_decode))
