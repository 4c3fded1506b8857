/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stream.h: STUN over TCP (RFC 8489 section 6.2): the listeners and one
 * bufferevent per client connection, framed into STUN messages and
 * ChannelData by stun_frame_len().
 */
#ifndef TURNPIKE_STREAM_H
#define TURNPIKE_STREAM_H

struct event_base;
struct conf_addrs;
struct server;
struct stream_set;

/* stream.c */

/*
 * Bind and listen on each address.  Returns a set owned by the caller
 * (release with stream_close(), which also closes every connection), or
 * NULL after logging why; a family the kernel lacks is skipped with a
 * warning.
 */
struct stream_set *stream_open(struct event_base *base,
			       const struct conf_addrs *addrs,
			       struct server *srv);
void stream_close(struct stream_set *set);
/* How many listeners are open (skipped families do not count). */
unsigned int stream_count(const struct stream_set *set);

#endif /* TURNPIKE_STREAM_H */
