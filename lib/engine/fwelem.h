/*
 * The translation between a forwarding and the set elements that carry
 * it: the rule's map element (IPv4), its owner and pinhole (IPv6), or one
 * per forward range (port redirection); and back, from an element of one
 * of a rule's own sets as the kernel lists it (adoption). Each element
 * carries a digest of the rule's forwards as userdata, so a daemon that
 * adopts it keeps only what still fits.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwtable.h"
#include "nft/nftelem.h"
#include "nft/nftobj.h"
#include "rules/rule.h"

/* A forwarding's element in its set. */
struct fwelem {
	struct nftobj_setref set;
	struct nftelem e;
};

/*
 * The elements that carry forwarding F, each with its set, lasting
 * EXPIRATION_MS (0: a full timeout). OUT must hold FWELEM_MAX(rule)
 * entries. Returns how many were written.
 */
#define FWELEM_MAX(r) ((r)->n_forwards > 2 ? (r)->n_forwards : 2)
size_t fwelem_build(const struct fwd *f, uint64_t expiration_ms, struct fwelem *out);

/* The userdata of rule R's elements: a digest of its forwards (adoption keeps only what still fits). */
void fwelem_udata(const struct rule *r, char *buf, size_t size);

/* A forwarding element read back from the kernel. */
struct fwelem_decoded {
	int af;
	union inaddr host;
	union inaddr peer;
	bool has_peer;
};

/*
 * Decode a forwarding element of a rule's set of KIND (act4, act4p, pin6,
 * pin6p) from its key and data. Returns 0, or -EINVAL for lengths that do
 * not fit.
 */
int fwelem_decode(enum nftobj_rset kind, const void *key, size_t key_len, const void *data,
		  size_t data_len, struct fwelem_decoded *ret);
