/*
 * nsprobe: send test traffic between network namespaces and say whether
 * it arrived, without races: the listener is bound before anything is
 * sent, and every attempt uses a fresh socket (a fresh source port), so
 * no attempt rides on the conntrack entry of an earlier one.
 *
 *   nsprobe udp|tcp FROM_NS TO_NS DST PORT[:LISTEN_PORT] [TIMEOUT_MS [SRC [SPORT]]]
 *       exit 0 and print the source seen if it reached TO_NS, else 1;
 *       SRC (and SPORT) pick the sender's address (and port)
 *   nsprobe trigger tcp|udp FROM_NS DST PORT
 *       open a connection (or send a datagram) from FROM_NS
 *   nsprobe stream FROM_NS DST PORT SPORT DURATION_MS
 *       one datagram every 20 ms from fixed port SPORT: a UDP stream
 *   nsprobe listen NS PORT TIMEOUT_MS
 *       print the source of the first datagram to PORT in NS, else exit 1
 *   nsprobe burst NS SRC_FIRST COUNT DST_FIRST PEERS PORT
 *       from each of COUNT consecutive source addresses, one UDP datagram to
 *       each of PEERS consecutive destinations: COUNT x PEERS new flows
 *   nsprobe flood NS SRC DST_FIRST PEERS PORT RATE DURATION_MS
 *       new UDP flows from SRC (a fresh source port each) at RATE per second
 *   nsprobe spray NS SRC DST PORT_FIRST PORT_LAST [COUNT]
 *       UDP datagrams from SRC (v4 or v6) to DST, one to each port in turn,
 *       COUNT in all (default: one per port); every pass over the ports
 *       from a fresh source port, so each datagram is a new flow
 *   nsprobe blast FROM_NS DST PORT SPORT DURATION_MS
 *       one UDP flow as fast as it goes (sendmmsg); prints packets sent
 *   nsprobe count NS PORT DURATION_MS
 *       count UDP packets to PORT in NS for the duration; prints the count
 *   nsprobe gaps NS PORT DURATION_MS
 *       receive a UDP stream to PORT in NS for the duration; prints the
 *       datagrams received, the longest gap between two and how long
 *       before the end the last one came (all in ms)
 *   nsprobe latency LAN_NS WAN_NS TRIGGER_DST TRIGGER_PORT ROUTER PORT ROUNDS [LAN2_NS]
 *       trigger from LAN_NS (alternating with LAN2_NS: takeovers), then
 *       probe from WAN_NS until a datagram reaches the triggering host;
 *       print p50/p99 microseconds from trigger to first arrival
 *   nsprobe zerortt first|takeover LAN_NS LAN2_NS WAN_NS WAN_IF TRIGGER_DST TRIGGER_PORT PORT ROUNDS [FLUSH_CMD]
 *       a zero-RTT outside host: it sniffs WAN_IF and, the instant a trigger
 *       (a TCP SYN to TRIGGER_PORT) arrives, sends one datagram from a fresh
 *       source port to PORT of the trigger's source address (the router's
 *       for IPv4, the host's own for IPv6); says how many of those first
 *       datagrams reached the triggering host, another host, or none. The
 *       triggering host alternates; `first` runs FLUSH_CMD before each round
 *       (the family follows TRIGGER_DST)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int ns_fd(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "nsprobe: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

static void enter(int fd)
{
	if (setns(fd, CLONE_NEWNET) < 0) {
		perror("nsprobe: setns");
		exit(2);
	}
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int addr_of(const char *s, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	fprintf(stderr, "nsprobe: bad address '%s'\n", s);
	exit(2);
}

static int listener(int af, int type, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd = socket(af, type | SOCK_CLOEXEC, 0);

	addr_of(af == AF_INET ? "0.0.0.0" : "::", port, &ss, &len);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		perror("nsprobe: listener");
		exit(2);
	}
	return fd;
}

/* Send one datagram, or start one connection, from the current namespace. */
static int sender_from(int type, const char *dst, unsigned port, const char *src, unsigned sport)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int af = addr_of(dst, port, &ss, &len);
	int fd = socket(af, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		perror("nsprobe: socket");
		exit(2);
	}
	if (src) {
		struct sockaddr_storage sa;
		socklen_t slen;
		int one = 1;

		addr_of(src, sport, &sa, &slen);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, slen) < 0) {
			perror("nsprobe: bind source");
			exit(2);
		}
	}
	if (type == SOCK_DGRAM) {
		if (sendto(fd, "nsprobe", 7, 0, (struct sockaddr *)&ss, len) < 0 && errno != ECONNREFUSED)
			perror("nsprobe: sendto");
	} else if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		perror("nsprobe: connect");
	}
	return fd;
}

