/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relay.c: relay sockets, and the path from peers back to clients.
 *
 * Each allocation gets one UDP socket per family, bound to turn.relay_ip
 * (or the wildcard) on a port picked at random from turn.port_min..max; a
 * bitmap of the ports we hold saves binding ones we know are taken.
 * EVEN-PORT with the R bit keeps the next port bound as a reservation for
 * 30 s under a random RESERVATION-TOKEN (RFC 8656 section 7.2).  With
 * several workers, each has its own relay_set on its own event loop; the
 * bitmap and the reservations are in one struct relay_ports that they
 * share under its mutex, taken only when a port is bound or let go
 * (relay_ports.c).
 *
 * A relay socket is read in batches with recvmmsg() into buffers that
 * leave room in front of the data, so that the ChannelData header or the
 * Data indication's header and attributes are written in place, without a
 * copy; the batch then goes to the client in one sendmmsg() on its UDP
 * listener, from the address the client talks to, or onto its TCP
 * connection.  The path allocates nothing and logs nothing.  Not for
 * protocol decisions: those are turn.c's.
 *
 * Data a client sends to the relayed address of another allocation of
 * this daemon does not go through the kernel: on one worker it is
 * delivered at once (relay_local), and with several workers it is copied
 * into the inbox of the worker that holds the other allocation, which
 * delivers it when its loop next runs (relay_handoff).  A shared table
 * says which worker holds each relay port.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "alloc.h"
#include "bytes.h"
#include "conf.h"
#include "inbox.h"
#include "log.h"
#include "relay.h"
#include "relay_ports.h"
#include "server.h"
#include "stream.h"
#include "stun.h"
#include "udp.h"
#include "xorshift.h"

#define RELAY_BATCH 32
/* In front of the data: a STUN header, XOR-PEER-ADDRESS for IPv6 and the
 * DATA attribute's header (the Data indication's largest case). */
#define RELAY_HEADROOM       (STUN_HEADER_SIZE + 4 + 20 + 4)
#define RELAY_SLOT           (RELAY_HEADROOM + SERVER_MAX_MESSAGE + 4)
#define RELAY_RESERVATION_MS 30000
#define RELAY_BIND_TRIES     64
#define RELAY_RANDOM_BATCH   64  /* port_random, values per RAND_bytes() */
#define RELAY_INBOX          256 /* datagrams a worker's inbox holds */

struct relay_set;

/* One relay socket: an allocation's address of one family. */
struct relay_sock {
	int fd;
	struct event *ev;
	struct alloc *alloc;
	struct relay_set *set;
};

/* What alloc->io points to. */
struct relay_io {
	struct relay_sock sock[2]; /* [0] IPv4, [1] IPv6; fd -1 if none */
};

struct relay_set {
	struct event_base *base;
	struct server *srv;
	struct relay_ports *ports; /* shared; the caller of relay_new's */
	/* What relay sockets bind and what clients are told, per family;
	 * family 0 where not configured. */
	struct sockaddr_storage bind_addr[2];
	struct sockaddr_storage external[2];
	bool family_ok[2];
	unsigned int port_min, port_max;
	uint64_t tid_state; /* xorshift for Data indication transaction ids */
	/* Random numbers for the first port to try, drawn from RAND_bytes()
	 * RELAY_RANDOM_BATCH at a time: one call costs about what the rest
	 * of picking a port does. */
	uint32_t port_random[RELAY_RANDOM_BATCH];
	unsigned int nport_random;
	/* Relay sockets by port, per family: a peer address that is one of
	 * ours is reached in memory, not through the kernel. */
	struct relay_sock **by_port[2];
	/* The relayed IP every allocation is told, per family (family 0
	 * when it depends on the address the client reached): a peer of
	 * that IP may be on another worker. */
	struct addr_key told_ip[2];
	unsigned int id;     /* its number in ports */
	struct inbox *inbox; /* with several workers (inbox.h) */
};

