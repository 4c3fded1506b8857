/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sig.h: the signaling protocol, version 1 (turnpike-signaling(7)): named
 * rooms, join and leave presence, offer/answer/candidate relay, chat and
 * per-peer state, over JSON text messages.
 *
 * A pure module.  It sees WebSocket connections only as opaque pointers
 * and reaches them through struct sig_ops (send a text message, close with
 * a code), so the unit tests drive it with a fake sender.  Time and
 * randomness come in as parameters and callbacks; it opens no socket and
 * logs nothing.  ws.c is the I/O side.
 */
#ifndef TURNPIKE_SIG_H
#define TURNPIKE_SIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIG_ID_LEN    32   /* hex characters of a peer id (128 bits) */
#define SIG_ROOM_MAX  64   /* characters of a room name */
#define SIG_NAME_MAX  64   /* UTF-8 characters of a display name */
#define SIG_CHAT_MAX  4096 /* UTF-8 characters of a chat text */
#define SIG_STATE_MAX 1024 /* bytes of a state object, as JSON */

/* WebSocket close codes (RFC 6455 section 7.4.1). */
#define SIG_CLOSE_NORMAL 1000
#define SIG_CLOSE_POLICY 1008

/* The error codes of an {"type":"error"} message, in this order. */
#define SIG_ERRORS                                                             \
	X(BAD_JSON, "bad-json")                                                \
	X(BAD_MESSAGE, "bad-message")                                          \
	X(UNKNOWN_TYPE, "unknown-type")                                        \
	X(NOT_JOINED, "not-joined")                                            \
	X(ALREADY_JOINED, "already-joined")                                    \
	X(BAD_ROOM, "bad-room")                                                \
	X(ROOM_FULL, "room-full")                                              \
	X(UNKNOWN_PEER, "unknown-peer")                                        \
	X(TOO_LARGE, "too-large")                                              \
	X(RATE_LIMITED, "rate-limited")                                        \
	X(FORBIDDEN, "forbidden")

enum sig_error {
#define X(name, text) SIG_ERR_##name,
	SIG_ERRORS
#undef X
		SIG_NERRORS
};

/* The client message types, for the per-type counters. */
#define SIG_TYPES                                                              \
	X(JOIN, "join")                                                        \
	X(OFFER, "offer")                                                      \
	X(ANSWER, "answer")                                                    \
	X(CANDIDATE, "candidate")                                              \
	X(CHAT, "chat")                                                        \
	X(STATE, "state")                                                      \
	X(LEAVE, "leave")                                                      \
	X(PING, "ping")

enum sig_type {
#define X(name, text) SIG_TYPE_##name,
	SIG_TYPES
#undef X
		SIG_NTYPES
};

/* What the I/O side does for the hub.  conn is the I/O side's pointer. */
struct sig_ops {
	/*
	 * Queue one text message (a JSON object, NUL-terminated, len bytes)
	 * to conn.  Returns 0, or -1 when conn's send queue is full: the I/O
	 * side then disconnects it (and calls sig_disconnect()).
	 */
	int (*send)(void *ctx, void *conn, const char *text, size_t len);
	/* Close conn with a WebSocket close code once what is queued went;
	 * sig_disconnect() follows from the I/O side. */
	void (*close)(void *ctx, void *conn, int code, const char *reason);
	/* n random bytes (a CSPRNG in the daemon, a fixed sequence in tests). */
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	/*
	 * The RTCConfiguration for a peer (on conn) that joins: a new JSON
	 * object
	 * {"iceServers":[...],"iceTransportPolicy":...} with fresh TURN
	 * credentials, owned by the caller; NULL if none can be made.
	 */
	json_t *(*ice_config)(void *ctx, void *conn, const char *peer_id);
	void *ctx;
};

/* Bounds and settings, each a config key (signaling.*). */
struct sig_config {
	unsigned int max_rooms;
	unsigned int max_peers_per_room; /* beyond: room-full */
	unsigned int rate;               /* messages per second per peer */
	unsigned int burst;              /* beyond rate: rate-limited */
	unsigned int abuse_limit;        /* rate-limited answers in a row
					   * before closing with 1008 */
	const char *token_secret;        /* join tokens required when set */
};

/* Counters for /metrics: no per-room or per-user labels. */
struct sig_stats {
	uint64_t peers;                /* gauge: joined peers */
	uint64_t rooms;                /* gauge */
	uint64_t connections;          /* gauge: connected, joined or not */
	uint64_t messages[SIG_NTYPES]; /* accepted client messages by type */
	uint64_t errors[SIG_NERRORS];  /* error messages sent, by code */
	uint64_t relayed;              /* offer/answer/candidate delivered */
	uint64_t chat_fanout;          /* chat messages delivered */
};

struct sig_hub;
struct sig_peer;

/* sig.c */

/* A hub with no rooms.  ops and cfg are copied (token_secret too). */
struct sig_hub *sig_hub_new(const struct sig_ops *ops,
			    const struct sig_config *cfg);
/* Free the hub and every peer and room; conns are not touched. */
void sig_hub_free(struct sig_hub *hub);
/* New bounds for what comes next (reload); nobody is disconnected. */
int sig_hub_configure(struct sig_hub *hub, const struct sig_config *cfg);
const struct sig_stats *sig_hub_stats(const struct sig_hub *hub);

/*
 * A WebSocket connection opened: returns its peer (owned by the hub until
 * sig_disconnect()), not yet in a room, or NULL when out of memory.
 */
struct sig_peer *sig_connect(struct sig_hub *hub, void *conn);

/*
 * One complete text message from peer (valid UTF-8: the WebSocket layer
 * has checked it).  now_ms is the monotonic clock (rate limits), wall_ms
 * the wall clock (chat timestamps, join token expiry).  Answers and
 * deliveries go out through ops->send; abuse ends in ops->close.
 */
void sig_message(struct sig_hub *hub, struct sig_peer *peer, const char *text,
		 size_t len, uint64_t now_ms, uint64_t wall_ms);

/*
 * The connection of peer is gone (a leave, a close, a dead connection):
 * the others in its room get peer-left, an empty room goes, the peer is
 * freed.  The one place a peer ends.
 */
void sig_disconnect(struct sig_hub *hub, struct sig_peer *peer);

/*
 * Send an error message to peer: {"type":"error","code":...,"message":
 * ...}.  (A message over signaling.max_message_size never reaches the
 * hub: wslay closes the connection with 1009 itself.)
 */
void sig_send_error(struct sig_hub *hub, struct sig_peer *peer,
		    enum sig_error code, const char *message);

/* A room name: 1 to SIG_ROOM_MAX characters of A-Z a-z 0-9 . _ - */
bool sig_room_name_valid(const char *s, size_t len);

/* sig_token.c */

/*
 * Join tokens (turnpike-signaling(7)): "<expiry>:<base64url(HMAC-SHA256(
 * secret, "<room>:<expiry>"))>", without padding.  sig_token_make writes
 * one into out[outlen]; returns 0 or -1.  sig_token_check returns true
 * when token is valid for room at now (unix seconds).
 */
int sig_token_make(const char *secret, const char *room, int64_t expiry,
		   char *out, size_t outlen);
bool sig_token_check(const char *secret, const char *room, const char *token,
		     int64_t now);

const char *sig_error_name(enum sig_error code);
const char *sig_type_name(enum sig_type type);

#endif /* TURNPIKE_SIG_H */
