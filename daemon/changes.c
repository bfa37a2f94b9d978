/*
 * The manager's changes of configuration: a reload of the rule files, the
 * runtime rules (add, del, the 1996 -A/-D/-F, enable, disable) and flush.
 * Each goes through the rulebook to one new configuration, which the
 * engine takes, and ends in one nf_tables transaction; a change refused
 * leaves the running configuration as it was.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <string.h>

#include "control/autofw.h"
#include "control/event.h"
#include "log.h"
#include "manager.h"
#include "notify.h"
#include "rules/uci.h"

struct config *manager_load_files(const struct manager_options *o, struct dynbuf *errors,
				  struct dynbuf *lines)
{
	struct config *c = config_new();

	if (!c)
		return NULL;
	/* names first: the files that follow may use them */
	if (o->ifnames)
		config_load_file(c, o->ifnames, uci_parse_names);
	if (o->uci)
		config_load_file(c, o->uci, uci_parse_text);
	if (o->files ? config_load_files(c, o->files, o->n_files) == 0 :
	    config_load_dirs(c, (const char **)o->confdirs, o->n_confdirs,
			     o->confdirs != config_default_dirs) == 0)
		return c;
	if (c->errors.len)
		dynbuf_append(errors, c->errors.data, c->errors.len);
	if (lines && c->error_lines.len)
		dynbuf_append(lines, c->error_lines.data, c->error_lines.len);
	dynbuf_printf(errors, "%u error%s; configuration not applied\n", c->n_errors,
		      c->n_errors == 1 ? "" : "s");
	return config_free(c);
}

const char *const close_reason_names[CLOSE__N] = {
	[CLOSE_FLUSH] = "flush",
	[CLOSE_DEL] = "del",
	[CLOSE_DISABLE] = "disable",
	[CLOSE_RELOAD] = "reload",
	[CLOSE_OTHER] = "other",
};

/* m->closing, as counted (NULL is a reload's, as events_fwd says) */
static enum close_reason close_reason(const char *why)
{
	static const struct {
		const char *why;
		enum close_reason reason;
	} map[] = {
		{ "flush", CLOSE_FLUSH }, { "del", CLOSE_DEL }, { "ipautofw -D", CLOSE_DEL },
		{ "ipautofw -F", CLOSE_DEL }, { "disable", CLOSE_DISABLE }, { "reload", CLOSE_RELOAD },
	};

	if (!why)
		return CLOSE_RELOAD;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(map[i].why, why))
			return map[i].reason;
	return CLOSE_OTHER;
}

static void on_closed(const struct fwd *f, void *data)
{
	struct manager *m = data;
	char host[INET6_ADDRSTRLEN];

	m->cnt.closed[close_reason(m->closing)]++;
	ct_jobs_closed(&m->ct_jobs, f);
	learnd_closed(m, f);
	events_fwd(m, EVENT_CLOSED, f);
	if (!f->rule->is_static)
		log_info("%s: forwarding to %s closed", f->rule->name,
			 inet_ntop(f->af, &f->host, host, sizeof(host)));
}

/* The end of every rule change: R from the rulebook, C the configuration it gave. */
static int apply(struct manager *m, int r, struct config *c, const char *why, struct dynbuf *out)
{
	if (r == -ENOMEM)
		dynbuf_printf(out, "out of memory\n");
	if (r < 0)
		return r;
	m->closing = why;
	r = engine_set_config(&m->eng, c, now_ms(), on_closed, m);
	m->closing = NULL;
	if (r < 0) {
		/* the running configuration stays (the rulebook is ahead of it until the next change) */
		config_free(c);
		dynbuf_printf(out, "%s: out of memory; the running configuration stays\n", why);
		log_err("%s: out of memory; the running configuration stays", why);
		return r;
	}
	m->check_ifaces = true;
	paird_config(m);
	if (learnd_config(m)) {
		/* learn mode's rules come or go with the table: replaced in one transaction */
		r = table_recreate(m);
		if (r < 0)
			dynbuf_printf(out, "%s: re-creating the table failed: %s\n", why, strerror(-r));
		return r;
	}
	r = manager_write_changes(m, why);
	if (r < 0)
		dynbuf_printf(out, "%s: writing to nftables failed: %s\n", why, strerror(-r));
	return r;
}

