/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * httpreq.h: what the HTTP side decides from a request's data, without
 * libmicrohttpd: the route, the static-file path checks, the WebSocket
 * handshake checks, Origin, Host, the API key and the /api/turn query.
 * Pure: http.c fills a struct httpreq from the connection and answers as
 * told.
 */
#ifndef TURNPIKE_HTTPREQ_H
#define TURNPIKE_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct sockaddr;

/*
 * One request as the decisions see it.  Every string is NUL-terminated
 * and owned by the caller; a header or query argument that is absent is
 * NULL.  The query arguments are already percent-decoded.
 */
struct httpreq {
	const char *method;
	const char *url; /* the path, without the query */
	const char *host;
	const char *origin;
	const char *authorization;
	const char *upgrade;
	const char *connection;
	const char *ws_key;            /* Sec-WebSocket-Key */
	const char *ws_version;        /* Sec-WebSocket-Version */
	const char *arg_key;           /* ?key= */
	const char *arg_service;       /* ?service= */
	const char *arg_username;      /* ?username= */
	const struct sockaddr *client; /* NULL when unknown */
};

/* What answers a request: a row of the route table, or an error. */
enum httpreq_route {
	HTTPREQ_NOT_FOUND,   /* 404 */
	HTTPREQ_NOT_ALLOWED, /* 405, Allow: GET, HEAD */
	HTTPREQ_PREFLIGHT,   /* OPTIONS: httpreq_preflight() */
	HTTPREQ_WS,
	HTTPREQ_HEALTHZ,
	HTTPREQ_METRICS,
	HTTPREQ_ICE_SERVERS,
	HTTPREQ_TURN,
	HTTPREQ_STATIC,
	HTTPREQ_NROUTES
};

/* Room for Sec-WebSocket-Accept: base64 of a SHA-1 digest, and a NUL. */
#define HTTPREQ_ACCEPT_LEN 29

/* httpreq.c */

/*
 * The route for a request: OPTIONS is a preflight, methods other than
 * GET and HEAD are not allowed, and the rest go to the first row of the
 * route table whose path matches.
 */
enum httpreq_route httpreq_route(const struct httpreq *rq);

/*
 * The Host header without its port, for ICE server URLs, into out: a name
 * of letters, digits, dots and hyphens, or an IPv6 literal in brackets.
 * Returns false for anything else (it would end up in a URL a browser
 * uses) or a host that does not fit in cap; no Host gives "localhost".
 */
bool httpreq_host(const struct httpreq *rq, char *out, size_t cap);

/*
 * Whether the request's Origin may use /ws and /api: an entry of
 * http.allowed_origins, or, when that list is empty, the server's own
 * host (Origin's host:port equal to Host).  No Origin header: not a
 * browser, nothing to protect against (RFC 6455 section 10.2).
 */
bool httpreq_origin_ok(const struct httpreq *rq, const struct conf *conf);

/*
 * Whether the request carries http.api_key (want) as ?key= or as
 * "Authorization: Bearer KEY", compared in constant time.  An empty want
 * lets everyone in.
 */
bool httpreq_key_ok(const struct httpreq *rq, const char *want);

/* Whether sa is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool httpreq_loopback(const struct sockaddr *sa);

/*
 * Whether /metrics may be read: by loopback clients, and by others with
 * http.api_key when one is set.
 */
bool httpreq_metrics_allowed(const struct httpreq *rq, const struct conf *conf);

/*
 * The CORS preflight for /api (the Authorization header is not simple):
 * 204 when allowed, 405 for other paths or without Origin, 403 for an
 * Origin that httpreq_origin_ok() refuses.
 */
int httpreq_preflight(const struct httpreq *rq, const struct conf *conf);

/*
 * Whether a URL path may name a file: absolute, no "..", "." or empty
 * segment beyond the root, no hidden file, no backslash and no control
 * character.  http.c also opens the file one component at a time with
 * O_NOFOLLOW, and serves regular files only.
 */
bool httpreq_path_ok(const char *path);

/* The Content-Type for a file name, by its extension. */
const char *httpreq_type(const char *path);

/* Whether the comma-separated header value has token (any case). */
bool httpreq_has_token(const char *value, const char *token);

/*
 * RFC 6455 section 4.2.1: a GET with Upgrade: websocket, Connection:
 * Upgrade (400), Sec-WebSocket-Version: 13 (426, which must name 13), a
 * 16-byte base64 Sec-WebSocket-Key (400), and an Origin that
 * httpreq_origin_ok() accepts (403).  Returns 0 when the handshake may
 * go on, or the status with the reason's text in *why.
 */
int httpreq_ws_check(const struct httpreq *rq, const struct conf *conf,
		     const char **why);

/*
 * RFC 6455 section 4.2.2: Sec-WebSocket-Accept for a key that
 * httpreq_ws_check() accepted, base64(SHA-1(key + GUID)), into out.
 */
void httpreq_ws_accept(const char *key, char out[HTTPREQ_ACCEPT_LEN]);

/*
 * The /api/turn query: service, when given, must be "turn"; username,
 * when given, 1 to 64 bytes without ':', '"' or '\'.  Returns 0, or 400
 * with the reason's text in *why.
 */
int httpreq_turn_args(const struct httpreq *rq, const char **why);

#endif /* TURNPIKE_HTTPREQ_H */
