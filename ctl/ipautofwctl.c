/*
 * ipautofwctl: talk to ipautofwd over its control socket.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/autofw.h"
#include "control/ctlproto.h"
#include "base/util.h"

#define EXIT_NOT_RUNNING 3
#define TIMEOUT_MS 30000

struct command {
	const char *name;
	const char *args;
	const char *help;
	int min_args;
	int max_args;
	const char *more;
};

static const struct command commands[] = {
	{ "list", "", "active forwardings (the default command)", 0, 0,
	  "One row per forward range: rule, family, protocol, ports, host, peer and the\n"
	  "time left (\"static\" for fixed hosts). -j prints a JSON array.\n" },
	{ "rules", "", "configured rules, where they came from, their state", 0, 0,
	  "Each rule in rule-file form, with the FILE:LINE it came from (\"runtime\" for\n"
	  "rules added with add or ipautofw -A), whether it is enabled (and whether\n"
	  "enable or disable said so at run time), how many forwardings it holds and\n"
	  "when it last triggered. -j prints a JSON array.\n" },
	{ "add", "RULE...", "add a runtime rule (the words of a rule line)", 1, 256,
	  "The words after add are a rule line without the leading \"rule\", e.g.\n"
	  "  ipautofwctl add realaudio trigger 7070/tcp forward 6970-7170/udp\n"
	  "Errors point at the column in that line. Runtime rules last until del,\n"
	  "ipautofw -F or a restart of the daemon; a reload keeps them. Needs root.\n" },
	{ "del", "NAME", "remove a runtime rule and its forwardings", 1, 1,
	  "Rules from rule files are removed by editing the file and reloading. Needs root.\n" },
	{ "flush", "[NAME|HOST]", "close active forwardings (all, of a rule, of a host)", 0, 1,
	  "Closes forwardings now instead of at their timeout; static ones stay. Needs root.\n" },
	{ "enable", "NAME", "switch a rule on at run time", 1, 1,
	  "The rule triggers again (a static rule forwards again). A switch lasts while\n"
	  "a rule of that name exists, through reloads, but not a restart of the daemon;\n"
	  "it overrides 'disabled' in the rule's line. Needs root.\n" },
	{ "disable", "NAME", "switch a rule off at run time, closing its forwardings", 1, 1,
	  "The rule stays loaded and listed but never triggers; its forwardings close\n"
	  "at once and their connections are cut as by flush. A switch lasts while a\n"
	  "rule of that name exists, through reloads, but not a restart of the daemon.\n"
	  "Needs root.\n" },
	{ "reload", "", "re-read the rule files; on error keep the running rules", 0, 0,
	  "Prints every error (FILE:LINE:COL) and exits 1 if the files are wrong; the\n"
	  "running rules and forwardings stay. Unchanged rules keep their forwardings.\n"
	  "Needs root.\n" },
	{ "status", "", "rules, forwardings, counters, latency, interfaces, warnings", 0, 0,
	  "Counters since the daemon started and the time from a trigger packet's arrival\n"
	  "to its forwarding being in the kernel (p50/p99 of the last 1024), the WAN and\n"
	  "LAN interfaces in use, and warnings: 'no WAN interface' (nothing can trigger),\n"
	  "what the firewall would drop.\n" },
	{ "metrics", "[--output FILE]", "the daemon's figures for Prometheus", 0, 2,
	  "Counters, gauges and the trigger latency histogram in the Prometheus text\n"
	  "format (what the node exporter's textfile collector and promtool read): triggers\n"
	  "by outcome, forwardings by rule and family, expirations and closes, NFLOG\n"
	  "losses, resyncs, table re-creations, learn mode, control socket clients, the\n"
	  "kernel facilities in use and the version. Counters count from the daemon's\n"
	  "start and go on across reexec. --output FILE writes FILE atomically (a\n"
	  "temporary file in its directory, then renamed), for the textfile collector:\n"
	  "  ipautofwctl metrics --output /var/lib/prometheus/node-exporter/ipautofw.prom\n"
	  "(OpenWrt's prometheus-node-exporter-lua reads /var/prometheus/*.prom).\n" },
	{ "monitor", "", "print events as they happen, until interrupted", 0, 0,
	  "One line per event: opened, refreshed, taken_over (with the old host), refused\n"
	  "(exclusive, max-per-host, max-forwardings), forged, expired, closed (flush, del,\n"
	  "disable, reload...), learned, reloaded. -j prints one JSON object per line,\n"
	  "each with at least \"event\", \"rule\" and \"host\". A monitor that stops reading\n"
	  "is dropped by the daemon (exit 1); the daemon never waits for it.\n" },
	{ "learn", "[--clear] [RULE]", "what learn mode saw, with a suggested forward list", 0, 2,
	  "While a forwarding is active, new inbound connections from the peer its host\n"
	  "contacted, to ports no forwarding covers, are recorded (and dropped as before):\n"
	  "per rule, peer and protocol, the ports, how many connections, first and last\n"
	  "seen. For each rule a suggested forward list: its forwards and every port\n"
	  "seen, ports up to 512 apart joined, less what other rules forward. --clear\n"
	  "forgets what was recorded (of one rule, or all) and needs root. -j prints one\n"
	  "JSON object.\n" },
	{ "trace", "HOST [--for DURATION]", "what happens to HOST's connections, in plain words", 1, 3,
	  "For DURATION (default 1m, at most 5m), one line for each new connection from\n"
	  "HOST and each new inbound connection to the rules' forward ports, from the\n"
	  "kernel's own trace: accepted, or dropped or rejected by which table, chain\n"
	  "and rule; which interface it left by and whether that is a WAN interface;\n"
	  "whether it was a trigger and what ipautofwd did with it (opened, refreshed,\n"
	  "took over, refused), or why not (forged, rate-limited); for inbound ones,\n"
	  "where they were DNATed (or the pinhole) and whether a forward chain then\n"
	  "dropped them. At most 10 packets a second of each kind are told; the trace\n"
	  "switches itself off at the end. -j prints one JSON object per packet.\n"
	  "Needs root.\n" },
	{ "reexec", "", "replace the daemon by the installed binary in place", 0, 0,
	  "The daemon re-executes the ipautofwd it was started from, in place: same PID,\n"
	  "same table, every forwarding with its remaining time, runtime rules kept;\n"
	  "systemd sees a reload, not a restart. A package upgrade runs this. The new\n"
	  "binary answers once it is ready; if it would not start (ipautofwd --check\n"
	  "fails) the running daemon stays and this exits 1. Needs root.\n" },
	{ "help", "[COMMAND]", "this text, or more about one command", 0, 1, NULL },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void command_help(const struct command *c)
{
	printf("Usage: ipautofwctl [-s PATH] [-j] %s %s\n%s.\n\n%s", c->name, c->args, c->help,
	       c->more ? c->more : "");
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: ipautofwctl [-s PATH] [-j] [COMMAND [ARGS...]]\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-7s %-16s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(f, "\nOptions:\n"
		   "  -s, --socket PATH  control socket (default $IPAUTOFW_SOCKET or %s)\n"
		   "  -j, --json         print JSON\n"
		   "  -h, --help         show this help\n"
		   "  -V, --version      show the version\n\n"
		   "Options may also follow the command (ipautofwctl list -j); after '--'\n"
		   "every word is the command's.\n"
		   "Exit status: 0 ok, 1 failure, 2 usage, 3 daemon not running.\n",
		CTLPROTO_SOCKET);
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int transact(int fd, const struct dynbuf *req, struct dynbuf *rep)
{
	size_t off = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[65536];

	while (off < req->len) {
		ssize_t n = write(fd, req->data + off, req->len - off);

		if (n < 0 && errno == EPIPE)
			break;	/* the daemon may still have said why */
		if (n < 0)
			return -errno;
		off += n;
	}
	for (;;) {
		ssize_t n;
		int r = poll(&p, 1, TIMEOUT_MS);

		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		dynbuf_append((struct dynbuf *)rep, buf, n);
		if (rep->oom)
			return -ENOMEM;
		if (rep->len > CTLPROTO_REPLY_MAX + 4)
			return -E2BIG;
	}
}

