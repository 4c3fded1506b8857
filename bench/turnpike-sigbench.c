/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * turnpike-sigbench.c: a load generator for WebSocket signaling servers:
 * turnpiked's /ws (turnpike-signaling(7)) or the PeerJS server (npm
 * "peer").  One mode per run:
 *
 *   traffic  N clients in groups of --room-size (a room each on turnpiked)
 *            send messages to each other, paced or flat out: messages
 *            delivered per second, one-way latency, errors;
 *   hold     N clients connect (and join) and stay, so that a script can
 *            read the server's memory, and the tool says how many were
 *            held.
 *
 * Each message carries its sender and its send time in a marker
 * ("tpsb" and hex digits) inside a string the server passes on unread, so
 * the receiver, in the same process and on the same clock, measures the
 * one-way latency without parsing JSON.  The clients of a group are
 * never split between threads: the receiver credits the sender's window
 * directly.
 *
 * Its own cost must not be what is measured: the clients are spread over
 * --threads threads, each with its own libevent loop; a message is framed
 * (RFC 6455 section 5.2, masked) straight into the connection's output
 * buffer, and what a loop iteration queues leaves in one write.  The
 * WebSocket client is minimal: enough for what these servers send (text
 * frames, pings, close), not a conforming client, and it does not check
 * Sec-WebSocket-Accept.  For loopback and lab servers only.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "benchutil.h"

#define SB_MARK       "tpsb"
#define SB_MARK_LEN   (4 + 8 + 16) /* "tpsb", sender, send time */
#define SB_SIZE_MIN   SB_MARK_LEN
#define SB_SIZE_MAX   60000
#define SB_FRAME_MAX  (1u << 20) /* a larger frame from the server: error */
#define SB_ID_MAX     64
#define SB_TICK_NS    (1000 * 1000ull)   /* the pacing timer */
#define SB_CATCHUP_NS (100 * 1000000ull) /* pacing: the most late */
#define SB_DRAIN_NS   (500 * 1000000ull) /* after the measured time */
#define SB_BEAT_NS    (5 * NS)           /* PeerJS HEARTBEAT period */
#define SB_MAX_SECS   3600.0
#define SB_WS_KEY     "dHVybnBpa2Utc2lnYmVuYw==" /* any 16 bytes, base64 */

enum sb_mode { SB_MODE_NONE, SB_MODE_TRAFFIC, SB_MODE_HOLD };
enum sb_proto { SB_TURNPIKE, SB_PEERJS };
enum sb_kind { SB_CHAT, SB_OFFER, SB_CANDIDATE };

/* The phases of a run, set by the main thread, read by the workers. */
enum sb_phase { PHASE_SETUP, PHASE_TRAFFIC, PHASE_STOP };

/* The command line, once parsed: read-only while threads run. */
static struct {
	enum sb_mode mode;
	enum sb_proto proto;
	enum sb_kind kind;
	struct sockaddr_in server;
	char server_str[64];
	const char *path;
	const char *key;
	unsigned int threads;
	unsigned int clients;
	unsigned int room_size;
	unsigned int size;
	unsigned int window;
	unsigned int concurrency;
	unsigned int timeout_s;
	double rate;
	double duration;
	double warmup;
	bool spread;
	bool json;
} opt = {
	.proto = SB_TURNPIKE,
	.kind = SB_CHAT,
	.key = "peerjs",
	.threads = 1,
	.clients = 64,
	.room_size = 8,
	.size = 100,
	.window = 4,
	.concurrency = 64,
	.timeout_s = 10,
	.duration = 5,
	.warmup = 1,
	.spread = true,
};

enum conn_state {
	CONN_IDLE,      /* not started */
	CONN_UPGRADING, /* TCP connecting, or waiting for the 101 */
	CONN_JOINING,   /* waiting for welcome (turnpike) or OPEN (PeerJS) */
	CONN_READY,     /* joined */
	CONN_FAILED,    /* never got ready */
	CONN_CLOSED,    /* was ready, then lost */
};

/* Why a connection never got ready, or was lost. */
enum fail_reason {
	FAIL_CONNECT, /* the TCP connection failed */
	FAIL_HTTP,    /* the handshake got no 101 */
	FAIL_REFUSED, /* an error message instead of welcome or OPEN */
	FAIL_TIMEOUT, /* no answer within --timeout */
	FAIL_LOST,    /* closed or reset after it was ready */
	FAIL_NREASONS
};

static const char *const fail_names[FAIL_NREASONS] = {
	"connect", "http", "refused", "timeout", "lost",
};

struct worker;

/* One WebSocket client. */
struct conn {
	struct worker *w;
	struct bufferevent *bev;
	enum conn_state state;
	unsigned int index;    /* in w->conns */
	unsigned int target;   /* the index of the peer it sends to */
	unsigned int inflight; /* its messages not yet delivered */
	char id[SB_ID_MAX];    /* its peer ID, as others address it */
};