/* The batch buffers: each thread reads one relay socket at a time. */
static _Thread_local struct {
	uint8_t buf[RELAY_BATCH][RELAY_SLOT];
	struct sockaddr_storage from[RELAY_BATCH];
	struct iovec in_iov[RELAY_BATCH], out_iov[RELAY_BATCH];
	struct mmsghdr in_msg[RELAY_BATCH], out_msg[RELAY_BATCH];
	union {
		char buf[UDP_CMSG_SPACE];
		struct cmsghdr align;
	} ctl;
} relay_batch;

/* Set or clear the DF bit (IPv4) or don't-fragment (IPv6) on a socket.
 * RFC 8656 section 10.2: only a Send with DONT-FRAGMENT sets it. */
static void
relay_set_df(int fd, int fi, bool on)
{
	if (fi == 0) {
		int pmtu = on ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;

		(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
				 sizeof(pmtu));
	} else {
		int v = on;

		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &v,
				 sizeof(v));
	}
}

/* Bind a UDP socket of family fi to port; returns the fd or -1.  The
 * caller holds set->ports->lock. */
static int
relay_bind(struct relay_set *set, int fi, unsigned int port)
{
	struct sockaddr_storage ss = set->bind_addr[fi];
	int fd, on = 1;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
				 sizeof(on));
	relay_set_df(fd, fi, false);
	if (bind(fd, (struct sockaddr *)&ss,
		 addr_len((struct sockaddr *)&ss)) == -1) {
		close(fd);
		return -1;
	}
	relay_ports_mark(set->ports, fi, port, true);
	return fd;
}

/* Let a port go; the caller holds set->ports->lock. */
static void
relay_unbind_locked(struct relay_set *set, int fi, int fd, unsigned int port)
{
	relay_ports_mark(set->ports, fi, port, false);
	close(fd);
}

static void
relay_unbind(struct relay_set *set, int fi, int fd, unsigned int port)
{
	pthread_mutex_lock(&set->ports->lock);
	relay_unbind_locked(set, fi, fd, port);
	pthread_mutex_unlock(&set->ports->lock);
}

/* A random number below n for the port search, from the batch. */
static unsigned int
relay_random(struct relay_set *set, unsigned int n)
{
	if (set->nport_random == 0) {
		if (RAND_bytes((unsigned char *)set->port_random,
			       sizeof(set->port_random)) != 1)
			memset(set->port_random, 0, sizeof(set->port_random));
		set->nport_random = RELAY_RANDOM_BATCH;
	}
	return set->port_random[--set->nport_random] % n;
}

/*
 * Bind a relay socket of family fi on a free port of the range: even when
 * even is set, and then also port+1 into *next_fd when next_fd is not
 * NULL.  Starts at a random port and walks the range, skipping ports we
 * hold and trying at most RELAY_BIND_TRIES binds.  Returns the fd with
 * *port set, or -1 (508).  The caller holds set->ports->lock.
 */
static int
relay_pick(struct relay_set *set, int fi, bool even, int *next_fd,
	   unsigned int *port)
{
	unsigned int span = set->port_max - set->port_min + 1;
	unsigned int start = relay_random(set, span), tries = 0;

	for (unsigned int i = 0; i < span && tries < RELAY_BIND_TRIES; i++) {
		unsigned int p = set->port_min + (start + i) % span;
		int fd;

		if ((even && p % 2 != 0) ||
		    (next_fd != NULL && p + 1 > set->port_max) ||
		    relay_ports_held(set->ports, fi, p) ||
		    (next_fd != NULL &&
		     relay_ports_held(set->ports, fi, p + 1)))
			continue;
		tries++;
		if ((fd = relay_bind(set, fi, p)) == -1)
			continue;
		if (next_fd != NULL &&
		    (*next_fd = relay_bind(set, fi, p + 1)) == -1) {
			relay_unbind_locked(set, fi, fd, p);
			continue;
		}
		*port = p;
		return fd;
	}
	return -1;
}

