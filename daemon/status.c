/*
 * `ipautofwctl status`: the manager's counters and latency, the interfaces
 * in use, and every warning (no WAN interface, what the administrator's
 * firewall would drop, forward ranges over the router's own ports), as
 * text or as one JSON object; and the other read-only views of the
 * manager that the control commands show.
 */
#include <netinet/in.h>	/* before the kernel headers */
#include <errno.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>

#include "kernel/fwcheck.h"
#include "base/json.h"
#include "nft/kcaps.h"
#include "manager.h"
#include "nft/nftobj.h"
#include "control/learnreport.h"
#include "control/report.h"
#include "control/view.h"

int manager_interfaces(struct manager *m, struct iflist *ret_wan, struct iflist *ret_lan)
{
	struct if_nameindex *ni = if_nameindex();
	struct iflist links = { 0 };
	int r = 0;

	if (!ni)
		return -errno;
	for (struct if_nameindex *p = ni; p->if_index && r == 0; p++)
		r = iflist_add(&links, p->if_name);
	if_freenameindex(ni);
	if (r == 0)
		r = engine_interfaces(&m->eng, &links, ret_wan, ret_lan);
	iflist_clear(&links);
	return r;
}

void manager_no_wan_warning(struct manager *m, struct dynbuf *out)
{
	report_no_wan(&m->eng, out);
}

/*
 * Our own table is not the administrator's: never read (a thousand rules
 * make it thousands of chains that nothing else can jump to).
 */
static bool own(uint32_t family, const char *table)
{
	return family == NFPROTO_INET && table && !strcmp(table, NFTOBJ_TABLE);
}

/* One firewall check: the other tables, the model, and what could not be read of them */
struct dump {
	struct { uint32_t family; char name[64]; } *tables;
	size_t n_tables;
	struct fwruleset rs;
	size_t unreadable;
};

/*
 * A callback's end: out of memory ends the dump; an object the model
 * cannot take (or libnftnl cannot parse: an expression newer than it) is
 * left out and counted.
 */
static int added(struct dump *d, int r)
{
	if (r == -ENOMEM) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (r < 0)
		d->unreadable++;
	return MNL_CB_OK;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct dump *d = data;
	int r = 0;

	if (!t)
		r = -ENOMEM;
	else if (nftnl_table_nlmsg_parse(nlh, t) < 0 || !nftnl_table_get_str(t, NFTNL_TABLE_NAME))
		r = -EBADMSG;
	else if (!own(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), nftnl_table_get_str(t, NFTNL_TABLE_NAME))) {
		void *v = realloc(d->tables, (d->n_tables + 1) * sizeof(*d->tables));

		if (v) {
			d->tables = v;
			d->tables[d->n_tables].family = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
			snprintf(d->tables[d->n_tables].name, sizeof(d->tables[0].name), "%s",
				 nftnl_table_get_str(t, NFTNL_TABLE_NAME));
			d->n_tables++;
		} else {
			r = -ENOMEM;
		}
	}
	nftnl_table_free(t);
	return added(d, r);
}

/* Every other table's objects of MSG_TYPE (rules, sets) */
static int dump_others(struct dump *d, uint16_t msg_type,
		       int (*cb)(const struct nlmsghdr *nlh, void *data))
{
	int r = 0;

	for (size_t i = 0; i < d->n_tables && r == 0; i++)
		r = nft_dump_table(msg_type, d->tables[i].family, d->tables[i].name, cb, d);
	return r;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct dump *d = data;
	int r = 0;

	/* (the kernel dumps every table's chains: it takes no table filter for them) */
	if (!c)
		r = -ENOMEM;
	else if (nftnl_chain_nlmsg_parse(nlh, c) < 0)
		r = -EBADMSG;
	else if (!own(nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY), nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)))
		r = fwdecode_chain(&d->rs, c);
	nftnl_chain_free(c);
	return added(d, r);
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct dump *d = data;
	int r = !nr ? -ENOMEM : nftnl_rule_nlmsg_parse(nlh, nr) < 0 ? -EBADMSG :
		fwdecode_rule(&d->rs, nr);

	nftnl_rule_free(nr);
	return added(d, r);
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct dump *d = data;
	int r = !s ? -ENOMEM : nftnl_set_nlmsg_parse(nlh, s) < 0 ? -EBADMSG :
		fwdecode_set(&d->rs, s);

	nftnl_set_free(s);
	return added(d, r);
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct dump *d = data;
	int r = !s ? -ENOMEM : nftnl_set_elems_nlmsg_parse(nlh, s) < 0 ? -EBADMSG :
		fwdecode_elems(&d->rs, s);

	nftnl_set_free(s);
	return added(d, r);
}

