/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relay_ports.h: what the relay sets of every worker share.  Behind one
 * mutex, taken only when a port is bound or let go: the bitmap of relay
 * ports held, and the ports kept for a later Allocate with
 * RESERVATION-TOKEN (RFC 8656 section 7.2).  Read without it on the
 * packet path: which worker holds each relay port, and each worker's
 * inbox, so that data between allocations on two workers goes in memory.
 */
#ifndef TURNPIKE_RELAY_PORTS_H
#define TURNPIKE_RELAY_PORTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

#define RELAY_MAX_RESERVATIONS 1024

struct inbox;

/* A port held for a later Allocate with RESERVATION-TOKEN. */
struct relay_reservation {
	uint8_t token[8];
	int fd;
	int family;
	unsigned int port;
	uint64_t expires_ms;
};

struct relay_ports {
	pthread_mutex_t lock;
	uint8_t held[2][65536 / 8]; /* per family index, under lock */
	struct relay_reservation reservations[RELAY_MAX_RESERVATIONS];
	unsigned int nreservations; /* under lock */
	unsigned int nsets;         /* relay sets joined, under lock */

	/* With several workers: each set's inbox, set before the worker
	 * threads start, and which set (its number + 1; 0 for none) has a
	 * socket on each relay port, written by that set's own thread. */
	unsigned int nworkers;
	struct inbox *inbox[CONF_MAX_WORKERS];
	_Atomic uint8_t owner[2][65536];
};

/* Whether port (of family index fi) is held; the caller holds the lock. */
static inline bool
relay_ports_held(const struct relay_ports *ports, int fi, unsigned int port)
{
	return ports->held[fi][port / 8] & (1u << (port % 8));
}

/* Mark port held or free; the caller holds the lock. */
static inline void
relay_ports_mark(struct relay_ports *ports, int fi, unsigned int port,
		 bool held)
{
	if (held)
		ports->held[fi][port / 8] |= (uint8_t)(1u << (port % 8));
	else
		ports->held[fi][port / 8] &= (uint8_t) ~(1u << (port % 8));
}

/* The number + 1 of the set whose socket is on port, or 0. */
static inline unsigned int
relay_ports_owner(struct relay_ports *ports, int fi, unsigned int port)
{
	return atomic_load_explicit(&ports->owner[fi][port],
				    memory_order_acquire);
}

/* On the set's own thread: set number id holds port now (owned), or no
 * longer. */
static inline void
relay_ports_own(struct relay_ports *ports, int fi, unsigned int port,
		unsigned int id, bool owned)
{
	atomic_store_explicit(&ports->owner[fi][port],
			      owned ? (uint8_t)(id + 1) : 0,
			      memory_order_release);
}

/* relay_ports.c */

/* For nworkers workers; NULL when out of memory. */
struct relay_ports *relay_ports_new(unsigned int nworkers);

/* Close every reservation and free ports; after every set is freed. */
void relay_ports_free(struct relay_ports *ports);

/* A relay set joins, with its inbox (or NULL): returns its number. */
unsigned int relay_ports_join(struct relay_ports *ports, struct inbox *inbox);

/* Keep *r (its port already marked held) until r->expires_ms; false when
 * the list is full, and the caller lets the port go. */
bool relay_ports_reserve(struct relay_ports *ports,
			 const struct relay_reservation *r);

/*
 * Take the live reservation of token out of the list into *out.  Its
 * port stays marked held: the caller binds its socket or lets it go.
 * Returns false when there is none.
 */
bool relay_ports_take(struct relay_ports *ports, const uint8_t token[8],
		      uint64_t now_ms, struct relay_reservation *out);

/* Close the reservations that expired by now_ms and free their ports. */
void relay_ports_expire(struct relay_ports *ports, uint64_t now_ms);

#endif /* TURNPIKE_RELAY_PORTS_H */
