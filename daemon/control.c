/*
 * The control socket server: non-blocking clients, one request each, a
 * size limit and an idle timeout, a cap on concurrent clients, and
 * SO_PEERCRED to keep changes for root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>

#include "autofw.h"
#include "ctlproto.h"
#include "fwcheck.h"
#include "daemon.h"
#include "event.h"
#include "log.h"
#include "report.h"

#define CLIENTS_MAX 64
#define CLIENT_IDLE_MS 5000
/*
 * What replies to clients other than root may hold in all, waiting for
 * their readers (who get CLIENT_IDLE_MS to read): a request that would go
 * beyond is answered "busy" before its reply is built, so neither memory
 * nor the loop's time goes to clients that do not read.
 */
#define UNPRIVILEGED_OUT_MAX (8u << 20)
#define MONITORS_MAX 16
/*
 * What may wait for a monitor beyond its socket buffer before it is
 * dropped, and from what size on it is written at once rather than at the
 * end of the loop turn (a turn can bring a few hundred events).
 */
#define MONITOR_BACKLOG_MAX (256 * 1024)
#define MONITOR_WRITE_AT (32 * 1024)

struct command {
	const char *name;
	bool needs_root;
	int (*fn)(struct daemon *d, const struct ctl_request *req, struct dynbuf *out);
};

/* A word from a request, for a reply: escaped (no control bytes to the terminal), bounded. */
#define WORD_MAX 256
static const char *shown(const char *word, char buf[static WORD_MAX])
{
	struct dynbuf e = { 0 };
	size_t len = strlen(word);

	dynbuf_append_escaped(&e, word, len > WORD_MAX / 4 ? WORD_MAX / 4 : len);
	snprintf(buf, WORD_MAX, "%s%s", e.data ? e.data : "", len > WORD_MAX / 4 ? "..." : "");
	dynbuf_free(&e);
	return buf;
}

static int cmd_list(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	if (req->argc) {
		dynbuf_printf(out, "usage: list\n");
		return CTLPROTO_USAGE;
	}
	report_list(&d->eng, now_ms(), req->flags & CTLPROTO_JSON, out);
	return CTLPROTO_OK;
}

static int cmd_rules(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	if (req->argc) {
		dynbuf_printf(out, "usage: rules\n");
		return CTLPROTO_USAGE;
	}
	report_rules(&d->eng, now_ms(), req->flags & CTLPROTO_JSON, out);
	return CTLPROTO_OK;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (c && nftnl_chain_nlmsg_parse(nlh, c) == 0)
		fwcheck_add_nftnl_chain(data, c);
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0)
		fwcheck_add_nftnl_rule(data, r);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s && nftnl_set_nlmsg_parse(nlh, s) == 0)
		fwcheck_add_nftnl_set(data, s);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s && nftnl_set_elems_nlmsg_parse(nlh, s) == 0)
		fwcheck_add_nftnl_elems(data, s);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/*
 * What the administrator's ruleset would drop: its chains, rules, and the
 * sets those rules look up, read from the kernel and checked in lib/.
 * Returns the number of warnings in *RET (to free()).
 */
static int firewall_warnings(struct daemon *d, struct fwcheck_env *env, struct iflist *wan,
			     struct fwcheck_warning **ret)
{
	const struct config *cfg = d->eng.cfg;
	struct fwcheck fc = { 0 };
	int n = 0;

	*ret = NULL;
	if (!cfg || engine_all_wan(&d->eng, wan) < 0)
		return 0;
	*env = (struct fwcheck_env){
		.mark = cfg->pinhole_mark,
		.mark_mask = cfg->pinhole_mask,
		.guard = cfg->pinhole_guard,
		.wan = wan,
		.lan = cfg->has_lan ? &cfg->lan : NULL,
		.rules = (const struct rule *const *)cfg->rules,
		.n_rules = cfg->n_rules,
		.own_table = NFTOBJ_TABLE,
	};
	if (nft_dump(NFT_MSG_GETCHAIN, chain_cb, &fc) == 0 && fc.n_chains &&
	    nft_dump(NFT_MSG_GETRULE, rule_cb, &fc) == 0 &&
	    (!fc.n_sets || nft_dump(NFT_MSG_GETSET, set_cb, &fc) == 0)) {
		bool *wanted = calloc(fc.n_sets + 1, sizeof(*wanted));
		bool *tried = calloc(fc.n_sets + 1, sizeof(*tried));
		bool more = wanted && tried;

		/* a verdict map's elements may lead to further chains and sets */
		while (more && fwcheck_sets_wanted(&fc, NFTOBJ_TABLE, wanted) == 0) {
			more = false;
			for (size_t i = 0; i < fc.n_sets; i++) {
				if (!wanted[i] || tried[i])
					continue;
				tried[i] = more = true;
				if (nft_dump_set_elems(fc.sets[i].family, fc.sets[i].table,
						       fc.sets[i].name, elems_cb, &fc) == 0)
					fc.sets[i].has_elems = true;
			}
		}
		free(wanted);
		free(tried);
		n = fwcheck_run(&fc, env, ret);
	}
	fwcheck_free(&fc);
	return n < 0 ? 0 : n;
}

