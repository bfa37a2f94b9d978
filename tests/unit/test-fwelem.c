#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>

#include "engine/fwelem.h"
#include "rules/config.h"
#include "test.h"

static void test_fwd_keys(void)
{
	struct config *c = config_new();
	const char *text = "rule ra trigger 7070/tcp forward 6970-7170/udp,7070/tcp timeout 30s\n"
			   "rule vp trigger 5060/udp forward 10000-20000/udp peer\n";
	struct fwelem e[4];
	struct fwd f = { 0 };
	char ud[24];

	config_parse_text(c, "t", text, strlen(text));
	f.rule = c->rules[0];
	f.af = AF_INET;
	inet_pton(AF_INET, "192.168.7.2", &f.host.v4);
	/* one element in the rule's own map, keyed by the family: the ranges are in the chains */
	CHECK_INT(fwelem_build(&f, 0, e), 1);
	CHECK_STR(e[0].set.name, "act4_ra");
	CHECK_INT(e[0].set.key_len, 1);
	CHECK_INT(e[0].set.data_len, 4);
	CHECK_INT(e[0].e.key[0], NFPROTO_IPV4);
	CHECK(e[0].e.has_data && !e[0].e.has_key_end);
	CHECK(!memcmp(e[0].e.data, "\xc0\xa8\x07\x02", 4));
	CHECK_INT(e[0].e.timeout_ms, 30000);
	fwelem_udata(f.rule, ud, sizeof(ud));
	CHECK_STR(e[0].e.udata, ud);
	CHECK(!strncmp(ud, "fw=", 3) && strlen(ud) == 19);
	/* refresh: expiration always sent, capped at the timeout */
	CHECK_INT(fwelem_build(&f, 30000, e), 1);
	CHECK_INT(e[0].e.expiration_ms, 30000);
	CHECK_INT(fwelem_build(&f, 12345, e), 1);
	CHECK_INT(e[0].e.expiration_ms, 12345);

	f.rule = c->rules[1];
	inet_pton(AF_INET, "203.0.113.9", &f.peer.v4);
	CHECK_INT(fwelem_build(&f, 0, e), 1);
	CHECK_STR(e[0].set.name, "act4p_vp");
	CHECK(!memcmp(e[0].e.key, "\xcb\x00\x71\x09", 4));
	/* another rule's forwards, another digest */
	fwelem_udata(f.rule, ud, sizeof(ud));
	CHECK(strcmp(ud, e[0].e.udata) == 0);
	fwelem_udata(c->rules[0], ud, sizeof(ud));
	CHECK(strcmp(ud, e[0].e.udata) != 0);

	/* IPv6: the owner guard, then the pinhole keyed by the host */
	f.af = AF_INET6;
	f.rule = c->rules[0];
	inet_pton(AF_INET6, "2001:db8::2", &f.host.v6);
	CHECK_INT(fwelem_build(&f, 0, e), 2);
	CHECK_STR(e[0].set.name, "own6_ra");
	CHECK_INT(e[0].e.key[0], NFPROTO_IPV6);
	CHECK_STR(e[1].set.name, "pin6_ra");
	CHECK(!memcmp(e[1].e.key, &f.host.v6, 16));
	CHECK(!e[1].e.has_data);
	f.rule = c->rules[1];
	inet_pton(AF_INET6, "2001:db8:1::9", &f.peer.v6);
	CHECK_INT(fwelem_build(&f, 0, e), 2);
	CHECK_STR(e[0].set.name, "own6p_vp");
	CHECK(!memcmp(e[0].e.key, &f.peer.v6, 16));
	CHECK_STR(e[1].set.name, "pin6p_vp");
	CHECK(!memcmp(e[1].e.key, &f.host.v6, 16) && !memcmp(e[1].e.key + 16, &f.peer.v6, 16));
	config_free(c);

	/* port remap: redir4, one element per range, data is address . port */
	c = config_new();
	text = "rule p forward 8000/udp to 192.168.7.2:9000\n";
	config_parse_text(c, "t", text, strlen(text));
	CHECK_INT(c->n_errors, 0);
	f.rule = c->rules[0];
	f.af = AF_INET;
	f.host = f.rule->to;
	CHECK_INT(fwelem_build(&f, 0, e), 1);
	CHECK_STR(e[0].set.name, "redir4");
	CHECK(!memcmp(e[0].e.data, "\xc0\xa8\x07\x02\x23\x28", 6));
	CHECK_INT(e[0].e.timeout_ms, 0);
	config_free(c);
}

static void test_decode(void)
{
	struct fwelem_decoded fe;
	uint8_t k6[32];
	uint8_t ipv4 = NFPROTO_IPV4;

	CHECK_INT(fwelem_decode(NFTOBJ_RS_ACT4, &ipv4, 1, "\xc0\xa8\x07\x02", 4, &fe), 0);
	CHECK_INT(fe.af, AF_INET);
	CHECK(!fe.has_peer && !memcmp(&fe.host.v4, "\xc0\xa8\x07\x02", 4));
	CHECK_INT(fwelem_decode(NFTOBJ_RS_ACT4P, "\xcb\x00\x71\x09", 4, "\xc0\xa8\x07\x02", 4, &fe), 0);
	CHECK(fe.has_peer && !memcmp(&fe.peer.v4, "\xcb\x00\x71\x09", 4));
	inet_pton(AF_INET6, "2001:db8::2", k6);
	inet_pton(AF_INET6, "2001:db8:1::9", k6 + 16);
	CHECK_INT(fwelem_decode(NFTOBJ_RS_PIN6P, k6, 32, NULL, 0, &fe), 0);
	CHECK(fe.af == AF_INET6 && fe.has_peer && !memcmp(&fe.peer.v6, k6 + 16, 16));
	/* lengths that do not fit the set, and sets that carry no host */
	CHECK_INT(fwelem_decode(NFTOBJ_RS_ACT4, &ipv4, 1, "\xc0\xa8\x07", 3, &fe), -EINVAL);
	CHECK_INT(fwelem_decode(NFTOBJ_RS_ACT4, k6, 4, "\xc0\xa8\x07\x02", 4, &fe), -EINVAL);
	CHECK_INT(fwelem_decode(NFTOBJ_RS_PIN6, k6, 32, NULL, 0, &fe), -EINVAL);
	CHECK_INT(fwelem_decode(NFTOBJ_RS_OWN6, k6, 1, NULL, 0, &fe), -EINVAL);
}

TEST_MAIN(T(test_fwd_keys), T(test_decode))
