/*
 * The ruleset in `nft -f` syntax, exactly as `nft list table inet
 * ipautofw` shows it (--dry-run): the sets, counters and chains from the
 * same libnftnl objects the daemon sends, the rules from the same
 * statement builders, the elements decoded from the batch that
 * tablewrite_table() builds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "nftdefs.h"
#include "nftelem.h"
#include "nftskel.h"
#include "nftstmt.h"
#include "nfttext.h"
#include "rules/config.h"
#include "base/util.h"

static const struct nfttype {
	uint8_t id;
	uint8_t len;
	const char *name;
} types[] = {
	{ TYPE_VERDICT, 4, "verdict" },
	{ TYPE_NFPROTO, 1, "nf_proto" },
	{ TYPE_IPADDR, 4, "ipv4_addr" },
	{ TYPE_IP6ADDR, 16, "ipv6_addr" },
	{ TYPE_ETHERADDR, 6, "ether_addr" },
	{ TYPE_INET_PROTOCOL, 1, "inet_proto" },
	{ TYPE_INET_SERVICE, 2, "inet_service" },
	{ TYPE_IFNAME, 16, "ifname" },
};

static const struct nfttype *type_of(uint8_t id)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].id == id)
			return &types[i];
	return NULL;
}

/* The fields of a (concatenated) datatype id, first field first; returns how many. */
static size_t type_fields(uint32_t type, const struct nfttype **ret)
{
	const struct nfttype *rev[5];
	size_t n = 0;

	do {
		rev[n++] = type_of(type & 0x3f);
		type >>= 6;
	} while (type && n < ARRAY_SIZE(rev));
	for (size_t i = 0; i < n; i++)
		ret[i] = rev[n - 1 - i];
	return n;
}

static void text_type(struct dynbuf *out, uint32_t type)
{
	const struct nfttype *f[5];
	size_t n = type_fields(type, f);

	for (size_t i = 0; i < n; i++)
		dynbuf_printf(out, "%s%s", i ? " . " : "", f[i] ? f[i]->name : "?");
}

