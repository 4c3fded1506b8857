/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sig.c: unit tests of the signaling protocol (src/sig.c).
 *
 * A fake I/O side records every message the hub sends, per connection,
 * and every close; the tests parse the messages back with jansson and
 * look at their fields.  Randomness is a counter that a test can hold
 * still to force id collisions; clocks are plain numbers.  No sockets.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sig.h"
#include "unit.h"

#define MAX_SENT   2048
#define MAX_CLOSES 64
#define WALL_MS    UINT64_C(1700000000123) /* the fake wall clock */
#define NOW        INT64_C(1700000000)     /* WALL_MS in seconds */

struct sent {
	void *conn;
	char *text;
};

struct closed {
	void *conn;
	int code;
	char reason[64];
};

/* The fake I/O side. */
struct fake {
	struct sent sent[MAX_SENT];
	size_t nsent;
	struct closed closes[MAX_CLOSES];
	size_t nclosed;
	uint64_t draw;      /* the random counter */
	unsigned int stuck; /* draws that repeat the previous one */
	void *full_conn;    /* send to it fails as a full queue */
	bool ice;           /* ice_config returns an object */
	char ice_peer[SIG_ID_LEN + 1];
	unsigned int ice_calls;
	void *ice_conn;
};

static struct fake fake;
static uint64_t now_ms = 1000; /* the fake monotonic clock */
static int conns[16];          /* their addresses are the connections */

#define CONN(i) ((void *)&conns[i])

static int
fake_send(void *ctx, void *conn, const char *text, size_t len)
{
	struct fake *f = ctx;

	CHECK(text[len] == '\0');
	CHECK_INT(strlen(text), len);
	if (conn == f->full_conn)
		return -1;
	if (f->nsent == MAX_SENT) {
		fprintf(stderr, "fake_send: too many messages\n");
		return -1;
	}
	f->sent[f->nsent].conn = conn;
	f->sent[f->nsent].text = strdup(text);
	f->nsent++;
	return 0;
}

static void
fake_close(void *ctx, void *conn, int code, const char *reason)
{
	struct fake *f = ctx;

	if (f->nclosed == MAX_CLOSES)
		return;
	f->closes[f->nclosed].conn = conn;
	f->closes[f->nclosed].code = code;
	snprintf(f->closes[f->nclosed].reason,
		 sizeof(f->closes[f->nclosed].reason), "%s", reason);
	f->nclosed++;
}

/* Each draw is the counter's bytes after a constant: distinct draws
 * never repeat, and while stuck the previous draw comes again. */
static void
fake_random(void *ctx, uint8_t *buf, size_t n)
{
	struct fake *f = ctx;
	size_t i;

	if (f->stuck > 0 && f->draw > 0)
		f->stuck--;
	else
		f->draw++;
	for (i = 0; i < n; i++)
		buf[i] = i < 8 ? (uint8_t)(f->draw >> (8 * i)) : (uint8_t)0xa5;
}

static json_t *
fake_ice_config(void *ctx, void *conn, const char *peer_id)
{
	struct fake *f = ctx;

	f->ice_calls++;
	f->ice_conn = conn;
	snprintf(f->ice_peer, sizeof(f->ice_peer), "%s", peer_id);
	if (!f->ice)
		return NULL;
	return json_pack("{s:[{s:[s], s:s, s:s}], s:s}", "iceServers", "urls",
			 "turn:turn.example.org:3478", "username",
			 "1700086400:abc", "credential", "secret",
			 "iceTransportPolicy", "relay");
}

static const struct sig_ops ops = {
	.send = fake_send,
	.close = fake_close,
	.random = fake_random,
	.ice_config = fake_ice_config,
	.ctx = &fake,
};

static const struct sig_config roomy = {
	.max_rooms = 100,
	.max_peers_per_room = 8,
	.rate = 1000,
	.burst = 1000,
	.abuse_limit = 20,
	.token_secret = NULL,
};

static void
fake_clear(void)
{
	size_t i;

	for (i = 0; i < fake.nsent; i++)
		free(fake.sent[i].text);
	fake.nsent = 0;
	fake.nclosed = 0;
	fake.full_conn = NULL;
}

static void
msg(struct sig_hub *hub, struct sig_peer *peer, const char *text)
{
	sig_message(hub, peer, text, strlen(text), now_ms, WALL_MS);
}

/* Send a message built with json_pack(fmt, ...). */
static void
msgf(struct sig_hub *hub, struct sig_peer *peer, const char *fmt, ...)
{
	json_error_t err;
	va_list ap;
	json_t *m;
	char *text;

	va_start(ap, fmt);
	m = json_vpack_ex(&err, 0, fmt, ap);
	va_end(ap);
	if (m == NULL) {
		fprintf(stderr, "msgf: %s: %s\n", fmt, err.text);
		CHECK(m != NULL);
		return;
	}
	text = json_dumps(m, JSON_COMPACT);
	msg(hub, peer, text);
	free(text);
	json_decref(m);
}

/* How many messages went to conn; with type, of that type only. */
static size_t
count_to(void *conn, const char *type)
{
	size_t i, n = 0;
	json_t *m;

	for (i = 0; i < fake.nsent; i++) {
		if (fake.sent[i].conn != conn)
			continue;
		if (type == NULL) {
			n++;
			continue;
		}
		m = json_loads(fake.sent[i].text, 0, NULL);
		if (m != NULL &&
		    strcmp(json_string_value(json_object_get(m, "type")),
			   type) == 0)
			n++;
		json_decref(m);
	}
	return n;
}

/* The last message to conn, parsed (the caller frees it), or NULL. */
static json_t *
last_to(void *conn)
{
	size_t i;

	for (i = fake.nsent; i > 0; i--)
		if (fake.sent[i - 1].conn == conn)
			return json_loads(fake.sent[i - 1].text, 0, NULL);
	return NULL;
}

static const char *
str(const json_t *m, const char *key)
{
	return json_string_value(json_object_get(m, key));
}

/* The last message to conn is an error with code. */
#define CHECK_ERROR(conn, code)                                                \
	do {                                                                   \
		json_t *e_ = last_to(conn);                                    \
		CHECK_STR(str(e_, "type"), "error");                           \
		CHECK_STR(str(e_, "code"), code);                              \
		CHECK(json_is_string(json_object_get(e_, "message")));         \
		json_decref(e_);                                               \
	} while (0)

