/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sig.c: the signaling protocol, version 1 (turnpike-signaling(7)).
 *
 * The hub owns every peer from sig_connect() to sig_disconnect() and every
 * room from its first join to its last leave.  Rooms are found by name and
 * joined peers by id, each in one hash table keyed at start from
 * ops->random; a room keeps its peers in join order.  A message is
 * charged to the peer's token bucket, parsed with jansson, dispatched
 * through one table row per client type, and answered or fanned out
 * through ops->send.  In struct sig_config a max_rooms,
 * max_peers_per_room or rate of 0 means no bound (the config file never
 * gives one), as an abuse_limit of 0 does.
 *
 * Not here: WebSocket framing, frame size limits, send queues and closing
 * sockets (ws.c), TURN credentials (ops->ice_config), join tokens
 * (sig_token.c), clocks, logs.
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <openssl/crypto.h>

#include "htab.h"
#include "sig.h"

#define ID_BYTES   (SIG_ID_LEN / 2)
#define ID_TRIES   8                  /* fresh ids drawn before giving up */
#define NAME_BYTES (4 * SIG_NAME_MAX) /* UTF-8: 4 bytes a code point */

#define CONTAINER(ptr, type, member)                                           \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static const char *const error_names[SIG_NERRORS] = {
#define X(name, text) [SIG_ERR_##name] = text,
	SIG_ERRORS
#undef X
};

static const char *const type_names[SIG_NTYPES] = {
#define X(name, text) [SIG_TYPE_##name] = text,
	SIG_TYPES
#undef X
};

struct sig_room {
	struct hnode node;            /* hub->rooms, by name */
	TAILQ_HEAD(, sig_peer) peers; /* in join order */
	unsigned int npeers;
	size_t len;
	char name[SIG_ROOM_MAX + 1];
};

struct sig_peer {
	struct hnode node; /* hub->peers, by id, while in a room */
	TAILQ_ENTRY(sig_peer) room_entry;
	LIST_ENTRY(sig_peer) hub_entry; /* hub->all, connect to disconnect */
	void *conn;
	struct sig_room *room; /* NULL before join and after leave */
	json_t *state;         /* owned; NULL until a state message */
	/* Token bucket, in thousandths of a message. */
	uint64_t millitokens;
	uint64_t last_ms;
	bool bucket_started;
	unsigned int limited_in_row;
	/* ops->close was called (leave, abuse): later messages are dropped
	 * unread while the close goes out. */
	bool closing;
	bool has_name;
	char id[SIG_ID_LEN + 1]; /* "" before join */
	char name[NAME_BYTES + 1];
};

struct sig_hub {
	struct sig_ops ops;
	struct sig_config cfg; /* token_secret: secret */
	char *secret;          /* owned, wiped when freed; NULL when unset */
	struct sig_stats stats;
	uint8_t hkey[HTAB_KEY_SIZE];
	struct htab rooms;
	struct htab peers;
	LIST_HEAD(, sig_peer) all;
};

/* One row per client message type: the extension point. */
typedef void sig_handler_cb(struct sig_hub *, struct sig_peer *, enum sig_type,
			    json_t *, uint64_t wall_ms);

static sig_handler_cb handle_join, handle_relay, handle_chat, handle_state,
	handle_leave, handle_ping;

static const struct {
	sig_handler_cb *handle;
	bool needs_join;
} handlers[SIG_NTYPES] = {
	[SIG_TYPE_JOIN] = { handle_join, false },
	[SIG_TYPE_OFFER] = { handle_relay, true },
	[SIG_TYPE_ANSWER] = { handle_relay, true },
	[SIG_TYPE_CANDIDATE] = { handle_relay, true },
	[SIG_TYPE_CHAT] = { handle_chat, true },
	[SIG_TYPE_STATE] = { handle_state, true },
	[SIG_TYPE_LEAVE] = { handle_leave, true },
	[SIG_TYPE_PING] = { handle_ping, false },
};

