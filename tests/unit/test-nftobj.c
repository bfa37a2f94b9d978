#include <arpa/inet.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>

#include "config.h"
#include "nftobj.h"
#include "test.h"

static void test_fwd_keys(void)
{
	struct config *c = config_new();
	const char *text = "rule ra trigger 7070/tcp forward 6970-7170/udp,7070/tcp timeout 30s\n"
			   "rule vp trigger 5060/udp forward 10000-20000/udp peer\n";
	struct nftobj_elem e[2];
	enum nftobj_set s;
	struct fwd f = { 0 };
	static const uint8_t k4[8] = { 0x11, 0, 0, 0, 0x1b, 0x3a, 0, 0 };
	static const uint8_t k4end[8] = { 0x11, 0, 0, 0, 0x1c, 0x02, 0, 0 };

	config_parse_text(c, "t", text, strlen(text));
	f.rule = c->rules[0];
	f.af = AF_INET;
	inet_pton(AF_INET, "192.168.7.2", &f.host.v4);
	CHECK_INT(nftobj_fwd_elems(&f, 0, e, &s), 2);
	CHECK_INT(s, NFTOBJ_FWD4);
	CHECK(!memcmp(e[0].key, k4, 8));
	CHECK(!memcmp(e[0].key_end, k4end, 8));
	CHECK(e[0].has_key_end && e[0].has_data);
	CHECK(!memcmp(e[0].data, "\xc0\xa8\x07\x02", 4));
	CHECK_INT(e[0].timeout_ms, 30000);
	CHECK_INT(e[1].key[0], IPPROTO_TCP);
	/* refresh: expiration always sent, capped at the timeout */
	CHECK_INT(nftobj_fwd_elems(&f, 30000, e, &s), 2);
	CHECK_INT(e[0].expiration_ms, 30000);
	CHECK_INT(nftobj_fwd_elems(&f, 12345, e, &s), 2);
	CHECK_INT(e[0].expiration_ms, 12345);

	f.rule = c->rules[1];
	inet_pton(AF_INET, "203.0.113.9", &f.peer.v4);
	CHECK_INT(nftobj_fwd_elems(&f, 0, e, &s), 1);
	CHECK_INT(s, NFTOBJ_FWD4P);
	CHECK(!memcmp(e[0].key, "\xcb\x00\x71\x09\x11\x00\x00\x00\x27\x10\x00\x00", 12));

	f.af = AF_INET6;
	f.rule = c->rules[0];
	inet_pton(AF_INET6, "2001:db8::2", &f.host.v6);
	CHECK_INT(nftobj_fwd_elems(&f, 0, e, &s), 2);
	CHECK_INT(s, NFTOBJ_PIN6);
	CHECK(!memcmp(e[0].key, &f.host.v6, 16));
	CHECK(!memcmp(e[0].key + 16, k4, 8));
	CHECK(!e[0].has_data);
	config_free(c);

	/* port remap: redir4, data is address . port */
	c = config_new();
	text = "rule p forward 8000/udp to 192.168.7.2:9000\n";
	config_parse_text(c, "t", text, strlen(text));
	CHECK_INT(c->n_errors, 0);
	f.rule = c->rules[0];
	f.af = AF_INET;
	f.host = f.rule->to;
	CHECK_INT(nftobj_fwd_elems(&f, 0, e, &s), 1);
	CHECK_INT(s, NFTOBJ_REDIR4);
	CHECK(!memcmp(e[0].data, "\xc0\xa8\x07\x02\x23\x28", 6));
	CHECK_INT(e[0].timeout_ms, 0);
	config_free(c);
}

static void test_ifname_intervals(void)
{
	struct iflist l = { 0 };
	struct nftobj_elem *e;
	size_t n;
	uint8_t k[16] = { 0 };

	iflist_add(&l, "eth0");
	iflist_add(&l, "ppp*");
	iflist_add(&l, "eth*");
	iflist_add(&l, "br-lan");
	CHECK_INT(nftobj_ifname_elems(&l, &e, &n), 0);
	CHECK_INT(n, 6);
	memcpy(k, "br-lan", 6);
	CHECK(!memcmp(e[0].key, k, 16) && !e[0].interval_end);
	k[15] = 1;
	CHECK(!memcmp(e[1].key, k, 16) && e[1].interval_end);
	memset(k, 0, 16);
	memcpy(k, "eth", 3);
	CHECK(!memcmp(e[2].key, k, 16));
	memcpy(k, "eti", 3);
	CHECK(!memcmp(e[3].key, k, 16) && e[3].interval_end);
	memcpy(k, "ppq", 3);
	CHECK(!memcmp(e[5].key, k, 16) && e[5].interval_end);
	free(e);
	iflist_clear(&l);

	iflist_add(&l, "*");
	iflist_add(&l, "eth0");
	CHECK_INT(nftobj_ifname_elems(&l, &e, &n), 0);
	CHECK_INT(n, 1);	/* everything, no end */
	free(e);
	iflist_clear(&l);
}

