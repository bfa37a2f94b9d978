/*
 * Set elements; see nftelem.h: their messages (split below the 64 KiB
 * attribute limit), and the keys of trigger ports, interface names,
 * prefixes and learn mode's peers, intervals merged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "nftdefs.h"
#include "nftelem.h"
#include "base/util.h"

static int elems_msg(struct nlbatch *b, uint16_t msg_type, const struct nftobj_setref *d,
		     const struct nftelem *e, size_t n)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	char what[80];

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFTOBJ_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set_elem *el = nftnl_set_elem_alloc();

		if (!el) {
			nftnl_set_free(s);
			return -ENOMEM;
		}
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e[i].key, d->key_len);
		if (e[i].has_key_end)
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, e[i].key_end, d->key_len);
		if (e[i].interval_end)
			nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
		if (msg_type == NFT_MSG_NEWSETELEM) {
			if (e[i].has_data)
				nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, e[i].data, d->data_len);
			if (e[i].timeout_ms)
				nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_TIMEOUT, e[i].timeout_ms);
			if (e[i].expiration_ms)
				nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_EXPIRATION, e[i].expiration_ms);
			if (e[i].udata[0])
				nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, e[i].udata,
						   strnlen(e[i].udata, sizeof(e[i].udata)));
		}
		nftnl_set_elem_add(s, el);
	}
	nlh = nftobj_begin_msg(b, msg_type);
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		if (n)
			snprintf(what, sizeof(what), "%s %zu in %s",
				 msg_type == NFT_MSG_NEWSETELEM ? "add" : "delete", n, d->name);
		else
			snprintf(what, sizeof(what), "flush %s", d->name);
		nlbatch_commit(b, nlh, what);
	}
	nftnl_set_free(s);
	return b->oom ? -ENOMEM : 0;
}

int nftelem_write(struct nlbatch *b, uint16_t msg_type, const struct nftobj_setref *s,
		  const struct nftelem *e, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = n - i < ELEMS_PER_MSG ? n - i : ELEMS_PER_MSG;
		int r;

		/* never split a start/end pair of a plain interval set */
		if (i + k < n && e[i + k].interval_end)
			k--;
		r = elems_msg(b, msg_type, s, e + i, k);
		if (r < 0)
			return r;
		i += k;
	}
	return 0;
}

int nftelem_write_set(struct nlbatch *b, uint16_t msg_type, enum nftobj_set id,
		      const struct nftelem *e, size_t n)
{
	struct nftobj_setref s;

	nftobj_setref(id, &s);
	return nftelem_write(b, msg_type, &s, e, n);
}

static int elem_cmp(const void *a, const void *b)
{
	const struct nftelem *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	if (c == 0)
		c = (int)x->has_key_end - (int)y->has_key_end;
	if (c == 0 && x->has_key_end)
		c = memcmp(x->key_end, y->key_end, sizeof(x->key_end));
	return c;
}

int nftelem_remove(struct nlbatch *b, bool destroy, const struct nftobj_setref *s,
		   struct nftelem *e, size_t n)
{
	size_t k = 0;
	int r;

	if (!n)
		return 0;
	/* one delete per key: a second one in the same transaction finds nothing (ENOENT) */
	qsort(e, n, sizeof(*e), elem_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || elem_cmp(&e[k - 1], &e[i]))
			e[k++] = e[i];
	if (destroy)
		return nftelem_write(b, NFTOBJ_MSG_DESTROYSETELEM, s, e, k);
	/*
	 * Without DESTROY, a delete of an element the kernel already expired
	 * fails the whole transaction. Added first (a no-op where it is, if
	 * the data is the kernel's; back for a moment where it expired), it is
	 * there to delete.
	 */
	r = nftelem_write(b, NFT_MSG_NEWSETELEM, s, e, k);
	return r < 0 ? r : nftelem_write(b, NFT_MSG_DELSETELEM, s, e, k);
}

int nftelem_flush(struct nlbatch *b, const struct nftobj_setref *s)
{
	return elems_msg(b, NFT_MSG_DELSETELEM, s, NULL, 0);
}

int nftelem_flush_set(struct nlbatch *b, enum nftobj_set id)
{
	struct nftobj_setref s;

	nftobj_setref(id, &s);
	return nftelem_flush(b, &s);
}

size_t nftelem_put_field(uint8_t *key, size_t off, const void *p, size_t len)
{
	memcpy(key + off, p, len);
	return off + ((len + 3) & ~3u);
}

size_t nftelem_put_proto_port(uint8_t *key, size_t off, uint8_t proto, uint16_t port)
{
	uint16_t be = htons(port);

	off = nftelem_put_field(key, off, &proto, 1);
	return nftelem_put_field(key, off, &be, 2);
}

enum nftobj_set nftelem_learn(int af, const union inaddr *peer, const union inaddr *host,
			      uint64_t timeout_ms, uint64_t expiration_ms, struct nftelem *out)
{
	memset(out, 0, sizeof(*out));
	if (af == AF_INET) {
		nftelem_put_field(out->key, 0, &peer->v4, 4);
	} else {
		nftelem_put_field(out->key, 0, &peer->v6, 16);
		nftelem_put_field(out->key, 16, &host->v6, 16);
	}
	out->timeout_ms = timeout_ms;
	out->expiration_ms = expiration_ms;
	return af == AF_INET ? NFTOBJ_LEARN4 : NFTOBJ_LEARN6;
}

