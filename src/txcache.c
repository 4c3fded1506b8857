/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txcache.c: a direct-mapped cache of recent answers.  Each slot holds one
 * answer; a key hashes to one slot, and a newer answer evicts an older.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "txcache.h"

struct txcache_key {
	struct addr_key client;
	uint8_t transport;
	uint8_t tid[12];
	uint8_t pad[3];
};

struct txcache_slot {
	struct txcache_key key;
	uint64_t expires_ms;
	uint16_t len;
	uint8_t answer[TXCACHE_MAX_ANSWER];
};

struct txcache {
	uint8_t hkey[HTAB_KEY_SIZE];
	size_t mask;
	struct txcache_slot slots[];
};

static void
txcache_key(struct txcache_key *k, const struct addr_key *client,
	    uint8_t transport, const uint8_t tid[12])
{
	memset(k, 0, sizeof(*k));
	k->client = *client;
	k->transport = transport;
	memcpy(k->tid, tid, sizeof(k->tid));
}

struct txcache *
txcache_new(unsigned int order, const uint8_t hkey[HTAB_KEY_SIZE])
{
	size_t n = (size_t)1 << order;
	struct txcache *c;

	if ((c = calloc(1, sizeof(*c) + n * sizeof(c->slots[0]))) == NULL)
		return NULL;
	memcpy(c->hkey, hkey, HTAB_KEY_SIZE);
	c->mask = n - 1;
	return c;
}

void
txcache_free(struct txcache *c)
{
	if (c == NULL)
		return;
	/* Answers may carry MESSAGE-INTEGRITY; nothing secret, but wipe. */
	OPENSSL_cleanse(c, sizeof(*c) + (c->mask + 1) * sizeof(c->slots[0]));
	free(c);
}

size_t
txcache_find(const struct txcache *c, const struct addr_key *client,
	     uint8_t transport, const uint8_t tid[12], uint64_t now_ms,
	     uint8_t *out, size_t cap)
{
	const struct txcache_slot *s;
	struct txcache_key k;

	txcache_key(&k, client, transport, tid);
	s = &c->slots[htab_hash(c->hkey, &k, sizeof(k)) & c->mask];
	if (s->expires_ms <= now_ms || s->len > cap ||
	    memcmp(&s->key, &k, sizeof(k)) != 0)
		return 0;
	memcpy(out, s->answer, s->len);
	return s->len;
}

void
txcache_put(struct txcache *c, const struct addr_key *client, uint8_t transport,
	    const uint8_t tid[12], uint64_t now_ms, const uint8_t *answer,
	    size_t len)
{
	struct txcache_slot *s;
	struct txcache_key k;

	if (len > TXCACHE_MAX_ANSWER)
		return;
	txcache_key(&k, client, transport, tid);
	s = &c->slots[htab_hash(c->hkey, &k, sizeof(k)) & c->mask];
	s->key = k;
	s->expires_ms = now_ms + TXCACHE_LIFETIME_MS;
	s->len = (uint16_t)len;
	memcpy(s->answer, answer, len);
}
