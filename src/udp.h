/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp.h: the UDP listeners.  Each one is a socket read in batches with
 * recvmmsg() when libevent says it is readable; answers go back in one
 * sendmmsg() per batch, from the address the request was sent to.
 */
#ifndef TURNPIKE_UDP_H
#define TURNPIKE_UDP_H

#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct conf_addrs;
struct server;
struct udp_set;

/* udp.c */

/*
 * Bind a socket for each address and start reading.  Returns a set owned
 * by the caller (release with udp_close()), or NULL after logging why; a
 * family the kernel does not support (no IPv6) is skipped with a warning.
 * worker is -1 for the only set on these addresses, or this set's worker
 * number when every worker binds them (SO_REUSEPORT).
 */
struct udp_set *udp_open(struct event_base *base,
			 const struct conf_addrs *addrs, struct server *srv,
			 int worker);
void udp_close(struct udp_set *set);
/*
 * For the relay: the socket of the listener conn (as server_msg.conn
 * gives it), and the control message that makes a datagram leave from
 * local, written into ctl (UDP_CMSG_SPACE bytes); returns its length.
 */
int udp_listener_fd(const void *conn);
size_t udp_source_cmsg(const struct sockaddr *local, void *ctl);

#define UDP_CMSG_SPACE 64

/* How many sockets are open (skipped families do not count). */
unsigned int udp_count(const struct udp_set *set);

#endif /* TURNPIKE_UDP_H */