static void json_names(struct json *j, const char *key, const struct iflist *l)
{
	json_array(j, key);
	for (size_t i = 0; i < l->n; i++)
		json_str(j, NULL, l->names[i]);
	json_end(j);
}

static void text_names(struct dynbuf *out, const struct iflist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		dynbuf_printf(out, "%s", i ? "," : "");
		dynbuf_append_escaped(out, l->names[i], strlen(l->names[i]));
	}
	if (!l->n)
		dynbuf_printf(out, "none");
}

static int cmd_status(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	struct dynbuf nowan = { 0 }, own = { 0 };
	struct fwcheck_warning *warnings;
	struct fwcheck_env env;
	struct iflist wan = { 0 }, lan = { 0 }, fwan = { 0 };
	char line[512];
	int n_warnings;
	const struct fwtable_stats *fs = &d->eng.fwt.stats;
	const struct engine_stats *es = &d->eng.stats;
	uint32_t lat[LATENCY_RING];
	uint32_t p50 = 0, p99 = 0;
	char up[32];

	if (req->argc) {
		dynbuf_printf(out, "usage: status\n");
		return CTLPROTO_USAGE;
	}
	memcpy(lat, d->lat_us, d->lat_n * sizeof(*lat));
	qsort(lat, d->lat_n, sizeof(*lat), cmp_u32);
	if (d->lat_n) {
		p50 = lat[(d->lat_n - 1) / 2];
		p99 = lat[(d->lat_n - 1) * 99 / 100];
	}
	duration_format((now_ms() - d->started_ms) / 1000, up, sizeof(up));
	if (daemon_interfaces(d, &wan, &lan) == 0 && !wan.n)
		daemon_no_wan_warning(d, &nowan);
	n_warnings = firewall_warnings(d, &env, &fwan, &warnings);
	rails_warnings(d, &own);
	iflist_clear(&fwan);
	if (req->flags & CTLPROTO_JSON) {
		struct json j;

		json_init(&j, out);
		json_object(&j, NULL);
		json_array(&j, "warnings");
		if (nowan.len)
			json_str(&j, NULL, nowan.data);
		for (int i = 0; i < n_warnings; i++) {
			fwcheck_warning_format(&warnings[i], &env, line, sizeof(line));
			json_str(&j, NULL, line);
		}
		for (char *l = own.data, *nl; l && (nl = strchr(l, '\n')); l = nl + 1) {
			*nl = '\0';
			json_str(&j, NULL, l);
		}
		dynbuf_free(&own);
		json_end(&j);
		dynbuf_free(&nowan);
		free(warnings);
		json_names(&j, "wan", &wan);
		json_names(&j, "lan", &lan);
		iflist_clear(&wan);
		iflist_clear(&lan);
		json_str(&j, "version", VERSION);
		json_u64(&j, "uptime", (now_ms() - d->started_ms) / 1000);
		json_u64(&j, "rules", d->eng.cfg ? d->eng.cfg->n_rules : 0);
		json_u64(&j, "forwardings", d->eng.fwt.n);
		json_u64(&j, "triggers_seen", es->triggers_seen);
		json_u64(&j, "triggers_unmatched", es->triggers_unmatched);
		json_u64(&j, "opened", fs->opened);
		json_u64(&j, "refreshed", fs->refreshed);
		json_u64(&j, "taken_over", fs->taken_over);
		json_u64(&j, "refused", fs->refused);
		json_u64(&j, "expired", fs->expired);
		json_u64(&j, "netlink_errors", d->cnt.netlink_errors);
		json_u64(&j, "nflog_lost", d->cnt.nflog_lost);
		json_u64(&j, "nflog_enobufs", d->cnt.nflog_enobufs);
		json_u64(&j, "nflog_malformed", d->cnt.nflog_bad);
		json_u64(&j, "reloads", d->cnt.reloads);
		json_u64(&j, "reload_failures", d->cnt.reload_failures);
		json_u64(&j, "table_rebuilds", d->cnt.table_rebuilds);
		json_u64(&j, "conntrack_deleted", d->ct ? ct_worker_deleted(d->ct) : 0);
		json_u64(&j, "monitors", d->n_monitors);
		rails_status(d, &j, out);
		json_u64(&j, "latency_samples", d->lat_n);
		json_u64(&j, "latency_p50_us", p50);
		json_u64(&j, "latency_p99_us", p99);
		json_end(&j);
		return CTLPROTO_OK;
	}
	dynbuf_printf(out, "ipautofwd %s, up %s\n", VERSION, up);
	if (d->eng.cfg && d->eng.cfg->n_rules)
		dynbuf_printf(out, "rules:       %zu\n", d->eng.cfg->n_rules);
	else
		dynbuf_printf(out, "rules:       none, idle (put rule files in %s and reload)\n",
			      d->n_confdirs ? d->confdirs[0] : "/etc/ipautofw.d");
	dynbuf_printf(out, "active:      %zu (rule x host%s)\n", d->eng.fwt.n, "");
	dynbuf_printf(out, "interfaces:  WAN ");
	text_names(out, &wan);
	dynbuf_printf(out, "; LAN ");
	text_names(out, &lan);
	dynbuf_printf(out, "\n");
	iflist_clear(&wan);
	iflist_clear(&lan);
	dynbuf_printf(out, "triggers:    %llu seen, %llu matched no rule\n",
		      (unsigned long long)es->triggers_seen, (unsigned long long)es->triggers_unmatched);
	dynbuf_printf(out, "forwardings: %llu opened, %llu refreshed, %llu taken over, "
		      "%llu refused (exclusive), %llu expired\n",
		      (unsigned long long)fs->opened, (unsigned long long)fs->refreshed,
		      (unsigned long long)fs->taken_over, (unsigned long long)fs->refused,
		      (unsigned long long)fs->expired);
	dynbuf_printf(out, "errors:      %llu netlink, %llu NFLOG lost (%llu ENOBUFS), %llu malformed\n",
		      (unsigned long long)d->cnt.netlink_errors, (unsigned long long)d->cnt.nflog_lost,
		      (unsigned long long)d->cnt.nflog_enobufs, (unsigned long long)d->cnt.nflog_bad);
	dynbuf_printf(out, "reloads:     %llu (%llu refused), table re-created %llu times\n",
		      (unsigned long long)d->cnt.reloads, (unsigned long long)d->cnt.reload_failures,
		      (unsigned long long)d->cnt.table_rebuilds);
	dynbuf_printf(out, "conntrack:   %llu stale entries deleted\n",
		      (unsigned long long)(d->ct ? ct_worker_deleted(d->ct) : 0));
	rails_status(d, NULL, out);
	if (d->lat_n)
		dynbuf_printf(out, "latency:     trigger received to forwarding in the kernel: "
			      "p50 %uus, p99 %uus (last %zu)\n", p50, p99, d->lat_n);
	else
		dynbuf_printf(out, "latency:     no triggers yet\n");
	if (nowan.len)
		dynbuf_printf(out, "warning: %s\n", nowan.data);
	dynbuf_free(&nowan);
	for (int i = 0; i < n_warnings; i++) {
		fwcheck_warning_format(&warnings[i], &env, line, sizeof(line));
		dynbuf_printf(out, "warning: %s\n", line);
	}
	free(warnings);
	for (char *l = own.data, *nl; l && (nl = strchr(l, '\n')); l = nl + 1)
		dynbuf_printf(out, "warning: %.*s\n", (int)(nl - l), l);
	dynbuf_free(&own);
	return CTLPROTO_OK;
}

