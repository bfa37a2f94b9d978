/*
 * Logging to stderr, to the journal through stderr with <N> prefixes, or
 * to syslog when running detached without a journal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"
#include "base/util.h"

static enum log_target target;
static int max_prio = LOG_INFO;

void log_setup(enum log_target t, bool verbose)
{
	target = t;
	max_prio = verbose ? LOG_DEBUG : LOG_INFO;
	if (t == LOG_TARGET_SYSLOG)
		openlog("ipautofwd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

enum log_target log_detect_target(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	    st.st_dev == dev && st.st_ino == ino)
		return LOG_TARGET_JOURNAL;
	return LOG_TARGET_STDERR;
}

void log_msg(int prio, const char *fmt, ...)
{
	struct dynbuf m = { 0 };
	char *raw = NULL;
	va_list ap;
	int n;

	if (prio > max_prio)
		return;
	va_start(ap, fmt);
	n = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* one line, one entry: a newline or escape sequence from a file or a request is shown escaped */
	dynbuf_append_escaped(&m, raw, n);
	free(raw);
	if (!m.data)
		return;
	switch (target) {
	case LOG_TARGET_SYSLOG:
		syslog(prio, "%s", m.data);
		break;
	case LOG_TARGET_JOURNAL:
		fprintf(stderr, "<%d>%s\n", prio, m.data);
		break;
	case LOG_TARGET_STDERR:
		fprintf(stderr, "ipautofwd: %s\n", m.data);
		break;
	}
	dynbuf_free(&m);
}

bool log_ratelimit(unsigned *count, unsigned long long *window_ms, unsigned long long now_ms,
		   unsigned *suppressed)
{
	if (now_ms - *window_ms >= 5000) {
		*window_ms = now_ms;
		*count = 0;
	}
	if (++*count <= 10)
		return true;
	(*suppressed)++;
	return false;
}

unsigned log_count_lines(const struct dynbuf *lines)
{
	unsigned n = 0;

	for (size_t i = 0; i < lines->len; i++)
		n += lines->data[i] == '\n';
	return n;
}

void log_warn_lines(const struct dynbuf *lines)
{
	const char *p = lines->data, *nl;

	for (; p && (nl = strchr(p, '\n')); p = nl + 1)
		log_warn("%.*s", (int)(nl - p), p);
}

void log_err_lines(const struct dynbuf *lines)
{
	const char *p = lines->data, *nl;

	for (; p && (nl = strchr(p, '\n')); p = nl + 1)
		log_err("%.*s", (int)(nl - p), p);
}
