/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.h: the protocol core shared by every listener.  A listener hands
 * it one message (a datagram, or one frame cut from a stream) with the
 * addresses it came between, and gets back the bytes to answer with, if
 * any.  TURN requests also reach the relay sockets through the functions
 * in server_relay_ops, which relay.c provides and the unit tests fake.
 * Pure: no sockets, no clock (time is passed in), no logging above debug
 * for anything a remote party sends.
 */
#ifndef TURNPIKE_SERVER_H
#define TURNPIKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "alloc.h"
#include "stats.h"
#include "stun.h"

/* The largest message we accept on any transport, and answer with. */
#define SERVER_MAX_MESSAGE    4096
#define SERVER_NONCE_KEY_SIZE 32

struct auth;
struct conf;
struct digest_ctx;
struct peer_policy;
struct ratelimit;
struct txcache;

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
	void *conn;       /* the listener (UDP) or connection */
	uint64_t now_ms;  /* monotonic clock, milliseconds */
	int64_t now_unix; /* wall clock, seconds (REST expiry) */
};

/* What an Allocate asks of the relay sockets (RFC 8656 sections 7.2,
 * 14.6, 14.9). */
struct server_relay_request {
	bool family[2];    /* [0] IPv4 and [1] IPv6 wanted */
	bool even_port;    /* EVEN-PORT */
	bool reserve_next; /* EVEN-PORT with the R bit */
	bool use_token;    /* RESERVATION-TOKEN given */
	uint8_t token[8];
	bool made_token; /* out: a RESERVATION-TOKEN to return */
	uint8_t new_token[8];
	int family_error[2]; /* out: 440 for a family that failed */
};

/*
 * The relay I/O, as the TURN handlers see it.  open() binds the relay
 * socket(s) of a new allocation and fills a->relay[] and a->io; it returns
 * 0, or 440 when no requested family is configured, or 508 when no port is
 * free (or the reservation token is unknown).  close() releases a->io.
 * send() relays data from a's relay address of peer's family to peer and
 * returns 0, or -1 when the datagram was dropped (counted by the I/O).
 */
struct server_relay_ops {
	int (*open)(void *ctx, struct alloc *a,
		    struct server_relay_request *rq);
	void (*close)(void *ctx, struct alloc *a);
	int (*send)(void *ctx, struct alloc *a, const struct sockaddr *peer,
		    const uint8_t *data, size_t len, bool dont_fragment);
};

/*
 * The core's state.  main.c owns it and everything it points to; reload
 * replaces conf, auth and peers whole.  The TURN members are NULL when
 * turn.enable is false.  crypto may be NULL (digests fetched per call).
 */
struct server {
	const struct conf *conf;
	struct stats *stats;
	struct alloc_table *allocs;
	struct auth *auth;
	struct peer_policy *peers;
	struct ratelimit *unauth;
	struct txcache *answers;
	struct digest_ctx *crypto;
	uint8_t nonce_key[SERVER_NONCE_KEY_SIZE];
	const struct server_relay_ops *relay;
	void *relay_ctx;
};

/* One request being handled: what the dispatcher learnt before the
 * method's handler runs. */
struct server_req {
	const struct server_msg *m;
	const struct stun_msg *msg;
	struct alloc_tuple tuple;
	/* After long-term authentication (methods that require it). */
	bool authenticated;
	bool sha256;
	char username[514];
	uint8_t key[ALLOC_KEY_SIZE];
	uint8_t key_tag[ALLOC_KEY_TAG_SIZE]; /* auth_result.tag */
	/* The allocation of the 5-tuple, for methods that need one. */
	struct alloc *alloc;
};

/*
 * One handler per STUN method, all with this signature.  The handler
 * appends attributes to b, which the dispatcher has started as a success
 * response with the request's transaction id.  It returns 0 to send b as
 * it is, a STUN error code to send that error instead, or -1 to send
 * nothing.  The dispatcher signs and fingerprints the answer.
 */
typedef int server_method_fn(struct server *srv, struct server_req *r,
			     struct stun_builder *b);

/* An indication handler: nothing is ever answered. */
typedef void server_indication_fn(struct server *srv, struct server_req *r);

/* server.c */

/*
 * Handle one message.  Writes the answer into out[0..cap) and returns its
 * length, or returns 0 when nothing is to be sent (the message was dropped
 * and counted, or relayed).  cap should be SERVER_MAX_MESSAGE.
 */
size_t server_handle(struct server *srv, const struct server_msg *m,
		     uint8_t *out, size_t cap);

/* The 5-tuple a message arrived on. */
void server_tuple(struct alloc_tuple *t, const struct server_msg *m);

/*
 * An allocation ends (why: "expired", "deleted", "closed"): log it at info
 * with its traffic, count it, and close its relay sockets.  The caller
 * frees it from the table (alloc_expire() does, or alloc_free()).
 */
void server_alloc_gone(struct server *srv, struct alloc *a, const char *why,
		       uint64_t now_ms);

/* binding.c */
server_method_fn binding_handle;
size_t binding_classic(struct server *srv, const struct server_msg *m,
		       uint8_t *out, size_t cap);

/* turn.c */
server_method_fn turn_allocate;
server_method_fn turn_refresh;
server_method_fn turn_create_permission;
server_method_fn turn_channel_bind;
server_indication_fn turn_send;
void turn_channel_data(struct server *srv, const struct server_msg *m);

#endif /* TURNPIKE_SERVER_H */
