/*
 * The control socket's commands: each checks its words, calls the
 * manager's API and says what happened. The table below is what
 * control.c dispatches a request to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "control.h"
#include "control/ctlproto.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "kernel/trace.h"
#include "rules/value.h"

#define MONITORS_MAX 16

const char *word_shown(const char *word, char buf[static WORD_MAX])
{
	struct dynbuf e = { 0 };
	size_t len = strlen(word);

	dynbuf_append_escaped(&e, word, len > WORD_MAX / 4 ? WORD_MAX / 4 : len);
	snprintf(buf, WORD_MAX, "%s%s", e.data ? e.data : "", len > WORD_MAX / 4 ? "..." : "");
	dynbuf_free(&e);
	return buf;
}

static int cmd_list(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	manager_list(ctl->m, req->flags & CTLPROTO_JSON, out);
	return CTLPROTO_OK;
}

static int cmd_rules(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	manager_rules(ctl->m, req->flags & CTLPROTO_JSON, out);
	return CTLPROTO_OK;
}

static int cmd_status(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	status_report(ctl->m, req->flags & CTLPROTO_JSON, out);
	return CTLPROTO_OK;
}

static int cmd_metrics(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	metrics_report(ctl->m, ctl, out);
	return CTLPROTO_OK;
}

static int cmd_reload(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	if (manager_reload(ctl->m, out) < 0)
		return CTLPROTO_FAILED;
	dynbuf_printf(out, "reloaded: %zu rules\n", manager_n_rules(ctl->m));
	return CTLPROTO_OK;
}

static int cmd_add(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	int r;

	r = manager_add_rule(ctl->m, req->argc, req->argv, out);
	if (r < 0)
		return r == -EBADMSG ? CTLPROTO_USAGE : CTLPROTO_FAILED;
	dynbuf_printf(out, "added rule '%s'\n", req->argv[0]);
	return CTLPROTO_OK;
}

static int not_runtime(struct control *ctl, const char *name, struct dynbuf *out)
{
	const struct rule *r = manager_find_rule(ctl->m, name);
	char w[WORD_MAX];

	if (r && r->loc.file) {
		dynbuf_printf(out, "rule '%s' comes from ", name);
		dynbuf_append_escaped(out, r->loc.file, strlen(r->loc.file));
		dynbuf_printf(out, ":%u; remove it there and reload\n", r->loc.line);
	} else {
		dynbuf_printf(out, "no rule '%s'\n", word_shown(name, w));
	}
	return CTLPROTO_FAILED;
}

static int cmd_del(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	int r;

	r = manager_del_rule(ctl->m, req->argv[0], "del", out);
	if (r == -ENOENT)
		return not_runtime(ctl, req->argv[0], out);
	if (r < 0)
		return CTLPROTO_FAILED;
	dynbuf_printf(out, "deleted rule '%s'\n", req->argv[0]);
	return CTLPROTO_OK;
}

static int cmd_flush(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	union inaddr addr;
	char w[WORD_MAX];
	const char *rule = NULL;
	int af = 0, r;
	size_t n;

	if (req->argc) {
		if (inet_pton(AF_INET, req->argv[0], &addr.v4) == 1)
			af = AF_INET;
		else if (inet_pton(AF_INET6, req->argv[0], &addr.v6) == 1)
			af = AF_INET6;
		else if (manager_find_rule(ctl->m, req->argv[0]))
			rule = req->argv[0];
		else {
			dynbuf_printf(out, "'%s' is neither a rule nor a host address\n",
				      word_shown(req->argv[0], w));
			return CTLPROTO_FAILED;
		}
	}
	r = manager_flush(ctl->m, rule, af, &addr, &n);
	if (r < 0) {
		dynbuf_printf(out, "writing to nftables failed: %s\n", strerror(-r));
		return CTLPROTO_FAILED;
	}
	dynbuf_printf(out, "%zu forwarding%s closed\n", n, n == 1 ? "" : "s");
	return CTLPROTO_OK;
}

/*
 * autofw-add, autofw-del: the 1996 -A/-D -r ... -c ..., a runtime rule
 * per range, control ports added to it
 */
