/*
 * The values of the rule files' options and statements, read from tokens:
 * ports and port ranges, durations, comma lists of ranges, interface
 * names and address prefixes, counts. Each reports what is wrong with it
 * at its token and returns -errno; it knows nothing of the statement it
 * stands in.
 */
#pragma once

#include <stdint.h>

#include "lexer.h"
#include "rule.h"

#define VALUE_TIMEOUT_MAX (30u * 24 * 3600)
/* for max-per-host and max-forwardings: the kernel sets are sized from them */
#define VALUE_LIMIT_MAX 1048576

/*
 * A name that stands for interfaces in `lan` and `wan`: on OpenWrt a
 * logical interface or a firewall zone, resolved to its devices outside
 * the daemon (the init script) and read from the interface names file.
 */
struct ifalias {
	char *name;
	struct iflist devs;
};

const struct ifalias *value_find_alias(const struct ifalias *v, size_t n, const char *name,
				       size_t len);

int value_port(struct lexer *lx, const struct token *t, uint16_t *ret);
/* PORT/PROTO or LOW-HIGH/PROTO */
int value_portrange(struct lexer *lx, const struct token *t, struct portrange *ret);
/* 300, 300s, 5m, 1h30m, 4m12s: 1s to VALUE_TIMEOUT_MAX */
int value_duration(struct lexer *lx, const struct token *t, uint32_t *ret);
/* A count for max-per-host or max-forwardings (WHAT): 1 to VALUE_LIMIT_MAX. */
int value_limit(struct lexer *lx, const struct token *t, const char *what, unsigned *ret);

/*
 * Comma lists from toks[*i] on, *I moved past them; "a,b", "a, b" and
 * "a ,b" are one list. A bad element is reported and the rest still read.
 */
int value_ports(struct lexer *lx, const struct token *toks, size_t n, size_t *i,
		struct portrange **ret, size_t *ret_n);
/* A name in ALIASES adds its devices; a name ending in '*' matches a prefix. */
int value_ifnames(struct lexer *lx, const struct ifalias *aliases, size_t n_aliases,
		  const struct token *toks, size_t n, size_t *i, struct iflist *ret);
int value_allow(struct lexer *lx, const struct token *toks, size_t n, size_t *i,
		struct prefixlist *ret);

/* The same from a string, without diagnostics: -EINVAL if TEXT is not one. */
int value_parse_portrange(const char *text, struct portrange *ret);
int value_parse_duration(const char *text, uint32_t *ret);