/* Join peer to room with name (NULL: none); returns its id into id (""
 * when no welcome came). */
static void
join(struct sig_hub *hub, struct sig_peer *peer, void *conn, const char *room,
     const char *name, char id[SIG_ID_LEN + 1])
{
	json_t *w;

	if (name != NULL)
		msgf(hub, peer, "{s:s, s:s, s:s}", "type", "join", "room", room,
		     "name", name);
	else
		msgf(hub, peer, "{s:s, s:s}", "type", "join", "room", room);
	w = last_to(conn);
	id[0] = '\0';
	if (w != NULL && strcmp(str(w, "type"), "welcome") == 0)
		snprintf(id, SIG_ID_LEN + 1, "%s", str(w, "id"));
	json_decref(w);
}

static bool
is_id(const char *id)
{
	size_t i;

	if (id == NULL || strlen(id) != SIG_ID_LEN)
		return false;
	for (i = 0; i < SIG_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

static void
test_names(void)
{
	CHECK_STR(sig_error_name(SIG_ERR_BAD_JSON), "bad-json");
	CHECK_STR(sig_error_name(SIG_ERR_FORBIDDEN), "forbidden");
	CHECK(sig_error_name(SIG_NERRORS) == NULL);
	CHECK_STR(sig_type_name(SIG_TYPE_JOIN), "join");
	CHECK_STR(sig_type_name(SIG_TYPE_PING), "ping");
	CHECK(sig_type_name(SIG_NTYPES) == NULL);
}

/* Two then three peers: welcome, peer lists in join order with names
 * and states, peer-joined, iceServers. */
static void
test_join(void)
{
	struct sig_hub *hub = sig_hub_new(&ops, &roomy);
	const struct sig_stats *st = sig_hub_stats(hub);
	struct sig_peer *a, *b, *c, *d;
	char ida[SIG_ID_LEN + 1], idb[SIG_ID_LEN + 1], idc[SIG_ID_LEN + 1];
	char idd[SIG_ID_LEN + 1];
	json_t *m, *peers, *p;

	fake_clear();
	fake.ice = true;
	a = sig_connect(hub, CONN(0));
	b = sig_connect(hub, CONN(1));
	c = sig_connect(hub, CONN(2));
	CHECK_INT(st->connections, 3);
	CHECK_INT(st->peers, 0);

	join(hub, a, CONN(0), "lobby", "alice", ida);
	CHECK(is_id(ida));
	CHECK_STR(fake.ice_peer, ida);
	CHECK(fake.ice_conn == CONN(0));
	m = last_to(CONN(0));
	CHECK_STR(str(m, "room"), "lobby");
	CHECK(json_array_size(json_object_get(m, "peers")) == 0);
	CHECK_STR(str(m, "iceTransportPolicy"), "relay");
	p = json_array_get(json_object_get(m, "iceServers"), 0);
	CHECK_STR(str(p, "username"), "1700086400:abc");
	CHECK_STR(str(p, "credential"), "secret");
	CHECK_STR(json_string_value(
			  json_array_get(json_object_get(p, "urls"), 0)),
		  "turn:turn.example.org:3478");
	json_decref(m);
	CHECK_INT(st->peers, 1);
	CHECK_INT(st->rooms, 1);
	msgf(hub, a, "{s:s, s:{s:b}}", "type", "state", "state", "muted", 1);

	/* b has no name; ice_config gives nothing: defaults. */
	fake.ice = false;
	join(hub, b, CONN(1), "lobby", NULL, idb);
	CHECK(is_id(idb));
	CHECK(strcmp(ida, idb) != 0);
	m = last_to(CONN(1));
	CHECK(json_array_size(json_object_get(m, "iceServers")) == 0);
	CHECK(json_is_array(json_object_get(m, "iceServers")));
	CHECK_STR(str(m, "iceTransportPolicy"), "all");
	peers = json_object_get(m, "peers");
	CHECK_INT(json_array_size(peers), 1);
	p = json_array_get(peers, 0);
	CHECK_STR(str(p, "id"), ida);
	CHECK_STR(str(p, "name"), "alice");
	CHECK(json_is_true(
		json_object_get(json_object_get(p, "state"), "muted")));
	json_decref(m);
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "peer-joined");
	CHECK_STR(str(m, "id"), idb);
	CHECK(json_object_get(m, "name") == NULL);
	json_decref(m);
	CHECK_INT(count_to(CONN(1), "peer-joined"), 0);

	fake.ice = true;
	join(hub, c, CONN(2), "lobby", "carol", idc);
	CHECK(is_id(idc));
	m = last_to(CONN(2));
	peers = json_object_get(m, "peers");
	CHECK_INT(json_array_size(peers), 2);
	CHECK_STR(str(json_array_get(peers, 0), "id"), ida);
	CHECK_STR(str(json_array_get(peers, 1), "id"), idb);
	p = json_array_get(peers, 1);
	CHECK(json_object_get(p, "name") == NULL);
	CHECK(json_is_object(json_object_get(p, "state")));
	CHECK_INT(json_object_size(json_object_get(p, "state")), 0);
	json_decref(m);
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "peer-joined");
	CHECK_STR(str(m, "id"), idc);
	CHECK_STR(str(m, "name"), "carol");
	json_decref(m);
	m = last_to(CONN(1));
	CHECK_STR(str(m, "type"), "peer-joined");
	CHECK_STR(str(m, "id"), idc);
	json_decref(m);
	CHECK_INT(count_to(CONN(2), NULL), 1);
	CHECK_INT(st->peers, 3);
	CHECK_INT(st->rooms, 1);
	CHECK_INT(st->messages[SIG_TYPE_JOIN], 3);
	CHECK_INT(fake.ice_calls >= 3, 1);

	/* Unknown fields are ignored; when a key repeats, the last wins. */
	d = sig_connect(hub, CONN(3));
	msg(hub, d,
	    "{\"type\":\"join\",\"room\":\"x/y\",\"room\":\"other\",\"x\":1}");
	m = last_to(CONN(3));
	CHECK_STR(str(m, "type"), "welcome");
	CHECK_STR(str(m, "room"), "other");
	snprintf(idd, sizeof(idd), "%s", str(m, "id"));
	json_decref(m);
	CHECK(is_id(idd));
	CHECK_INT(st->rooms, 2);

	sig_hub_free(hub); /* with peers in rooms: nothing leaks */
	fake_clear();
}

