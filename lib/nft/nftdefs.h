/*
 * What the nft builders of this folder share, below all of them (it
 * includes none of their headers): nftables' datatype ids, the base
 * chains' definitions, and how many elements a message carries. Not part
 * of the library's API.
 *
 *   nftobj.c    the table, its sets, counters and chains as objects
 *   nftstmt.c   statements: each writes its expressions and its nft text
 *   nftelem.c   set elements: keys, messages, interval merging
 *   nftskel.c   the skeleton: the base chains' fixed rules
 *   nftchain.c  a port segment's chain: the rules it runs for each rule
 *   nftlayout.c what a configuration adds (its sets and chains), and the
 *               change from one layout to the next
 *   nfttext.c   the ruleset in nft -f syntax (--dry-run)
 *   nfttrace.c  the trace chain of ipautofwctl trace
 */
#pragma once

#include <stdint.h>

/* nftables' datatype ids (include/datatype.h), 6 bits per concatenated field */
enum {
	TYPE_VERDICT = 1,
	TYPE_NFPROTO = 2,
	TYPE_IPADDR = 7,
	TYPE_IP6ADDR = 8,
	TYPE_ETHERADDR = 9,
	TYPE_INET_PROTOCOL = 12,
	TYPE_INET_SERVICE = 13,
	TYPE_IFNAME = 41,
};

enum {
	CHAIN_TRIGGER,
	CHAIN_TRIGGER4,
	CHAIN_TRIGGER6,
	CHAIN_TRIG_VETTED4,
	CHAIN_TRIG_VETTED6,
	CHAIN_TRIG_SHARED,
	CHAIN_TRIG_LOG,
	CHAIN_TRIG_FORGED,
	CHAIN_PREROUTING,
	CHAIN_PINHOLE,
	CHAIN__N,
};

/* Base chains have a type; the others are jump targets. */
struct chaindef {
	const char *name;
	const char *type;
	uint32_t hook;
	int32_t prio;
};

/* in nftobj.c */
extern const struct chaindef nftobj_chains[CHAIN__N];

/* Elements per message: the element list is one attribute, its length 16 bits */
#define ELEMS_PER_MSG 256