struct span {
	uint8_t lo[NFTELEM_KEY_MAX];
	uint8_t hi[NFTELEM_KEY_MAX];	/* exclusive for ifnames, inclusive for ports */
	bool open_end;			/* ifname range runs to the end of the key space */
};

static int cmp_span16(const void *a, const void *b)
{
	return memcmp(((const struct span *)a)->lo, ((const struct span *)b)->lo, 16);
}

/* Big-endian increment; returns false on overflow. */
bool nftelem_key_inc(uint8_t *k, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++k[i])
			return true;
	return false;
}

/* Merge sorted spans that overlap or touch; returns how many are left. */
static size_t merge_spans(struct span *sp, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		struct span *cur = &sp[m - (m ? 1 : 0)];

		if (m && (cur->open_end || memcmp(sp[i].lo, cur->hi, 16) <= 0)) {
			if (sp[i].open_end)
				cur->open_end = true;
			else if (!cur->open_end && memcmp(sp[i].hi, cur->hi, 16) > 0)
				memcpy(cur->hi, sp[i].hi, 16);
			continue;
		}
		sp[m++] = sp[i];
	}
	return m;
}

/* Start and end elements of M spans (no end element where a span runs to the end). */
static int span_elems(const struct span *sp, size_t m, struct nftelem **ret, size_t *ret_n)
{
	struct nftelem *e = calloc(2 * m + 1, sizeof(*e));
	size_t n = 0;

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < m; i++) {
		memcpy(e[n++].key, sp[i].lo, 16);
		if (!sp[i].open_end) {
			memcpy(e[n].key, sp[i].hi, 16);
			e[n++].interval_end = true;
		}
	}
	*ret = e;
	*ret_n = n;
	return 0;
}

int nftelem_ifnames(const struct iflist *l, struct nftelem **ret, size_t *ret_n)
{
	struct span *sp = calloc(l->n ? l->n : 1, sizeof(*sp));
	size_t n = 0;
	int r;

	if (!sp)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->names[i];
		size_t len = strlen(name);
		struct span *s = &sp[n++];

		if (len && name[len - 1] == '*') {
			memcpy(s->lo, name, len - 1);
			memcpy(s->hi, name, len - 1);
			s->open_end = len == 1 || !nftelem_key_inc(s->hi, len - 1);
		} else {
			memcpy(s->lo, name, len);
			memcpy(s->hi, name, len);
			s->open_end = !nftelem_key_inc(s->hi, 16);
		}
	}
	qsort(sp, n, sizeof(*sp), cmp_span16);
	r = span_elems(sp, merge_spans(sp, n), ret, ret_n);
	free(sp);
	return r;
}

int nftelem_prefixes(const struct prefixlist *l, int af, struct nftelem **ret, size_t *ret_n)
{
	struct span *sp = calloc(l->n ? l->n : 1, sizeof(*sp));
	unsigned len = af == AF_INET ? 4 : 16;
	size_t n = 0;
	int r;

	if (!sp)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const struct addrprefix *p = &l->v[i];
		struct span *s;

		if (p->af != af)
			continue;
		s = &sp[n++];
		memcpy(s->lo, &p->addr, len);
		memcpy(s->hi, &p->addr, len);
		/* the last address of the prefix, then one past it */
		for (unsigned b = p->plen; b < len * 8; b++)
			s->hi[b / 8] |= 0x80 >> (b % 8);
		s->open_end = !nftelem_key_inc(s->hi, len);
	}
	qsort(sp, n, sizeof(*sp), cmp_span16);
	r = span_elems(sp, merge_spans(sp, n), ret, ret_n);
	free(sp);
	return r;
}

int nftelem_portranges(const struct portrange *ports, size_t n, struct nftelem **ret,
		       size_t *ret_n)
{
	struct portrange *v = malloc((n ? n : 1) * sizeof(*v));
	struct nftelem *e;
	size_t m = 0;

	if (!v)
		return -ENOMEM;
	if (n)
		memcpy(v, ports, n * sizeof(*v));
	qsort(v, n, sizeof(*v), portrange_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m && v[m - 1].proto == v[i].proto && (uint32_t)v[m - 1].hi + 1 >= v[i].lo) {
			if (v[i].hi > v[m - 1].hi)
				v[m - 1].hi = v[i].hi;
			continue;
		}
		v[m++] = v[i];
	}
	e = calloc(m ? m : 1, sizeof(*e));
	if (!e) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m; i++) {
		nftelem_put_proto_port(e[i].key, 0, v[i].proto, v[i].lo);
		nftelem_put_proto_port(e[i].key_end, 0, v[i].proto, v[i].hi);
		e[i].has_key_end = true;
	}
	free(v);
	*ret = e;
	*ret_n = m;
	return 0;
}