static int sender(int type, const char *dst, unsigned port)
{
	return sender_from(type, dst, port, NULL, 0);
}

/* Wait up to TIMEOUT_US for something on L; print its source. */
static int arrived_us(int l, int type, long timeout_us, int quiet)
{
	struct pollfd p = { .fd = l, .events = POLLIN };
	struct timespec ts = { timeout_us / 1000000, timeout_us % 1000000 * 1000 };
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	char buf[64], host[INET6_ADDRSTRLEN];
	int fd;

	if (ppoll(&p, 1, &ts, NULL) <= 0)
		return 0;
	if (type == SOCK_DGRAM) {
		if (recvfrom(l, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen) < 0)
			return 0;
	} else {
		fd = accept(l, (struct sockaddr *)&from, &flen);
		if (fd < 0)
			return 0;
		close(fd);
	}
	if (!quiet) {
		if (from.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, host, sizeof(host));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, host, sizeof(host));
		printf("received from %s port %u\n", host,
		       ntohs(from.ss_family == AF_INET ? ((struct sockaddr_in *)&from)->sin_port :
				 ((struct sockaddr_in6 *)&from)->sin6_port));
	}
	return 1;
}

static int arrived(int l, int type, int timeout_ms, int quiet)
{
	return arrived_us(l, type, timeout_ms * 1000L, quiet);
}

static int cmd_reach(int type, char **argv, int argc)
{
	int from = ns_fd(argv[0]), to = ns_fd(argv[1]);
	unsigned port = atoi(argv[3]);
	/* SEND:LISTEN when the router remaps the port */
	unsigned lport = strchr(argv[3], ':') ? (unsigned)atoi(strchr(argv[3], ':') + 1) : port;
	int timeout = argc > 4 ? atoi(argv[4]) : 1000;
	struct sockaddr_storage ss;
	socklen_t len;
	int af = addr_of(argv[2], port, &ss, &len), l, s;

	enter(to);
	l = listener(af, type, lport);
	enter(from);
	s = sender_from(type, argv[2], port, argc > 5 ? argv[5] : NULL, argc > 6 ? atoi(argv[6]) : 0);
	if (arrived(l, type, timeout, 0))
		return 0;
	close(s);
	printf("nothing arrived at %s port %u within %d ms\n", argv[1], port, timeout);
	return 1;
}

static int cmd_trigger(char **argv)
{
	int type = !strcmp(argv[0], "udp") ? SOCK_DGRAM : SOCK_STREAM;
	struct pollfd p;
	int fd;

	enter(ns_fd(argv[1]));
	fd = sender(type, argv[2], atoi(argv[3]));
	p.fd = fd;
	p.events = POLLOUT;
	if (type == SOCK_STREAM)
		poll(&p, 1, 1000);	/* wait for the handshake (or a refusal) */
	close(fd);
	return 0;
}

static int cmd_stream(char **argv)
{
	uint64_t end = now_us() + atol(argv[4]) * 1000ULL;
	int fd;

	enter(ns_fd(argv[0]));
	fd = sender_from(SOCK_DGRAM, argv[1], atoi(argv[2]), "0.0.0.0", atoi(argv[3]));
	while (now_us() < end) {
		struct sockaddr_storage ss;
		socklen_t len;

		addr_of(argv[1], atoi(argv[2]), &ss, &len);
		sendto(fd, "stream", 6, 0, (struct sockaddr *)&ss, len);
		usleep(20000);
	}
	return 0;
}

static int cmd_listen(char **argv)
{
	int l;

	enter(ns_fd(argv[0]));
	l = listener(AF_INET, SOCK_DGRAM, atoi(argv[1]));
	if (arrived(l, SOCK_DGRAM, atoi(argv[2]), 0))
		return 0;
	printf("nothing arrived\n");
	return 1;
}

static uint32_t v4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "nsprobe: bad IPv4 address '%s'\n", s);
		exit(2);
	}
	return ntohl(a.s_addr);
}

static void send_udp4(int fd, uint32_t dst, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(dst) };

	sendto(fd, "trigger", 7, 0, (struct sockaddr *)&sa, sizeof(sa));
}

