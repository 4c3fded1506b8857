/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratelimit.h: token buckets per source IP address, for requests that
 * carry no valid credentials, so that 401 answers cannot be used for a
 * reflection flood.  A fixed table of buckets indexed by a keyed hash of
 * the IP: two addresses that share a bucket share its rate, which errs on
 * the side of answering less.  No allocation after creation; pure.
 */
#ifndef TURNPIKE_RATELIMIT_H
#define TURNPIKE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "htab.h"

struct ratelimit;

/* ratelimit.c */

/* 2^order buckets, keyed with hkey; NULL on ENOMEM. */
struct ratelimit *ratelimit_new(unsigned int order,
				const uint8_t hkey[HTAB_KEY_SIZE]);
void ratelimit_free(struct ratelimit *r);

/*
 * Take one token from the bucket of addr's IP (the port is ignored),
 * refilled at rate per second up to a burst of 2 * rate.  Returns false
 * when the bucket is empty: the request is to be dropped.
 */
bool ratelimit_take(struct ratelimit *r, const struct addr_key *addr,
		    unsigned int rate, uint64_t now_ms);

#endif /* TURNPIKE_RATELIMIT_H */
