#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>

#include "engine/adopt.h"
#include "rules/config.h"
#include "test.h"

static struct adopt_elem got[4];
static size_t n_got;

static void collect(const struct adopt_elem *e, void *data)
{
	if (n_got < 4)
		got[n_got++] = *e;
}

/* One element in a message of its own, as a dump brings them, read as a set of KIND. */
static int decode_as(const struct fwelem *e, enum nftobj_rset kind)
{
	struct nlbatch b;
	size_t begin;
	int r;

	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	begin = b.len;	/* after BATCH_BEGIN */
	CHECK_INT(nftelem_write(&b, NFT_MSG_NEWSETELEM, &e->set, &e->e, 1), 0);
	r = adopt_decode((const struct nlmsghdr *)(b.buf + begin), kind, collect, NULL);
	nlbatch_free(&b);
	return r;
}

static void test_decode(void)
{
	struct config *c = config_new();
	const char *text = "rule voip trigger 5060/udp forward 10000-20000/udp peer\n"
			   "rule ra trigger 7070/tcp forward 6970-7170/udp\n"
			   "rule game forward 27015/udp to 192.168.1.20\n";
	struct fwd f = { .af = AF_INET };
	struct fwelem e[2];
	char ud[24];

	config_parse_text(c, "t.conf", text, strlen(text));
	f.rule = c->rules[0];
	inet_pton(AF_INET, "192.168.7.2", &f.host);
	inet_pton(AF_INET, "203.0.113.9", &f.peer);
	CHECK_INT(fwelem_build(&f, 4200, e), 1);
	CHECK_STR(e[0].set.name, "act4p_voip");
	n_got = 0;
	CHECK_INT(decode_as(&e[0], NFTOBJ_RS_ACT4P), 0);
	CHECK_INT(n_got, 1);
	fwelem_udata(f.rule, ud, sizeof(ud));
	CHECK(got[0].has_udata);
	CHECK_STR(got[0].udata, ud);
	CHECK_INT(got[0].left_ms, 4200);
	CHECK_INT(got[0].fwd.af, AF_INET);
	CHECK(got[0].fwd.has_peer);
	CHECK(!memcmp(&got[0].fwd.host.v4, &f.host.v4, 4));
	CHECK(!memcmp(&got[0].fwd.peer.v4, &f.peer.v4, 4));

	/* one the kernel added: no userdata, adoptable all the same */
	e[0].e.udata[0] = '\0';
	n_got = 0;
	CHECK_INT(decode_as(&e[0], NFTOBJ_RS_ACT4P), 0);
	CHECK_INT(n_got, 1);
	CHECK(!got[0].has_udata);
	/* read as another kind of set, the key does not fit */
	CHECK_INT(decode_as(&e[0], NFTOBJ_RS_ACT4), 1);

	/* IPv6: the pinhole carries the host */
	f.rule = c->rules[1];
	f.af = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:7::2", &f.host);
	CHECK_INT(fwelem_build(&f, 1000, e), 2);
	n_got = 0;
	CHECK_INT(decode_as(&e[1], NFTOBJ_RS_PIN6), 0);
	CHECK_INT(n_got, 1);
	CHECK(got[0].fwd.af == AF_INET6 && !memcmp(&got[0].fwd.host.v6, &f.host.v6, 16));

	/* a static element (no timeout): the configuration brings it back */
	f.rule = c->rules[2];
	f.af = AF_INET;
	inet_pton(AF_INET, "192.168.1.20", &f.host);
	CHECK_INT(fwelem_build(&f, 0, e), 1);
	n_got = 0;
	CHECK_INT(decode_as(&e[0], NFTOBJ_RS_ACT4), 0);
	CHECK_INT(n_got, 0);
	config_free(c);
}

TEST_MAIN(T(test_decode))
