#pragma once

#include <stdint.h>

/* sd_notify(3), by hand: nothing happens when $NOTIFY_SOCKET is unset. */
void notify_init(void);
void notify_close(void);
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Watchdog interval in microseconds (half of $WATCHDOG_USEC), or 0. */
uint64_t notify_watchdog_usec(void);
