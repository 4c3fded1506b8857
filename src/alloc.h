/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * alloc.h: the TURN allocation table (RFC 8656 sections 2.2, 7, 9, 11).
 *
 * Allocations are found by their 5-tuple, permissions by (allocation, peer
 * IP), channels by (allocation, number) and by (allocation, peer address):
 * every lookup is one hash probe.  Time is a parameter (milliseconds of a
 * monotonic clock), so lifetimes are tested without waiting.  Pure: the
 * relay socket of an allocation belongs to the I/O module, which keeps it
 * in alloc->io and is told before an allocation is freed.
 */
#ifndef TURNPIKE_ALLOC_H
#define TURNPIKE_ALLOC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "addr.h"
#include "htab.h"

/* RFC 8656 section 9: permissions last 300 s; section 11: channels 600 s. */
#define ALLOC_PERMISSION_LIFETIME_MS (300 * 1000)
#define ALLOC_CHANNEL_LIFETIME_MS    (600 * 1000)
#define ALLOC_KEY_SIZE               16 /* MD5 long-term key (RFC 8489 section 9.2.2) */
#define ALLOC_KEY_TAG_SIZE           16 /* AUTH_TAG_SIZE */

/* The 5-tuple (RFC 8656 section 2): client, server, transport. */
struct alloc_tuple {
	struct addr_key client;
	struct addr_key server;
	uint8_t transport; /* enum server_transport */
	uint8_t pad[3];
};

struct alloc;

struct alloc_perm {
	struct hnode node; /* table->perms, by (alloc, IP) */
	struct alloc *alloc;
	LIST_ENTRY(alloc_perm) entry;
	uint64_t expires_ms;
	uint8_t family;
	uint8_t ip[16];
};

struct alloc_chan {
	struct hnode by_number; /* table->chans_by_number */
	struct hnode by_peer;   /* table->chans_by_peer */
	struct alloc *alloc;
	LIST_ENTRY(alloc_chan) entry;
	uint64_t expires_ms;
	struct addr_key peer;
	uint16_t number;
};

struct alloc_user; /* allocations counted per username */

struct alloc {
	struct hnode node; /* table->by_tuple */
	LIST_ENTRY(alloc) entry;
	struct alloc_tuple tuple;
	struct alloc_user *user;
	uint8_t key[ALLOC_KEY_SIZE]; /* it was made with; wiped on free */
	/* Where key came from (struct auth_known), for the requests on the
	 * allocation; all zero when key is not to be offered again. */
	uint8_t key_tag[ALLOC_KEY_TAG_SIZE];
	uint8_t tid[12];  /* of the Allocate request */
	uint8_t token[8]; /* RESERVATION-TOKEN given with it, if has_token */
	bool has_token;
	uint64_t created_ms;
	uint64_t expires_ms;
	/* XOR-RELAYED-ADDRESS as told to the client, [0] IPv4 and [1] IPv6;
	 * family 0 where the allocation has no relay of that family. */
	struct addr_key relay[2];
	void *io;   /* the relay I/O module's; see alloc_expire() */
	void *conn; /* the client's listener or connection (udp.c, stream.c) */
	LIST_HEAD(, alloc_perm) perms;
	LIST_HEAD(, alloc_chan) chans;
	uint16_t nperms;
	uint16_t nchans;
	/* Per-allocation bandwidth (token bucket) and traffic counters. */
	uint64_t bw_tokens;
	uint64_t bw_last_ms;
	uint64_t packets_to_peer, bytes_to_peer;
	uint64_t packets_from_peer, bytes_from_peer;
};

/* Bounds, each a config key; 0 means no limit for max_total/max_per_user. */
struct alloc_limits {
	unsigned int max_total;
	unsigned int max_per_user;
	unsigned int max_permissions;
	unsigned int max_channels;
};

struct alloc_table;
struct alloc_quota;

/* alloc.c */

/*
 * The allocation counts per user and in total that max_per_user and
 * max_total bound, for tables that share them (one per worker thread).
 * A mutex guards it; the tables' own lookups take no lock.  Free it after
 * every table that uses it.  NULL on ENOMEM.
 */
struct alloc_quota *alloc_quota_new(const uint8_t hkey[HTAB_KEY_SIZE]);
void alloc_quota_free(struct alloc_quota *q);
unsigned int alloc_quota_count(struct alloc_quota *q);

/* A new empty table; hkey keys its hashes (random at start).  NULL on
 * ENOMEM.  alloc_table_new() makes a quota of its own for the table;
 * alloc_table_new_shared() counts in quota, which the caller keeps. */
