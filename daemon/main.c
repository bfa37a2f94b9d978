/*
 * ipautofwd: port triggering for nftables. main parses the options, puts
 * the loop, the manager (which owns the state) and the control socket
 * together, runs the loop, and takes it all apart in reverse order.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/ctlproto.h"
#include "daemon.h"
#include "control/handover.h"
#include "log.h"
#include "nft/nftobj.h"
#include "metrics.h"
#include "notify.h"

#define DEFAULT_GROUP 7070

struct options {
	struct manager_options m;
	const char *dirs[64];
	const char *sockpath;
	const char *sockgroup;
	bool foreground, check, dry_run, verbose, use_syslog;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ipautofwd [OPTIONS]\n"
		"       ipautofwd --check|--dry-run [OPTIONS] [FILE...]\n"
		"Port triggering for nftables.\n\n"
		"  -f, --foreground        stay in the foreground, log to stderr\n"
		"  -C, --config-dir DIR    read rule files from DIR (repeatable; replaces\n"
		"                          /etc/ipautofw.d /run/ipautofw.d /usr/lib/ipautofw.d)\n"
		"  -u, --uci FILE          also read OpenWrt's UCI configuration from FILE\n"
		"                          (/etc/config/ipautofw), before the rule files\n"
		"      --ifnames FILE      the devices each name in lan and wan lists stands\n"
		"                          for: lines NAME DEVICE... (written by the init script)\n"
		"  -s, --socket PATH       control socket (default %s)\n"
		"  -g, --nflog-group N     NFLOG group for trigger packets (default %d)\n"
		"      --learn-group N     NFLOG group of learn mode (default: the one after -g)\n"
		"      --socket-group NAME group that may use read commands on the control\n"
		"                          socket (default: ipautofw if it exists, else root)\n"
		"      --no-owner          do not own the table: nft may inspect and change it\n"
		"                          (the daemon re-creates it if it is deleted)\n"
		"      --no-persist        do not keep the table when the daemon dies: a crash\n"
		"                          closes every forwarding at once\n"
		"      --no-kernel-path    the kernel does not open first forwardings itself:\n"
		"                          the daemon opens all (about 100 us after a trigger)\n"
		"      --check [FILE...]   check the configuration (or only the FILEs given,\n"
		"                          whatever their names) and exit: 0 if it loads, 1 with\n"
		"                          every error (no privileges needed)\n"
		"      --dry-run [FILE...] print the nf_tables ruleset the configuration (or\n"
		"                          the FILEs) would load, in nft -f syntax, and exit\n"
		"                          (no privileges needed)\n"
		"      --syslog            log to syslog in the foreground too (without -f\n"
		"                          the daemon always does)\n"
		"  -v, --verbose           log debug messages\n"
		"  -h, --help              show this help\n"
		"  -V, --version           show the version\n",
		CTLPROTO_SOCKET, DEFAULT_GROUP);
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' }, { "config-dir", required_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, 's' }, { "nflog-group", required_argument, NULL, 'g' },
		{ "learn-group", required_argument, NULL, 'L' },
		{ "socket-group", required_argument, NULL, 'G' }, { "no-owner", no_argument, NULL, 'O' },
		{ "no-persist", no_argument, NULL, 'P' }, { "check", no_argument, NULL, 'k' },
		{ "no-kernel-path", no_argument, NULL, 'K' },
		{ "dry-run", no_argument, NULL, 'n' }, { "syslog", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { "uci", required_argument, NULL, 'u' },
		{ "ifnames", required_argument, NULL, 'I' }, { 0 }
	};
	unsigned long g;
	int opt, learn_group = -1;
	char *end;

	o->sockpath = getenv("IPAUTOFW_SOCKET") ? getenv("IPAUTOFW_SOCKET") : CTLPROTO_SOCKET;
	o->m.group = DEFAULT_GROUP;
	o->m.confdirs = config_default_dirs;
	o->m.n_confdirs = ARRAY_SIZE(config_default_dirs);
	while ((opt = getopt_long(argc, argv, "fC:s:g:u:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': o->foreground = true; break;
		case 'C':
			if (o->m.confdirs == config_default_dirs)
				o->m.confdirs = o->dirs, o->m.n_confdirs = 0;
			if (o->m.n_confdirs == ARRAY_SIZE(o->dirs)) {
				fprintf(stderr, "ipautofwd: too many --config-dir options\n");
				return 2;
			}
			o->dirs[o->m.n_confdirs++] = optarg;
			break;
		case 's': o->sockpath = optarg; break;
		case 'u': o->m.uci = optarg; break;
		case 'I': o->m.ifnames = optarg; break;
		case 'g':
		case 'L':
			g = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || g > 65535) {
				fprintf(stderr, "ipautofwd: invalid NFLOG group '%s' (0-65535)\n", optarg);
				return 2;
			}
			if (opt == 'g')
				o->m.group = g;
			else
				learn_group = g;
			break;
		case 'G': o->sockgroup = optarg; break;
		case 'O': o->m.no_owner = true; break;
		case 'P': o->m.no_persist = true; break;
		case 'K': o->m.no_kernel_path = true; break;
		case 'k': o->check = true; break;
		case 'n': o->dry_run = true; break;
		case 'S': o->use_syslog = true; break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); return 0;
		/* exactly the package's version: packaging checks compare it */
		case 'V': printf("%s\n", VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && !o->check && !o->dry_run) {
		fprintf(stderr, "ipautofwd: unexpected argument '%s' (rule files are given to --check "
			"or --dry-run, or their directory with -C)\n", argv[optind]);
		return 2;
	}
	if (optind < argc && o->m.confdirs != config_default_dirs) {
		fprintf(stderr, "ipautofwd: give rule files or -C DIR, not both\n");
		return 2;
	}
	if (optind < argc) {
		o->m.files = (const char *const *)argv + optind;
		o->m.n_files = argc - optind;
	}
	/* the forwardings' file (lib/engine/fwsave.h) beside the control socket */
	{
		static char state[PATH_MAX];
		const char *slash = strrchr(o->sockpath, '/');

		if (snprintf(state, sizeof(state), "%.*s/forwardings", slash ? (int)(slash - o->sockpath) : 1,
			     slash ? o->sockpath : ".") < (int)sizeof(state))
			o->m.state_path = state;
	}
	o->m.learn_group = learn_group >= 0 ? learn_group : o->m.group < 65535 ? o->m.group + 1 :
			   o->m.group - 1;
	if (o->m.learn_group == o->m.group) {
		fprintf(stderr, "ipautofwd: the learn group must differ from the NFLOG group (%u)\n",
			o->m.group);
		return 2;
	}
	return -1;
}