static int cmd_reload(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	if (req->argc) {
		dynbuf_printf(out, "usage: reload\n");
		return CTLPROTO_USAGE;
	}
	if (daemon_reload(d, out) < 0)
		return CTLPROTO_FAILED;
	dynbuf_printf(out, "reloaded: %zu rules\n", d->eng.cfg->n_rules);
	return CTLPROTO_OK;
}

/* The end of every rule change: R from the rulebook, C the configuration it gave. */
static int apply(struct daemon *d, int r, struct config *c, const char *why, struct dynbuf *out)
{
	if (r == -ENOMEM)
		dynbuf_printf(out, "out of memory\n");
	if (r < 0 || daemon_apply(d, c, why, out) < 0)
		return CTLPROTO_FAILED;
	return CTLPROTO_OK;
}

static int cmd_add(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	struct config *c = NULL;
	int r;

	if (!req->argc) {
		dynbuf_printf(out, "usage: add NAME trigger PORTS forward PORTS [OPTIONS]\n");
		return CTLPROTO_USAGE;
	}
	r = rulebook_add(&d->book, "add", req->argc, req->argv, &c, out);
	if (r == -EBADMSG)
		return CTLPROTO_USAGE;
	if (apply(d, r, c, "add", out) != CTLPROTO_OK)
		return CTLPROTO_FAILED;
	dynbuf_printf(out, "added rule '%s'\n", req->argv[0]);
	return CTLPROTO_OK;
}

