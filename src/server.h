/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.h: the protocol core shared by every listener.  A listener hands
 * it one message (a datagram, or one frame cut from a stream) with the
 * addresses it came between, and gets back the bytes to answer with, if
 * any.  Pure: no sockets, no clock (time is passed in), no logging above
 * debug for anything a remote party sends.
 */
#ifndef TURNPIKE_SERVER_H
#define TURNPIKE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stats.h"
#include "stun.h"

/* The largest message we accept on any transport, and answer with. */
#define SERVER_MAX_MESSAGE 4096

struct conf;

/* Client-to-server transports (an allocation's 5-tuple includes it). */
enum server_transport {
	SERVER_UDP = STATS_UDP,
	SERVER_TCP = STATS_TCP,
	SERVER_TLS = STATS_TLS,
};

/* One message received, and between which addresses. */
struct server_msg {
	const uint8_t *data;
	size_t len;
	const struct sockaddr *peer;  /* the client, as we see it */
	const struct sockaddr *local; /* our address it was sent to */
	enum server_transport transport;
	uint64_t now_ms; /* monotonic clock, milliseconds */
};

/* The core's state: what main.c hands it, and nothing it owns. */
struct server {
	const struct conf *conf; /* swapped by main.c on reload */
	struct stats *stats;
};

/*
 * One handler per STUN method, all with this signature.  req is the parsed
 * request (already checked for unknown comprehension-required attributes);
 * the handler appends attributes to b, which main's dispatcher has started
 * as a success response with the request's transaction id.  It returns 0
 * to send b as it is, a STUN error code to send that error instead, or -1
 * to send nothing.
 */
typedef int server_method_fn(struct server *srv, const struct server_msg *m,
			     const struct stun_msg *req,
			     struct stun_builder *b);

/* server.c */

/*
 * Handle one message.  Writes the answer into out[0..cap) and returns its
 * length, or returns 0 when nothing is to be sent (the message was dropped
 * and counted).  cap should be SERVER_MAX_MESSAGE.
 */
size_t server_handle(struct server *srv, const struct server_msg *m,
		     uint8_t *out, size_t cap);

/* binding.c */
server_method_fn binding_handle;
size_t binding_classic(struct server *srv, const struct server_msg *m,
		       uint8_t *out, size_t cap);

#endif /* TURNPIKE_SERVER_H */