/*
 * The rule files, or NULL with *RET_EXIT set: after --check or --dry-run,
 * or on errors (under systemd one journal entry at err per error).
 */
static struct config *load(const struct options *o, int *ret_exit)
{
	struct dynbuf errors = { 0 }, lines = { 0 };
	struct config *c = manager_load_files(&o->m, &errors, &lines);
	unsigned n = log_count_lines(&lines);

	*ret_exit = 1;
	if (!c && !o->check && !o->dry_run && log_detect_target() == LOG_TARGET_JOURNAL && n) {
		log_setup(LOG_TARGET_JOURNAL, o->verbose);
		log_err("cannot start: %u error%s in the configuration:", n, n == 1 ? "" : "s");
		log_err_lines(&lines);
	} else if (!c) {
		fputs(errors.data ? errors.data : "out of memory\n", stderr);
	} else if (o->dry_run) {
		if (c->errors.len)
			fwrite(c->errors.data, 1, c->errors.len, stderr);
		/* what the daemon would load at start, built like it */
		*ret_exit = tablewrite_dry_run(c, o->m.group, o->m.learn_group, !o->m.no_kernel_path,
					       &errors) < 0 ||
			    fwrite(errors.data, 1, errors.len, stdout) != errors.len || fflush(stdout);
		c = NULL;
	} else if (o->check) {
		if (c->errors.len)
			fwrite(c->errors.data, 1, c->errors.len, stderr);
		printf("configuration OK: %zu rule%s", c->n_rules, c->n_rules == 1 ? "" : "s");
		if (c->n_warnings)
			printf(", %u warning%s", c->n_warnings, c->n_warnings == 1 ? "" : "s");
		printf("\n");
		*ret_exit = 0;
		c = config_free(c);
	}
	dynbuf_free(&errors);
	dynbuf_free(&lines);
	return c;
}

