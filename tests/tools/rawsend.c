/*
 * rawsend: a hostile LAN host's sender. Writes whole Ethernet frames on a
 * packet socket, so the IP source (and the Ethernet source) can be
 * anything: forged triggers, impersonated neighbours, address floods.
 * Run it inside the sending namespace (ip netns exec NS rawsend ...).
 *
 *   rawsend IFACE DST_MAC SRC_MAC|-|rand SRC DST tcp|udp DPORT [COUNT [PPS [MODE]]]
 *
 * SRC_MAC "-" is the interface's own, "rand" a random (locally
 * administered, unicast) one for each packet. COUNT packets (default 1) at
 * PPS per second (0 or absent: as fast as it goes); each has a fresh
 * source port, so each is a new connection. MODE:
 *   inc         packet i has source SRC + i (added to the last 32 bits),
 *               e.g. one datagram from each of 70,000 addresses of a /64
 *   rand/BITS   the last BITS (1-32) bits of the source are random
 *   grid/PEERS  machine h = i / PEERS sends to PEERS peers of its own:
 *               source SRC + h, MAC SRC_MAC + h (its last 24 bits),
 *               destination DST + i
 * Prints how many were sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "rawsend: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void usage(void)
{
	fprintf(stderr, "usage: rawsend IFACE DST_MAC SRC_MAC|-|rand SRC DST tcp|udp DPORT "
			"[COUNT [PPS [inc|rand/BITS|grid/PEERS]]]\n");
	exit(2);
}


static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ? 0 : -1;
}

static uint32_t sum16(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* xorshift: the floods need no more than "different each time" */
static uint32_t rnd(void)
{
	static uint32_t x;

	if (!x)
		x = (uint32_t)now_us() ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/* Add N to the last 32 bits of the address. */
static void addr_add(uint8_t *a, size_t len, uint32_t n)
{
	uint32_t v;

	memcpy(&v, a + len - 4, 4);
	v = htonl(ntohl(v) + n);
	memcpy(a + len - 4, &v, 4);
}

/* The L4 header (TCP SYN or UDP with 4 bytes) at L4, checksummed over PSEUDO. */
static size_t put_l4(uint8_t *l4, int proto, uint16_t sport, uint16_t dport, uint32_t pseudo)
{
	size_t len = proto == IPPROTO_TCP ? 20 : 12;
	uint16_t sp = htons(sport), dp = htons(dport), csum;

	memset(l4, 0, len);
	memcpy(l4, &sp, 2);
	memcpy(l4 + 2, &dp, 2);
	if (proto == IPPROTO_TCP) {
		uint32_t seq = htonl(0x1000 + sport);

		memcpy(l4 + 4, &seq, 4);
		l4[12] = 5 << 4;
		l4[13] = 0x02;	/* SYN */
		l4[14] = 0xff;
		l4[15] = 0xff;
		csum = fold(sum16(l4, len, pseudo + IPPROTO_TCP + len));
		memcpy(l4 + 16, &csum, 2);
	} else {
		uint16_t ulen = htons(len);

		memcpy(l4 + 4, &ulen, 2);
		memcpy(l4 + 8, "raw!", 4);
		csum = fold(sum16(l4, len, pseudo + IPPROTO_UDP + len));
		if (!csum)
			csum = 0xffff;
		memcpy(l4 + 6, &csum, 2);
	}
	return len;
}

static size_t build(uint8_t *f, int af, const uint8_t *dmac, const uint8_t *smac,
		    const uint8_t *src, const uint8_t *dst, int proto, uint16_t sport, uint16_t dport)
{
	size_t alen = af == AF_INET ? 4 : 16, l3 = af == AF_INET ? 20 : 40, l4len;
	uint16_t type = htons(af == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	uint8_t *ip = f + 14;
	uint32_t pseudo = sum16(src, alen, sum16(dst, alen, 0));

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	memcpy(f + 12, &type, 2);
	l4len = put_l4(ip + l3, proto, sport, dport, pseudo);
	memset(ip, 0, l3);
	if (af == AF_INET) {
		uint16_t tot = htons(l3 + l4len), csum;

		ip[0] = 0x45;
		memcpy(ip + 2, &tot, 2);
		ip[6] = 0x40;	/* DF */
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		csum = fold(sum16(ip, 20, 0));
		memcpy(ip + 10, &csum, 2);
	} else {
		uint16_t plen = htons(l4len);

		ip[0] = 0x60;
		memcpy(ip + 4, &plen, 2);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	}
	return 14 + l3 + l4len;
}

int main(int argc, char **argv)
{
	uint8_t dmac[6], smac[6], src[16], dst[16], frame[128];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr = { 0 };
	long count = 1, pps = 0, sent = 0, peers = 0;
	bool inc = false, rand_mac = false;
	unsigned rand_bits = 0;
	int af, proto, fd;
	unsigned dport;
	uint16_t sport0;
	uint64_t t0;

	if (argc < 8 || argc > 11)
		usage();
	if (argc > 8)
		count = atol(argv[8]);
	if (argc > 9)
		pps = atol(argv[9]);
	if (argc > 10) {
		if (!strcmp(argv[10], "inc"))
			inc = true;
		else if (!strncmp(argv[10], "rand/", 5))
			rand_bits = atoi(argv[10] + 5);
		else if (!strncmp(argv[10], "grid/", 5))
			peers = atol(argv[10] + 5);
		else
			usage();
		if (!inc && !(rand_bits >= 1 && rand_bits <= 32) && peers < 1)
			usage();
	}
	af = strchr(argv[4], ':') ? AF_INET6 : AF_INET;
	proto = !strcmp(argv[6], "tcp") ? IPPROTO_TCP : !strcmp(argv[6], "udp") ? IPPROTO_UDP : 0;
	dport = atoi(argv[7]);
	if (parse_mac(argv[2], dmac) < 0 || inet_pton(af, argv[4], src) != 1 ||
	    inet_pton(af, argv[5], dst) != 1 || !proto || !dport || dport > 65535 || count < 1)
		usage();

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		die(argv[1]);
	sll.sll_ifindex = ifr.ifr_ifindex;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, dmac, 6);
	if (!strcmp(argv[3], "-")) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
			die("SIOCGIFHWADDR");
		memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	} else if (!strcmp(argv[3], "rand")) {
		rand_mac = true;
	} else if (parse_mac(argv[3], smac) < 0) {
		usage();
	}

	/* source ports differ per run too, so no run rides on an earlier conntrack entry */
	sport0 = 1024 + (getpid() * 7919 + now_us()) % 30000;
	t0 = now_us();
	while (sent < count) {
		uint8_t s[16], d[16], m[6];
		size_t len;

		if (pps > 0) {
			uint64_t due = t0 + (uint64_t)sent * 1000000 / pps;
			uint64_t t = now_us();

			if (t < due) {
				usleep(due - t > 1000 ? 1000 : due - t);
				continue;
			}
		}
		memcpy(s, src, sizeof(s));
		memcpy(d, dst, sizeof(d));
		memcpy(m, smac, sizeof(m));
		if (inc)
			addr_add(s, af == AF_INET ? 4 : 16, sent);
		if (rand_bits)
			addr_add(s, af == AF_INET ? 4 : 16,
				 rnd() & (rand_bits == 32 ? 0xffffffffu : (1u << rand_bits) - 1));
		if (peers) {
			uint32_t h = sent / peers, low = (uint32_t)m[3] << 16 | m[4] << 8 | m[5];

			addr_add(s, af == AF_INET ? 4 : 16, h);
			addr_add(d, af == AF_INET ? 4 : 16, sent);
			low += h;
			m[3] = low >> 16;
			m[4] = low >> 8;
			m[5] = low;
		}
		if (rand_mac) {
			uint32_t r = rnd(), q = rnd();

			m[0] = (r & 0xfc) | 0x02;	/* unicast, locally administered */
			m[1] = r >> 8;
			m[2] = r >> 16;
			m[3] = r >> 24;
			m[4] = q;
			m[5] = q >> 8;
		}
		len = build(frame, af, dmac, m, s, d, proto, sport0 + sent % 30000, dport);
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				usleep(100);
				continue;
			}
			die("sendto");
		}
		sent++;
	}
	printf("sent %ld in %llu ms\n", sent, (unsigned long long)(now_us() - t0) / 1000);
	return 0;
}