/* TEXT into PATH at once: a temporary file beside it, renamed over it (readers see all or nothing) */
static int write_atomic(const char *path, const char *text, size_t len)
{
	char *tmp;
	size_t off = 0;
	int fd, r = 0;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	if (fchmod(fd, 0644) < 0)
		r = -errno;
	while (r == 0 && off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}


/*
 * Why the daemon cannot be reached, in words that say what to do; the exit
 * status. The group named is the socket's own (the daemon's --socket-group).
 */
static int connect_failed(const char *path, int err)
{
	const char *me = program_invocation_short_name;
	struct stat st;
	struct group *g;

	if (err == -ENOENT || err == -ECONNREFUSED) {
		fprintf(stderr, "%s: ipautofwd is not running (no daemon at %s)\n"
			"Start it with 'systemctl start ipautofw'; 'journalctl -u ipautofw' says why "
			"it stopped or would not start.\n", me, path);
		return EXIT_NOT_RUNNING;
	}
	if (err == -EACCES || err == -EPERM) {
		g = stat(path, &st) == 0 && st.st_gid ? getgrgid(st.st_gid) : NULL;
		if (g)
			fprintf(stderr, "%s: permission denied on %s: the read commands are for root "
				"and members of group '%s' (adduser USER %s, then log in again); "
				"the others need root\n", me, path, g->gr_name, g->gr_name);
		else
			fprintf(stderr, "%s: permission denied on %s: the daemon lets only root in; "
				"for other readers it needs a group (group 'ipautofw', as the package "
				"creates, or ipautofwd --socket-group)\n", me, path);
		return 1;
	}
	fprintf(stderr, "%s: %s: %s\n", me, path, strerror(-err));
	return EXIT_NOT_RUNNING;
}

/* A request; its reply goes to stdout (to OUTPUT, written at once, if not NULL), errors to stderr */
static int request(const char *path, unsigned flags, const char *cmd, int argc,
		   const char *const *argv, bool quiet_ok, const char *output)
{
	struct dynbuf req = { 0 }, rep = { 0 };
	const char *text;
	size_t text_len;
	int fd, r, status;

	r = ctlproto_encode_request(&req, flags, cmd, argc, argv);
	if (r < 0) {
		fprintf(stderr, "%s: request too large\n", program_invocation_short_name);
		return 2;
	}
	fd = connect_socket(path);
	if (fd < 0) {
		dynbuf_free(&req);
		return connect_failed(path, fd);
	}
	r = transact(fd, &req, &rep);
	close(fd);
	dynbuf_free(&req);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", program_invocation_short_name, strerror(-r));
		dynbuf_free(&rep);
		return 1;
	}
	r = rep.len ? ctlproto_decode_reply(rep.data, rep.len, &status, &text, &text_len) : -EPIPE;
	if (r <= 0) {
		fprintf(stderr, "%s: %s reply from the daemon\n", program_invocation_short_name,
			r == 0 || r == -EPIPE ? "incomplete" : "malformed");
		dynbuf_free(&rep);
		return 1;
	}
	if (!status && output) {
		r = write_atomic(output, text, text_len);
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, output, strerror(-r));
			status = 1;
		}
	} else if (status || !quiet_ok) {
		fwrite(text, 1, text_len, status ? stderr : stdout);
	}
	dynbuf_free(&rep);
	return status;
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	interrupted = 1;
}

