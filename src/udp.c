/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp.c: the UDP listeners.
 *
 * Each socket is read in batches of UDP_BATCH datagrams with recvmmsg();
 * every datagram goes through server_handle() and the answers of one batch
 * leave in one sendmmsg(), where answers of one length to one client in a
 * row are one UDP GSO message (UDP_SEGMENT), unless the kernel refuses it.
 * IP_PKTINFO / IPV6_PKTINFO give each datagram's destination address, and
 * the answer is sent from it, so that a wildcard listener on a multi-homed
 * host answers from the address the client used.  The buffers are
 * static, one set per thread, and the packet path allocates nothing.  Not
 * for protocol logic: that is server.c.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/udp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "conf.h"
#include "log.h"
#include "server.h"
#include "sock.h"
#include "udp.h"

#define UDP_BATCH   32
#define UDP_GSO_MAX 64 /* segments in one message (UDP_MAX_SEGMENTS) */
/* One byte more than we accept, so that a larger datagram shows. */
#define UDP_SLOT (SERVER_MAX_MESSAGE + 1)
_Static_assert(CMSG_SPACE(sizeof(struct in6_pktinfo)) <= UDP_CMSG_SPACE &&
		       CMSG_SPACE(sizeof(struct in_pktinfo)) <= UDP_CMSG_SPACE,
	       "UDP_CMSG_SPACE too small");

struct udp_listener {
	int fd;
	struct sockaddr_storage addr;
	struct event *ev;
	struct server *srv;
	bool no_gso; /* the kernel refused UDP_SEGMENT here once */
};

struct udp_set {
	unsigned int n;
	struct udp_listener listeners[CONF_MAX_LISTEN];
};

/* The batch buffers, shared by every listener of a thread: each thread
 * reads one socket at a time. */
static _Thread_local struct {
	uint8_t in[UDP_BATCH][UDP_SLOT];
	uint8_t out[UDP_BATCH][SERVER_MAX_MESSAGE];
	struct sockaddr_storage from[UDP_BATCH];
	struct sockaddr_storage to[UDP_BATCH];
	union {
		char buf[UDP_CMSG_SPACE];
		struct cmsghdr align;
	} in_cmsg[UDP_BATCH], out_cmsg[UDP_BATCH];
	struct iovec in_iov[UDP_BATCH], out_iov[UDP_BATCH];
	struct mmsghdr in_msg[UDP_BATCH], out_msg[UDP_BATCH];
	/* The answers as sent: runs of out_msg[] merged (udp_coalesce). */
	struct mmsghdr gso_msg[UDP_BATCH];
	int gso_first[UDP_BATCH], gso_count[UDP_BATCH];
} udp_batch;

size_t
udp_source_cmsg(const struct sockaddr *local, void *ctl)
{
	struct cmsghdr *o = ctl;

	memset(ctl, 0, UDP_CMSG_SPACE);
	if (local->sa_family == AF_INET) {
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr;
		o->cmsg_level = IPPROTO_IP;
		o->cmsg_type = IP_PKTINFO;
		o->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(o), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	if (local->sa_family == AF_INET6) {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr = ((const struct sockaddr_in6 *)local)->sin6_addr;
		o->cmsg_level = IPPROTO_IPV6;
		o->cmsg_type = IPV6_PKTINFO;
		o->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(o), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	return 0;
}

int
udp_listener_fd(const void *conn)
{
	return ((const struct udp_listener *)conn)->fd;
}

/*
 * Read the destination address of a received datagram from its control
 * messages into to (port from the listener), and write the control message
 * that makes the answer leave from that address into ctl.  Returns the
 * length of the control message written.
 */
static size_t
udp_pktinfo(const struct udp_listener *l, struct msghdr *in,
	    struct sockaddr_storage *to, void *ctl)
{
	struct cmsghdr *c;

	memcpy(to, &l->addr, sizeof(*to));
	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)to)->sin_addr = pi.ipi_addr;
			return udp_source_cmsg((struct sockaddr *)to, ctl);
		}
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)to)->sin6_addr = pi.ipi6_addr;
			return udp_source_cmsg((struct sockaddr *)to, ctl);
		}
	}
	return 0;
}

/* Whether answers a and b go to the same client from the same address
 * with the same length, so that one UDP GSO message can carry both. */
