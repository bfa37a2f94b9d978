/*
 * ipautofwctl reexec: replace the running daemon by the installed binary
 * in place, same PID, keeping every forwarding (what a package upgrade
 * does). The nft socket that owns table inet ipautofw stays open across
 * execve(), so the table never goes away, on kernels without
 * NFT_TABLE_F_PERSIST too; so do the NFLOG socket (triggers that arrive
 * meanwhile wait in it), the control socket, and the client that asked,
 * which the new binary answers once it is ready. The new binary adopts the
 * forwardings from the table with their remaining time, as after a crash;
 * what only the process knew (runtime rules, start time, counters) goes in
 * a state file. systemd sees RELOADING=1 ... READY=1 from the same PID: no restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/ctlproto.h"
#include "daemon.h"
#include "control/handover.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"

#define CHECK_OUTPUT_MAX 4096
#define STATE_MAX (16u << 20)

static char exe[PATH_MAX];
static char **saved_argv;

extern char **environ;

void reexec_init(char **argv)
{
	static const char deleted[] = " (deleted)";
	ssize_t n;

	saved_argv = argv;
	/* the path it was started by: after an upgrade /proc/self/exe is the old file */
	if (argv[0][0] == '/' && strlen(argv[0]) < sizeof(exe)) {
		strcpy(exe, argv[0]);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (n > (ssize_t)strlen(deleted) && !strcmp(exe + n - strlen(deleted), deleted))
		exe[n - strlen(deleted)] = '\0';
}

static int set_cloexec(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return -errno;
	flags = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, flags) < 0 ? -errno : 0;
}

/*
 * Run the new binary with --check and the same options first: a binary
 * that does not start, or rejects the rule files, is not exec'd into.
 */
static int preflight(struct dynbuf *errors)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct dynbuf out = { 0 };
	sigset_t none;
	char **argv, buf[512];
	size_t argc = 0;
	int p[2], r, status;
	pid_t pid;

	while (saved_argv[argc])
		argc++;
	argv = calloc(argc + 2, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	memcpy(argv, saved_argv, argc * sizeof(*argv));
	argv[argc] = "--check";
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(argv);
		return -errno;
	}
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	r = -posix_spawn(&pid, exe, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(argv);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		dynbuf_printf(errors, "cannot run %s: %s\n", exe, strerror(-r));
		return r;
	}
	for (;;) {
		ssize_t n = read(p[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out.len < CHECK_OUTPUT_MAX)
			dynbuf_append(&out, buf, n);
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			dynbuf_free(&out);
			return -errno;
		}
	}
	r = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
	if (r < 0) {
		if (out.len)
			dynbuf_append(errors, out.data, out.len);
		dynbuf_printf(errors, "%s --check failed\n", exe);
	}
	dynbuf_free(&out);
	return r;
}