/* A thread, its event loop, its clients and its counters. */
struct worker {
	unsigned int id;
	pthread_t thread;
	struct event_base *base;
	struct event *tick;
	struct conn *conns;
	unsigned int nconns;
	unsigned int next_start;  /* the next client to start */
	unsigned int handshakes;  /* under way now */
	unsigned int concurrency; /* its share of --concurrency */
	unsigned int ready;       /* got ready, ever */
	unsigned int live;        /* ready now (atomic) */
	unsigned int settled;     /* ready or failed (atomic) */
	unsigned int rr;          /* paced: the next sender */
	uint64_t rng;
	uint64_t paced_sent; /* paced: sends since the start */
	uint64_t next_beat;
	bool flat_started;
	double rate; /* its share of --rate */
	/* Counters, merged at the end. */
	uint64_t sent, sent_measured;
	uint64_t received, received_measured;
	uint64_t errors; /* error messages from the server */
	uint64_t fails[FAIL_NREASONS];
	uint64_t http_status[6]; /* 1xx..5xx answers other than 101 */
	struct hist lat;
	uint8_t frame[SB_SIZE_MAX + 512]; /* one outgoing message */
};

/* What the main thread tells the workers. */
static struct {
	_Atomic int phase;
	uint64_t start;   /* PHASE_TRAFFIC: when traffic starts */
	uint64_t measure; /* when counting starts */
	uint64_t end;     /* when counting and sending stop */
} run;

static struct worker *workers;
static uint64_t run_tag; /* makes room names and PeerJS IDs unique */

static void conn_start(struct worker *, struct conn *);
static void conn_settle(struct conn *, enum conn_state, int);

/*
 * Frame payload as one masked WebSocket frame of opcode (RFC 6455
 * section 5.2) and append it to the connection's output buffer.
 */
static void
ws_send(struct conn *c, unsigned int opcode, const void *payload, size_t len)
{
	struct worker *w = c->w;
	uint8_t *f = w->frame, *p;
	uint32_t mask = (uint32_t)xorshift64(&w->rng);
	size_t h;

	f[0] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		f[1] = (uint8_t)(0x80 | len);
		h = 2;
	} else if (len < 65536) {
		f[1] = 0x80 | 126;
		f[2] = (uint8_t)(len >> 8);
		f[3] = (uint8_t)len;
		h = 4;
	} else {
		f[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			f[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		h = 10;
	}
	memcpy(f + h, &mask, 4);
	p = f + h + 4;
	if (payload != p)
		memmove(p, payload, len);
	for (size_t i = 0; i < len; i++)
		p[i] ^= ((const uint8_t *)&mask)[i & 3];
	bufferevent_write(c->bev, f, h + 4 + len);
}

/* Where a message's payload goes in w->frame: after the longest header. */
static char *
ws_payload(struct worker *w, size_t len)
{
	return (char *)w->frame + (len < 126 ? 6 : len < 65536 ? 8 : 14);
}

static void
put_hex(char *p, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = digits - 1; i >= 0; i--, v >>= 4)
		p[i] = hex[v & 15];
}

