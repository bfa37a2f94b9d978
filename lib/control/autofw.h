/*
 * The 1996 command line (`ipautofw -A -r udp 6970 7170 -c tcp 7070`)
 * translated into control requests. Runtime rules made this way are named
 * after their forward range, so that another -A with the same -r adds a
 * control port to the same rule, as the seed's X-sessions recipe expects.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "rules/rule.h"
#include "base/util.h"

#define AUTOFW_ARGS_MAX 6

struct autofw_cmd {
	bool usage;		/* print the usage and exit 0 */
	bool verbose;
	const char *cmd;	/* control request */
	char args[AUTOFW_ARGS_MAX][128];
	int argc;
};

/* Returns 0, or -EINVAL with a message in ERR. ARGV[0] is the program name. */
int autofw_parse(int argc, char *const *argv, struct autofw_cmd *ret, char *err, size_t errlen);

extern const char autofw_usage[];

enum autofw_edit {
	AUTOFW_EDIT_NONE,	/* nothing to change (MSG says why) */
	AUTOFW_EDIT_SET,	/* set *RET as runtime rule NAME */
	AUTOFW_EDIT_DEL,	/* remove runtime rule NAME */
};

/*
 * The request `autofw-add|autofw-del NAME RANGE PORT` (-A/-D -r ... -c ...)
 * as a change of runtime rule NAME, EXISTING (NULL if there is none): -A
 * adds control port PORT to the rule that forwards RANGE, making the rule
 * if needed; -D removes PORT, and the rule with its last control port.
 * Returns an enum autofw_edit, or -EINVAL/-ENOENT/-ENOMEM with MSG saying why.
 */
int autofw_edit(const struct rule *existing, const char *name, const char *range,
		const char *port, bool add, struct rule **ret, struct dynbuf *msg);