static void test_portranges(void)
{
	struct portrange p[] = {
		{ IPPROTO_TCP, 5, 20, { 0 } }, { IPPROTO_TCP, 1, 10, { 0 } },
		{ IPPROTO_TCP, 21, 21, { 0 } }, { IPPROTO_UDP, 7, 7, { 0 } },
		{ IPPROTO_TCP, 100, 65535, { 0 } },
	};
	struct nftobj_elem *e;
	size_t n;

	CHECK_INT(nftobj_portrange_elems(p, 5, &e, &n), 0);
	CHECK_INT(n, 3);
	CHECK(!memcmp(e[0].key, "\x06\0\0\0\x00\x01\0\0", 8));
	CHECK(!memcmp(e[0].key_end, "\x06\0\0\0\x00\x15\0\0", 8));
	CHECK(!memcmp(e[1].key_end, "\x06\0\0\0\xff\xff\0\0", 8));
	CHECK(!memcmp(e[2].key, "\x11\0\0\0\x00\x07\0\0", 8));
	free(e);
}

static void test_batch_split(void)
{
	struct nlbatch b;
	struct nftobj_elem *e = calloc(600, sizeof(*e));
	struct iflist l = { 0 };
	size_t n;

	nlbatch_init(&b, 100);
	nlbatch_reset(&b);
	CHECK_INT(nftobj_elems(&b, NFT_MSG_NEWSETELEM, NFTOBJ_FWD4, e, 600), 0);
	CHECK_INT(b.n_ops, 3);
	CHECK_STR(b.ops[0].what, "add 256 in fwd4");
	CHECK_STR(b.ops[2].what, "add 88 in fwd4");
	CHECK_STR(nlbatch_describe(&b, b.ops[1].seq), "add 256 in fwd4");
	CHECK_STR(nlbatch_describe(&b, 1), "unknown request");
	/* every message stays below the 64 KiB attribute limit */
	for (size_t off = 0; off < b.len;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(b.buf + off);

		CHECK(nlh->nlmsg_len < 65536);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	free(e);

	/* a start/end pair of a plain interval set is never split */
	for (int i = 0; i < 200; i++) {
		char name[16];

		snprintf(name, sizeof(name), "if%03d", i);
		iflist_add(&l, name);
	}
	CHECK_INT(nftobj_ifname_elems(&l, &e, &n), 0);
	CHECK_INT(n, 400);
	nlbatch_reset(&b);
	CHECK_INT(nftobj_elems(&b, NFT_MSG_NEWSETELEM, NFTOBJ_WANIF, e, n), 0);
	CHECK_STR(b.ops[0].what, "add 256 in wanif");
	free(e);
	iflist_clear(&l);
	nlbatch_free(&b);
}

static void test_skeleton(void)
{
	struct nftobj_params p = { .nflog_group = 7070, .mark = 0x10000000, .mark_mask = 0x10000000,
				   .fwd_set_size = 40000 };
	struct nlbatch b;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	size_t off;

	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	nftobj_table(&b, NFT_MSG_NEWTABLE, NFTOBJ_TABLE_F_OWNER);
	CHECK_INT(nftobj_skeleton(&b, &p), 0);
	/*
	 * table, 12 sets, 2 counters, 7 chains, 18 rules (and redir4's
	 * anonymous { tcp, udp } with its elements): never one rule per
	 * configured rule; a trigger's way is 1 + 4 rules whatever the rules
	 */
	CHECK_INT(b.n_ops, 42);
	CHECK_STR(b.ops[1].what, "create set wanif");
	CHECK_STR(b.ops[8].what, "create set guard6");
	CHECK_STR(b.ops[9].what, "create set rate4");
	CHECK_STR(b.ops[10].what, "create set rate6");
	CHECK_STR(b.ops[11].what, "create set learn4");
	CHECK_STR(b.ops[12].what, "create set learn6");
	CHECK_STR(b.ops[13].what, "create counter forged");
	CHECK_STR(b.ops[15].what, "create chain trigger");
	CHECK_STR(b.ops[16].what, "create chain trigger4");
	CHECK_STR(b.ops[23].what, "add trigger rule (ipv6)");
	CHECK_STR(b.ops[24].what, "add trigger4 rule (reverse path)");
	CHECK_STR(b.ops[25].what, "add trigger4 rule (address type)");
	CHECK_STR(b.ops[26].what, "add trigger4 rule (rate limit)");
	CHECK_STR(b.ops[27].what, "add trigger4 rule (log)");
	CHECK_STR(b.ops[31].what, "add trigger6 rule (log)");
	CHECK_STR(b.ops[32].what, "add log rule");
	CHECK_STR(b.ops[33].what, "add forged rule");
	CHECK_STR(b.ops[36].what, "create anonymous set");
	CHECK_STR(b.ops[37].what, "add to anonymous set");
	CHECK_STR(b.ops[38].what, "add dnat rule (redir4)");
	CHECK_STR(b.ops[41].what, "add pinhole-guard rule");
	CHECK_INT(nlbatch_finish(&b), 42);
	/* parse the fwd4 set back */
	nlh = (struct nlmsghdr *)b.buf;
	off = NLMSG_ALIGN(nlh->nlmsg_len);	/* batch begin */
	for (int i = 0; i < 3; i++) {	/* table, wanif, triggers */
		nlh = (struct nlmsghdr *)(b.buf + off);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	nlh = (struct nlmsghdr *)(b.buf + off);
	CHECK_INT(nlh->nlmsg_type & 0xff, NFT_MSG_NEWSET);
	CHECK_INT(nftnl_set_nlmsg_parse(nlh, s), 0);
	CHECK_STR(nftnl_set_get_str(s, NFTNL_SET_NAME), "fwd4");
	CHECK_INT(nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
		  NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_TIMEOUT | NFT_SET_CONCAT);
	CHECK_INT(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), (12 << 6) | 13);
	CHECK_INT(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 8);
	CHECK_INT(nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN), 4);
	CHECK_INT(nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE), 40000);
	nftnl_set_free(s);
	nlbatch_free(&b);
}

