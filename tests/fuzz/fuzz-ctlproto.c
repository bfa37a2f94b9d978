/* libFuzzer: control requests and replies as they arrive on the socket. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct ctl_request req;
	const char *err, *text;
	size_t text_len;
	int status;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ctlproto_decode_request(buf, size, &req, &err);
	memcpy(buf, data, size);
	ctlproto_decode_reply(buf, size, &status, &text, &text_len);
	free(buf);
	return 0;
}
