/*
 * Trigger source checks; see srccheck.h. The router has few addresses, so
 * they are a plain array; its neighbour table can hold thousands of
 * entries, so that is a hash table keyed by (interface, address).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "srccheck.h"
#include "base/util.h"

/* Neighbour states whose link-layer address the kernel vouches for. */
#define NUD_VALID_LLADDR (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)

void srccheck_init(struct srccheck *s)
{
	memset(s, 0, sizeof(*s));
}

void srccheck_clear(struct srccheck *s)
{
	bool onlink_only = s->vet_onlink_only;
	struct hmap_node *n, *next;

	HMAP_FOREACH(&s->neigh, i, n, next)
		free(container_of(n, struct srccheck_neigh, node));
	hmap_clear(&s->neigh);
	free(s->addrs);
	memset(s, 0, sizeof(*s));
	s->vet_onlink_only = onlink_only;
}

static size_t alen(int af)
{
	return af == AF_INET ? 4 : 16;
}

/* ---- addresses ------------------------------------------------------------ */

static int addr_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = a;
	return MNL_CB_OK;
}

static bool attr_addr(const struct nlattr *a, int af, union inaddr *ret)
{
	if (!a || mnl_attr_get_payload_len(a) != alen(af))
		return false;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, mnl_attr_get_payload(a), alen(af));
	return true;
}

static void mask_prefix(int af, union inaddr *a, unsigned plen)
{
	uint8_t *b = (uint8_t *)a;

	for (unsigned i = 0; i < alen(af); i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;

		if (bits < 8)
			b[i] &= (uint8_t)(0xff00 >> bits);
	}
}

static int update_addr(struct srccheck *s, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa;
	struct srccheck_addr a = { 0 };
	const struct nlattr *local;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*ifa))
		return -EINVAL;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	if (ifa->ifa_prefixlen > alen(ifa->ifa_family) * 8)
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return -EINVAL;
	a.ifindex = ifa->ifa_index;
	a.af = ifa->ifa_family;
	a.plen = ifa->ifa_prefixlen;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the prefix (or point-to-point peer) */
	local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!attr_addr(local, a.af, &a.addr))
		return -EINVAL;
	if (!attr_addr(tb[IFA_ADDRESS], a.af, &a.prefix))
		a.prefix = a.addr;
	mask_prefix(a.af, &a.prefix, a.plen);

	for (size_t i = 0; i < s->n_addrs; i++) {
		struct srccheck_addr *q = &s->addrs[i];

		if (q->ifindex != a.ifindex || q->af != a.af || memcmp(&q->addr, &a.addr, sizeof(a.addr)))
			continue;
		if (nlh->nlmsg_type == RTM_DELADDR)
			s->addrs[i] = s->addrs[--s->n_addrs];
		else
			*q = a;
		return 1;
	}
	if (nlh->nlmsg_type == RTM_DELADDR)
		return 0;
	if (s->n_addrs == s->cap_addrs) {
		size_t cap = s->cap_addrs ? s->cap_addrs * 2 : 16;
		struct srccheck_addr *p = realloc(s->addrs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->addrs = p;
		s->cap_addrs = cap;
	}
	s->addrs[s->n_addrs++] = a;
	return 1;
}

/* ---- neighbours ----------------------------------------------------------- */

static uint32_t neigh_hash(uint32_t ifindex, int af, const union inaddr *addr)
{
	const uint8_t *p = (const uint8_t *)addr;
	uint32_t h = 2166136261u ^ ifindex;

	h = (h ^ (uint32_t)af) * 16777619u;
	for (size_t i = 0; i < alen(af); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static struct srccheck_neigh *neigh_find(const struct srccheck *s, uint32_t ifindex, int af,
					 const union inaddr *addr)
{
	for (struct hmap_node *x = hmap_first(&s->neigh, neigh_hash(ifindex, af, addr)); x;
	     x = hmap_next(x)) {
		struct srccheck_neigh *n = container_of(x, struct srccheck_neigh, node);

		if (n->ifindex == ifindex && n->af == af && !memcmp(&n->addr, addr, alen(af)))
			return n;
	}
	return NULL;
}

static int neigh_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NDA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = a;
	return MNL_CB_OK;
}

static int update_neigh(struct srccheck *s, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NDA_MAX + 1] = { 0 };
	struct srccheck_neigh *n;
	const struct ndmsg *nd;
	union inaddr addr;
	size_t lllen = 0;
	bool valid;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*nd))
		return -EINVAL;
	nd = mnl_nlmsg_get_payload(nlh);
	if ((nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6) || (nd->ndm_flags & NTF_PROXY))
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*nd), neigh_attr_cb, tb) < 0)
		return -EINVAL;
	if (!attr_addr(tb[NDA_DST], nd->ndm_family, &addr))
		return -EINVAL;
	if (tb[NDA_LLADDR]) {
		lllen = mnl_attr_get_payload_len(tb[NDA_LLADDR]);
		if (lllen > SRCCHECK_HWADDR_MAX)
			return -EINVAL;
	}
	valid = nlh->nlmsg_type == RTM_NEWNEIGH && (nd->ndm_state & NUD_VALID_LLADDR) && lllen;

	n = neigh_find(s, nd->ndm_ifindex, nd->ndm_family, &addr);
	if (n) {
		if (!valid) {
			hmap_remove(&s->neigh, &n->node);
			free(n);
			return 1;
		}
	} else {
		if (!valid)
			return 0;
		if (hmap_reserve(&s->neigh) < 0)
			return -ENOMEM;
		n = calloc(1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->ifindex = nd->ndm_ifindex;
		n->af = nd->ndm_family;
		n->addr = addr;
		hmap_insert(&s->neigh, &n->node, neigh_hash(n->ifindex, n->af, &addr));
	}
	memcpy(n->lladdr, mnl_attr_get_payload(tb[NDA_LLADDR]), lllen);
	n->lllen = lllen;
	return 1;
}

