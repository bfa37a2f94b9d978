/*
 * A forwarding as set elements and back; see fwelem.h. Which sets hold a
 * forwarding is the rule's business (its family, peer, static or port
 * redirection); the keys are laid out as the sets of lib/nft/nftobj.c
 * define them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>

#include "fwelem.h"

void fwelem_udata(const struct rule *r, char *buf, size_t size)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a over the forward ranges */

	for (size_t i = 0; i < r->n_forwards; i++) {
		const struct portrange *p = &r->forwards[i];
		const uint8_t v[5] = { p->proto, p->lo >> 8, p->lo & 0xff, p->hi >> 8, p->hi & 0xff };

		for (size_t k = 0; k < sizeof(v); k++)
			h = (h ^ v[k]) * 1099511628211ull;
	}
	snprintf(buf, size, "fw=%016llx", (unsigned long long)h);
}

/* One element of a forwarding into OUT; the set is one of the rule's own. */
static struct fwelem *rule_elem(struct fwelem *out, enum nftobj_rset kind, const struct fwd *f,
				uint64_t expiration_ms)
{
	const struct rule *r = f->rule;

	memset(out, 0, sizeof(*out));
	nftobj_setref_rule(kind, r->name, &out->set);
	fwelem_udata(r, out->e.udata, sizeof(out->e.udata));
	/*
	 * A refresh of an existing element takes effect only with an
	 * explicit expiration (measured on 6.18: timeout alone leaves the
	 * old expiry running), so always send both.
	 */
	if (!r->is_static) {
		out->e.timeout_ms = (uint64_t)r->timeout_s * 1000;
		if (expiration_ms && expiration_ms <= out->e.timeout_ms)
			out->e.expiration_ms = expiration_ms;
	}
	return out;
}

size_t fwelem_build(const struct fwd *f, uint64_t expiration_ms, struct fwelem *out)
{
	const struct rule *r = f->rule;
	uint8_t nfproto = f->af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	struct fwelem *el;
	size_t n = 0;

	if (r->to_port) {
		/* port redirection: static, one element per range in redir4 */
		for (size_t i = 0; i < r->n_forwards; i++) {
			const struct portrange *p = &r->forwards[i];
			uint16_t be = htons(r->to_port);

			el = &out[n++];
			memset(el, 0, sizeof(*el));
			nftobj_setref(NFTOBJ_REDIR4, &el->set);
			nftelem_put_proto_port(el->e.key, 0, p->proto, p->lo);
			nftelem_put_proto_port(el->e.key_end, 0, p->proto, p->hi);
			el->e.has_key_end = true;
			memcpy(el->e.data, &f->host.v4, 4);
			memcpy(el->e.data + 4, &be, 2);
			el->e.has_data = true;
		}
		return n;
	}
	if (f->af == AF_INET) {
		el = rule_elem(&out[n++], r->peer ? NFTOBJ_RS_ACT4P : NFTOBJ_RS_ACT4, f, expiration_ms);
		if (r->peer)
			memcpy(el->e.key, &f->peer.v4, 4);
		else
			el->e.key[0] = nfproto;
		memcpy(el->e.data, &f->host.v4, 4);
		el->e.has_data = true;
		return n;
	}
	/* IPv6: the owner guard the kernel's add looks at, then the pinhole */
	if (!r->is_static) {
		el = rule_elem(&out[n++], r->peer ? NFTOBJ_RS_OWN6P : NFTOBJ_RS_OWN6, f, expiration_ms);
		if (r->peer)
			memcpy(el->e.key, &f->peer.v6, 16);
		else
			el->e.key[0] = nfproto;
	}
	el = rule_elem(&out[n++], r->peer ? NFTOBJ_RS_PIN6P : NFTOBJ_RS_PIN6, f, expiration_ms);
	memcpy(el->e.key, &f->host.v6, 16);
	if (r->peer)
		memcpy(el->e.key + 16, &f->peer.v6, 16);
	return n;
}

int fwelem_decode(enum nftobj_rset kind, const void *key, size_t key_len, const void *data,
		  size_t data_len, struct fwelem_decoded *ret)
{
	const uint8_t *k = key;

	memset(ret, 0, sizeof(*ret));
	switch (kind) {
	case NFTOBJ_RS_ACT4:
	case NFTOBJ_RS_ACT4P:
		if (!key || !data || data_len != 4 || key_len != (kind == NFTOBJ_RS_ACT4 ? 1u : 4u) ||
		    (kind == NFTOBJ_RS_ACT4 && k[0] != NFPROTO_IPV4))
			return -EINVAL;
		ret->af = AF_INET;
		memcpy(&ret->host.v4, data, 4);
		if (kind == NFTOBJ_RS_ACT4P) {
			memcpy(&ret->peer.v4, k, 4);
			ret->has_peer = true;
		}
		return 0;
	case NFTOBJ_RS_PIN6:
	case NFTOBJ_RS_PIN6P:
		if (!key || key_len != (kind == NFTOBJ_RS_PIN6 ? 16u : 32u))
			return -EINVAL;
		ret->af = AF_INET6;
		memcpy(&ret->host.v6, k, 16);
		if (kind == NFTOBJ_RS_PIN6P) {
			memcpy(&ret->peer.v6, k + 16, 16);
			ret->has_peer = true;
		}
		return 0;
	default:
		return -EINVAL;
	}
}