static bool
get_hex(const char *p, int digits, uint64_t *v)
{
	uint64_t x = 0;

	for (int i = 0; i < digits; i++) {
		char ch = p[i];

		if (ch >= '0' && ch <= '9')
			x = x << 4 | (uint64_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			x = x << 4 | (uint64_t)(ch - 'a' + 10);
		else
			return false;
	}
	*v = x;
	return true;
}

/*
 * Write the string --size bytes long that carries the marker of c and the
 * time now: "tpsb", the sender's index, the time, then padding.
 */
static size_t
marker_fill(char *p, const struct conn *c, uint64_t now)
{
	memcpy(p, SB_MARK, 4);
	put_hex(p + 4, c->index, 8);
	put_hex(p + 12, now, 16);
	memset(p + SB_MARK_LEN, 'x', opt.size - SB_MARK_LEN);
	return opt.size;
}

/* Send c's join (turnpike) once the handshake is done. */
static void
conn_join(struct conn *c)
{
	char *p = ws_payload(c->w, 256);
	int n;

	n = snprintf(p, 256,
		     "{\"type\":\"join\",\"room\":\"sb%" PRIx64 "-%u-%u\","
		     "\"name\":\"c%u\"}",
		     run_tag, c->w->id, c->index / opt.room_size, c->index);
	ws_send(c, 1, p, (size_t)n);
}

/* Send one signaling message from c to its target (or its room). */
static void
conn_message(struct conn *c, uint64_t now)
{
	struct worker *w = c->w;
	const struct conn *to = &w->conns[c->target];
	size_t cap = opt.size + 256, n;
	char *p = ws_payload(w, cap), *q = p;

	if (opt.proto == SB_PEERJS) {
		q += sprintf(q,
			     "{\"type\":\"OFFER\",\"dst\":\"%s\","
			     "\"payload\":{\"type\":\"media\",\"sdp\":\"",
			     to->id);
		q += marker_fill(q, c, now);
		q += sprintf(q, "\"}}");
	} else if (opt.kind == SB_CHAT) {
		q += sprintf(q, "{\"type\":\"chat\",\"text\":\"");
		q += marker_fill(q, c, now);
		q += sprintf(q, "\"}");
	} else if (opt.kind == SB_OFFER) {
		q += sprintf(q, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"",
			     to->id);
		q += marker_fill(q, c, now);
		q += sprintf(q, "\"}");
	} else {
		q += sprintf(q,
			     "{\"type\":\"candidate\",\"to\":\"%s\","
			     "\"candidate\":{\"candidate\":\"",
			     to->id);
		q += marker_fill(q, c, now);
		q += sprintf(q, "\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}");
	}
	n = (size_t)(q - p);
	ws_send(c, 1, p, n);
	c->inflight++;
	w->sent++;
	if (now >= run.measure && now < run.end)
		w->sent_measured++;
}

/* Flat out: top c's window up while the measured time lasts. */
static void
conn_fill(struct conn *c, uint64_t now)
{
	if (c->state != CONN_READY || c->target == c->index)
		return;
	while (c->inflight < opt.window && now < run.end)
		conn_message(c, now);
}

/*
 * A message with a marker reached c: count it, time it, and credit its
 * sender: for chat only the sender's own copy does (everyone in the room
 * gets one), for the others the one copy.
 */
static void
conn_delivered(struct conn *c, const char *mark, uint64_t now)
{
	struct worker *w = c->w;
	uint64_t from, sent;
	struct conn *s;

	if (!get_hex(mark + 4, 8, &from) || !get_hex(mark + 12, 16, &sent) ||
	    from >= w->nconns) {
		w->errors++;
		return;
	}
	w->received++;
	if (now >= run.measure && now < run.end) {
		w->received_measured++;
		hist_add(&w->lat, now > sent ? now - sent : 0);
	}
	s = &w->conns[from];
	if (opt.proto == SB_TURNPIKE && opt.kind == SB_CHAT && s != c)
		return;
	if (s->inflight > 0)
		s->inflight--;
	if (opt.rate == 0 && atomic_load(&run.phase) == PHASE_TRAFFIC)
		conn_fill(s, now);
}

/* Take the peer ID from turnpike's welcome: "id":"<32 hex>". */
static bool
conn_take_id(struct conn *c, const char *msg, size_t len)
{
	const char *p = memmem(msg, len, "\"id\":\"", 6), *end;

	if (p == NULL)
		return false;
	p += 6;
	end = memchr(p, '"', len - (size_t)(p - msg));
	if (end == NULL || end - p >= SB_ID_MAX || end == p)
		return false;
	memcpy(c->id, p, (size_t)(end - p));
	c->id[end - p] = '\0';
	return true;
}

/* One text message from the server to c. */
static void
conn_text(struct conn *c, const char *msg, size_t len)
{
	struct worker *w = c->w;
	const char *mark;

	if (c->state == CONN_READY) {
		mark = memmem(msg, len, SB_MARK, 4);
		if (mark != NULL && (size_t)(msg + len - mark) >= SB_MARK_LEN) {
			conn_delivered(c, mark, now_ns());
			return;
		}
		if (opt.proto == SB_TURNPIKE) {
			if (memmem(msg, len, "\"type\":\"error\"", 14)) {
				w->errors++;
				/* An error answers the sender: free a slot. */
				if (c->inflight > 0)
					c->inflight--;
				if (opt.rate == 0 &&
				    atomic_load(&run.phase) == PHASE_TRAFFIC)
					conn_fill(c, now_ns());
			}
		} else if (memmem(msg, len, "\"ERROR\"", 7) ||
			   memmem(msg, len, "\"EXPIRE\"", 8) ||
			   memmem(msg, len, "\"LEAVE\"", 7)) {
			w->errors++;
		}
		return;
	}
	if (c->state != CONN_JOINING)
		return;
	if (opt.proto == SB_TURNPIKE) {
		if (memmem(msg, len, "\"type\":\"welcome\"", 16) &&
		    conn_take_id(c, msg, len))
			conn_settle(c, CONN_READY, 0);
		else if (memmem(msg, len, "\"type\":\"error\"", 14))
			conn_settle(c, CONN_FAILED, FAIL_REFUSED);
	} else {
		if (memmem(msg, len, "\"type\":\"OPEN\"", 13))
			conn_settle(c, CONN_READY, 0);
		else
			conn_settle(c, CONN_FAILED, FAIL_REFUSED);
	}
}

/*
 * Read the HTTP answer to the handshake from in; returns 1 when it was a
 * 101 (and is drained), 0 when more is needed, -1 when it was not.
 */
static int
conn_upgraded(struct conn *c, struct evbuffer *in)
{
	struct evbuffer_ptr end;
	const char *head;
	int status;

	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0)
		return evbuffer_get_length(in) > 8192 ? -1 : 0;
	head = (const char *)evbuffer_pullup(in, end.pos + 4);
	if (sscanf(head, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	evbuffer_drain(in, (size_t)end.pos + 4);
	if (status == 101)
		return 1;
	if (status >= 100 && status < 600)
		c->w->http_status[status / 100]++;
	return -1;
}

/*
 * Parse the frames in in (RFC 6455 section 5.2; the server's are not
 * masked); returns -1 when c was settled or closed on the way.
 */
static int
conn_frames(struct conn *c, struct evbuffer *in)
{
	size_t have, h, len;
	uint8_t hdr[10];
	unsigned int op;
	uint8_t *f;

	while ((have = evbuffer_get_length(in)) >= 2) {
		evbuffer_copyout(in, hdr, have < 10 ? have : 10);
		op = hdr[0] & 0x0f;
		len = hdr[1] & 0x7f;
		h = 2;
		if (len == 126) {
			if (have < 4)
				return 0;
			len = (size_t)hdr[2] << 8 | hdr[3];
			h = 4;
		} else if (len == 127) {
			if (have < 10)
				return 0;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | hdr[2 + i];
			h = 10;
		}
		if (len > SB_FRAME_MAX || (hdr[1] & 0x80)) {
			conn_settle(c, CONN_CLOSED, FAIL_LOST);
			return -1;
		}
		if (have < h + len)
			return 0;
		f = evbuffer_pullup(in, (ev_ssize_t)(h + len));
		switch (op) {
		case 0x1: /* text */
			conn_text(c, (const char *)f + h, len);
			if (c->bev == NULL)
				return -1; /* failed: in is gone */
			break;
		case 0x8: /* close */
			evbuffer_drain(in, h + len);
			conn_settle(c, CONN_CLOSED, FAIL_LOST);
			return -1;
		case 0x9: /* ping: pong with its payload */
			ws_send(c, 0xa, f + h, len);
			break;
		default: /* pong, binary, continuation: not ours */
			break;
		}
		evbuffer_drain(in, h + len);
	}
	return 0;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (c->state == CONN_UPGRADING) {
		int r = conn_upgraded(c, in);

		if (r == 0)
			return;
		if (r < 0) {
			conn_settle(c, CONN_FAILED, FAIL_HTTP);
			return;
		}
		c->state = CONN_JOINING;
		if (opt.proto == SB_TURNPIKE)
			conn_join(c);
	}
	(void)conn_frames(c, in);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		struct evbuffer *out = bufferevent_get_output(c->bev);
		int one = 1;

		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
				 TCP_NODELAY, &one, sizeof(one));
		if (opt.proto == SB_TURNPIKE)
			evbuffer_add_printf(out, "GET %s HTTP/1.1\r\n",
					    opt.path);
		else
			evbuffer_add_printf(out,
					    "GET %s?key=%s&id=%s&token=t%u "
					    "HTTP/1.1\r\n",
					    opt.path, opt.key, c->id, c->index);
		evbuffer_add_printf(out,
				    "Host: %s\r\n"
				    "Upgrade: websocket\r\n"
				    "Connection: Upgrade\r\n"
				    "Sec-WebSocket-Key: " SB_WS_KEY "\r\n"
				    "Sec-WebSocket-Version: 13\r\n\r\n",
				    opt.server_str);
		return;
	}
	if (c->state == CONN_READY)
		conn_settle(c, CONN_CLOSED, FAIL_LOST);
	else if (what & BEV_EVENT_TIMEOUT)
		conn_settle(c, CONN_FAILED, FAIL_TIMEOUT);
	else
		conn_settle(c, CONN_FAILED, FAIL_CONNECT);
}

