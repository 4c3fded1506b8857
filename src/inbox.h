/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inbox.h: datagrams handed to one event loop by other threads.  Any
 * thread puts a datagram in: it is copied into a slot under the inbox's
 * mutex, with room left in front of it.  The loop that owns the inbox is
 * woken through an eventfd once per batch, and gets each datagram, in
 * order, through its callback, without holding the lock.  A full inbox
 * refuses a datagram, and the caller sends it another way.  Nothing is
 * allocated after inbox_new().
 */
#ifndef TURNPIKE_INBOX_H
#define TURNPIKE_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct addr_key;
struct event_base;
struct inbox;

/* On the owner's loop, for each datagram: to and from as given to
 * inbox_put(), and its len bytes at data, which has the inbox's headroom
 * in front of it and 3 bytes after, all writable until the call returns. */
typedef void inbox_fn(void *arg, const struct addr_key *to,
		      const struct addr_key *from, uint8_t *data, size_t len);

/* inbox.c */

/*
 * An inbox of slots datagrams of up to max_len bytes, each with headroom
 * bytes in front of it, read by base's loop, which calls fn(arg, ...).
 * Returns NULL with errno set.
 */
struct inbox *inbox_new(struct event_base *base, unsigned int slots,
			size_t headroom, size_t max_len, inbox_fn *fn,
			void *arg);

/* Free it; what it still holds is dropped.  No thread may put any more. */
void inbox_free(struct inbox *in);

/*
 * From any thread: copy len bytes of data (at most max_len) into the
 * inbox, for to from from, and wake its loop unless a wake-up is already
 * on its way.  Returns false, copying nothing, when the inbox is full.
 */
bool inbox_put(struct inbox *in, const struct addr_key *to,
	       const struct addr_key *from, const uint8_t *data, size_t len);

#endif /* TURNPIKE_INBOX_H */
