/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.c: listening sockets for udp.c and stream.c.  Nothing here reads or
 * writes data.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

#include "addr.h"
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
