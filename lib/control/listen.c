/*
 * Listening sockets against forward ranges; see listen.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listen.h"

#define TCP_LISTEN 0x0a
#define UDP_UNCONNECTED 0x07

/* HEX (8 or 32 digits) is the address as the kernel prints it: u32 words in host order. */
static bool parse_addr(const char *hex, size_t len, int af, union inaddr *ret)
{
	size_t words = af == AF_INET ? 1 : 4;
	char w[9];

	if (len != words * 8)
		return false;
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < words; i++) {
		uint32_t v;
		char *end;

		memcpy(w, hex + i * 8, 8);
		w[8] = '\0';
		v = strtoul(w, &end, 16);
		if (*end)
			return false;
		memcpy((uint8_t *)ret + i * 4, &v, 4);
	}
	return true;
}

static int add(struct listen_set *s, const struct listen_sock *l)
{
	struct listen_sock *v = realloc(s->v, (s->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->v = v;
	s->v[s->n++] = *l;
	return 0;
}

int listen_parse(struct listen_set *s, const char *text, size_t len, uint8_t proto, int af)
{
	size_t pos = 0;
	int added = 0;

	/* the first line is the header */
	while (pos < len && text[pos] != '\n')
		pos++;
	while (pos < len) {
		char line[512], local[64], remote[64];
		const char *nl = memchr(text + pos + 1, '\n', len - pos - 1);
		size_t llen = (nl ? (size_t)(nl - text) : len) - pos - 1;
		struct listen_sock l = { .proto = proto, .af = af };
		union inaddr rem;
		unsigned st, port;
		char *colon;

		if (llen < sizeof(line)) {
			memcpy(line, text + pos + 1, llen);
			line[llen] = '\0';
			if (sscanf(line, "%*s %63s %63s %x", local, remote, &st) == 3 &&
			    (colon = strchr(local, ':')) &&
			    parse_addr(local, colon - local, af, &l.addr) &&
			    sscanf(colon + 1, "%x", &port) == 1 && port > 0 && port <= 65535 &&
			    strchr(remote, ':') && parse_addr(remote, strchr(remote, ':') - remote, af, &rem)) {
				union inaddr zero = { 0 };
				bool listening = proto == IPPROTO_TCP ? st == TCP_LISTEN :
						 st == UDP_UNCONNECTED && !memcmp(&rem, &zero, sizeof(rem));

				l.port = port;
				if (listening) {
					if (add(s, &l) < 0)
						return -ENOMEM;
					added++;
				}
			}
		}
		pos += llen + 1;
	}
	return added;
}

void listen_clear(struct listen_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Does a connection to the router's WAN address (IPv4) reach socket L? */
static bool reaches_from_wan(const struct listen_sock *l,
			     bool (*is_wan_addr)(int af, const union inaddr *a, void *data), void *data)
{
	union inaddr zero = { 0 };

	if (!memcmp(&l->addr, &zero, sizeof(zero)))
		return true;	/* 0.0.0.0, and :: (which takes IPv4 too unless v6only) */
	if (l->af == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&l->addr.v6)) {
		union inaddr a = { 0 };

		memcpy(&a.v4, &l->addr.v6.s6_addr[12], 4);
		return is_wan_addr(AF_INET, &a, data);
	}
	return l->af == AF_INET && is_wan_addr(AF_INET, &l->addr, data);
}

int listen_warnings(const struct engine *e, const struct listen_set *s,
		    bool (*is_wan_addr)(int af, const union inaddr *a, void *data), void *data,
		    struct dynbuf *out)
{
	int n = 0;

	for (size_t i = 0; e->cfg && i < e->cfg->n_rules; i++) {
		const struct rule *r = e->cfg->rules[i];

		if (!(r->family & RULE_FAMILY_IPV4))
			continue;
		for (size_t k = 0; k < r->n_forwards; k++) {
			const struct portrange *p = &r->forwards[k];

			for (size_t j = 0; j < s->n; j++) {
				const struct listen_sock *l = &s->v[j];
				char range[32], addr[INET6_ADDRSTRLEN];

				if (l->proto != p->proto || l->port < p->lo || l->port > p->hi ||
				    !reaches_from_wan(l, is_wan_addr, data))
					continue;
				/* a socket on both tcp and tcp6 (or twice) is one warning */
				bool seen = false;

				for (size_t q = 0; q < j && !seen; q++)
					seen = s->v[q].proto == l->proto && s->v[q].port == l->port &&
					       reaches_from_wan(&s->v[q], is_wan_addr, data);
				if (seen)
					continue;
				portrange_format(p, range, sizeof(range));
				inet_ntop(l->af, &l->addr, addr, sizeof(addr));
				dynbuf_printf(out, "rule '%s' forwards %s, which covers %s port %u "
					      "the router itself listens on (%s%s%s): while the rule is "
					      "active, connections to it from the WAN go to the LAN host\n",
					      r->name, range, proto_name(l->proto), l->port,
					      l->af == AF_INET6 ? "[" : "", addr, l->af == AF_INET6 ? "]" : "");
				n++;
			}
		}
	}
	return n;
}