/*
 * Move c to state: ready, failed (for reason) or closed (lost).  A
 * connection that fails or is lost is freed; a handshake that ends
 * starts the next client.
 */
static void
conn_settle(struct conn *c, enum conn_state state, int reason)
{
	struct worker *w = c->w;
	bool handshake = c->state == CONN_UPGRADING || c->state == CONN_JOINING;

	if (state != CONN_READY) {
		w->fails[reason]++;
		bufferevent_free(c->bev);
		c->bev = NULL;
		if (c->state == CONN_READY)
			__atomic_sub_fetch(&w->live, 1, __ATOMIC_RELAXED);
	} else {
		w->ready++;
		__atomic_add_fetch(&w->live, 1, __ATOMIC_RELAXED);
		bufferevent_set_timeouts(c->bev, NULL, NULL);
	}
	c->state = state;
	if (handshake) {
		__atomic_add_fetch(&w->settled, 1, __ATOMIC_RELAXED);
		w->handshakes--;
		while (w->handshakes < w->concurrency &&
		       w->next_start < w->nconns)
			conn_start(w, &w->conns[w->next_start++]);
	}
}

/*
 * Open c's TCP connection, from a source address of its own in
 * 127.1.0.0/16 and above with --spread, so that no two clients compete for
 * one address's ephemeral ports.
 */
static void
conn_start(struct worker *w, struct conn *c)
{
	struct timeval tv = { .tv_sec = (time_t)opt.timeout_s };
	int fd, one = 1;

	c->state = CONN_UPGRADING;
	w->handshakes++;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		c->bev = NULL;
		w->fails[FAIL_CONNECT]++;
		c->state = CONN_FAILED;
		__atomic_add_fetch(&w->settled, 1, __ATOMIC_RELAXED);
		w->handshakes--;
		return;
	}
	if (opt.spread) {
		struct sockaddr_in sin = { .sin_family = AF_INET };
		uint32_t n = w->id + opt.threads * c->index;

		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
				 sizeof(one));
		sin.sin_addr.s_addr = htonl(0x7F010000u + n % 0xFD0000u);
		(void)bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		die("bufferevent_socket_new failed");
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&opt.server,
				       sizeof(opt.server)) == -1)
		conn_settle(c, CONN_FAILED, FAIL_CONNECT);
}

