/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txcache.h: the answers to recent TURN requests, by client address and
 * transaction id, so that a retransmitted request gets the same answer
 * byte for byte instead of being carried out twice (RFC 8489 section 6.3:
 * a server may answer a retransmission from such a cache; RFC 8656 section
 * 7.2 asks it of Allocate).  Fixed size, no allocation after creation: an
 * entry may be overwritten by a newer one, which only costs a retransmit
 * being carried out again.  Pure: time is passed in.
 */
#ifndef TURNPIKE_TXCACHE_H
#define TURNPIKE_TXCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "htab.h"

/* RFC 8489 section 6.2.1: a transaction lasts at most 39.5 s (Rc, Rm). */
#define TXCACHE_LIFETIME_MS 40000
#define TXCACHE_MAX_ANSWER  320

struct txcache;

/* txcache.c */

/* A cache of 2^order entries keyed with hkey, or NULL (ENOMEM). */
struct txcache *txcache_new(unsigned int order,
			    const uint8_t hkey[HTAB_KEY_SIZE]);
void txcache_free(struct txcache *c);

/*
 * The answer cached for (client, transport, tid) within its lifetime:
 * copied into out[0..cap), its length returned; 0 when there is none.
 */
size_t txcache_find(const struct txcache *c, const struct addr_key *client,
		    uint8_t transport, const uint8_t tid[12], uint64_t now_ms,
		    uint8_t *out, size_t cap);

/* Remember an answer; answers longer than TXCACHE_MAX_ANSWER are not. */
void txcache_put(struct txcache *c, const struct addr_key *client,
		 uint8_t transport, const uint8_t tid[12], uint64_t now_ms,
		 const uint8_t *answer, size_t len);

#endif /* TURNPIKE_TXCACHE_H */
