/* libFuzzer: the NFLOG decoder, as a netlink message and as a bare packet. */
#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/nflog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nflog_pkt pkt;
	uint32_t *copy;

	if (!size)
		return 0;
	/* first byte picks the family for the bare packet */
	nflog_decode_packet(data[0] & 1 ? AF_INET6 : AF_INET, data + 1, size - 1, &pkt);
	/* as a netlink message: the kernel guarantees nlmsg_len fits what it sent */
	if (size < NLMSG_HDRLEN || size > 65536)
		return 0;
	copy = malloc(size + 4);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	((struct nlmsghdr *)copy)->nlmsg_len = size;
	nflog_parse((struct nlmsghdr *)copy, &pkt);
	free(copy);
	return 0;
}
