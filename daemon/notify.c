/*
 * The systemd notification protocol without libsystemd: one datagram per
 * message to the socket named by $NOTIFY_SOCKET (a path, or '@' for the
 * abstract namespace). Small enough to keep, and it builds for OpenWrt.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static int fd = -1;
static struct sockaddr_un addr;
static socklen_t addr_len;
static uint64_t watchdog_usec;
static int ready_fd = -1;

void notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *wd = getenv("WATCHDOG_USEC"), *wd_pid = getenv("WATCHDOG_PID");
	size_t len;

	if (wd && (!wd_pid || (pid_t)strtol(wd_pid, NULL, 10) == getpid()))
		watchdog_usec = strtoull(wd, NULL, 10) / 2;
	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(addr.sun_path))
		return;
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, len);
	if (path[0] == '@')
		addr.sun_path[0] = '\0';
	addr_len = offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/' ? 1 : 0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

void notify_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

uint64_t notify_watchdog_usec(void)
{
	return fd >= 0 ? watchdog_usec : 0;
}

int notify_send(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	if (fd < 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -EMSGSIZE;
	if (sendto(fd, msg, n, MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len) < 0)
		return -errno;
	return 0;
}

int notify_detach(void)
{
	int p[2], null;
	pid_t pid;
	char c = 1;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	ready_fd = p[1];
	return 0;
}

void notify_ready(void)
{
	char ok = 0;

	notify_send("READY=1");
	if (ready_fd < 0)
		return;
	if (write(ready_fd, &ok, 1) < 0)
		log_debug("ready pipe: %m");
	close(ready_fd);
	ready_fd = -1;
}
