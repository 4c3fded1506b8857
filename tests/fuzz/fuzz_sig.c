/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sig.c: libFuzzer target for the signaling hub (src/sig.c), with the
 * WebSocket side's UTF-8 check (ws_utf8_valid() in src/ws.c) in front of
 * it as in the daemon, and for each join what src/ice.c makes from the
 * connection's Host header: the RTCConfiguration (ice_config()) and, while
 * at it, the /api/turn answer (ice_turn_rest()).
 *
 * The I/O side is a fake that keeps what ws.c keeps of a connection: open,
 * closing (a close frame is queued: what it sends is dropped, what it is
 * sent fails, and it ends after a 5 s grace), dropping (its send queue
 * overflowed: it ends once the current call returns), or gone.
 *
 * Input: one setup byte, then records.
 *
 *   setup  bits 0-1: signaling.max_peers_per_room 2, 3, 8 or 0 (none)
 *          bits 2-3: signaling.max_rooms 1, 2, 1000 or 0 (none)
 *          bits 4-5: rate 1000/s burst 1000, 1/s burst 2 with an abuse
 *                    limit of 3, 20/s burst 60, or no limit
 *          bit 6: join tokens required (signaling.token_secret)
 *          bit 7: the random source repeats itself (peer id collisions)
 *   record [ctl] [clock] [length, 2 bytes big-endian] [payload]
 *   ctl    bits 0-2: the connection (8)
 *          bits 3-4: 0 a text message (connecting first if needed),
 *                    1 connect with the payload as its Host header,
 *                    2 disconnect, 3 reconfigure (payload[0] as setup)
 *          bit 5: before sending, give a JSON object with a valid room
 *                 a valid join token for it
 *          bit 6: ice_config answers NULL for this join
 *          bit 7: ice_config uses a second config (http.public_host set
 *                 to an IPv6 address, UDP only, ICE policy "all")
 *   clock  advance before the record: 0-127 is that many 10 ms steps,
 *          128-255 that many seconds past 127; queues drain and closing
 *          connections past their grace end.
 *
 * Invariants checked: the hub sends only to connections that are still
 * there, only NUL-terminated UTF-8 JSON objects with a string "type";
 * its gauges match the connections; ws_utf8_valid() agrees with a
 * reference decoder written from RFC 3629's table.
 */
#include "config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "ice.h"
#include "log.h"
#include "sig.h"
#include "ws.h"

#define NCONNS        8
#define MAX_RECORDS   128
#define QUEUE_BYTES   4096 /* per connection, drained as the clock moves */
#define MAX_MESSAGE   8192 /* signaling.max_message_size, for wslay */
#define GRACE_MS      5000 /* WS_CLOSE_GRACE_SECONDS */
#define START_MS      UINT64_C(1000)
#define START_WALL_MS UINT64_C(1700000000123)
#define TOKEN_SECRET  "fuzz-token-secret"

#define CTL_CONN     0x07
#define CTL_OP_SHIFT 3
#define CTL_TOKEN    0x20
#define CTL_NO_ICE   0x40
#define CTL_CONF2    0x80

enum conn_state { CONN_GONE, CONN_OPEN, CONN_CLOSING, CONN_DROPPING };

struct conn {
	enum conn_state state;
	struct sig_peer *peer;
	uint64_t closing_since;
	size_t queued;
	char host[256];
};

static struct {
	struct conn conns[NCONNS];
	struct sig_hub *hub;
	uint64_t draws;
	bool stuck;
	bool no_ice, conf2;
	uint64_t now_ms, wall_ms;
} fz;

static const char conf_text[] =
	"listen = { udp = [ \"192.0.2.100:3478\" ];\n"
	"  tcp = [ \"192.0.2.100:3478\" ]; tls = [ \"192.0.2.100:5349\" ]; };\n"
	"tls = { certificate = \"/nonexistent.pem\";\n"
	"  private_key = \"/nonexistent.key\"; };\n"
	"turn = { secrets = [ \"rest-secret-one\" ]; };\n"
	"signaling = { ice_transport_policy = \"relay\"; };\n";
static const char conf2_text[] =
	"listen = { udp = [ \"[::]:3478\" ]; tcp = [ ]; tls = [ ]; };\n"
	"http = { public_host = \"2001:db8::5\"; };\n"
	"turn = { secrets = [ \"rest-secret-one\" ]; };\n";
static struct conf *conf, *conf2;

static struct conn *
conn_of(void *c)
{
	struct conn *conn = c;

	FUZZ_ASSERT(conn >= fz.conns && conn < fz.conns + NCONNS);
	/* The hub never reaches a connection it was told is gone. */
	FUZZ_ASSERT(conn->state != CONN_GONE);
	return conn;
}

