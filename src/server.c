/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.c: from one received message to the answer, if any.
 *
 * It tells STUN from TURN ChannelData and everything else by the first
 * byte (RFC 7983), parses the message, applies the rules every request
 * shares (FINGERPRINT, unknown comprehension-required attributes, RFC 3489
 * clients, the answer cache for retransmissions, long-term credentials,
 * the allocation of the 5-tuple) and hands the request to its method's
 * handler through one table.  A new method is a row in server_methods[]
 * and a function.  It is not for sockets: the listeners in udp.c and
 * stream.c and the relay sockets in relay.c do the I/O.
 */
#include "config.h"

#include <string.h>

#include "auth.h"
#include "conf.h"
#include "log.h"
#include "ratelimit.h"
#include "server.h"
#include "stun.h"
#include "txcache.h"

#define SERVER_TURN  0x1 /* only while turn.enable */
#define SERVER_AUTH  0x2 /* long-term credentials (RFC 8489 §9.2) */
#define SERVER_ALLOC 0x4 /* the allocation of the 5-tuple (437) */

struct server_method {
	uint16_t method;
	server_method_fn *handle;
	unsigned int flags;
};

static const struct server_method server_methods[] = {
	{ STUN_METHOD_BINDING, binding_handle, 0 },
	{ STUN_METHOD_ALLOCATE, turn_allocate, SERVER_TURN | SERVER_AUTH },
	{ STUN_METHOD_REFRESH, turn_refresh,
	  SERVER_TURN | SERVER_AUTH | SERVER_ALLOC },
	{ STUN_METHOD_CREATE_PERMISSION, turn_create_permission,
	  SERVER_TURN | SERVER_AUTH | SERVER_ALLOC },
	{ STUN_METHOD_CHANNEL_BIND, turn_channel_bind,
	  SERVER_TURN | SERVER_AUTH | SERVER_ALLOC },
};

struct server_indication {
	uint16_t method;
	server_indication_fn *handle;
};

static const struct server_indication server_indications[] = {
	{ STUN_METHOD_SEND, turn_send },
};

/* Comprehension-required attributes this server knows (RFC 8489 §14). */
static const uint16_t server_known_attrs[] = {
	STUN_ATTR_MAPPED_ADDRESS,
	STUN_ATTR_CHANGE_REQUEST,
	STUN_ATTR_USERNAME,
	STUN_ATTR_MESSAGE_INTEGRITY,
	STUN_ATTR_ERROR_CODE,
	STUN_ATTR_UNKNOWN_ATTRIBUTES,
	STUN_ATTR_CHANNEL_NUMBER,
	STUN_ATTR_LIFETIME,
	STUN_ATTR_XOR_PEER_ADDRESS,
	STUN_ATTR_DATA,
	STUN_ATTR_REALM,
	STUN_ATTR_NONCE,
	STUN_ATTR_XOR_RELAYED_ADDRESS,
	STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
	STUN_ATTR_EVEN_PORT,
	STUN_ATTR_REQUESTED_TRANSPORT,
	STUN_ATTR_DONT_FRAGMENT,
	STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
	STUN_ATTR_PASSWORD_ALGORITHM,
	STUN_ATTR_USERHASH,
	STUN_ATTR_XOR_MAPPED_ADDRESS,
	STUN_ATTR_RESERVATION_TOKEN,
	STUN_ATTR_PRIORITY,
	STUN_ATTR_USE_CANDIDATE,
	STUN_ATTR_PADDING,
	STUN_ATTR_RESPONSE_PORT,
};

/* The most unknown attributes listed in one 420 answer. */
#define SERVER_MAX_UNKNOWN 16

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(ALLOC_KEY_TAG_SIZE == AUTH_TAG_SIZE, "alloc.key_tag");
_Static_assert(SERVER_NONCE_KEY_SIZE == AUTH_NONCE_KEY_SIZE, "nonce_key");

static const struct server_method *
server_method_find(uint16_t method)
{
	for (size_t i = 0; i < NELEM(server_methods); i++)
		if (server_methods[i].method == method)
			return &server_methods[i];
	return NULL;
}

static bool
server_attr_known(uint16_t type)
{
	for (size_t i = 0; i < NELEM(server_known_attrs); i++)
		if (server_known_attrs[i] == type)
			return true;
	return false;
}

