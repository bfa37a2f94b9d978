/*
 * Control protocol framing; see ctlproto.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

static void put_u32(struct dynbuf *out, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	dynbuf_append(out, b, 4);
}

static uint32_t get_u32(const char *p)
{
	const unsigned char *b = (const unsigned char *)p;

	return ((uint32_t)b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
}

int ctlproto_encode_request(struct dynbuf *out, unsigned flags, const char *cmd, int argc,
			    const char *const *argv)
{
	size_t start = out->len, len;
	char f[16];

	if (argc < 0 || argc > CTLPROTO_ARGS_MAX)
		return -E2BIG;
	put_u32(out, 0);
	snprintf(f, sizeof(f), "%u", flags);
	dynbuf_append(out, CTLPROTO_MAGIC, sizeof(CTLPROTO_MAGIC));
	dynbuf_append(out, f, strlen(f) + 1);
	dynbuf_append(out, cmd, strlen(cmd) + 1);
	for (int i = 0; i < argc; i++)
		dynbuf_append(out, argv[i], strlen(argv[i]) + 1);
	if (out->oom)
		return -ENOMEM;
	len = out->len - start - 4;
	if (len > CTLPROTO_REQUEST_MAX)
		return -E2BIG;
	out->data[start] = len >> 24;
	out->data[start + 1] = len >> 16;
	out->data[start + 2] = len >> 8;
	out->data[start + 3] = len;
	return 0;
}

int ctlproto_decode_request(char *buf, size_t len, struct ctl_request *req, const char **ret_err)
{
	const char *fields[CTLPROTO_ARGS_MAX + 3];
	size_t n = 0, plen, pos;
	char *end;
	unsigned long flags;

	*ret_err = NULL;
	if (len < 4)
		return 0;
	plen = get_u32(buf);
	if (plen > CTLPROTO_REQUEST_MAX) {
		*ret_err = "request too large";
		return -E2BIG;
	}
	if (len < 4 + plen)
		return 0;
	if (!plen || buf[4 + plen - 1] != '\0') {
		*ret_err = "malformed request: fields must end with NUL";
		return -EBADMSG;
	}
	for (pos = 4; pos < 4 + plen; pos += strlen(buf + pos) + 1) {
		if (n == sizeof(fields) / sizeof(fields[0])) {
			*ret_err = "too many arguments";
			return -E2BIG;
		}
		fields[n++] = buf + pos;
	}
	if (n < 3 || strcmp(fields[0], CTLPROTO_MAGIC)) {
		*ret_err = "malformed request: not ipautofw/1 (client and daemon versions differ?)";
		return -EPROTO;
	}
	errno = 0;
	flags = strtoul(fields[1], &end, 10);
	if (errno || *end || !fields[1][0] || flags > 0xffff) {
		*ret_err = "malformed request: bad flags";
		return -EBADMSG;
	}
	req->flags = flags;
	req->cmd = fields[2];
	req->argc = n - 3;
	for (size_t i = 3; i < n; i++)
		req->argv[i - 3] = fields[i];
	return 4 + plen;
}

int ctlproto_encode_reply(struct dynbuf *out, int status, const char *text, size_t text_len)
{
	char s[16];
	size_t slen = snprintf(s, sizeof(s), "%d", status) + 1;

	if (slen + text_len + 1 > CTLPROTO_REPLY_MAX)
		return -E2BIG;
	put_u32(out, slen + text_len + 1);
	dynbuf_append(out, s, slen);
	dynbuf_append(out, text, text_len);
	dynbuf_append(out, "", 1);
	return out->oom ? -ENOMEM : 0;
}

int ctlproto_decode_reply(char *buf, size_t len, int *status, const char **text, size_t *text_len)
{
	size_t plen, slen;
	char *end;
	long v;

	if (len < 4)
		return 0;
	plen = get_u32(buf);
	if (plen > CTLPROTO_REPLY_MAX)
		return -E2BIG;
	if (len < 4 + plen)
		return 0;
	if (plen < 2 || buf[4 + plen - 1] != '\0')
		return -EBADMSG;
	slen = strlen(buf + 4);
	if (slen + 1 >= plen)
		return -EBADMSG;
	v = strtol(buf + 4, &end, 10);
	if (*end || slen == 0 || v < 0 || v > 255)
		return -EBADMSG;
	*status = v;
	*text = buf + 4 + slen + 1;
	*text_len = plen - slen - 2;
	return 4 + plen;
}
