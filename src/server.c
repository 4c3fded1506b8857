/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server.c: from one received message to the answer, if any.
 *
 * It tells STUN from everything else by the first byte (RFC 7983), parses
 * the message, applies the rules every request shares (FINGERPRINT, unknown
 * comprehension-required attributes, RFC 3489 clients) and hands the
 * request to its method's handler through one table.  A new method is a
 * row in server_methods[] and a function.  It is not for sockets: the
 * listeners in udp.c and stream.c do the I/O.
 */
#include "config.h"

#include <string.h>

#include "conf.h"
#include "log.h"
#include "server.h"
#include "stun.h"

struct server_method {
	uint16_t method;
	server_method_fn *handle;
};

static const struct server_method server_methods[] = {
	{ STUN_METHOD_BINDING, binding_handle },
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

static const struct server_method *
server_method_find(uint16_t method)
{
	for (size_t i = 0;
	     i < sizeof(server_methods) / sizeof(server_methods[0]); i++)
		if (server_methods[i].method == method)
			return &server_methods[i];
	return NULL;
}

static bool
server_attr_known(uint16_t type)
{
	for (size_t i = 0;
	     i < sizeof(server_known_attrs) / sizeof(server_known_attrs[0]);
	     i++)
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

/*
 * Start an error answer to req in b.  RFC 8489 section 6.3.4: the error
 * response carries the method of the request and ERROR-CODE.
 */
static void
server_error(struct server *srv, const struct stun_msg *req,
	     struct stun_builder *b, int code)
{
	uint8_t *buf = b->buf;
	size_t cap = b->cap;

	stun_build_init(b, buf, cap,
			stun_type(stun_method(req->type), STUN_CLASS_ERROR),
			req->tid);
	stun_add_error(b, code, NULL);
	srv->stats->errors[stats_error_slot(code)]++;
}

/* Close an answer: FINGERPRINT when the request had one (RFC 8489 §7.3). */
static size_t
server_finish(const struct stun_msg *req, struct stun_builder *b)
{
	if (req->fingerprint >= 0)
		stun_add_fingerprint(b);
	return stun_build_finish(b);
}

static size_t
server_handle_request(struct server *srv, const struct server_msg *m,
		      const struct stun_msg *req, uint8_t *out, size_t cap)
{
	const struct server_method *method;
	struct stun_builder b;
	uint16_t unknown[SERVER_MAX_UNKNOWN];
	unsigned int nunknown;
	int rc;

	srv->stats->requests[stun_method(req->type) & 0x0F]++;
	stun_build_init(&b, out, cap,
			stun_type(stun_method(req->type), STUN_CLASS_SUCCESS),
			req->tid);

	/* RFC 8489 section 6.3.1: an unknown method in a request gets 400. */
	if ((method = server_method_find(stun_method(req->type))) == NULL) {
		server_error(srv, req, &b, STUN_ERR_BAD_REQUEST);
		return server_finish(req, &b);
	}

	/* RFC 8489 section 6.3.1.1: unknown comprehension-required attributes
	 * get 420 with UNKNOWN-ATTRIBUTES listing them. */
	if ((nunknown = server_unknown_attrs(req, unknown)) > 0) {
		server_error(srv, req, &b, STUN_ERR_UNKNOWN_ATTRIBUTE);
		stun_add_unknown(&b, unknown, nunknown);
		return server_finish(req, &b);
	}

	rc = method->handle(srv, m, req, &b);
	if (rc == -1)
		return 0;
	if (rc > 0)
		server_error(srv, req, &b, rc);
	return server_finish(req, &b);
}

size_t
server_handle(struct server *srv, const struct server_msg *m, uint8_t *out,
	      size_t cap)
{
	struct stun_msg req;
	struct stun_builder b;

	/* RFC 7983: 0-3 is STUN; 64-79 is TURN ChannelData, which is not
	 * ours to relay until an allocation exists. */
	if (m->len == 0 || m->data[0] > 3) {
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
		req.fingerprint = -1;
		stun_build_init(&b, out, cap, 0, req.tid);
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
	default:
		/* Indications come with TURN; a server sends no requests, so
		 * it expects no responses. */
		srv->stats->drop_unexpected++;
		return 0;
	}
}
