/*
 * `ipautofwctl metrics`: the daemon's figures gathered from the manager,
 * the table's named counters and the control socket, written by
 * lib/control/prom.c in the Prometheus text format; and the counters a re-exec
 * hands over by name, so that a scraper sees them go on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/handover.h"
#include "metrics.h"
#include "control/prom.h"
#include "control/view.h"

struct counter_ref {
	const char *name;
	uint64_t *v;
};

#define COUNTER_FIXED 15
#define COUNTER_REFS (COUNTER_FIXED + CLOSE__N + CONTROL_REFUSED__N + LATENCY_BUCKETS + 1)

/*
 * Every counter the daemon keeps (the conntrack worker's aside), by the
 * name a re-exec gives it; the engine's own go by handover_save_engine.
 */
static size_t counter_refs(struct manager *m, struct control *ctl, struct counter_ref *ret,
			   char names[][HANDOVER_COUNTER_NAME_MAX])
{
	struct counters *c = &m->cnt;
	const struct counter_ref fixed[] = {
		{ "nflog_bad", &c->nflog_bad }, { "nflog_lost", &c->nflog_lost },
		{ "nflog_enobufs", &c->nflog_enobufs }, { "netlink_errors", &c->netlink_errors },
		{ "reloads", &c->reloads }, { "reload_failures", &c->reload_failures },
		{ "table_rebuilds", &c->table_rebuilds }, { "forged", &c->forged },
		{ "resyncs", &c->resyncs }, { "learned", &c->learned },
		{ "control_clients", &ctl->stats.clients }, { "latency_sum_us", &m->lat.sum_us },
		{ "pair_marked", &c->pair_marked }, { "pair_mark_failed", &c->pair_mark_failed },
		{ "pair_events_lost", &c->pair_events_lost },
	};
	size_t n = 0, k = 0;

	_Static_assert(ARRAY_SIZE(fixed) == COUNTER_FIXED, "COUNTER_FIXED counts them");
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		ret[n++] = fixed[i];
	for (size_t i = 0; i < CLOSE__N; i++, k++) {
		snprintf(names[k], HANDOVER_COUNTER_NAME_MAX, "closed_%s", close_reason_names[i]);
		ret[n++] = (struct counter_ref){ names[k], &c->closed[i] };
	}
	for (size_t i = 0; i < CONTROL_REFUSED__N; i++, k++) {
		snprintf(names[k], HANDOVER_COUNTER_NAME_MAX, "control_refused_%s", control_refusal_names[i]);
		ret[n++] = (struct counter_ref){ names[k], &ctl->stats.refused[i] };
	}
	for (size_t i = 0; i <= LATENCY_BUCKETS; i++, k++) {
		snprintf(names[k], HANDOVER_COUNTER_NAME_MAX, "latency_bucket_%zu", i);
		ret[n++] = (struct counter_ref){ names[k], &m->lat.buckets[i] };
	}
	return n;
}

#define CT_DELETED "conntrack_deleted"

int metrics_save(struct manager *m, struct control *ctl, struct handover_state *st)
{
	struct counter_ref refs[COUNTER_REFS];
	char names[COUNTER_REFS][HANDOVER_COUNTER_NAME_MAX];
	size_t n = counter_refs(m, ctl, refs, names);
	int r = handover_add_counter(st, CT_DELETED,
				     m->cnt.ct_deleted + (m->ct ? ct_worker_deleted(m->ct) : 0));

	if (r == 0)
		r = handover_save_engine(st, &m->eng);
	for (size_t i = 0; i < n && r == 0; i++)
		r = handover_add_counter(st, refs[i].name, *refs[i].v);
	return r;
}

void metrics_restore(struct manager *m, struct control *ctl, const struct handover_state *st)
{
	struct counter_ref refs[COUNTER_REFS];
	char names[COUNTER_REFS][HANDOVER_COUNTER_NAME_MAX];
	size_t n = counter_refs(m, ctl, refs, names);

	m->cnt.ct_deleted = handover_counter(st, CT_DELETED);
	handover_restore_engine(st, &m->eng);
	for (size_t i = 0; i < n; i++)
		*refs[i].v = handover_counter(st, refs[i].name);
}

/* A family of one sample without labels */
struct figure {
	enum prom_type type;
	const char *name;
	const char *help;
	uint64_t v;
};

static void figures(struct prom *p, const struct figure *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		prom_family(p, v[i].name, v[i].type, v[i].help);
		prom_sample(p, NULL, 0, v[i].v);
	}
}

static void outcome(struct prom *p, const char *outcome, const char *reason, uint64_t v)
{
	struct prom_label l[] = { { "outcome", outcome }, { "reason", reason } };

	prom_sample(p, l, reason ? 2 : 1, v);
}

