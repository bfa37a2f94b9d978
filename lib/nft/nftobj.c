/*
 * nft objects; see nftobj.h and nftdefs.h. The ruleset they make, as nft
 * lists it (the rule expressions in nftskel.c and nftchain.c are
 * transcribed from `nft --debug=netlink` of it):
 *
 *   chain trigger (filter forward, priority NFTOBJ_PRIO_LAST):
 *     ct state new oifname @wanif iifname != @wanif
 *       meta l4proto . th dport @triggers meta nfproto ipv4 jump trigger4
 *     ... meta nfproto ipv6 jump trigger6
 *   chain trigger4 (trigger6 alike):
 *     fib saddr . iif oif missing goto trig_forged
 *     fib saddr type != unicast goto trig_forged
 *     iifname . ip saddr . ether saddr @src4ok goto trig_vetted4
 *     goto trig_shared
 *   chain trig_vetted4 (trig_vetted6 alike): a vetted source, its machine's budget
 *     update @ratell { ether saddr limit rate over R/second burst B packets }
 *       counter name "limited" return
 *     meta l4proto . th dport vmap @trig4v: to the trigger port's segment
 *       chain t4_* (t6_*), where each rule the port triggers adds its first
 *       forwarding (nftchain.c)
 *     goto trig_log
 *   chain trig_shared: every other source, one budget for all
 *     limit rate over R/second burst B packets counter name "limited_shared" return
 *     goto trig_log
 *   chain trig_log: counter name "triggers" log group G snaplen 128 queue-threshold 1
 *   chain trig_forged: counter name "forged"
 *     limit rate 10/second log prefix "ipautofw:forged" group G snaplen 128 queue-threshold 1
 *   chain prerouting (nat prerouting, priority dstnat + 10):
 *     iifname @wanif fib daddr type local meta nfproto ipv4
 *       meta l4proto . th dport vmap @fwd4v: to the segment's chain d4_*:
 *         dnat ip to meta nfproto map @act4_RULE
 *         dnat ip to ip saddr map @act4p_RULE (peer rules)
 *     ... dnat ip to meta l4proto . th dport map @redir4 (port redirection)
 *     ip saddr @learn4 iifname @wanif fib daddr type local
 *       limit rate R/second burst B packets log group L snaplen 128 queue-threshold 1
 *   chain pinhole (filter forward, priority NFTOBJ_PRIO_FIRST):
 *     iifname @wanif ct state new meta nfproto ipv6
 *       meta l4proto . th dport vmap @fwd6v: to the segment's chain p6_*:
 *         ip6 daddr @pin6_RULE meta mark set mark and ~M or V
 *         ip6 daddr . ip6 saddr @pin6p_RULE ... (peer rules)
 *     ct state new ip6 saddr . ip6 daddr @learn6 iifname @wanif meta mark and M != V
 *       limit rate R/second burst B packets log group L snaplen 128 queue-threshold 1
 *     iifname @wanif ct state new meta nfproto ipv6 meta mark and M != V
 *       meta l4proto . th dport @guard6 drop
 * (guard6 is empty unless `pinhole-guard on`; the learn rules are there
 * unless `learn off`.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nftdefs.h"
#include "nftobj.h"
#include "base/util.h"

struct setdef {
	const char *name;
	bool dynamic;		/* updated from the packet path */
	uint32_t timeout_ms;	/* default element timeout (dynamic sets) */
	uint32_t key_type;
	uint32_t key_len;
	uint8_t fields[4];	/* field lengths in bytes; 0 ends (or a plain key) */
	bool map;
	bool verdict;		/* a verdict map */
	bool timeout;
	bool hash;		/* single keys, no intervals */
	uint32_t size;		/* a fixed size (0: none, or the forwarding sets' size) */
	uint32_t data_type;
	uint32_t data_len;
};