static int udp4_from(uint32_t src)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(src) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("nsprobe: bind");
		exit(2);
	}
	return fd;
}

static int cmd_burst(char **argv)
{
	uint32_t src = v4(argv[1]), dst = v4(argv[3]);
	int count = atoi(argv[2]), peers = atoi(argv[4]);
	unsigned port = atoi(argv[5]);
	uint64_t t0;

	enter(ns_fd(argv[0]));
	t0 = now_us();
	for (int i = 0; i < count; i++) {
		int fd = udp4_from(src + i);

		/* each source has peers of its own */
		for (int p = 0; p < peers; p++)
			send_udp4(fd, dst + i * peers + p, port);
		close(fd);
	}
	printf("sent %d triggers in %llu us\n", count * peers, (unsigned long long)(now_us() - t0));
	return 0;
}

static int cmd_spray(char **argv, int argc)
{
	unsigned lo = atoi(argv[3]), hi = atoi(argv[4]);
	long count = argc > 5 ? atol(argv[5]) : (long)(hi - lo + 1), sent = 0;
	struct sockaddr_storage src, dst;
	socklen_t slen, dlen;
	int af = addr_of(argv[1], 0, &src, &slen);

	addr_of(argv[2], 0, &dst, &dlen);
	if (lo > hi || hi > 65535 || count < 0) {
		fprintf(stderr, "nsprobe: bad spray\n");
		return 2;
	}
	enter(ns_fd(argv[0]));
	while (sent < count) {
		int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&src, slen) < 0) {
			perror("nsprobe: spray");
			return 2;
		}
		for (unsigned p = lo; p <= hi && sent < count; p++, sent++) {
			if (af == AF_INET)
				((struct sockaddr_in *)&dst)->sin_port = htons(p);
			else
				((struct sockaddr_in6 *)&dst)->sin6_port = htons(p);
			sendto(fd, "learn", 5, 0, (struct sockaddr *)&dst, dlen);
		}
		close(fd);
	}
	printf("spray: %ld datagrams\n", sent);
	return 0;
}

static int cmd_flood(char **argv)
{
	uint32_t src = v4(argv[1]), dst = v4(argv[2]);
	int peers = atoi(argv[3]);
	unsigned port = atoi(argv[4]);
	long rate = atol(argv[5]);
	uint64_t t0 = now_us(), end = t0 + atol(argv[6]) * 1000ULL;
	long sent = 0;

	enter(ns_fd(argv[0]));
	while (now_us() < end) {
		/* pace in slices of 1 ms */
		long due = (long)((now_us() - t0) * rate / 1000000);

		while (sent < due) {
			int fd = udp4_from(src);

			send_udp4(fd, dst + sent % peers, port);
			close(fd);
			sent++;
		}
		usleep(1000);
	}
	printf("flood: %ld new flows in %llu ms\n", sent, (unsigned long long)(now_us() - t0) / 1000);
	return 0;
}

/*
 * A datagram that says which latency round sent it, from a source address
 * and port no earlier datagram of this run used (198.18.1.1-250 x ports
 * 20000-59999): a reused tuple would ride on an old conntrack entry to
 * whichever host it was DNATed to, and count as a success with no daemon.
 */
static int sender_tagged(const char *dst, unsigned port, int round)
{
	/* a run starts somewhere else in the 10,000,000 tuples than the last one */
	static unsigned long k = ~0UL;
	struct sockaddr_storage ss;
	struct sockaddr_in src = { .sin_family = AF_INET };
	socklen_t len;
	int af = addr_of(dst, port, &ss, &len);
	int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	char tag[16];
	int n = snprintf(tag, sizeof(tag), "r%d", round);

	if (fd < 0) {
		perror("nsprobe: socket");
		exit(2);
	}
	if (k == ~0UL)
		k = (now_us() / 1000 + (unsigned long)getpid() * 7919) % 10000000;
	src.sin_addr.s_addr = htonl((198u << 24) | (18u << 16) | (1u << 8) | (1 + k % 250));
	src.sin_port = htons(20000 + (k / 250) % 40000);
	k = (k + 1) % 10000000;
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("nsprobe: bind probe source (are 198.18.1.1-250 on the outside host?)");
		exit(2);
	}
	sendto(fd, tag, n, 0, (struct sockaddr *)&ss, len);
	return fd;
}