/*
 * Collect the unknown comprehension-required attribute types of req, each
 * once, into types[]; returns how many.
 */
static unsigned int
server_unknown_attrs(const struct stun_msg *req, uint16_t *types)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < req->nattrs; i++) {
		uint16_t t = req->attrs[i].type;
		bool seen = false;

		if (!stun_attr_required(t) || server_attr_known(t))
			continue;
		for (unsigned int j = 0; j < n; j++)
			seen = seen || types[j] == t;
		if (!seen && n < SERVER_MAX_UNKNOWN)
			types[n++] = t;
	}
	return n;
}

void
server_tuple(struct alloc_tuple *t, const struct server_msg *m)
{
	memset(t, 0, sizeof(*t));
	addr_key_from(&t->client, m->peer);
	addr_key_from(&t->server, m->local);
	t->transport = (uint8_t)m->transport;
}

/*
 * Start an error answer to req in b.  RFC 8489 section 6.3.4: the error
 * response carries the method of the request and ERROR-CODE.
 */
static void
server_error(struct server *srv, const struct stun_msg *req,
	     struct stun_builder *b, int code)
{
	stun_build_init(b, b->buf, b->cap,
			stun_type(stun_method(req->type), STUN_CLASS_ERROR),
			req->tid);
	stun_add_error(b, code, NULL);
	srv->stats->errors[stats_error_slot(code)]++;
}

/*
 * Close an answer: MESSAGE-INTEGRITY (or -SHA256, as the request used)
 * when the request was authenticated, then FINGERPRINT when the request
 * had one (RFC 8489 sections 7.3, 9.2.4, 14.7).
 */
static size_t
server_finish(struct server *srv, const struct server_req *r,
	      struct stun_builder *b, bool sign)
{
	b->crypto = srv->crypto;
	if (sign && r->sha256)
		stun_add_integrity_sha256(b, r->key, sizeof(r->key));
	else if (sign)
		stun_add_integrity(b, r->key, sizeof(r->key));
	if (r->msg->fingerprint >= 0)
		stun_add_fingerprint(b);
	return stun_build_finish(b);
}

/*
 * Long-term authentication of r (RFC 8489 section 9.2.4).  Returns 0 when
 * r is authenticated, or the error to answer with, REALM and NONCE
 * already in b; or -1 to drop (rate limited).  The key r->alloc was made
 * with, if any, is offered to auth_check() first (struct auth_known).
 */
static int
server_authenticate(struct server *srv, struct server_req *r,
		    struct stun_builder *b)
{
	struct auth_result res;
	struct auth_known known;
	struct auth_request rq = {
		.msg = r->msg,
		.client = r->m->peer,
		.now = r->m->now_unix,
		.nonce_key = srv->nonce_key,
		.crypto = srv->crypto,
	};

	if (r->alloc != NULL) {
		known.username = alloc_username(r->alloc);
		known.key = r->alloc->key;
		known.tag = r->alloc->key_tag;
		rq.known = &known;
	}
	auth_check(srv->auth, &rq, &res);
	if (res.status == AUTH_OK) {
		r->authenticated = true;
		r->sha256 = res.sha256;
		memcpy(r->key, res.key, sizeof(r->key));
		memcpy(r->key_tag, res.tag, sizeof(r->key_tag));
		memcpy(r->username, res.username, res.username_len);
		r->username[res.username_len] = '\0';
		auth_result_wipe(&res);
		return 0;
	}
	srv->stats->auth_failures[res.reason & 15]++;
	/* Answers to requests without valid credentials are what a
	 * reflection flood would use: limited per source address. */
	if (!ratelimit_take(srv->unauth, &r->tuple.client,
			    (unsigned int)srv->conf->turn_unauth_rate,
			    r->m->now_ms)) {
		srv->stats->rate_limited++;
		return -1;
	}
	server_error(srv, r->msg, b, res.error_code);
	if (res.status != AUTH_BAD_REQUEST && res.status != AUTH_SERVER_ERROR) {
		const char *realm = auth_realm(srv->auth);

		stun_add_attr(b, STUN_ATTR_REALM, realm,
			      (uint16_t)strlen(realm));
		stun_add_attr(b, STUN_ATTR_NONCE, res.nonce,
			      (uint16_t)strlen(res.nonce));
	}
	return res.error_code;
}