static const struct setdef sets[NFTOBJ__SETS] = {
	[NFTOBJ_WANIF] = { .name = "wanif", .key_type = TYPE_IFNAME, .key_len = 16 },
	[NFTOBJ_LANIF] = { .name = "lanif", .key_type = TYPE_IFNAME, .key_len = 16 },
	[NFTOBJ_ALLOW4] = { .name = "allow4", .key_type = TYPE_IPADDR, .key_len = 4 },
	[NFTOBJ_ALLOW6] = { .name = "allow6", .key_type = TYPE_IP6ADDR, .key_len = 16 },
	[NFTOBJ_TRIGGERS] = { .name = "triggers", .key_type = (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			      .key_len = 8, .fields = { 1, 2 } },
#define VMAP(n) { .name = n, .key_type = (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE, \
		  .key_len = 8, .fields = { 1, 2 }, .map = true, .verdict = true, .data_type = TYPE_VERDICT }
	[NFTOBJ_FWD4V] = VMAP("fwd4v"),
	[NFTOBJ_FWD6V] = VMAP("fwd6v"),
	[NFTOBJ_TRIG4V] = VMAP("trig4v"),
	[NFTOBJ_TRIG6V] = VMAP("trig6v"),
#undef VMAP
	[NFTOBJ_REDIR4] = { .name = "redir4", .key_type = (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			    .key_len = 8, .fields = { 1, 2 }, .map = true,
			    .data_type = (TYPE_IPADDR << 6) | TYPE_INET_SERVICE, .data_len = 8 },
	[NFTOBJ_GUARD6] = { .name = "guard6", .key_type = (TYPE_INET_PROTOCOL << 6) | TYPE_INET_SERVICE,
			    .key_len = 8, .fields = { 1, 2 } },
	[NFTOBJ_RATELL] = { .name = "ratell", .dynamic = true, .timeout_ms = 10000,
			    .key_type = TYPE_ETHERADDR, .key_len = 6 },
	[NFTOBJ_LEARN4] = { .name = "learn4", .key_type = TYPE_IPADDR, .key_len = 4, .timeout = true,
			    .hash = true, .size = NFTOBJ_LEARN_SET_SIZE },
	[NFTOBJ_LEARN6] = { .name = "learn6", .key_type = (TYPE_IP6ADDR << 6) | TYPE_IP6ADDR,
			    .key_len = 32, .fields = { 16, 16 }, .timeout = true, .hash = true,
			    .size = NFTOBJ_LEARN_SET_SIZE },
	[NFTOBJ_SRC4OK] = { .name = "src4ok", .key_type = (TYPE_IFNAME << 12) | (TYPE_IPADDR << 6) |
			    TYPE_ETHERADDR, .key_len = 28, .fields = { 16, 4, 6 }, .hash = true,
			    .size = NFTOBJ_SRC_SET_SIZE },
	[NFTOBJ_SRC6OK] = { .name = "src6ok", .key_type = (TYPE_IFNAME << 12) | (TYPE_IP6ADDR << 6) |
			    TYPE_ETHERADDR, .key_len = 40, .fields = { 16, 16, 6 }, .hash = true,
			    .size = NFTOBJ_SRC_SET_SIZE },
};

const struct chaindef nftobj_chains[CHAIN__N] = {
	[CHAIN_TRIGGER] = { "trigger", "filter", NF_INET_FORWARD, NFTOBJ_PRIO_LAST },
	[CHAIN_TRIGGER4] = { .name = "trigger4" },
	[CHAIN_TRIGGER6] = { .name = "trigger6" },
	[CHAIN_TRIG_VETTED4] = { .name = "trig_vetted4" },
	[CHAIN_TRIG_VETTED6] = { .name = "trig_vetted6" },
	[CHAIN_TRIG_SHARED] = { .name = "trig_shared" },
	[CHAIN_TRIG_LOG] = { .name = "trig_log" },
	[CHAIN_TRIG_FORGED] = { .name = "trig_forged" },
	[CHAIN_PREROUTING] = { "prerouting", "nat", NF_INET_PRE_ROUTING, -90 },
	[CHAIN_PINHOLE] = { "pinhole", "filter", NF_INET_FORWARD, NFTOBJ_PRIO_FIRST },
};

static const char *const counter_names[NFTOBJ__COUNTERS] = {
	[NFTOBJ_CTR_FORGED] = "forged",
	[NFTOBJ_CTR_LIMITED] = "limited",
	[NFTOBJ_CTR_TRIGGERS] = "triggers",
	[NFTOBJ_CTR_LIMITED_SHARED] = "limited_shared",
};

const char *nftobj_counter_name(enum nftobj_counter c)
{
	return counter_names[c];
}

const char *nftobj_set_name(enum nftobj_set s)
{
	return sets[s].name;
}

bool nftobj_set_is_dynamic(enum nftobj_set s)
{
	return sets[s].dynamic;
}

void nftobj_setref(enum nftobj_set id, struct nftobj_setref *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s", sets[id].name);
	ret->key_len = sets[id].key_len;
	ret->data_len = sets[id].data_len;
}

/* The sets each rule adds, named PREFIX_RULE */
static const struct rsetdef {
	const char *prefix;
	uint32_t key_type;
	uint8_t key_len;
	uint32_t data_type;
	uint8_t data_len;
	bool fwd;		/* carries forwardings: dynamic, with timeouts and a size */
} rsets[NFTOBJ__RS] = {
	[NFTOBJ_RS_ACT4] = { .prefix = "act4", .key_type = TYPE_NFPROTO, .key_len = 1,
			     .data_type = TYPE_IPADDR, .data_len = 4, .fwd = true },
	[NFTOBJ_RS_ACT4P] = { .prefix = "act4p", .key_type = TYPE_IPADDR, .key_len = 4,
			      .data_type = TYPE_IPADDR, .data_len = 4, .fwd = true },
	[NFTOBJ_RS_OWN6] = { .prefix = "own6", .key_type = TYPE_NFPROTO, .key_len = 1, .fwd = true },
	[NFTOBJ_RS_PIN6] = { .prefix = "pin6", .key_type = TYPE_IP6ADDR, .key_len = 16, .fwd = true },
	[NFTOBJ_RS_OWN6P] = { .prefix = "own6p", .key_type = TYPE_IP6ADDR, .key_len = 16, .fwd = true },
	[NFTOBJ_RS_PIN6P] = { .prefix = "pin6p", .key_type = (TYPE_IP6ADDR << 6) | TYPE_IP6ADDR,
			      .key_len = 32, .fwd = true },
	[NFTOBJ_RS_WAN] = { .prefix = "wan", .key_type = TYPE_IFNAME, .key_len = 16 },
	[NFTOBJ_RS_LAN] = { .prefix = "lan", .key_type = TYPE_IFNAME, .key_len = 16 },
	[NFTOBJ_RS_ALLOW4] = { .prefix = "allow4", .key_type = TYPE_IPADDR, .key_len = 4 },
	[NFTOBJ_RS_ALLOW6] = { .prefix = "allow6", .key_type = TYPE_IP6ADDR, .key_len = 16 },
};

void nftobj_setref_rule(enum nftobj_rset kind, const char *rule, struct nftobj_setref *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s_%s", rsets[kind].prefix, rule);
	ret->key_len = rsets[kind].key_len;
	ret->data_len = rsets[kind].data_len;
}

void nftobj_rset_name(char *buf, enum nftobj_rset kind, const char *rule)
{
	snprintf(buf, NFTOBJ_NAME_MAX, "%s_%s", rsets[kind].prefix, rule);
}

struct nftnl_set *nftobj_rset_object(enum nftobj_rset kind, const char *name, uint32_t size,
				     uint32_t id)
{
	const struct rsetdef *d = &rsets[kind];
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t flags = d->fwd ? NFT_SET_TIMEOUT | NFT_SET_EVAL : NFT_SET_INTERVAL;

	if (!s)
		return NULL;
	if (d->data_type)
		flags |= NFT_SET_MAP;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	/* the kernel wants an id for a set a dynset expression may name (unique per transaction) */
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	if (d->data_type) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, d->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, d->data_len);
	}
	if (size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	return s;
}

