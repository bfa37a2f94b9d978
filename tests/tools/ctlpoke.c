/*
 * ctlpoke: misbehaving control-socket clients for the tests.
 *
 *   ctlpoke SOCKET garbage     a well-framed request that is not ipautofw/1
 *   ctlpoke SOCKET oversize    a length prefix past the request limit
 *   ctlpoke SOCKET binary      random bytes, no framing
 *   ctlpoke SOCKET hold N MS   N clients that send half a request, then wait
 *                              MS; prints how many the daemon closed itself
 *   ctlpoke SOCKET hog N MS CMD
 *                              N clients that ask for CMD (JSON) and read
 *                              nothing for MS; then prints how many were
 *                              answered "busy"
 *   ctlpoke SOCKET flood MS    for MS, new clients as fast as they go, each
 *                              with half a request, the 256 newest kept open
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
#include <time.h>
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
	if (argc >= 6 && !strcmp(argv[2], "hog")) {
		int n = atoi(argv[3]), ms = atoi(argv[4]), busy = 0;
		size_t clen = strlen(argv[5]) + 1, flen = 11 + 2 + clen;
		int *fds = calloc(n, sizeof(*fds));
		char req[300];

		if (!fds || clen > 200)
			return 2;
		req[0] = req[1] = 0;
		req[2] = flen >> 8;
		req[3] = flen & 0xff;
		memcpy(req + 4, "ipautofw/1\0" "1\0", 13);
		memcpy(req + 17, argv[5], clen);
		for (int i = 0; i < n; i++) {
			fds[i] = dial(argv[1]);
			if (write(fds[i], req, 4 + flen) < 0)
				return 2;
		}
		printf("%d clients asked for %s\n", n, argv[5]);
		fflush(stdout);
		usleep(ms * 1000);
		for (int i = 0; i < n; i++) {
			char buf[64] = "";

			if (read(fds[i], buf, sizeof(buf) - 1) > 8 && !memcmp(buf + 6, "busy", 4))
				busy++;
			close(fds[i]);
		}
		printf("%d of %d answered busy\n", busy, n);
		free(fds);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[2], "flood")) {
		int fds[256] = { 0 }, ms = atoi(argv[3]), k = 0;
		struct timespec t0, t;
		long made = 0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			struct sockaddr_un sa = { .sun_family = AF_UNIX };
			int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
			if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			    write(s, "\0\0\0\x20ipautofw/1", 14) == 14 &&
			    ++made == 256) {
				/* the slots are full from here on: the caller may start */
				printf("flooding\n");
				fflush(stdout);
			}
			if (fds[k] > 0)
				close(fds[k]);
			fds[k] = s;
			k = (k + 1) % 256;
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
		printf("flood: %ld clients\n", made);
		return 0;
	}
	fprintf(stderr, "usage: ctlpoke SOCKET garbage|oversize|binary|hold N MS|hog N MS CMD|flood MS\n");
	return 2;
}
