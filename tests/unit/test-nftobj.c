#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "rules/config.h"
#include "nft/nftdefs.h"
#include "nft/nftelem.h"
#include "nft/nftlayout.h"
#include "nft/nftobj.h"
#include "nft/nftskel.h"
#include "nft/nfttext.h"
#include "rules/prefix.h"
#include "test.h"

static void test_ifname_intervals(void)
{
	struct iflist l = { 0 };
	struct nftelem *e;
	size_t n;
	uint8_t k[16] = { 0 };

	iflist_add(&l, "eth0");
	iflist_add(&l, "ppp*");
	iflist_add(&l, "eth*");
	iflist_add(&l, "br-lan");
	CHECK_INT(nftelem_ifnames(&l, &e, &n), 0);
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
	CHECK_INT(nftelem_ifnames(&l, &e, &n), 0);
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
	struct nftelem *e;
	size_t n;

	CHECK_INT(nftelem_portranges(p, 5, &e, &n), 0);
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
	struct nftelem *e = calloc(600, sizeof(*e));
	struct iflist l = { 0 };
	size_t n;

	nlbatch_init(&b, 100);
	nlbatch_reset(&b);
	CHECK_INT(nftelem_write_set(&b, NFT_MSG_NEWSETELEM, NFTOBJ_TRIGGERS, e, 600), 0);
	CHECK_INT(b.n_ops, 3);
	CHECK_STR(b.ops[0].what, "add 256 in triggers");
	CHECK_STR(b.ops[2].what, "add 88 in triggers");
	CHECK_STR(nlbatch_describe(&b, b.ops[1].seq), "add 256 in triggers");
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
	CHECK_INT(nftelem_ifnames(&l, &e, &n), 0);
	CHECK_INT(n, 400);
	nlbatch_reset(&b);
	CHECK_INT(nftelem_write_set(&b, NFT_MSG_NEWSETELEM, NFTOBJ_WANIF, e, n), 0);
	CHECK_STR(b.ops[0].what, "add 256 in wanif");
	free(e);
	iflist_clear(&l);
	nlbatch_free(&b);
}

static const char *find_op(const struct nlbatch *b, const char *what)
{
	for (size_t i = 0; i < b->n_ops; i++)
		if (!strcmp(b->ops[i].what, what))
			return b->ops[i].what;
	return NULL;
}

static size_t count_ops(const struct nlbatch *b, const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n_ops; i++)
		n += !strncmp(b->ops[i].what, prefix, strlen(prefix));
	return n;
}