/* Paced: send what is due by now, round robin over the ready clients. */
static void
worker_pace(struct worker *w, uint64_t now)
{
	uint64_t due, limit;

	if (now >= run.end || now < run.start)
		return;
	due = (uint64_t)((double)(now - run.start) * w->rate / (double)NS);
	/* After a stall longer than SB_CATCHUP_NS, skip what is overdue. */
	limit = (uint64_t)(w->rate * (double)SB_CATCHUP_NS / (double)NS) + 2;
	if (due > w->paced_sent + limit)
		w->paced_sent = due - limit;
	for (unsigned int tries = 0;
	     w->paced_sent < due && tries < w->nconns;) {
		struct conn *c = &w->conns[w->rr];

		w->rr = (w->rr + 1) % w->nconns;
		if (c->state != CONN_READY || c->target == c->index) {
			tries++;
			continue;
		}
		tries = 0;
		conn_message(c, now);
		w->paced_sent++;
	}
}

/* PeerJS drops clients silent for alive_timeout: send HEARTBEATs. */
static void
worker_heartbeat(struct worker *w, uint64_t now)
{
	static const char beat[] = "{\"type\":\"HEARTBEAT\"}";

	if (opt.proto != SB_PEERJS || now < w->next_beat)
		return;
	w->next_beat = now + SB_BEAT_NS;
	for (unsigned int i = 0; i < w->nconns; i++)
		if (w->conns[i].state == CONN_READY)
			ws_send(&w->conns[i], 1, beat, sizeof(beat) - 1);
}

static void
worker_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	int phase = atomic_load(&run.phase);
	uint64_t now = now_ns();

	(void)fd;
	(void)what;
	if (phase == PHASE_STOP) {
		event_base_loopbreak(w->base);
		return;
	}
	worker_heartbeat(w, now);
	if (phase != PHASE_TRAFFIC || opt.mode != SB_MODE_TRAFFIC)
		return;
	if (opt.rate > 0) {
		worker_pace(w, now);
	} else if (!w->flat_started && now >= run.start) {
		w->flat_started = true;
		for (unsigned int i = 0; i < w->nconns; i++)
			conn_fill(&w->conns[i], now);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct timeval tick = { .tv_usec = SB_TICK_NS / 1000 };

	w->tick = event_new(w->base, -1, EV_PERSIST, worker_tick_cb, w);
	event_add(w->tick, &tick);
	while (w->handshakes < w->concurrency && w->next_start < w->nconns)
		conn_start(w, &w->conns[w->next_start++]);
	event_base_dispatch(w->base);
	for (unsigned int i = 0; i < w->nconns; i++)
		if (w->conns[i].bev != NULL)
			bufferevent_free(w->conns[i].bev);
	event_free(w->tick);
	return NULL;
}

static unsigned int
share(unsigned int n, unsigned int t)
{
	return n / opt.threads + (t < n % opt.threads ? 1 : 0);
}

/*
 * Make the workers and their clients: --clients shared out in whole
 * groups of --room-size, each client sending to the next of its group.
 */
static void
workers_new(void)
{
	unsigned int groups = (opt.clients + opt.room_size - 1) / opt.room_size;
	unsigned int left = opt.clients;

	workers = calloc(opt.threads, sizeof(*workers));
	if (workers == NULL)
		die("out of memory");
	for (unsigned int t = 0; t < opt.threads; t++) {
		struct worker *w = &workers[t];
		unsigned int n = share(groups, t) * opt.room_size;

		if (n > left)
			n = left;
		left -= n;
		w->id = t;
		w->nconns = n;
		w->conns = calloc(n ? n : 1, sizeof(*w->conns));
		w->base = event_base_new();
		if (w->conns == NULL || w->base == NULL)
			die("out of memory");
		w->concurrency = share(opt.concurrency, t);
		if (w->concurrency == 0)
			w->concurrency = 1;
		w->rate = opt.clients ? opt.rate * n / opt.clients : 0;
		w->rng = 0x9E3779B97F4A7C15ull ^ (run_tag + t);
		for (unsigned int i = 0; i < n; i++) {
			struct conn *c = &w->conns[i];
			unsigned int first = i - i % opt.room_size;
			unsigned int size = n - first < opt.room_size
						    ? n - first
						    : opt.room_size;

			c->w = w;
			c->index = i;
			c->target = first + (i - first + 1) % size;
			if (opt.proto == SB_PEERJS)
				snprintf(c->id, sizeof(c->id),
					 "sb%" PRIx64 "-%u-%u", run_tag, t, i);
		}
	}
}

static void
workers_run(void)
{
	for (unsigned int t = 0; t < opt.threads; t++)
		if (pthread_create(&workers[t].thread, NULL, worker_main,
				   &workers[t]) != 0)
			die("pthread_create failed");
}

