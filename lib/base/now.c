/*
 * CLOCK_MONOTONIC, read by the daemon and the benchmark alike, so that a
 * figure the benchmark reports is measured as the daemon measures it.
 */
#include <time.h>

#include "now.h"

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t now_ms(void)
{
	return now_us() / 1000;
}
