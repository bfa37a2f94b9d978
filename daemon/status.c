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

#include "fwcheck.h"
#include "json.h"
#include "kcaps.h"
#include "manager.h"
#include "nftobj.h"
#include "report.h"

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
	const struct config *c = m->eng.cfg;

	dynbuf_printf(out, "no WAN interface: ");
	if (!c || !c->has_wan) {
		dynbuf_printf(out, "no default route and no 'wan' statement");
	} else {
		dynbuf_printf(out, "no interface matches 'wan ");
		for (size_t i = 0; i < c->wan.n; i++)
			dynbuf_printf(out, "%s%s", i ? "," : "", c->wan.names[i]);
		dynbuf_printf(out, "'");
	}
	dynbuf_printf(out, "; nothing can trigger until one appears");
}

/*
 * Our own table is not the administrator's: never read (a thousand rules
 * make it thousands of chains that nothing else can jump to).
 */
static bool own(uint32_t family, const char *table)
{
	return family == NFPROTO_INET && table && !strcmp(table, NFTOBJ_TABLE);
}

struct tables {
	struct { uint32_t family; char name[64]; } *v;
	size_t n;
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct tables *ts = data;

	if (t && nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    !own(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), nftnl_table_get_str(t, NFTNL_TABLE_NAME))) {
		void *v = realloc(ts->v, (ts->n + 1) * sizeof(*ts->v));

		if (v) {
			ts->v = v;
			ts->v[ts->n].family = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
			snprintf(ts->v[ts->n].name, sizeof(ts->v[0].name), "%s",
				 nftnl_table_get_str(t, NFTNL_TABLE_NAME));
			ts->n++;
		}
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

/* Every other table's objects of MSG_TYPE (rules, sets) */
static int dump_others(const struct tables *ts, uint16_t msg_type,
		       int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	int r = 0;

	for (size_t i = 0; i < ts->n && r == 0; i++)
		r = nft_dump_table(msg_type, ts->v[i].family, ts->v[i].name, cb, data);
	return r;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	/* (the kernel dumps every table's chains: it takes no table filter for them) */
	if (c && nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    !own(nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY), nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)))
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
static int firewall_warnings(struct manager *m, struct fwcheck_env *env, struct iflist *wan,
			     struct fwcheck_warning **ret)
{
	const struct config *cfg = m->eng.cfg;
	struct fwcheck fc = { 0 };
	struct tables ts = { 0 };
	int n = 0;

