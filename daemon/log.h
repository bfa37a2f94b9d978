#pragma once

#include <stdbool.h>
#include <syslog.h>

enum log_target {
	LOG_TARGET_STDERR,
	LOG_TARGET_JOURNAL,	/* stderr with <N> priority prefixes */
	LOG_TARGET_SYSLOG,
};

void log_setup(enum log_target target, bool verbose);
enum log_target log_detect_target(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* At most a few messages per second per call site; counts what it drops. */
bool log_ratelimit(unsigned *count, unsigned long long *window_ms, unsigned long long now_ms,
		   unsigned *suppressed);

/* LINES (a dynbuf of '\n'-ended lines): how many, and each as one entry at err. */
struct dynbuf;
unsigned log_count_lines(const struct dynbuf *lines);
void log_err_lines(const struct dynbuf *lines);
/* Each line of LINES as its own entry at warning. */
void log_warn_lines(const struct dynbuf *lines);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
