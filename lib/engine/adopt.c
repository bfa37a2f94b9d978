/*
 * Adoption decoding; see adopt.h.
 */
#include <errno.h>
#include <libnftnl/set.h>
#include <string.h>

#include "adopt.h"

static bool decode(struct nftnl_set_elem *el, enum nftobj_rset kind, struct adopt_elem *ret)
{
	uint32_t klen = 0, dlen = 0, ulen = 0;
	const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &klen);
	const void *data = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &dlen);
	const char *ud = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &ulen);

	memset(ret, 0, sizeof(*ret));
	ret->left_ms = nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_EXPIRATION) ?
		       nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_EXPIRATION) : 0;
	if ((ud && (ulen >= sizeof(ret->udata) || memchr(ud, '\0', ulen))) || !ret->left_ms ||
	    fwelem_decode(kind, key, klen, data, dlen, &ret->fwd) < 0)
		return false;
	if (ud) {
		memcpy(ret->udata, ud, ulen);
		ret->has_udata = true;
	}
	return true;
}

int adopt_decode(const struct nlmsghdr *nlh, enum nftobj_rset kind,
		 void (*cb)(const struct adopt_elem *e, void *data), void *data)
{
	struct nftnl_set *set = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it = NULL;
	struct nftnl_set_elem *el;
	int bad = 0;

	if (!set || nftnl_set_elems_nlmsg_parse(nlh, set) < 0 ||
	    !(it = nftnl_set_elems_iter_create(set))) {
		nftnl_set_free(set);
		return -EINVAL;
	}
	while ((el = nftnl_set_elems_iter_next(it))) {
		struct adopt_elem e;

		if (!nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_TIMEOUT))
			continue;
		if (decode(el, kind, &e))
			cb(&e, data);
		else
			bad++;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(set);
	return bad;
}
