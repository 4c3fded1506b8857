/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stream.c: STUN and TURN over TCP and TLS (RFC 8489 section 6.2, RFC 8656
 * section 3.1).
 *
 * A listener accepts while fewer than stream.max_connections are open and
 * gives each connection a bufferevent.  The read callback cuts frames with
 * stun_frame_len(), several from one read or one across many, and passes
 * each to server_handle(); answers are queued on the bufferevent.  A frame
 * that is neither STUN nor ChannelData, or longer than SERVER_MAX_MESSAGE,
 * cannot be skipped on a stream, so the connection is closed.  The idle
 * timer is re-armed only by a complete message, so a client dripping one
 * byte at a time cannot hold a connection open.  A client that does not
 * read its answers is closed once stream.max_buffer bytes wait for it; a
 * connection closed for garbage first gets the answers queued before it.
 *
 * On a TLS listener each connection is a bufferevent_openssl on the
 * listener's current SSL_CTX; a reload swaps the context for new
 * handshakes while open connections keep theirs.  The idle timer first
 * bounds the handshake.  A connection that holds an allocation has no
 * idle timeout (the allocation's lifetime rules), and is shut down when
 * its allocation ends.  stream_conn_close() is the one place a connection
 * is torn down, and its allocation, if any, ends with it.
 */
#include "config.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "conf.h"
#include "log.h"
#include "server.h"
#include "sock.h"
#include "stream.h"
#include "stun.h"

struct stream_set;

struct stream_conn {
	LIST_ENTRY(stream_conn) entry;
	struct stream_set *set;
	struct bufferevent *bev;
	struct event *idle;
	struct sockaddr_storage peer;
	struct sockaddr_storage local;
	bool handshaken; /* TLS: the handshake is done (TCP: always) */
	bool has_alloc;  /* an allocation lives on this connection */
	bool alloc_gone; /* it ended: shut the connection down */
};

struct stream_listener {
	struct evconnlistener *lev;
	struct sockaddr_storage addr;
	struct stream_set *set;
};

struct stream_set {
	struct event_base *base;
	struct server *srv;
	enum server_transport transport;
	const char *name; /* "tcp" or "tls", for logs */
	SSL_CTX *tls_ctx; /* TLS: new handshakes use it; we hold a ref */
	/* TLS: messages pass through here so that each is a chain of its own
	 * in the output, and so a TLS record of its own (some clients read
	 * one message per record, coturn's among them). */
	struct evbuffer *scratch;
	unsigned int n;
	struct stream_listener listeners[CONF_MAX_LISTEN];
	LIST_HEAD(, stream_conn) conns;
	struct sock_pause pause; /* the listeners, while descriptors ran out */
	struct stream_total *total; /* shared with the other workers' sets */
};

static struct stats_transport_counters *
stream_counters(struct stream_set *set)
{
	return &set->srv->stats->transport[set->transport];
}

/* Tear a connection down: the only place that does.  Its allocation, if
 * any, ends with it (RFC 8656 section 3.1: closing the connection deletes
 * the allocation). */
static void
stream_conn_close(struct stream_conn *c)
{
	struct stream_set *set = c->set;
	struct server *srv = set->srv;

	if (c->has_alloc) {
		struct server_msg m = { .peer = (struct sockaddr *)&c->peer,
					.local = (struct sockaddr *)&c->local,
					.transport = set->transport };
		struct alloc_tuple tuple;
		struct alloc *a;

		server_tuple(&tuple, &m);
		if ((a = alloc_find(srv->allocs, &tuple)) != NULL) {
			server_alloc_gone(srv, a, "closed", clock_mono_ms());
			alloc_free(srv->allocs, a);
		}
	}
	LIST_REMOVE(c, entry);
	stream_counters(set)->conns_open--;
	if (atomic_fetch_sub(&set->total->open, 1) - 1 <
		    (unsigned int)set->srv->conf->stream_max_connections &&
	    atomic_load(&set->total->full_logged) &&
	    atomic_exchange(&set->total->full_logged, false))
		log_info("%s: below the connection limit again", set->name);
	event_free(c->idle);
	bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE closes the socket */
	free(c);
}

/* Arm the idle timer: the handshake's timeout until TLS is up, then the
 * idle timeout while the connection holds no allocation. */
/* Queue len bytes to the client: one TLS record per message on TLS. */
static void
stream_write(struct stream_conn *c, const void *buf, size_t len)
{
	struct evbuffer *scratch = c->set->scratch;

	if (scratch != NULL && evbuffer_add(scratch, buf, len) == 0)
		bufferevent_write_buffer(c->bev, scratch);
	else
		bufferevent_write(c->bev, buf, len);
}

static void
stream_idle_arm(struct stream_conn *c)
{
	const struct conf *conf = c->set->srv->conf;
	struct timeval tv = { conf->stream_idle_timeout, 0 };

	if (!c->handshaken)
		tv.tv_sec = conf->tls_handshake_timeout;
	else if (c->has_alloc)
		return;
	event_add(c->idle, &tv);
}

/*
 * Handle every complete frame in the input buffer.  Returns 0, or -1 when
 * the connection must be closed (the reason already counted).
 */
static int
stream_frames(struct stream_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct stats_transport_counters *tc = stream_counters(c->set);
	struct server *srv = c->set->srv;
	uint8_t head[4], answer[SERVER_MAX_MESSAGE];

	/* What is still queued was refused by the socket since the last
	 * read: the client is not reading its answers.  (Answers queued in
	 * this call are bounded by the read watermark.) */
	if (evbuffer_get_length(out) > (size_t)srv->conf->stream_max_buffer) {
		tc->conns_overflow_closed++;
		return -1;
	}
	for (;;) {
		size_t avail = evbuffer_get_length(in), ans;
		struct server_msg m;
		uint8_t *frame;
		long flen;

		if (evbuffer_copyout(in, head, sizeof(head)) <
		    (ev_ssize_t)sizeof(head))
			return 0;
		flen = stun_frame_len(head, sizeof(head));
		if (flen < 0 || flen > SERVER_MAX_MESSAGE) {
			tc->conns_garbage_closed++;
			return -1;
		}
		if (avail < (size_t)flen)
			return 0;
		if ((frame = evbuffer_pullup(in, flen)) == NULL)
			return -1;

		tc->rx_packets++;
		tc->rx_bytes += (uint64_t)flen;
		m.data = frame;
		m.len = (size_t)flen;
		m.peer = (struct sockaddr *)&c->peer;
		m.local = (struct sockaddr *)&c->local;
		m.transport = c->set->transport;
		m.conn = c;
		m.now_ms = clock_mono_ms();
		m.now_unix = (int64_t)time(NULL);
		ans = server_handle(srv, &m, answer, sizeof(answer));
		evbuffer_drain(in, (size_t)flen);
		stream_idle_arm(c);
		if (ans == 0)
			continue;
		stream_write(c, answer, ans);
		tc->tx_packets++;
		tc->tx_bytes += ans;
	}
}

static void stream_event_cb(struct bufferevent *bev, short what, void *arg);

/* The answers are flushed: finish a connection that was shut down. */
static void
stream_drained_cb(struct bufferevent *bev, void *arg)
{
	stream_conn_close(arg);
}

/*
 * Stop reading and close once the answers already queued have been
 * written; the idle timer still bounds how long that may take.
 */
static void
stream_conn_shutdown(struct stream_conn *c)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		stream_conn_close(c);
		return;
	}
	struct timeval tv = { c->set->srv->conf->stream_idle_timeout, 0 };

	/* A client that neither reads nor goes is still closed: errors are
	 * still heard, and the idle timer runs. */
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, stream_drained_cb, stream_event_cb, c);
	event_add(c->idle, &tv);
}