	*ret = NULL;
	if (!cfg || engine_all_wan(&m->eng, wan) < 0)
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
	if (nft_dump(NFT_MSG_GETTABLE, table_cb, &ts) == 0 &&
	    nft_dump(NFT_MSG_GETCHAIN, chain_cb, &fc) == 0 && fc.n_chains &&
	    dump_others(&ts, NFT_MSG_GETRULE, rule_cb, &fc) == 0 &&
	    (!fc.n_sets || dump_others(&ts, NFT_MSG_GETSET, set_cb, &fc) == 0)) {
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
	free(ts.v);
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

/* Every warning, one line each: no WAN interface, the firewall, the router's own ports. */
static void all_warnings(struct manager *m, bool no_wan, struct dynbuf *out)
{
	struct fwcheck_warning *warnings;
	struct fwcheck_env env;
	struct iflist fwan = { 0 };
	char line[512];
	int n;

	if (no_wan) {
		manager_no_wan_warning(m, out);
		dynbuf_append(out, "\n", 1);
	}
	n = firewall_warnings(m, &env, &fwan, &warnings);
	for (int i = 0; i < n; i++) {
		fwcheck_warning_format(&warnings[i], &env, line, sizeof(line));
		dynbuf_printf(out, "%s\n", line);
	}
	free(warnings);
	iflist_clear(&fwan);
	rails_warnings(m, out);
}

/*
 * What the kernel can do and what the daemon does instead (DESIGN §2.14):
 * members of J, or lines of OUT when J is NULL.
 */
static void kernel_status(struct manager *m, struct json *j, struct dynbuf *out)
{
	const struct kcaps *k = &m->eng.caps;
	const char *table = m->table_owned ? (kcaps_table_flags(k, m->opt.no_owner, m->opt.no_persist) &
					       NFTOBJ_TABLE_F_PERSIST ? "owned, persistent" : "owned") :
				"not owned";
	struct utsname u;

	if (uname(&u) < 0)
		u.release[0] = '\0';
	if (j) {
		json_object(j, "kernel");
		json_str(j, "release", u.release);
		json_str(j, "table", table);
		json_bool(j, "kernel_path", m->eng.kernel_triggers);
		json_array(j, "has");
		for (int c = 0; c < KCAP__N; c++)
			if (kcaps_has(k, c))
				json_str(j, NULL, kcaps_name(c));
		json_end(j);
		json_array(j, "lacks");
		for (int c = 0; c < KCAP__N; c++)
			if (!kcaps_has(k, c))
				json_str(j, NULL, kcaps_name(c));
		json_end(j);
		json_array(j, "notes");
		for (int c = 0; c < KCAP__N; c++)
			if (kcaps_missing(k, c)) {
				struct dynbuf line = { 0 };

				kcaps_describe(k, c, u.release, &line);
				json_str(j, NULL, line.data ? line.data : "");
				dynbuf_free(&line);
			}
		json_end(j);
		json_end(j);
		return;
	}
	dynbuf_printf(out, "kernel:      %s; table %s; first triggers %s\n", u.release, table,
		      m->eng.kernel_triggers ? "in the kernel" :
		      m->opt.no_kernel_path ? "by the daemon (--no-kernel-path)" : "by the daemon");
	for (int c = 0; c < KCAP__N; c++)
		if (kcaps_missing(k, c)) {
			dynbuf_printf(out, "kernel:      ");
			kcaps_describe(k, c, NULL, out);
			dynbuf_printf(out, "\n");
		}
}

/* A router pair (daemon/paird.c): members of J, or a line of OUT when J is NULL */
static void pair_status(struct manager *m, struct json *j, struct dynbuf *out)
{
	const struct paird *pd = &m->pd;
	unsigned long long repl = engine_n_replicated(&m->eng);
	char mark[32] = "";

	if (pd->nl)
		snprintf(mark, sizeof(mark), "0x%x/0x%x", pd->pair.mark, pd->pair.mask);
	if (j) {
		json_object(j, "pair");
		json_bool(j, "on", pd->nl != NULL);
		json_str(j, "ct_mark", pd->nl ? mark : NULL);
		json_u64(j, "forwardings_replicated", repl);
		json_u64(j, "triggers_replicated", m->eng.stats.triggers_replicated);
		json_u64(j, "marked", m->cnt.pair_marked);
		json_u64(j, "mark_failed", m->cnt.pair_mark_failed);
		json_u64(j, "events_lost", m->cnt.pair_events_lost);
		json_end(j);
		return;
	}
	if (!pd->nl && !m->eng.stats.triggers_replicated) {
		dynbuf_printf(out, "pair:        off\n");
		return;
	}
	dynbuf_printf(out, "pair:        %s%s: %llu forwarding%s from replicated connections; "
		      "%llu replicated triggers; %llu trigger connections marked (%llu failed)%s\n",
		      pd->nl ? "on, ct-mark " : "off", mark, repl, repl == 1 ? "" : "s",
		      (unsigned long long)m->eng.stats.triggers_replicated,
		      (unsigned long long)m->cnt.pair_marked, (unsigned long long)m->cnt.pair_mark_failed,
		      m->cnt.pair_events_lost ? ", conntrack events lost" : "");
}

static void status_json(struct manager *m, const struct iflist *wan, const struct iflist *lan,
			struct dynbuf *warnings, struct dynbuf *out)
{
	const struct fwtable_stats *fs = &m->eng.fwt.stats;
	const struct engine_stats *es = &m->eng.stats;
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
	json_u64(&j, "rules", m->eng.cfg ? m->eng.cfg->n_rules : 0);
	json_u64(&j, "forwardings", m->eng.fwt.n);
	json_u64(&j, "triggers_seen", es->triggers_seen);
	json_u64(&j, "triggers_unmatched", es->triggers_unmatched);
	json_u64(&j, "opened", fs->opened);
	json_u64(&j, "refreshed", fs->refreshed);
	json_u64(&j, "taken_over", fs->taken_over);
	json_u64(&j, "refused", fs->refused);
	json_u64(&j, "expired", fs->expired);
	json_u64(&j, "netlink_errors", m->cnt.netlink_errors);
	json_u64(&j, "nflog_lost", m->cnt.nflog_lost);
	json_u64(&j, "nflog_enobufs", m->cnt.nflog_enobufs);
	json_u64(&j, "nflog_malformed", m->cnt.nflog_bad);
	json_u64(&j, "reloads", m->cnt.reloads);
	json_u64(&j, "reload_failures", m->cnt.reload_failures);
	json_u64(&j, "table_rebuilds", m->cnt.table_rebuilds);
	json_u64(&j, "conntrack_deleted", m->ct ? ct_worker_deleted(m->ct) : 0);
	json_u64(&j, "monitors", m->listeners);
	pair_status(m, &j, out);
	rails_status(m, &j, out);
	kernel_status(m, &j, out);
	json_u64(&j, "latency_samples", m->lat.n);
	json_u64(&j, "latency_p50_us", p50);
	json_u64(&j, "latency_p99_us", p99);
	json_end(&j);
}

static void status_text(struct manager *m, const struct iflist *wan, const struct iflist *lan,
			const struct dynbuf *warnings, struct dynbuf *out)
{
	const struct fwtable_stats *fs = &m->eng.fwt.stats;
	const struct engine_stats *es = &m->eng.stats;
	uint32_t p50, p99;
	char up[32];

	latency_percentiles(&m->lat, &p50, &p99);
	duration_format((now_ms() - m->started_ms) / 1000, up, sizeof(up));
	dynbuf_printf(out, "ipautofwd %s, up %s\n", VERSION, up);
	if (m->eng.cfg && m->eng.cfg->n_rules)
		dynbuf_printf(out, "rules:       %zu\n", m->eng.cfg->n_rules);
	else
		dynbuf_printf(out, "rules:       none, idle (put rule files in %s and reload)\n",
			      m->opt.n_confdirs ? m->opt.confdirs[0] : "/etc/ipautofw.d");
	dynbuf_printf(out, "active:      %zu (rule x host)\n", m->eng.fwt.n);
	dynbuf_printf(out, "interfaces:  WAN ");
	text_names(out, wan);
	dynbuf_printf(out, "; LAN ");
	text_names(out, lan);
	dynbuf_printf(out, "\n");
	dynbuf_printf(out, "triggers:    %llu seen, %llu matched no rule\n",
		      (unsigned long long)es->triggers_seen, (unsigned long long)es->triggers_unmatched);
	dynbuf_printf(out, "forwardings: %llu opened, %llu refreshed, %llu taken over, "
		      "%llu refused (exclusive), %llu expired\n",
		      (unsigned long long)fs->opened, (unsigned long long)fs->refreshed,
		      (unsigned long long)fs->taken_over, (unsigned long long)fs->refused,
		      (unsigned long long)fs->expired);
	dynbuf_printf(out, "errors:      %llu netlink, %llu NFLOG lost (%llu ENOBUFS), %llu malformed\n",
		      (unsigned long long)m->cnt.netlink_errors, (unsigned long long)m->cnt.nflog_lost,
		      (unsigned long long)m->cnt.nflog_enobufs, (unsigned long long)m->cnt.nflog_bad);
	dynbuf_printf(out, "reloads:     %llu (%llu refused), table re-created %llu times\n",
		      (unsigned long long)m->cnt.reloads, (unsigned long long)m->cnt.reload_failures,
		      (unsigned long long)m->cnt.table_rebuilds);
	dynbuf_printf(out, "conntrack:   %llu stale entries deleted\n",
		      (unsigned long long)(m->ct ? ct_worker_deleted(m->ct) : 0));
	pair_status(m, NULL, out);
	rails_status(m, NULL, out);
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
	struct iflist wan = { 0 }, lan = { 0 };
	struct dynbuf warnings = { 0 };
	bool known = manager_interfaces(m, &wan, &lan) == 0;

	all_warnings(m, known && !wan.n, &warnings);
	if (json)
		status_json(m, &wan, &lan, &warnings, out);
	else
		status_text(m, &wan, &lan, &warnings, out);
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
	return m->eng.cfg ? config_find_rule(m->eng.cfg, name) : NULL;
}

size_t manager_n_rules(const struct manager *m)
{
	return m->eng.cfg ? m->eng.cfg->n_rules : 0;
}

size_t manager_n_runtime(const struct manager *m)
{
	return m->book.n_runtime;
}

int manager_learn_report(struct manager *m, const char *rule, bool json, struct dynbuf *out)
{
	return learn_report(&m->learn, m->eng.cfg, rule, now_ms(), json, out);
}

int manager_learn_clear(struct manager *m, const char *rule, size_t *ret_n)
{
	if (rule && !manager_find_rule(m, rule))
		return -ENOENT;
	*ret_n = learn_clear(&m->learn, rule);
	return 0;
}
