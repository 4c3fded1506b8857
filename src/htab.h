/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * htab.h: an intrusive chained hash table with a keyed hash.
 *
 * Objects embed a struct hnode and are found by walking one bucket and
 * comparing keys; the table never allocates per object.  The hash is
 * SipHash-1-3 with a key chosen at start, so that a remote party who picks
 * its addresses and ports cannot make every entry land in one bucket.
 * Pure: the key is passed in.
 */
#ifndef TURNPIKE_HTAB_H
#define TURNPIKE_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htab {
	struct hnode **buckets;
	size_t mask; /* buckets - 1; a power of two minus one */
	size_t count;
};

#define HTAB_KEY_SIZE 16

/* htab.c */

/* SipHash-1-3 of data with a 16-byte key. */
uint64_t htab_hash(const uint8_t key[HTAB_KEY_SIZE], const void *data,
		   size_t len);

/* Start with room for about n entries.  Returns 0 or -1 (ENOMEM). */
int htab_init(struct htab *t, size_t n);
/* Free the bucket array; the entries belong to their owners. */
void htab_release(struct htab *t);

/*
 * Link n with its hash.  The table doubles when it holds more entries than
 * buckets; if that allocation fails the entry is still linked, in a longer
 * chain.
 */
void htab_insert(struct htab *t, struct hnode *n, uint64_t hash);
void htab_remove(struct htab *t, struct hnode *n);

/* The first node of the chain a hash falls in; walk with ->next. */
static inline struct hnode *
htab_bucket(const struct htab *t, uint64_t hash)
{
	return t->buckets[hash & t->mask];
}

#endif /* TURNPIKE_HTAB_H */