static void test_skeleton(void)
{
	struct nftobj_params p = { .nflog_group = 7070, .mark = 0x10000000, .mark_mask = 0x10000000, .rpf_kernel = true,
				   .fwd_set_size = 40000, .learn = true, .learn_group = 7071 };
	struct nlbatch b;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	size_t off;

	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	nftobj_table(&b, NFT_MSG_NEWTABLE, NFTOBJ_TABLE_F_OWNER);
	CHECK_INT(nftskel_build(&b, &p), 0);
	/*
	 * table, 16 sets, 4 counters, 10 chains, 27 rules (and redir4's
	 * anonymous { tcp, udp } with its elements): never one rule per
	 * configured rule in these; the rules' own chains hang off the
	 * verdict maps
	 */
	CHECK_INT(b.n_ops, 59);
	CHECK_INT(count_ops(&b, "create counter "), 4);
	CHECK_INT(count_ops(&b, "create set "), 16);
	CHECK(find_op(&b, "create set src4ok") && find_op(&b, "create set src6ok"));
	CHECK(find_op(&b, "create set ratell"));
	CHECK_INT(count_ops(&b, "create chain "), 10);
	CHECK_STR(b.ops[1].what, "create set wanif");
	CHECK(find_op(&b, "create set fwd4v") && find_op(&b, "create set trig6v"));
	CHECK(find_op(&b, "add trig_vetted4 rule (kernel path)"));
	CHECK(find_op(&b, "add trig_vetted6 rule (kernel path)"));
	CHECK(find_op(&b, "add dnat rule") && find_op(&b, "add pinhole rule"));
	CHECK_STR(b.ops[58].what, "add pinhole-guard rule");
	CHECK_INT(nlbatch_finish(&b), 59);
	{
		/*
		 * a vetted source: its machine's log budget, then the kernel's add (DESIGN §2.10,
		 * §2.11); any other: the shared budget, then logged to the daemon
		 */
		struct dynbuf t = { 0 };

		nftskel_rules_text(&t, &p, CHAIN_TRIGGER4);
		nftskel_rules_text(&t, &p, CHAIN_TRIGGER6);
		nftskel_rules_text(&t, &p, CHAIN_TRIG_VETTED4);
		nftskel_rules_text(&t, &p, CHAIN_TRIG_SHARED);
		CHECK(t.data && strstr(t.data, "\t\tiifname . ip saddr . ether saddr @src4ok goto trig_vetted4\n"
					     "\t\tgoto trig_shared\n"));
		CHECK(strstr(t.data, "\t\tiifname . ip6 saddr . ether saddr @src6ok goto trig_vetted6\n"));
		CHECK(strstr(t.data, "\t\tupdate @ratell { ether saddr limit rate over 200/second burst 400 packets } "
				     "counter name \"limited\" return\n\t\tmeta l4proto . th dport vmap @trig4v\n"
				     "\t\tgoto trig_log\n"));
		CHECK(strstr(t.data, "\t\tlimit rate over 200/second burst 400 packets counter name "
				     "\"limited_shared\" return\n\t\tgoto trig_log\n"));
		dynbuf_free(&t);
	}
	/* parse the fwd4v verdict map back: after the table, wanif, lanif, allow4, allow6, triggers */
	nlh = (struct nlmsghdr *)b.buf;
	off = NLMSG_ALIGN(nlh->nlmsg_len);	/* batch begin */
	for (int i = 0; i < 6; i++) {
		nlh = (struct nlmsghdr *)(b.buf + off);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	nlh = (struct nlmsghdr *)(b.buf + off);
	CHECK_INT(nlh->nlmsg_type & 0xff, NFT_MSG_NEWSET);
	CHECK_INT(nftnl_set_nlmsg_parse(nlh, s), 0);
	CHECK_STR(nftnl_set_get_str(s, NFTNL_SET_NAME), "fwd4v");
	CHECK_INT(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	CHECK_INT(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), (12 << 6) | 13);
	CHECK_INT(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 8);
	CHECK_INT(nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE), NFT_DATA_VERDICT);
	nftnl_set_free(s);
	nlbatch_free(&b);
}

/*
 * The named counters, each referenced by the rules (a genuine trigger's
 * log counts in "triggers"), and created from the values a table written
 * anew carries on (a re-exec, an adoption): an nft counter exporter sees
 * them go on
 */
static void test_counters(void)
{
	struct nftobj_params p = { .nflog_group = 7070, .learn = true, .learn_group = 7071 };
	static const char *const names[] = { "forged", "limited", "limited_shared", "triggers" };
	struct dynbuf t = { 0 };
	struct nlbatch b;
	size_t off, n = 0;

	p.counters[NFTOBJ_CTR_FORGED] = (struct nftobj_ctr){ 5, 300 };
	p.counters[NFTOBJ_CTR_TRIGGERS] = (struct nftobj_ctr){ 18446744073709551615ull, 1 };
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(nftskel_build(&b, &p), 0);
	for (off = 0; off < b.len;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(b.buf + off);
		struct nftnl_obj *o;

		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWOBJ || nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES)
			continue;
		o = nftnl_obj_alloc();
		CHECK_INT(nftnl_obj_nlmsg_parse(nlh, o), 0);
		CHECK_INT(nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE), NFT_OBJECT_COUNTER);
		CHECK(n < ARRAY_SIZE(names) && !strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_NAME), names[n]));
		if (n == NFTOBJ_CTR_FORGED) {
			CHECK(nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS) == 5);
			CHECK(nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES) == 300);
		} else if (n == NFTOBJ_CTR_TRIGGERS) {
			CHECK(nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS) == 18446744073709551615ull);
		} else {
			CHECK(!nftnl_obj_is_set(o, NFTNL_OBJ_CTR_PKTS));
		}
		nftnl_obj_free(o);
		n++;
	}
	CHECK_INT(n, NFTOBJ__COUNTERS);
	nftskel_rules_text(&t, &p, CHAIN_TRIG_LOG);
	CHECK_STR(t.data, "\t\tcounter name \"triggers\" log group 7070 snaplen 128 queue-threshold 1\n");
	dynbuf_free(&t);
	nlbatch_free(&b);
}

