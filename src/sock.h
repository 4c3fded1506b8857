/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.h: making listening sockets, shared by the UDP, stream and HTTP
 * listeners: non-blocking, close-on-exec, IPv6 sockets IPv6-only so that
 * "[::]:3478" and "0.0.0.0:3478" can both be bound; and pausing a set of
 * stream listeners while descriptors run out.
 */
#ifndef TURNPIKE_SOCK_H
#define TURNPIKE_SOCK_H

#include <stdbool.h>
#include <sys/socket.h>

#include "conf.h"

struct event;
struct event_base;
struct evconnlistener;

/*
 * The listeners of one set, paused together for 100 ms when accept()
 * fails for want of descriptors or memory: the pending connection stays
 * readable, so a listener left on would spin.  What is open keeps being
 * served.  The listeners stay their owner's; this only turns them off and
 * on.
 */
struct sock_pause {
	const char *name; /* "tcp", "tls", "http": for the debug line */
	struct event *resume;
	struct evconnlistener *lev[CONF_MAX_LISTEN];
	unsigned int n;
};

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

/* Start p, empty, on base; -1 when out of memory.  sock_pause_free()
 * releases it (not the listeners). */
int sock_pause_init(struct sock_pause *p, struct event_base *base,
		    const char *name);
void sock_pause_free(struct sock_pause *p);
/* One more listener of the set. */
void sock_pause_add(struct sock_pause *p, struct evconnlistener *lev);
/* A listener's error callback calls this with errno as accept() left it. */
void sock_pause_accept_error(struct sock_pause *p);

#endif /* TURNPIKE_SOCK_H */