static void text_value(struct dynbuf *out, const struct nfttype *t, const uint8_t *p)
{
	char buf[INET6_ADDRSTRLEN];

	switch (t->id) {
	case TYPE_IPADDR:
	case TYPE_IP6ADDR:
		dynbuf_printf(out, "%s", inet_ntop(t->id == TYPE_IPADDR ? AF_INET : AF_INET6, p, buf,
						   sizeof(buf)));
		break;
	case TYPE_INET_PROTOCOL:
		if (p[0] == IPPROTO_TCP || p[0] == IPPROTO_UDP)
			dynbuf_printf(out, "%s", proto_name(p[0]));
		else
			dynbuf_printf(out, "%u", p[0]);
		break;
	case TYPE_INET_SERVICE:
		dynbuf_printf(out, "%u", p[0] << 8 | p[1]);
		break;
	case TYPE_ETHERADDR:
		dynbuf_printf(out, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
		break;
	case TYPE_NFPROTO:
		if (p[0] == NFPROTO_IPV4 || p[0] == NFPROTO_IPV6)
			dynbuf_printf(out, "%s", p[0] == NFPROTO_IPV6 ? "ipv6" : "ipv4");
		else
			dynbuf_printf(out, "%u", p[0]);
		break;
	}
}

/* KEY, or the range KEY-KEY_END in each field where they differ, as nft lists it */
static void text_key(struct dynbuf *out, uint32_t type, const uint8_t *key, const uint8_t *key_end)
{
	const struct nfttype *f[5];
	size_t n = type_fields(type, f), off = 0;

	for (size_t i = 0; i < n && f[i]; i++) {
		dynbuf_printf(out, "%s", i ? " . " : "");
		text_value(out, f[i], key + off);
		if (key_end && memcmp(key + off, key_end + off, f[i]->len)) {
			dynbuf_append(out, "-", 1);
			text_value(out, f[i], key_end + off);
		}
		off += (f[i]->len + 3) & ~3u;
	}
}

/*
 * An ifname interval as the name or wildcard it was made from: [name,
 * name+1) is "name", [prefix, prefix+1) is "prefix*". END NULL: the range
 * runs to the end of the key space, which only "*" does (names are ASCII).
 */
static void text_ifname(struct dynbuf *out, const uint8_t *lo, const uint8_t *end)
{
	uint8_t next[IFNAME_MAX + 1];
	int len = strnlen((const char *)lo, sizeof(next));

	if (!end) {
		dynbuf_printf(out, "\"%.*s*\"", len, lo);
		return;
	}
	memcpy(next, lo, sizeof(next));
	if (nftelem_key_inc(next, sizeof(next)) && !memcmp(next, end, sizeof(next))) {
		dynbuf_printf(out, "\"%.*s\"", len, lo);
		return;
	}
	memcpy(next, lo, sizeof(next));
	if (nftelem_key_inc(next, len) && !memcmp(next, end, sizeof(next))) {
		dynbuf_printf(out, "\"%.*s*\"", len, lo);
		return;
	}
	/* adjacent wildcards merged into one range: its first and last name */
	memcpy(next, end, sizeof(next));
	for (size_t i = sizeof(next); i-- > 0;)
		if (next[i]--)
			break;
	dynbuf_printf(out, "\"%.*s\"-\"%.*s\"", len, lo, (int)strnlen((char *)next, sizeof(next)), next);
}

/*
 * An address interval [LO, END) (END NULL: to the end of the address
 * space) as nft lists it: an address, a prefix, or a range.
 */
static void text_addr_interval(struct dynbuf *out, uint8_t type, const uint8_t *lo, const uint8_t *end)
{
	int af = type == TYPE_IPADDR ? AF_INET : AF_INET6;
	unsigned len = af == AF_INET ? 4 : 16, plen = 0;
	uint8_t last[16];
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	bool prefix = true;

	memset(last, 0xff, sizeof(last));
	if (end) {
		memcpy(last, end, len);
		for (size_t i = len; i-- > 0;)
			if (last[i]--)
				break;
	}
	while (plen < len * 8 && !((lo[plen / 8] ^ last[plen / 8]) & (0x80 >> (plen % 8))))
		plen++;
	for (unsigned i = plen; i < len * 8 && prefix; i++)
		prefix = !(lo[i / 8] & (0x80 >> (i % 8))) && (last[i / 8] & (0x80 >> (i % 8)));
	inet_ntop(af, lo, a, sizeof(a));
	if (!prefix)
		dynbuf_printf(out, "%s-%s", a, inet_ntop(af, last, b, sizeof(b)));
	else if (plen == len * 8)
		dynbuf_printf(out, "%s", a);
	else
		dynbuf_printf(out, "%s/%u", a, plen);
}

/*
 * The elements of one set: "elements = { a,\n\t\t\t     b }" as nft lists
 * them. INTERVAL: a plain interval set (start and end elements).
 */
static void text_elems(struct dynbuf *out, uint32_t key_type, uint32_t data_type, bool interval,
		       const struct nftelem *e, size_t n)
{
	const char *sep = "\t\telements = { ";

	for (size_t i = 0; i < n; i++) {
		const uint8_t *end = i + 1 < n && e[i + 1].interval_end ? e[i + 1].key : NULL;

		if (e[i].interval_end)
			continue;
		dynbuf_printf(out, "%s", sep);
		sep = ",\n\t\t\t     ";
		if (key_type == TYPE_IFNAME) {
			text_ifname(out, e[i].key, end);
			continue;
		}
		if (interval && (key_type == TYPE_IPADDR || key_type == TYPE_IP6ADDR)) {
			text_addr_interval(out, key_type, e[i].key, end);
			continue;
		}
		text_key(out, key_type, e[i].key, e[i].has_key_end ? e[i].key_end : NULL);
		if (e[i].has_data) {
			dynbuf_printf(out, " : ");
			text_key(out, data_type, e[i].data, NULL);
		}
	}
	if (n)
		dynbuf_printf(out, " }\n");
}

static int cmp_chain_key(const void *a, const void *b)
{
	const struct nftchain *x = *(const struct nftchain *const *)a;
	const struct nftchain *y = *(const struct nftchain *const *)b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->lo - y->lo;
}

/* A verdict map's elements: the segment chains of its kind, in key order */
static void text_vmap_elems(struct dynbuf *out, const struct nftlayout *l, enum nftchain_kind k)
{
	const struct nftchain **v = calloc(l->n_chains + 1, sizeof(*v));
	const char *sep = "\t\telements = { ";
	size_t n = 0;

	if (!v) {
		out->oom = true;
		return;
	}
	for (size_t i = 0; i < l->n_chains; i++)
		if (l->chains[i].kind == k)
			v[n++] = &l->chains[i];
	qsort(v, n, sizeof(*v), cmp_chain_key);
	for (size_t i = 0; i < n; i++) {
		dynbuf_printf(out, "%s%s . %u", sep, proto_name(v[i]->proto), v[i]->lo);
		if (v[i]->hi != v[i]->lo)
			dynbuf_printf(out, "-%u", v[i]->hi);
		dynbuf_printf(out, " : jump %s", v[i]->name);
		sep = ",\n\t\t\t     ";
	}
	if (n)
		dynbuf_printf(out, " }\n");
	free(v);
}

/* A set as nft lists it; its elements are E (or, for a verdict map, the chains of L of kind VK) */
static void text_set(struct dynbuf *out, struct nftnl_set *s, const struct nftelem *e, size_t n,
		     const struct nftlayout *l, int vk)
{
	uint32_t flags;
	const char *sep = "";

	if (!s) {
		out->oom = true;
		return;
	}
	flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	dynbuf_printf(out, "\t%s %s {\n\t\ttype ", flags & NFT_SET_MAP ? "map" : "set",
		      nftnl_set_get_str(s, NFTNL_SET_NAME));
	text_type(out, nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE));
	if (flags & NFT_SET_MAP) {
		dynbuf_printf(out, " : ");
		if (nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) == NFT_DATA_VERDICT)
			dynbuf_printf(out, "verdict");
		else
			text_type(out, nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE));
	}
	dynbuf_printf(out, "\n");
	if (nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE))
		dynbuf_printf(out, "\t\tsize %u\n", nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE));
	if (flags & (NFT_SET_CONSTANT | NFT_SET_EVAL | NFT_SET_INTERVAL | NFT_SET_TIMEOUT)) {
		static const struct { uint32_t flag; const char *name; } names[] = {
			{ NFT_SET_CONSTANT, "constant" }, { NFT_SET_EVAL, "dynamic" },
			{ NFT_SET_INTERVAL, "interval" }, { NFT_SET_TIMEOUT, "timeout" },
		};

		dynbuf_printf(out, "\t\tflags ");
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (flags & names[i].flag) {
				dynbuf_printf(out, "%s%s", sep, names[i].name);
				sep = ",";
			}
		dynbuf_printf(out, "\n");
	}
	if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT)) {
		dynbuf_printf(out, "\t\ttimeout ");
		nftstmt_duration(out, nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT));
		dynbuf_printf(out, "\n");
	}
	if (vk >= 0)
		text_vmap_elems(out, l, vk);
	else
		text_elems(out, nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
			   nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE) ? nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) : 0,
			   flags & NFT_SET_INTERVAL, e, n);
	dynbuf_printf(out, "\t}\n");
	nftnl_set_free(s);
}