static void relay_read_cb(evutil_socket_t fd, short what, void *arg);

/* Watch fd as a's relay socket of family fi and fill a->relay[fi]. */
static int
relay_attach(struct relay_set *set, struct alloc *a, struct relay_io *io,
	     int fi, int fd, unsigned int port)
{
	struct relay_sock *rs = &io->sock[fi];
	struct sockaddr_storage told = set->external[fi];

	if (told.ss_family == 0) {
		/* No address configured for the family: tell the client the
		 * address it reached us at, when it is of that family. */
		struct sockaddr_storage server;

		addr_key_to(&a->tuple.server, &server);
		if (server.ss_family != set->bind_addr[fi].ss_family)
			return STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
		told = server;
	}
	if (told.ss_family == AF_INET)
		((struct sockaddr_in *)&told)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&told)->sin6_port =
			htons((uint16_t)port);
	rs->fd = fd;
	rs->alloc = a;
	rs->set = set;
	rs->ev = event_new(set->base, fd, EV_READ | EV_PERSIST, relay_read_cb,
			   rs);
	if (rs->ev == NULL || event_add(rs->ev, NULL) == -1) {
		if (rs->ev != NULL)
			event_free(rs->ev);
		rs->ev = NULL;
		rs->fd = -1;
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	}
	addr_key_from(&a->relay[fi], (struct sockaddr *)&told);
	set->by_port[fi][port] = rs;
	if (set->inbox != NULL)
		relay_ports_own(set->ports, fi, port, set->id, true);
	return 0;
}

static void
relay_detach(struct relay_set *set, struct relay_io *io, int fi,
	     struct alloc *a)
{
	struct relay_sock *rs = &io->sock[fi];

	if (rs->fd == -1)
		return;
	if (set->by_port[fi][a->relay[fi].port] == rs) {
		set->by_port[fi][a->relay[fi].port] = NULL;
		if (set->inbox != NULL)
			relay_ports_own(set->ports, fi, a->relay[fi].port,
					set->id, false);
	}
	event_free(rs->ev);
	relay_unbind(set, fi, rs->fd, a->relay[fi].port);
	rs->fd = -1;
}

/*
 * Open the relay sockets of family fi for a, as rq asks.  Returns 0 or a
 * STUN error.
 */
static int
relay_open_family(struct relay_set *set, struct alloc *a, struct relay_io *io,
		  struct server_relay_request *rq, int fi, uint64_t now_ms)
{
	unsigned int port;
	int fd, next_fd = -1, rc;

	if (!set->family_ok[fi])
		return STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
	pthread_mutex_lock(&set->ports->lock);
	fd = relay_pick(set, fi, rq->even_port,
			rq->reserve_next && set->ports->nreservations <
						    RELAY_MAX_RESERVATIONS
				? &next_fd
				: NULL,
			&port);
	pthread_mutex_unlock(&set->ports->lock);
	if (fd == -1)
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	if ((rc = relay_attach(set, a, io, fi, fd, port)) != 0) {
		relay_unbind(set, fi, fd, port);
		if (next_fd != -1)
			relay_unbind(set, fi, next_fd, port + 1);
		return rc;
	}
	if (next_fd != -1) {
		struct relay_reservation r;

		(void)RAND_bytes(r.token, sizeof(r.token));
		r.fd = next_fd;
		r.family = set->bind_addr[fi].ss_family;
		r.port = port + 1;
		r.expires_ms = now_ms + RELAY_RESERVATION_MS;
		if (relay_ports_reserve(set->ports, &r)) {
			memcpy(rq->new_token, r.token, sizeof(r.token));
			rq->made_token = true;
		} else {
			relay_unbind(set, fi, next_fd, port + 1);
		}
	}
	return 0;
}

