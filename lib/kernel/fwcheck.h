/*
 * Does the administrator's ruleset let ipautofw's forwardings through?
 * An accept in our table cannot override a drop in another base chain, so
 * every other forward-hook base chain must itself accept the forwarded
 * connections: IPv4 forwardings are DNATed (`ct status dnat accept`), IPv6
 * pinholes carry the pinhole mark.
 *
 * The ruleset is held as a small model: chains, and rules as conditions
 * plus a verdict, with the sets they look up. Only what decides the fate
 * of a forwarded connection is understood (protocol family, layer-4
 * protocol, destination port, ct state and status, the mark, interface
 * names); every other condition "may" match. Each forward-hook base
 * chain is then run, three-valued, for the packets ipautofw forwards (a
 * new inbound connection on each rule's forward ranges, from a WAN
 * interface to a LAN interface), following jump and goto (depth 16,
 * loops detected), to its policy or a final drop. A chain is reported
 * when such a packet is dropped for sure and no accept on the way could
 * have applied; and, without pinhole-guard, when it opens a rule's
 * forward ports to every LAN host for IPv6 while dropping other ports.
 *
 * The model is filled from libnftnl objects (what the daemon dumps) or
 * directly (the unit tests translate `nft -j list ruleset` into it).
 */
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rule.h"

#define FWCHECK_NAME_MAX 64
#define FWCHECK_DEPTH_MAX 16
#define FWCHECK_KEY_LEN 16

/* What a condition looks at. */
enum fwcheck_key {
	FWCHECK_KEY_OTHER,	/* anything not understood: may match */
	FWCHECK_KEY_NFPROTO,
	FWCHECK_KEY_L4PROTO,
	FWCHECK_KEY_DPORT,
	FWCHECK_KEY_CTSTATE,
	FWCHECK_KEY_CTSTATUS,
	FWCHECK_KEY_MARK,
	FWCHECK_KEY_IIFNAME,
	FWCHECK_KEY_OIFNAME,
};

enum fwcheck_op {
	FWCHECK_OP_MAYBE,	/* a condition that cannot be evaluated */
	FWCHECK_OP_EQ,		/* (key & mask) == value */
	FWCHECK_OP_NEQ,
	FWCHECK_OP_GTE,		/* key >= value (ports) */
	FWCHECK_OP_LTE,
	FWCHECK_OP_IN,		/* key in set */
	FWCHECK_OP_NOT_IN,
};

struct fwcheck_cond {
	enum fwcheck_key key;
	enum fwcheck_op op;
	uint32_t mask;		/* bitwise and before the comparison; 0xffffffff: none */
	uint32_t value;		/* host order (ports too) */
	char ifname[17];	/* interface names: a name, or a prefix when .prefix */
	bool prefix;
	int set;		/* FWCHECK_OP_IN / NOT_IN: index into fwcheck.sets */
};

enum fwcheck_verdict {
	FWCHECK_CONTINUE,	/* no verdict: the next rule */
	FWCHECK_ACCEPT,
	FWCHECK_DROP,		/* drop or reject */
	FWCHECK_JUMP,
	FWCHECK_GOTO,
	FWCHECK_RETURN,
	FWCHECK_UNKNOWN,	/* queue and the like: someone else decides */
	FWCHECK_VMAP,		/* the verdict is looked up: see vmap_set */
};

struct fwcheck_rule {
	struct fwcheck_cond *conds;
	size_t n_conds;
	enum fwcheck_verdict verdict;
	char target[FWCHECK_NAME_MAX];	/* jump / goto */
	struct fwcheck_cond vmap;	/* FWCHECK_VMAP: the key, op IN, set = the map */
};

struct fwcheck_chain {
	int family;		/* NFPROTO_INET, _IPV4, _IPV6; others are ignored */
	char table[FWCHECK_NAME_MAX];
	char name[FWCHECK_NAME_MAX];
	bool base;
	uint32_t hook;
	int32_t prio;
	bool policy_drop;
	struct fwcheck_rule *rules;
	size_t n_rules;
};