static void
stream_read_cb(struct bufferevent *bev, void *arg)
{
	struct stream_conn *c = arg;
	struct stats_transport_counters *tc = stream_counters(c->set);
	uint64_t overflowed = tc->conns_overflow_closed;
	char name[ADDR_STRLEN];

	if (stream_frames(c) == -1) {
		log_debug("%s %s: closing: %s", c->set->name,
			  addr_str((struct sockaddr *)&c->peer, name,
				   sizeof(name)),
			  tc->conns_overflow_closed != overflowed
				  ? "answers not read"
				  : "input that cannot be framed");
		/* A client not reading gets nothing more; one that sent
		 * garbage still gets the answers before it. */
		if (tc->conns_overflow_closed != overflowed)
			stream_conn_close(c);
		else
			stream_conn_shutdown(c);
	}
}

static void
stream_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct stream_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* The TLS handshake is done: from now on, the idle timeout. */
		c->handshaken = true;
		stream_idle_arm(c);
		return;
	}
	/* EOF or an error: nothing more can be read or answered. */
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (!c->handshaken)
			stream_counters(c->set)->handshakes_failed++;
		stream_conn_close(c);
	}
}

static void
stream_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream_conn *c = arg;

	if (c->alloc_gone) {
		/* Its allocation ended: answer what is queued, then go. */
		c->alloc_gone = false;
		stream_conn_shutdown(c);
		return;
	}
	if (!c->handshaken)
		stream_counters(c->set)->handshakes_failed++;
	stream_counters(c->set)->conns_idle_closed++;
	stream_conn_close(c);
}

