/*
 * Address prefixes; see prefix.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefix.h"

static size_t alen(int af)
{
	return af == AF_INET ? 4 : 16;
}

static void mask(int af, union inaddr *a, unsigned plen)
{
	uint8_t *b = (uint8_t *)a;

	for (unsigned i = 0; i < alen(af); i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;

		if (bits < 8)
			b[i] &= (uint8_t)(0xff00 >> bits);
	}
}

int prefix_parse(const char *s, size_t len, struct addrprefix *ret)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = memchr(s, '/', len);
	size_t alen_txt = slash ? (size_t)(slash - s) : len;
	unsigned long plen;
	union inaddr masked;
	char *end;

	memset(ret, 0, sizeof(*ret));
	if (!alen_txt || alen_txt >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(buf, s, alen_txt);
	buf[alen_txt] = '\0';
	if (inet_pton(AF_INET, buf, &ret->addr.v4) == 1)
		ret->af = AF_INET;
	else if (inet_pton(AF_INET6, buf, &ret->addr.v6) == 1)
		ret->af = AF_INET6;
	else
		return -EINVAL;
	ret->plen = alen(ret->af) * 8;
	if (!slash)
		return 0;
	len -= alen_txt + 1;
	if (!len || len > 3)
		return -EINVAL;
	memcpy(buf, slash + 1, len);
	buf[len] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return -EINVAL;
	plen = strtoul(buf, &end, 10);
	if (*end)
		return -EINVAL;
	if (plen > alen(ret->af) * 8)
		return -ERANGE;
	ret->plen = plen;
	masked = ret->addr;
	mask(ret->af, &masked, plen);
	if (memcmp(&masked, &ret->addr, sizeof(masked)))
		return -EADDRNOTAVAIL;
	return 0;
}

int prefix_format(const struct addrprefix *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->af, &p->addr, a, sizeof(a));
	if (p->plen == alen(p->af) * 8)
		return snprintf(buf, size, "%s", a);
	return snprintf(buf, size, "%s/%u", a, p->plen);
}

bool prefix_contains(const struct addrprefix *p, int af, const union inaddr *a)
{
	union inaddr m = { 0 };

	if (p->af != af)
		return false;
	memcpy(&m, a, alen(af));
	mask(af, &m, p->plen);
	return !memcmp(&m, &p->addr, alen(af));
}

int prefixlist_add(struct prefixlist *l, const struct addrprefix *p)
{
	struct addrprefix *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = *p;
	return 0;
}

void prefixlist_clear(struct prefixlist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int prefixlist_copy(struct prefixlist *dst, const struct prefixlist *src)
{
	dst->v = NULL;
	dst->n = 0;
	if (!src->n)
		return 0;
	dst->v = malloc(src->n * sizeof(*src->v));
	if (!dst->v)
		return -ENOMEM;
	memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	dst->n = src->n;
	return 0;
}

bool prefixlist_match(const struct prefixlist *l, int af, const union inaddr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (prefix_contains(&l->v[i], af, a))
			return true;
	return false;
}

void host_key(int af, const union inaddr *a, union inaddr *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, a, alen(af));
	if (af == AF_INET6)
		mask(af, ret, 64);
}