static int
relay_open(void *ctx, struct alloc *a, struct server_relay_request *rq)
{
	struct relay_set *set = ctx;
	struct relay_io *io;
	uint64_t now = clock_mono_ms();
	int rc = 0, opened = 0;

	if ((io = calloc(1, sizeof(*io))) == NULL)
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	io->sock[0].fd = io->sock[1].fd = -1;
	a->io = io;

	if (rq->use_token) {
		struct relay_reservation r;
		int fi;

		if (!relay_ports_take(set->ports, rq->token, now, &r)) {
			rc = STUN_ERR_INSUFFICIENT_CAPACITY;
		} else {
			fi = alloc_family_index(r.family);
			rc = relay_attach(set, a, io, fi, r.fd, r.port);
			if (rc != 0)
				relay_unbind(set, fi, r.fd, r.port);
		}
		if (rc != 0) {
			free(io);
			a->io = NULL;
		} else if (a->tuple.transport != SERVER_UDP) {
			stream_alloc_attached(a->conn);
		}
		return rc;
	}
	for (int fi = 0; fi < 2; fi++) {
		if (!rq->family[fi])
			continue;
		rq->family_error[fi] =
			relay_open_family(set, a, io, rq, fi, now);
		if (rq->family_error[fi] == 0)
			opened++;
		else
			rc = rq->family_error[fi];
	}
	if (opened == 0) {
		free(io);
		a->io = NULL;
		return rc;
	}
	if (a->tuple.transport != SERVER_UDP)
		stream_alloc_attached(a->conn);
	return 0;
}

static void
relay_close(void *ctx, struct alloc *a)
{
	struct relay_set *set = ctx;
	struct relay_io *io = a->io;

	if (io == NULL)
		return;
	relay_detach(set, io, 0, a);
	relay_detach(set, io, 1, a);
	free(io);
	a->io = NULL;
	if (a->tuple.transport != SERVER_UDP)
		stream_alloc_detached(a->conn);
}

static bool relay_local(struct relay_set *set, struct alloc *a, int fi,
			const struct sockaddr *peer, const uint8_t *data,
			size_t len);
static bool relay_handoff(struct relay_set *set, struct alloc *a, int fi,
			  const struct sockaddr *peer, const uint8_t *data,
			  size_t len);

static int
relay_send(void *ctx, struct alloc *a, const struct sockaddr *peer,
	   const uint8_t *data, size_t len, bool dont_fragment)
{
	struct relay_set *set = ctx;
	struct relay_io *io = a->io;
	int fi = alloc_family_index(peer->sa_family);
	int fd = io->sock[fi].fd;
	ssize_t n;

	if (fd == -1) {
		set->srv->stats->relay_drop_malformed++;
		return -1;
	}
	if (relay_local(set, a, fi, peer, data, len) ||
	    relay_handoff(set, a, fi, peer, data, len))
		return 0;
	if (dont_fragment)
		relay_set_df(fd, fi, true);
	n = sendto(fd, data, len, MSG_DONTWAIT, peer, addr_len(peer));
	if (dont_fragment)
		relay_set_df(fd, fi, false);
	if (n == -1) {
		set->srv->stats->relay_drop_send_failed++;
		return -1;
	}
	return 0;
}

const struct server_relay_ops relay_ops = {
	.open = relay_open,
	.close = relay_close,
	.send = relay_send,
};

/*
 * Put the header in front of the len bytes of data at data (which has
 * RELAY_HEADROOM bytes before it and 3 spare after) for the client:
 * ChannelData when a channel is bound to the peer, else a Data indication
 * (RFC 8656 sections 11.3 and 12.5).  Returns where the message starts and
 * its length in *out_len (padded to 4 on streams, where RFC 8656 section
 * 12.5 asks it of ChannelData).
 */