static void triggers(struct prom *p, struct manager *m, const struct nftobj_ctr *k)
{
	const struct fwtable_stats *fs = &view_table(&m->eng)->stats;
	const struct engine_stats *es = view_stats(&m->eng);

	prom_family(p, "ipautofw_triggers", PROM_COUNTER,
		    "Triggers by what came of them: opened, refreshed or took over a forwarding, "
		    "were refused (and why), forged (caught by the kernel or the daemon), over a "
		    "host's log rate (limited), or matched no rule.");
	outcome(p, "opened", NULL, fs->opened);
	outcome(p, "refreshed", NULL, fs->refreshed);
	outcome(p, "taken_over", NULL, fs->taken_over);
	outcome(p, "refused", "exclusive", fs->refused);
	outcome(p, "refused", "max_per_host", fs->over_host_limit);
	outcome(p, "refused", "max_forwardings", fs->over_limit);
	outcome(p, "refused", "not_allowed", es->triggers_not_allowed);
	outcome(p, "forged", "kernel", k[NFTOBJ_CTR_FORGED].packets);
	outcome(p, "forged", "daemon", m->cnt.forged);
	outcome(p, "limited", NULL, k[NFTOBJ_CTR_LIMITED].packets);
	outcome(p, "unmatched", NULL, es->triggers_unmatched);
}

/* Active forwardings per rule and family: every family a rule can forward, 0 included */
static void forwardings(struct prom *p, struct manager *m)
{
	const struct config *cfg = view_config(&m->eng);
	size_t n = manager_n_rules(m);
	uint64_t (*count)[2];

	prom_family(p, "ipautofw_forwardings", PROM_GAUGE,
		    "Active forwardings (rule x host [x peer]) by rule and family.");
	if (!n)
		return;
	count = calloc(n, sizeof(*count));
	if (!count || view_rule_forwardings(&m->eng, count) < 0) {
		p->out->oom = true;
		free(count);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = cfg->rules[i];
		unsigned fam = r->is_static ? (r->to_af == AF_INET6 ? RULE_FAMILY_IPV6 : RULE_FAMILY_IPV4) :
			       r->family;

		for (int v6 = 0; v6 < 2; v6++) {
			struct prom_label l[] = { { "rule", r->name }, { "family", v6 ? "ipv6" : "ipv4" } };

			if (fam & (v6 ? RULE_FAMILY_IPV6 : RULE_FAMILY_IPV4))
				prom_sample(p, l, 2, count[i][v6]);
		}
	}
	free(count);
}

static void kernel_info(struct prom *p, struct manager *m)
{
	const struct kcaps *caps = view_caps(&m->eng);
	/* what the kernel gave the daemon: one label each, "true" or "false" */
	const struct {
		const char *name;
		bool on;
	} facts[] = {
		{ "table_owner", m->table_owned },
		{ "table_persist", m->table_persist },
		{ "kernel_path", view_kernel_path(&m->eng) },
		/* what the probe found (lib/nft/kcaps.h) */
		{ "has_destroy", kcaps_has(caps, KCAP_DESTROY) },
		{ "has_owner", kcaps_has(caps, KCAP_OWNER) },
		{ "has_persist", kcaps_has(caps, KCAP_PERSIST) },
		{ "has_fib_forward", kcaps_has(caps, KCAP_FIB_FORWARD) },
	};
	struct prom_label l[ARRAY_SIZE(facts)];

	for (size_t i = 0; i < ARRAY_SIZE(facts); i++)
		l[i] = (struct prom_label){ facts[i].name, facts[i].on ? "true" : "false" };
	prom_family(p, "ipautofw_kernel_info", PROM_GAUGE,
		    "The kernel facilities in use (labels), always 1.");
	prom_sample(p, l, ARRAY_SIZE(l), 1);
}