/* The text of the elements a batch leaves in a set, from "elements = {" to its end. */
static char *elements_text(enum nftobj_set set, const char *const *names, size_t n)
{
	struct nftobj_params p = { .nflog_group = 7, .mark = 1, .mark_mask = 1 };
	struct iflist l = { 0 };
	struct nftobj_elem *e;
	struct dynbuf out = { 0 };
	struct nlbatch b;
	size_t n_e;
	char *start, *ret;

	for (size_t i = 0; i < n; i++)
		iflist_add(&l, names[i]);
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(nftobj_ifname_elems(&l, &e, &n_e), 0);
	/* a flush forgets what came before it */
	CHECK_INT(nftobj_elems(&b, NFT_MSG_NEWSETELEM, set, e, n_e), 0);
	CHECK_INT(nftobj_flush_set(&b, set), 0);
	CHECK_INT(nftobj_elems(&b, NFT_MSG_NEWSETELEM, set, e, n_e), 0);
	CHECK_INT(nftobj_text(&p, &b, &out), 0);
	start = out.data ? strstr(out.data, "elements = {") : NULL;
	ret = start ? strndup(start, strstr(start, "}") + 1 - start) : strdup("");
	free(e);
	iflist_clear(&l);
	nlbatch_free(&b);
	dynbuf_free(&out);
	return ret;
}

static void test_text(void)
{
	static const char *const names[] = { "eth0", "ppp*", "eth*", "a", "vlan100", "vlan1000" };
	static const char *const any[] = { "*" };
	char *t;

	t = elements_text(NFTOBJ_WANIF, names, 6);
	CHECK_STR(t, "elements = { \"a\",\n\t\t\t     \"eth*\",\n\t\t\t     \"ppp*\",\n"
		     "\t\t\t     \"vlan100\",\n\t\t\t     \"vlan1000\" }");
	free(t);
	t = elements_text(NFTOBJ_WANIF, any, 1);
	CHECK_STR(t, "elements = { \"*\" }");
	free(t);
	t = elements_text(NFTOBJ_WANIF, NULL, 0);
	CHECK_STR(t, "");
	free(t);
}

TEST_MAIN(T(test_fwd_keys), T(test_ifname_intervals), T(test_portranges), T(test_batch_split),
	  T(test_skeleton), T(test_text))