static void
stream_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
		 struct sockaddr *sa, int salen, void *arg)
{
	struct stream_listener *l = arg;
	struct stream_set *set = l->set;
	struct stats_transport_counters *tc = stream_counters(set);
	struct stream_conn *c;
	socklen_t len = sizeof(c->local);

	/* Counted over every worker's set; given back when refused. */
	if (atomic_fetch_add(&set->total->open, 1) >=
	    (unsigned int)set->srv->conf->stream_max_connections) {
		atomic_fetch_sub(&set->total->open, 1);
		tc->conns_rejected++;
		if (!atomic_exchange(&set->total->full_logged, true)) {
			log_warnx("%s: %d connections open, the limit "
				  "(stream.max_connections); refusing new ones",
				  set->name,
				  set->srv->conf->stream_max_connections);
		}
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		atomic_fetch_sub(&set->total->open, 1);
		close(fd);
		return;
	}
	c->set = set;
	memcpy(&c->peer, sa,
	       (size_t)salen < sizeof(c->peer) ? (size_t)salen
					       : sizeof(c->peer));
	if (getsockname(fd, (struct sockaddr *)&c->local, &len) == -1)
		memcpy(&c->local, &l->addr, sizeof(c->local));
	if (set->tls_ctx != NULL) {
		SSL *ssl = SSL_new(set->tls_ctx); /* takes a ref on the ctx */

		c->bev = ssl == NULL ? NULL
				     : bufferevent_openssl_socket_new(
					       set->base, fd, ssl,
					       BUFFEREVENT_SSL_ACCEPTING,
					       BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL && ssl != NULL)
			SSL_free(ssl);
		else if (c->bev != NULL)
			/* Many clients close without close_notify. */
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else {
		c->bev = bufferevent_socket_new(set->base, fd,
						BEV_OPT_CLOSE_ON_FREE);
		c->handshaken = true;
	}
	c->idle = evtimer_new(set->base, stream_idle_cb, c);
	if (c->bev == NULL || c->idle == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->idle != NULL)
			event_free(c->idle);
		free(c);
		atomic_fetch_sub(&set->total->open, 1);
		return;
	}
	/* Read no more than one largest frame past what is buffered. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 4 * SERVER_MAX_MESSAGE);
	bufferevent_setcb(c->bev, stream_read_cb, NULL, stream_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	LIST_INSERT_HEAD(&set->conns, c, entry);
	tc->conns_open++;
	tc->conns_total++;
	stream_idle_arm(c);
}

static void
stream_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct stream_listener *l = arg;

	sock_pause_accept_error(&l->set->pause);
}

struct stream_set *
stream_open(struct event_base *base, const struct conf_addrs *addrs,
	    struct server *srv, SSL_CTX *tls_ctx, int worker,
	    struct stream_total *total)
{
	struct stream_set *set;
	char name[ADDR_STRLEN];

	if ((set = calloc(1, sizeof(*set))) == NULL) {
		log_warn("stream");
		return NULL;
	}
	set->base = base;
	set->srv = srv;
	set->total = total;
	set->transport = tls_ctx != NULL ? SERVER_TLS : SERVER_TCP;
	set->name = tls_ctx != NULL ? "tls" : "tcp";
	if (sock_pause_init(&set->pause, base, set->name) == -1) {
		free(set);
		return NULL;
	}
	if (tls_ctx != NULL) {
		SSL_CTX_up_ref(tls_ctx);
		set->tls_ctx = tls_ctx;
		if ((set->scratch = evbuffer_new()) == NULL) {
			stream_close(set);
			return NULL;
		}
	}
	LIST_INIT(&set->conns);
	for (unsigned int i = 0; i < addrs->n; i++) {
		const struct sockaddr *sa =
			(const struct sockaddr *)&addrs->addr[i];
		struct stream_listener *l = &set->listeners[set->n];
		int fd;

		addr_str(sa, name, sizeof(name));
		if ((fd = sock_bind(sa, SOCK_STREAM, worker >= 0)) == -1) {
			if (sock_family_missing(errno)) {
				log_warn("%s %s skipped", set->name, name);
				continue;
			}
			log_warn("cannot listen on %s %s", set->name, name);
			stream_close(set);
			return NULL;
		}
		memcpy(&l->addr, sa, sizeof(l->addr));
		l->set = set;
		l->lev = evconnlistener_new(base, stream_accept_cb, l,
					    LEV_OPT_CLOSE_ON_FREE, -1, fd);
		if (l->lev == NULL) {
			log_warnx("%s %s: cannot watch the socket", set->name,
				  name);
			close(fd);
			stream_close(set);
			return NULL;
		}
		evconnlistener_set_error_cb(l->lev, stream_accept_error_cb);
		sock_pause_add(&set->pause, l->lev);
		set->n++;
		if (worker <= 0)
			log_info("listening on %s %s", set->name, name);
		else
			log_debug("worker %d: listening on %s %s", worker,
				  set->name, name);
	}
	return set;
}

void
stream_close(struct stream_set *set)
{
	if (set == NULL)
		return;
	while (!LIST_EMPTY(&set->conns))
		stream_conn_close(LIST_FIRST(&set->conns));
	for (unsigned int i = 0; i < set->n; i++)
		evconnlistener_free(set->listeners[i].lev);
	SSL_CTX_free(set->tls_ctx);
	sock_pause_free(&set->pause);
	if (set->scratch != NULL)
		evbuffer_free(set->scratch);
	free(set);
}

void
stream_set_tls(struct stream_set *set, SSL_CTX *tls_ctx)
{
	SSL_CTX_up_ref(tls_ctx);
	/* Connections made with the old context hold their own ref. */
	SSL_CTX_free(set->tls_ctx);
	set->tls_ctx = tls_ctx;
}

void
stream_alloc_attached(void *conn)
{
	struct stream_conn *c = conn;

	c->has_alloc = true;
	event_del(c->idle);
}

void
stream_alloc_detached(void *conn)
{
	struct stream_conn *c = conn;
	struct timeval now = { 0, 0 };

	/* Not closed here: this runs inside the expiry sweep or a request's
	 * handling, with the allocation being freed.  The idle timer fires
	 * at once and shuts the connection down from the loop. */
	c->has_alloc = false;
	c->alloc_gone = true;
	event_add(c->idle, &now);
}

unsigned int
stream_count(const struct stream_set *set)
{
	return set->n;
}

int
stream_send(void *conn, const void *buf, size_t len)
{
	struct stream_conn *c = conn;
	struct server *srv = c->set->srv;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_get_length(out) + len >
	    (size_t)srv->conf->stream_max_buffer) {
		srv->stats->relay_drop_send_failed++;
		return -1;
	}
	stream_write(c, buf, len);
	stream_counters(c->set)->tx_packets++;
	stream_counters(c->set)->tx_bytes += len;
	return 0;
}
