/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ws.c: WebSocket connections after the HTTP upgrade (RFC 6455).
 *
 * libmicrohttpd hands over the upgraded socket; wslay does the framing
 * (masking, fragments, control frames, 1002 for protocol errors, 1009 for
 * a message over signaling.max_message_size) and libevent tells us when
 * the socket is ready.  Text messages are checked for UTF-8 (1007 when
 * bad) and go to the signaling hub; binary ones are refused (1003).  One
 * timer pings every connection each 20 s and closes those that missed two
 * pongs.  What the hub sends is queued in wslay, bounded by
 * signaling.send_queue: a slow consumer is dropped, memory does not grow.
 *
 * A connection ends in ws_conn_free() only, which tells the hub, hands the
 * socket back with MHD_upgrade_action(..., MHD_UPGRADE_ACTION_CLOSE) (never
 * a bare close()) and asks the HTTP side to run.  Closes asked for from
 * inside a callback are deferred to the loop through an event, so that no
 * connection is freed under the code that is using it.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "sig.h"
#include "ws.h"

#define WS_PING_SECONDS        20
#define WS_MAX_MISSED_PONGS    2
#define WS_CLOSE_GRACE_SECONDS 5
#define WS_MAX_HEADER          14 /* RFC 6455 section 5.2, with a mask */

struct ws_set;

struct ws_conn {
	LIST_ENTRY(ws_conn) entry;
	struct ws_set *set;
	int fd;
	struct MHD_UpgradeResponseHandle *urh;
	wslay_event_context_ptr wslay;
	struct event *ev_read;
	struct event *ev_write;
	struct event *ev_end; /* deferred end: closing or hard drop */
	struct sig_peer *peer;
	char *extra; /* bytes MHD read past the handshake, served first */
	size_t extra_len, extra_off;
	uint8_t head[WS_MAX_HEADER]; /* a frame header not yet sent */
	size_t head_len;
	unsigned int missed_pongs;
	bool drop;           /* end now, without a close handshake */
	bool close_queued;   /* a close frame is queued; end after grace */
	uint16_t close_code; /* a close to queue once the queue is empty */
	char close_reason[124];
	char host[256];
};

struct ws_set {
	struct event_base *base;
	const struct conf **conf;
	struct sig_hub *hub;
	void (*kick)(void *);
	void *kick_arg;
	struct event *ping;
	LIST_HEAD(, ws_conn) conns;
	unsigned int n;
};

int
ws_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0; /* continuation, overlong lead, or > F4 */
		}
		if (i + n >= len)
			return 0; /* truncated sequence */
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		/* Overlong three- and four-byte forms, surrogates, too big. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return 0;
		i += n + 1;
	}
	return 1;
}

static void ws_update(struct ws_conn *c);

/* The one place a connection ends. */
static void
ws_conn_free(struct ws_conn *c)
{
	struct ws_set *set = c->set;

	LIST_REMOVE(c, entry);
	set->n--;
	if (c->peer != NULL && set->hub != NULL)
		sig_disconnect(set->hub, c->peer);
	c->peer = NULL;
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_end);
	wslay_event_context_free(c->wslay);
	free(c->extra);
	/* libmicrohttpd closes the socket; it must run to do so. */
	MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(c);
	set->kick(set->kick_arg);
}

/* End c from the loop, not from under the caller. */
static void
ws_conn_end_soon(struct ws_conn *c, bool drop, int seconds)
{
	struct timeval tv = { seconds, 0 };

	if (c->drop)
		return; /* already due now; re-adding would postpone it */
	c->drop = drop;
	if (drop) {
		event_del(c->ev_read);
		event_del(c->ev_write);
	}
	event_add(c->ev_end, &tv);
}

static void
ws_end_cb(evutil_socket_t fd, short what, void *arg)
{
	ws_conn_free(arg);
}