/*
 * monitor: the daemon's reply frame, then event lines until the daemon
 * ends the stream (it stopped, or dropped us for not reading) or we are
 * interrupted (exit 0).
 */
static int monitor(const char *path, unsigned flags, const char *cmd, int argc,
		   const char *const *argv)
{
	struct sigaction sa = { .sa_handler = on_interrupt };
	struct dynbuf req = { 0 }, rep = { 0 };
	const char *text;
	size_t text_len;
	int fd, r = 0, status;
	bool streaming = false;
	char buf[65536];

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ctlproto_encode_request(&req, flags, cmd, argc, argv) < 0)
		return 1;
	fd = connect_socket(path);
	if (fd < 0) {
		dynbuf_free(&req);
		return connect_failed(path, fd);
	}
	if (write(fd, req.data, req.len) != (ssize_t)req.len)
		r = -errno;
	dynbuf_free(&req);
	while (r == 0 && !interrupted) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0) {
			r = n < 0 && errno == EINTR ? 0 : -EPIPE;
			break;
		}
		if (streaming) {
			/* the stream: event lines as they come */
			if (write(STDOUT_FILENO, buf, n) != n)
				interrupted = 1;	/* whoever read our output is gone */
			continue;
		}
		dynbuf_append(&rep, buf, n);
		r = ctlproto_decode_reply(rep.data, rep.len, &status, &text, &text_len);
		if (r == 0)
			continue;
		if (r < 0)
			break;
		if (status) {
			fwrite(text, 1, text_len, stderr);
			close(fd);
			dynbuf_free(&rep);
			return status;
		}
		if ((size_t)r < rep.len && write(STDOUT_FILENO, rep.data + r, rep.len - r) < 0)
			interrupted = 1;
		dynbuf_free(&rep);
		streaming = true;
		r = 0;
	}
	close(fd);
	dynbuf_free(&rep);
	if (interrupted)
		return 0;
	/* a trace ends by itself: the daemon's last line said so */
	if (r == -EPIPE && streaming && !strcmp(cmd, "trace"))
		return 0;
	if (r == -EPIPE)
		fprintf(stderr, "%s: the daemon ended the stream\n", program_invocation_short_name);
	else if (r < 0)
		fprintf(stderr, "%s: malformed reply from the daemon\n", program_invocation_short_name);
	return 1;
}