static bool
udp_same_run(const struct msghdr *a, const struct msghdr *b)
{
	return a->msg_namelen == b->msg_namelen &&
	       a->msg_iov->iov_len == b->msg_iov->iov_len &&
	       a->msg_controllen == b->msg_controllen &&
	       memcmp(a->msg_name, b->msg_name, a->msg_namelen) == 0 &&
	       (a->msg_controllen == 0 ||
		memcmp(a->msg_control, b->msg_control, a->msg_controllen) == 0);
}

/*
 * Merge runs of answers in out_msg[0..nout) that udp_same_run() into one
 * message each, with a UDP_SEGMENT control message (Linux UDP GSO): the
 * run crosses the IP stack once and the kernel cuts it into datagrams.
 * Answers keep their order.  Fills gso_msg[], gso_first[] and gso_count[]
 * and returns how many messages there are.
 */
static int
udp_coalesce(int nout, bool gso)
{
	int n = 0;

	for (int i = 0; i < nout;) {
		struct msghdr *h = &udp_batch.out_msg[i].msg_hdr;
		struct msghdr *g = &udp_batch.gso_msg[n].msg_hdr;
		int run = 1;

		while (gso && i + run < nout && run < UDP_GSO_MAX &&
		       udp_same_run(h, &udp_batch.out_msg[i + run].msg_hdr))
			run++;
		*g = *h;
		if (run > 1) {
			struct cmsghdr *c =
				(struct cmsghdr
					 *)(void *)((char *)h->msg_control +
						    h->msg_controllen);
			uint16_t size = (uint16_t)h->msg_iov->iov_len;

			if (h->msg_control == NULL) {
				g->msg_control = udp_batch.out_cmsg[i].buf;
				c = g->msg_control;
			}
			c->cmsg_level = IPPROTO_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(size));
			memcpy(CMSG_DATA(c), &size, sizeof(size));
			g->msg_controllen += CMSG_SPACE(sizeof(size));
			g->msg_iovlen = (size_t)run;
		}
		udp_batch.gso_first[n] = i;
		udp_batch.gso_count[n] = run;
		n++;
		i += run;
	}
	return n;
}

/* The answers of message r of gso_msg[] one datagram each, counted. */
static void
udp_send_singly(struct udp_listener *l, int fd, int r,
		struct stats_transport_counters *tc)
{
	int first = udp_batch.gso_first[r];

	for (int i = first; i < first + udp_batch.gso_count[r]; i++) {
		if (sendmmsg(fd, &udp_batch.out_msg[i], 1, MSG_DONTWAIT) == 1) {
			tc->tx_packets++;
			tc->tx_bytes += udp_batch.out_iov[i].iov_len;
		} else {
			l->srv->stats->drop_send_failed++;
		}
	}
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_listener *l = arg;
	struct stats_transport_counters *tc =
		&l->srv->stats->transport[STATS_UDP];
	uint64_t now = clock_mono_ms();
	int64_t wall = (int64_t)time(NULL);
	int got, nout, nmsg, sent;