/* Offer, answer and candidate reach only the addressed peer, with the
 * server's from. */
static void
test_relay(void)
{
	struct sig_hub *hub = sig_hub_new(&ops, &roomy);
	const struct sig_stats *st = sig_hub_stats(hub);
	struct sig_peer *a, *b, *c, *z;
	char ida[SIG_ID_LEN + 1], idb[SIG_ID_LEN + 1], idc[SIG_ID_LEN + 1];
	char idz[SIG_ID_LEN + 1];
	json_t *m;

	fake_clear();
	a = sig_connect(hub, CONN(0));
	b = sig_connect(hub, CONN(1));
	c = sig_connect(hub, CONN(2));
	z = sig_connect(hub, CONN(3));
	join(hub, a, CONN(0), "r", "alice", ida);
	join(hub, b, CONN(1), "r", "bob", idb);
	join(hub, c, CONN(2), "r", NULL, idc);
	join(hub, z, CONN(3), "elsewhere", NULL, idz);
	fake_clear();

	msgf(hub, a, "{s:s, s:s, s:s, s:s, s:i}", "type", "offer", "to", idb,
	     "sdp", "v=0\r\n", "from", "spoofed", "extra", 7);
	CHECK_INT(fake.nsent, 1);
	CHECK_INT(count_to(CONN(1), "offer"), 1);
	m = last_to(CONN(1));
	CHECK_STR(str(m, "from"), ida);
	CHECK_STR(str(m, "sdp"), "v=0\r\n");
	CHECK(json_object_get(m, "to") == NULL);
	CHECK_INT(json_integer_value(json_object_get(m, "extra")), 7);
	json_decref(m);

	msgf(hub, b, "{s:s, s:s, s:s}", "type", "answer", "to", ida, "sdp",
	     "v=0 answer");
	CHECK_INT(fake.nsent, 2);
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "answer");
	CHECK_STR(str(m, "from"), idb);
	CHECK_STR(str(m, "sdp"), "v=0 answer");
	json_decref(m);

	msgf(hub, a, "{s:s, s:s, s:{s:s, s:i}}", "type", "candidate", "to", idb,
	     "candidate", "candidate", "candidate:1 1 udp 1 1.2.3.4 5 typ host",
	     "sdpMLineIndex", 0);
	CHECK_INT(fake.nsent, 3);
	m = last_to(CONN(1));
	CHECK_STR(str(m, "type"), "candidate");
	CHECK_STR(str(m, "from"), ida);
	CHECK(json_is_object(json_object_get(m, "candidate")));
	json_decref(m);

	/* End of candidates: null, which must be there. */
	msgf(hub, a, "{s:s, s:s, s:n}", "type", "candidate", "to", idc,
	     "candidate");
	CHECK_INT(fake.nsent, 4);
	m = last_to(CONN(2));
	CHECK_STR(str(m, "type"), "candidate");
	CHECK(json_is_null(json_object_get(m, "candidate")));
	CHECK_STR(str(m, "from"), ida);
	json_decref(m);
	CHECK_INT(count_to(CONN(0), NULL), 1); /* only the answer */
	CHECK_INT(count_to(CONN(3), NULL), 0);
	CHECK_INT(st->relayed, 4);
	CHECK_INT(st->messages[SIG_TYPE_OFFER], 1);
	CHECK_INT(st->messages[SIG_TYPE_ANSWER], 1);
	CHECK_INT(st->messages[SIG_TYPE_CANDIDATE], 2);

	/* unknown-peer: another room, nobody, oneself, not an id. */
	fake_clear();
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "offer", "to", idz, "sdp", "x");
	CHECK_ERROR(CONN(0), "unknown-peer");
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "offer", "to",
	     "0123456789abcdef0123456789abcdef", "sdp", "x");
	CHECK_ERROR(CONN(0), "unknown-peer");
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "offer", "to", ida, "sdp", "x");
	CHECK_ERROR(CONN(0), "unknown-peer");
	msgf(hub, a, "{s:s, s:s, s:n}", "type", "candidate", "to", "abc",
	     "candidate");
	CHECK_ERROR(CONN(0), "unknown-peer");
	CHECK_INT(count_to(CONN(3), NULL), 0);
	CHECK_INT(count_to(CONN(0), "error"), 4);

	/* bad-message: to missing or not a string, sdp or candidate wrong. */
	msgf(hub, a, "{s:s, s:s}", "type", "offer", "sdp", "x");
	CHECK_ERROR(CONN(0), "bad-message");
	msgf(hub, a, "{s:s, s:i, s:s}", "type", "offer", "to", 5, "sdp", "x");
	CHECK_ERROR(CONN(0), "bad-message");
	msgf(hub, a, "{s:s, s:s}", "type", "answer", "to", idb);
	CHECK_ERROR(CONN(0), "bad-message");
	msgf(hub, a, "{s:s, s:s, s:i}", "type", "answer", "to", idb, "sdp", 1);
	CHECK_ERROR(CONN(0), "bad-message");
	msgf(hub, a, "{s:s, s:s}", "type", "candidate", "to", idb);
	CHECK_ERROR(CONN(0), "bad-message");
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "candidate", "to", idb,
	     "candidate", "candidate:1");
	CHECK_ERROR(CONN(0), "bad-message");
	CHECK_INT(count_to(CONN(1), NULL), 0);
	CHECK_INT(st->relayed, 4);
	CHECK_INT(st->messages[SIG_TYPE_OFFER], 1);
	CHECK_INT(st->errors[SIG_ERR_UNKNOWN_PEER], 4);
	CHECK_INT(st->errors[SIG_ERR_BAD_MESSAGE], 6);

	/* A full queue: not delivered, not counted, nothing else happens. */
	fake_clear();
	fake.full_conn = CONN(1);
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "offer", "to", idb, "sdp", "x");
	CHECK_INT(fake.nsent, 0);
	CHECK_INT(st->relayed, 4);
	CHECK_INT(st->messages[SIG_TYPE_OFFER], 2);

	sig_disconnect(hub, a);
	sig_disconnect(hub, b);
	sig_disconnect(hub, c);
	sig_disconnect(hub, z);
	CHECK_INT(st->connections, 0);
	CHECK_INT(st->peers, 0);
	CHECK_INT(st->rooms, 0);
	sig_hub_free(hub);
	fake_clear();
}

