/*
 * ctlpoke: misbehaving control-socket clients for the tests.
 *
 *   ctlpoke SOCKET garbage     a well-framed request that is not ipautofw/1
 *   ctlpoke SOCKET oversize    a length prefix past the request limit
 *   ctlpoke SOCKET binary      random bytes, no framing
 *   ctlpoke SOCKET hold N MS   N clients that send half a request, then wait
 *                              MS; prints how many the daemon closed itself
 *
 * Prints the daemon's reply (status and text) where there is one.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("ctlpoke: connect");
		exit(2);
	}
	return fd;
}

static int show_reply(int fd)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, 5000) > 0 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	if (len < 6) {
		printf("no reply\n");
		return 1;
	}
	buf[len] = '\0';
	printf("status %s: %s", buf + 4, buf + 4 + strlen(buf + 4) + 1);
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc >= 3 && !strcmp(argv[2], "garbage")) {
		static const char req[] = "\0\0\0\x0d" "hello\0" "0\0list\0";

		fd = dial(argv[1]);
		if (write(fd, req, sizeof(req) - 1) < 0)
			return 2;
		return show_reply(fd);
	}
	if (argc >= 3 && !strcmp(argv[2], "oversize")) {
		static const char req[] = "\x00\x10\x00\x00" "ipautofw/1";

		fd = dial(argv[1]);
		if (write(fd, req, sizeof(req) - 1) < 0)
			return 2;
		return show_reply(fd);
	}
	if (argc >= 3 && !strcmp(argv[2], "binary")) {
		char junk[256];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (char)(i * 131 + 7);
		junk[0] = 0;
		junk[1] = 0;
		junk[2] = 0;
		junk[3] = (char)200;
		fd = dial(argv[1]);
		if (write(fd, junk, sizeof(junk)) < 0)
			return 2;
		return show_reply(fd);
	}
	if (argc >= 5 && !strcmp(argv[2], "hold")) {
		int n = atoi(argv[3]), ms = atoi(argv[4]), closed = 0;
		int *fds = calloc(n, sizeof(*fds));

		for (int i = 0; i < n; i++) {
			fds[i] = dial(argv[1]);
			if (write(fds[i], "\0\0\0\x20ipautofw/1", 14) < 0)
				return 2;
		}
		printf("%d clients connected\n", n);
		fflush(stdout);
		usleep(ms * 1000);
		for (int i = 0; i < n; i++) {
			char c;
			struct pollfd p = { .fd = fds[i], .events = POLLIN };

			if (poll(&p, 1, 0) > 0 && read(fds[i], &c, 1) <= 0)
				closed++;
		}
		printf("%d of %d idle clients closed by the daemon\n", closed, n);
		free(fds);
		return 0;
	}
	fprintf(stderr, "usage: ctlpoke SOCKET garbage|oversize|binary|hold N MS\n");
	return 2;
}
