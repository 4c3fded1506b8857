/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ws.c: libFuzzer target for the WebSocket connections of src/ws.c as
 * the daemon runs them: wslay's parser fed with fuzzed client bytes, our
 * callbacks behind it (UTF-8 check and 1007, binary refused with 1003,
 * signaling.max_message_size and 1009, pongs, the close handshake and its
 * grace period, the send queue bound that drops a slow consumer) and the
 * real signaling hub (src/sig.c) answering through ws_send_text().
 *
 * Nothing goes over a network: each connection is an AF_UNIX socketpair,
 * the server end handed to ws_open() as libmicrohttpd would hand over an
 * upgraded socket, the client end written and read here.  libmicrohttpd
 * itself is not linked: MHD_upgrade_action() below stands in for it and
 * closes the server end.  Time: "every timer fires" activates all of the
 * loop's timers at once (the ping round, close grace periods); the hub's
 * rate limits read the real clock, as in the daemon.
 *
 * Input: one setup byte, then records.
 *
 *   setup  bits 0-1: signaling.max_message_size 64, 1024, 8192 or 65536
 *          bits 2-3: signaling.send_queue 128, 4096, 65536 or 1048576
 *          bits 4-5: the hub without limits; 1 message/s, burst 2, closed
 *                    (1008) after 3 rate-limited; 2 peers a room; join
 *                    tokens required
 *   record [ctl] [length, 2 bytes big-endian] [payload]
 *   ctl    bits 0-1: the connection (4)
 *          bits 2-4: 0 the client sends the payload as it is (opening the
 *                      connection first if needed), 1 the client sends
 *                      one frame: payload[0] is its first byte (FIN, RSV,
 *                      opcode), the rest its data, masked here with
 *                      RFC 6455 section 5.7's key, 2 open with the payload
 *                      as the bytes read past the handshake, 3 the client
 *                      shuts down its sending side, 4 the client closes
 *                      its socket, 5 every timer fires, 6 the client stops
 *                      (or resumes) reading, 7 as 0
 *
 * Run a seed with FUZZ_TRACE=1 in the environment to see one line per
 * frame the server sent.
 *
 * Invariants checked: what the server sends is unmasked, FIN, RSV 0,
 * text, close, ping or pong; control frames carry at most 125 bytes; a
 * close frame has no 1-byte body and a UTF-8 reason, and nothing follows
 * it; text messages are UTF-8 JSON objects with a string "type"; every
 * connection handed over is handed back (closed) once, and only once;
 * ws_count() and the hub's gauge agree with the connections still open.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "ice.h"
#include "log.h"
#include "sig.h"
#include "ws.h"

#define NCONNS       4
#define MAX_RECORDS  128
#define MAX_OPENS    16 /* connections opened per input */
#define LOOP_PASSES  4  /* loop passes after each record */
#define TOKEN_SECRET "fuzz-token-secret"

#define CTL_CONN     0x03
#define CTL_OP_SHIFT 2

enum {
	OP_BYTES,
	OP_FRAME,
	OP_OPEN,
	OP_SHUTDOWN,
	OP_CLOSE,
	OP_TIMERS,
	OP_STALL
};

/* What libmicrohttpd would keep of an upgraded connection. */
struct MHD_UpgradeResponseHandle {
	int server_fd;
	bool open; /* handed over to ws.c, not handed back yet */
};

/* One connection, as its client sees it. */
struct conn {
	struct MHD_UpgradeResponseHandle urh;
	int client_fd; /* -1 when none */
	bool stalled;  /* the client does not read */
	bool closed;   /* the server sent a close frame */
	uint8_t *in;   /* server bytes not parsed yet */
	size_t in_len;
};

static struct {
	struct conn conns[NCONNS];
	struct ws_set *ws;
	struct sig_hub *hub;
	unsigned int opens;
	uint64_t draws;
} fz;