struct fwcheck_elem {
	uint8_t key[FWCHECK_KEY_LEN];
	uint8_t key_end[FWCHECK_KEY_LEN];	/* concatenated ranges are not understood */
	size_t len;
	bool interval_end;
	enum fwcheck_verdict verdict;		/* maps */
	char target[FWCHECK_NAME_MAX];
};

struct fwcheck_set {
	int family;
	char table[FWCHECK_NAME_MAX];
	char name[FWCHECK_NAME_MAX];
	bool interval;
	bool has_elems;		/* elements known; else lookups may match */
	struct fwcheck_elem *elems;
	size_t n_elems;
};

struct fwcheck {
	struct fwcheck_chain *chains;
	size_t n_chains;
	struct fwcheck_set *sets;
	size_t n_sets;
	int oom;
};

/* ---- building the model ---- */

struct fwcheck_chain *fwcheck_chain_add(struct fwcheck *fc, int family, const char *table,
					const char *name);
struct fwcheck_chain *fwcheck_chain_find(const struct fwcheck *fc, int family, const char *table,
					 const char *name);
struct fwcheck_rule *fwcheck_rule_add(struct fwcheck_chain *c);
int fwcheck_cond_add(struct fwcheck_rule *r, const struct fwcheck_cond *cond);
/* The set's index, added when missing. */
int fwcheck_set_ref(struct fwcheck *fc, int family, const char *table, const char *name);
int fwcheck_elem_add(struct fwcheck *fc, int set, const struct fwcheck_elem *e);

/*
 * From what the kernel dumps: chains first, then rules, then set elements.
 * Objects the check has no use for are skipped. Each returns 0, -ENOMEM
 * (the model is incomplete), or -EBADMSG for an object without its table
 * or name.
 */
int fwcheck_add_nftnl_chain(struct fwcheck *fc, const struct nftnl_chain *c);
int fwcheck_add_nftnl_rule(struct fwcheck *fc, const struct nftnl_rule *r);
int fwcheck_add_nftnl_set(struct fwcheck *fc, const struct nftnl_set *s);
int fwcheck_add_nftnl_elems(struct fwcheck *fc, const struct nftnl_set *s);

/*
 * The sets that rules reachable from the forward hook look up (other than
 * OWN_TABLE's), as WANTED[i] for fc->sets[i]: the elements to load. A map
 * of verdicts can lead to more, so ask again after loading.
 */
int fwcheck_sets_wanted(const struct fwcheck *fc, const char *own_table, bool *wanted);

void fwcheck_free(struct fwcheck *fc);

/* ---- the check ---- */

struct fwcheck_env {
	uint32_t mark;
	uint32_t mark_mask;
	bool guard;			/* pinhole-guard on */
	const struct iflist *wan;	/* the WAN interfaces in use */
	const struct iflist *lan;	/* NULL: every interface that is not WAN */
	const struct rule *const *rules;
	size_t n_rules;
	const char *own_table;		/* table inet NAME: ours, not checked */
};

enum fwcheck_warning_kind {
	FWCHECK_DROPS_IPV4,	/* drops IPv4 forwardings */
	FWCHECK_DROPS_IPV6,	/* drops IPv6 pinholes */
	FWCHECK_OPEN_IPV6,	/* accepts unmarked IPv6 to the forward ports: pinhole-guard needed */
	FWCHECK_SAME_PRIO,	/* shares a priority with one of our forward chains */
};

struct fwcheck_warning {
	enum fwcheck_warning_kind kind;
	int family;
	char table[FWCHECK_NAME_MAX];
	char chain[FWCHECK_NAME_MAX];
	const char *rule;	/* the first rule affected; NULL: any forwarding */
	uint8_t proto;
	uint16_t lo, hi;
	unsigned more;		/* further rules' ranges affected */
	int32_t prio;
};

/*
 * Run the check. Returns the number of warnings (*RET, to free()) or
 * -ENOMEM.
 */
int fwcheck_run(const struct fwcheck *fc, const struct fwcheck_env *env,
		struct fwcheck_warning **ret);
/* One warning as a line of text (no "warning: " prefix, no newline). */
int fwcheck_warning_format(const struct fwcheck_warning *w, const struct fwcheck_env *env,
			   char *buf, size_t size);
