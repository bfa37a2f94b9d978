/*
 * nfnetlink batch buffer; see nlbatch.h.
 */
#include <errno.h>
#include <libnftnl/common.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlbatch.h"

void nlbatch_init(struct nlbatch *b, uint32_t seq)
{
	memset(b, 0, sizeof(*b));
	b->seq = seq;
}

void nlbatch_free(struct nlbatch *b)
{
	free(b->buf);
	free(b->ops);
	memset(b, 0, sizeof(*b));
}

uint32_t nlbatch_next_seq(struct nlbatch *b)
{
	return b->seq++;
}

char *nlbatch_reserve(struct nlbatch *b)
{
	if (b->len + NLBATCH_MSG_MAX > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4 * NLBATCH_MSG_MAX;
		char *p;

		while (cap < b->len + NLBATCH_MSG_MAX)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p) {
			b->oom = 1;
			return NULL;
		}
		/*
		 * Zeroed once as it grows, not per message (68 KiB a time was a
		 * tenth of the daemon's work in a burst): libnftnl leaves a few
		 * padding bytes unwritten, which then hold earlier messages' bytes.
		 */
		memset(p + b->cap, 0, cap - b->cap);
		b->buf = p;
		b->cap = cap;
	}
	memset(b->buf + b->len, 0, 64);
	return b->buf + b->len;
}

/* What a batch keeps between uses: a table of a thousand rules needs megabytes, once. */
#define NLBATCH_KEEP (1 << 20)

void nlbatch_reset(struct nlbatch *b)
{
	char *p;

	if (b->cap > NLBATCH_KEEP) {
		free(b->buf);
		free(b->ops);
		b->buf = NULL;
		b->ops = NULL;
		b->cap = b->cap_ops = 0;
	}
	b->len = 0;
	b->n_ops = 0;
	b->oom = 0;
	p = nlbatch_reserve(b);
	if (!p)
		return;
	b->len += NLMSG_ALIGN(nftnl_batch_begin(p, nlbatch_next_seq(b))->nlmsg_len);
}

void nlbatch_commit(struct nlbatch *b, struct nlmsghdr *nlh, const char *what)
{
	if (b->n_ops == b->cap_ops) {
		size_t cap = b->cap_ops ? b->cap_ops * 2 : 64;
		struct nlbatch_op *o = realloc(b->ops, cap * sizeof(*o));

		if (!o) {
			b->oom = 1;
			return;
		}
		b->ops = o;
		b->cap_ops = cap;
	}
	b->ops[b->n_ops].seq = nlh->nlmsg_seq;
	b->ops[b->n_ops].type = nlh->nlmsg_type & 0xff;
	snprintf(b->ops[b->n_ops].what, sizeof(b->ops[0].what), "%s", what);
	b->n_ops++;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

size_t nlbatch_finish(struct nlbatch *b)
{
	char *p = nlbatch_reserve(b);

	if (!p)
		return 0;
	b->len += NLMSG_ALIGN(nftnl_batch_end(p, nlbatch_next_seq(b))->nlmsg_len);
	return b->n_ops;
}

const struct nlbatch_op *nlbatch_op(const struct nlbatch *b, uint32_t seq)
{
	for (size_t i = 0; i < b->n_ops; i++)
		if (b->ops[i].seq == seq)
			return &b->ops[i];
	return NULL;
}

const char *nlbatch_describe(const struct nlbatch *b, uint32_t seq)
{
	const struct nlbatch_op *op = nlbatch_op(b, seq);

	return op ? op->what : "unknown request";
}