/* ipautofw: the 1996 command line */
static int autofw_main(int argc, char **argv, const char *path)
{
	struct autofw_cmd c;
	const char *args[AUTOFW_ARGS_MAX];
	char err[256];

	/* -h is the 1996 fixed host: only the long forms ask for help */
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "--version"))) {
		if (!strcmp(argv[1], "--help"))
			fputs(autofw_usage, stdout);
		else
			printf("ipautofw (ipautofwctl) %s\n", VERSION);
		return 0;
	}
	if (autofw_parse(argc, argv, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "ipautofw: %s\n\n%s", err, autofw_usage);
		return 2;
	}
	if (c.usage) {
		fputs(autofw_usage, stdout);
		return 0;
	}
	for (int i = 0; i < c.argc; i++)
		args[i] = c.args[i];
	return request(path, 0, c.cmd, c.argc, args, !c.verbose && strcmp(c.cmd, "list"), NULL);
}

static const char *suggest_command(const char *cmd)
{
	const char *names[ARRAY_SIZE(commands)];

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		names[i] = commands[i].name;
	return suggest_word(cmd, strlen(cmd), names, ARRAY_SIZE(names));
}

static void unknown_command(const char *cmd)
{
	struct dynbuf e = { 0 };
	const char *guess = suggest_command(cmd);

	dynbuf_append_escaped(&e, cmd, strlen(cmd));
	fprintf(stderr, "ipautofwctl: unknown command '%s'", e.data ? e.data : "");
	if (guess)
		fprintf(stderr, " (did you mean '%s'?)", guess);
	fprintf(stderr, "; try 'ipautofwctl help'\n");
	dynbuf_free(&e);
}

/* ipautofwctl's words: options anywhere (before a "--"), the command and its arguments */
struct args {
	const char *path;
	unsigned flags;
	bool help, version;
	const char *words[258];
	int n_words;
};

