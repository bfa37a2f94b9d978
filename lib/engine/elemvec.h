/*
 * Elements gathered by set before they are written: each forwarding is a
 * few elements in a few sets, and a loop turn's changes go to the kernel
 * as one message per set, not one per forwarding. A vector keeps its room
 * from one turn to the next.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/nlbatch.h"
#include "fwtable.h"
#include "nft/nftelem.h"
#include "nft/nftobj.h"

/* Elements bound for one set, and a list of such (by set name). */
struct elemvec {
	struct nftobj_setref set;
	struct nftelem *v;
	size_t n;
	size_t cap;
};

struct elemvecs {
	struct elemvec *v;
	size_t n;
};

/* The vector of set SET in VS (made if new), with room for K more elements; NULL on -ENOMEM. */
struct elemvec *elemvec_for(struct elemvecs *vs, const struct nftobj_setref *set, size_t k);

/* Append F's elements (EXPIRATION_MS 0: none) to the vectors of their sets; -ENOMEM. */
int elemvec_add_fwd(struct elemvecs *vs, const struct fwd *f, uint64_t expiration_ms);

/* One message of TYPE per set that has elements. */
int elemvec_write(struct nlbatch *b, uint16_t type, const struct elemvecs *vs);

/*
 * Delete the elements of VS (reordered), each whether or not the kernel
 * still has it: DESTROY where the kernel can delete what may be gone.
 */
int elemvec_remove(struct nlbatch *b, bool destroy, struct elemvecs *vs);

/* Empty every vector, keeping its room. */
void elemvec_clear(struct elemvecs *vs);

/* Free VS; it is empty and usable after. */
void elemvec_free(struct elemvecs *vs);
