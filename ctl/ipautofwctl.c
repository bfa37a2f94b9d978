/*
 * ipautofwctl: talk to ipautofwd over its control socket.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"
#include "util.h"

#define DEFAULT_SOCKET "/run/ipautofw/control.sock"
#define EXIT_NOT_RUNNING 3
#define TIMEOUT_MS 30000

struct command {
	const char *name;
	const char *args;
	const char *help;
	int min_args;
	int max_args;
};

static const struct command commands[] = {
	{ "list", "", "active forwardings (the default command)", 0, 0 },
	{ "rules", "", "configured rules and where they came from", 0, 0 },
	{ "status", "", "rules, forwardings, counters and trigger latency", 0, 0 },
	{ "reload", "", "re-read the rule files; on error keep the running rules", 0, 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: ipautofwctl [-s PATH] [-j] [COMMAND [ARGS...]]\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %-10s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(f, "\nOptions:\n"
		   "  -s, --socket PATH  control socket (default $IPAUTOFW_SOCKET or %s)\n"
		   "  -j, --json         print JSON\n"
		   "  -h, --help         show this help\n"
		   "  -V, --version      show the version\n\n"
		   "Exit status: 0 ok, 1 failure, 2 usage, 3 daemon not running.\n",
		DEFAULT_SOCKET);
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	const char *path = getenv("IPAUTOFW_SOCKET");
	struct dynbuf req = { 0 }, rep = { 0 };
	const char *cmd = "list", *text;
	unsigned flags = 0;
	size_t text_len, i;
	int opt, fd, r, status;

	if (!path || !path[0])
		path = DEFAULT_SOCKET;
	while ((opt = getopt_long(argc, argv, "+s:jhV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			flags |= CTLPROTO_JSON;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ipautofwctl %s\n", VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, cmd))
			break;
	if (i == ARRAY_SIZE(commands)) {
		fprintf(stderr, "ipautofwctl: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (argc - optind < commands[i].min_args || argc - optind > commands[i].max_args) {
		fprintf(stderr, "usage: ipautofwctl %s %s\n", cmd, commands[i].args);
		return 2;
	}
	r = ctlproto_encode_request(&req, flags, cmd, argc - optind, (const char *const *)argv + optind);
	if (r < 0) {
		fprintf(stderr, "ipautofwctl: request too large\n");
		return 2;
	}
	fd = connect_socket(path);
	if (fd < 0) {
		if (fd == -ENOENT || fd == -ECONNREFUSED) {
			fprintf(stderr, "ipautofwctl: ipautofwd is not running (no daemon at %s)\n", path);
			return EXIT_NOT_RUNNING;
		}
		fprintf(stderr, "ipautofwctl: %s: %s\n", path, strerror(-fd));
		return fd == -EACCES ? 1 : EXIT_NOT_RUNNING;
	}
	r = transact(fd, &req, &rep);
	close(fd);
	if (r < 0) {
		fprintf(stderr, "ipautofwctl: %s\n", strerror(-r));
		return 1;
	}
	r = rep.len ? ctlproto_decode_reply(rep.data, rep.len, &status, &text, &text_len) : -EPIPE;
	if (r <= 0) {
		fprintf(stderr, "ipautofwctl: %s reply from the daemon\n",
			r == 0 || r == -EPIPE ? "incomplete" : "malformed");
		return 1;
	}
	fwrite(text, 1, text_len, status ? stderr : stdout);
	dynbuf_free(&req);
	dynbuf_free(&rep);
	return status;
}
