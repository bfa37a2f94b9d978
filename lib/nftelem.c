/*
 * Set elements; see nftobj.h: the keys of forwardings, trigger ports and
 * interface names, their messages (split below the 64 KiB attribute
 * limit), and forwarding elements decoded back from the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftdefs.h"
#include "util.h"


#define ELEMS_PER_MSG 256

static int elems_msg(struct nlbatch *b, uint16_t msg_type, enum nftobj_set id,
		     const struct nftobj_elem *e, size_t n)
{
	const struct setdef *d = &nftobj_sets[id];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	char what[40];

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
			if (e[i].owner)
				nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, e[i].owner,
						   strlen(e[i].owner));
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

int nftobj_elems(struct nlbatch *b, uint16_t msg_type, enum nftobj_set s,
		 const struct nftobj_elem *e, size_t n)
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

int nftobj_flush_set(struct nlbatch *b, enum nftobj_set s)
{
	return elems_msg(b, NFT_MSG_DELSETELEM, s, NULL, 0);
}

static size_t put_field(uint8_t *key, size_t off, const void *p, size_t len)
{
	memcpy(key + off, p, len);
	return off + ((len + 3) & ~3u);
}

static size_t put_proto_port(uint8_t *key, size_t off, uint8_t proto, uint16_t port)
{
	uint16_t be = htons(port);

	off = put_field(key, off, &proto, 1);
	return put_field(key, off, &be, 2);
}

enum nftobj_set nftobj_fwd_set(const struct fwd *f)
{
	if (f->rule->to_port)
		return NFTOBJ_REDIR4;
	if (f->af == AF_INET)
		return f->rule->peer ? NFTOBJ_FWD4P : NFTOBJ_FWD4;
	return f->rule->peer ? NFTOBJ_PIN6P : NFTOBJ_PIN6;
}

size_t nftobj_fwd_elems(const struct fwd *f, uint64_t expiration_ms, struct nftobj_elem *out,
			enum nftobj_set *ret_set)
{
	const struct rule *r = f->rule;
	enum nftobj_set s = nftobj_fwd_set(f);
	size_t n = 0;

	*ret_set = s;
	for (size_t i = 0; i < r->n_forwards; i++) {
		const struct portrange *p = &r->forwards[i];
		struct nftobj_elem *e = &out[n++];
		size_t off = 0;

		memset(e, 0, sizeof(*e));
		e->owner = r->name;
		switch (s) {
		case NFTOBJ_FWD4P:
			off = put_field(e->key, off, &f->peer.v4, 4);
			break;
		case NFTOBJ_PIN6:
			off = put_field(e->key, off, &f->host.v6, 16);
			break;
		case NFTOBJ_PIN6P:
			off = put_field(e->key, off, &f->host.v6, 16);
			off = put_field(e->key, off, &f->peer.v6, 16);
			break;
		default:
			break;
		}
		memcpy(e->key_end, e->key, off);
		put_proto_port(e->key, off, p->proto, p->lo);
		put_proto_port(e->key_end, off, p->proto, p->hi);
		e->has_key_end = true;
		if (f->af == AF_INET) {
			memcpy(e->data, &f->host.v4, 4);
			e->has_data = true;
		}
		if (r->to_port) {
			uint16_t be = htons(r->to_port);

			memcpy(e->data + 4, &be, 2);
		}
		/*
		 * A refresh of an existing element takes effect only with an
		 * explicit expiration (measured on 6.18: timeout alone leaves
		 * the old expiry running), so always send both.
		 */
		if (!r->is_static) {
			e->timeout_ms = (uint64_t)r->timeout_s * 1000;
			if (expiration_ms && expiration_ms <= e->timeout_ms)
				e->expiration_ms = expiration_ms;
		}
	}
	return n;
}

enum nftobj_set nftobj_learn_elem(int af, const union inaddr *peer, const union inaddr *host,
				  uint64_t timeout_ms, uint64_t expiration_ms, struct nftobj_elem *out)
{
	memset(out, 0, sizeof(*out));
	if (af == AF_INET) {
		put_field(out->key, 0, &peer->v4, 4);
	} else {
		put_field(out->key, 0, &peer->v6, 16);
		put_field(out->key, 16, &host->v6, 16);
	}
	out->timeout_ms = timeout_ms;
	out->expiration_ms = expiration_ms;
	return af == AF_INET ? NFTOBJ_LEARN4 : NFTOBJ_LEARN6;
}

static int get_proto_port(const uint8_t *k, uint8_t *proto, uint16_t *port)
{
	if (k[1] || k[2] || k[3] || k[6] || k[7])
		return -EINVAL;
	*proto = k[0];
	*port = (k[4] << 8) | k[5];
	return 0;
}

