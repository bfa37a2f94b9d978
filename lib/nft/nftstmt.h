/*
 * A rule, statement by statement: each statement writes its expressions
 * (into a libnftnl rule, for the kernel) and its text (as `nft list` shows
 * it, for --dry-run) side by side, so that the two cannot part. The
 * expression helpers write expressions alone; their caller says the text.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "nftobj.h"
#include "base/nlbatch.h"
#include "base/util.h"

struct nftnl_expr;
struct nftnl_rule;

/*
 * A rule being built: R gets the expressions (for the kernel), TEXT the
 * statement as `nft list` shows it (for --dry-run). Either may be NULL.
 */
struct nftstmt {
	struct nftnl_rule *r;
	struct nlbatch *batch;	/* with R: where a rule's anonymous set goes first */
	struct dynbuf *text;
	bool oom;
	int nfproto;		/* the family matched so far (NFPROTO_*), 0 none */
};

/* A rule of CHAIN for BATCH; -ENOMEM */
int nftstmt_begin(struct nftstmt *b, struct nlbatch *batch, const char *chain);
/* Its message, described as WHAT (unless it ran out of memory); frees the rule. */
int nftstmt_end(struct nftstmt *b, const char *what);

void nftstmt_say(struct nftstmt *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Expressions (NULL: no rule, or out of memory) */
struct nftnl_expr *nftstmt_expr(struct nftstmt *b, const char *name);
void nftstmt_add(struct nftstmt *b, struct nftnl_expr *e);
void nftstmt_meta_load(struct nftstmt *b, uint32_t key, uint32_t dreg);
void nftstmt_meta_set(struct nftstmt *b, uint32_t key, uint32_t sreg);
void nftstmt_cmp(struct nftstmt *b, uint32_t sreg, uint32_t op, const void *data, size_t len);
void nftstmt_bitwise(struct nftstmt *b, uint32_t reg, uint32_t mask, uint32_t xor);
/* A lookup in set NAME (ID: of a set of this transaction, 0 none); DREG -1: none */
void nftstmt_lookup_id(struct nftstmt *b, uint32_t sreg, const char *name, uint32_t id, bool inv,
		       int dreg);
void nftstmt_lookup(struct nftstmt *b, uint32_t sreg, enum nftobj_set s, bool inv, int dreg);
void nftstmt_lookup_name(struct nftstmt *b, uint32_t sreg, const char *name, bool inv, int dreg);
void nftstmt_payload(struct nftstmt *b, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg);
/* meta l4proto . th dport into PROTO_REG and the next 32-bit register */
void nftstmt_proto_port(struct nftstmt *b, uint32_t proto_reg, uint32_t port_reg);
/* fib FLAGS RESULT into register 1 */
void nftstmt_fib(struct nftstmt *b, uint32_t flags, uint32_t result);
/* dnat ip to address (register 1) [and port (register 9)] */
void nftstmt_dnat(struct nftstmt *b, bool port);

/* Statements: expressions and text */
void nftstmt_ct_new(struct nftstmt *b);
/* meta nfproto; IMPLIED: a later address match implies it (nft leaves it out) */
void nftstmt_nfproto(struct nftstmt *b, bool v6, bool implied);
/* The family match an address statement needs, unless the rule has it already */
void nftstmt_need_nfproto(struct nftstmt *b, bool v6);
/* iifname @wanif, oifname @wanif, iifname != @wanif */
void nftstmt_wanif(struct nftstmt *b, bool out, bool inv);
/* meta l4proto . th dport @S */
void nftstmt_proto_port_in(struct nftstmt *b, enum nftobj_set s);
void nftstmt_local_daddr(struct nftstmt *b);
void nftstmt_verdict(struct nftstmt *b, int code, const char *chain);
void nftstmt_counter(struct nftstmt *b, enum nftobj_counter c);
void nftstmt_log(struct nftstmt *b, uint16_t group, const char *prefix);
/* limit rate [over] R/second [burst B packets]: the caller adds it (or nests it) */
struct nftnl_expr *nftstmt_limit(struct nftstmt *b, uint64_t rate, uint32_t burst, bool over);
/* meta l4proto . th dport vmap @MAP */
void nftstmt_vmap(struct nftstmt *b, enum nftobj_set map);
/* meta l4proto { tcp, udp } */
void nftstmt_tcp_udp(struct nftstmt *b);
void nftstmt_set_mark(struct nftstmt *b, uint32_t mark, uint32_t mask);
void nftstmt_mark_unset(struct nftstmt *b, uint32_t mark, uint32_t mask);

/* nft's time format: 1d2h3m4s5ms */
void nftstmt_duration(struct dynbuf *out, uint64_t ms);
