#include <errno.h>

#include "control/ctlproto.h"
#include "test.h"

static void test_roundtrip(void)
{
	struct dynbuf b = { 0 };
	const char *args[] = { "realaudio", "trigger", "7070/tcp" };
	struct ctl_request req;
	const char *err;
	int n;

	CHECK_INT(ctlproto_encode_request(&b, CTLPROTO_JSON, "add", 3, args), 0);
	/* every prefix is "need more" */
	for (size_t k = 0; k < b.len; k++)
		CHECK_INT(ctlproto_decode_request(b.data, k, &req, &err), 0);
	n = ctlproto_decode_request(b.data, b.len, &req, &err);
	CHECK_INT(n, b.len);
	CHECK_INT(req.flags, CTLPROTO_JSON);
	CHECK_STR(req.cmd, "add");
	CHECK_INT(req.argc, 3);
	CHECK_STR(req.argv[2], "7070/tcp");
	dynbuf_free(&b);
}

static void test_malformed_requests(void)
{
	char buf[64];
	struct ctl_request req;
	const char *err;

	/* oversized length prefix */
	memcpy(buf, "\x00\x01\x00\x01", 4);
	CHECK_INT(ctlproto_decode_request(buf, 4, &req, &err), -E2BIG);
	CHECK_STR(err, "request too large");
	/* fields not NUL-terminated */
	memcpy(buf, "\x00\x00\x00\x03" "abc", 7);
	CHECK_INT(ctlproto_decode_request(buf, 7, &req, &err), -EBADMSG);
	/* wrong magic */
	memcpy(buf, "\x00\x00\x00\x0a" "xx/1\0" "0\0ls\0", 14);
	CHECK_INT(ctlproto_decode_request(buf, 14, &req, &err), -EPROTO);
	/* missing command */
	memcpy(buf, "\x00\x00\x00\x0d" "ipautofw/1\0" "0\0", 17);
	CHECK_INT(ctlproto_decode_request(buf, 17, &req, &err), -EPROTO);
	/* bad flags */
	memcpy(buf, "\x00\x00\x00\x12" "ipautofw/1\0" "x\0list\0", 22);
	CHECK_INT(ctlproto_decode_request(buf, 22, &req, &err), -EBADMSG);
	/* empty frame */
	memcpy(buf, "\x00\x00\x00\x00", 4);
	CHECK_INT(ctlproto_decode_request(buf, 4, &req, &err), -EBADMSG);
}

static void test_too_many_args(void)
{
	struct dynbuf b = { 0 };
	const char *args[CTLPROTO_ARGS_MAX + 1];
	struct ctl_request req;
	const char *err;

	for (int i = 0; i <= CTLPROTO_ARGS_MAX; i++)
		args[i] = "x";
	CHECK_INT(ctlproto_encode_request(&b, 0, "add", CTLPROTO_ARGS_MAX + 1, args), -E2BIG);
	dynbuf_free(&b);
	CHECK_INT(ctlproto_encode_request(&b, 0, "add", CTLPROTO_ARGS_MAX, args), 0);
	CHECK_INT(ctlproto_decode_request(b.data, b.len, &req, &err), (int)b.len);
	/* one more field, spliced in by hand */
	dynbuf_append(&b, "y", 2);
	b.data[3] += 2;
	CHECK_INT(ctlproto_decode_request(b.data, b.len, &req, &err), -E2BIG);
	dynbuf_free(&b);
}

static void test_reply(void)
{
	struct dynbuf b = { 0 };
	const char *text;
	size_t len;
	int status;

	CHECK_INT(ctlproto_encode_reply(&b, 1, "permission denied\n", 18), 0);
	for (size_t k = 0; k < b.len; k++)
		CHECK_INT(ctlproto_decode_reply(b.data, k, &status, &text, &len), 0);
	CHECK_INT(ctlproto_decode_reply(b.data, b.len, &status, &text, &len), (int)b.len);
	CHECK_INT(status, 1);
	CHECK_INT(len, 18);
	CHECK(!memcmp(text, "permission denied\n", 18));
	b.data[4] = 'x';
	CHECK_INT(ctlproto_decode_reply(b.data, b.len, &status, &text, &len), -EBADMSG);
	dynbuf_free(&b);
}

TEST_MAIN(T(test_roundtrip), T(test_malformed_requests), T(test_too_many_args), T(test_reply))