/* Wait up to TIMEOUT_US for this round's datagram; older rounds' stragglers are dropped. */
static int arrived_tagged(int l, long timeout_us, int round)
{
	uint64_t end = now_us() + timeout_us;
	char want[16], buf[32];

	snprintf(want, sizeof(want), "r%d", round);
	do {
		struct pollfd p = { .fd = l, .events = POLLIN };
		long left = (long)(end - now_us());
		struct timespec ts = { 0, left > 0 ? left * 1000 : 0 };
		ssize_t n;

		if (ppoll(&p, 1, &ts, NULL) <= 0)
			return 0;
		n = recv(l, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return 0;
		buf[n] = '\0';
		if (!strcmp(buf, want))
			return 1;
	} while (now_us() < end);
	return 0;
}

static int cmd_blast(char **argv)
{
	uint64_t end;
	struct mmsghdr msgs[64];
	struct iovec iov = { .iov_base = "blast-payload-64-bytes-blast-payload-64-bytes-blast-payload-64b", .iov_len = 64 };
	long sent = 0;
	int fd;

	enter(ns_fd(argv[0]));
	fd = sender_from(SOCK_DGRAM, argv[1], atoi(argv[2]), "0.0.0.0", atoi(argv[3]));
	{
		struct sockaddr_storage ss;
		socklen_t len;

		addr_of(argv[1], atoi(argv[2]), &ss, &len);
		if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
			perror("nsprobe: connect");
			return 2;
		}
	}
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < 64; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	end = now_us() + atol(argv[4]) * 1000ULL;
	while (now_us() < end) {
		int n = sendmmsg(fd, msgs, 64, 0);

		if (n > 0)
			sent += n;
		else if (errno == EAGAIN || errno == ENOBUFS)
			usleep(50);
	}
	printf("%ld\n", sent);
	return 0;
}