static uint8_t *
relay_frame(struct relay_set *set, struct alloc *a, const struct addr_key *pk,
	    const struct sockaddr *peer, uint8_t *data, size_t len,
	    uint64_t now_ms, size_t *out_len)
{
	const struct alloc_chan *c =
		alloc_chan_by_peer(set->srv->allocs, a, pk, now_ms);
	bool stream = a->tuple.transport != SERVER_UDP;
	size_t pad = (4 - (len & 3)) & 3;

	if (c != NULL) {
		uint8_t *h = data - 4;

		put16(h, c->number);
		put16(h + 2, (uint16_t)len);
		if (stream)
			memset(data + len, 0, pad);
		*out_len = 4 + len + (stream ? pad : 0);
		return h;
	} else {
		size_t peer_attr = peer->sa_family == AF_INET6 ? 24 : 12;
		size_t body = peer_attr + 4 + len + pad;
		uint8_t *h = data - 4 - peer_attr - STUN_HEADER_SIZE;
		uint64_t r1 = xorshift64(&set->tid_state);
		uint64_t r2 = xorshift64(&set->tid_state);
		struct stun_builder b;
		uint8_t tid[STUN_TID_SIZE];

		memcpy(tid, &r1, 8);
		memcpy(tid + 8, &r2, 4);
		/* Header and XOR-PEER-ADDRESS through the codec, which only
		 * writes in front of the data; then DATA's header by hand. */
		stun_build_init(
			&b, h, STUN_HEADER_SIZE + peer_attr,
			stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION),
			tid);
		stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, peer);
		put16(h + 2, (uint16_t)body);
		put16(data - 4, STUN_ATTR_DATA);
		put16(data - 2, (uint16_t)len);
		memset(data + len, 0, pad);
		*out_len = STUN_HEADER_SIZE + body;
		return h;
	}
}

/*
 * One datagram of len bytes from peer (pk) for allocation a, at data in a
 * buffer with RELAY_HEADROOM bytes before it and 3 after: refused when too
 * big, without a permission (RFC 8656 section 11.3) or over the bandwidth
 * (each counted), else framed in place for a's client.  Returns where the
 * message starts, its length in *out_len; NULL when dropped.
 */
static uint8_t *
relay_admit(struct relay_set *set, struct alloc *a, const struct addr_key *pk,
	    const struct sockaddr *peer, uint8_t *data, size_t len,
	    uint64_t now, size_t *out_len)
{
	struct server *srv = set->srv;
	struct stats *st = srv->stats;

	if (len > (size_t)srv->conf->turn_max_datagram) {
		st->relay_drop_too_big++;
		return NULL;
	}
	if (!alloc_perm_ok(srv->allocs, a, pk, now)) {
		st->relay_drop_no_permission++;
		return NULL;
	}
	if (!alloc_bw_take(a, len, (uint64_t)srv->conf->turn_max_bandwidth,
			   now)) {
		st->relay_drop_bandwidth++;
		return NULL;
	}
	a->packets_from_peer++;
	a->bytes_from_peer += len;
	return relay_frame(set, a, pk, peer, data, len, now, out_len);
}

/*
 * Deliver len bytes at data (in a buffer with RELAY_HEADROOM bytes before
 * it and 3 after) from from, the relayed address of another allocation of
 * this daemon, to allocation to's client, as if they had come in on to's
 * relay socket: the same permission, size and bandwidth rules.
 */
static void
relay_deliver(struct relay_set *set, struct alloc *to,
	      const struct addr_key *from, uint8_t *data, size_t len)
{
	struct stats *st = set->srv->stats;
	struct sockaddr_storage from_sa, client, local;
	uint8_t *msg;
	size_t out_len, ctl;
	struct iovec iov;
	struct msghdr h;

	addr_key_to(from, &from_sa);
	msg = relay_admit(set, to, from, (struct sockaddr *)&from_sa, data, len,
			  clock_mono_ms(), &out_len);
	if (msg == NULL)
		return;
	if (to->tuple.transport != SERVER_UDP) {
		if (stream_send(to->conn, msg, out_len) == 0) {
			st->relay_to_client_packets++;
			st->relay_to_client_bytes += out_len;
		}
		return;
	}
	addr_key_to(&to->tuple.client, &client);
	addr_key_to(&to->tuple.server, &local);
	ctl = udp_source_cmsg((struct sockaddr *)&local, relay_batch.ctl.buf);
	iov.iov_base = msg;
	iov.iov_len = out_len;
	memset(&h, 0, sizeof(h));
	h.msg_name = &client;
	h.msg_namelen = addr_len((struct sockaddr *)&client);
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = ctl ? relay_batch.ctl.buf : NULL;
	h.msg_controllen = ctl;
	if (sendmsg(udp_listener_fd(to->conn), &h, MSG_DONTWAIT) == -1) {
		st->relay_drop_send_failed++;
		return;
	}
	st->relay_to_client_packets++;
	st->relay_to_client_bytes += out_len;
}

