/* libFuzzer: the kernel's trace messages, decoded and told (lib/kernel/trace.c). */
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracer t;
	struct trace_event ev;
	struct dynbuf out = { 0 };
	union inaddr host;
	uint32_t *copy;

	/* as the kernel sends it: nlmsg_len fits what arrived */
	if (size < NLMSG_HDRLEN || size > 65536)
		return 0;
	copy = malloc(size + 4);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	((struct nlmsghdr *)copy)->nlmsg_len = size;
	inet_pton(AF_INET, "192.168.7.2", &host.v4);
	if (tracer_init(&t, AF_INET, &host) == 0) {
		t.own_table = "ipautofw";
		if (trace_decode((struct nlmsghdr *)copy, &ev) == 0) {
			tracer_feed(&t, &ev, 1000, 0);
			tracer_due(&t, 5000, size & 1, NULL, NULL, &out);
		}
		tracer_fini(&t);
	}
	dynbuf_free(&out);
	free(copy);
	return 0;
}