/* RFC 3629 section 4, the well-formed byte sequences, as a table. */
static bool
utf8_reference(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i], lo = 0x80, hi = 0xBF;
		size_t n;

		if (c <= 0x7F) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3;
		else
			return false;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		else if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		if (len - i <= n)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return false;
		i += n + 1;
	}
	return true;
}

static int
fake_send(void *ctx, void *c, const char *text, size_t len)
{
	struct conn *conn = conn_of(c);
	json_error_t jerr;
	json_t *msg;

	FUZZ_ASSERT(text[len] == '\0' && strlen(text) == len);
	FUZZ_ASSERT(ws_utf8_valid((const uint8_t *)text, len));
	msg = json_loadb(text, len, 0, &jerr);
	FUZZ_ASSERT(json_is_object(msg));
	FUZZ_ASSERT(json_is_string(json_object_get(msg, "type")));
	json_decref(msg);
	if (conn->state != CONN_OPEN)
		return -1;
	if (conn->queued + len > QUEUE_BYTES) {
		conn->state = CONN_DROPPING;
		return -1;
	}
	conn->queued += len;
	return 0;
}

static void
fake_close(void *ctx, void *c, int code, const char *reason)
{
	struct conn *conn = conn_of(c);

	FUZZ_ASSERT(code == SIG_CLOSE_NORMAL || code == SIG_CLOSE_POLICY);
	FUZZ_ASSERT(reason != NULL && strlen(reason) <= 123);
	if (conn->state == CONN_OPEN) {
		conn->state = CONN_CLOSING;
		conn->closing_since = fz.now_ms;
	}
}