static void
test_chat_state(void)
{
	struct sig_hub *hub = sig_hub_new(&ops, &roomy);
	const struct sig_stats *st = sig_hub_stats(hub);
	struct sig_peer *a, *b, *c, *z;
	char ida[SIG_ID_LEN + 1], idb[SIG_ID_LEN + 1], idc[SIG_ID_LEN + 1];
	char idz[SIG_ID_LEN + 1], *big;
	json_t *m, *p;
	size_t i;

	fake_clear();
	a = sig_connect(hub, CONN(0));
	b = sig_connect(hub, CONN(1));
	c = sig_connect(hub, CONN(2));
	z = sig_connect(hub, CONN(3));
	join(hub, a, CONN(0), "r", "alice", ida);
	join(hub, b, CONN(1), "r", NULL, idb);
	join(hub, z, CONN(3), "s", NULL, idz);
	fake_clear();

	msgf(hub, a, "{s:s, s:s}", "type", "chat", "text", "hello \xc3\xa9");
	CHECK_INT(fake.nsent, 2);
	for (i = 0; i < 2; i++) {
		m = last_to(CONN(i));
		CHECK_STR(str(m, "type"), "chat");
		CHECK_STR(str(m, "from"), ida);
		CHECK_STR(str(m, "name"), "alice");
		CHECK_STR(str(m, "text"), "hello \xc3\xa9");
		CHECK(json_is_integer(json_object_get(m, "ts")));
		CHECK_INT(json_integer_value(json_object_get(m, "ts")),
			  WALL_MS);
		json_decref(m);
	}
	msgf(hub, b, "{s:s, s:s}", "type", "chat", "text", "hi");
	m = last_to(CONN(0));
	CHECK_STR(str(m, "from"), idb);
	CHECK(json_object_get(m, "name") == NULL);
	json_decref(m);
	CHECK_INT(count_to(CONN(3), NULL), 0);
	CHECK_INT(st->chat_fanout, 4);
	CHECK_INT(st->messages[SIG_TYPE_CHAT], 2);

	/* A full queue does not stop the fan-out to the others. */
	fake.full_conn = CONN(0);
	msgf(hub, b, "{s:s, s:s}", "type", "chat", "text", "again");
	CHECK_INT(st->chat_fanout, 5);
	CHECK_INT(count_to(CONN(1), "chat"), 3);
	fake.full_conn = NULL;

	/* 4096 characters (12288 bytes) pass, 4097 are too large. */
	big = malloc(3 * 4097 + 1);
	for (i = 0; i < 4096; i++)
		memcpy(big + 3 * i, "\xe4\xb8\xad", 3);
	big[3 * 4096] = '\0';
	fake_clear();
	msgf(hub, a, "{s:s, s:s}", "type", "chat", "text", big);
	m = last_to(CONN(1));
	CHECK_STR(str(m, "type"), "chat");
	CHECK_INT(json_string_length(json_object_get(m, "text")), 3 * 4096);
	json_decref(m);
	memset(big, 'a', 4097);
	big[4097] = '\0';
	fake_clear();
	msgf(hub, a, "{s:s, s:s}", "type", "chat", "text", big);
	CHECK_ERROR(CONN(0), "too-large");
	CHECK_INT(count_to(CONN(1), NULL), 0);
	free(big);
	msgf(hub, a, "{s:s, s:s}", "type", "chat", "text", "");
	CHECK_ERROR(CONN(0), "bad-message");
	msgf(hub, a, "{s:s}", "type", "chat");
	CHECK_ERROR(CONN(0), "bad-message");
	msgf(hub, a, "{s:s, s:[]}", "type", "chat", "text");
	CHECK_ERROR(CONN(0), "bad-message");
	CHECK_INT(count_to(CONN(1), NULL), 0);

	/* State: to the others only, kept for later welcomes. */
	fake_clear();
	msgf(hub, b, "{s:s, s:{s:b, s:[i]}}", "type", "state", "state",
	     "camera", 0, "hands", 1);
	CHECK_INT(count_to(CONN(1), NULL), 0);
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "state");
	CHECK_STR(str(m, "from"), idb);
	CHECK(json_is_false(
		json_object_get(json_object_get(m, "state"), "camera")));
	json_decref(m);
	msgf(hub, b, "{s:s, s:{s:s}}", "type", "state", "state", "v", "2");
	join(hub, c, CONN(2), "r", NULL, idc);
	m = last_to(CONN(2));
	p = json_array_get(json_object_get(m, "peers"), 1);
	CHECK_STR(str(p, "id"), idb);
	CHECK_STR(str(json_object_get(p, "state"), "v"), "2");
	CHECK_INT(json_object_size(json_object_get(p, "state")), 1);
	p = json_array_get(json_object_get(m, "peers"), 0);
	CHECK_INT(json_object_size(json_object_get(p, "state")), 0);
	json_decref(m);
	CHECK_INT(st->messages[SIG_TYPE_STATE], 2);

	/* {"k":"..."} is 8 bytes plus the value: 1016 fit, 1017 do not. */
	big = malloc(1018);
	memset(big, 'x', 1016);
	big[1016] = '\0';
	fake_clear();
	msgf(hub, a, "{s:s, s:{s:s}}", "type", "state", "state", "k", big);
	CHECK_INT(count_to(CONN(1), "state"), 1);
	memset(big, 'x', 1017);
	big[1017] = '\0';
	msgf(hub, a, "{s:s, s:{s:s}}", "type", "state", "state", "k", big);
	CHECK_ERROR(CONN(0), "too-large");
	CHECK_INT(count_to(CONN(1), "state"), 1);
	free(big);
	msgf(hub, a, "{s:s, s:[]}", "type", "state", "state");
	CHECK_ERROR(CONN(0), "bad-message");
	msgf(hub, a, "{s:s}", "type", "state");
	CHECK_ERROR(CONN(0), "bad-message");
	CHECK_INT(st->errors[SIG_ERR_TOO_LARGE], 2);
	CHECK_INT(st->messages[SIG_TYPE_STATE], 3);

	sig_hub_free(hub);
	fake_clear();
}