static size_t
server_handle_request(struct server *srv, const struct server_msg *m,
		      const struct stun_msg *req, uint8_t *out, size_t cap)
{
	const struct server_method *method;
	struct server_req r;
	struct stun_builder b;
	uint16_t unknown[SERVER_MAX_UNKNOWN];
	unsigned int nunknown;
	size_t len;
	int rc;

	srv->stats->requests[stun_method(req->type) & 0x0F]++;
	memset(&r, 0, offsetof(struct server_req, username));
	r.username[0] = '\0';
	r.m = m;
	r.msg = req;
	stun_build_init(&b, out, cap,
			stun_type(stun_method(req->type), STUN_CLASS_SUCCESS),
			req->tid);

	/* RFC 8489 section 6.3.1: an unknown method in a request gets 400. */
	method = server_method_find(stun_method(req->type));
	if (method == NULL ||
	    ((method->flags & SERVER_TURN) && srv->allocs == NULL)) {
		server_error(srv, req, &b, STUN_ERR_BAD_REQUEST);
		return server_finish(srv, &r, &b, false);
	}

	if (method->flags & SERVER_TURN) {
		server_tuple(&r.tuple, m);
		/* A retransmission gets the answer the first one got. */
		len = txcache_find(srv->answers, &r.tuple.client,
				   r.tuple.transport, req->tid, m->now_ms, out,
				   cap);
		if (len > 0) {
			srv->stats->retransmits_answered++;
			return len;
		}
	}
	r.alloc = method->flags & SERVER_ALLOC
			  ? alloc_find(srv->allocs, &r.tuple)
			  : NULL;
	if (method->flags & SERVER_AUTH) {
		rc = server_authenticate(srv, &r, &b);
		if (rc == -1)
			return 0;
		if (rc > 0)
			return server_finish(srv, &r, &b, false);
	}
	/* RFC 5389 section 7.3, RFC 8489 section 6.3.1: after the
	 * authentication checks, unknown comprehension-required attributes
	 * get 420 with UNKNOWN-ATTRIBUTES listing them (signed when the
	 * request was authenticated). */
	if ((nunknown = server_unknown_attrs(req, unknown)) > 0) {
		server_error(srv, req, &b, STUN_ERR_UNKNOWN_ATTRIBUTE);
		stun_add_unknown(&b, unknown, nunknown);
		return server_finish(srv, &r, &b, r.authenticated);
	}
	if (method->flags & SERVER_ALLOC) {
		/* RFC 8656 section 7.3 (and 9.2, 11.2): no allocation on this
		 * 5-tuple is 437; RFC 8656 section 5: a request from another
		 * user than the allocation's is 441. */
		if (r.alloc == NULL || r.alloc->expires_ms <= m->now_ms)
			rc = STUN_ERR_ALLOCATION_MISMATCH;
		else if (strcmp(alloc_username(r.alloc), r.username) != 0)
			rc = STUN_ERR_WRONG_CREDENTIALS;
		else
			rc = method->handle(srv, &r, &b);
	} else {
		rc = method->handle(srv, &r, &b);
	}
	if (rc == -1)
		return 0;
	if (rc > 0)
		server_error(srv, req, &b, rc);
	len = server_finish(srv, &r, &b, r.authenticated);
	if (r.authenticated && len > 0)
		txcache_put(srv->answers, &r.tuple.client, r.tuple.transport,
			    req->tid, m->now_ms, out, len);
	memset(r.key, 0, sizeof(r.key));
	return len;
}

static void
server_handle_indication(struct server *srv, const struct server_msg *m,
			 const struct stun_msg *msg)
{
	struct server_req r;

	for (size_t i = 0; i < NELEM(server_indications); i++) {
		if (server_indications[i].method != stun_method(msg->type))
			continue;
		if (srv->allocs == NULL)
			break;
		memset(&r, 0, offsetof(struct server_req, username));
		r.m = m;
		r.msg = msg;
		server_tuple(&r.tuple, m);
		server_indications[i].handle(srv, &r);
		return;
	}
	srv->stats->drop_unexpected++;
}