/* A counter, or with stuck the same draw sixteen times over. */
static void
fake_random(void *ctx, uint8_t *buf, size_t n)
{
	uint64_t v = fz.stuck ? fz.draws / 16 : fz.draws;

	fz.draws++;
	for (size_t i = 0; i < n; i++)
		buf[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : (uint8_t)0xa5;
}

/* What main.c's sig_ice_cb does, with the connection's Host. */
static json_t *
fake_ice_config(void *ctx, void *c, const char *peer_id)
{
	struct conn *conn = conn_of(c);
	const struct conf *cf = fz.conf2 ? conf2 : conf;
	json_t *rest;

	FUZZ_ASSERT(strlen(peer_id) == SIG_ID_LEN);
	if (fz.no_ice)
		return NULL;
	/* What /api/turn answers for the same Host, while we are here. */
	rest = ice_turn_rest(cf, conn->host, peer_id,
			     (int64_t)(fz.wall_ms / 1000));
	FUZZ_ASSERT(rest == NULL || json_is_object(rest));
	json_decref(rest);
	return ice_config(cf, conn->host, peer_id,
			  (int64_t)(fz.wall_ms / 1000));
}

static const struct sig_ops ops = {
	.send = fake_send,
	.close = fake_close,
	.random = fake_random,
	.ice_config = fake_ice_config,
	.ctx = NULL,
};

static void
config_from(uint8_t setup, struct sig_config *cfg)
{
	static const unsigned int peers[] = { 2, 3, 8, 0 };
	static const unsigned int rooms[] = { 1, 2, 1000, 0 };
	static const unsigned int rate[][3] = {
		{ 1000, 1000, 20 }, { 1, 2, 3 }, { 20, 60, 20 }, { 0, 0, 0 }
	};

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_peers_per_room = peers[setup & 3];
	cfg->max_rooms = rooms[(setup >> 2) & 3];
	cfg->rate = rate[(setup >> 4) & 3][0];
	cfg->burst = rate[(setup >> 4) & 3][1];
	cfg->abuse_limit = rate[(setup >> 4) & 3][2];
	cfg->token_secret = (setup & 0x40) ? TOKEN_SECRET : NULL;
}

static void
conn_connect(struct conn *conn, const uint8_t *host, size_t len)
{
	if (conn->state != CONN_GONE)
		return;
	/* ws.c keeps 255 bytes of the Host header. */
	if (len >= sizeof(conn->host))
		len = sizeof(conn->host) - 1;
	memcpy(conn->host, host, len);
	conn->host[len] = '\0';
	conn->queued = 0;
	conn->peer = sig_connect(fz.hub, conn);
	FUZZ_ASSERT(conn->peer != NULL);
	conn->state = CONN_OPEN;
}

/* ws_conn_free(): the one place a connection ends. */
static void
conn_end(struct conn *conn)
{
	struct sig_peer *peer = conn->peer;

	if (conn->state == CONN_GONE)
		return;
	/* Gone first: the others hear peer-left, conn must hear nothing. */
	conn->state = CONN_GONE;
	conn->peer = NULL;
	sig_disconnect(fz.hub, peer);
}

/* What the event loop does once a callback has returned. */
static void
conns_settle(void)
{
	for (int i = 0; i < NCONNS; i++) {
		struct conn *conn = &fz.conns[i];

		if (conn->state == CONN_DROPPING ||
		    (conn->state == CONN_CLOSING &&
		     fz.now_ms - conn->closing_since >= GRACE_MS))
			conn_end(conn);
	}
}

/* Give a JSON object naming a valid room a valid token for it. */
static char *
with_token(const uint8_t *text, size_t len, size_t *outlen)
{
	char token[128], *out = NULL;
	json_error_t jerr;
	json_t *msg, *room;

	if ((msg = json_loadb((const char *)text, len, 0, &jerr)) == NULL)
		return NULL;
	room = json_object_get(msg, "room");
	if (json_is_object(msg) && json_is_string(room) &&
	    sig_token_make(TOKEN_SECRET, json_string_value(room),
			   (int64_t)(fz.wall_ms / 1000) + 3600, token,
			   sizeof(token)) == 0 &&
	    json_object_set_new(msg, "token", json_string(token)) == 0 &&
	    (out = json_dumps(msg, JSON_COMPACT)) != NULL)
		*outlen = strlen(out);
	json_decref(msg);
	return out;
}

/* ws_msg_cb(): a text message arrives on conn. */
static void
conn_message(struct conn *conn, const uint8_t *text, size_t len)
{
	bool valid = ws_utf8_valid(text, len) != 0;

	FUZZ_ASSERT(valid == utf8_reference(text, len));
	if (len > MAX_MESSAGE || !valid) {
		/* wslay's 1009, our 1007 */
		if (conn->state == CONN_OPEN) {
			conn->state = CONN_CLOSING;
			conn->closing_since = fz.now_ms;
		}
		return;
	}
	if (conn->state != CONN_OPEN)
		return;
	sig_message(fz.hub, conn->peer, (const char *)text, len, fz.now_ms,
		    fz.wall_ms);
}

static void
check_gauges(void)
{
	const struct sig_stats *st = sig_hub_stats(fz.hub);
	uint64_t live = 0;

	for (int i = 0; i < NCONNS; i++)
		live += fz.conns[i].state != CONN_GONE;
	FUZZ_ASSERT(st->connections == live);
	FUZZ_ASSERT(st->peers <= live);
	FUZZ_ASSERT(st->rooms <= st->peers);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, LOG_TARGET_STDERR, 0);
	conf = fuzz_conf_text(conf_text);
	conf2 = fuzz_conf_text(conf2_text);
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
	fz.now_ms = START_MS;
	fz.wall_ms = START_WALL_MS;
	fz.stuck = (*p & 0x80) != 0;
	config_from(*p++, &cfg);
	if ((fz.hub = sig_hub_new(&ops, &cfg)) == NULL)
		abort();

	while (end - p >= 4 && nrecords++ < MAX_RECORDS) {
		uint8_t ctl = p[0], adv = p[1];
		size_t len = (size_t)(p[2] << 8 | p[3]);
		struct conn *conn = &fz.conns[ctl & CTL_CONN];
		const uint8_t *payload;

		p += 4;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		payload = p;
		p += len;

		if (adv > 0) {
			uint64_t step = adv < 128
						? adv * UINT64_C(10)
						: (adv - 127) * UINT64_C(1000);

			fz.now_ms += step;
			fz.wall_ms += step;
			for (int i = 0; i < NCONNS; i++)
				fz.conns[i].queued = 0;
			conns_settle();
		}
		fz.no_ice = (ctl & CTL_NO_ICE) != 0;
		fz.conf2 = (ctl & CTL_CONF2) != 0;
		switch ((ctl >> CTL_OP_SHIFT) & 3) {
		case 0: {
			char *fixed = NULL;
			size_t fixed_len = 0;

			conn_connect(conn, (const uint8_t *)"turn.example.org",
				     16);
			if ((ctl & CTL_TOKEN) &&
			    (fixed = with_token(payload, len, &fixed_len)) !=
				    NULL)
				conn_message(conn, (const uint8_t *)fixed,
					     fixed_len);
			else
				conn_message(conn, payload, len);
			free(fixed);
			break;
		}
		case 1:
			conn_connect(conn, payload, len);
			break;
		case 2:
			conn_end(conn);
			break;
		case 3:
			config_from(len > 0 ? payload[0] : 0, &cfg);
			FUZZ_ASSERT(sig_hub_configure(fz.hub, &cfg) == 0);
			break;
		}
		conns_settle();
		check_gauges();
	}

	for (int i = 0; i < NCONNS; i++)
		conn_end(&fz.conns[i]);
	check_gauges();
	sig_hub_free(fz.hub);
	return 0;
}