static ssize_t
ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
	   void *arg)
{
	struct ws_conn *c = arg;
	ssize_t n;

	if (c->extra_off < c->extra_len) {
		size_t take = c->extra_len - c->extra_off;

		if (take > len)
			take = len;
		memcpy(buf, c->extra + c->extra_off, take);
		c->extra_off += take;
		return (ssize_t)take;
	}
	n = recv(c->fd, buf, len, 0);
	if (n > 0)
		return n;
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

/*
 * wslay hands a frame's header and then its payload, each in a call of
 * its own; the header is kept and goes with the payload in one
 * sendmsg(), one system call per frame rather than two.  A header said
 * sent is always followed by its payload's call (wslay_frame_send makes
 * it at once), which sends the header first whatever becomes of it.
 */
static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
	   int flags, void *arg)
{
	struct ws_conn *c = arg;
	struct iovec iov[2];
	struct msghdr mh = { .msg_iov = iov };
	ssize_t n;

	if ((flags & WSLAY_MSG_MORE) && c->head_len == 0 &&
	    len <= sizeof(c->head)) {
		memcpy(c->head, data, len);
		c->head_len = len;
		return (ssize_t)len;
	}
	if (c->head_len > 0)
		iov[mh.msg_iovlen++] = (struct iovec){ .iov_base = c->head,
						       .iov_len = c->head_len };
	iov[mh.msg_iovlen++] =
		(struct iovec){ .iov_base = (void *)data, .iov_len = len };
	n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	if (n >= 0 && (size_t)n > c->head_len) {
		n -= (ssize_t)c->head_len;
		c->head_len = 0;
		return n;
	}
	if (n >= 0) {
		/* The header, or part of it, went: the payload waits. */
		memmove(c->head, c->head + n, c->head_len - (size_t)n);
		c->head_len -= (size_t)n;
		errno = EAGAIN;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

/* Queue the close frame asked for, once every message queued before it
 * has gone: wslay sends control frames first, and nothing after a close. */
static void
ws_flush_close(struct ws_conn *c)
{
	if (c->close_code != 0 &&
	    wslay_event_get_queued_msg_count(c->wslay) == 0) {
		wslay_event_queue_close(c->wslay, c->close_code,
					(const uint8_t *)c->close_reason,
					strlen(c->close_reason));
		c->close_code = 0;
	}
}

/* Close with code after what is queued; the connection ends when the
 * close handshake completes or after a grace period. */
static void
ws_conn_close(struct ws_conn *c, uint16_t code, const char *reason)
{
	if (c->close_queued)
		return;
	c->close_queued = true;
	c->close_code = code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	ws_flush_close(c);
	ws_conn_end_soon(c, false, WS_CLOSE_GRACE_SECONDS);
}

static void
ws_msg_cb(wslay_event_context_ptr ctx,
	  const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	struct ws_conn *c = user;
	struct timespec wall;

	switch (arg->opcode) {
	case WSLAY_TEXT_FRAME:
		/* RFC 6455 section 8.1: invalid UTF-8 fails the connection
		 * with 1007. */
		if (!ws_utf8_valid(arg->msg, arg->msg_length)) {
			ws_conn_close(c, 1007, "invalid UTF-8");
			return;
		}
		if (c->close_queued || c->peer == NULL)
			return;
		clock_gettime(CLOCK_REALTIME, &wall);
		sig_message(c->set->hub, c->peer, (const char *)arg->msg,
			    arg->msg_length, clock_mono_ms(),
			    (uint64_t)wall.tv_sec * 1000 +
				    (uint64_t)wall.tv_nsec / 1000000);
		break;
	case WSLAY_BINARY_FRAME:
		ws_conn_close(c, 1003, "text messages only");
		break;
	case WSLAY_PONG:
		c->missed_pongs = 0;
		break;
	default:
		/* Ping is answered and close echoed by wslay itself. */
		break;
	}
}

/* Read, write and (re)arm the events as wslay wants; end when done. */
static void
ws_update(struct ws_conn *c)
{
	if (c->drop)
		return;
	ws_flush_close(c);
	if (!wslay_event_want_read(c->wslay) &&
	    !wslay_event_want_write(c->wslay)) {
		/* Closed both ways (or failed): done. */
		ws_conn_end_soon(c, true, 0);
		return;
	}
	if (wslay_event_want_write(c->wslay))
		event_add(c->ev_write, NULL);
	else
		event_del(c->ev_write);
	if (!wslay_event_want_read(c->wslay))
		event_del(c->ev_read);
}

static void
ws_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_conn *c = arg;

	if (wslay_event_recv(c->wslay) != 0) {
		ws_conn_end_soon(c, true, 0);
		return;
	}
	if (wslay_event_send(c->wslay) != 0) {
		ws_conn_end_soon(c, true, 0);
		return;
	}
	ws_update(c);
}

static void
ws_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_conn *c = arg;

	if (wslay_event_send(c->wslay) != 0) {
		ws_conn_end_soon(c, true, 0);
		return;
	}
	ws_update(c);
}

int
ws_send_text(void *ctx, void *conn, const char *text, size_t len)
{
	struct ws_conn *c = conn;
	struct wslay_event_msg msg = { WSLAY_TEXT_FRAME, (const uint8_t *)text,
				       len };

	if (c->drop || c->close_queued)
		return -1;
	/* A slow consumer is dropped: its queue never grows past the
	 * bound, and the hub never waits for it. */
	if (wslay_event_get_queued_msg_length(c->wslay) + len >
	    (size_t)(*c->set->conf)->sig_send_queue) {
		ws_conn_end_soon(c, true, 0);
		return -1;
	}
	if (wslay_event_queue_msg(c->wslay, &msg) != 0)
		return -1;
	event_add(c->ev_write, NULL);
	return 0;
}

void
ws_close_code(void *ctx, void *conn, int code, const char *reason)
{
	struct ws_conn *c = conn;

	ws_conn_close(c, (uint16_t)code, reason);
	if (!c->drop)
		event_add(c->ev_write, NULL);
}

