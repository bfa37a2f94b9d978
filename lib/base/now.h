/*
 * The monotonic clock, in ms and us: the only clock timeouts, deadlines
 * and latencies are measured with (never wall-clock time, which an NTP
 * step or an administrator moves). The library itself never reads it:
 * its functions take `now` from the caller, so that tests pass it in.
 */
#pragma once

#include <stdint.h>

uint64_t now_ms(void);
uint64_t now_us(void);
