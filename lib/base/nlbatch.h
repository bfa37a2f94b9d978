/*
 * A growable nfnetlink batch: BATCH_BEGIN, messages, BATCH_END in one
 * buffer, with every message's sequence number and a short description
 * recorded so that each ack (or error) can be mapped back to what it was.
 */
#pragma once

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#define NLBATCH_MSG_MAX (65536 + 4096)

struct nlbatch_op {
	uint32_t seq;
	uint16_t type;		/* the nf_tables message type: what a caller may act on */
	char what[40];		/* for people: logs and replies */
};

struct nlbatch {
	char *buf;
	size_t len;
	size_t cap;
	uint32_t seq;
	struct nlbatch_op *ops;
	size_t n_ops;
	size_t cap_ops;
	int oom;
};

void nlbatch_init(struct nlbatch *b, uint32_t seq);
void nlbatch_free(struct nlbatch *b);
/* Start a new batch (writes BATCH_BEGIN); drops anything not sent. */
void nlbatch_reset(struct nlbatch *b);
/* Space for one message of at most NLBATCH_MSG_MAX bytes, or NULL. */
char *nlbatch_reserve(struct nlbatch *b);
/* Account the message just built in the reserved space. */
void nlbatch_commit(struct nlbatch *b, struct nlmsghdr *nlh, const char *what);
uint32_t nlbatch_next_seq(struct nlbatch *b);
/* Append BATCH_END; returns the number of messages that expect an ack. */
size_t nlbatch_finish(struct nlbatch *b);
const char *nlbatch_describe(const struct nlbatch *b, uint32_t seq);
/* The request of sequence number SEQ, or NULL. */
const struct nlbatch_op *nlbatch_op(const struct nlbatch *b, uint32_t seq);