static const struct nftchain *chain(const struct nftlayout *l, const char *name)
{
	for (size_t i = 0; i < l->n_chains; i++)
		if (!strcmp(l->chains[i].name, name))
			return &l->chains[i];
	return NULL;
}

/* The rules of chain NAME of L (built from C), as nft lists them; NULL if there is none. */
static char *ctext(const struct nftlayout *l, const struct config *c, const struct nftobj_params *p,
		   const char *name)
{
	const struct nftchain *ch = chain(l, name);
	struct dynbuf out = { 0 };

	if (!ch)
		return NULL;
	CHECK_INT(nftchain_text(p, c, ch, &out), 0);
	return out.data ? out.data : strdup("");
}

static void check_ctext(const struct nftlayout *l, const struct config *c,
			const struct nftobj_params *p, const char *name, const char *want)
{
	char *t = ctext(l, c, p, name);

	CHECK_STR(t, want);
	free(t);
}

static void test_layout(void)
{
	struct nftobj_params p = { .nflog_group = 7070, .mark = 0x10000000, .mark_mask = 0x10000000, .rpf_kernel = true,
				   .fwd_set_size = 2048, .kernel_triggers = true };
	const char *text = "rule ra trigger 7070/tcp forward 6970-7170/udp\n"
			   "rule x11 trigger 7070/tcp,6000/tcp forward 6000-6100/tcp family ipv4 allow 192.168.7.0/24\n"
			   "rule vp trigger 5060/udp forward 10000-20000/udp peer timeout 2m\n"
			   "rule vq trigger 5061/udp forward 30000-30100/udp peer exclusive\n"
			   "rule g forward 27015/udp to 192.168.7.9\n";
	struct config *c = config_new(), *c2 = config_new();
	struct nftlayout l, l2;
	const struct nftchain *ch;
	struct nlbatch b;

	config_parse_text(c, "t", text, strlen(text));
	CHECK_INT(c->n_errors, 0);
	CHECK_INT(nftlayout_build(c, &p, &l), 0);
	/* act4 + own6 + pin6, act4 + allow4, act4p + own6p + pin6p twice, act4 */
	CHECK_INT(l.n_sets, 12);
	CHECK_STR(l.sets[0].name, "act4_ra");
	CHECK_INT(l.sets[0].size, NFTOBJ_ONE_SET_SIZE);
	CHECK_STR(l.sets[4].name, "allow4_x11");
	CHECK_STR(l.sets[5].name, "act4p_vp");
	CHECK_INT(l.sets[5].size, 2048);
	CHECK_STR(l.sets[11].name, "act4_g");
	/* one trigger port serves two rules */
	ch = chain(&l, "t4_tcp_7070");
	CHECK(ch && ch->n_rules == 2);
	check_ctext(&l, c, &p, "t4_tcp_7070",
		  "\t\tiifname != \"lo\" add @act4_ra { meta nfproto timeout 5m : ip saddr }\n"
		  "\t\tiifname != \"lo\" ip saddr @allow4_x11 add @act4_x11 { meta nfproto timeout 5m : ip saddr }\n");
	ch = chain(&l, "t6_tcp_7070");
	CHECK(ch && ch->n_rules == 1);
	CHECK(chain(&l, "t6_tcp_6000") == NULL);	/* x11 is ipv4 only */
	ch = chain(&l, "d4_udp_10000");
	CHECK(ch && ch->lo == 10000 && ch->hi == 20000);
	check_ctext(&l, c, &p, "d4_udp_10000", "\t\tdnat ip to ip saddr map @act4p_vp\n");
	check_ctext(&l, c, &p, "t6_udp_5060",
		  "\t\tiifname != \"lo\" ip6 daddr != @own6p_vp add @own6p_vp { ip6 daddr timeout 2m } "
		  "add @pin6p_vp { ip6 saddr . ip6 daddr timeout 2m }\n");
	check_ctext(&l, c, &p, "p6_udp_6970", "\t\tip6 daddr @pin6_ra meta mark set meta mark | 0x10000000\n");
	CHECK(chain(&l, "d4_udp_27015") && !chain(&l, "p6_udp_27015") && !chain(&l, "t4_udp_27015"));

	/* a fresh table: every set, chain, rule and jump */
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(nftlayout_write(&b, &p, c, NULL, &l), 0);
	CHECK_INT(count_ops(&b, "create set "), 12);
	CHECK_INT(count_ops(&b, "create chain "), l.n_chains);
	CHECK(find_op(&b, "add rule to t4_tcp_7070"));
	CHECK_INT(count_ops(&b, "flush "), 0);
	CHECK_INT(count_ops(&b, "add to "), 4);	/* one message per verdict map */

	/* a reload that changes nothing writes nothing (not even the jumps: pipapo is slow to change) */
	nlbatch_reset(&b);
	CHECK_INT(nftlayout_write(&b, &p, c, &l, &l), 0);
	CHECK_INT(b.n_ops, 0);

	/* ra's timeout changes, vq goes: its chain text changes, its sets go, ra's sets stay */
	text = "rule ra trigger 7070/tcp forward 6970-7170/udp timeout 1m30s\n"
	       "rule x11 trigger 7070/tcp,6000/tcp forward 6000-6100/tcp family ipv4 allow 192.168.7.0/24\n"
	       "rule vp trigger 5060/udp forward 10000-20000/udp peer timeout 2m\n"
	       "rule g forward 27015/udp to 192.168.7.9\n";
	config_parse_text(c2, "t", text, strlen(text));
	CHECK_INT(nftlayout_build(c2, &p, &l2), 0);
	nlbatch_reset(&b);
	CHECK_INT(nftlayout_write(&b, &p, c2, &l, &l2), 0);
	CHECK(find_op(&b, "flush chain t4_tcp_7070"));
	CHECK(find_op(&b, "delete chain t4_udp_5061"));
	CHECK(find_op(&b, "delete chain d4_udp_30000"));
	CHECK(!find_op(&b, "flush chain d4_udp_10000") && !find_op(&b, "delete chain d4_udp_10000"));
	CHECK(find_op(&b, "delete set act4p_vq") && find_op(&b, "delete set pin6p_vq"));
	/* only the jumps of what went: vq's forward and trigger ports */
	CHECK_INT(count_ops(&b, "delete from "), 4);	/* fwd4v, fwd6v, trig4v, trig6v */
	CHECK_INT(count_ops(&b, "add to "), 0);
	CHECK(!find_op(&b, "delete set act4_ra") && !find_op(&b, "create set act4_ra"));
	CHECK(find_op(&b, "create chain d4_udp_10000") == NULL);
	check_ctext(&l2, c2, &p, "t4_tcp_7070",
		  "\t\tiifname != \"lo\" add @act4_ra { meta nfproto timeout 1m30s : ip saddr }\n"
		  "\t\tiifname != \"lo\" ip saddr @allow4_x11 add @act4_x11 { meta nfproto timeout 5m : ip saddr }\n");

	/* without the kernel path: no trigger chains, the verdict maps of triggers stay empty */
	p.kernel_triggers = false;
	nftlayout_free(&l2);
	CHECK_INT(nftlayout_build(c2, &p, &l2), 0);
	for (size_t i = 0; i < l2.n_chains; i++)
		CHECK(l2.chains[i].kind != NFTCHAIN_T4 && l2.chains[i].kind != NFTCHAIN_T6);
	nftlayout_free(&l);
	nftlayout_free(&l2);
	nlbatch_free(&b);
	config_free(c);
	config_free(c2);
}