static void on_signal(int signo, void *data)
{
	struct daemon *d = data;
	struct dynbuf errors = { 0 };

	if (signo == SIGHUP) {
		log_info("SIGHUP: reloading");
		manager_reload(&d->m, &errors);
		dynbuf_free(&errors);
		return;
	}
	log_info("%s: removing table inet %s and exiting", strsignal(signo), NFTOBJ_TABLE);
	d->quit = true;
}

static void ready(struct daemon *d, bool reexeced, int client_fd)
{
	log_info("ready%s: %zu rule%s, NFLOG group %u, control socket %s",
		 reexeced ? " (re-executed)" : "", manager_n_rules(&d->m),
		 manager_n_rules(&d->m) == 1 ? "" : "s", d->m.opt.group, d->ctl.sockpath);
	manager_notify_status(&d->m, true);
	notify_ready();
	if (client_fd >= 0)
		reexec_reply(client_fd, d);
}

/* Each turn ends with the manager's work, the clients' deadlines and the timer armed. */
static void run(struct daemon *d)
{
	uint64_t next, cnext;
	int r = 0;

	while (r == 0) {
		next = manager_end_turn(&d->m);
		cnext = control_tick(&d->ctl, now_ms());
		loop_arm(&d->loop, cnext < next ? cnext : next);
		if (d->ctl.reexec_client && !d->quit)
			daemon_reexec(d);
		if (d->quit)
			break;
		r = loop_dispatch(&d->loop);
	}
	if (r < 0)
		log_err("epoll_wait: %s", strerror(-r));
}

int main(int argc, char **argv)
{
	static struct daemon dd;
	struct daemon *d = &dd;
	struct options o = { 0 };
	struct handover_fds inh;
	struct handover_state st;
	struct config *files;
	int r, status = 1;
	bool reexeced;

	reexec_init(argv);
	r = parse_options(argc, argv, &o);
	if (r >= 0)
		return r;
	files = load(&o, &r);
	if (!files)
		return r;
	/* under systemd (Type=notify) the service manager does the detaching */
	notify_init();
	/* a re-exec keeps the PID: it detached, if at all, the first time */
	reexeced = getenv(HANDOVER_ENV);
	if (!o.foreground && !getenv("NOTIFY_SOCKET")) {
		r = reexeced ? 0 : notify_detach();
		if (r < 0) {
			fprintf(stderr, "ipautofwd: cannot detach: %s\n", strerror(-r));
			config_free(files);
			return 1;
		}
		o.use_syslog = true;
	}
	log_setup(o.use_syslog ? LOG_TARGET_SYSLOG : log_detect_target(), o.verbose);
	log_warn_lines(&files->warning_lines);
	if (reexec_inherited(&inh, &st) < 0) {
		config_free(files);
		return 1;
	}
	r = manager_init(&d->m, &d->loop, &o.m, files, &st);
	if (r < 0) {
		log_err("out of memory");
		goto out_manager;
	}
	r = loop_init(&d->loop);
	if (r < 0 || (r = loop_signals(&d->loop, on_signal, d)) < 0) {
		log_err("event loop setup: %s", strerror(-r));
		goto out_loop;
	}
	control_init(&d->ctl, &d->loop, &d->m, o.sockpath, o.sockgroup);
	metrics_restore(&d->m, &d->ctl, &st);
	handover_state_free(&st);
	/* first: a second daemon given the same socket stops here, before touching any table */
	r = control_listen(&d->ctl, inh.control);
	if (r < 0) {
		log_err("control socket %s: %s", o.sockpath, strerror(-r));
		goto out_loop;
	}
	if (manager_open(&d->m, &inh) < 0)
		goto out_control;
	ready(d, reexeced, inh.client);
	run(d);
	notify_send("STOPPING=1");
	manager_close(&d->m);
	status = 0;
out_control:
	control_close(&d->ctl);
out_loop:
	loop_fini(&d->loop);
out_manager:
	handover_state_free(&st);
	manager_fini(&d->m);
	notify_close();
	return status;
}