const char *
ws_host(const void *conn)
{
	return ((const struct ws_conn *)conn)->host;
}

static const struct wslay_event_callbacks ws_callbacks = {
	.recv_callback = ws_recv_cb,
	.send_callback = ws_send_cb,
	.on_msg_recv_callback = ws_msg_cb,
};

void
ws_open(struct ws_set *set, int fd, struct MHD_UpgradeResponseHandle *urh,
	const char *extra, size_t extra_len, const char *host)
{
	struct ws_conn *c;
	int flags;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->set = set;
	c->fd = fd;
	c->urh = urh;
	snprintf(c->host, sizeof(c->host), "%s", host);
	if (extra_len > 0) {
		if ((c->extra = malloc(extra_len)) == NULL)
			goto fail;
		memcpy(c->extra, extra, extra_len);
		c->extra_len = extra_len;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		goto fail;
	/* Signaling messages are small and wanted now: without this, Nagle
	 * holds a message back for the client's delayed ACK (40 ms) whenever
	 * a client receives more than it sends (libmicrohttpd leaves it on). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
			 sizeof(int));
	if (wslay_event_context_server_init(&c->wslay, &ws_callbacks, c) != 0)
		goto fail;
	wslay_event_config_set_max_recv_msg_length(
		c->wslay, (uint64_t)(*set->conf)->sig_max_message_size);
	c->ev_read =
		event_new(set->base, fd, EV_READ | EV_PERSIST, ws_read_cb, c);
	c->ev_write =
		event_new(set->base, fd, EV_WRITE | EV_PERSIST, ws_write_cb, c);
	c->ev_end = evtimer_new(set->base, ws_end_cb, c);
	if (c->ev_read == NULL || c->ev_write == NULL || c->ev_end == NULL ||
	    event_add(c->ev_read, NULL) == -1)
		goto fail;
	LIST_INSERT_HEAD(&set->conns, c, entry);
	set->n++;
	if ((c->peer = sig_connect(set->hub, c)) == NULL) {
		ws_conn_end_soon(c, true, 0);
		return;
	}
	/* Bytes that came with the handshake are read now. */
	if (c->extra_len > 0)
		ws_read_cb(fd, EV_READ, c);
	return;
fail:
	if (c != NULL) {
		if (c->ev_read != NULL)
			event_free(c->ev_read);
		if (c->ev_write != NULL)
			event_free(c->ev_write);
		if (c->ev_end != NULL)
			event_free(c->ev_end);
		if (c->wslay != NULL)
			wslay_event_context_free(c->wslay);
		free(c->extra);
		free(c);
	}
	log_warnx("ws: cannot take over a connection");
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	set->kick(set->kick_arg);
}

/* Every 20 s: ping each connection; two missed pongs end it. */
static void
ws_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_set *set = arg;
	struct ws_conn *c, *next;
	struct wslay_event_msg ping = { WSLAY_PING, (const uint8_t *)"", 0 };

	for (c = LIST_FIRST(&set->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->drop || c->close_queued)
			continue;
		if (c->missed_pongs >= WS_MAX_MISSED_PONGS) {
			log_debug("ws: no pong twice, dropping a connection");
			ws_conn_end_soon(c, true, 0);
			continue;
		}
		c->missed_pongs++;
		if (wslay_event_queue_msg(c->wslay, &ping) == 0)
			event_add(c->ev_write, NULL);
	}
}

struct ws_set *
ws_set_new(struct event_base *base, const struct conf **conf,
	   void (*kick)(void *), void *kick_arg)
{
	struct ws_set *set;
	struct timeval tv = { WS_PING_SECONDS, 0 };

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return NULL;
	set->base = base;
	set->conf = conf;
	set->kick = kick;
	set->kick_arg = kick_arg;
	LIST_INIT(&set->conns);
	set->ping = event_new(base, -1, EV_PERSIST, ws_ping_cb, set);
	if (set->ping == NULL || event_add(set->ping, &tv) == -1) {
		if (set->ping != NULL)
			event_free(set->ping);
		free(set);
		return NULL;
	}
	return set;
}

void
ws_set_hub(struct ws_set *set, struct sig_hub *hub)
{
	set->hub = hub;
}

unsigned int
ws_count(const struct ws_set *set)
{
	return set->n;
}

void
ws_set_free(struct ws_set *set)
{
	if (set == NULL)
		return;
	while (!LIST_EMPTY(&set->conns)) {
		struct ws_conn *c = LIST_FIRST(&set->conns);

		/* Going away (1001), sent as far as the socket takes it. */
		wslay_event_queue_close(c->wslay, 1001,
					(const uint8_t *)"going away", 10);
		(void)wslay_event_send(c->wslay);
		ws_conn_free(c);
	}
	event_free(set->ping);
	free(set);
}