static int not_runtime(struct daemon *d, const char *name, struct dynbuf *out)
{
	const struct rule *r = d->eng.cfg ? config_find_rule(d->eng.cfg, name) : NULL;
	char w[WORD_MAX];

	if (r && r->loc.file) {
		dynbuf_printf(out, "rule '%s' comes from ", name);
		dynbuf_append_escaped(out, r->loc.file, strlen(r->loc.file));
		dynbuf_printf(out, ":%u; remove it there and reload\n", r->loc.line);
	} else {
		dynbuf_printf(out, "no rule '%s'\n", shown(name, w));
	}
	return CTLPROTO_FAILED;
}

static int cmd_del(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	struct config *c = NULL;
	int r;

	if (req->argc != 1) {
		dynbuf_printf(out, "usage: del NAME\n");
		return CTLPROTO_USAGE;
	}
	r = rulebook_del(&d->book, req->argv[0], &c, out);
	if (r == -ENOENT)
		return not_runtime(d, req->argv[0], out);
	if (apply(d, r, c, "del", out) != CTLPROTO_OK)
		return CTLPROTO_FAILED;
	dynbuf_printf(out, "deleted rule '%s'\n", req->argv[0]);
	return CTLPROTO_OK;
}

static int cmd_flush(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	union inaddr addr;
	char w[WORD_MAX];
	const char *rule = NULL;
	int af = 0, r;
	size_t n;

	if (req->argc > 1) {
		dynbuf_printf(out, "usage: flush [NAME|HOST]\n");
		return CTLPROTO_USAGE;
	}
	if (req->argc) {
		if (inet_pton(AF_INET, req->argv[0], &addr.v4) == 1)
			af = AF_INET;
		else if (inet_pton(AF_INET6, req->argv[0], &addr.v6) == 1)
			af = AF_INET6;
		else if (d->eng.cfg && config_find_rule(d->eng.cfg, req->argv[0]))
			rule = req->argv[0];
		else {
			dynbuf_printf(out, "'%s' is neither a rule nor a host address\n",
				      shown(req->argv[0], w));
			return CTLPROTO_FAILED;
		}
	}
	r = daemon_close(d, rule, af, &addr, &n);
	if (r < 0) {
		dynbuf_printf(out, "writing to nftables failed: %s\n", strerror(-r));
		return CTLPROTO_FAILED;
	}
	dynbuf_printf(out, "%zu forwarding%s closed\n", n, n == 1 ? "" : "s");
	return CTLPROTO_OK;
}

/* 1996 -A/-D -r ... -c ...: a runtime rule per range, control ports added to it */
static int cmd_autofw(struct daemon *d, const struct ctl_request *req, struct dynbuf *out, bool add)
{
	struct rule *r;
	struct config *c = NULL;
	int ret;

	if (req->argc != 3) {
		dynbuf_printf(out, "usage: %s NAME RANGE TRIGGER\n", req->cmd);
		return CTLPROTO_USAGE;
	}
	ret = autofw_edit(rulebook_runtime(&d->book, req->argv[0]), req->argv[0], req->argv[1],
			  req->argv[2], add, &r, out);
	if (ret == AUTOFW_EDIT_NONE)
		return CTLPROTO_OK;
	if (ret == AUTOFW_EDIT_SET) {
		ret = rulebook_set(&d->book, r, &c, out);
		rule_free(r);
	} else if (ret == AUTOFW_EDIT_DEL) {
		ret = rulebook_del(&d->book, req->argv[0], &c, out);
	}
	if (apply(d, ret, c, add ? "ipautofw -A" : "ipautofw -D", out) != CTLPROTO_OK)
		return CTLPROTO_FAILED;
	dynbuf_printf(out, "%s %s: forward %s, control port %s\n", add ? "added" : "deleted",
		      req->argv[0], req->argv[1], req->argv[2]);
	return CTLPROTO_OK;
}

static int cmd_autofw_add(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	return cmd_autofw(d, req, out, true);
}

static int cmd_autofw_del(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	return cmd_autofw(d, req, out, false);
}

static int cmd_flush_runtime(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	size_t n = d->book.n_runtime;
	struct config *c = NULL;
	int r;

	if (req->argc) {
		dynbuf_printf(out, "usage: flush-runtime\n");
		return CTLPROTO_USAGE;
	}
	r = rulebook_clear(&d->book, &c, out);
	if (apply(d, r, c, "ipautofw -F", out) != CTLPROTO_OK)
		return CTLPROTO_FAILED;
	dynbuf_printf(out, "%zu runtime rule%s removed\n", n, n == 1 ? "" : "s");
	return CTLPROTO_OK;
}

