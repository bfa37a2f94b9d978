/*
 * The rule model: what one `rule NAME ...` line (or one runtime `add`)
 * describes once parsed and validated. Rules are immutable after parsing;
 * a reload builds new ones and the forwarding table is re-pointed at them.
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

#define RULE_NAME_MAX 32
#define IFNAME_MAX 15
#define RULE_TIMEOUT_DEFAULT 300

enum rule_family {
	RULE_FAMILY_IPV4 = 1,
	RULE_FAMILY_IPV6 = 2,
	RULE_FAMILY_BOTH = 3,
};

struct srcloc {
	const char *file;	/* NULL for runtime rules */
	unsigned line;
	unsigned col;
};

struct portrange {
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t lo;
	uint16_t hi;
	struct srcloc loc;
};

struct iflist {
	char (*names)[IFNAME_MAX + 2];	/* may end in '*' */
	size_t n;
};

struct rule {
	char name[RULE_NAME_MAX + 1];
	struct portrange *triggers;
	size_t n_triggers;
	struct portrange *forwards;
	size_t n_forwards;
	uint32_t timeout_s;
	bool is_static;
	int to_af;		/* AF_INET or AF_INET6 when is_static */
	union inaddr to;
	uint16_t to_port;	/* port remap (to A.B.C.D:PORT); 0 keeps the port */
	bool peer;
	bool exclusive;
	unsigned family;	/* enum rule_family */
	bool has_lan;
	bool has_wan;
	struct iflist lan;
	struct iflist wan;
	bool has_allow;
	struct prefixlist allow;	/* sources that may trigger (has_allow) */
	unsigned max_per_host;		/* 0: the global max-per-host */
	bool disabled;			/* `disabled` in its line */
	int switched;			/* enable/disable at run time: 1 on, -1 off, 0 neither */
	struct srcloc loc;
};

/* A rule triggers (or, static, forwards) unless it is switched off or says `disabled`. */
static inline bool rule_enabled(const struct rule *r)
{
	return r->switched ? r->switched > 0 : !r->disabled;
}

/* A rule named NAME with the defaults: timeout 5m, both families. */
struct rule *rule_new(const char *name);
struct rule *rule_free(struct rule *r);
bool rule_name_valid(const char *name);
struct rule *rule_dup(const struct rule *r);
/* The rule named NAME among RULES, or NULL */
struct rule *rule_find(struct rule *const *rules, size_t n, const char *name);
bool rule_same_forwards(const struct rule *a, const struct rule *b);
int rule_format(const struct rule *r, char *buf, size_t size);
int portrange_format(const struct portrange *p, char *buf, size_t size);
/* FILE:LINE:COL, or "runtime" for a rule given at run time */
void srcloc_format(const struct srcloc *l, char *buf, size_t size);
/* qsort order: by protocol, then by first port. */
int portrange_cmp(const void *a, const void *b);
struct json;
/* KEY: ["6970-7170/udp", ...] */
void portranges_json(struct json *j, const char *key, const struct portrange *v, size_t n);
/* "6970-7170/udp,7000/tcp": returns the length it needs, like snprintf. */
int portlist_format(const struct portrange *p, size_t n, char *buf, size_t size);
const char *proto_name(uint8_t proto);
bool iflist_match(const struct iflist *l, const char *ifname);
int iflist_add(struct iflist *l, const char *name);
void iflist_clear(struct iflist *l);
int iflist_copy(struct iflist *dst, const struct iflist *src);
int duration_format(uint64_t seconds, char *buf, size_t size);