/* A counter as a fresh one lists. */
static void text_counter(struct dynbuf *out, enum nftobj_counter id)
{
	struct nftnl_obj *o = nftobj_counter_object(id);

	if (!o) {
		out->oom = true;
		return;
	}
	dynbuf_printf(out, "\tcounter %s {\n\t\tpackets 0 bytes 0\n\t}\n",
		      nftnl_obj_get_str(o, NFTNL_OBJ_NAME));
	nftnl_obj_free(o);
}

static const char *hook_name(uint32_t hook)
{
	static const char *const names[] = {
		[NF_INET_PRE_ROUTING] = "prerouting", [NF_INET_LOCAL_IN] = "input",
		[NF_INET_FORWARD] = "forward", [NF_INET_LOCAL_OUT] = "output",
		[NF_INET_POST_ROUTING] = "postrouting",
	};

	return hook < ARRAY_SIZE(names) ? names[hook] : "?";
}

/* A priority as nft names it: a standard one within 10 (if it fits the hook), else a number. */
static void text_prio(struct dynbuf *out, uint32_t hook, int32_t prio)
{
	static const struct { int32_t prio; const char *name; int hook1, hook2; } std[] = {
		{ -300, "raw", -1, -1 }, { -150, "mangle", -1, -1 },
		{ -100, "dstnat", NF_INET_PRE_ROUTING, NF_INET_LOCAL_OUT },
		{ 0, "filter", -1, -1 }, { 50, "security", -1, -1 },
		{ 100, "srcnat", NF_INET_LOCAL_IN, NF_INET_POST_ROUTING },
	};

	for (size_t i = 0; i < ARRAY_SIZE(std); i++) {
		int64_t off = (int64_t)prio - std[i].prio;

		if (off < -10 || off > 10)
			continue;
		if (std[i].hook1 >= 0 && (int)hook != std[i].hook1 && (int)hook != std[i].hook2)
			break;
		dynbuf_printf(out, "%s", std[i].name);
		if (off)
			dynbuf_printf(out, " %c %lld", off > 0 ? '+' : '-', (long long)(off > 0 ? off : -off));
		return;
	}
	dynbuf_printf(out, "%d", prio);
}

