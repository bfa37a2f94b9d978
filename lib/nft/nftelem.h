/*
 * Set elements: a key (or a range of keys) with its data, timeout and
 * userdata, and the messages that add, delete or flush them, split so
 * that no attribute nest passes 64 KiB. The keys of the static sets are
 * built here from the configuration's lists, ranges merged; those of
 * forwardings, from a forwarding, in lib/engine (fwelem).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nftobj.h"
#include "rules/rule.h"
#include "base/nlbatch.h"

#define NFTELEM_KEY_MAX 40

struct nftelem {
	uint8_t key[NFTELEM_KEY_MAX];
	uint8_t key_end[NFTELEM_KEY_MAX];
	uint8_t data[8];
	bool has_key_end;	/* concatenated ranges: inclusive end */
	bool interval_end;	/* plain interval sets: this element closes a range */
	bool has_data;
	uint64_t timeout_ms;	/* 0: permanent */
	uint64_t expiration_ms;	/* 0: a full timeout */
	char udata[24];		/* element userdata ("" none): what adoption checks */
};

/* Element messages of MSG_TYPE (NFT_MSG_NEWSETELEM, ...) for the N elements E of S */
int nftelem_write(struct nlbatch *b, uint16_t msg_type, const struct nftobj_setref *s,
		  const struct nftelem *e, size_t n);
int nftelem_write_set(struct nlbatch *b, uint16_t msg_type, enum nftobj_set s,
		      const struct nftelem *e, size_t n);
/*
 * Delete elements E (N; reordered, duplicates dropped) of S, each whether
 * or not the kernel still has it: DESTROY where the kernel has it (see
 * kcaps), else each added (with the data the kernel has, or the add fails
 * with EEXIST) and deleted in the same transaction. No plain interval sets.
 */
int nftelem_remove(struct nlbatch *b, bool destroy, const struct nftobj_setref *s,
		   struct nftelem *e, size_t n);
int nftelem_flush(struct nlbatch *b, const struct nftobj_setref *s);
int nftelem_flush_set(struct nlbatch *b, enum nftobj_set s);

/* A key field (padded to 4 bytes) at OFF; returns the next offset */
size_t nftelem_put_field(uint8_t *key, size_t off, const void *p, size_t len);
size_t nftelem_put_proto_port(uint8_t *key, size_t off, uint8_t proto, uint16_t port);
/* Big-endian increment; false on overflow */
bool nftelem_key_inc(uint8_t *k, size_t len);

/* Interval elements (start/end pairs, merged) matching any of the names. */
int nftelem_ifnames(const struct iflist *l, struct nftelem **ret, size_t *ret_n);
/* Interval elements (start and end) of the prefixes of family AF in L; /0 runs to the end. */
int nftelem_prefixes(const struct prefixlist *l, int af, struct nftelem **ret, size_t *ret_n);
/* Disjoint (proto, range) elements covering all PORTS. */
int nftelem_portranges(const struct portrange *ports, size_t n, struct nftelem **ret,
		       size_t *ret_n);

/*
 * The learn set element for PEER (IPv6: connecting to HOST), lasting
 * EXPIRATION_MS of TIMEOUT_MS (both 0 for a delete); returns its set.
 */
enum nftobj_set nftelem_learn(int af, const union inaddr *peer, const union inaddr *host,
			      uint64_t timeout_ms, uint64_t expiration_ms, struct nftelem *out);