static bool trace; /* FUZZ_TRACE set: one line per server frame */
static struct event_base *base;
static struct conf *conf;
static const struct conf *confp;

static const char conf_text[] =
	"listen = { udp = [ \"192.0.2.100:3478\" ];\n"
	"  tcp = [ \"192.0.2.100:3478\" ]; tls = [ ]; };\n"
	"turn = { secrets = [ \"rest-secret-one\" ]; };\n";

/* libmicrohttpd's half of the hand-back: close the socket, once. */
enum MHD_Result
MHD_upgrade_action(struct MHD_UpgradeResponseHandle *urh,
		   enum MHD_UpgradeAction action, ...)
{
	FUZZ_ASSERT(action == MHD_UPGRADE_ACTION_CLOSE);
	FUZZ_ASSERT(urh->open);
	urh->open = false;
	close(urh->server_fd);
	urh->server_fd = -1;
	return MHD_YES;
}

static void
kick(void *arg)
{
}

static void
fake_random(void *ctx, uint8_t *buf, size_t n)
{
	uint64_t v = fz.draws++;

	for (size_t i = 0; i < n; i++)
		buf[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : (uint8_t)0xa5;
}

/* What main.c's sig_ice_cb does. */
static json_t *
fake_ice_config(void *ctx, void *c, const char *peer_id)
{
	return ice_config(confp, ws_host(c), peer_id, INT64_C(1700000000));
}

static const struct sig_ops ops = {
	.send = ws_send_text,
	.close = ws_close_code,
	.random = fake_random,
	.ice_config = fake_ice_config,
};

static void
config_from(uint8_t setup, struct sig_config *cfg)
{
	static const int msg_size[] = { 64, 1024, 8192, 65536 };
	static const int queue[] = { 128, 4096, 65536, 1048576 };

	conf->sig_max_message_size = msg_size[setup & 3];
	conf->sig_send_queue = queue[(setup >> 2) & 3];
	memset(cfg, 0, sizeof(*cfg));
	switch ((setup >> 4) & 3) {
	case 1:
		cfg->rate = 1;
		cfg->burst = 2;
		cfg->abuse_limit = 3;
		break;
	case 2:
		cfg->max_peers_per_room = 2;
		break;
	case 3:
		cfg->token_secret = TOKEN_SECRET;
		break;
	}
}

/* A server frame's text: what RFC 6455 and the hub promise. */
static void
check_frame(struct conn *c, uint8_t b0, const uint8_t *data, size_t len)
{
	uint8_t opcode = b0 & 0x0f;
	json_error_t jerr;
	json_t *msg;

	if (trace && opcode == 0x8 && len >= 2)
		fprintf(stderr, "conn %d: close %u %.*s\n", (int)(c - fz.conns),
			(unsigned int)(data[0] << 8 | data[1]), (int)len - 2,
			(const char *)data + 2);
	else if (trace)
		fprintf(stderr, "conn %d: opcode %x, %zu bytes: %.*s\n",
			(int)(c - fz.conns), opcode, len, (int)len,
			(const char *)data);
	/* Section 5.5.1: nothing after a close frame. */
	FUZZ_ASSERT(!c->closed);
	/* Section 5.2: no extension was negotiated, so RSV is 0; wslay
	 * sends every message as one frame. */
	FUZZ_ASSERT((b0 & 0xf0) == 0x80);
	switch (opcode) {
	case 0x1:
		FUZZ_ASSERT(ws_utf8_valid(data, len));
		msg = json_loadb((const char *)data, len, 0, &jerr);
		FUZZ_ASSERT(json_is_object(msg));
		FUZZ_ASSERT(json_is_string(json_object_get(msg, "type")));
		json_decref(msg);
		break;
	case 0x8:
		FUZZ_ASSERT(len != 1);
		FUZZ_ASSERT(len < 2 || ws_utf8_valid(data + 2, len - 2));
		c->closed = true;
		/* fall through */
	case 0x9:
	case 0xa:
		FUZZ_ASSERT(len <= 125); /* section 5.5 */
		break;
	default:
		FUZZ_ASSERT(!"a data frame other than text");
	}
}

/* Parse the complete frames the server sent; keep a partial one. */
static void
parse_frames(struct conn *c)
{
	size_t off = 0;

	for (;;) {
		const uint8_t *p = c->in + off;
		size_t avail = c->in_len - off, hlen = 2;
		uint64_t len;

		if (avail < 2)
			break;
		/* Section 5.1: a server never masks. */
		FUZZ_ASSERT((p[1] & 0x80) == 0);
		len = p[1] & 0x7f;
		if (len == 126) {
			if (avail < 4)
				break;
			len = (uint64_t)p[2] << 8 | p[3];
			FUZZ_ASSERT(len >= 126); /* the minimal length form */
			hlen = 4;
		} else if (len == 127) {
			if (avail < 10)
				break;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | p[2 + i];
			FUZZ_ASSERT(len > 0xffff && len < (UINT64_C(1) << 63));
			hlen = 10;
		}
		if (avail - hlen < len)
			break;
		check_frame(c, p[0], p + hlen, (size_t)len);
		off += hlen + (size_t)len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

/* Read what the server sent, unless the client is stalled. */
static void
client_drain(struct conn *c)
{
	uint8_t buf[16384];
	ssize_t n;

	while (c->client_fd != -1 && !c->stalled) {
		n = read(c->client_fd, buf, sizeof(buf));
		if (n <= 0) {
			/* The server end is gone (EOF, or reset after we
			 * shut down): the client closes too. */
			if (n == 0 || errno != EAGAIN) {
				close(c->client_fd);
				c->client_fd = -1;
			}
			break;
		}
		if ((c->in = realloc(c->in, c->in_len + (size_t)n)) == NULL)
			abort();
		memcpy(c->in + c->in_len, buf, (size_t)n);
		c->in_len += (size_t)n;
		parse_frames(c);
	}
}

/* Hand a new connection to ws.c, with extra read past the handshake. */
static void
conn_open(struct conn *c, const uint8_t *extra, size_t len)
{
	int sv[2], sndbuf = 4096;

	if (c->urh.open || c->client_fd != -1 || fz.opens >= MAX_OPENS)
		return;
	/* A small socket buffer, so that a client that does not read
	 * soon makes wslay queue, and signaling.send_queue matter. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ==
		    -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	fz.opens++;
	free(c->in);
	*c = (struct conn){ .urh = { sv[0], true }, .client_fd = sv[1] };
	ws_open(fz.ws, sv[0], &c->urh, (const char *)extra, len,
		"turn.example.org");
}

static void
client_send(struct conn *c, const uint8_t *data, size_t len)
{
	if (c->client_fd == -1)
		conn_open(c, NULL, 0);
	if (c->client_fd != -1 && len > 0)
		(void)send(c->client_fd, data, len, MSG_NOSIGNAL);
}

/* One client frame, masked with RFC 6455 section 5.7's key. */
static void
client_frame(struct conn *c, const uint8_t *payload, size_t len)
{
	static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t *frame;
	size_t n = 0, dlen = len - 1;

	if (len == 0 || (frame = malloc(len + 16)) == NULL)
		return;
	frame[n++] = payload[0];
	if (dlen < 126) {
		frame[n++] = (uint8_t)(0x80 | dlen);
	} else {
		frame[n++] = 0x80 | 126;
		frame[n++] = (uint8_t)(dlen >> 8);
		frame[n++] = (uint8_t)dlen;
	}
	memcpy(frame + n, key, 4);
	n += 4;
	for (size_t i = 0; i < dlen; i++)
		frame[n++] = payload[1 + i] ^ key[i % 4];
	client_send(c, frame, n);
	free(frame);
}

/* Time passes: every timer of the loop fires now. */
struct timers {
	struct event *ev[64];
	size_t n;
};

static int
timer_cb(const struct event_base *b, const struct event *ev, void *arg)
{
	struct timers *t = arg;

	if (event_get_fd(ev) == -1 && t->n < 64)
		t->ev[t->n++] = (struct event *)ev;
	return 0;
}

static void
fire_timers(void)
{
	struct timers t = { .n = 0 };

	/* Collected first: the loop must not change while walked. */
	event_base_foreach_event(base, timer_cb, &t);
	for (size_t i = 0; i < t.n; i++)
		event_active(t.ev[i], EV_TIMEOUT, 0);
}

static void
check_gauges(void)
{
	unsigned int open = 0;

	for (int i = 0; i < NCONNS; i++)
		open += fz.conns[i].urh.open;
	FUZZ_ASSERT(ws_count(fz.ws) == open);
	FUZZ_ASSERT(sig_hub_stats(fz.hub)->connections == open);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, LOG_TARGET_STDERR, 0);
	trace = getenv("FUZZ_TRACE") != NULL;
	if ((base = event_base_new()) == NULL)
		abort();
	conf = fuzz_conf_text(conf_text);
	confp = conf;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct sig_config cfg;
	unsigned int nrecords = 0;

	if (size < 1)
		return 0;
	memset(&fz, 0, sizeof(fz));
	for (int i = 0; i < NCONNS; i++)
		fz.conns[i] =
			(struct conn){ .urh = { -1, false }, .client_fd = -1 };
	config_from(*p++, &cfg);
	if ((fz.ws = ws_set_new(base, &confp, kick, NULL)) == NULL ||
	    (fz.hub = sig_hub_new(&ops, &cfg)) == NULL)
		abort();
	ws_set_hub(fz.ws, fz.hub);

	while (end - p >= 3 && nrecords++ < MAX_RECORDS) {
		uint8_t ctl = p[0];
		size_t len = (size_t)(p[1] << 8 | p[2]);
		struct conn *c = &fz.conns[ctl & CTL_CONN];
		const uint8_t *payload;

		p += 3;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		payload = p;
		p += len;

		switch ((ctl >> CTL_OP_SHIFT) & 7) {
		case OP_FRAME:
			client_frame(c, payload, len);
			break;
		case OP_OPEN:
			if (c->client_fd == -1)
				conn_open(c, payload, len);
			else
				client_send(c, payload, len);
			break;
		case OP_SHUTDOWN:
			if (c->client_fd != -1)
				shutdown(c->client_fd, SHUT_WR);
			break;
		case OP_CLOSE:
			if (c->client_fd != -1) {
				close(c->client_fd);
				c->client_fd = -1;
			}
			break;
		case OP_TIMERS:
			fire_timers();
			break;
		case OP_STALL:
			c->stalled = !c->stalled;
			break;
		default:
			client_send(c, payload, len);
			break;
		}
		for (int i = 0; i < LOOP_PASSES; i++) {
			event_base_loop(base, EVLOOP_NONBLOCK);
			for (int k = 0; k < NCONNS; k++)
				client_drain(&fz.conns[k]);
		}
		check_gauges();
	}

	/* The daemon's shutdown: each connection goes away (1001). */
	ws_set_free(fz.ws);
	for (int i = 0; i < NCONNS; i++) {
		struct conn *c = &fz.conns[i];

		FUZZ_ASSERT(!c->urh.open);
		c->stalled = false;
		client_drain(c);
		if (c->client_fd != -1)
			close(c->client_fd);
		free(c->in);
	}
	FUZZ_ASSERT(sig_hub_stats(fz.hub)->connections == 0);
	sig_hub_free(fz.hub);
	/* Timers of connections ended inside the loop are freed with
	 * them; nothing of this input may be left in the loop. */
	FUZZ_ASSERT(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) ==
		    0);
	return 0;
}