static void
workers_join(void)
{
	atomic_store(&run.phase, PHASE_STOP);
	for (unsigned int t = 0; t < opt.threads; t++)
		pthread_join(workers[t].thread, NULL);
}

/*
 * Wait until every client is ready or has failed, or the handshakes stall
 * for --timeout seconds twice over.  The workers' counters are read
 * without locks: an estimate, final once the workers are joined.
 */
static void
workers_settle(void)
{
	unsigned int last = 0;
	uint64_t since = now_ns();

	for (;;) {
		unsigned int settled = 0;

		for (unsigned int t = 0; t < opt.threads; t++)
			settled += __atomic_load_n(&workers[t].settled,
						   __ATOMIC_RELAXED);
		if (settled >= opt.clients)
			return;
		if (settled != last) {
			last = settled;
			since = now_ns();
		} else if (now_ns() - since > 2ull * opt.timeout_s * NS) {
			return;
		}
		usleep(20000);
	}
}

static unsigned int
workers_ready_now(void)
{
	unsigned int n = 0;

	for (unsigned int t = 0; t < opt.threads; t++)
		n += __atomic_load_n(&workers[t].live, __ATOMIC_RELAXED);
	return n;
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NS),
			       .tv_nsec = (long)(ns % NS) };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The sum of the workers' counters, in a worker of its own. */
static struct worker *
workers_total(void)
{
	static struct worker t;

	for (unsigned int i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];

		t.nconns += w->nconns;
		t.ready += w->ready;
		t.sent += w->sent;
		t.sent_measured += w->sent_measured;
		t.received += w->received;
		t.received_measured += w->received_measured;
		t.errors += w->errors;
		for (int r = 0; r < FAIL_NREASONS; r++)
			t.fails[r] += w->fails[r];
		for (int s = 0; s < 6; s++)
			t.http_status[s] += w->http_status[s];
		hist_merge(&t.lat, &w->lat);
	}
	return &t;
}

static FILE *
human_out(void)
{
	return opt.json ? stderr : stdout;
}

static const char *
proto_name(void)
{
	return opt.proto == SB_PEERJS ? "peerjs" : "turnpike";
}

static const char *
kind_name(void)
{
	static const char *const names[] = { "chat", "offer", "candidate" };

	return opt.proto == SB_PEERJS ? "OFFER" : names[opt.kind];
}

static void
json_fails(const struct worker *t)
{
	printf("\"failures\":{");
	for (int r = 0; r < FAIL_NREASONS; r++)
		printf("%s\"%s\":%" PRIu64, r ? "," : "", fail_names[r],
		       t->fails[r]);
	printf(",\"http_4xx\":%" PRIu64 ",\"http_5xx\":%" PRIu64 "}",
	       t->http_status[4], t->http_status[5]);
}

static void
human_fails(const struct worker *t)
{
	bool any = false;

	for (int r = 0; r < FAIL_NREASONS; r++) {
		if (t->fails[r] == 0)
			continue;
		fprintf(human_out(), "%s%s %" PRIu64, any ? ", " : " (",
			fail_names[r], t->fails[r]);
		any = true;
	}
	if (t->http_status[5])
		fprintf(human_out(), ", HTTP 5xx %" PRIu64, t->http_status[5]);
	if (any)
		fputc(')', human_out());
}

static int
mode_traffic(void)
{
	struct worker *t;
	unsigned int ready;
	uint64_t now;
	double rx_rate, tx_rate;

	workers_run();
	workers_settle();
	ready = workers_ready_now();
	now = now_ns();
	run.start = now + 20 * 1000000ull;
	run.measure = run.start + (uint64_t)(opt.warmup * NS);
	run.end = run.measure + (uint64_t)(opt.duration * NS);
	atomic_store(&run.phase, PHASE_TRAFFIC);
	sleep_ns(run.end + SB_DRAIN_NS - now);
	workers_join();
	t = workers_total();
	tx_rate = (double)t->sent_measured / opt.duration;
	rx_rate = (double)t->received_measured / opt.duration;
	if (opt.json) {
		printf("{\"mode\":\"traffic\",\"protocol\":\"%s\","
		       "\"server\":\"%s\",\"message\":\"%s\",\"clients\":%u,"
		       "\"ready\":%u,\"room_size\":%u,\"size\":%u,"
		       "\"threads\":%u,\"rate_target\":%.0f,\"window\":%u,"
		       "\"duration_s\":%.3f,\"sent\":%" PRIu64
		       ",\"received\":%" PRIu64 ",\"sent_per_s\":%.1f,"
		       "\"received_per_s\":%.1f,\"fanout\":%.3f,"
		       "\"sent_total\":%" PRIu64 ",\"received_total\":%" PRIu64
		       ",\"errors\":%" PRIu64 ",",
		       proto_name(), opt.server_str, kind_name(), opt.clients,
		       ready, opt.room_size, opt.size, opt.threads, opt.rate,
		       opt.window, opt.duration, t->sent_measured,
		       t->received_measured, tx_rate, rx_rate,
		       t->sent_measured ? (double)t->received_measured /
						  (double)t->sent_measured
					: 0.0,
		       t->sent, t->received, t->errors);
		printf("\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,"
		       "\"p99\":%.1f,\"max\":%.1f},",
		       us(hist_quantile(&t->lat, 0.5)),
		       us(hist_quantile(&t->lat, 0.9)),
		       us(hist_quantile(&t->lat, 0.99)), us(t->lat.max));
		json_fails(t);
		printf("}\n");
	}
	fprintf(human_out(),
		"%s %s %s: %u/%u clients, rooms of %u, %u B, sent %" PRIu64
		" (%.0f/s), delivered %" PRIu64 " (%.0f/s), one-way p50 %.0f "
		"us p99 %.0f us max %.0f us, %" PRIu64 " errors",
		proto_name(), opt.server_str, kind_name(), ready, opt.clients,
		opt.room_size, opt.size, t->sent_measured, tx_rate,
		t->received_measured, rx_rate, us(hist_quantile(&t->lat, 0.5)),
		us(hist_quantile(&t->lat, 0.99)), us(t->lat.max), t->errors);
	human_fails(t);
	fputc('\n', human_out());
	return t->received_measured > 0 ? 0 : 1;
}

