/*
 * Host identities; see hostid.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hostid.h"
#include "rules/prefix.h"

void hostid_addr(int af, const union inaddr *a, struct hostid *ret)
{
	union inaddr k;

	host_key(af, a, &k);
	memset(ret, 0, sizeof(*ret));
	ret->kind = af == AF_INET ? HOSTID_ADDR4 : HOSTID_ADDR6;
	/* the /64: only its first half carries anything */
	ret->len = af == AF_INET ? 4 : 8;
	memcpy(ret->key, &k, ret->len);
}

int hostid_link(const uint8_t *ll, size_t len, struct hostid *ret)
{
	if (!len || len > HOSTID_LINK_MAX)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->kind = HOSTID_LINK;
	ret->len = len;
	memcpy(ret->key, ll, len);
	return 0;
}

bool hostid_eq(const struct hostid *a, const struct hostid *b)
{
	return a->kind == b->kind && a->len == b->len && !memcmp(a->key, b->key, a->len);
}

uint32_t hostid_hash(const struct hostid *id, uint32_t h)
{
	h = (h ^ id->kind) * 16777619u;
	for (size_t i = 0; i < id->len; i++)
		h = (h ^ id->key[i]) * 16777619u;
	return h;
}

const char *hostid_lladdr(const struct hostid *id, char *buf)
{
	buf[0] = 0;
	for (size_t i = 0, o = 0; id->kind == HOSTID_LINK && i < id->len; i++, o = 3 * i - 1)
		snprintf(buf + o, HOSTID_LLADDR_LEN - o, "%s%02x", i ? ":" : "", id->key[i]);
	return buf;
}
