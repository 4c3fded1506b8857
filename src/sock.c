/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.c: listening sockets for udp.c, stream.c and http.c, and the pause
 * of stream listeners when descriptors run out.  Nothing here reads or
 * writes data.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "sock.h"

int
sock_bind(const struct sockaddr *sa, int type, bool reuseport)
{
	int fd, on = 1, saved;

	fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto fail;
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (type == SOCK_DGRAM) {
		/* Room for bursts: 4 MiB, beyond net.core.rmem_max when we
		 * may (root, before privileges are dropped). */
		int size = 4 << 20;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
			       sizeof(size)) == -1)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
					 sizeof(size));
		/* Learn each datagram's destination, to answer from it. */
		if (sa->sa_family == AF_INET &&
		    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) ==
			    -1)
			goto fail;
		if (sa->sa_family == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
			       sizeof(on)) == -1)
			goto fail;
	}
	if (bind(fd, sa, addr_len(sa)) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 511) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
sock_family_missing(int err)
{
	return err == EAFNOSUPPORT;
}

/* Listen again after descriptors ran out (sock_pause_accept_error). */
static void
sock_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sock_pause *p = arg;

	for (unsigned int i = 0; i < p->n; i++)
		evconnlistener_enable(p->lev[i]);
}

int
sock_pause_init(struct sock_pause *p, struct event_base *base, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->resume = evtimer_new(base, sock_resume_cb, p);
	return p->resume == NULL ? -1 : 0;
}

void
sock_pause_free(struct sock_pause *p)
{
	if (p->resume != NULL)
		event_free(p->resume);
	p->resume = NULL;
}

void
sock_pause_add(struct sock_pause *p, struct evconnlistener *lev)
{
	if (p->n < CONF_MAX_LISTEN)
		p->lev[p->n++] = lev;
}

void
sock_pause_accept_error(struct sock_pause *p)
{
	struct timeval pause = { 0, 100 * 1000 };
	int err = errno;

	log_debug("%s: accept: %s", p->name, strerror(err));
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		for (unsigned int i = 0; i < p->n; i++)
			evconnlistener_disable(p->lev[i]);
		event_add(p->resume, &pause);
	}
}