static int
mode_hold(void)
{
	struct worker *t;
	unsigned int held, still;

	workers_run();
	workers_settle();
	held = workers_ready_now();
	fprintf(stderr,
		"turnpike-sigbench: holding %u connections for %.1f s\n", held,
		opt.duration);
	sleep_ns((uint64_t)(opt.duration * NS));
	still = workers_ready_now();
	workers_join();
	t = workers_total();
	if (opt.json) {
		printf("{\"mode\":\"hold\",\"protocol\":\"%s\",\"server\":\"%"
		       "s\","
		       "\"clients\":%u,\"held\":%u,\"held_at_end\":%u,"
		       "\"duration_s\":%.3f,",
		       proto_name(), opt.server_str, opt.clients, held, still,
		       opt.duration);
		json_fails(t);
		printf("}\n");
	}
	fprintf(human_out(),
		"hold %s %s: %u/%u connections held, %u at the end of %.1f s",
		proto_name(), opt.server_str, held, opt.clients, still,
		opt.duration);
	human_fails(t);
	fputc('\n', human_out());
	return held > 0 ? 0 : 1;
}

enum {
	OPT_SERVER = 256,
	OPT_PROTOCOL,
	OPT_PATH,
	OPT_KEY,
	OPT_MESSAGE,
	OPT_CLIENTS,
	OPT_ROOM_SIZE,
	OPT_SIZE,
	OPT_THREADS,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_RATE,
	OPT_WINDOW,
	OPT_CONCURRENCY,
	OPT_TIMEOUT,
	OPT_NO_SPREAD,
	OPT_JSON,
	OPT_HELP,
};

static const struct bench_option sig_options[] = {
	{ .name = "server",
	  .key = OPT_SERVER,
	  .arg = "ADDR",
	  .help = "the server, ipv4:port (127.0.0.1:8080)" },
	{ .name = "protocol",
	  .key = OPT_PROTOCOL,
	  .arg = "NAME",
	  .help = "turnpike (rooms, /ws) or peerjs (/peerjs) (turnpike)" },
	{ .name = "path",
	  .key = OPT_PATH,
	  .arg = "PATH",
	  .help = "the WebSocket's path (/ws; peerjs: /peerjs)" },
	{ .name = "key",
	  .key = OPT_KEY,
	  .arg = "KEY",
	  .help = "peerjs: the server's key (peerjs)" },
	{ .name = "message",
	  .key = OPT_MESSAGE,
	  .arg = "TYPE",
	  .help = "turnpike: chat (to the room), offer or candidate (chat)" },
	{ .name = "clients",
	  .key = OPT_CLIENTS,
	  .arg = "N",
	  .help = "WebSocket clients (64)",
	  .whole = &opt.clients,
	  .min = 1,
	  .max = 1000000 },
	{ .name = "room-size",
	  .key = OPT_ROOM_SIZE,
	  .arg = "N",
	  .help = "clients per room or group, 1-1000 (8)",
	  .whole = &opt.room_size,
	  .min = 1,
	  .max = 1000 },
	{ .name = "size",
	  .key = OPT_SIZE,
	  .arg = "BYTES",
	  .help = "the text, sdp or candidate string, 28-60000 (100)",
	  .whole = &opt.size,
	  .min = SB_SIZE_MIN,
	  .max = SB_SIZE_MAX },
	{ .name = "threads",
	  .key = OPT_THREADS,
	  .arg = "N",
	  .help = "threads, clients shared out (1)",
	  .whole = &opt.threads,
	  .min = 1,
	  .max = 64 },
	{ .name = "duration",
	  .key = OPT_DURATION,
	  .arg = "SECONDS",
	  .help = "measured time; hold: time held (5)",
	  .number = &opt.duration,
	  .min = 0.1,
	  .max = SB_MAX_SECS },
	{ .name = "warmup",
	  .key = OPT_WARMUP,
	  .arg = "SECONDS",
	  .help = "traffic before counting starts (1)",
	  .number = &opt.warmup,
	  .min = 0,
	  .max = 60 },
	{ .name = "rate",
	  .key = OPT_RATE,
	  .arg = "N",
	  .help = "messages sent per second in total; 0 is flat out (0)",
	  .number = &opt.rate,
	  .min = 0,
	  .max = 1e8 },
	{ .name = "window",
	  .key = OPT_WINDOW,
	  .arg = "N",
	  .help = "flat out: messages per client not yet delivered (4)",
	  .whole = &opt.window,
	  .min = 1,
	  .max = 100000 },
	{ .name = "concurrency",
	  .key = OPT_CONCURRENCY,
	  .arg = "N",
	  .help = "handshakes under way at once (64)",
	  .whole = &opt.concurrency,
	  .min = 1,
	  .max = 100000 },
	{ .name = "timeout",
	  .key = OPT_TIMEOUT,
	  .arg = "SECONDS",
	  .help = "how long a handshake may take (10)",
	  .whole = &opt.timeout_s,
	  .min = 1,
	  .max = 600 },
	{ .name = "no-spread",
	  .key = OPT_NO_SPREAD,
	  .help = "connect from the kernel's choice of address, not "
		  "127.1.x.y" },
	{ .name = "json",
	  .key = OPT_JSON,
	  .help = "JSON on standard output, one human line on standard error" },
	{ .name = "help", .key = OPT_HELP, .help = "this help" },
};