static void text_chain(struct dynbuf *out, const struct nftobj_params *p, int id)
{
	struct nftnl_chain *c = nftobj_chain_object(&nftobj_chains[id]);

	if (!c) {
		out->oom = true;
		return;
	}
	dynbuf_printf(out, "\tchain %s {\n", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE)) {
		dynbuf_printf(out, "\t\ttype %s hook %s priority ", nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
			      hook_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM)));
		text_prio(out, nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
			  nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO));
		dynbuf_printf(out, "; policy %s;\n",
			      nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP ? "drop" : "accept");
	}
	nftskel_rules_text(out, p, id);
	dynbuf_printf(out, "\t}\n");
	nftnl_chain_free(c);
}

struct elem_list {
	struct nftelem *v;
	size_t n;
};

/* A NFTA_DATA_VALUE nest into BUF (SIZE bytes); returns its length or -EINVAL. */
static int data_value(const struct nlattr *nest, uint8_t *buf, size_t size)
{
	const struct nlattr *a = mnl_attr_get_payload(nest);

	if (mnl_attr_get_payload_len(nest) < MNL_ATTR_HDRLEN || mnl_attr_get_type(a) != NFTA_DATA_VALUE ||
	    mnl_attr_get_payload_len(a) > size)
		return -EINVAL;
	memcpy(buf, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
	return mnl_attr_get_payload_len(a);
}

/*
 * One element of an element list. (libnftnl numbers the nests 1, 2, ...
 * when it builds a list but accepts only type 1 when it parses one, so the
 * list we built is read here with libmnl.)
 */
static int list_elem(const struct nlattr *nest, struct elem_list *l)
{
	struct nftelem *e, *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	const struct nlattr *a;

	if (!v)
		return -ENOMEM;
	l->v = v;
	e = memset(&v[l->n++], 0, sizeof(*e));
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY:
			data_value(a, e->key, sizeof(e->key));
			break;
		case NFTA_SET_ELEM_KEY_END:
			e->has_key_end = data_value(a, e->key_end, sizeof(e->key_end)) > 0;
			break;
		case NFTA_SET_ELEM_DATA:
			e->has_data = data_value(a, e->data, sizeof(e->data)) > 0;
			break;
		case NFTA_SET_ELEM_FLAGS:
			e->interval_end = ntohl(mnl_attr_get_u32(a)) & NFT_SET_ELEM_INTERVAL_END;
			break;
		}
	}
	return 0;
}