/* Leave, abrupt drops, empty rooms, reuse of a room name. */
static void
test_leave(void)
{
	struct sig_hub *hub = sig_hub_new(&ops, &roomy);
	const struct sig_stats *st = sig_hub_stats(hub);
	struct sig_peer *a, *b, *c, *d;
	char ida[SIG_ID_LEN + 1], idb[SIG_ID_LEN + 1], idc[SIG_ID_LEN + 1];
	char idd[SIG_ID_LEN + 1];
	json_t *m;

	fake_clear();
	a = sig_connect(hub, CONN(0));
	b = sig_connect(hub, CONN(1));
	c = sig_connect(hub, CONN(2));
	join(hub, a, CONN(0), "r", NULL, ida);
	join(hub, b, CONN(1), "r", NULL, idb);
	join(hub, c, CONN(2), "r", NULL, idc);
	fake_clear();

	msg(hub, a, "{\"type\":\"leave\"}");
	CHECK_INT(fake.nclosed, 1);
	CHECK(fake.closes[0].conn == CONN(0));
	CHECK_INT(fake.closes[0].code, SIG_CLOSE_NORMAL);
	CHECK_STR(fake.closes[0].reason, "bye");
	CHECK_INT(count_to(CONN(0), NULL), 0);
	m = last_to(CONN(1));
	CHECK_STR(str(m, "type"), "peer-left");
	CHECK_STR(str(m, "id"), ida);
	json_decref(m);
	CHECK_INT(count_to(CONN(2), "peer-left"), 1);
	CHECK_INT(st->peers, 2);
	CHECK_INT(st->connections, 3);
	CHECK_INT(st->messages[SIG_TYPE_LEAVE], 1);
	/* What a leaving peer sends before its close is dropped. */
	msgf(hub, a, "{s:s, s:s}", "type", "chat", "text", "still here?");
	msg(hub, a, "{\"type\":\"ping\"}");
	CHECK_INT(count_to(CONN(0), NULL), 0);
	CHECK_INT(count_to(CONN(1), "chat"), 0);
	sig_disconnect(hub, a);
	CHECK_INT(count_to(CONN(1), "peer-left"), 1);
	CHECK_INT(count_to(CONN(2), "peer-left"), 1);
	CHECK_INT(st->connections, 2);

	/* A later joiner sees the rest in join order; a is unknown now. */
	d = sig_connect(hub, CONN(3));
	join(hub, d, CONN(3), "r", NULL, idd);
	m = last_to(CONN(3));
	CHECK_INT(json_array_size(json_object_get(m, "peers")), 2);
	CHECK_STR(str(json_array_get(json_object_get(m, "peers"), 0), "id"),
		  idb);
	CHECK_STR(str(json_array_get(json_object_get(m, "peers"), 1), "id"),
		  idc);
	json_decref(m);
	msgf(hub, b, "{s:s, s:s, s:s}", "type", "offer", "to", ida, "sdp", "x");
	CHECK_ERROR(CONN(1), "unknown-peer");

	/* An abrupt drop. */
	fake_clear();
	sig_disconnect(hub, c);
	m = last_to(CONN(1));
	CHECK_STR(str(m, "type"), "peer-left");
	CHECK_STR(str(m, "id"), idc);
	json_decref(m);
	CHECK_INT(count_to(CONN(3), "peer-left"), 1);
	CHECK_INT(fake.nclosed, 0);
	CHECK_INT(st->peers, 2);
	CHECK_INT(st->rooms, 1);

	/* The last one out frees the room; its name can be taken again. */
	sig_disconnect(hub, d);
	msg(hub, b, "{\"type\":\"leave\"}");
	CHECK_INT(st->rooms, 0);
	CHECK_INT(st->peers, 0);
	sig_disconnect(hub, b);
	CHECK_INT(st->connections, 0);
	a = sig_connect(hub, CONN(0));
	join(hub, a, CONN(0), "r", NULL, ida);
	CHECK(is_id(ida));
	CHECK_INT(st->rooms, 1);
	sig_disconnect(hub, a);
	CHECK_INT(st->rooms, 0);

	/* A connection that never joined goes quietly. */
	fake_clear();
	a = sig_connect(hub, CONN(0));
	sig_disconnect(hub, a);
	CHECK_INT(fake.nsent, 0);
	CHECK_INT(st->connections, 0);
	sig_hub_free(hub);
	fake_clear();
}

static void
test_limits(void)
{
	struct sig_config cfg = roomy;
	struct sig_hub *hub;
	const struct sig_stats *st;
	struct sig_peer *p[4];
	char id[4][SIG_ID_LEN + 1];
	int i;

	cfg.max_rooms = 2;
	cfg.max_peers_per_room = 2;
	hub = sig_hub_new(&ops, &cfg);
	st = sig_hub_stats(hub);
	fake_clear();
	for (i = 0; i < 4; i++)
		p[i] = sig_connect(hub, CONN(i));
	join(hub, p[0], CONN(0), "one", NULL, id[0]);
	join(hub, p[1], CONN(1), "one", NULL, id[1]);
	join(hub, p[2], CONN(2), "one", NULL, id[2]);
	CHECK_STR(id[2], "");
	CHECK_ERROR(CONN(2), "room-full");
	CHECK_INT(count_to(CONN(0), "peer-joined"), 1);
	join(hub, p[2], CONN(2), "two", NULL, id[2]);
	CHECK(is_id(id[2]));
	join(hub, p[3], CONN(3), "three", NULL, id[3]);
	CHECK_ERROR(CONN(3), "room-full");
	CHECK_INT(st->rooms, 2);
	CHECK_INT(st->errors[SIG_ERR_ROOM_FULL], 2);
	/* A room that empties makes place for another. */
	sig_disconnect(hub, p[2]);
	join(hub, p[3], CONN(3), "three", NULL, id[3]);
	CHECK(is_id(id[3]));

	/* A reload raises the bounds; nobody is disconnected. */
	cfg.max_peers_per_room = 3;
	CHECK_INT(sig_hub_configure(hub, &cfg), 0);
	p[2] = sig_connect(hub, CONN(2));
	join(hub, p[2], CONN(2), "one", NULL, id[2]);
	CHECK(is_id(id[2]));
	CHECK_INT(st->peers, 4);
	sig_hub_free(hub);
	fake_clear();
}

