/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratelimit.c: per-IP token buckets in a fixed table.  Tokens are counted
 * in thousandths so that low rates refill smoothly.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

struct bucket {
	uint64_t millitokens;
	uint64_t last_ms;
};

struct ratelimit {
	uint8_t hkey[HTAB_KEY_SIZE];
	size_t mask;
	struct bucket buckets[];
};

struct ratelimit *
ratelimit_new(unsigned int order, const uint8_t hkey[HTAB_KEY_SIZE])
{
	size_t n = (size_t)1 << order;
	struct ratelimit *r;

	if ((r = calloc(1, sizeof(*r) + n * sizeof(r->buckets[0]))) == NULL)
		return NULL;
	memcpy(r->hkey, hkey, HTAB_KEY_SIZE);
	r->mask = n - 1;
	return r;
}

void
ratelimit_free(struct ratelimit *r)
{
	free(r);
}

bool
ratelimit_take(struct ratelimit *r, const struct addr_key *addr,
	       unsigned int rate, uint64_t now_ms)
{
	uint8_t ip[17];
	struct bucket *b;
	uint64_t burst = 2000ULL * rate;

	ip[0] = addr->family;
	memcpy(ip + 1, addr->ip, 16);
	b = &r->buckets[htab_hash(r->hkey, ip, sizeof(ip)) & r->mask];
	if (b->last_ms == 0) {
		b->millitokens = burst; /* a new bucket starts full */
	} else if (now_ms > b->last_ms) {
		b->millitokens += (now_ms - b->last_ms) * rate;
		if (b->millitokens > burst)
			b->millitokens = burst;
	}
	b->last_ms = now_ms;
	if (b->millitokens < 1000)
		return false;
	b->millitokens -= 1000;
	return true;
}