static uint16_t hdr_flags(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_NEWSET:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_NEWOBJ:
		return NLM_F_CREATE | NLM_F_ACK;
	case NFT_MSG_NEWRULE:
		return NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK;
	}
	return NLM_F_ACK;
}

struct nlmsghdr *nftobj_begin_msg(struct nlbatch *b, uint16_t type)
{
	char *p = nlbatch_reserve(b);

	if (!p)
		return NULL;
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, hdr_flags(type), nlbatch_next_seq(b));
}

int nftobj_table(struct nlbatch *b, uint16_t msg_type, uint32_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFTOBJ_TABLE);
	if (msg_type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, flags);
	nlh = nftobj_begin_msg(b, msg_type);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		nlbatch_commit(b, nlh, msg_type == NFT_MSG_NEWTABLE ? "create table" : "delete table");
	}
	nftnl_table_free(t);
	return b->oom ? -ENOMEM : 0;
}

struct nftnl_set *nftobj_set_object(enum nftobj_set id, uint32_t size)
{
	const struct setdef *d = &sets[id];
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t flags = d->dynamic ? NFT_SET_TIMEOUT | NFT_SET_EVAL : d->hash ? 0 : NFT_SET_INTERVAL;
	size_t nfields = 0;

	if (!s)
		return NULL;
	while (nfields < 4 && d->fields[nfields])
		nfields++;
	if (nfields)
		flags |= NFT_SET_CONCAT;
	if (d->dynamic) {
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, d->timeout_ms);
		size = NFTOBJ_RATE_SET_SIZE;
	}
	if (d->size)
		size = d->size;
	if (size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	if (d->map)
		flags |= NFT_SET_MAP;
	if (d->timeout)
		flags |= NFT_SET_TIMEOUT;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id + 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	if (nfields)
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, d->fields, nfields);
	if (d->verdict) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	} else if (d->map) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, d->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, d->data_len);
	}
	return s;
}