int srccheck_update(struct srccheck *s, const struct nlmsghdr *nlh)
{
	switch (nlh->nlmsg_type) {
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return update_addr(s, nlh);
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		return update_neigh(s, nlh);
	}
	return 0;
}

/* ---- the verdict ----------------------------------------------------------- */

static bool in_prefix(int af, const union inaddr *a, const union inaddr *prefix, unsigned plen)
{
	union inaddr m = *a;

	mask_prefix(af, &m, plen);
	return !memcmp(&m, prefix, alen(af));
}

/* The host part of A under PLEN is all ones (ONES) or all zeros. */
static bool host_part_is(int af, const union inaddr *a, unsigned plen, bool ones)
{
	const uint8_t *b = (const uint8_t *)a;

	for (unsigned i = 0; i < alen(af) * 8; i++) {
		bool bit = b[i / 8] & (0x80 >> (i % 8));

		if (i >= plen && bit != ones)
			return false;
	}
	return true;
}

static enum srccheck_verdict address_class(int af, const union inaddr *src)
{
	if (af == AF_INET) {
		uint32_t a = ntohl(src->v4.s_addr);

		if (a == 0)
			return SRCCHECK_UNSPECIFIED;
		if ((a >> 24) == 127)
			return SRCCHECK_LOOPBACK;
		if ((a >> 28) == 0xe)
			return SRCCHECK_MULTICAST;
		if (a == 0xffffffffu)
			return SRCCHECK_BROADCAST;
		return SRCCHECK_OK;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&src->v6))
		return SRCCHECK_UNSPECIFIED;
	if (IN6_IS_ADDR_LOOPBACK(&src->v6))
		return SRCCHECK_LOOPBACK;
	if (IN6_IS_ADDR_MULTICAST(&src->v6))
		return SRCCHECK_MULTICAST;
	if (IN6_IS_ADDR_V4MAPPED(&src->v6) || IN6_IS_ADDR_V4COMPAT(&src->v6))
		return SRCCHECK_MAPPED;
	return SRCCHECK_OK;
}

enum srccheck_verdict srccheck_source(const struct srccheck *s, int af, const union inaddr *src,
				      uint32_t ifindex, const uint8_t *hw, size_t hwlen)
{
	enum srccheck_verdict v = address_class(af, src);
	const struct srccheck_neigh *n;

	if (v != SRCCHECK_OK)
		return v;
	for (size_t i = 0; i < s->n_addrs; i++) {
		const struct srccheck_addr *a = &s->addrs[i];

		if (a->af != af)
			continue;
		if (!memcmp(&a->addr, src, alen(af)))
			return SRCCHECK_OWN;
		/* /31 and /32 (IPv6: /127, /128) have no network or broadcast address */
		if (a->plen >= alen(af) * 8 - 1 || !in_prefix(af, src, &a->prefix, a->plen))
			continue;
		if (host_part_is(af, src, a->plen, false))
			return SRCCHECK_NETWORK;
		if (af == AF_INET && host_part_is(af, src, a->plen, true))
			return SRCCHECK_BROADCAST;
	}
	if (!hwlen)
		return SRCCHECK_OK;
	n = neigh_find(s, ifindex, af, src);
	if (n && (n->lllen != hwlen || memcmp(n->lladdr, hw, hwlen)))
		return SRCCHECK_HWADDR;
	return SRCCHECK_OK;
}

const char *srccheck_reason(enum srccheck_verdict v)
{
	static const char *const names[] = {
		[SRCCHECK_OK] = "genuine",
		[SRCCHECK_UNSPECIFIED] = "unspecified address",
		[SRCCHECK_LOOPBACK] = "loopback address",
		[SRCCHECK_MULTICAST] = "multicast address",
		[SRCCHECK_BROADCAST] = "broadcast address",
		[SRCCHECK_NETWORK] = "network address of a prefix",
		[SRCCHECK_OWN] = "one of the router's addresses",
		[SRCCHECK_MAPPED] = "IPv4-mapped address",
		[SRCCHECK_HWADDR] = "link-layer address differs from the neighbour table's",
		[SRCCHECK_REVERSE_PATH] = "the route back leaves through another interface",
	};

	return v < ARRAY_SIZE(names) && names[v] ? names[v] : "unknown";
}