const char *
sig_error_name(enum sig_error code)
{
	if ((unsigned int)code >= SIG_NERRORS)
		return NULL;
	return error_names[code];
}

const char *
sig_type_name(enum sig_type type)
{
	if ((unsigned int)type >= SIG_NTYPES)
		return NULL;
	return type_names[type];
}

/* Characters (code points) of valid UTF-8: the bytes that start one. */
static size_t
utf8_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((uint8_t)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

bool
sig_room_name_valid(const char *s, size_t len)
{
	size_t i;
	char c;

	if (len == 0 || len > SIG_ROOM_MAX)
		return false;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

static void
secret_free(char *secret)
{
	if (secret != NULL) {
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
}

/*
 * Make hub's config a copy of cfg, with its own copy of the secret (NULL
 * when unset: "" is the config file's default and means unset).  Returns
 * 0, or -1 with the old config kept.
 */
static int
config_set(struct sig_hub *hub, const struct sig_config *cfg)
{
	char *secret = NULL;

	if (cfg->token_secret != NULL && cfg->token_secret[0] != '\0' &&
	    (secret = strdup(cfg->token_secret)) == NULL)
		return -1;
	secret_free(hub->secret);
	hub->secret = secret;
	hub->cfg = *cfg;
	hub->cfg.token_secret = secret;
	return 0;
}

/* Sending. */

/* Queue text to one peer; a full queue is the I/O side's to handle. */
static bool
send_text(struct sig_hub *hub, struct sig_peer *peer, const char *text,
	  size_t len)
{
	return hub->ops.send(hub->ops.ctx, peer->conn, text, len) == 0;
}

/* Encode msg once and send it to every peer of room but skip (which may
 * be NULL).  Returns how many sends were queued.  A peer whose queue is
 * full is left for the I/O side to disconnect later: nobody leaves the
 * room during the loop.  msg stays the caller's. */
static uint64_t
room_send(struct sig_hub *hub, struct sig_room *room,
	  const struct sig_peer *skip, const json_t *msg)
{
	struct sig_peer *p;
	uint64_t sent = 0;
	char *text;
	size_t len;

	if (msg == NULL || (text = json_dumps(msg, JSON_COMPACT)) == NULL)
		return 0;
	len = strlen(text);
	for (p = TAILQ_FIRST(&room->peers); p != NULL;
	     p = TAILQ_NEXT(p, room_entry))
		if (p != skip && send_text(hub, p, text, len))
			sent++;
	free(text);
	return sent;
}

/* Encode msg and send it to peer; msg stays the caller's. */
static bool
send_json(struct sig_hub *hub, struct sig_peer *peer, const json_t *msg)
{
	char *text;
	bool ok;

	if (msg == NULL || (text = json_dumps(msg, JSON_COMPACT)) == NULL)
		return false;
	ok = send_text(hub, peer, text, strlen(text));
	free(text);
	return ok;
}

void
sig_send_error(struct sig_hub *hub, struct sig_peer *peer, enum sig_error code,
	       const char *message)
{
	json_t *msg;

	if ((unsigned int)code >= SIG_NERRORS)
		return;
	hub->stats.errors[code]++;
	msg = json_pack("{s:s, s:s, s:s}", "type", "error", "code",
			error_names[code], "message",
			message != NULL ? message : "");
	send_json(hub, peer, msg);
	json_decref(msg);
}

/* Rooms and peers. */

static uint64_t
room_hash(const struct sig_hub *hub, const char *name, size_t len)
{
	return htab_hash(hub->hkey, name, len);
}

static struct sig_room *
room_find(const struct sig_hub *hub, const char *name, size_t len)
{
	uint64_t h = room_hash(hub, name, len);
	struct sig_room *room;
	struct hnode *n;

	for (n = htab_bucket(&hub->rooms, h); n != NULL; n = n->next) {
		room = CONTAINER(n, struct sig_room, node);
		if (n->hash == h && room->len == len &&
		    memcmp(room->name, name, len) == 0)
			return room;
	}
	return NULL;
}

/* A new empty room named name (valid, checked by the caller), or NULL. */
static struct sig_room *
room_new(struct sig_hub *hub, const char *name, size_t len)
{
	struct sig_room *room;

	if ((room = calloc(1, sizeof(*room))) == NULL)
		return NULL;
	TAILQ_INIT(&room->peers);
	room->len = len;
	memcpy(room->name, name, len);
	htab_insert(&hub->rooms, &room->node, room_hash(hub, name, len));
	hub->stats.rooms++;
	return room;
}

static void
room_free(struct sig_hub *hub, struct sig_room *room)
{
	htab_remove(&hub->rooms, &room->node);
	hub->stats.rooms--;
	free(room);
}

static struct sig_peer *
peer_find(const struct sig_hub *hub, const char *id, size_t len)
{
	struct sig_peer *peer;
	struct hnode *n;
	uint64_t h;

	if (len != SIG_ID_LEN)
		return NULL;
	h = htab_hash(hub->hkey, id, len);
	for (n = htab_bucket(&hub->peers, h); n != NULL; n = n->next) {
		peer = CONTAINER(n, struct sig_peer, node);
		if (n->hash == h && memcmp(peer->id, id, SIG_ID_LEN) == 0)
			return peer;
	}
	return NULL;
}

/*
 * Give peer a fresh id: 16 bytes of ops->random in hex, drawn again while
 * a live peer has it.  Returns 0, or -1 when ID_TRIES draws all collided
 * (a broken random source: a real one collides once in 2^64 draws).
 */
static int
peer_make_id(struct sig_hub *hub, struct sig_peer *peer)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[ID_BYTES];
	int tries, i;

	for (tries = 0; tries < ID_TRIES; tries++) {
		hub->ops.random(hub->ops.ctx, raw, sizeof(raw));
		for (i = 0; i < ID_BYTES; i++) {
			peer->id[2 * i] = hex[raw[i] >> 4];
			peer->id[2 * i + 1] = hex[raw[i] & 15];
		}
		peer->id[SIG_ID_LEN] = '\0';
		if (peer_find(hub, peer->id, SIG_ID_LEN) == NULL)
			return 0;
	}
	peer->id[0] = '\0';
	return -1;
}

/*
 * Take peer out of its room and out of the id table; the room goes when
 * it is empty.  With notify, the others get {"type":"peer-left"} first.
 */
static void
peer_leave_room(struct sig_hub *hub, struct sig_peer *peer, bool notify)
{
	struct sig_room *room = peer->room;
	json_t *msg;

	TAILQ_REMOVE(&room->peers, peer, room_entry);
	room->npeers--;
	htab_remove(&hub->peers, &peer->node);
	hub->stats.peers--;
	peer->room = NULL;
	if (notify && room->npeers > 0) {
		msg = json_pack("{s:s, s:s}", "type", "peer-left", "id",
				peer->id);
		room_send(hub, room, NULL, msg);
		json_decref(msg);
	}
	if (room->npeers == 0)
		room_free(hub, room);
}

static void
peer_free(struct sig_hub *hub, struct sig_peer *peer)
{
	LIST_REMOVE(peer, hub_entry);
	hub->stats.connections--;
	json_decref(peer->state);
	free(peer);
}

/* The token bucket: cfg.rate messages a second, up to cfg.burst at once
 * (a rate of 0 means no limit).  Returns false when peer is over it. */
static bool
rate_take(struct sig_hub *hub, struct sig_peer *peer, uint64_t now_ms)
{
	uint64_t rate = hub->cfg.rate;
	uint64_t cap =
		1000 * (uint64_t)(hub->cfg.burst > 0 ? hub->cfg.burst : 1);
	uint64_t elapsed;

	if (rate == 0)
		return true;
	if (!peer->bucket_started) {
		peer->bucket_started = true;
		peer->millitokens = cap; /* a new bucket starts full */
	} else if (now_ms > peer->last_ms) {
		elapsed = now_ms - peer->last_ms;
		if (elapsed >= cap / rate + 1)
			peer->millitokens = cap;
		else
			peer->millitokens += elapsed * rate;
	}
	if (peer->millitokens > cap) /* after a reload with a smaller burst */
		peer->millitokens = cap;
	peer->last_ms = now_ms;
	if (peer->millitokens < 1000)
		return false;
	peer->millitokens -= 1000;
	return true;
}

/* Hub. */

struct sig_hub *
sig_hub_new(const struct sig_ops *ops, const struct sig_config *cfg)
{
	struct sig_hub *hub;

	if ((hub = calloc(1, sizeof(*hub))) == NULL)
		return NULL;
	hub->ops = *ops;
	LIST_INIT(&hub->all);
	if (config_set(hub, cfg) == -1) {
		free(hub);
		return NULL;
	}
	hub->ops.random(hub->ops.ctx, hub->hkey, sizeof(hub->hkey));
	if (htab_init(&hub->rooms, 64) == -1 ||
	    htab_init(&hub->peers, 64) == -1) {
		sig_hub_free(hub);
		return NULL;
	}
	return hub;
}

void
sig_hub_free(struct sig_hub *hub)
{
	struct sig_peer *peer, *next;

	if (hub == NULL)
		return;
	for (peer = LIST_FIRST(&hub->all); peer != NULL; peer = next) {
		next = LIST_NEXT(peer, hub_entry);
		if (peer->room != NULL)
			peer_leave_room(hub, peer, false);
		peer_free(hub, peer);
	}
	htab_release(&hub->rooms);
	htab_release(&hub->peers);
	secret_free(hub->secret);
	OPENSSL_cleanse(hub->hkey, sizeof(hub->hkey));
	free(hub);
}

int
sig_hub_configure(struct sig_hub *hub, const struct sig_config *cfg)
{
	return config_set(hub, cfg);
}

const struct sig_stats *
sig_hub_stats(const struct sig_hub *hub)
{
	return &hub->stats;
}

struct sig_peer *
sig_connect(struct sig_hub *hub, void *conn)
{
	struct sig_peer *peer;

	if ((peer = calloc(1, sizeof(*peer))) == NULL)
		return NULL;
	peer->conn = conn;
	LIST_INSERT_HEAD(&hub->all, peer, hub_entry);
	hub->stats.connections++;
	return peer;
}

void
sig_disconnect(struct sig_hub *hub, struct sig_peer *peer)
{
	if (peer == NULL)
		return;
	if (peer->room != NULL)
		peer_leave_room(hub, peer, true);
	peer_free(hub, peer);
}

/* Messages. */

void
sig_message(struct sig_hub *hub, struct sig_peer *peer, const char *text,
	    size_t len, uint64_t now_ms, uint64_t wall_ms)
{
	const char *type_name;
	json_error_t jerr;
	json_t *msg, *type;
	int t;

	if (peer->closing)
		return;
	/* Every message counts against the rate, good or bad. */
	if (!rate_take(hub, peer, now_ms)) {
		sig_send_error(hub, peer, SIG_ERR_RATE_LIMITED,
			       "Too many messages; slow down.");
		if (peer->limited_in_row < UINT_MAX)
			peer->limited_in_row++;
		if (hub->cfg.abuse_limit != 0 &&
		    peer->limited_in_row >= hub->cfg.abuse_limit) {
			peer->closing = true;
			hub->ops.close(hub->ops.ctx, peer->conn,
				       SIG_CLOSE_POLICY, "rate limit");
		}
		return;
	}
	peer->limited_in_row = 0;

	/* JSON_DECODE_ANY: a bare scalar is valid JSON, so bad-message, not
	 * bad-json.  Without JSON_ALLOW_NUL a string holding \u0000 is
	 * refused as bad-json: no C string here is ever cut short. */
	if ((msg = json_loadb(text, len, JSON_DECODE_ANY, &jerr)) == NULL) {
		sig_send_error(hub, peer, SIG_ERR_BAD_JSON,
			       "The message is not valid JSON.");
		return;
	}
	if (!json_is_object(msg) ||
	    !json_is_string(type = json_object_get(msg, "type"))) {
		sig_send_error(hub, peer, SIG_ERR_BAD_MESSAGE,
			       "A message is an object with a string type.");
		goto done;
	}
	type_name = json_string_value(type);
	for (t = 0; t < SIG_NTYPES; t++)
		if (strcmp(type_name, type_names[t]) == 0)
			break;
	if (t == SIG_NTYPES) {
		sig_send_error(hub, peer, SIG_ERR_UNKNOWN_TYPE,
			       "This message type is not known.");
		goto done;
	}
	if (handlers[t].needs_join && peer->room == NULL) {
		sig_send_error(hub, peer, SIG_ERR_NOT_JOINED,
			       "Join a room first.");
		goto done;
	}
	/* The handler may end with ops->close: peer is not touched after. */
	handlers[t].handle(hub, peer, (enum sig_type)t, msg, wall_ms);
done:
	json_decref(msg);
}

/*
 * The welcome for peer, who has joined room (it is the last in it): its
 * id, the others in join order with their names and latest states, and
 * the RTCConfiguration from ops->ice_config.  A new object, or NULL.
 */
static json_t *
welcome_new(struct sig_hub *hub, struct sig_peer *peer)
{
	json_t *ice = NULL, *servers, *policy, *peers, *entry, *msg = NULL;
	const char *policy_name;
	struct sig_peer *p;

	if ((peers = json_array()) == NULL)
		return NULL;
	for (p = TAILQ_FIRST(&peer->room->peers); p != NULL;
	     p = TAILQ_NEXT(p, room_entry)) {
		if (p == peer)
			continue;
		entry = json_pack("{s:s}", "id", p->id);
		if (entry == NULL ||
		    (p->has_name &&
		     json_object_set_new(entry, "name", json_string(p->name)) ==
			     -1) ||
		    json_object_set_new(entry, "state",
					p->state != NULL
						? json_incref(p->state)
						: json_object()) == -1 ||
		    json_array_append_new(peers, entry) == -1)
			goto done;
	}
	if (hub->ops.ice_config != NULL)
		ice = hub->ops.ice_config(hub->ops.ctx, peer->conn, peer->id);
	servers = json_object_get(ice, "iceServers");
	servers = json_is_array(servers) ? json_incref(servers) : json_array();
	policy = json_object_get(ice, "iceTransportPolicy");
	policy_name =
		json_is_string(policy) ? json_string_value(policy) : "all";
	msg = json_pack("{s:s, s:s, s:s, s:O, s:O, s:s}", "type", "welcome",
			"id", peer->id, "room", peer->room->name, "peers",
			peers, "iceServers", servers, "iceTransportPolicy",
			policy_name);
	json_decref(servers);
done:
	json_decref(ice);
	json_decref(peers);
	return msg;
}

/*
 * {"type":"join","room":R,"name":N,"token":T}.  room-full stands for
 * every reason the hub cannot take the peer in: the room holds
 * max_peers_per_room, a new room would pass max_rooms (0 is no bound for
 * either), or memory or fresh ids ran out.
 */
static void
handle_join(struct sig_hub *hub, struct sig_peer *peer, enum sig_type type,
	    json_t *msg, uint64_t wall_ms)
{
	json_t *room_v, *name_v, *token_v, *out;
	struct sig_room *room;
	const char *room_name;
	size_t room_len, name_len = 0;
	bool created = false;

	if (peer->room != NULL) {
		sig_send_error(hub, peer, SIG_ERR_ALREADY_JOINED,
			       "This connection is in a room already.");
		return;
	}
	room_v = json_object_get(msg, "room");
	if (!json_is_string(room_v) ||
	    !sig_room_name_valid(json_string_value(room_v),
				 json_string_length(room_v))) {
		sig_send_error(hub, peer, SIG_ERR_BAD_ROOM,
			       "A room name is 1 to 64 letters, digits, "
			       "dots, underscores or hyphens.");
		return;
	}
	room_name = json_string_value(room_v);
	room_len = json_string_length(room_v);
	if ((name_v = json_object_get(msg, "name")) != NULL) {
		name_len =
			json_is_string(name_v) ? json_string_length(name_v) : 0;
		if (name_len == 0 || name_len > NAME_BYTES ||
		    utf8_chars(json_string_value(name_v), name_len) >
			    SIG_NAME_MAX) {
			sig_send_error(hub, peer, SIG_ERR_BAD_MESSAGE,
				       "A name is a string of 1 to 64 "
				       "characters.");
			return;
		}
	}
	if (hub->cfg.token_secret != NULL) {
		token_v = json_object_get(msg, "token");
		if (!json_is_string(token_v) ||
		    !sig_token_check(hub->cfg.token_secret, room_name,
				     json_string_value(token_v),
				     (int64_t)(wall_ms / 1000))) {
			sig_send_error(hub, peer, SIG_ERR_FORBIDDEN,
				       "This room needs a valid token.");
			return;
		}
	}
	if ((room = room_find(hub, room_name, room_len)) == NULL) {
		if ((hub->cfg.max_rooms != 0 &&
		     hub->stats.rooms >= hub->cfg.max_rooms) ||
		    (room = room_new(hub, room_name, room_len)) == NULL) {
			sig_send_error(hub, peer, SIG_ERR_ROOM_FULL,
				       "No room can be opened now.");
			return;
		}
		created = true;
	} else if (hub->cfg.max_peers_per_room != 0 &&
		   room->npeers >= hub->cfg.max_peers_per_room) {
		sig_send_error(hub, peer, SIG_ERR_ROOM_FULL,
			       "The room is full.");
		return;
	}
	if (peer_make_id(hub, peer) == -1) {
		if (created)
			room_free(hub, room);
		sig_send_error(hub, peer, SIG_ERR_ROOM_FULL,
			       "No peer id could be made.");
		return;
	}
	if (name_v != NULL) {
		memcpy(peer->name, json_string_value(name_v), name_len);
		peer->name[name_len] = '\0';
		peer->has_name = true;
	}
	peer->room = room;
	TAILQ_INSERT_TAIL(&room->peers, peer, room_entry);
	room->npeers++;
	htab_insert(&hub->peers, &peer->node,
		    htab_hash(hub->hkey, peer->id, SIG_ID_LEN));
	hub->stats.peers++;
	hub->stats.messages[type]++;

	out = welcome_new(hub, peer);
	send_json(hub, peer, out);
	json_decref(out);
	out = json_pack("{s:s, s:s}", "type", "peer-joined", "id", peer->id);
	if (out != NULL && peer->has_name)
		json_object_set_new(out, "name", json_string(peer->name));
	room_send(hub, room, peer, out);
	json_decref(out);
}

/*
 * {"type":"offer"|"answer","to":ID,"sdp":S} and {"type":"candidate",
 * "to":ID,"candidate":C}: the same object goes to peer ID, in the same
 * room, without "to" and with the server's "from".
 */
static void
handle_relay(struct sig_hub *hub, struct sig_peer *peer, enum sig_type type,
	     json_t *msg, uint64_t wall_ms)
{
	json_t *to_v, *payload;
	struct sig_peer *target;
	bool ok;

	to_v = json_object_get(msg, "to");
	if (type == SIG_TYPE_CANDIDATE) {
		payload = json_object_get(msg, "candidate");
		ok = json_is_object(payload) || json_is_null(payload);
	} else {
		payload = json_object_get(msg, "sdp");
		ok = json_is_string(payload);
	}
	if (!json_is_string(to_v) || !ok) {
		sig_send_error(hub, peer, SIG_ERR_BAD_MESSAGE,
			       type == SIG_TYPE_CANDIDATE
				       ? "A candidate needs a string to and "
					 "a candidate object or null."
				       : "An offer or answer needs a string "
					 "to and a string sdp.");
		return;
	}
	target = peer_find(hub, json_string_value(to_v),
			   json_string_length(to_v));
	if (target == NULL || target == peer || target->room != peer->room) {
		sig_send_error(hub, peer, SIG_ERR_UNKNOWN_PEER,
			       "No such peer in this room.");
		return;
	}
	hub->stats.messages[type]++;
	/* The message is ours until sig_message frees it: reuse it.  The
	 * sender is the server's to say, whatever the client put there. */
	json_object_del(msg, "to");
	if (json_object_set_new(msg, "from", json_string(peer->id)) == 0 &&
	    send_json(hub, target, msg))
		hub->stats.relayed++;
}

/* {"type":"chat","text":T}: to everyone in the room, sender included. */
static void
handle_chat(struct sig_hub *hub, struct sig_peer *peer, enum sig_type type,
	    json_t *msg, uint64_t wall_ms)
{
	json_t *text_v, *out;
	size_t chars;

	text_v = json_object_get(msg, "text");
	chars = json_is_string(text_v) ? utf8_chars(json_string_value(text_v),
						    json_string_length(text_v))
				       : 0;
	if (chars == 0) {
		sig_send_error(hub, peer, SIG_ERR_BAD_MESSAGE,
			       "A chat message needs a non-empty string text.");
		return;
	}
	if (chars > SIG_CHAT_MAX) {
		sig_send_error(hub, peer, SIG_ERR_TOO_LARGE,
			       "A chat text is at most 4096 characters.");
		return;
	}
	hub->stats.messages[type]++;
	out = json_pack("{s:s, s:s}", "type", "chat", "from", peer->id);
	if (out == NULL ||
	    (peer->has_name &&
	     json_object_set_new(out, "name", json_string(peer->name)) == -1) ||
	    json_object_set(out, "text", text_v) == -1 ||
	    json_object_set_new(out, "ts", json_integer((json_int_t)wall_ms)) ==
		    -1) {
		json_decref(out);
		return;
	}
	hub->stats.chat_fanout += room_send(hub, peer->room, NULL, out);
	json_decref(out);
}

/* {"type":"state","state":{...}}: kept for later welcomes, sent on to
 * the others. */
static void
handle_state(struct sig_hub *hub, struct sig_peer *peer, enum sig_type type,
	     json_t *msg, uint64_t wall_ms)
{
	json_t *state, *out;

	state = json_object_get(msg, "state");
	if (!json_is_object(state)) {
		sig_send_error(hub, peer, SIG_ERR_BAD_MESSAGE,
			       "A state message needs a state object.");
		return;
	}
	/* json_dumpb with no buffer returns the encoded size. */
	if (json_dumpb(state, NULL, 0, JSON_COMPACT) > SIG_STATE_MAX) {
		sig_send_error(hub, peer, SIG_ERR_TOO_LARGE,
			       "A state is at most 1024 bytes of JSON.");
		return;
	}
	hub->stats.messages[type]++;
	json_decref(peer->state);
	peer->state = json_incref(state); /* shared with msg, never changed */
	out = json_pack("{s:s, s:s, s:O}", "type", "state", "from", peer->id,
			"state", state);
	room_send(hub, peer->room, peer, out);
	json_decref(out);
}

/* {"type":"leave"}: peer-left now, then a normal close; the peer stays
 * the hub's until sig_disconnect, dropping whatever else it sends. */
static void
handle_leave(struct sig_hub *hub, struct sig_peer *peer, enum sig_type type,
	     json_t *msg, uint64_t wall_ms)
{
	hub->stats.messages[type]++;
	peer_leave_room(hub, peer, true);
	peer->closing = true;
	hub->ops.close(hub->ops.ctx, peer->conn, SIG_CLOSE_NORMAL, "bye");
}

static void
handle_ping(struct sig_hub *hub, struct sig_peer *peer, enum sig_type type,
	    json_t *msg, uint64_t wall_ms)
{
	static const char pong[] = "{\"type\":\"pong\"}";

	hub->stats.messages[type]++;
	send_text(hub, peer, pong, sizeof(pong) - 1);
}
