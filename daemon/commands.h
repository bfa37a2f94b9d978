/*
 * The control socket's commands (commands.c): what control.c dispatches a
 * request to. Each returns a CTLPROTO_ status, CONTROL_MONITOR or
 * CONTROL_REPLY_LATER, with its reply text in OUT.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct control;
struct ctl_request;

struct command {
	const char *name;
	bool needs_root;
	int min_args, max_args;		/* the words after the command */
	const char *usage;		/* the reply to any other number of words */
	int (*fn)(struct control *ctl, const struct ctl_request *req, struct dynbuf *out);
};

#define COMMANDS_N 18

/* The command named NAME, or NULL; *RET_IDX is its index, below COMMANDS_N. */
const struct command *command_find(const char *name, size_t *ret_idx);
/* Run CMD for REQ: its usage instead when REQ has too few or too many words. */
int command_call(const struct command *cmd, struct control *ctl, const struct ctl_request *req,
		 struct dynbuf *out);

/* A word from a request, for a reply: escaped (no control bytes to the terminal), bounded. */
#define WORD_MAX 256
const char *word_shown(const char *word, char buf[static WORD_MAX]);