static int reload(struct manager *m, struct dynbuf *errors)
{
	struct dynbuf lines = { 0 };
	struct config *files = manager_load_files(&m->opt, errors, &lines), *c = NULL;
	struct dynbuf warnings = { 0 };
	int r;
	unsigned n;

	/* said whatever becomes of the reload; the reply shows them before its verdict */
	if (files) {
		log_warn_lines(&files->warning_lines);
		if (files->n_warnings)
			dynbuf_append(&warnings, files->errors.data, files->errors.len);
	}
	r = files ? rulebook_set_files(&m->book, files, &c, errors, &lines) : -EINVAL;
	n = log_count_lines(&lines);

	m->cnt.reloads++;
	if (r < 0) {
		if (files)
			dynbuf_printf(errors, "the runtime rules above conflict with the rule files; "
				      "configuration not applied\n");
		config_free(files);
		m->cnt.reload_failures++;
		if (files)
			log_err("reload refused, the running configuration stays: %u runtime rule "
				"error%s against the new rule files:", n, n == 1 ? "" : "s");
		else
			log_err("reload refused, the running configuration stays: %u error%s in the "
				"rule files:", n, n == 1 ? "" : "s");
		log_err_lines(&lines);
		if (!n)
			log_err("%s", errors->data ? errors->data : "out of memory");
		dynbuf_free(&lines);
		dynbuf_free(&warnings);
		return -EINVAL;
	}
	dynbuf_free(&lines);
	if (warnings.len)
		dynbuf_append(errors, warnings.data, warnings.len);
	dynbuf_free(&warnings);
	r = apply(m, 0, c, "reload", errors);
	if (r < 0)
		return r;
	events_reloaded(m);
	log_info("configuration reloaded: %zu rule%s, %zu forwarding%s", c->n_rules,
		 c->n_rules == 1 ? "" : "s", manager_n_forwardings(m),
		 manager_n_forwardings(m) == 1 ? "" : "s");
	return 0;
}

int manager_reload(struct manager *m, struct dynbuf *errors)
{
	int r;

	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now_us());
	r = reload(m, errors);
#ifdef __GLIBC__
	/* two configurations and their layouts were alive at once: give back what they left */
	malloc_trim(0);
#endif
	notify_send("READY=1");
	manager_notify_status(m, true);
	return r;
}

int manager_add_rule(struct manager *m, int argc, const char *const *argv, struct dynbuf *out)
{
	struct config *c = NULL;
	int r = rulebook_add(&m->book, "add", argc, argv, &c, out);

	return r == -EBADMSG ? r : apply(m, r, c, "add", out);
}

int manager_del_rule(struct manager *m, const char *name, const char *why, struct dynbuf *out)
{
	struct config *c = NULL;
	int r = rulebook_del(&m->book, name, &c, out);

	return r == -ENOENT ? r : apply(m, r, c, why, out);
}

int manager_clear_rules(struct manager *m, const char *why, struct dynbuf *out)
{
	struct config *c = NULL;
	int r = rulebook_clear(&m->book, &c, out);

	return apply(m, r, c, why, out);
}

int manager_autofw(struct manager *m, bool add, const char *name, const char *range,
		   const char *port, struct dynbuf *out)
{
	const char *why = add ? "ipautofw -A" : "ipautofw -D";
	struct config *c = NULL;
	struct rule *r;
	int ret = autofw_edit(rulebook_runtime(&m->book, name), name, range, port, add, &r, out);

	if (ret == AUTOFW_EDIT_NONE)
		return 1;
	if (ret == AUTOFW_EDIT_DEL)
		return manager_del_rule(m, name, why, out);
	if (ret == AUTOFW_EDIT_SET) {
		ret = rulebook_set(&m->book, r, &c, out);
		rule_free(r);
	}
	return apply(m, ret, c, why, out);
}

int manager_switch_rule(struct manager *m, const char *name, bool on, size_t *ret_closed,
			struct dynbuf *out)
{
	size_t before = manager_n_forwardings(m);
	struct config *c = NULL;
	int r = rulebook_switch(&m->book, name, on, &c, out);

	*ret_closed = 0;
	if (r == -ENOENT || r == 1)
		return r;
	r = apply(m, r, c, on ? "enable" : "disable", out);
	if (r == 0 && before > manager_n_forwardings(m))
		*ret_closed = before - manager_n_forwardings(m);
	return r;
}

int manager_flush(struct manager *m, const char *rule, int af, const union inaddr *addr,
		  size_t *ret_n)
{
	m->closing = "flush";
	*ret_n = engine_close(&m->eng, rule, af, addr, on_closed, m);
	m->closing = NULL;
	return *ret_n ? manager_write_changes(m, "flush") : 0;
}