static int cmd_autofw(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	bool add = !strcmp(req->cmd, "autofw-add");
	int r;

	r = manager_autofw(ctl->m, add, req->argv[0], req->argv[1], req->argv[2], out);
	if (r < 0)
		return CTLPROTO_FAILED;
	if (r == 0)
		dynbuf_printf(out, "%s %s: forward %s, control port %s\n", add ? "added" : "deleted",
			      req->argv[0], req->argv[1], req->argv[2]);
	return CTLPROTO_OK;
}

static int cmd_flush_runtime(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	size_t n = manager_n_runtime(ctl->m);

	if (manager_clear_rules(ctl->m, "ipautofw -F", out) < 0)
		return CTLPROTO_FAILED;
	dynbuf_printf(out, "%zu runtime rule%s removed\n", n, n == 1 ? "" : "s");
	return CTLPROTO_OK;
}

/* enable, disable */
static int cmd_switch(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	bool on = !strcmp(req->cmd, "enable");
	const char *what = on ? "enable" : "disable";
	char w[WORD_MAX];
	size_t n;
	int r;

	r = manager_switch_rule(ctl->m, req->argv[0], on, &n, out);
	if (r == -ENOENT) {
		dynbuf_printf(out, "no rule '%s'\n", word_shown(req->argv[0], w));
		return CTLPROTO_FAILED;
	}
	if (r == 1) {
		dynbuf_printf(out, "rule '%s' is already %sd\n", req->argv[0], what);
		return CTLPROTO_OK;
	}
	if (r < 0)
		return CTLPROTO_FAILED;
	if (on) {
		log_info("rule '%s' enabled at run time", req->argv[0]);
		dynbuf_printf(out, "rule '%s' enabled\n", req->argv[0]);
	} else {
		log_info("rule '%s' disabled at run time: %zu forwarding%s closed", req->argv[0], n,
			 n == 1 ? "" : "s");
		dynbuf_printf(out, "rule '%s' disabled: %zu forwarding%s closed\n", req->argv[0], n,
			      n == 1 ? "" : "s");
	}
	return CTLPROTO_OK;
}

static int cmd_learn(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	char w[WORD_MAX];
	int r;

	r = manager_learn_report(ctl->m, req->argc ? req->argv[0] : NULL, req->flags & CTLPROTO_JSON,
				 out);
	if (r == -ENOENT) {
		dynbuf_printf(out, "no rule '%s'\n", word_shown(req->argv[0], w));
		return CTLPROTO_FAILED;
	}
	return r < 0 ? CTLPROTO_FAILED : CTLPROTO_OK;
}

static int cmd_learn_clear(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	char w[WORD_MAX];
	size_t n;

	if (manager_learn_clear(ctl->m, req->argc ? req->argv[0] : NULL, &n) == -ENOENT) {
		dynbuf_printf(out, "no rule '%s'\n", word_shown(req->argv[0], w));
		return CTLPROTO_FAILED;
	}
	dynbuf_printf(out, "%zu record%s cleared\n", n, n == 1 ? "" : "s");
	return CTLPROTO_OK;
}

static int cmd_monitor(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	if (ctl->n_monitors >= MONITORS_MAX) {
		dynbuf_printf(out, "too many monitors (%d)\n", MONITORS_MAX);
		return CTLPROTO_FAILED;
	}
	return CONTROL_MONITOR;
}