static int cmd_switch(struct daemon *d, const struct ctl_request *req, struct dynbuf *out, bool on)
{
	const char *what = on ? "enable" : "disable";
	size_t before = d->eng.fwt.n;
	struct config *c = NULL;
	char w[WORD_MAX];
	int r;

	if (req->argc != 1) {
		dynbuf_printf(out, "usage: %s NAME\n", what);
		return CTLPROTO_USAGE;
	}
	r = rulebook_switch(&d->book, req->argv[0], on, &c, out);
	if (r == -ENOENT) {
		dynbuf_printf(out, "no rule '%s'\n", shown(req->argv[0], w));
		return CTLPROTO_FAILED;
	}
	if (r == 1) {
		dynbuf_printf(out, "rule '%s' is already %sd\n", req->argv[0], what);
		return CTLPROTO_OK;
	}
	if (apply(d, r, c, what, out) != CTLPROTO_OK)
		return CTLPROTO_FAILED;
	if (on) {
		log_info("rule '%s' enabled at run time", req->argv[0]);
		dynbuf_printf(out, "rule '%s' enabled\n", req->argv[0]);
	} else {
		size_t n = before > d->eng.fwt.n ? before - d->eng.fwt.n : 0;

		log_info("rule '%s' disabled at run time: %zu forwarding%s closed", req->argv[0], n,
			 n == 1 ? "" : "s");
		dynbuf_printf(out, "rule '%s' disabled: %zu forwarding%s closed\n", req->argv[0], n,
			      n == 1 ? "" : "s");
	}
	return CTLPROTO_OK;
}

static int cmd_enable(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	return cmd_switch(d, req, out, true);
}

static int cmd_disable(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	return cmd_switch(d, req, out, false);
}

static int cmd_learn(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	char w[WORD_MAX];
	int r;

	if (req->argc > 1) {
		dynbuf_printf(out, "usage: learn [RULE]\n");
		return CTLPROTO_USAGE;
	}
	r = learn_report(&d->learn, d->eng.cfg, req->argc ? req->argv[0] : NULL, now_ms(),
			 req->flags & CTLPROTO_JSON, out);
	if (r == -ENOENT) {
		dynbuf_printf(out, "no rule '%s'\n", shown(req->argv[0], w));
		return CTLPROTO_FAILED;
	}
	return r < 0 ? CTLPROTO_FAILED : CTLPROTO_OK;
}

static int cmd_learn_clear(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	char w[WORD_MAX];
	size_t n;

	if (req->argc > 1) {
		dynbuf_printf(out, "usage: learn --clear [RULE]\n");
		return CTLPROTO_USAGE;
	}
	if (req->argc && !config_find_rule(d->eng.cfg, req->argv[0])) {
		dynbuf_printf(out, "no rule '%s'\n", shown(req->argv[0], w));
		return CTLPROTO_FAILED;
	}
	n = learn_clear(&d->learn, req->argc ? req->argv[0] : NULL);
	dynbuf_printf(out, "%zu record%s cleared\n", n, n == 1 ? "" : "s");
	return CTLPROTO_OK;
}

static int cmd_monitor(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	if (req->argc) {
		dynbuf_printf(out, "usage: monitor\n");
		return CTLPROTO_USAGE;
	}
	if (d->n_monitors >= MONITORS_MAX) {
		dynbuf_printf(out, "too many monitors (%d)\n", MONITORS_MAX);
		return CTLPROTO_FAILED;
	}
	return CONTROL_MONITOR;
}

static int cmd_reexec(struct daemon *d, const struct ctl_request *req, struct dynbuf *out)
{
	if (req->argc) {
		dynbuf_printf(out, "usage: reexec\n");
		return CTLPROTO_USAGE;
	}
	if (d->reexec_client) {
		dynbuf_printf(out, "a reexec is already under way\n");
		return CTLPROTO_FAILED;
	}
	return CONTROL_REPLY_LATER;
}

static const struct command commands[] = {
	{ "list", false, cmd_list },
	{ "rules", false, cmd_rules },
	{ "status", false, cmd_status },
	{ "monitor", false, cmd_monitor },
	{ "learn", false, cmd_learn },
	{ "learn-clear", true, cmd_learn_clear },
	{ "reload", true, cmd_reload },
	{ "add", true, cmd_add },
	{ "del", true, cmd_del },
	{ "flush", true, cmd_flush },
	{ "autofw-add", true, cmd_autofw_add },
	{ "autofw-del", true, cmd_autofw_del },
	{ "flush-runtime", true, cmd_flush_runtime },
	{ "enable", true, cmd_enable },
	{ "disable", true, cmd_disable },
	{ "reexec", true, cmd_reexec },
};

