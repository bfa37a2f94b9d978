/*
 * ipautofwctl trace: chain trace (prerouting, priority -199) marking the
 * new connections of HOST and the new inbound connections on CFG's
 * forward ports with meta nftrace, at most NFTTRACE_RATE packets a
 * second each, for SECS seconds at most (element timeouts: the kernel
 * stops by itself); and their removal.
 */
#pragma once

#include <stdint.h>

#include "base/nlbatch.h"
#include "rules/rule.h"

#define NFTTRACE_RATE 10

struct config;
int nfttrace_add(struct nlbatch *b, int af, const union inaddr *host, const struct config *cfg,
		 uint32_t secs);
int nfttrace_del(struct nlbatch *b);