static int cmd_count(char **argv)
{
	uint64_t end;
	long count = 0;
	char buf[2048];
	int l, size = 8 << 20;

	enter(ns_fd(argv[0]));
	l = listener(AF_INET, SOCK_DGRAM, atoi(argv[1]));
	setsockopt(l, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	printf("listening\n");
	fflush(stdout);
	end = now_us() + atol(argv[2]) * 1000ULL;
	while (now_us() < end) {
		struct pollfd p = { .fd = l, .events = POLLIN };

		if (poll(&p, 1, 10) <= 0)
			continue;
		while (recv(l, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			count++;
	}
	printf("%ld\n", count);
	return 0;
}

static int cmd_gaps(char **argv)
{
	uint64_t start, end, last = 0, gap = 0;
	long count = 0;
	char buf[2048];
	int l;

	enter(ns_fd(argv[0]));
	l = listener(AF_INET, SOCK_DGRAM, atoi(argv[1]));
	printf("listening\n");
	fflush(stdout);
	start = now_us();
	end = start + atol(argv[2]) * 1000ULL;
	while (now_us() < end) {
		struct pollfd p = { .fd = l, .events = POLLIN };

		if (poll(&p, 1, 10) <= 0)
			continue;
		while (recv(l, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
			uint64_t t = now_us();

			if (count && t - last > gap)
				gap = t - last;
			last = t;
			count++;
		}
	}
	printf("received %ld, longest gap %llu ms, last %llu ms before the end\n", count,
	       (unsigned long long)gap / 1000,
	       (unsigned long long)((!count ? end - start : last > end ? 0 : end - last) / 1000));
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_latency(char **argv, int argc)
{
	int lan[2] = { ns_fd(argv[0]), ns_fd(argc > 7 ? argv[7] : argv[0]) };
	int wan = ns_fd(argv[1]);
	unsigned tport = atoi(argv[3]), port = atoi(argv[5]);
	int rounds = atoi(argv[6]), ok = 0;
	uint64_t *lat = calloc(rounds, sizeof(*lat));
	int l[2];

	for (int i = 0; i < 2; i++) {
		enter(lan[i]);
		l[i] = listener(AF_INET, SOCK_DGRAM, port);
	}
	for (int r = 0; r < rounds; r++) {
		int who = r % 2, fd;
		uint64_t t0, deadline;

		enter(lan[who]);
		fd = sender(SOCK_STREAM, argv[2], tport);
		t0 = now_us();
		close(fd);
		enter(wan);
		deadline = t0 + 1000000;
		while (now_us() < deadline) {
			int s = sender_tagged(argv[4], port, r);
			/*
			 * back to back, no sleeping: a sleep's wake-up costs a
			 * virtual CPU up to a hundred microseconds, which would
			 * set the resolution. The datagram has made its way (or
			 * not) when sendto returns; a short wait covers the rest.
			 */
			int got = arrived_tagged(l[who], 2, r);

			close(s);
			if (got) {
				lat[ok++] = now_us() - t0;
				break;
			}
		}
	}
	if (!ok) {
		printf("latency: no forwarding within 1 s in %d rounds\n", rounds);
		free(lat);
		return 1;
	}
	qsort(lat, ok, sizeof(*lat), cmp_u64);
	printf("trigger-to-forward latency over %d of %d rounds: p50 %llu us, p99 %llu us, max %llu us\n",
	       ok, rounds, (unsigned long long)lat[(ok - 1) / 2],
	       (unsigned long long)lat[(ok - 1) * 99 / 100], (unsigned long long)lat[ok - 1]);
	free(lat);
	return ok == rounds ? 0 : 1;
}

/* ---- zero-RTT outside host ---------------------------------------------- */

/* A source address and port no earlier datagram of this or a recent run used. */
static void fresh_source(int af, struct sockaddr_storage *ss, socklen_t *len)
{
	static unsigned long k = ~0UL;
	unsigned long n;

	if (__atomic_load_n(&k, __ATOMIC_RELAXED) == ~0UL)
		__atomic_store_n(&k, (now_us() / 1000 + (unsigned long)getpid() * 7919) % 10000000,
				 __ATOMIC_RELAXED);
	n = __atomic_fetch_add(&k, 1, __ATOMIC_RELAXED) % 10000000;
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl((198u << 24) | (18u << 16) | (1u << 8) | (1 + n % 250));
		a->sin_port = htons(20000 + (n / 250) % 40000);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		static const char *const src6[] = { "2001:db8:1::9", "2001:db8:1::10", "2001:db8:1::11" };

		/* the outside host's own three addresses */
		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, src6[n % 3], &a->sin6_addr);
		a->sin6_port = htons(20000 + (n / 3) % 40000);
		*len = sizeof(*a);
	}
}

static int fresh_socket(int af)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	fresh_source(af, &ss, &len);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("nsprobe: bind a fresh source (198.18.1.1-250 or 2001:db8:1::9,10,11)");
		exit(2);
	}
	return fd;
}

struct zerortt {
	int af;
	int wan;		/* namespace */
	const char *ifname;
	unsigned tport;
	unsigned port;
	int armfd;		/* the main thread arms the sniffer for round N - 1 */
	uint64_t spinning;	/* the sniffer is armed for round N - 1 and looking; 0: not */
	int efd;		/* the sniffer tells the main thread it answered */
	uint64_t answered;	/* when */
	struct sockaddr_storage dst;	/* where it answered: the trigger's source, PORT */
	socklen_t dst_len;
};

/* The trigger's source if P (from the outside host's interface) is a SYN to TPORT. */
static bool is_trigger(const struct zerortt *z, const uint8_t *p, size_t n, struct sockaddr_storage *ret,
		       socklen_t *ret_len)
{
	size_t off;
	uint8_t proto;

	memset(ret, 0, sizeof(*ret));
	if (z->af == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ret;

		if (n < 20 || (p[0] >> 4) != 4)
			return false;
		off = (p[0] & 0xf) * 4;
		proto = p[9];
		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, p + 12, 4);
		a->sin_port = htons(z->port);
		*ret_len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ret;

		if (n < 40 || (p[0] >> 4) != 6)
			return false;
		off = 40;
		proto = p[6];
		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, p + 8, 16);
		a->sin6_port = htons(z->port);
		*ret_len = sizeof(*a);
	}
	if (proto != IPPROTO_TCP || n < off + 14)
		return false;
	/* destination port, and SYN without ACK */
	return (unsigned)((p[off + 2] << 8) | p[off + 3]) == z->tport && (p[off + 13] & 0x12) == 0x02;
}

/*
 * The outside host. Armed for a round, it drops what it saw before, says
 * it is ready, and then spins (for that round only): a blocked reader's
 * wake-up costs a virtual CPU up to a few hundred microseconds, which is
 * not what "the instant it sees the trigger" means.
 */