	for (int i = 0; i < UDP_BATCH; i++) {
		struct msghdr *h = &udp_batch.in_msg[i].msg_hdr;

		udp_batch.in_iov[i].iov_base = udp_batch.in[i];
		udp_batch.in_iov[i].iov_len = UDP_SLOT;
		h->msg_name = &udp_batch.from[i];
		h->msg_namelen = sizeof(udp_batch.from[i]);
		h->msg_iov = &udp_batch.in_iov[i];
		h->msg_iovlen = 1;
		h->msg_control = udp_batch.in_cmsg[i].buf;
		h->msg_controllen = sizeof(udp_batch.in_cmsg[i].buf);
		h->msg_flags = 0;
	}
	got = recvmmsg(fd, udp_batch.in_msg, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (got <= 0) {
		if (got == -1 && errno != EAGAIN && errno != EINTR)
			log_debug("udp: recvmmsg: %s", strerror(errno));
		return;
	}

	nout = 0;
	for (int i = 0; i < got; i++) {
		struct msghdr *h = &udp_batch.in_msg[i].msg_hdr;
		struct msghdr *o = &udp_batch.out_msg[nout].msg_hdr;
		struct server_msg m;
		size_t len = udp_batch.in_msg[i].msg_len, ctl, ans;

		tc->rx_packets++;
		tc->rx_bytes += len;
		if (h->msg_flags & MSG_TRUNC || len > SERVER_MAX_MESSAGE) {
			l->srv->stats->drop_oversized++;
			continue;
		}
		ctl = udp_pktinfo(l, h, &udp_batch.to[i],
				  udp_batch.out_cmsg[nout].buf);
		m.data = udp_batch.in[i];
		m.len = len;
		m.peer = (struct sockaddr *)&udp_batch.from[i];
		m.local = (struct sockaddr *)&udp_batch.to[i];
		m.transport = SERVER_UDP;
		m.conn = l;
		m.now_ms = now;
		m.now_unix = wall;
		ans = server_handle(l->srv, &m, udp_batch.out[nout],
				    sizeof(udp_batch.out[nout]));
		if (ans == 0)
			continue;
		udp_batch.out_iov[nout].iov_base = udp_batch.out[nout];
		udp_batch.out_iov[nout].iov_len = ans;
		o->msg_name = &udp_batch.from[i];
		o->msg_namelen = h->msg_namelen;
		o->msg_iov = &udp_batch.out_iov[nout];
		o->msg_iovlen = 1;
		o->msg_control = ctl ? udp_batch.out_cmsg[nout].buf : NULL;
		o->msg_controllen = ctl;
		o->msg_flags = 0;
		nout++;
	}

	nmsg = udp_coalesce(nout, !l->no_gso);
	for (int done = 0; done < nmsg; done += sent) {
		sent = sendmmsg(fd, udp_batch.gso_msg + done,
				(unsigned int)(nmsg - done), MSG_DONTWAIT);
		if (sent <= 0 && udp_batch.gso_count[done] > 1 &&
		    errno != EAGAIN) {
			/* No UDP GSO here (an old kernel, a device without
			 * checksum offload): from now on, one at a time. */
			l->no_gso = true;
			udp_send_singly(l, fd, done, tc);
			sent = 1;
			continue;
		}
		if (sent <= 0) {
			/* The kernel refused one: count it and skip it. */
			l->srv->stats->drop_send_failed +=
				(uint64_t)udp_batch.gso_count[done];
			sent = 1;
			continue;
		}
		for (int i = done; i < done + sent; i++) {
			tc->tx_packets += (uint64_t)udp_batch.gso_count[i];
			tc->tx_bytes += udp_batch.gso_msg[i].msg_len;
		}
	}
}

struct udp_set *
udp_open(struct event_base *base, const struct conf_addrs *addrs,
	 struct server *srv, int worker)
{
	struct udp_set *set;
	char name[ADDR_STRLEN];

	if ((set = calloc(1, sizeof(*set))) == NULL) {
		log_warn("udp");
		return NULL;
	}
	for (unsigned int i = 0; i < addrs->n; i++) {
		const struct sockaddr *sa =
			(const struct sockaddr *)&addrs->addr[i];
		struct udp_listener *l = &set->listeners[set->n];

		addr_str(sa, name, sizeof(name));
		if ((l->fd = sock_bind(sa, SOCK_DGRAM, worker >= 0)) == -1) {
			if (sock_family_missing(errno)) {
				log_warn("udp %s skipped", name);
				continue;
			}
			log_warn("cannot listen on udp %s", name);
			udp_close(set);
			return NULL;
		}
		memcpy(&l->addr, sa, sizeof(l->addr));
		l->srv = srv;
		l->ev = event_new(base, l->fd, EV_READ | EV_PERSIST,
				  udp_read_cb, l);
		if (l->ev == NULL || event_add(l->ev, NULL) == -1) {
			log_warnx("udp %s: cannot watch the socket", name);
			if (l->ev != NULL)
				event_free(l->ev);
			close(l->fd);
			udp_close(set);
			return NULL;
		}
		set->n++;
		if (worker <= 0)
			log_info("listening on udp %s", name);
		else
			log_debug("worker %d: listening on udp %s", worker,
				  name);
	}
	return set;
}

void
udp_close(struct udp_set *set)
{
	if (set == NULL)
		return;
	for (unsigned int i = 0; i < set->n; i++) {
		event_free(set->listeners[i].ev);
		close(set->listeners[i].fd);
	}
	free(set);
}

unsigned int
udp_count(const struct udp_set *set)
{
	return set->n;
}