static int bad_option(const char *what, const char *opt)
{
	struct dynbuf e = { 0 };

	dynbuf_append_escaped(&e, opt, strlen(opt));
	fprintf(stderr, "ipautofwctl: %s '%s'; try 'ipautofwctl help'\n", what, e.data ? e.data : "");
	dynbuf_free(&e);
	return 2;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	bool dashdash = false;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (dashdash || s[0] != '-' || !s[1] || !strcmp(s, "--clear") || !strcmp(s, "--for") ||
		    !strcmp(s, "--output") || !strcmp(s, "-o")) {
			if (a->n_words == (int)ARRAY_SIZE(a->words))
				return bad_option("too many arguments from", s);
			a->words[a->n_words++] = s;
		} else if (!strcmp(s, "--")) {
			dashdash = true;
		} else if (!strcmp(s, "--json")) {
			a->flags |= CTLPROTO_JSON;
		} else if (!strcmp(s, "--help")) {
			a->help = true;
		} else if (!strcmp(s, "--version")) {
			a->version = true;
		} else if (!strcmp(s, "--socket") || !strncmp(s, "--socket=", 9)) {
			if (s[8] == '=')
				a->path = s + 9;
			else if (i + 1 < argc)
				a->path = argv[++i];
			else
				return bad_option("missing PATH after", s);
		} else if (s[1] == '-') {
			return bad_option("unknown option", s);
		} else {
			for (const char *c = s + 1; *c; c++) {
				if (*c == 'j') {
					a->flags |= CTLPROTO_JSON;
				} else if (*c == 'h') {
					a->help = true;
				} else if (*c == 'V') {
					a->version = true;
				} else if (*c == 's') {
					if (c[1])
						a->path = c + 1;
					else if (i + 1 < argc)
						a->path = argv[++i];
					else
						return bad_option("missing PATH after", s);
					break;
				} else {
					char o[3] = { '-', *c, 0 };

					return bad_option("unknown option", o);
				}
			}
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct args a = { .path = getenv("IPAUTOFW_SOCKET") };
	const struct command *c;
	const char *cmd = "list";
	const char *const *w;
	int n, r;

	if (!a.path || !a.path[0])
		a.path = CTLPROTO_SOCKET;
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(program_invocation_short_name, "ipautofw"))
		return autofw_main(argc, argv, a.path);
	r = parse_args(argc, argv, &a);
	if (r >= 0)
		return r;
	if (a.version) {
		printf("ipautofwctl %s\n", VERSION);
		return 0;
	}
	if (a.n_words)
		cmd = a.words[0];
	c = find_command(cmd);
	if (!c) {
		unknown_command(cmd);
		return 2;
	}
	w = a.words + (a.n_words ? 1 : 0);
	n = a.n_words ? a.n_words - 1 : 0;
	if (a.help && !a.n_words) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "help")) {
		if (n == 0) {
			usage(stdout);
			return 0;
		}
		c = find_command(w[0]);
		if (!c) {
			unknown_command(w[0]);
			return 2;
		}
		command_help(c);
		return 0;
	}
	if (a.help) {
		command_help(c);
		return 0;
	}
	if (n < c->min_args || n > c->max_args) {
		fprintf(stderr, "usage: ipautofwctl %s %s (try 'ipautofwctl help %s')\n", cmd, c->args,
			cmd);
		return 2;
	}
	if (!strcmp(cmd, "monitor"))
		return monitor(a.path, a.flags, cmd, 0, NULL);
	if (!strcmp(cmd, "trace")) {
		if (n == 2 || (n == 3 && strcmp(w[1], "--for")) || (n == 1 && !strcmp(w[0], "--for"))) {
			fprintf(stderr, "usage: ipautofwctl trace %s\n", c->args);
			return 2;
		}
		return monitor(a.path, a.flags, cmd, n, w);
	}
	if (!strcmp(cmd, "learn") && n && !strcmp(w[0], "--clear"))
		return request(a.path, a.flags, "learn-clear", n - 1, w + 1, false, NULL);
	if (!strcmp(cmd, "learn") && n > 1) {
		fprintf(stderr, "usage: ipautofwctl learn %s\n", c->args);
		return 2;
	}
	if (!strcmp(cmd, "metrics") && n) {
		if (n != 2 || (strcmp(w[0], "--output") && strcmp(w[0], "-o"))) {
			fprintf(stderr, "usage: ipautofwctl metrics %s\n", c->args);
			return 2;
		}
		return request(a.path, a.flags, cmd, 0, NULL, false, w[1]);
	}
	for (int i = 0; i < n; i++)
		if (!strcmp(w[i], "--clear") || !strcmp(w[i], "--for") || !strcmp(w[i], "--output") ||
		    !strcmp(w[i], "-o"))
			return bad_option("unknown option", w[i]);
	return request(a.path, a.flags, cmd, n, w, false, NULL);
}
