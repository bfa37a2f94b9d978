/*
 * The control protocol between ipautofwctl and ipautofwd, over a unix
 * stream socket, one request per connection. A frame is a 32-bit
 * big-endian length and a payload of NUL-terminated fields.
 *
 *   request: "ipautofw/1" flags command arg...
 *   reply:   status text
 *
 * STATUS is the exit code the client should return (0 ok, 1 failure,
 * 2 usage); TEXT is printed as is (JSON when the json flag was set).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define CTLPROTO_MAGIC "ipautofw/1"
/*
 * Where the daemon listens unless -s or $IPAUTOFW_SOCKET say otherwise
 * (meson -Dcontrol-socket: OpenWrt before 24.10 has no /run).
 */
#ifndef CTLPROTO_SOCKET
#define CTLPROTO_SOCKET "/run/ipautofw/control.sock"
#endif
#define CTLPROTO_REQUEST_MAX 65536
#define CTLPROTO_REPLY_MAX (64u * 1024 * 1024)
#define CTLPROTO_ARGS_MAX 256

enum ctlproto_flag {
	CTLPROTO_JSON = 1 << 0,
};

enum ctlproto_status {
	CTLPROTO_OK = 0,
	CTLPROTO_FAILED = 1,
	CTLPROTO_USAGE = 2,
};

struct ctl_request {
	unsigned flags;
	const char *cmd;
	const char *argv[CTLPROTO_ARGS_MAX];
	int argc;
};

int ctlproto_encode_request(struct dynbuf *out, unsigned flags, const char *cmd, int argc,
			    const char *const *argv);

/*
 * Decode a request from BUF. Returns the frame length consumed (> 0),
 * 0 when more bytes are needed, or -errno for a malformed request (with a
 * message in *RET_ERR). REQ points into BUF.
 */
int ctlproto_decode_request(char *buf, size_t len, struct ctl_request *req, const char **ret_err);

int ctlproto_encode_reply(struct dynbuf *out, int status, const char *text, size_t text_len);

/* Like decode_request; TEXT points into BUF. */
int ctlproto_decode_reply(char *buf, size_t len, int *status, const char **text, size_t *text_len);