size_t
server_handle(struct server *srv, const struct server_msg *m, uint8_t *out,
	      size_t cap)
{
	struct stun_msg req;
	struct stun_builder b;

	if (m->len == 0) {
		srv->stats->drop_not_stun++;
		return 0;
	}
	/* RFC 7983: 64-79 is TURN ChannelData; 80-127 too for RFC 5766's
	 * channel numbers, which turn.old_channels may accept. */
	if (m->data[0] >= 0x40 && m->data[0] <= 0x7F) {
		if (srv->allocs != NULL)
			turn_channel_data(srv, m);
		else
			srv->stats->drop_not_stun++;
		return 0;
	}
	/* RFC 7983: 0-3 is STUN; the rest is not ours. */
	if (m->data[0] > 3) {
		srv->stats->drop_not_stun++;
		return 0;
	}
	if (m->len > SERVER_MAX_MESSAGE) {
		srv->stats->drop_oversized++;
		return 0;
	}

	switch (stun_parse(m->data, m->len, &req)) {
	case STUN_PARSE_OK:
		break;
	case STUN_PARSE_BAD_COOKIE:
		if (srv->conf->stun_rfc3489)
			return binding_classic(srv, m, out, cap);
		srv->stats->drop_classic++;
		return 0;
	case STUN_PARSE_BAD_ATTRIBUTE:
	case STUN_PARSE_TOO_MANY_ATTRS:
		/* The header is sound, so the request can be answered. */
		if (stun_class(req.type) != STUN_CLASS_REQUEST) {
			srv->stats->drop_malformed++;
			return 0;
		}
		b.buf = out;
		b.cap = cap;
		server_error(srv, &req, &b, STUN_ERR_BAD_REQUEST);
		return stun_build_finish(&b);
	case STUN_PARSE_NOT_STUN:
		srv->stats->drop_not_stun++;
		return 0;
	case STUN_PARSE_BAD_LENGTH:
	default:
		srv->stats->drop_malformed++;
		return 0;
	}

	/* RFC 8489 section 7.3: a FINGERPRINT that does not match means the
	 * message is not STUN; it is dropped without an answer. */
	if (req.fingerprint >= 0 && !stun_check_fingerprint(&req)) {
		srv->stats->drop_fingerprint++;
		return 0;
	}

	switch (stun_class(req.type)) {
	case STUN_CLASS_REQUEST:
		return server_handle_request(srv, m, &req, out, cap);
	case STUN_CLASS_INDICATION:
		server_handle_indication(srv, m, &req);
		return 0;
	default:
		/* A server sends no requests, so it expects no responses. */
		srv->stats->drop_unexpected++;
		return 0;
	}
}

void
server_alloc_gone(struct server *srv, struct alloc *a, const char *why,
		  uint64_t now_ms)
{
	char client[ADDR_STRLEN], relay[ADDR_STRLEN];
	struct sockaddr_storage ss;
	const struct addr_key *rk =
		a->relay[0].family != 0 ? &a->relay[0] : &a->relay[1];

	if (strcmp(why, "expired") == 0)
		srv->stats->allocations_expired++;
	else
		srv->stats->allocations_deleted++;
	if (log_enabled(LOG_LEVEL_INFO)) {
		addr_key_to(&a->tuple.client, &ss);
		addr_str((struct sockaddr *)&ss, client, sizeof(client));
		addr_key_to(rk, &ss);
		addr_str((struct sockaddr *)&ss, relay, sizeof(relay));
		log_info("allocation %s: client %s/%s user \"%s\" relay %s, "
			 "%llu s, %llu packets %llu bytes to peers, "
			 "%llu packets %llu bytes from peers",
			 why, client,
			 a->tuple.transport == SERVER_UDP   ? "udp"
			 : a->tuple.transport == SERVER_TCP ? "tcp"
							    : "tls",
			 alloc_username(a), relay,
			 (unsigned long long)(now_ms - a->created_ms) / 1000,
			 (unsigned long long)a->packets_to_peer,
			 (unsigned long long)a->bytes_to_peer,
			 (unsigned long long)a->packets_from_peer,
			 (unsigned long long)a->bytes_from_peer);
	}
	if (srv->relay != NULL)
		srv->relay->close(srv->relay_ctx, a);
}
