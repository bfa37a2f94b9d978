#pragma once

#include <stdint.h>

/* sd_notify(3), by hand: nothing happens when $NOTIFY_SOCKET is unset. */
void notify_init(void);
void notify_close(void);
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Without a service manager: fork, and let the parent exit only when the
 * child is ready (notify_ready) or gone. -errno if that failed.
 */
int notify_detach(void);
/* READY=1 to the service manager, or the waiting parent released. */
void notify_ready(void);
/* Watchdog interval in microseconds (half of $WATCHDOG_USEC), or 0. */
uint64_t notify_watchdog_usec(void);
