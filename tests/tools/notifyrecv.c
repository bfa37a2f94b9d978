/*
 * notifyrecv: a stand-in for systemd's notify socket. Prints each message
 * it receives on one line (newlines shown as '|'), until STOPPING=1 or
 * TIMEOUT_MS pass. On the first READY=1 it runs CHECK_CMD (if given)
 * and prints "ready-check: STATUS", to show what held when READY came.
 *
 *   notifyrecv SOCKET_PATH TIMEOUT_MS [CHECK_CMD]
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, timeout, ready = 0;
	char buf[4096];

	if (argc < 3) {
		fprintf(stderr, "usage: notifyrecv SOCKET_PATH TIMEOUT_MS [CHECK_CMD]\n");
		return 2;
	}
	timeout = atoi(argv[2]);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	unlink(argv[1]);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("notifyrecv");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("listening\n");
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout) <= 0) {
			printf("timeout\n");
			return 1;
		}
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return 2;
		buf[n] = '\0';
		for (char *c = buf; *c; c++)
			if (*c == '\n')
				*c = '|';
		printf("%s\n", buf);
		if (!ready && strstr(buf, "READY=1") && argc > 3) {
			ready = 1;
			printf("ready-check: %d\n", system(argv[3]));
		}
		if (strstr(buf, "STOPPING=1"))
			return 0;
	}
}