static void client_free(struct daemon *d, struct client *c)
{
	heap_remove(&d->client_timers, &c->timer);
	if (c->w.fd >= 0) {
		epoll_ctl(d->ep, EPOLL_CTL_DEL, c->w.fd, NULL);
		close(c->w.fd);
	}
	d->unprivileged_out -= c->charged;
	free(c->in);
	dynbuf_free(&c->out);
	free(c);
}

static void client_kill(struct daemon *d, struct client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	d->n_dead++;
	if (c->monitor)
		d->n_monitors--;
	heap_remove(&d->client_timers, &c->timer);
	epoll_ctl(d->ep, EPOLL_CTL_DEL, c->w.fd, NULL);
}

/* A monitor is watched for its going away (and, while output waits, for room). */
static void monitor_watch(struct daemon *d, struct client *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0),
				  .data.ptr = &c->w };

	epoll_ctl(d->ep, EPOLL_CTL_MOD, c->w.fd, &ev);
}

static void client_write(struct daemon *d, struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = write(c->w.fd, c->out.data + c->out_off, c->out.len - c->out_off);

		if (n < 0) {
			if (errno == EAGAIN) {
				struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &c->w };

				if (c->monitor)
					monitor_watch(d, c, true);
				else
					epoll_ctl(d->ep, EPOLL_CTL_MOD, c->w.fd, &ev);
				return;
			}
			break;
		}
		c->out_off += n;
	}
	if (c->monitor && c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
		monitor_watch(d, c, false);
		return;
	}
	client_kill(d, c);
}

void control_monitor_send(struct daemon *d, const struct event *ev)
{
	struct dynbuf line[2] = { { 0 } };

	for (struct client *c = d->clients; c; c = c->next) {
		struct dynbuf *l = &line[c->json];

		if (!c->monitor || c->dead)
			continue;
		if (!l->len)
			event_format(ev, c->json, l);
		if (l->oom)
			continue;
		if (c->out.len - c->out_off >= MONITOR_WRITE_AT) {
			client_write(d, c);
			if (c->dead)
				continue;
		}
		/* the daemon never waits for a monitor: one that stopped reading goes */
		if (c->out.len - c->out_off + l->len > MONITOR_BACKLOG_MAX) {
			log_info("monitor (pid %d) dropped: it stopped reading", c->cred.pid);
			client_kill(d, c);
			continue;
		}
		if (c->out_off > MONITOR_BACKLOG_MAX) {
			memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
			c->out.len -= c->out_off;
			c->out_off = 0;
		}
		dynbuf_append(&c->out, l->data, l->len);
	}
	dynbuf_free(&line[0]);
	dynbuf_free(&line[1]);
}

static void reply(struct daemon *d, struct client *c, int status, const char *text, size_t len)
{
	if (ctlproto_encode_reply(&c->out, status, text, len) < 0) {
		dynbuf_free(&c->out);
		ctlproto_encode_reply(&c->out, CTLPROTO_FAILED, "reply too large\n", 16);
	}
	client_write(d, c);
}

/* The last reply size of each command: what the next one is likely to need. */
static size_t last_len[ARRAY_SIZE(commands)];

static bool over_budget(const struct daemon *d, const struct client *c, size_t len)
{
	return c->cred.uid != 0 && d->unprivileged_out + len > UNPRIVILEGED_OUT_MAX;
}

static void busy(struct daemon *d, struct dynbuf *out)
{
	dynbuf_free(out);
	dynbuf_printf(out, "busy: %zu KiB of replies wait for their readers; try again\n",
		      d->unprivileged_out / 1024);
}

static void handle(struct daemon *d, struct client *c, const struct ctl_request *req)
{
	struct dynbuf out = { 0 };
	int status = CTLPROTO_USAGE;
	char w[WORD_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, req->cmd))
			break;
	if (i == ARRAY_SIZE(commands)) {
		dynbuf_printf(&out, "unknown command '%s'\n", shown(req->cmd, w));
	} else if (commands[i].needs_root && c->cred.uid != 0) {
		dynbuf_printf(&out, "permission denied: %s needs root\n", req->cmd);
		status = CTLPROTO_FAILED;
	} else if (over_budget(d, c, last_len[i])) {
		busy(d, &out);
		status = CTLPROTO_FAILED;
	} else {
		status = commands[i].fn(d, req, &out);
		last_len[i] = out.len;
		if (over_budget(d, c, out.len)) {
			busy(d, &out);
			status = CTLPROTO_FAILED;
		}
	}
	if (status == CONTROL_MONITOR) {
		/* no idle timeout: it reads until interrupted; written at the end of each turn */
		heap_remove(&d->client_timers, &c->timer);
		c->monitor = true;
		c->json = req->flags & CTLPROTO_JSON;
		d->n_monitors++;
		dynbuf_free(&out);
		reply(d, c, CTLPROTO_OK, "", 0);
		return;
	}
	if (status == CONTROL_REPLY_LATER) {
		/* the loop re-executes at the end of this turn */
		heap_remove(&d->client_timers, &c->timer);
		d->reexec_client = c;
		dynbuf_free(&out);
		return;
	}
	if (out.oom) {
		dynbuf_free(&out);
		dynbuf_printf(&out, "out of memory\n");
		status = CTLPROTO_FAILED;
	}
	reply(d, c, status, out.data ? out.data : "", out.len);
	dynbuf_free(&out);
	if (c->cred.uid != 0 && !c->dead) {
		c->charged = c->out.len - c->out_off;
		d->unprivileged_out += c->charged;
	}
}