static void *sniffer(void *arg)
{
	struct zerortt *z = arg;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	uint8_t buf[256];
	int pkt, ans;

	enter(z->wan);
	pkt = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ll.sll_ifindex = if_nametoindex(z->ifname);
	if (pkt < 0 || !ll.sll_ifindex || bind(pkt, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		perror("nsprobe: packet socket");
		exit(2);
	}
	ans = fresh_socket(z->af);
	for (;;) {
		uint64_t armed, t0, one = 1;
		char tag[16];

		if (read(z->armfd, &armed, sizeof(armed)) != sizeof(armed))
			exit(2);
		while (recv(pkt, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			;
		__atomic_store_n(&z->spinning, armed, __ATOMIC_RELEASE);
		t0 = now_us();
		while (now_us() - t0 < 2000000) {
			struct sockaddr_ll from;
			socklen_t flen = sizeof(from);
			struct sockaddr_storage dst;
			socklen_t dlen;
			ssize_t n = recvfrom(pkt, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
					     &flen);

			if (n < 0 || from.sll_pkttype == PACKET_OUTGOING || !is_trigger(z, buf, n, &dst, &dlen))
				continue;
			/* answer first, everything else after */
			snprintf(tag, sizeof(tag), "z%d", (int)(armed - 1));
			sendto(ans, tag, strlen(tag), 0, (struct sockaddr *)&dst, dlen);
			z->answered = now_us();
			z->dst = dst;
			z->dst_len = dlen;
			if (write(z->efd, &one, sizeof(one)) < 0)
				exit(2);
			close(ans);
			ans = fresh_socket(z->af);
			break;
		}
		__atomic_store_n(&z->spinning, 0, __ATOMIC_RELEASE);
	}
	return NULL;
}

enum { ZR_RIGHT, ZR_WRONG, ZR_DROPPED, ZR_UNSEEN, ZR_UNSETTLED, ZR__N };

/*
 * After the answer: probe on from fresh sources, 1 ms apart, until one
 * reaches the triggering host (the forwarding is in place, so the answer,
 * sent earlier along the same path, has had its chance), then wait 20 ms
 * more for the answer itself. Returns where the answer went.
 */
static int zerortt_settle(struct zerortt *z, const int l[2], int who, int round)
{
	uint64_t t0 = now_us(), settled = 0;
	char want_z[16], want_c[16];
	int answer = -1;

	snprintf(want_z, sizeof(want_z), "z%d", round);
	snprintf(want_c, sizeof(want_c), "c%d", round);
	enter(z->wan);
	while (now_us() - t0 < 2000000) {
		struct pollfd p[2] = { { .fd = l[0], .events = POLLIN }, { .fd = l[1], .events = POLLIN } };
		struct timespec ts = { 0, 1000000 };
		int s = -1;

		if (settled && (answer >= 0 || now_us() - settled > 20000))
			break;
		if (!settled) {
			s = fresh_socket(z->af);
			sendto(s, want_c, strlen(want_c), 0, (struct sockaddr *)&z->dst, z->dst_len);
		}
		if (ppoll(p, 2, &ts, NULL) > 0) {
			for (int i = 0; i < 2; i++) {
				char buf[32];
				ssize_t n;

				while ((n = recv(l[i], buf, sizeof(buf) - 1, MSG_DONTWAIT)) >= 0) {
					buf[n] = '\0';
					if (!strcmp(buf, want_z))
						answer = i;
					else if (!strcmp(buf, want_c) && i == who && !settled)
						settled = now_us();
				}
			}
		}
		if (s >= 0)
			close(s);
	}
	if (answer >= 0)
		return answer == who ? ZR_RIGHT : ZR_WRONG;
	return settled ? ZR_DROPPED : ZR_UNSETTLED;
}

static int cmd_zerortt(char **argv, int argc)
{
	bool first = !strcmp(argv[0], "first");
	int lan[2] = { ns_fd(argv[1]), ns_fd(argv[2]) };
	struct sockaddr_storage tdst;
	socklen_t tlen;
	struct zerortt z = { .wan = ns_fd(argv[3]), .ifname = argv[4], .tport = atoi(argv[6]),
			     .port = atoi(argv[7]) };
	int rounds = atoi(argv[8]), count[ZR__N] = { 0 }, l[2];
	const char *flush = argc > 9 ? argv[9] : NULL;
	pthread_t th;

	z.af = addr_of(argv[5], z.tport, &tdst, &tlen);
	z.efd = eventfd(0, EFD_CLOEXEC);
	z.armfd = eventfd(0, EFD_CLOEXEC);
	for (int i = 0; i < 2; i++) {
		enter(lan[i]);
		l[i] = listener(z.af, SOCK_DGRAM, z.port);
	}
	if (z.efd < 0 || z.armfd < 0 || pthread_create(&th, NULL, sniffer, &z)) {
		perror("nsprobe: sniffer");
		return 2;
	}
	/*
	 * Round -1 is not counted: it warms the path (neighbour discovery
	 * may drop a first packet) and, for takeovers, leaves the forwarding
	 * with the other host before round 0.
	 */
	for (int r = -1; r < rounds; r++) {
		int who = (r + 2) % 2, fd, res;
		uint64_t t0;
		struct pollfd p = { .fd = z.efd, .events = POLLIN };
		uint64_t v = (r < 0 ? rounds : r) + 1;

		if (first && flush && r >= 0 && system(flush) != 0) {
			fprintf(stderr, "nsprobe: '%s' failed\n", flush);
			return 2;
		}
		if (write(z.armfd, &v, sizeof(v)) != sizeof(v))
			return 2;
		while (__atomic_load_n(&z.spinning, __ATOMIC_ACQUIRE) != v)
			;
		enter(lan[who]);
		t0 = now_us();
		fd = socket(z.af, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0 || (connect(fd, (struct sockaddr *)&tdst, tlen) < 0 && errno != EINPROGRESS)) {
			perror("nsprobe: trigger");
			return 2;
		}
		if (poll(&p, 1, 2500) <= 0 || read(z.efd, &v, sizeof(v)) != sizeof(v)) {
			close(fd);
			while (__atomic_load_n(&z.spinning, __ATOMIC_ACQUIRE))
				usleep(1000);
			if (r >= 0)
				count[ZR_UNSEEN]++;
			continue;
		}
		res = zerortt_settle(&z, l, who, r < 0 ? rounds : r);
		close(fd);
		if (getenv("NSPROBE_VERBOSE"))
			fprintf(stderr, "round %d: %s after %llu us\n", r,
				(const char *[]){ "right", "wrong", "dropped", "unseen", "unsettled" }[res],
				(unsigned long long)(z.answered - t0));
		if (r >= 0)
			count[res]++;
	}
	printf("zerortt %s %s: %d rounds, %d right, %d wrong, %d dropped, %d unseen, %d unsettled\n",
	       z.af == AF_INET ? "ipv4" : "ipv6", first ? "first" : "takeover", rounds,
	       count[ZR_RIGHT], count[ZR_WRONG], count[ZR_DROPPED], count[ZR_UNSEEN],
	       count[ZR_UNSETTLED]);
	return count[ZR_UNSEEN] || count[ZR_UNSETTLED] ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "udp"))
		return cmd_reach(SOCK_DGRAM, argv + 2, argc - 2);
	if (argc >= 6 && !strcmp(argv[1], "tcp"))
		return cmd_reach(SOCK_STREAM, argv + 2, argc - 2);
	if (argc == 7 && !strcmp(argv[1], "blast"))
		return cmd_blast(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "count"))
		return cmd_count(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "gaps"))
		return cmd_gaps(argv + 2);
	if (argc == 8 && !strcmp(argv[1], "burst"))
		return cmd_burst(argv + 2);
	if ((argc == 7 || argc == 8) && !strcmp(argv[1], "spray"))
		return cmd_spray(argv + 2, argc - 2);
	if (argc == 9 && !strcmp(argv[1], "flood"))
		return cmd_flood(argv + 2);
	if (argc == 7 && !strcmp(argv[1], "stream"))
		return cmd_stream(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "listen"))
		return cmd_listen(argv + 2);
	if (argc == 6 && !strcmp(argv[1], "trigger"))
		return cmd_trigger(argv + 2);
	if (argc >= 11 && argc <= 12 && !strcmp(argv[1], "zerortt"))
		return cmd_zerortt(argv + 2, argc - 2);
	if (argc >= 9 && !strcmp(argv[1], "latency"))
		return cmd_latency(argv + 2, argc - 2);
	fprintf(stderr, "usage: nsprobe udp|tcp FROM_NS TO_NS DST PORT [TIMEOUT_MS]\n"
			"       nsprobe trigger tcp|udp FROM_NS DST PORT\n"
			"       nsprobe latency LAN_NS WAN_NS TRIGGER_DST TRIGGER_PORT ROUTER PORT ROUNDS [LAN2_NS]\n");
	return 2;
}