int nftobj_decode_fwd(enum nftobj_set s, const void *key, size_t key_len, const void *key_end,
		      size_t key_end_len, const void *data, size_t data_len,
		      struct nftobj_fwd_elem *ret)
{
	const uint8_t *k = key, *ke = key_end;
	size_t off = 0;
	uint8_t p2;

	memset(ret, 0, sizeof(*ret));
	if (s != NFTOBJ_FWD4 && s != NFTOBJ_FWD4P && s != NFTOBJ_PIN6 && s != NFTOBJ_PIN6P)
		return -EINVAL;
	if (!key || !key_end || key_len != nftobj_sets[s].key_len || key_end_len != key_len)
		return -EINVAL;
	ret->af = (s == NFTOBJ_FWD4 || s == NFTOBJ_FWD4P) ? AF_INET : AF_INET6;
	if (ret->af == AF_INET) {
		if (!data || data_len != 4)
			return -EINVAL;
		memcpy(&ret->host.v4, data, 4);
	}
	switch (s) {
	case NFTOBJ_FWD4P:
		memcpy(&ret->peer.v4, k, 4);
		ret->has_peer = true;
		off = 4;
		break;
	case NFTOBJ_PIN6:
		memcpy(&ret->host.v6, k, 16);
		off = 16;
		break;
	case NFTOBJ_PIN6P:
		memcpy(&ret->host.v6, k, 16);
		memcpy(&ret->peer.v6, k + 16, 16);
		ret->has_peer = true;
		off = 32;
		break;
	default:
		break;
	}
	if (memcmp(k, ke, off))
		return -EINVAL;	/* a range only over the ports */
	if (get_proto_port(k + off, &ret->proto, &ret->lo) < 0 ||
	    get_proto_port(ke + off, &p2, &ret->hi) < 0 || p2 != ret->proto || ret->lo > ret->hi)
		return -EINVAL;
	return 0;
}

struct span {
	uint8_t lo[NFTOBJ_KEY_MAX];
	uint8_t hi[NFTOBJ_KEY_MAX];	/* exclusive for ifnames, inclusive for ports */
	bool open_end;			/* ifname range runs to the end of the key space */
};

static int cmp_span16(const void *a, const void *b)
{
	return memcmp(((const struct span *)a)->lo, ((const struct span *)b)->lo, 16);
}

/* Big-endian increment; returns false on overflow. */
bool nftobj_key_inc(uint8_t *k, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++k[i])
			return true;
	return false;
}

int nftobj_ifname_elems(const struct iflist *l, struct nftobj_elem **ret, size_t *ret_n)
{
	struct span *sp = calloc(l->n ? l->n : 1, sizeof(*sp));
	struct nftobj_elem *e;
	size_t n = 0, m = 0;

	if (!sp)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->names[i];
		size_t len = strlen(name);
		struct span *s = &sp[n++];

		if (len && name[len - 1] == '*') {
			memcpy(s->lo, name, len - 1);
			memcpy(s->hi, name, len - 1);
			s->open_end = len == 1 || !nftobj_key_inc(s->hi, len - 1);
		} else {
			memcpy(s->lo, name, len);
			memcpy(s->hi, name, len);
			s->open_end = !nftobj_key_inc(s->hi, 16);
		}
	}
	qsort(sp, n, sizeof(*sp), cmp_span16);
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
	e = calloc(2 * m + 1, sizeof(*e));
	if (!e) {
		free(sp);
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < m; i++) {
		memcpy(e[n++].key, sp[i].lo, 16);
		if (!sp[i].open_end) {
			memcpy(e[n].key, sp[i].hi, 16);
			e[n++].interval_end = true;
		}
	}
	free(sp);
	*ret = e;
	*ret_n = n;
	return 0;
}

static int cmp_portrange(const void *a, const void *b)
{
	const struct portrange *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->lo - y->lo;
}

int nftobj_portrange_elems(const struct portrange *ports, size_t n, struct nftobj_elem **ret,
			   size_t *ret_n)
{
	struct portrange *v = malloc((n ? n : 1) * sizeof(*v));
	struct nftobj_elem *e;
	size_t m = 0;

	if (!v)
		return -ENOMEM;
	if (n)
		memcpy(v, ports, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_portrange);
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
		put_proto_port(e[i].key, 0, v[i].proto, v[i].lo);
		put_proto_port(e[i].key_end, 0, v[i].proto, v[i].hi);
		e[i].has_key_end = true;
	}
	free(v);
	*ret = e;
	*ret_n = m;
	return 0;
}