void control_reply(struct daemon *d, struct client *c, int status, const char *text)
{
	reply(d, c, status, text, strlen(text));
}

static void client_cb(struct daemon *d, struct watch *w, uint32_t events)
{
	struct client *c = (struct client *)w;
	struct ctl_request req;
	const char *err;
	ssize_t n;
	int r;

	if (c->dead)
		return;
	if (c->monitor) {
		char scratch[256];

		/* it has nothing more to say: anything read is dropped, its end means it went */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			n = read(c->w.fd, scratch, sizeof(scratch));
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				client_kill(d, c);
				return;
			}
		}
		if (events & EPOLLOUT)
			client_write(d, c);
		return;
	}
	if (events & EPOLLOUT) {
		client_write(d, c);
		return;
	}
	n = read(c->w.fd, c->in + c->in_len, CTLPROTO_REQUEST_MAX + 4 - c->in_len);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		client_kill(d, c);
		return;
	}
	c->in_len += n;
	r = ctlproto_decode_request(c->in, c->in_len, &req, &err);
	if (r == 0 && c->in_len == CTLPROTO_REQUEST_MAX + 4)
		r = -E2BIG, err = "request too large";
	if (r == 0)
		return;
	/* one request per connection: stop reading */
	struct epoll_event ev = { .events = 0, .data.ptr = &c->w };

	epoll_ctl(d->ep, EPOLL_CTL_MOD, c->w.fd, &ev);
	if (r < 0) {
		char msg[160];
		int len = snprintf(msg, sizeof(msg), "%s\n", err);

		log_debug("control client pid %d: %s", c->cred.pid, err);
		reply(d, c, CTLPROTO_USAGE, msg, len);
		return;
	}
	handle(d, c, &req);
}

/*
 * All slots taken: the client other than root that has waited longest
 * makes room; only for root may a root client be closed. Returns false
 * when the newcomer (not root) must go instead.
 */
static bool make_room(struct daemon *d, bool for_root)
{
	struct client *oldest = NULL, *oldest_user = NULL, *victim;

	for (struct client *c = d->clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (!oldest || c->timer.deadline < oldest->timer.deadline)
			oldest = c;
		if (c->cred.uid != 0 && (!oldest_user || c->timer.deadline < oldest_user->timer.deadline))
			oldest_user = c;
	}
	victim = oldest_user ? oldest_user : for_root ? oldest : NULL;
	if (!victim)
		return false;
	client_kill(d, victim);
	return true;
}