static void
test_errors(void)
{
	struct sig_hub *hub = sig_hub_new(&ops, &roomy);
	const struct sig_stats *st = sig_hub_stats(hub);
	struct sig_peer *a;
	char id[SIG_ID_LEN + 1];
	json_t *m;

	fake_clear();
	a = sig_connect(hub, CONN(0));
	msg(hub, a, "{");
	CHECK_ERROR(CONN(0), "bad-json");
	msg(hub, a, "");
	CHECK_ERROR(CONN(0), "bad-json");
	msg(hub, a, "{\"type\":\"ping\"} x");
	CHECK_ERROR(CONN(0), "bad-json");
	msg(hub, a, "3");
	CHECK_ERROR(CONN(0), "bad-message");
	msg(hub, a, "\"join\"");
	CHECK_ERROR(CONN(0), "bad-message");
	msg(hub, a, "[{\"type\":\"ping\"}]");
	CHECK_ERROR(CONN(0), "bad-message");
	msg(hub, a, "{}");
	CHECK_ERROR(CONN(0), "bad-message");
	msg(hub, a, "{\"type\":7}");
	CHECK_ERROR(CONN(0), "bad-message");
	msg(hub, a, "{\"type\":\"dance\"}");
	CHECK_ERROR(CONN(0), "unknown-type");
	msg(hub, a, "{\"type\":\"Ping\"}");
	CHECK_ERROR(CONN(0), "unknown-type");
	/* sig_message takes a length: no NUL is needed after the text. */
	sig_message(hub, a, "{\"type\":\"ping\"}garbage", 15, now_ms, WALL_MS);
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "pong");
	json_decref(m);

	/* Before join, only join and ping. */
	msg(hub, a, "{\"type\":\"ping\"}");
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "pong");
	json_decref(m);
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "offer", "to", "x", "sdp", "y");
	CHECK_ERROR(CONN(0), "not-joined");
	msgf(hub, a, "{s:s, s:s}", "type", "chat", "text", "hi");
	CHECK_ERROR(CONN(0), "not-joined");
	msgf(hub, a, "{s:s, s:{}}", "type", "state", "state");
	CHECK_ERROR(CONN(0), "not-joined");
	msg(hub, a, "{\"type\":\"leave\"}");
	CHECK_ERROR(CONN(0), "not-joined");
	CHECK_INT(fake.nclosed, 0);
	CHECK_INT(st->errors[SIG_ERR_NOT_JOINED], 4);
	CHECK_INT(st->messages[SIG_TYPE_PING], 2);
	CHECK_INT(st->messages[SIG_TYPE_LEAVE], 0);

	join(hub, a, CONN(0), "r", NULL, id);
	CHECK(is_id(id));
	join(hub, a, CONN(0), "r2", NULL, id);
	CHECK_ERROR(CONN(0), "already-joined");
	CHECK_INT(st->rooms, 1);
	msg(hub, a, "{\"type\":\"ping\"}");
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "pong");
	json_decref(m);

	CHECK_INT(st->errors[SIG_ERR_BAD_JSON], 3);
	CHECK_INT(st->errors[SIG_ERR_BAD_MESSAGE], 5);
	CHECK_INT(st->errors[SIG_ERR_UNKNOWN_TYPE], 2);
	CHECK_INT(st->errors[SIG_ERR_ALREADY_JOINED], 1);
	CHECK_INT(st->messages[SIG_TYPE_JOIN], 1);
	CHECK_INT(st->messages[SIG_TYPE_PING], 3);

	/* The I/O side's own errors. */
	sig_send_error(hub, a, SIG_ERR_TOO_LARGE, "Frame \"too\" big.");
	m = last_to(CONN(0));
	CHECK_STR(str(m, "code"), "too-large");
	CHECK_STR(str(m, "message"), "Frame \"too\" big.");
	json_decref(m);
	CHECK_INT(st->errors[SIG_ERR_TOO_LARGE], 1);
	sig_hub_free(hub);
	fake_clear();
}

/* Room names and display names. */
static void
test_join_fields(void)
{
	struct sig_hub *hub = sig_hub_new(&ops, &roomy);
	const struct sig_stats *st = sig_hub_stats(hub);
	struct sig_peer *a, *b;
	char id[SIG_ID_LEN + 1], idb[SIG_ID_LEN + 1];
	char room[SIG_ROOM_MAX + 2], name[4 * 65 + 1];
	json_t *m;
	int i;

	fake_clear();
	a = sig_connect(hub, CONN(0));
	memset(room, 'a', SIG_ROOM_MAX + 1);
	room[SIG_ROOM_MAX + 1] = '\0';
	join(hub, a, CONN(0), room, NULL, id);
	CHECK_ERROR(CONN(0), "bad-room");
	join(hub, a, CONN(0), "a/b", NULL, id);
	CHECK_ERROR(CONN(0), "bad-room");
	join(hub, a, CONN(0), "", NULL, id);
	CHECK_ERROR(CONN(0), "bad-room");
	join(hub, a, CONN(0), "caf\xc3\xa9", NULL, id);
	CHECK_ERROR(CONN(0), "bad-room");
	join(hub, a, CONN(0), "a b", NULL, id);
	CHECK_ERROR(CONN(0), "bad-room");
	msg(hub, a, "{\"type\":\"join\"}");
	CHECK_ERROR(CONN(0), "bad-room");
	msg(hub, a, "{\"type\":\"join\",\"room\":42}");
	CHECK_ERROR(CONN(0), "bad-room");
	CHECK_INT(st->errors[SIG_ERR_BAD_ROOM], 7);

	/* Names: 1 to 64 code points. */
	for (i = 0; i < 65; i++)
		memcpy(name + 3 * i, "\xe4\xb8\xad", 3);
	name[3 * 65] = '\0';
	join(hub, a, CONN(0), "r", name, id);
	CHECK_ERROR(CONN(0), "bad-message");
	for (i = 0; i < 65; i++)
		memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);
	name[4 * 65] = '\0';
	join(hub, a, CONN(0), "r", name, id);
	CHECK_ERROR(CONN(0), "bad-message");
	memset(name, 'n', 65);
	name[65] = '\0';
	join(hub, a, CONN(0), "r", name, id);
	CHECK_ERROR(CONN(0), "bad-message");
	join(hub, a, CONN(0), "r", "", id);
	CHECK_ERROR(CONN(0), "bad-message");
	msg(hub, a, "{\"type\":\"join\",\"room\":\"r\",\"name\":1}");
	CHECK_ERROR(CONN(0), "bad-message");
	msg(hub, a, "{\"type\":\"join\",\"room\":\"r\",\"name\":null}");
	CHECK_ERROR(CONN(0), "bad-message");
	CHECK_INT(st->rooms, 0);

	/* 64 four-byte characters, and a 64-character room: both fit. */
	for (i = 0; i < 64; i++)
		memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);
	name[4 * 64] = '\0';
	memcpy(room, "Az09._-", 7);
	room[SIG_ROOM_MAX] = '\0';
	join(hub, a, CONN(0), room, name, id);
	CHECK(is_id(id));
	m = last_to(CONN(0));
	CHECK_STR(str(m, "room"), room);
	json_decref(m);

	/* The other's view: 64 CJK characters in peer-joined and welcome. */
	b = sig_connect(hub, CONN(1));
	for (i = 0; i < 64; i++)
		memcpy(name + 3 * i, "\xe4\xb8\xad", 3);
	name[3 * 64] = '\0';
	join(hub, b, CONN(1), room, name, idb);
	CHECK(is_id(idb));
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "peer-joined");
	CHECK_STR(str(m, "name"), name);
	json_decref(m);
	m = last_to(CONN(1));
	CHECK_INT(json_string_length(json_object_get(
			  json_array_get(json_object_get(m, "peers"), 0),
			  "name")),
		  4 * 64);
	json_decref(m);
	sig_hub_free(hub);
	fake_clear();
}

