/*
 * A port segment's chain: the verdict maps jump to it for the ports of
 * one segment (lib/base/segment.c), and it holds a rule for each rule of
 * the configuration that owns the segment. DNAT (d4) and pinhole (p6)
 * chains serve forwardings; t4 and t6 are the kernel's path (nftobj.h):
 * each rule the port triggers, if the packet may trigger it (the rule's
 * own WAN, LAN and allow lists), adds its first forwarding.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nftobj.h"
#include "base/nlbatch.h"
#include "base/util.h"

enum nftchain_kind {
	NFTCHAIN_D4,		/* d4_PROTO_LO: dnat to the rules' act4 maps */
	NFTCHAIN_P6,		/* p6_PROTO_LO: mark what the rules' pinholes let in */
	NFTCHAIN_T4,		/* t4_PROTO_LO: the kernel's add, IPv4 */
	NFTCHAIN_T6,		/* t6_PROTO_LO: the kernel's add, IPv6 */
	NFTCHAIN__KINDS,
};

struct nftchain {
	char name[NFTOBJ_NAME_MAX];
	enum nftchain_kind kind;
	uint8_t proto;
	uint16_t lo;
	uint16_t hi;
	size_t *rules;		/* indexes in the configuration, in order */
	size_t n_rules;
	uint64_t digest;	/* of its rules as nft lists them: what tells a changed chain */
};

struct config;

/* "d4", "p6", ...: what names a chain of kind K */
const char *nftchain_prefix(enum nftchain_kind k);
/* The verdict map a chain of kind K hangs off */
enum nftobj_set nftchain_vmap(enum nftchain_kind k);
/* Whether some rule has its own WAN list (then each rule's are checked) */
bool nftchain_any_rule_wan(const struct config *cfg);

/* The rules of chain C (of a layout built from CFG) into B */
int nftchain_write_rules(struct nlbatch *b, const struct nftobj_params *p, const struct config *cfg,
			 const struct nftchain *c, bool wan_sets);
/* ... and as nft lists them: "\t\tRULE\n" each */
int nftchain_rules_text(const struct nftobj_params *p, const struct config *cfg,
			const struct nftchain *c, bool wan_sets, struct dynbuf *out);
int nftchain_text(const struct nftobj_params *p, const struct config *cfg, const struct nftchain *c,
		  struct dynbuf *out);
