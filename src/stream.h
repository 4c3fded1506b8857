/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stream.h: STUN over TCP (RFC 8489 section 6.2): the listeners and one
 * bufferevent per client connection, framed into STUN messages and
 * ChannelData by stun_frame_len().
 */
#ifndef TURNPIKE_STREAM_H
#define TURNPIKE_STREAM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct ssl_ctx_st;
struct conf_addrs;
struct server;
struct stream_set;

/*
 * The connections open on one transport (TCP or TLS) over every worker's
 * set, which stream.max_connections bounds.  Zeroed by its owner, who
 * keeps it until every set that counts in it is closed.
 */
struct stream_total {
	atomic_uint open;
	atomic_bool full_logged; /* the limit warning, once per episode */
};

/* stream.c */

/*
 * Bind and listen on each address, for TCP, or for TLS with tls_ctx (the
 * set takes its own reference).  Returns a set owned by the caller
 * (release with stream_close(), which also closes every connection), or
 * NULL after logging why; a family the kernel lacks is skipped with a
 * warning.  worker is as for udp_open(); total counts the connections
 * (shared by the sets of every worker).
 */
struct stream_set *stream_open(struct event_base *base,
			       const struct conf_addrs *addrs,
			       struct server *srv, struct ssl_ctx_st *tls_ctx,
			       int worker, struct stream_total *total);

/* A reloaded certificate: new handshakes use tls_ctx, open connections
 * keep the context they were made with. */
void stream_set_tls(struct stream_set *set, struct ssl_ctx_st *tls_ctx);

/*
 * The relay tells a connection that an allocation now lives on it (no
 * more idle timeout), and that it ended (the connection is then shut
 * down from the event loop, after its queued answers).
 */
void stream_alloc_attached(void *conn);
void stream_alloc_detached(void *conn);
void stream_close(struct stream_set *set);
/*
 * Queue len bytes of relayed data to the client of connection conn (as
 * server_msg.conn gives it).  Returns 0, or -1 when the data was dropped
 * and counted because stream.max_buffer bytes already wait: relayed media
 * is never buffered without bound (RFC 8656 section 12.5 lets a server
 * drop what it cannot send).
 */
int stream_send(void *conn, const void *buf, size_t len);

/* How many listeners are open (skipped families do not count). */
unsigned int stream_count(const struct stream_set *set);

#endif /* TURNPIKE_STREAM_H */