static void accept_cb(struct daemon *d, struct watch *w, uint32_t events)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		socklen_t len = sizeof(struct ucred);
		struct client *c;

		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && d->spare_fd >= 0) {
			/* out of descriptors: use the spare to take the client off the queue */
			log_warn("control socket: out of file descriptors, refusing a client");
			close(d->spare_fd);
			fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				close(fd);
			d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			continue;
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("control socket: accept: %m");
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(CTLPROTO_REQUEST_MAX + 4);
		if (!c || !c->in || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
			if (c)
				free(c->in);
			free(c);
			close(fd);
			continue;
		}
		if (d->n_clients - d->n_dead >= CLIENTS_MAX && !make_room(d, c->cred.uid == 0)) {
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->w.fd = fd;
		c->w.cb = client_cb;
		heap_node_init(&c->timer);
		if (daemon_watch(d, &c->w, EPOLLIN) < 0 ||
		    heap_push(&d->client_timers, &c->timer, now_ms() + CLIENT_IDLE_MS) < 0) {
			c->w.fd = -1;
			close(fd);
			client_free(d, c);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
		d->n_clients++;
	}
}

uint64_t control_tick(struct daemon *d, uint64_t now)
{
	struct heap_node *n;
	struct client **pp;

	while ((n = heap_peek(&d->client_timers)) && n->deadline <= now) {
		struct client *c = (struct client *)((char *)n - offsetof(struct client, timer));

		log_debug("control client pid %d idle too long", c->cred.pid);
		client_kill(d, c);
	}
	for (pp = &d->clients; *pp;) {
		struct client *c = *pp;

		if (c->monitor && !c->dead && c->out_off < c->out.len)
			client_write(d, c);
		if (c->dead) {
			*pp = c->next;
			d->n_clients--;
			d->n_dead--;
			client_free(d, c);
		} else {
			pp = &c->next;
		}
	}
	n = heap_peek(&d->client_timers);
	return n ? n->deadline : UINT64_MAX;
}

/*
 * The socket's directory must be writable by no one but us (or root): then
 * nobody can swap the socket for a symlink between bind and chown, and
 * nothing is done through a path that could lead elsewhere anyway.
 */
static int open_socket_dir(const char *dir)
{
	struct stat st;
	int dfd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		int err = -errno;

		if (dfd >= 0)
			close(dfd);
		return err;
	}
	if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(dfd);
		log_err("control socket directory %s is writable by others (owner uid %u, mode %04o): "
			"it must belong to uid %u or root and be writable by its owner only", dir,
			(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
		return -EPERM;
	}
	return dfd;
}

/* Remove a socket left by a daemon that is gone; never one that still answers. */
static int remove_stale(int dfd, const char *base, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, err;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("control socket %s exists and is not a socket; not touching it", sa->sun_path);
		return -EEXIST;
	}
	/* non-blocking: a live daemon with a full backlog says EAGAIN, not nothing */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? errno : 0;
	close(fd);
	if (err == ECONNREFUSED) {
		log_debug("control socket %s: removing the socket of a daemon that is gone", sa->sun_path);
		return unlinkat(dfd, base, 0) < 0 && errno != ENOENT ? -errno : 0;
	}
	if (!err || err == EAGAIN)
		log_err("control socket %s: another ipautofwd is listening on it; give this one "
			"another -s PATH", sa->sun_path);
	else
		log_err("control socket %s exists and cannot be checked (%s); not removing it",
			sa->sun_path, strerror(err));
	return -EADDRINUSE;
}

int control_listen(struct daemon *d, int fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	const char *base = d->sockpath;
	struct group *gr;
	struct stat st;
	mode_t old_umask;
	int dfd, r;

	if (strlen(d->sockpath) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, d->sockpath);
	strcpy(dir, d->sockpath);
	slash = strrchr(dir, '/');
	if (slash) {
		base = d->sockpath + (slash - dir) + 1;
		slash[slash == dir ? 1 : 0] = '\0';
	} else {
		strcpy(dir, ".");
	}
	dfd = open_socket_dir(dir);
	if (dfd < 0)
		return dfd;
	if (fd >= 0) {
		/* handed over by a re-exec: bound, listening, clients queued */
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			d->sock_ino = st.st_ino;
			d->sock_dev = st.st_dev;
		}
		goto watch;
	}
	r = remove_stale(dfd, base, &sa);
	if (r < 0)
		goto out_dir;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out_dir;
	}
	/* the mode comes from the umask at bind, never from chmod on the path */
	old_umask = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old_umask);
	if (r < 0)
		goto out_sock;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		goto out_bound;
	}
	d->sock_ino = st.st_ino;
	d->sock_dev = st.st_dev;
	gr = getgrnam(d->sockgroup ? d->sockgroup : "ipautofw");
	if (gr && gr->gr_gid != getegid()) {
		if (fchownat(dfd, base, -1, gr->gr_gid, AT_SYMLINK_NOFOLLOW) < 0)
			log_warn("control socket: chown to group '%s': %m", gr->gr_name);
	} else if (d->sockgroup && !gr) {
		log_err("control socket: no group '%s'", d->sockgroup);
		r = -ENOENT;
		goto out_bound;
	}
watch:
	d->sock_dfd = dfd;
	d->sock_base = base;
	d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	d->ctl_w.fd = fd;
	d->ctl_w.cb = accept_cb;
	return daemon_watch(d, &d->ctl_w, EPOLLIN);
out_bound:
	unlinkat(dfd, base, 0);
out_sock:
	close(fd);
out_dir:
	close(dfd);
	return r;
}

void control_close(struct daemon *d)
{
	for (struct client *c = d->clients, *next; c; c = next) {
		next = c->next;
		client_free(d, c);
	}
	d->clients = NULL;
	heap_free(&d->client_timers);
	if (d->ctl_w.fd >= 0) {
		struct stat st;

		close(d->ctl_w.fd);
		/* only our own socket: not one put there since */
		if (fstatat(d->sock_dfd, d->sock_base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_ino == d->sock_ino && st.st_dev == d->sock_dev)
			unlinkat(d->sock_dfd, d->sock_base, 0);
		close(d->sock_dfd);
	}
	if (d->spare_fd >= 0)
		close(d->spare_fd);
}