/* trace HOST [--for DURATION] */
static int cmd_trace(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	char w[WORD_MAX];
	uint32_t secs = TRACE_DURATION_DEFAULT_S;

	if ((req->argc != 1 && req->argc != 3) || (req->argc == 3 && strcmp(req->argv[1], "--for"))) {
		dynbuf_printf(out, "usage: trace HOST [--for DURATION]\n");
		return CTLPROTO_USAGE;
	}
	if (inet_pton(AF_INET, req->argv[0], &ctl->trace_req.host.v4) == 1) {
		ctl->trace_req.af = AF_INET;
	} else if (inet_pton(AF_INET6, req->argv[0], &ctl->trace_req.host.v6) == 1) {
		ctl->trace_req.af = AF_INET6;
	} else {
		dynbuf_printf(out, "'%s' is not an IPv4 or IPv6 address\n", word_shown(req->argv[0], w));
		return CTLPROTO_USAGE;
	}
	if (req->argc == 3 && (value_parse_duration(req->argv[2], &secs) < 0 ||
			       secs > TRACE_DURATION_MAX_S)) {
		dynbuf_printf(out, "invalid duration '%s' (1s to %um: 30s, 2m)\n", word_shown(req->argv[2], w),
			      TRACE_DURATION_MAX_S / 60);
		return CTLPROTO_USAGE;
	}
	if (ctl->trace) {
		dynbuf_printf(out, "a trace is running already; one at a time\n");
		return CTLPROTO_FAILED;
	}
	ctl->trace_req.secs = secs;
	return CONTROL_TRACE;
}

static int cmd_reexec(struct control *ctl, const struct ctl_request *req, struct dynbuf *out)
{
	if (ctl->reexec_client) {
		dynbuf_printf(out, "a reexec is already under way\n");
		return CTLPROTO_FAILED;
	}
	return CONTROL_REPLY_LATER;
}

#define ANY CTLPROTO_ARGS_MAX

static const struct command commands[] = {
	{ "list", false, 0, 0, "list", cmd_list },
	{ "rules", false, 0, 0, "rules", cmd_rules },
	{ "status", false, 0, 0, "status", cmd_status },
	{ "metrics", false, 0, 0, "metrics", cmd_metrics },
	{ "monitor", false, 0, 0, "monitor", cmd_monitor },
	{ "learn", false, 0, 1, "learn [RULE]", cmd_learn },
	{ "learn-clear", true, 0, 1, "learn --clear [RULE]", cmd_learn_clear },
	{ "reload", true, 0, 0, "reload", cmd_reload },
	{ "add", true, 1, ANY, "add NAME trigger PORTS forward PORTS [OPTIONS]", cmd_add },
	{ "del", true, 1, 1, "del NAME", cmd_del },
	{ "flush", true, 0, 1, "flush [NAME|HOST]", cmd_flush },
	{ "autofw-add", true, 3, 3, "autofw-add NAME RANGE TRIGGER", cmd_autofw },
	{ "autofw-del", true, 3, 3, "autofw-del NAME RANGE TRIGGER", cmd_autofw },
	{ "flush-runtime", true, 0, 0, "flush-runtime", cmd_flush_runtime },
	{ "enable", true, 1, 1, "enable NAME", cmd_switch },
	{ "disable", true, 1, 1, "disable NAME", cmd_switch },
	{ "reexec", true, 0, 0, "reexec", cmd_reexec },
	{ "trace", true, 1, 3, "trace HOST [--for DURATION]", cmd_trace },
};

_Static_assert(ARRAY_SIZE(commands) == COMMANDS_N, "COMMANDS_N is the number of commands");

const struct command *command_find(const char *name, size_t *ret_idx)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name)) {
			*ret_idx = i;
			return &commands[i];
		}
	return NULL;
}

int command_call(const struct command *cmd, struct control *ctl, const struct ctl_request *req,
		 struct dynbuf *out)
{
	if (req->argc < cmd->min_args || req->argc > cmd->max_args) {
		dynbuf_printf(out, "usage: %s\n", cmd->usage);
		return CTLPROTO_USAGE;
	}
	return cmd->fn(ctl, req, out);
}
