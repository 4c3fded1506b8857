/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relay.h: the relay sockets of TURN allocations (RFC 8656 section 2.2):
 * one UDP socket per allocation and family, its port from the configured
 * range, and the path from peers back to clients.  It provides the
 * server_relay_ops that the TURN handlers in turn.c call.
 */
#ifndef TURNPIKE_RELAY_H
#define TURNPIKE_RELAY_H

#include <stdint.h>

struct alloc;
struct conf;
struct event_base;
struct relay_ports;
struct relay_set;
struct server;
struct server_relay_ops;

/* relay.c */

/*
 * The relay module for srv, on base, with the relay addresses, external
 * addresses and port range of conf (which only a restart changes),
 * holding its ports in ports.  Returns NULL after logging why.
 * srv->relay and srv->relay_ctx are set.
 */
struct relay_set *relay_new(struct event_base *base, struct server *srv,
			    const struct conf *conf, struct relay_ports *ports);
/* Free the set; its allocations are closed through the table first. */
void relay_free(struct relay_set *set);

/* Drop RESERVATION-TOKEN reservations older than their 30 s. */
void relay_sweep(struct relay_set *set, uint64_t now_ms);

extern const struct server_relay_ops relay_ops;

#endif /* TURNPIKE_RELAY_H */