#define NOPTIONS (sizeof(sig_options) / sizeof(sig_options[0]))

static noreturn void
usage(FILE *fp, int status)
{
	options_usage(fp, status, "[options] traffic|hold", sig_options,
		      NOPTIONS);
}

/* Parse ip:port into opt.server; -1 when it is not an IPv4 address. */
static int
parse_server(const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned int port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = parse_uint("server", colon + 1, 1, 65535);
	memset(&opt.server, 0, sizeof(opt.server));
	opt.server.sin_family = AF_INET;
	opt.server.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &opt.server.sin_addr) != 1)
		return -1;
	snprintf(opt.server_str, sizeof(opt.server_str), "%s", s);
	return 0;
}

static void
parse_args(int argc, char **argv)
{
	struct option lopts[NOPTIONS + 1];
	const char *server = "127.0.0.1:8080", *mode;
	int ch;

	options_long(sig_options, NOPTIONS, lopts);
	while ((ch = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (ch) {
		case OPT_SERVER:
			server = optarg;
			break;
		case OPT_PROTOCOL:
			if (strcmp(optarg, "turnpike") == 0)
				opt.proto = SB_TURNPIKE;
			else if (strcmp(optarg, "peerjs") == 0)
				opt.proto = SB_PEERJS;
			else
				usage(stderr, 2);
			break;
		case OPT_PATH:
			opt.path = optarg;
			break;
		case OPT_KEY:
			opt.key = optarg;
			break;
		case OPT_MESSAGE:
			if (strcmp(optarg, "chat") == 0)
				opt.kind = SB_CHAT;
			else if (strcmp(optarg, "offer") == 0)
				opt.kind = SB_OFFER;
			else if (strcmp(optarg, "candidate") == 0)
				opt.kind = SB_CANDIDATE;
			else
				usage(stderr, 2);
			break;
		case OPT_NO_SPREAD:
			opt.spread = false;
			break;
		case OPT_JSON:
			opt.json = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout, 0);
		default:
			if (!options_number(sig_options, NOPTIONS, ch, optarg))
				usage(stderr, 2);
		}
	}
	if (optind != argc - 1)
		usage(stderr, 2);
	mode = argv[optind];
	if (strcmp(mode, "traffic") == 0)
		opt.mode = SB_MODE_TRAFFIC;
	else if (strcmp(mode, "hold") == 0)
		opt.mode = SB_MODE_HOLD;
	else
		usage(stderr, 2);
	if (parse_server(server) == -1) {
		fprintf(stderr,
			"turnpike-sigbench: --server: \"%s\" is not "
			"ipv4:port\n",
			server);
		exit(2);
	}
	if (opt.path == NULL)
		opt.path = opt.proto == SB_PEERJS ? "/peerjs" : "/ws";
	/* Spread source addresses only make sense toward loopback. */
	if ((ntohl(opt.server.sin_addr.s_addr) >> 24) != 127)
		opt.spread = false;
	if (opt.threads > opt.clients)
		opt.threads = opt.clients;
}

int
main(int argc, char **argv)
{
	struct timespec ts;

	bench_progname = "turnpike-sigbench";
	parse_args(argc, argv);
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	nofile_raise(opt.clients + 16);
	clock_gettime(CLOCK_REALTIME, &ts);
	run_tag = ((uint64_t)ts.tv_sec << 20 ^ (uint64_t)ts.tv_nsec ^
		   (uint64_t)getpid()) &
		  0xffffffffffull;
	workers_new();
	return opt.mode == SB_MODE_TRAFFIC ? mode_traffic() : mode_hold();
}