/* This worker's relay socket whose allocation has the relayed address
 * key (family fi), or NULL. */
static struct relay_sock *
relay_sock_at(const struct relay_set *set, int fi, const struct addr_key *key)
{
	struct relay_sock *rs = set->by_port[fi][key->port];

	if (rs == NULL || memcmp(&rs->alloc->relay[fi], key, sizeof(*key)) != 0)
		return NULL;
	return rs;
}

/*
 * When peer is the relayed address of another allocation on this worker
 * (two clients relaying through us, as with iceTransportPolicy "relay"),
 * deliver the data to that allocation's client here: two syscalls fewer,
 * and it works behind a 1:1 NAT that does not hairpin.  Returns false
 * when peer is not one of this worker's.
 */
static bool
relay_local(struct relay_set *set, struct alloc *a, int fi,
	    const struct sockaddr *peer, const uint8_t *data, size_t len)
{
	/* Each thread delivers one datagram at a time. */
	static _Thread_local uint8_t buf[RELAY_SLOT];
	struct addr_key pk;
	struct relay_sock *rs;

	addr_key_from(&pk, peer);
	if ((rs = relay_sock_at(set, fi, &pk)) == NULL)
		return false;
	set->srv->stats->relay_in_memory_within++;
	if (len > SERVER_MAX_MESSAGE) {
		set->srv->stats->relay_drop_too_big++;
		return true;
	}
	memcpy(buf + RELAY_HEADROOM, data, len);
	relay_deliver(set, rs->alloc, &a->relay[fi], buf + RELAY_HEADROOM, len);
	return true;
}

/*
 * With several workers: when peer has the relayed IP and a port that
 * another worker holds, copy the data into that worker's inbox, which
 * delivers it as relay_local() would.  Returns false when peer is not
 * one of another worker's relayed addresses, or when that worker's inbox
 * is full: then the data goes through the kernel, whose socket buffers
 * take the rest of a burst.
 */
static bool
relay_handoff(struct relay_set *set, struct alloc *a, int fi,
	      const struct sockaddr *peer, const uint8_t *data, size_t len)
{
	struct relay_ports *ports = set->ports;
	struct addr_key pk;
	unsigned int owner;

	if (set->inbox == NULL || set->told_ip[fi].family == 0)
		return false;
	addr_key_from(&pk, peer);
	if (pk.family != set->told_ip[fi].family ||
	    memcmp(pk.ip, set->told_ip[fi].ip, sizeof(pk.ip)) != 0)
		return false;
	owner = relay_ports_owner(ports, fi, pk.port);
	if (owner == 0 || owner - 1 == set->id || len > SERVER_MAX_MESSAGE)
		return false;
	if (!inbox_put(ports->inbox[owner - 1], &pk, &a->relay[fi], data,
		       len)) {
		set->srv->stats->relay_inbox_full++;
		return false;
	}
	set->srv->stats->relay_in_memory_across++;
	return true;
}

/* An inbox_fn: on the worker of the allocation it went to, deliver what
 * another worker handed over. */
