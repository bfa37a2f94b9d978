/*
 * Adoption decoding; see adopt.h.
 */
#include <errno.h>
#include <libnftnl/set.h>
#include <string.h>

#include "adopt.h"

static bool decode(struct nftnl_set_elem *el, enum nftobj_set s, struct adopt_elem *ret)
{
	uint32_t klen = 0, kelen = 0, dlen = 0, ulen = 0;
	const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &klen);
	const void *kend = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY_END, &kelen);
	const void *data = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &dlen);
	const char *ud = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &ulen);

	ret->left_ms = nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_EXPIRATION) ?
		       nftnl_set_elem_get_u64(el, NFTNL_SET_ELEM_EXPIRATION) : 0;
	if (!ud || !ulen || ulen > RULE_NAME_MAX || memchr(ud, '\0', ulen) || !ret->left_ms ||
	    nftobj_decode_fwd(s, key, klen, kend, kelen, data, dlen, &ret->fwd) < 0)
		return false;
	memcpy(ret->rule, ud, ulen);
	ret->rule[ulen] = '\0';
	return true;
}

int adopt_decode(const struct nlmsghdr *nlh, enum nftobj_set s,
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
		if (decode(el, s, &e))
			cb(&e, data);
		else
			bad++;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(set);
	return bad;
}