/* Ids: 32 hex characters, unique, drawn again on a collision. */
static void
test_ids(void)
{
	struct sig_hub *hub = sig_hub_new(&ops, &roomy);
	const struct sig_stats *st = sig_hub_stats(hub);
	struct sig_peer *p[6];
	char id[6][SIG_ID_LEN + 1];
	int i, j;

	fake_clear();
	for (i = 0; i < 3; i++) {
		p[i] = sig_connect(hub, CONN(i));
		join(hub, p[i], CONN(i), i == 2 ? "other" : "r", NULL, id[i]);
		CHECK(is_id(id[i]));
	}
	/* The random source repeats its last draw twice: the next id is
	 * the third draw, not p[2]'s. */
	fake.stuck = 2;
	p[3] = sig_connect(hub, CONN(3));
	join(hub, p[3], CONN(3), "r", NULL, id[3]);
	CHECK(is_id(id[3]));
	CHECK_INT(fake.stuck, 0);
	p[4] = sig_connect(hub, CONN(4));
	join(hub, p[4], CONN(4), "r", NULL, id[4]);
	for (i = 0; i < 5; i++)
		for (j = i + 1; j < 5; j++)
			CHECK(strcmp(id[i], id[j]) != 0);
	/* A random source stuck for good: refused, and no room is left
	 * behind. */
	fake.stuck = 1000;
	p[5] = sig_connect(hub, CONN(5));
	join(hub, p[5], CONN(5), "new-room", NULL, id[5]);
	CHECK_STR(id[5], "");
	CHECK_ERROR(CONN(5), "room-full");
	CHECK_INT(st->rooms, 2);
	CHECK_INT(st->peers, 5);
	fake.stuck = 0;
	join(hub, p[5], CONN(5), "new-room", NULL, id[5]);
	CHECK(is_id(id[5]));
	CHECK_INT(st->rooms, 3);
	sig_hub_free(hub);
	fake_clear();
}

static void
test_rate(void)
{
	struct sig_config cfg = roomy;
	struct sig_hub *hub;
	const struct sig_stats *st;
	struct sig_peer *a, *b;
	char id[SIG_ID_LEN + 1];
	json_t *m;
	int i;

	cfg.rate = 2;
	cfg.burst = 3;
	cfg.abuse_limit = 4;
	hub = sig_hub_new(&ops, &cfg);
	st = sig_hub_stats(hub);
	fake_clear();
	now_ms = 50000;
	a = sig_connect(hub, CONN(0));
	b = sig_connect(hub, CONN(1));

	/* Bad messages count too: after two of them and one ping the
	 * burst is spent, and a join is refused unread. */
	msg(hub, a, "nope");
	msg(hub, a, "[]");
	msg(hub, a, "{\"type\":\"ping\"}");
	join(hub, a, CONN(0), "r", NULL, id);
	CHECK_STR(id, "");
	CHECK_ERROR(CONN(0), "rate-limited");
	CHECK_INT(st->peers, 0);
	CHECK_INT(st->messages[SIG_TYPE_JOIN], 0);
	/* Half a second brings one message back at 2 a second. */
	now_ms += 499;
	msg(hub, a, "{\"type\":\"ping\"}");
	CHECK_ERROR(CONN(0), "rate-limited");
	now_ms += 1;
	join(hub, a, CONN(0), "r", NULL, id);
	CHECK(is_id(id));
	/* Not in a row: limited, then good, then limited, no close. */
	msg(hub, a, "{\"type\":\"ping\"}");
	msg(hub, a, "{\"type\":\"ping\"}");
	msg(hub, a, "{\"type\":\"ping\"}");
	now_ms += 500;
	msg(hub, a, "{\"type\":\"ping\"}");
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "pong");
	json_decref(m);
	msg(hub, a, "{\"type\":\"ping\"}");
	msg(hub, a, "{\"type\":\"ping\"}");
	msg(hub, a, "{\"type\":\"ping\"}");
	CHECK_INT(fake.nclosed, 0);
	/* The fourth in a row closes with 1008. */
	msg(hub, a, "{\"type\":\"ping\"}");
	CHECK_ERROR(CONN(0), "rate-limited");
	CHECK_INT(fake.nclosed, 1);
	CHECK(fake.closes[0].conn == CONN(0));
	CHECK_INT(fake.closes[0].code, SIG_CLOSE_POLICY);
	CHECK_STR(fake.closes[0].reason, "rate limit");
	CHECK_INT(st->errors[SIG_ERR_RATE_LIMITED], 9);
	/* Nothing more for a closing connection, not even errors. */
	i = (int)count_to(CONN(0), NULL);
	now_ms += 10000;
	msg(hub, a, "{\"type\":\"ping\"}");
	CHECK_INT(count_to(CONN(0), NULL), i);
	CHECK_INT(fake.nclosed, 1);

	/* b is untouched by a's bucket; a leaves b's room when it goes. */
	join(hub, b, CONN(1), "r", NULL, id);
	CHECK(is_id(id));
	sig_disconnect(hub, a);
	CHECK_INT(count_to(CONN(1), "peer-left"), 1);

	/* The bucket is capped at the burst however long the wait. */
	fake_clear();
	now_ms += 3600000;
	for (i = 0; i < 4; i++)
		msg(hub, b, "{\"type\":\"ping\"}");
	CHECK_INT(count_to(CONN(1), "pong"), 3);
	CHECK_INT(count_to(CONN(1), "error"), 1);

	/* abuse_limit 0 never closes. */
	cfg.abuse_limit = 0;
	CHECK_INT(sig_hub_configure(hub, &cfg), 0);
	for (i = 0; i < 50; i++)
		msg(hub, b, "{\"type\":\"ping\"}");
	CHECK_INT(fake.nclosed, 0);
	CHECK_INT(count_to(CONN(1), "error"), 51);
	sig_hub_free(hub);
	fake_clear();
	now_ms = 1000;
}