static void
relay_inbox_deliver(void *arg, const struct addr_key *to,
		    const struct addr_key *from, uint8_t *data, size_t len)
{
	struct relay_set *set = arg;
	struct relay_sock *rs;

	/* Gone, or the port taken again, since it was sent. */
	if ((rs = relay_sock_at(set, alloc_family_index(to->family), to)) ==
	    NULL) {
		set->srv->stats->relay_drop_no_allocation++;
		return;
	}
	relay_deliver(set, rs->alloc, from, data, len);
}

static void
relay_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_sock *rs = arg;
	struct relay_set *set = rs->set;
	struct server *srv = set->srv;
	struct stats *st = srv->stats;
	struct alloc *a = rs->alloc;
	uint64_t now = clock_mono_ms();
	struct sockaddr_storage client, local;
	size_t ctl = 0;
	int got, nout = 0;

	for (int i = 0; i < RELAY_BATCH; i++) {
		struct msghdr *h = &relay_batch.in_msg[i].msg_hdr;

		relay_batch.in_iov[i].iov_base =
			relay_batch.buf[i] + RELAY_HEADROOM;
		relay_batch.in_iov[i].iov_len = SERVER_MAX_MESSAGE;
		memset(h, 0, sizeof(*h));
		h->msg_name = &relay_batch.from[i];
		h->msg_namelen = sizeof(relay_batch.from[i]);
		h->msg_iov = &relay_batch.in_iov[i];
		h->msg_iovlen = 1;
	}
	got = recvmmsg(fd, relay_batch.in_msg, RELAY_BATCH, MSG_DONTWAIT, NULL);
	if (got <= 0)
		return; /* EAGAIN, or an ICMP error reported by the kernel */

	addr_key_to(&a->tuple.client, &client);
	for (int i = 0; i < got; i++) {
		struct msghdr *h = &relay_batch.in_msg[i].msg_hdr;
		size_t len = relay_batch.in_msg[i].msg_len, out_len;
		uint8_t *data = relay_batch.buf[i] + RELAY_HEADROOM, *msg;
		struct addr_key pk;

		if (h->msg_flags & MSG_TRUNC) {
			st->relay_drop_too_big++;
			continue;
		}
		addr_key_from(&pk, (struct sockaddr *)&relay_batch.from[i]);
		msg = relay_admit(set, a, &pk,
				  (struct sockaddr *)&relay_batch.from[i], data,
				  len, now, &out_len);
		if (msg == NULL)
			continue;
		if (a->tuple.transport != SERVER_UDP) {
			if (stream_send(a->conn, msg, out_len) == 0) {
				st->relay_to_client_packets++;
				st->relay_to_client_bytes += len;
			}
			continue;
		}
		relay_batch.out_iov[nout].iov_base = msg;
		relay_batch.out_iov[nout].iov_len = out_len;
		nout++;
	}
	if (nout == 0)
		return;

	/* One sendmmsg to the client, from the address it talks to. */
	addr_key_to(&a->tuple.server, &local);
	ctl = udp_source_cmsg((struct sockaddr *)&local, relay_batch.ctl.buf);
	for (int i = 0; i < nout; i++) {
		struct msghdr *h = &relay_batch.out_msg[i].msg_hdr;

		memset(h, 0, sizeof(*h));
		h->msg_name = &client;
		h->msg_namelen = addr_len((struct sockaddr *)&client);
		h->msg_iov = &relay_batch.out_iov[i];
		h->msg_iovlen = 1;
		h->msg_control = ctl ? relay_batch.ctl.buf : NULL;
		h->msg_controllen = ctl;
	}
	for (int done = 0, sent; done < nout; done += sent) {
		sent = sendmmsg(udp_listener_fd(a->conn),
				relay_batch.out_msg + done,
				(unsigned int)(nout - done), MSG_DONTWAIT);
		if (sent <= 0) {
			st->relay_drop_send_failed++;
			sent = 1;
			continue;
		}
		for (int i = done; i < done + sent; i++) {
			st->relay_to_client_packets++;
			st->relay_to_client_bytes +=
				relay_batch.out_iov[i].iov_len;
		}
	}
}