struct alloc_table *alloc_table_new(const uint8_t hkey[HTAB_KEY_SIZE]);
struct alloc_table *alloc_table_new_shared(const uint8_t hkey[HTAB_KEY_SIZE],
					   struct alloc_quota *quota);

/*
 * Free the table and every allocation in it, calling gone(a, arg) before
 * each allocation is freed so that its owner can release a->io.
 */
void alloc_table_free(struct alloc_table *t,
		      void (*gone)(struct alloc *a, void *arg), void *arg);

/* Set the table's limits; max_total and max_per_user go to its quota. */
void alloc_set_limits(struct alloc_table *t, const struct alloc_limits *l);
/* The allocations in this table (not in the whole quota). */
unsigned int alloc_count(const struct alloc_table *t);

/* Live counts for the metrics: allocations, permissions, channels. */
struct alloc_totals {
	uint64_t allocations;
	uint64_t permissions;
	uint64_t channels;
};
void alloc_totals(const struct alloc_table *t, struct alloc_totals *out);

/* The index into a->relay[] for a family: 0 IPv4, 1 IPv6. */
static inline int
alloc_family_index(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

/* The allocation of a 5-tuple, expired or not, or NULL. */
struct alloc *alloc_find(const struct alloc_table *t,
			 const struct alloc_tuple *tuple);

/*
 * Create an allocation for tuple owned by username, signing with key,
 * living lifetime_ms from now.  Returns 0 with *out set, 486 when the user
 * has max_per_user allocations (RFC 8656 section 7.2: Allocation Quota
 * Reached), 508 when the table holds max_total or memory ran out.  The
 * caller must have checked that tuple has no allocation.
 */
int alloc_new(struct alloc_table *t, const struct alloc_tuple *tuple,
	      const char *username, const uint8_t key[ALLOC_KEY_SIZE],
	      const uint8_t tid[12], uint64_t now_ms, uint64_t lifetime_ms,
	      struct alloc **out);

/* Remove and free one allocation with its permissions and channels.  The
 * caller has released a->io. */
void alloc_free(struct alloc_table *t, struct alloc *a);

/* The username an allocation belongs to. */
const char *alloc_username(const struct alloc *a);

/*
 * Install or refresh the permission for peer's IP (the port is ignored,
 * RFC 8656 section 9).  Returns 0, or 508 when the allocation already has
 * max_permissions others.
 */
int alloc_perm_add(struct alloc_table *t, struct alloc *a,
		   const struct addr_key *peer, uint64_t now_ms);

/* Whether a live permission covers peer's IP.  One hash probe. */
bool alloc_perm_ok(const struct alloc_table *t, const struct alloc *a,
		   const struct addr_key *peer, uint64_t now_ms);

/*
 * Bind channel number to peer, or refresh that binding (RFC 8656 section
 * 11.2), and install or refresh the permission for peer's IP.  Returns 0;
 * 400 when the number is bound to another peer or the peer to another
 * number; 508 when max_channels or max_permissions is reached.  The caller
 * checks that number is in the allowed range.
 */
int alloc_chan_bind(struct alloc_table *t, struct alloc *a, uint16_t number,
		    const struct addr_key *peer, uint64_t now_ms);

/* A live channel of a by number, or by peer address; NULL if none. */
const struct alloc_chan *alloc_chan_by_number(const struct alloc_table *t,
					      const struct alloc *a,
					      uint16_t number, uint64_t now_ms);
const struct alloc_chan *alloc_chan_by_peer(const struct alloc_table *t,
					    const struct alloc *a,
					    const struct addr_key *peer,
					    uint64_t now_ms);

/*
 * Free what has expired by now_ms: allocations (after gone(a, arg)),
 * permissions and channels.  Returns how many allocations expired.  Walks
 * every allocation: call it about once a second, not per packet.
 */
unsigned int alloc_expire(struct alloc_table *t, uint64_t now_ms,
			  void (*gone)(struct alloc *a, void *arg), void *arg);

/*
 * After a reload: free every permission whose IP keep_ip() refuses and
 * every channel whose peer keep_peer() refuses, so that a peer the new
 * policy denies gets nothing more either way.  Returns how many went.
 */
unsigned int alloc_prune(struct alloc_table *t,
			 bool (*keep_ip)(const struct addr_key *ip, void *arg),
			 bool (*keep_peer)(const struct addr_key *peer,
					   void *arg),
			 void *arg);

/*
 * Per-allocation bandwidth: take len bytes from a token bucket filled at
 * rate bytes per second, holding at most one second's worth.  Returns
 * false when the packet must be dropped.  rate 0 means no limit.
 */
bool alloc_bw_take(struct alloc *a, size_t len, uint64_t rate, uint64_t now_ms);

#endif /* TURNPIKE_ALLOC_H */
