/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.h: making listening sockets, shared by the UDP and stream
 * listeners: non-blocking, close-on-exec, IPv6 sockets IPv6-only so that
 * "[::]:3478" and "0.0.0.0:3478" can both be bound.
 */
#ifndef TURNPIKE_SOCK_H
#define TURNPIKE_SOCK_H

#include <stdbool.h>
#include <sys/socket.h>

/* sock.c */

/*
 * Create a socket of the given type bound to sa; with reuseport, one of
 * several bound to the same address (SO_REUSEPORT: one per worker, the
 * kernel spreading datagrams and connections over them by address
 * hash).  Returns the descriptor, or -1 with errno set (EAFNOSUPPORT when
 * the family is not available).
 */
int sock_bind(const struct sockaddr *sa, int type, bool reuseport);

/* Whether a failed sock_bind() only means the family is absent. */
int sock_family_missing(int err);

#endif /* TURNPIKE_SOCK_H */