/* The text of the elements a batch leaves in a set, from "elements = {" to its end. */
static char *elements_text(enum nftobj_set set, const char *const *names, size_t n)
{
	struct nftobj_params p = { .nflog_group = 7, .mark = 1, .mark_mask = 1, .rpf_kernel = true };
	struct iflist l = { 0 };
	struct nftelem *e;
	struct dynbuf out = { 0 };
	struct nlbatch b;
	size_t n_e;
	char *start, *ret;

	for (size_t i = 0; i < n; i++)
		iflist_add(&l, names[i]);
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(nftelem_ifnames(&l, &e, &n_e), 0);
	/* a flush forgets what came before it */
	CHECK_INT(nftelem_write_set(&b, NFT_MSG_NEWSETELEM, set, e, n_e), 0);
	CHECK_INT(nftelem_flush_set(&b, set), 0);
	CHECK_INT(nftelem_write_set(&b, NFT_MSG_NEWSETELEM, set, e, n_e), 0);
	CHECK_INT(nfttext_table(&p, NULL, &(struct nftlayout){ 0 }, &b, &out), 0);
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

static char *set_text(enum nftobj_set set, const struct nftelem *e, size_t n)
{
	struct nftobj_params p = { .nflog_group = 7, .mark = 1, .mark_mask = 1, .rpf_kernel = true };
	struct dynbuf out = { 0 };
	struct nlbatch b;
	char *start, *ret;

	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(nftelem_write_set(&b, NFT_MSG_NEWSETELEM, set, e, n), 0);
	CHECK_INT(nfttext_table(&p, NULL, &(struct nftlayout){ 0 }, &b, &out), 0);
	start = out.data ? strstr(out.data, "elements = {") : NULL;
	ret = start ? strndup(start, strstr(start, "}") + 1 - start) : strdup("");
	nlbatch_free(&b);
	dynbuf_free(&out);
	return ret;
}

static void test_prefixes(void)
{
	static const char *const v[] = { "192.168.1.0/24", "192.168.1.20", "10.0.0.0/8", "192.168.2.0/24",
					 "fd00::/64", "203.0.113.7", "2001:db8::/32" };
	struct prefixlist l = { 0 };
	struct nftelem *e;
	size_t n;
	char *t;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct addrprefix pf;

		CHECK_INT(prefix_parse(v[i], strlen(v[i]), &pf), 0);
		prefixlist_add(&l, &pf);
	}
	/* merged where they overlap or touch, each a start and an end (one past it) */
	CHECK_INT(nftelem_prefixes(&l, AF_INET, &e, &n), 0);
	CHECK_INT(n, 6);
	CHECK(!memcmp(e[0].key, "\x0a\0\0\0", 4) && !memcmp(e[1].key, "\x0b\0\0\0", 4) && e[1].interval_end);
	CHECK(!memcmp(e[3].key, "\xc0\xa8\x03\0", 4));
	t = set_text(NFTOBJ_ALLOW4, e, n);
	CHECK_STR(t, "elements = { 10.0.0.0/8,\n\t\t\t     192.168.1.0-192.168.2.255,\n"
		     "\t\t\t     203.0.113.7 }");
	free(t);
	free(e);
	CHECK_INT(nftelem_prefixes(&l, AF_INET6, &e, &n), 0);
	CHECK_INT(n, 4);
	t = set_text(NFTOBJ_ALLOW6, e, n);
	CHECK_STR(t, "elements = { 2001:db8::/32,\n\t\t\t     fd00::/64 }");
	free(t);
	free(e);
	prefixlist_clear(&l);
	/* everything: one open-ended element */
	{
		struct addrprefix all;

		prefix_parse("0.0.0.0/0", 9, &all);
		prefixlist_add(&l, &all);
	}
	CHECK_INT(nftelem_prefixes(&l, AF_INET, &e, &n), 0);
	CHECK_INT(n, 1);
	t = set_text(NFTOBJ_ALLOW4, e, n);
	CHECK_STR(t, "elements = { 0.0.0.0/0 }");
	free(t);
	free(e);
	prefixlist_clear(&l);
}

TEST_MAIN(T(test_ifname_intervals), T(test_portranges), T(test_batch_split), T(test_skeleton),
	  T(test_counters), T(test_layout), T(test_text), T(test_prefixes))