bool srccheck_onlink(const struct srccheck *s, uint32_t ifindex, int af, const union inaddr *addr)
{
	for (size_t i = 0; i < s->n_addrs; i++) {
		const struct srccheck_addr *a = &s->addrs[i];

		if (a->ifindex == ifindex && a->af == af && in_prefix(af, addr, &a->prefix, a->plen))
			return true;
	}
	return false;
}

void srccheck_host(const struct srccheck *s, int af, const union inaddr *src, uint32_t ifindex,
		   struct hostid *ret)
{
	const struct srccheck_neigh *n = neigh_find(s, ifindex, af, src);

	if (!n || hostid_link(n->lladdr, n->lllen, ret) < 0)
		hostid_addr(af, src, ret);
}

static int vetted_push(struct nftelem **v, size_t *n, size_t *cap, const struct srccheck_neigh *x,
		       const char *name)
{
	struct nftelem *e;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;

		e = realloc(*v, c * sizeof(*e));
		if (!e)
			return -ENOMEM;
		*v = e;
		*cap = c;
	}
	e = &(*v)[(*n)++];
	memset(e, 0, sizeof(*e));
	/* ifname (16 bytes, zero-padded) . address . ether_addr, each field 32-bit aligned */
	strncpy((char *)e->key, name, IFNAMSIZ - 1);
	memcpy(e->key + IFNAMSIZ, &x->addr, alen(x->af));
	memcpy(e->key + IFNAMSIZ + alen(x->af), x->lladdr, 6);
	return 0;
}

int srccheck_vetted(const struct srccheck *s, srccheck_ifname_fn *ifname, void *data, size_t max,
		    struct nftelem **ret4, size_t *n4, struct nftelem **ret6, size_t *n6)
{
	size_t cap[2] = { 0, 0 };
	struct hmap_node *node, *next;
	char buf[IFNAMSIZ];
	const char *name;
	int r = 0;

	*ret4 = *ret6 = NULL;
	*n4 = *n6 = 0;
	HMAP_FOREACH(&s->neigh, i, node, next) {
		const struct srccheck_neigh *x = container_of(node, struct srccheck_neigh, node);
		bool v6 = x->af == AF_INET6;

		/* Ethernet only: the kernel's match reads the MAC (meta iiftype ether) */
		if (r < 0 || x->lllen != 6 || (v6 ? *n6 : *n4) >= max ||
		    srccheck_source(s, x->af, &x->addr, x->ifindex, x->lladdr, 6) != SRCCHECK_OK ||
		    (s->vet_onlink_only && !srccheck_onlink(s, x->ifindex, x->af, &x->addr)) ||
		    !(name = ifname(x->ifindex, buf, data)))
			continue;
		r = vetted_push(v6 ? ret6 : ret4, v6 ? n6 : n4, &cap[v6], x, name);
	}
	if (r < 0) {
		free(*ret4);
		free(*ret6);
		*ret4 = *ret6 = NULL;
		*n4 = *n6 = 0;
	}
	return r;
}

/* FNV-1a of one element's key, summed over the set: the digest does not depend on the order */
static uint64_t key_digest(const uint8_t *k, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return h;
}

int srccheck_write_vetted(const struct srccheck *s, srccheck_ifname_fn *ifname, void *data,
			  struct nlbatch *b, uint64_t *digest)
{
	struct nftelem *v4, *v6;
	size_t n4, n6;
	uint64_t d;
	int r = srccheck_vetted(s, ifname, data, NFTOBJ_SRC_SET_SIZE, &v4, &n4, &v6, &n6);

	if (r < 0)
		return r;
	d = (n4 << 32) ^ n6;
	for (size_t i = 0; i < n4; i++)
		d += key_digest(v4[i].key, 28);
	for (size_t i = 0; i < n6; i++)
		d += key_digest(v6[i].key, 40) * 3;
	if (d != *digest) {
		r = nftelem_flush_set(b, NFTOBJ_SRC4OK);
		if (r == 0)
			r = nftelem_flush_set(b, NFTOBJ_SRC6OK);
		if (r == 0 && n4)
			r = nftelem_write_set(b, NFT_MSG_NEWSETELEM, NFTOBJ_SRC4OK, v4, n4);
		if (r == 0 && n6)
			r = nftelem_write_set(b, NFT_MSG_NEWSETELEM, NFTOBJ_SRC6OK, v6, n6);
		if (r == 0) {
			*digest = d;
			r = 1;
		}
	}
	free(v4);
	free(v6);
	return r;
}