/*
 * The elements of the sets that rules on the forward path look up. A set
 * whose elements cannot be read (gone since) stays unknown: its lookups
 * may match.
 */
static int load_elems(struct dump *d)
{
	struct fwruleset *rs = &d->rs;
	bool *wanted = calloc(rs->n_sets + 1, sizeof(*wanted));
	bool *tried = calloc(rs->n_sets + 1, sizeof(*tried));
	bool more = true;
	int r = wanted && tried ? 0 : -ENOMEM;

	/* a verdict map's elements may lead to further chains and sets */
	while (r == 0 && more && (r = fwruleset_sets_wanted(rs, NFTOBJ_TABLE, wanted)) == 0) {
		more = false;
		for (size_t i = 0; i < rs->n_sets && r == 0; i++) {
			if (!wanted[i] || tried[i])
				continue;
			tried[i] = more = true;
			r = nft_dump_set_elems(rs->sets[i].family, rs->sets[i].table,
					       rs->sets[i].name, elems_cb, d);
			if (r == 0)
				rs->sets[i].has_elems = true;
			else if (r != -ENOMEM)
				r = 0;
		}
	}
	free(wanted);
	free(tried);
	return r;
}

/*
 * What the administrator's ruleset would drop: its chains, rules, and the
 * sets those rules look up, read from the kernel and checked in lib/.
 * Returns the number of warnings in *RET (to free()), or -errno when the
 * check could not run, with *RET_WHAT saying which step failed;
 * *RET_UNREADABLE: how many of the ruleset's objects it went on without.
 */
