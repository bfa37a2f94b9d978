/*
 * What the nft object files share (not part of the library's API):
 * nftables' datatype ids, the sets' and chains' definitions, and the
 * helpers that build a message into a batch.
 *
 *   nftobj.c   the table, its sets, counters and chains, the skeleton
 *   nftrule.c  the rules, statement by statement (expressions and text),
 *              and what each rule adds (its sets, the segment chains)
 *   nftelem.c  set elements: keys, decoding, interval merging
 *   nfttext.c  the ruleset in nft -f syntax (--dry-run)
 */
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netlink.h>

#include "nftobj.h"

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

struct setdef {
	const char *name;
	bool dynamic;		/* updated from the packet path */
	uint32_t timeout_ms;	/* default element timeout (dynamic sets) */
	uint32_t key_type;
	uint32_t key_len;
	uint8_t fields[4];	/* field lengths in bytes; 0 ends (or a plain key) */
	bool map;
	bool verdict;		/* a verdict map */
	bool timeout;
	bool hash;		/* single keys, no intervals */
	uint32_t size;		/* a fixed size (0: none, or the forwarding sets' size) */
	uint32_t data_type;
	uint32_t data_len;
};


extern const struct setdef nftobj_sets[NFTOBJ__SETS];
extern const char *const nftobj_counters[NFTOBJ__COUNTERS];

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

extern const struct chaindef nftobj_chains[CHAIN__N];

/* Elements per message: the element list is one attribute, its length 16 bits */
#define ELEMS_PER_MSG 256

struct nlmsghdr *nftobj_begin_msg(struct nlbatch *b, uint16_t type);
/* SIZE: the elements the set may hold (0: no limit; rate sets have their own) */
struct nftnl_set *nftobj_set_object(enum nftobj_set id, uint32_t size);
struct nftnl_obj *nftobj_counter_object(enum nftobj_counter id);
struct nftnl_chain *nftobj_chain_object(const struct chaindef *d);

/* nftrule.c: every rule into B, or each rule of CHAIN as nft text lines */
int nftobj_add_rules(struct nlbatch *b, const struct nftobj_params *p);
void nftobj_rules_text(struct dynbuf *out, const struct nftobj_params *p, int chain);

/* nftelem.c: big-endian increment; false on overflow */
bool nftobj_key_inc(uint8_t *k, size_t len);
/* nftelem.c: a key field (padded to 4 bytes) at OFF; returns the next offset */
size_t nftobj_put_field(uint8_t *key, size_t off, const void *p, size_t len);

/* nftrule.c: a layout set's object (ID: its set id in the transaction) */
#define NFTOBJ_RSET_ID_BASE (NFTOBJ__SETS + 16)
struct nftnl_set *nftobj_rset_object(const struct nftobj_lset *ls, uint32_t id);
/* nftrule.c: whether some rule has its own WAN list (then each rule's are checked) */
bool nftobj_any_rule_wan(const struct config *cfg);
int nftobj_chain_rules_text(const struct nftobj_params *p, const struct config *cfg,
			    const struct nftobj_lchain *c, bool wan_sets, struct dynbuf *out);
/* nftrule.c: the verdict map a segment chain of kind K hangs off */
enum nftobj_set nftobj_chain_vmap(enum nftobj_chain_kind k);

/* nfttext.c: nft's time format, 1d2h3m4s5ms */
void nftobj_text_duration(struct dynbuf *out, uint64_t ms);