/* Every family, K the table's named counters */
static void report(struct prom *p, struct manager *m, struct control *ctl, const struct nftobj_ctr *k)
{
	struct prom_label version[] = { { "version", VERSION } };
	const struct engine_stats *es = view_stats(&m->eng);
	const struct fwtable *t = view_table(&m->eng);
	const struct counters *c = &m->cnt;
	const struct figure start[] = {
		{ PROM_GAUGE, "ipautofw_uptime_seconds",
		  "Seconds since the daemon started (a re-exec goes on).", (now_ms() - m->started_ms) / 1000 },
		{ PROM_GAUGE, "ipautofw_rules", "Rules configured (files and runtime).", manager_n_rules(m) },
	}, limit[] = {
		{ PROM_GAUGE, "ipautofw_forwardings_max", "The max-forwardings limit (0: none).",
		  t->max_forwardings },
	}, seen[] = {
		{ PROM_COUNTER, "ipautofw_triggers_logged", "Trigger packets the kernel logged to the daemon "
		  "(the table's counter \"triggers\").", k[NFTOBJ_CTR_TRIGGERS].packets },
		{ PROM_COUNTER, "ipautofw_triggers_received", "Triggers from genuine sources the daemon "
		  "looked up in its rules.", es->triggers_seen },
	}, expired[] = {
		{ PROM_COUNTER, "ipautofw_forwardings_expired", "Forwardings that reached their timeout.",
		  t->stats.expired },
	}, errors[] = {
		{ PROM_COUNTER, "ipautofw_nflog_lost", "NFLOG messages lost (gaps in their sequence numbers).",
		  c->nflog_lost },
		{ PROM_COUNTER, "ipautofw_nflog_overruns", "NFLOG receive buffer overruns (ENOBUFS).",
		  c->nflog_enobufs },
		{ PROM_COUNTER, "ipautofw_nflog_malformed", "NFLOG messages that could not be decoded.",
		  c->nflog_bad },
		{ PROM_COUNTER, "ipautofw_netlink_errors", "nf_tables transactions the kernel refused.",
		  c->netlink_errors },
		{ PROM_COUNTER, "ipautofw_resyncs", "Times every forwarding was written again after a "
		  "failed transaction.", c->resyncs },
		{ PROM_COUNTER, "ipautofw_table_recreations", "Times the table was re-created after another "
		  "program changed or deleted it.", c->table_rebuilds },
		{ PROM_COUNTER, "ipautofw_reloads", "Configuration reloads asked for.", c->reloads },
		{ PROM_COUNTER, "ipautofw_reload_failures",
		  "Reloads refused (the running configuration stayed).", c->reload_failures },
		{ PROM_COUNTER, "ipautofw_conntrack_deleted", "Conntrack entries deleted so that streams "
		  "follow their forwarding.", c->ct_deleted + (m->ct ? ct_worker_deleted(m->ct) : 0) },
		{ PROM_GAUGE, "ipautofw_learn_records",
		  "Learn mode's records (rule x peer x protocol) held now.", m->learn.rec.n },
		{ PROM_COUNTER, "ipautofw_learn_connections", "Connections learn mode recorded.", c->learned },
		{ PROM_COUNTER, "ipautofw_control_clients", "Control socket clients accepted.",
		  ctl->stats.clients },
	}, end[] = {
		{ PROM_GAUGE, "ipautofw_control_monitors", "Monitors streaming events now.", ctl->n_monitors },
		{ PROM_GAUGE, "ipautofw_pair_mode", "1 while `pair ct-mark` is on (a router pair).",
		  m->pd.nl != NULL },
		{ PROM_GAUGE, "ipautofw_pair_forwardings_replicated", "Active forwardings whose last "
		  "trigger was a connection the other router of the pair served.",
		  engine_n_replicated(&m->eng) },
		{ PROM_COUNTER, "ipautofw_pair_triggers_replicated", "Trigger connections the other router "
		  "of the pair marked, taken as triggers here.", es->triggers_replicated },
		{ PROM_COUNTER, "ipautofw_pair_marked", "Trigger connections this router marked for the other.",
		  c->pair_marked },
		{ PROM_COUNTER, "ipautofw_pair_mark_failed", "Trigger connections that could not be marked.",
		  c->pair_mark_failed },
		{ PROM_COUNTER, "ipautofw_pair_events_lost", "Conntrack event overruns (ENOBUFS) in pair mode.",
		  c->pair_events_lost },
	};

	prom_family(p, "ipautofw_build_info", PROM_GAUGE, "The running ipautofwd's version, always 1.");
	prom_sample(p, version, 1, 1);
	kernel_info(p, m);
	figures(p, start, ARRAY_SIZE(start));
	forwardings(p, m);
	figures(p, limit, ARRAY_SIZE(limit));
	triggers(p, m, k);
	figures(p, seen, ARRAY_SIZE(seen));
	prom_family(p, "ipautofw_trigger_latency_seconds", PROM_HISTOGRAM,
		    "From a trigger packet's arrival to its forwarding in the kernel, for the triggers "
		    "the daemon wrote.");
	prom_histogram(p, NULL, 0, latency_bounds_us, LATENCY_BUCKETS, m->lat.buckets, m->lat.sum_us);
	figures(p, expired, ARRAY_SIZE(expired));
	prom_family(p, "ipautofw_forwardings_closed", PROM_COUNTER,
		    "Forwardings closed before their timeout, by why.");
	for (size_t i = 0; i < CLOSE__N; i++) {
		struct prom_label l[] = { { "reason", close_reason_names[i] } };

		prom_sample(p, l, 1, c->closed[i]);
	}
	figures(p, errors, ARRAY_SIZE(errors));
	prom_family(p, "ipautofw_control_refused", PROM_COUNTER,
		    "Control socket clients refused or cut off, by why.");
	for (size_t i = 0; i < CONTROL_REFUSED__N; i++) {
		struct prom_label l[] = { { "reason", control_refusal_names[i] } };

		prom_sample(p, l, 1, ctl->stats.refused[i]);
	}
	figures(p, end, ARRAY_SIZE(end));
}

void metrics_report(struct manager *m, struct control *ctl, struct dynbuf *out)
{
	struct nftobj_ctr k[NFTOBJ__COUNTERS] = { { 0 } };
	struct prom p;

	rails_kernel_counters(k);
	prom_init(&p, out);
	report(&p, m, ctl, k);
}
