/*
 * The administrator's ruleset as the firewall check sees it: chains, and
 * rules as conditions plus a verdict, with the sets they look up. Only
 * what decides the fate of a forwarded connection is understood (protocol
 * family, layer-4 protocol, destination port, ct state and status, the
 * mark, interface names); every other condition "may" match.
 *
 * The model is filled from libnftnl objects (fwdecode, what the daemon
 * dumps) or directly (the unit tests translate `nft -j list ruleset` into
 * it). An allocation that fails while it is filled sets .oom (in
 * fwruleset_chain_add, and for the others in their callers): the model is
 * then incomplete, and a check on it is void.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FWRULESET_NAME_MAX 64
#define FWRULESET_KEY_LEN 16

/* What a condition looks at. */
enum fwruleset_key {
	FWRULESET_KEY_OTHER,	/* anything not understood: may match */
	FWRULESET_KEY_NFPROTO,
	FWRULESET_KEY_L4PROTO,
	FWRULESET_KEY_DPORT,
	FWRULESET_KEY_CTSTATE,
	FWRULESET_KEY_CTSTATUS,
	FWRULESET_KEY_MARK,
	FWRULESET_KEY_IIFNAME,
	FWRULESET_KEY_OIFNAME,
};

enum fwruleset_op {
	FWRULESET_OP_MAYBE,	/* a condition that cannot be evaluated */
	FWRULESET_OP_EQ,	/* (key & mask) == value */
	FWRULESET_OP_NEQ,
	FWRULESET_OP_GTE,	/* key >= value (ports) */
	FWRULESET_OP_LTE,
	FWRULESET_OP_IN,	/* key in set */
	FWRULESET_OP_NOT_IN,
};

struct fwruleset_cond {
	enum fwruleset_key key;
	enum fwruleset_op op;
	uint32_t mask;		/* bitwise and before the comparison; 0xffffffff: none */
	uint32_t value;		/* host order (ports too) */
	char ifname[17];	/* interface names: a name, or a prefix when .prefix */
	bool prefix;
	int set;		/* FWRULESET_OP_IN / NOT_IN: index into fwruleset.sets */
};

enum fwruleset_verdict {
	FWRULESET_VERDICT_CONTINUE,	/* no verdict: the next rule */
	FWRULESET_VERDICT_ACCEPT,
	FWRULESET_VERDICT_DROP,		/* drop or reject */
	FWRULESET_VERDICT_JUMP,
	FWRULESET_VERDICT_GOTO,
	FWRULESET_VERDICT_RETURN,
	FWRULESET_VERDICT_UNKNOWN,	/* queue and the like: someone else decides */
	FWRULESET_VERDICT_VMAP,		/* the verdict is looked up: see vmap */
};

struct fwruleset_rule {
	struct fwruleset_cond *conds;
	size_t n_conds;
	enum fwruleset_verdict verdict;
	char target[FWRULESET_NAME_MAX];	/* jump / goto */
	struct fwruleset_cond vmap;		/* FWRULESET_VERDICT_VMAP: the key, op IN, set = the map */
};

struct fwruleset_chain {
	int family;		/* NFPROTO_INET, _IPV4, _IPV6; others are ignored */
	char table[FWRULESET_NAME_MAX];
	char name[FWRULESET_NAME_MAX];
	bool base;
	uint32_t hook;
	int32_t prio;
	bool policy_drop;
	struct fwruleset_rule *rules;
	size_t n_rules;
};

struct fwruleset_elem {
	uint8_t key[FWRULESET_KEY_LEN];
	uint8_t key_end[FWRULESET_KEY_LEN];	/* concatenated ranges are not understood */
	size_t len;
	bool interval_end;
	enum fwruleset_verdict verdict;		/* maps */
	char target[FWRULESET_NAME_MAX];
};

struct fwruleset_set {
	int family;
	char table[FWRULESET_NAME_MAX];
	char name[FWRULESET_NAME_MAX];
	bool interval;
	bool has_elems;		/* elements known; else lookups may match */
	struct fwruleset_elem *elems;
	size_t n_elems;
};

struct fwruleset {
	struct fwruleset_chain *chains;
	size_t n_chains;
	struct fwruleset_set *sets;
	size_t n_sets;
	int oom;
};

struct fwruleset_chain *fwruleset_chain_add(struct fwruleset *rs, int family, const char *table,
					    const char *name);
struct fwruleset_chain *fwruleset_chain_find(const struct fwruleset *rs, int family,
					     const char *table, const char *name);
struct fwruleset_rule *fwruleset_rule_add(struct fwruleset_chain *c);
int fwruleset_cond_add(struct fwruleset_rule *r, const struct fwruleset_cond *cond);
/* The set's index, or -ENOENT. */
int fwruleset_set_find(const struct fwruleset *rs, int family, const char *table,
		       const char *name);
/* The set's index, added when missing. */
int fwruleset_set_ref(struct fwruleset *rs, int family, const char *table, const char *name);
int fwruleset_elem_add(struct fwruleset *rs, int set, const struct fwruleset_elem *e);
void fwruleset_free(struct fwruleset *rs);

/* How many bytes a value of K takes in a register or set element (0: not known). */
size_t fwruleset_key_len(enum fwruleset_key k);
/* A value of K from its bytes in a register or set element. */
uint32_t fwruleset_key_value(enum fwruleset_key k, const uint8_t *p);

/* Is C a chain the check runs: a forward-hook base chain outside OWN_TABLE (table inet NAME)? */
bool fwruleset_chain_checked(const struct fwruleset_chain *c, const char *own_table);

/*
 * The sets that rules reachable from the forward hook look up (other than
 * OWN_TABLE's), as WANTED[i] for rs->sets[i]: the elements to load. A map
 * of verdicts can lead to more, so ask again after loading.
 */
int fwruleset_sets_wanted(const struct fwruleset *rs, const char *own_table, bool *wanted);