/* What only the process knows, in a file for the new binary; returns its descriptor. */
static int write_state(struct daemon *d, struct handover_fds *f)
{
	struct handover_state st = { 0 };
	struct dynbuf b = { 0 };
	size_t off = 0;
	int fd, r = manager_handover(&d->m, &st, f);

	if (r == 0)
		r = metrics_save(&d->m, &d->ctl, &st);
	if (r < 0) {
		handover_state_free(&st);
		return r;
	}
	handover_format_state(&b, &st);
	handover_state_free(&st);
	if (b.oom)
		return -ENOMEM;
	/* no MFD_CLOEXEC: it is for the next program */
	fd = memfd_create("ipautofw-state", 0);
	if (fd < 0) {
		dynbuf_free(&b);
		return -errno;
	}
	while (off < b.len && r == 0) {
		ssize_t n = write(fd, b.data + off, b.len - off);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += n;
	}
	dynbuf_free(&b);
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int exec_self(struct daemon *d, struct dynbuf *errors)
{
	struct handover_fds f;
	int *fds[] = { &f.nft, &f.nflog, &f.control, &f.client, &f.state };
	char env[192];
	int r;

	r = preflight(errors);
	if (r < 0)
		return r;
	handover_fds_init(&f);
	f.state = write_state(d, &f);
	if (f.state < 0) {
		dynbuf_printf(errors, "writing the state for the new binary: %s\n", strerror(-f.state));
		return f.state;
	}
	f.control = d->ctl.w.fd;
	f.client = d->ctl.reexec_client->w.fd;
	r = handover_format_fds(&f, env, sizeof(env));
	for (size_t i = 0; i < ARRAY_SIZE(fds) && r == 0; i++)
		r = set_cloexec(*fds[i], false);
	if (r == 0 && setenv(HANDOVER_ENV, env, 1) < 0)
		r = -errno;
	if (r == 0) {
		/* finish the queued conntrack clean-ups: the thread ends with the exec */
		manager_exec_prepare(&d->m);
		log_info("re-executing %s (%zu forwarding%s kept)", exe, manager_n_forwardings(&d->m),
			 manager_n_forwardings(&d->m) == 1 ? "" : "s");
		notify_send("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)now_us());
		execv(exe, saved_argv);
		r = -errno;
		notify_send("READY=1");
		manager_exec_failed(&d->m);
		unsetenv(HANDOVER_ENV);
	}
	dynbuf_printf(errors, "re-executing %s: %s\n", exe, strerror(-r));
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		set_cloexec(*fds[i], true);
	close(f.state);
	return r;
}

void daemon_reexec(struct daemon *d)
{
	struct dynbuf errors = { 0 };
	struct client *c = d->ctl.reexec_client;

	if (!exe[0])
		dynbuf_printf(&errors, "cannot tell which binary this daemon was started from\n");
	else
		exec_self(d, &errors);
	dynbuf_printf(&errors, "reexec refused: ipautofwd %s keeps running\n", VERSION);
	log_err("%s", errors.data ? errors.data : "reexec refused: out of memory");
	d->ctl.reexec_client = NULL;
	/* the loop releases the answered client before it waits again */
	control_reply(&d->ctl, c, CTLPROTO_FAILED, errors.data ? errors.data : "out of memory\n");
	dynbuf_free(&errors);
}

static bool is_socket(int fd, int domain, int protocol)
{
	int v;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != domain)
		return false;
	len = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 && v == protocol;
}

static int read_state(int fd, struct handover_state *st)
{
	struct dynbuf b = { 0 };
	char buf[4096];
	int r;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dynbuf_free(&b);
			return -errno;
		}
		if (n == 0)
			break;
		dynbuf_append(&b, buf, n);
		if (b.oom || b.len > STATE_MAX) {
			dynbuf_free(&b);
			return -EFBIG;
		}
	}
	r = handover_parse_state(b.data ? b.data : "", b.len, st);
	dynbuf_free(&b);
	return r;
}

int reexec_inherited(struct handover_fds *ret, struct handover_state *st)
{
	const char *env = getenv(HANDOVER_ENV);
	int *fds[] = { &ret->nft, &ret->nflog, &ret->control, &ret->client, &ret->state };
	struct stat sb;
	int r;

	handover_fds_init(ret);
	*st = (struct handover_state){ 0 };
	if (!env)
		return 0;
	r = handover_parse_fds(env, ret);
	unsetenv(HANDOVER_ENV);
	if (r < 0) {
		log_err("%s: malformed", HANDOVER_ENV);
		return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0 && set_cloexec(*fds[i], true) < 0) {
			log_err("%s: descriptor %d is not open", HANDOVER_ENV, *fds[i]);
			return -EBADF;
		}
	if ((ret->nft >= 0 && !is_socket(ret->nft, AF_NETLINK, NETLINK_NETFILTER)) ||
	    (ret->nflog >= 0 && !is_socket(ret->nflog, AF_NETLINK, NETLINK_NETFILTER)) ||
	    (ret->control >= 0 && !is_socket(ret->control, AF_UNIX, 0)) ||
	    (ret->client >= 0 && !is_socket(ret->client, AF_UNIX, 0)) ||
	    (ret->state >= 0 && (fstat(ret->state, &sb) < 0 || !S_ISREG(sb.st_mode)))) {
		log_err("%s: a descriptor is not what it should be", HANDOVER_ENV);
		return -EBADF;
	}
	if (ret->state >= 0) {
		r = read_state(ret->state, st);
		close(ret->state);
		ret->state = -1;
		if (r < 0) {
			log_err("reading the state the previous daemon left: %s", strerror(-r));
			return r;
		}
	}
	return 1;
}

void reexec_reply(int fd, const struct daemon *d)
{
	struct dynbuf text = { 0 }, out = { 0 };

	dynbuf_printf(&text, "ipautofwd %s re-executed in place (pid %d): %zu rule%s, "
		      "%zu forwarding%s\n", VERSION, (int)getpid(), manager_n_rules(&d->m),
		      manager_n_rules(&d->m) == 1 ? "" : "s", manager_n_forwardings(&d->m),
		      manager_n_forwardings(&d->m) == 1 ? "" : "s");
	if (!text.oom && ctlproto_encode_reply(&out, CTLPROTO_OK, text.data, text.len) == 0) {
		/* a few dozen bytes into an empty socket buffer: never short */
		if (write(fd, out.data, out.len) != (ssize_t)out.len)
			log_debug("reexec reply: %m");
	}
	dynbuf_free(&text);
	dynbuf_free(&out);
	close(fd);
}