static bool
relay_wildcard(const struct sockaddr_storage *ss)
{
	static const uint8_t zero[16];

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == 0;
	return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, zero,
		      16) == 0;
}

/* The wildcard or configured address relay sockets of a family bind. */
static void
relay_family(struct relay_set *set, const struct conf *conf, int family)
{
	int fi = alloc_family_index(family);
	int probe;

	for (unsigned int i = 0; i < conf->turn_relay_ip.n; i++)
		if (conf->turn_relay_ip.addr[i].ss_family == family)
			set->bind_addr[fi] = conf->turn_relay_ip.addr[i];
	for (unsigned int i = 0; i < conf->turn_external_ip.n; i++)
		if (conf->turn_external_ip.addr[i].ss_family == family)
			set->external[fi] = conf->turn_external_ip.addr[i];
	if (set->bind_addr[fi].ss_family == 0) {
		/* Relay IPs configured, none of this family: not offered. */
		if (conf->turn_relay_ip.n > 0)
			return;
		set->bind_addr[fi].ss_family = (sa_family_t)family;
	}
	/* A relay IP that is not the wildcard is what clients are told. */
	if (set->external[fi].ss_family == 0 && conf->turn_relay_ip.n > 0 &&
	    !relay_wildcard(&set->bind_addr[fi]))
		set->external[fi] = set->bind_addr[fi];
	if (set->external[fi].ss_family != 0)
		addr_key_from(&set->told_ip[fi],
			      (struct sockaddr *)&set->external[fi]);
	if ((probe = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("turn: no %s relays",
			 family == AF_INET ? "IPv4" : "IPv6");
		return;
	}
	close(probe);
	set->family_ok[fi] = true;
}

struct relay_set *
relay_new(struct event_base *base, struct server *srv, const struct conf *conf,
	  struct relay_ports *ports)
{
	struct relay_set *set;

	if ((set = calloc(1, sizeof(*set))) == NULL) {
		log_warn("relay");
		return NULL;
	}
	set->base = base;
	set->srv = srv;
	set->ports = ports;
	set->by_port[0] = calloc(65536, sizeof(*set->by_port[0]));
	set->by_port[1] = calloc(65536, sizeof(*set->by_port[1]));
	if (set->by_port[0] == NULL || set->by_port[1] == NULL) {
		log_warn("relay");
		relay_free(set);
		return NULL;
	}
	set->port_min = (unsigned int)conf->turn_port_min;
	set->port_max = (unsigned int)conf->turn_port_max;
	relay_family(set, conf, AF_INET);
	relay_family(set, conf, AF_INET6);
	if (RAND_bytes((unsigned char *)&set->tid_state,
		       sizeof(set->tid_state)) != 1 ||
	    set->tid_state == 0)
		set->tid_state = 0x9E3779B97F4A7C15ULL;
	if (ports->nworkers > 1 &&
	    (set->inbox = inbox_new(base, RELAY_INBOX, RELAY_HEADROOM,
				    SERVER_MAX_MESSAGE, relay_inbox_deliver,
				    set)) == NULL) {
		log_warn("relay: inbox");
		relay_free(set);
		return NULL;
	}
	set->id = relay_ports_join(ports, set->inbox);
	srv->relay = &relay_ops;
	srv->relay_ctx = set;
	if (set->id == 0)
		log_info("turn: relay ports %u-%u%s%s", set->port_min,
			 set->port_max, set->family_ok[0] ? ", IPv4" : "",
			 set->family_ok[1] ? ", IPv6" : "");
	return set;
}

void
relay_sweep(struct relay_set *set, uint64_t now_ms)
{
	relay_ports_expire(set->ports, now_ms);
}

void
relay_free(struct relay_set *set)
{
	if (set == NULL)
		return;
	inbox_free(set->inbox);
	free(set->by_port[0]);
	free(set->by_port[1]);
	free(set);
}