/* base64url(HMAC-SHA256(secret, msg)) without padding, the test's way. */
static void
ref_mac(const char *secret, const char *input, char out[64])
{
	uint8_t mac[32];
	unsigned int len = 0;
	char b64[64];
	size_t i, o = 0;

	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)input,
	     strlen(input), mac, &len);
	EVP_EncodeBlock((uint8_t *)b64, mac, 32);
	for (i = 0; b64[i] != '\0' && b64[i] != '='; i++)
		out[o++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	out[o] = '\0';
}

static void
test_tokens(void)
{
	struct sig_config cfg = roomy;
	struct sig_hub *hub;
	const struct sig_stats *st;
	struct sig_peer *a;
	char token[128], bad[256], id[SIG_ID_LEN + 1], mac[64], expect[128];
	json_t *m;

	/* The format, against HMAC() and EVP_EncodeBlock here. */
	CHECK_INT(sig_token_make("s3cret", "lobby", NOW + 60, token,
				 sizeof(token)),
		  0);
	ref_mac("s3cret", "lobby:1700000060", mac);
	CHECK_INT(strlen(mac), 43);
	snprintf(expect, sizeof(expect), "1700000060:%s", mac);
	CHECK_STR(token, expect);
	CHECK(strchr(token, '=') == NULL);
	CHECK(sig_token_check("s3cret", "lobby", token, NOW));
	CHECK(sig_token_check("s3cret", "lobby", token, NOW + 60));
	CHECK(!sig_token_check("s3cret", "lobby", token, NOW + 61));
	CHECK(!sig_token_check("s3cret", "lobby2", token, NOW));
	CHECK(!sig_token_check("other", "lobby", token, NOW));
	CHECK(!sig_token_check("s3cret", "lobby", "", NOW));
	CHECK(!sig_token_check("s3cret", "lobby", "1700000060", NOW));
	CHECK(!sig_token_check("s3cret", "lobby", ":abc", NOW));
	snprintf(bad, sizeof(bad), "1700000061%s", strchr(token, ':'));
	CHECK(!sig_token_check("s3cret", "lobby", bad, NOW));
	snprintf(bad, sizeof(bad), "%s", token);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
	CHECK(!sig_token_check("s3cret", "lobby", bad, NOW));
	snprintf(bad, sizeof(bad), "%sA", token);
	CHECK(!sig_token_check("s3cret", "lobby", bad, NOW));
	snprintf(bad, sizeof(bad), "99999999999999999999%s",
		 strchr(token, ':'));
	CHECK(!sig_token_check("s3cret", "lobby", bad, NOW));
	snprintf(bad, sizeof(bad), "-1%s", strchr(token, ':'));
	CHECK(!sig_token_check("s3cret", "lobby", bad, NOW));
	CHECK_INT(sig_token_make("s3cret", "lobby", NOW, token, 20), -1);
	CHECK_INT(sig_token_make("s3cret", "a/b", NOW, token, sizeof(token)),
		  -1);
	CHECK_INT(sig_token_make("s3cret", "lobby", -1, token, sizeof(token)),
		  -1);
	CHECK_INT(sig_token_make("", "lobby", NOW, token, sizeof(token)), -1);

	cfg.token_secret = "s3cret";
	hub = sig_hub_new(&ops, &cfg);
	st = sig_hub_stats(hub);
	fake_clear();
	a = sig_connect(hub, CONN(0));
	join(hub, a, CONN(0), "lobby", NULL, id);
	CHECK_ERROR(CONN(0), "forbidden");
	msgf(hub, a, "{s:s, s:s, s:i}", "type", "join", "room", "lobby",
	     "token", 5);
	CHECK_ERROR(CONN(0), "forbidden");
	sig_token_make("s3cret", "lobby", NOW + 60, token, sizeof(token));
	snprintf(bad, sizeof(bad), "%s", token);
	bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'x' ? 'y' : 'x';
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "join", "room", "lobby",
	     "token", bad);
	CHECK_ERROR(CONN(0), "forbidden");
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "join", "room", "hall", "token",
	     token);
	CHECK_ERROR(CONN(0), "forbidden");
	sig_token_make("s3cret", "lobby", NOW - 1, bad, sizeof(bad));
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "join", "room", "lobby",
	     "token", bad);
	CHECK_ERROR(CONN(0), "forbidden");
	CHECK_INT(st->errors[SIG_ERR_FORBIDDEN], 5);
	CHECK_INT(st->rooms, 0);
	/* Good through its last second: the wall clock is NOW.123. */
	sig_token_make("s3cret", "lobby", NOW, token, sizeof(token));
	msgf(hub, a, "{s:s, s:s, s:s}", "type", "join", "room", "lobby",
	     "token", token);
	m = last_to(CONN(0));
	CHECK_STR(str(m, "type"), "welcome");
	json_decref(m);
	sig_disconnect(hub, a);

	/* A reload to the default "" turns tokens off. */
	cfg.token_secret = "";
	CHECK_INT(sig_hub_configure(hub, &cfg), 0);
	a = sig_connect(hub, CONN(0));
	join(hub, a, CONN(0), "lobby", NULL, id);
	CHECK(is_id(id));
	sig_hub_free(hub);
	fake_clear();
}

int
main(void)
{
	test_names();
	test_join();
	test_relay();
	test_chat_state();
	test_leave();
	test_limits();
	test_errors();
	test_join_fields();
	test_ids();
	test_rate();
	test_tokens();
	fake_clear();
	return unit_done("test_sig");
}