/* LISTS: one per static set, then one per set of L */
static int batch_elems(const struct nlbatch *b, const struct nftlayout *l, struct elem_list *lists)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->buf;
	int len = b->len;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		uint16_t type = nlh->nlmsg_type & 0xff;
		const struct nlattr *a, *list = NULL, *e;
		struct elem_list *el = NULL;

		if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES ||
		    (type != NFT_MSG_NEWSETELEM && type != NFT_MSG_DELSETELEM))
			continue;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
				list = a;
			if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_SET)
				continue;
			for (int i = 0; i < NFTOBJ__SETS; i++)
				if (!strcmp(nftobj_set_name(i), mnl_attr_get_str(a)))
					el = &lists[i];
			for (size_t i = 0; i < l->n_sets; i++)
				if (!strcmp(l->sets[i].name, mnl_attr_get_str(a)))
					el = &lists[NFTOBJ__SETS + i];
		}
		if (el && type == NFT_MSG_DELSETELEM && !list)
			el->n = 0;
		if (!el || type != NFT_MSG_NEWSETELEM || !list)
			continue;
		mnl_attr_for_each_nested(e, list)
			if (list_elem(e, el) < 0)
				return -ENOMEM;
	}
	return 0;
}

int nfttext_table(const struct nftobj_params *p, const struct config *cfg, const struct nftlayout *l,
		  const struct nlbatch *elems, struct dynbuf *out)
{
	static const int vmap_kind[NFTOBJ__SETS] = {
		[NFTOBJ_FWD4V] = NFTCHAIN_D4 + 1, [NFTOBJ_FWD6V] = NFTCHAIN_P6 + 1,
		[NFTOBJ_TRIG4V] = NFTCHAIN_T4 + 1, [NFTOBJ_TRIG6V] = NFTCHAIN_T6 + 1,
	};
	size_t n_lists = NFTOBJ__SETS + l->n_sets;
	bool wan_sets = cfg && nftchain_any_rule_wan(cfg);
	struct elem_list *lists = calloc(n_lists, sizeof(*lists));
	int r = lists ? batch_elems(elems, l, lists) : -ENOMEM;

	dynbuf_printf(out, "table inet %s {\n", NFTOBJ_TABLE);
	for (int c = 0; c < NFTOBJ__COUNTERS && r == 0; c++) {
		text_counter(out, c);
		dynbuf_printf(out, "\n");
	}
	for (int s = 0; s < NFTOBJ__SETS && r == 0; s++) {
		text_set(out, nftobj_set_object(s, 0), lists[s].v, lists[s].n, l, vmap_kind[s] - 1);
		dynbuf_printf(out, "\n");
	}
	for (size_t i = 0; i < l->n_sets && r == 0; i++) {
		const struct elem_list *el = &lists[NFTOBJ__SETS + i];
		const struct nftlayout_set *ls = &l->sets[i];

		text_set(out, nftobj_rset_object(ls->kind, ls->name, ls->size, NFTOBJ_RSET_ID_BASE + i),
			 el->v, el->n, l, -1);
		dynbuf_printf(out, "\n");
	}
	for (int c = 0; c < CHAIN__N && r == 0; c++) {
		text_chain(out, p, c);
		dynbuf_printf(out, "%s", c + 1 < CHAIN__N || l->n_chains ? "\n" : "");
	}
	for (size_t i = 0; i < l->n_chains && r == 0; i++) {
		dynbuf_printf(out, "\tchain %s {\n", l->chains[i].name);
		nftchain_rules_text(p, cfg, &l->chains[i], wan_sets, out);
		dynbuf_printf(out, "\t}\n");
		dynbuf_printf(out, "%s", i + 1 < l->n_chains ? "\n" : "");
	}
	dynbuf_printf(out, "}\n");
	for (size_t i = 0; lists && i < n_lists; i++)
		free(lists[i].v);
	free(lists);
	if (r == 0 && out->oom)
		r = -ENOMEM;
	return r;
}