static int firewall_warnings(struct manager *m, struct fwcheck_env *env, struct iflist *wan,
			     struct fwcheck_warning **ret, const char **ret_what,
			     size_t *ret_unreadable)
{
	struct dump d = { 0 };
	int r;

	*ret = NULL;
	*ret_unreadable = 0;
	*ret_what = "finding the WAN interfaces";
	r = view_fwcheck_env(&m->eng, wan, env);
	if (r <= 0)
		return r;
	*ret_what = "reading the ruleset";
	r = nft_dump(NFT_MSG_GETTABLE, table_cb, &d);
	if (r == 0)
		r = nft_dump(NFT_MSG_GETCHAIN, chain_cb, &d);
	if (r == 0 && d.rs.n_chains)
		r = dump_others(&d, NFT_MSG_GETRULE, rule_cb);
	if (r == 0 && d.rs.n_chains && d.rs.n_sets)
		r = dump_others(&d, NFT_MSG_GETSET, set_cb);
	if (r == 0 && d.rs.n_chains)
		r = load_elems(&d);
	if (r == 0 && d.rs.n_chains) {
		*ret_what = "checking it";
		r = fwcheck_run(&d.rs, env, ret);
	}
	*ret_unreadable = d.unreadable;
	fwruleset_free(&d.rs);
	free(d.tables);
	return r;
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

/* Every warning, one line each: no WAN interface, the firewall, the router's own ports. */
static void all_warnings(struct manager *m, bool no_wan, struct dynbuf *out)
{
	struct fwcheck_warning *warnings;
	struct fwcheck_env env;
	struct iflist fwan = { 0 };
	const char *what;
	size_t unreadable;
	char line[512];
	int n;

	if (no_wan) {
		manager_no_wan_warning(m, out);
		dynbuf_append(out, "\n", 1);
	}
	n = firewall_warnings(m, &env, &fwan, &warnings, &what, &unreadable);
	if (n < 0)
		dynbuf_printf(out, "the firewall check could not run (%s: %s): whether the "
			      "firewall lets the forwardings through is not known\n", what, strerror(-n));
	else if (unreadable)
		dynbuf_printf(out, "the firewall check left out %zu objects of the ruleset that it "
			      "could not read: it may miss what they drop\n", unreadable);
	for (int i = 0; i < n; i++) {
		fwcheck_warning_format(&warnings[i], &env, line, sizeof(line));
		dynbuf_printf(out, "%s\n", line);
	}
	free(warnings);
	iflist_clear(&fwan);
	rails_warnings(m, out);
}

/* What the kernel can do and what the daemon does instead: members of J, or lines of OUT */
static void kernel_status(struct manager *m, struct json *j, struct dynbuf *out)
{
	uint32_t flags = kcaps_table_flags(view_caps(&m->eng), m->opt.no_owner, m->opt.no_persist);
	const char *table = !m->table_owned ? "not owned" :
			    flags & NFTOBJ_TABLE_F_PERSIST ? "owned, persistent" : "owned";
	struct utsname u;

	if (uname(&u) < 0)
		u.release[0] = '\0';
	report_kernel(&m->eng, u.release, table, m->opt.no_kernel_path, j, out);
}

/* A router pair (daemon/paird.c): members of J, or a line of OUT when J is NULL */
static void pair_status(struct manager *m, struct json *j, struct dynbuf *out)
{
	const struct paird *pd = &m->pd;
	unsigned long long repl = engine_n_replicated(&m->eng);
	uint64_t triggers = view_stats(&m->eng)->triggers_replicated;
	char mark[32] = "";

	if (pd->nl)
		snprintf(mark, sizeof(mark), "0x%x/0x%x", pd->pair.mark, pd->pair.mask);
	if (j) {
		json_object(j, "pair");
		json_bool(j, "on", pd->nl != NULL);
		json_str(j, "ct_mark", pd->nl ? mark : NULL);
		json_u64(j, "forwardings_replicated", repl);
		json_u64(j, "triggers_replicated", triggers);
		json_u64(j, "marked", m->cnt.pair_marked);
		json_u64(j, "mark_failed", m->cnt.pair_mark_failed);
		json_u64(j, "events_lost", m->cnt.pair_events_lost);
		json_end(j);
		return;
	}
	if (!pd->nl && !triggers) {
		dynbuf_printf(out, "pair:        off\n");
		return;
	}
	dynbuf_printf(out, "pair:        %s%s: %llu forwarding%s from replicated connections; "
		      "%llu replicated triggers; %llu trigger connections marked (%llu failed)%s\n",
		      pd->nl ? "on, ct-mark " : "off", mark, repl, repl == 1 ? "" : "s",
		      (unsigned long long)triggers,
		      (unsigned long long)m->cnt.pair_marked, (unsigned long long)m->cnt.pair_mark_failed,
		      m->cnt.pair_events_lost ? ", conntrack events lost" : "");
}

/*
 * The counters and limits, one table for the text and the JSON (in the
 * order of the text lines); the busiest hosts go where a table of their
 * own would.
 */
static void figures(struct manager *m, const struct nftobj_ctr *k, struct json *j,
		    struct dynbuf *out)
{
	const struct fwtable *t = view_table(&m->eng);
	const struct fwtable_stats *fs = &t->stats;
	const struct engine_stats *es = view_stats(&m->eng);
	uint64_t limited = k[NFTOBJ_CTR_LIMITED].packets, shared = k[NFTOBJ_CTR_LIMITED_SHARED].packets;
	const struct report_figure v[] = {
		{ "triggers_seen", "triggers", NULL, " seen", false, es->triggers_seen },
		{ "triggers_unmatched", "triggers", ", ", " matched no rule", false, es->triggers_unmatched },
		{ "opened", "forwardings", NULL, " opened", false, fs->opened },
		{ "refreshed", "forwardings", ", ", " refreshed", false, fs->refreshed },
		{ "taken_over", "forwardings", ", ", " taken over", false, fs->taken_over },
		{ "refused", "forwardings", ", ", " refused (exclusive)", false, fs->refused },
		{ "expired", "forwardings", ", ", " expired", false, fs->expired },
		{ "netlink_errors", "errors", NULL, " netlink", false, m->cnt.netlink_errors },
		{ "nflog_lost", "errors", ", ", " NFLOG lost", false, m->cnt.nflog_lost },
		{ "nflog_enobufs", "errors", " (", " ENOBUFS)", false, m->cnt.nflog_enobufs },
		{ "nflog_malformed", "errors", ", ", " malformed", false, m->cnt.nflog_bad },
		{ "reloads", "reloads", NULL, NULL, false, m->cnt.reloads },
		{ "reload_failures", "reloads", " (", " refused)", false, m->cnt.reload_failures },
		{ "table_rebuilds", "reloads", ", table re-created ", " times", false, m->cnt.table_rebuilds },
		{ "conntrack_deleted", "conntrack", NULL, " stale entries deleted", false,
		  m->ct ? ct_worker_deleted(m->ct) : 0 },
		{ "monitors", NULL, NULL, NULL, false, m->listeners },
		/* the safety rails (DESIGN §2.10, §2.11) */
		{ "triggers_forged", "refused", NULL, " forged", false,
		  m->cnt.forged + k[NFTOBJ_CTR_FORGED].packets },
		{ "triggers_forged_kernel", "refused", " (", " by the kernel)", false,
		  k[NFTOBJ_CTR_FORGED].packets },
		{ "triggers_limited", NULL, NULL, NULL, false, limited + shared },
		{ "triggers_limited_host", "refused", ", ", " over a host's log rate", false, limited },
		{ "triggers_limited_shared", "refused", ", ", " over the shared rate of unvetted sources",
		  false, shared },
		{ "triggers_not_allowed", "refused", ", ", " not allowed", false, es->triggers_not_allowed },
		{ "refused_max_per_host", "limits", NULL, " at max-per-host ", false, fs->over_host_limit },
		{ "max_per_host", "limits", NULL, NULL, false, t->max_per_host },
		{ "refused_max_forwardings", "limits", ", ", " at max-forwardings ", false, fs->over_limit },
		{ "max_forwardings", "limits", NULL, NULL, false, t->max_forwardings },
		{ NULL, "limits", " (", " active)", false, t->n_dynamic },
		/* (after the hosts) */
		{ "resyncs", "resyncs", NULL, " (the kernel rewritten after a failed transaction)", true,
		  m->cnt.resyncs },
	};
	size_t hosts_at = ARRAY_SIZE(v) - 1;

	report_figures(v, hosts_at, j, out);
	report_hosts(&m->eng, j, out);
	report_figures(v + hosts_at, ARRAY_SIZE(v) - hosts_at, j, out);
}

static void status_json(struct manager *m, const struct iflist *wan, const struct iflist *lan,
			const struct nftobj_ctr *k, struct dynbuf *warnings, struct dynbuf *out)
{
	uint32_t p50, p99;
	struct json j;

	latency_percentiles(&m->lat, &p50, &p99);
	json_init(&j, out);
	json_object(&j, NULL);
	json_array(&j, "warnings");
	for (char *l = warnings->data, *nl; l && (nl = strchr(l, '\n')); l = nl + 1) {
		*nl = '\0';
		json_str(&j, NULL, l);
	}
	json_end(&j);
	json_names(&j, "wan", wan);
	json_names(&j, "lan", lan);
	json_str(&j, "version", VERSION);
	json_u64(&j, "uptime", (now_ms() - m->started_ms) / 1000);
	json_u64(&j, "rules", manager_n_rules(m));
	json_u64(&j, "forwardings", manager_n_forwardings(m));
	figures(m, k, &j, out);
	pair_status(m, &j, out);
	kernel_status(m, &j, out);
	json_u64(&j, "latency_samples", m->lat.n);
	json_u64(&j, "latency_p50_us", p50);
	json_u64(&j, "latency_p99_us", p99);
	json_end(&j);
}

static void status_text(struct manager *m, const struct iflist *wan, const struct iflist *lan,
			const struct nftobj_ctr *k, const struct dynbuf *warnings, struct dynbuf *out)
{
	uint32_t p50, p99;
	char up[32];

	latency_percentiles(&m->lat, &p50, &p99);
	duration_format((now_ms() - m->started_ms) / 1000, up, sizeof(up));
	dynbuf_printf(out, "ipautofwd %s, up %s\n", VERSION, up);
	if (manager_n_rules(m))
		dynbuf_printf(out, "rules:       %zu\n", manager_n_rules(m));
	else
		dynbuf_printf(out, "rules:       none, idle (put rule files in %s and reload)\n",
			      m->opt.n_confdirs ? m->opt.confdirs[0] : "/etc/ipautofw.d");
	dynbuf_printf(out, "active:      %zu (rule x host)\n", manager_n_forwardings(m));
	dynbuf_printf(out, "interfaces:  WAN ");
	text_names(out, wan);
	dynbuf_printf(out, "; LAN ");
	text_names(out, lan);
	dynbuf_printf(out, "\n");
	figures(m, k, NULL, out);
	pair_status(m, NULL, out);
	kernel_status(m, NULL, out);
	if (m->lat.n)
		dynbuf_printf(out, "latency:     trigger received to forwarding in the kernel: "
			      "p50 %uus, p99 %uus (last %zu)\n", p50, p99, m->lat.n);
	else
		dynbuf_printf(out, "latency:     no triggers yet\n");
	for (const char *l = warnings->data, *nl; l && (nl = strchr(l, '\n')); l = nl + 1)
		dynbuf_printf(out, "warning: %.*s\n", (int)(nl - l), l);
}

void status_report(struct manager *m, bool json, struct dynbuf *out)
{
	struct nftobj_ctr k[NFTOBJ__COUNTERS] = { { 0 } };
	struct iflist wan = { 0 }, lan = { 0 };
	struct dynbuf warnings = { 0 };
	bool known = manager_interfaces(m, &wan, &lan) == 0;
	int r = rails_kernel_counters(k);

	all_warnings(m, known && !wan.n, &warnings);
	/* (no table: nothing counted) */
	if (r < 0 && r != -ENOENT)
		dynbuf_printf(&warnings, "cannot read the table's counters (%s): the kernel's share "
			      "of the figures shows as 0\n", strerror(-r));
	if (json)
		status_json(m, &wan, &lan, k, &warnings, out);
	else
		status_text(m, &wan, &lan, k, &warnings, out);
	if (warnings.oom)
		out->oom = true;
	dynbuf_free(&warnings);
	iflist_clear(&wan);
	iflist_clear(&lan);
}

void manager_list(struct manager *m, bool json, struct dynbuf *out)
{
	report_list(&m->eng, now_ms(), json, out);
}

void manager_rules(struct manager *m, bool json, struct dynbuf *out)
{
	report_rules(&m->eng, now_ms(), json, out);
}

const struct rule *manager_find_rule(const struct manager *m, const char *name)
{
	return view_find_rule(&m->eng, name);
}

size_t manager_n_rules(const struct manager *m)
{
	return engine_n_rules(&m->eng);
}

size_t manager_n_forwardings(const struct manager *m)
{
	return engine_n_forwardings(&m->eng);
}

size_t manager_n_runtime(const struct manager *m)
{
	return m->book.n_runtime;
}

int manager_learn_report(struct manager *m, const char *rule, bool json, struct dynbuf *out)
{
	return learnreport_format(&m->learn, view_config(&m->eng), rule, now_ms(), json, out);
}

int manager_learn_clear(struct manager *m, const char *rule, size_t *ret_n)
{
	if (rule && !manager_find_rule(m, rule))
		return -ENOENT;
	*ret_n = learn_clear(&m->learn, rule);
	return 0;
}