static int add_set(struct nlbatch *b, enum nftobj_set id, uint32_t size)
{
	struct nftnl_set *s = nftobj_set_object(id, size);
	struct nlmsghdr *nlh;
	char what[40];

	if (!s)
		return -ENOMEM;
	nlh = nftobj_begin_msg(b, NFT_MSG_NEWSET);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		snprintf(what, sizeof(what), "create set %s", sets[id].name);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_set_free(s);
	return b->oom ? -ENOMEM : 0;
}

struct nftnl_obj *nftobj_counter_object(enum nftobj_counter id)
{
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o)
		return NULL;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NFTOBJ_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, counter_names[id]);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	return o;
}

static int add_counter(struct nlbatch *b, enum nftobj_counter id, const struct nftobj_ctr *start)
{
	struct nftnl_obj *o = nftobj_counter_object(id);
	struct nlmsghdr *nlh;
	char what[40];

	if (!o)
		return -ENOMEM;
	if (start->packets || start->bytes) {
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, start->packets);
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, start->bytes);
	}
	nlh = nftobj_begin_msg(b, NFT_MSG_NEWOBJ);
	if (nlh) {
		nftnl_obj_nlmsg_build_payload(nlh, o);
		snprintf(what, sizeof(what), "create counter %s", counter_names[id]);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_obj_free(o);
	return b->oom ? -ENOMEM : 0;
}

struct nftnl_chain *nftobj_chain_object(const struct chaindef *d)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return NULL;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFTOBJ_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, d->name);
	if (d->type) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, d->type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, d->hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, d->prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	return c;
}

static int add_chain(struct nlbatch *b, const struct chaindef *d)
{
	struct nftnl_chain *c = nftobj_chain_object(d);
	struct nlmsghdr *nlh;
	char what[40];

	if (!c)
		return -ENOMEM;
	nlh = nftobj_begin_msg(b, NFT_MSG_NEWCHAIN);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		snprintf(what, sizeof(what), "create chain %s", d->name);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_chain_free(c);
	return b->oom ? -ENOMEM : 0;
}

int nftobj_add_objects(struct nlbatch *b, const struct nftobj_params *p)
{
	int r = 0;

	for (int s = 0; s < NFTOBJ__SETS && r == 0; s++)
		r = add_set(b, s, 0);
	for (int c = 0; c < NFTOBJ__COUNTERS && r == 0; c++)
		r = add_counter(b, c, &p->counters[c]);
	for (size_t i = 0; i < CHAIN__N && r == 0; i++)
		r = add_chain(b, &nftobj_chains[i]);
	return r;
}
