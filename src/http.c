/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.c: HTTP on libmicrohttpd, inside the one libevent loop.
 *
 * Each http.listen address is a socket we bind (before root is given up)
 * and accept on ourselves (an evconnlistener, which pauses when descriptors
 * run out instead of spinning as libmicrohttpd's own accept does); each
 * accepted socket goes to that address's MHD daemon, in epoll mode with no
 * MHD thread and no listening socket of its own: libevent watches the
 * daemon's epoll descriptor and a timer set from MHD_get_timeout(), and
 * calls MHD_run() on either.  Requests go through
 * one route table; a route is a row and a function.  The WebSocket
 * handshake (RFC 6455 section 4.2) is checked here, then the socket goes
 * to ws.c.  Not for protocol logic: signaling is sig.c, ICE configs
 * ice.c, the metrics text metrics.c.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "alloc.h"
#include "clock.h"
#include "conf.h"
#include "http.h"
#include "ice.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "sig.h"
#include "sock.h"
#include "ws.h"

#define HTTP_RUN_MAX_MS 1000

struct http_set;

struct http_listener {
	struct MHD_Daemon *mhd;
	struct event *ev;	      /* the daemon's epoll descriptor */
	struct evconnlistener *lev; /* owns the listening socket */
	struct http_set *hs;
};

struct http_set {
	struct event_base *base;
	const struct conf **conf;
	struct server *srv;
	struct ws_set *ws;
	struct sig_hub *hub;
	struct event *timer;
	struct event *resume; /* listeners paused for want of descriptors */
	unsigned int n;
	struct http_listener listeners[CONF_MAX_LISTEN];
	unsigned int connections; /* open HTTP connections */
	uint64_t started_ms;
	char *tls_cert, *tls_key; /* PEM text, alive as long as MHD */
};

/* One request, as a route sees it. */
struct http_req {
	struct http_set *hs;
	struct MHD_Connection *c;
	const char *url;
	const char *method;
};

typedef enum MHD_Result http_route_fn(struct http_req *r);

struct http_route {
	const char *path;
	bool prefix;
	http_route_fn *handle;
};

static http_route_fn route_ws, route_healthz, route_metrics, route_ice_servers,
	route_turn, route_static;

/* The routes, first match wins; every route answers GET and HEAD. */
static const struct http_route http_routes[] = {
	{ "/ws", false, route_ws },
	{ "/healthz", false, route_healthz },
	{ "/metrics", false, route_metrics },
	{ "/api/ice-servers", false, route_ice_servers },
	{ "/api/turn", false, route_turn },
	{ "/", true, route_static },
};

static const char *
http_header(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

/* Answer with a copy of body; the one place responses are queued. */
static enum MHD_Result
http_reply(struct http_req *r, unsigned int status, const char *type,
	   const char *body, size_t len, const char *cache)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body,
					       MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control",
				cache ? cache : "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(r->c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* RFC 9110 section 15.5.6: a 405 names the methods that are allowed. */
static enum MHD_Result
http_not_allowed(struct http_req *r)
{
	static const char msg[] = "method not allowed\n";
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
					       MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
				"text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Allow", "GET, HEAD");
	ret = MHD_queue_response(r->c, 405, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
http_text(struct http_req *r, unsigned int status, const char *text)
{
	return http_reply(r, status, "text/plain; charset=utf-8", text,
			  strlen(text), NULL);
}

static bool http_origin_ok(struct http_req *r);

/*
 * CORS for /api: a page from an allowed origin (http_origin_ok) may read
 * the answer.  Nothing is added for a request without Origin.
 */
static void
http_cors(struct http_req *r, struct MHD_Response *resp)
{
	const char *origin = http_header(r, "Origin");

	if (origin == NULL || !http_origin_ok(r))
		return;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(resp, "Vary", "Origin");
}

/* A CORS preflight for /api (the Authorization header is not simple). */
static enum MHD_Result
http_preflight(struct http_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (strncmp(r->url, "/api/", 5) != 0 ||
	    http_header(r, "Origin") == NULL)
		return http_not_allowed(r);
	if (!http_origin_ok(r))
		return http_text(r, 403, "origin not allowed\n");
	resp = MHD_create_response_from_buffer(0, (void *)"",
					       MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	http_cors(r, resp);
	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
				"GET, HEAD");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers",
				"Authorization");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	ret = MHD_queue_response(r->c, 204, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Answer with a JSON object, which is consumed. */
static enum MHD_Result
http_json(struct http_req *r, unsigned int status, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	json_decref(obj);
	if (text == NULL)
		return http_text(r, 500, "out of memory\n");
	resp = MHD_create_response_from_buffer(strlen(text), text,
					       MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	http_cors(r, resp);
	ret = MHD_queue_response(r->c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
http_json_error(struct http_req *r, unsigned int status, const char *msg)
{
	return http_json(r, status, json_pack("{s:s}", "error", msg));
}

/*
 * The Host header without its port, for ICE server URLs: a name of
 * letters, digits, dots and hyphens, or an IPv6 literal in brackets.
 * Returns false for anything else (it would end up in a URL a browser
 * uses); no Host at all gives "localhost".
 */
static bool
http_host(struct http_req *r, char *out, size_t cap)
{
	const char *host = http_header(r, "Host");
	const char *end;
	size_t n;

	if (host == NULL || *host == '\0') {
		snprintf(out, cap, "localhost");
		return true;
	}
	if (host[0] == '[') {
		if ((end = strchr(host, ']')) == NULL)
			return false;
		end++;
	} else {
		end = strchr(host, ':');
		end = end ? end : host + strlen(host);
	}
	n = (size_t)(end - host);
	if (n == 0 || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      (host[0] == '[' && (c == ':' || c == '[' || c == ']'))))
			return false;
	}
	memcpy(out, host, n);
	out[n] = '\0';
	return true;
}

/*
 * Whether the request's Origin may use /ws and /api: an entry of
 * http.allowed_origins, or, when that list is empty, the server's own
 * host (Origin's host:port equal to Host).  No Origin header: not a
 * browser, nothing to protect against (RFC 6455 section 10.2).
 */
static bool
http_origin_ok(struct http_req *r)
{
	const struct conf *conf = *r->hs->conf;
	const char *origin = http_header(r, "Origin");
	const char *host = http_header(r, "Host");
	const char *p;

	if (origin == NULL)
		return true;
	if (conf->http_allowed_origins.n > 0) {
		for (unsigned int i = 0; i < conf->http_allowed_origins.n; i++)
			if (strcasecmp(origin,
				       conf->http_allowed_origins.v[i]) == 0)
				return true;
		return false;
	}
	if (host == NULL || (p = strstr(origin, "://")) == NULL)
		return false;
	return strcasecmp(p + 3, host) == 0;
}

/* http.api_key, when set: ?key= or Authorization: Bearer. */
static bool
http_key_ok(struct http_req *r)
{
	const char *want = (*r->hs->conf)->http_api_key;
	const char *got;
	size_t n;

	if (want[0] == '\0')
		return true;
	got = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, "key");
	if (got == NULL) {
		got = http_header(r, "Authorization");
		if (got != NULL && strncasecmp(got, "Bearer ", 7) == 0)
			got += 7;
		else
			got = NULL;
	}
	n = strlen(want);
	return got != NULL && strlen(got) == n &&
	       CRYPTO_memcmp(got, want, n) == 0;
}

/* Whether the client connected from 127.0.0.0/8 or ::1. */
static bool
http_client_loopback(struct http_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)
				      ->sin_addr.s_addr) >>
			24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static enum MHD_Result
route_healthz(struct http_req *r)
{
	return http_text(r, 200, "ok\n");
}

static enum MHD_Result
route_metrics(struct http_req *r)
{
	struct http_set *hs = r->hs;
	struct alloc_totals at;
	struct metrics_gauges g = {
		.ws_connections = hs->ws ? ws_count(hs->ws) : 0,
		.http_connections = hs->connections,
		.uptime_seconds =
			(double)(clock_mono_ms() - hs->started_ms) / 1000.0,
	};
	enum MHD_Result ret;
	size_t len;
	char *text;

	/* Counters say much about a server: loopback clients (a local
	 * Prometheus or agent) may read them, others need http.api_key. */
	if (!http_client_loopback(r) &&
	    ((*hs->conf)->http_api_key[0] == '\0' || !http_key_ok(r)))
		return http_text(r, 403,
				 "metrics: loopback clients or the API "
				 "key only\n");
	if (hs->srv->allocs != NULL)
		alloc_totals(hs->srv->allocs, &at);
	text = metrics_render(hs->srv->stats,
			      hs->srv->allocs != NULL ? &at : NULL,
			      hs->hub != NULL ? sig_hub_stats(hs->hub) : NULL,
			      &g, PACKAGE_VERSION, &len);
	if (text == NULL)
		return http_text(r, 500, "out of memory\n");
	ret = http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8",
			 text, len, NULL);
	free(text);
	return ret;
}

/* A short random user part for credentials asked for over /api. */
static void
http_random_user(char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[8];
	size_t i;

	(void)RAND_bytes(b, sizeof(b));
	for (i = 0; i < sizeof(b) && 2 * i + 2 < cap; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * i] = '\0';
}

static enum MHD_Result
route_ice_servers(struct http_req *r)
{
	char host[256], user[32];
	json_t *obj;

	if (!http_origin_ok(r))
		return http_json_error(r, 403, "origin not allowed");
	if (!http_key_ok(r))
		return http_json_error(r, 401, "api key required");
	if (!http_host(r, host, sizeof(host)))
		return http_json_error(r, 400, "bad Host header");
	http_random_user(user, sizeof(user));
	if ((obj = ice_config(*r->hs->conf, host, user, time(NULL))) == NULL)
		return http_json_error(r, 500, "out of memory");
	return http_json(r, 200, obj);
}

static enum MHD_Result
route_turn(struct http_req *r)
{
	const char *service, *username;
	char host[256], user[72];
	json_t *obj;

	if (!http_origin_ok(r))
		return http_json_error(r, 403, "origin not allowed");
	if (!http_key_ok(r))
		return http_json_error(r, 401, "api key required");
	service = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
					      "service");
	if (service != NULL && strcmp(service, "turn") != 0)
		return http_json_error(r, 400, "service must be turn");
	username = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND,
					       "username");
	if (username != NULL &&
	    (strlen(username) == 0 || strlen(username) > 64 ||
	     strpbrk(username, ":\"\\") != NULL))
		return http_json_error(r, 400, "bad username");
	if (username != NULL)
		snprintf(user, sizeof(user), "%s", username);
	else
		http_random_user(user, sizeof(user));
	if (!http_host(r, host, sizeof(host)))
		return http_json_error(r, 400, "bad Host header");
	if ((obj = ice_turn_rest(*r->hs->conf, host, user, time(NULL))) == NULL)
		return http_json_error(r, 503, "no TURN secret configured");
	return http_json(r, 200, obj);
}

/* Content types by file extension. */
static const struct {
	const char *ext;
	const char *type;
} http_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".webp", "image/webp" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".map", "application/json" },
};

static const char *
http_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0;
	     dot && i < sizeof(http_types) / sizeof(http_types[0]); i++)
		if (strcasecmp(dot, http_types[i].ext) == 0)
			return http_types[i].type;
	return "application/octet-stream";
}

/*
 * Whether a URL path may name a file: absolute, no "..", "." or empty
 * segment beyond the root, no backslash and no control character.  The
 * file is also opened relative to the webroot with O_NOFOLLOW on the
 * last component, and must be a regular file.
 */
static bool
http_path_ok(const char *path)
{
	const char *seg;

	if (path[0] != '/')
		return false;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\\' || *p == 0x7f)
			return false;
	for (seg = path + 1; *seg; seg++) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		/* No "." or "..", and no hidden file (.git, .env, ...). */
		if ((n > 0 && seg[0] == '.') || (n == 0 && end != NULL))
			return false;
		if (end == NULL)
			break;
		seg = end;
	}
	return true;
}

/*
 * Open the file at url (checked by http_path_ok) below root, one path
 * component at a time with O_NOFOLLOW: a symbolic link anywhere below the
 * webroot, to a file or a directory, is not followed, so nothing outside
 * it can be served.  Returns a descriptor or -1.
 */
static int
http_open_beneath(const char *root, const char *url)
{
	char comp[NAME_MAX + 1];
	const char *p = url + 1;
	int dir, fd;

	if ((dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;

		if (n == 0 || n > NAME_MAX) {
			close(dir);
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (slash != NULL)
			flags |= O_DIRECTORY;
		fd = openat(dir, comp, flags);
		close(dir);
		if (fd == -1 || slash == NULL)
			return fd;
		dir = fd;
		p = slash + 1;
	}
}

static enum MHD_Result
route_static(struct http_req *r)
{
	const char *root = (*r->hs->conf)->http_webroot;
	struct MHD_Response *resp;
	const char *url = r->url;
	enum MHD_Result ret;
	struct stat st;
	int fd;

	if (!http_path_ok(url))
		return http_text(r, 404, "not found\n");
	if (strcmp(url, "/") == 0)
		url = "/index.html";
	fd = http_open_beneath(root, url);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (fd != -1)
			close(fd);
		return http_text(r, 404, "not found\n");
	}
	/* MHD owns fd from here and closes it with the response. */
	resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (resp == NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", http_type(url));
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* Pages are checked on every load; their assets may be cached. */
	MHD_add_response_header(resp, "Cache-Control",
				strstr(http_type(url), "text/html")
					? "no-cache"
					: "public, max-age=3600");
	ret = MHD_queue_response(r->c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Whether the comma-separated header value has token (any case). */
static bool
http_has_token(const char *value, const char *token)
{
	size_t n = strlen(token);

	while (value != NULL && *value) {
		while (*value == ' ' || *value == '\t' || *value == ',')
			value++;
		if (strncasecmp(value, token, n) == 0 &&
		    (value[n] == '\0' || value[n] == ',' || value[n] == ' ' ||
		     value[n] == '\t'))
			return true;
		value = strchr(value, ',');
	}
	return false;
}

/* Context of one upgrade: the Host, to give ws.c. */
struct http_upgrade {
	struct http_set *hs;
	char host[256];
};

static void
http_upgrade_cb(void *cls, struct MHD_Connection *connection, void *con_cls,
		const char *extra, size_t extra_len, MHD_socket sock,
		struct MHD_UpgradeResponseHandle *urh)
{
	struct http_upgrade *u = cls;

	ws_open(u->hs->ws, sock, urh, extra, extra_len, u->host);
	free(u);
}

/*
 * RFC 6455 section 4.2.1: a GET over HTTP/1.1 with Upgrade: websocket,
 * Connection: Upgrade, a 16-byte base64 Sec-WebSocket-Key and
 * Sec-WebSocket-Version: 13 (else 426 naming 13); the Origin checked as
 * http_origin_ok() does (403).  Section 4.2.2: the answer carries
 * Sec-WebSocket-Accept, base64(SHA-1(key + GUID)).
 */
static enum MHD_Result
route_ws(struct http_req *r)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	const char *key = http_header(r, "Sec-WebSocket-Key");
	const char *version = http_header(r, "Sec-WebSocket-Version");
	unsigned char decoded[32], digest[SHA_DIGEST_LENGTH];
	char accept[64], concat[128];
	struct MHD_Response *resp;
	struct http_upgrade *u;
	enum MHD_Result ret;
	int n;

	if (r->hs->ws == NULL || r->hs->hub == NULL)
		return http_text(r, 404, "not found\n");
	if (strcmp(r->method, "GET") != 0 ||
	    !http_has_token(http_header(r, "Upgrade"), "websocket") ||
	    !http_has_token(http_header(r, "Connection"), "upgrade"))
		return http_text(r, 400, "a WebSocket handshake is expected\n");
	if (version == NULL || strcmp(version, "13") != 0) {
		static const char msg[] = "WebSocket version 13 only\n";

		resp = MHD_create_response_from_buffer(
			sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			return MHD_NO;
		MHD_add_response_header(resp, "Sec-WebSocket-Version", "13");
		MHD_add_response_header(resp, "Content-Type",
					"text/plain; charset=utf-8");
		ret = MHD_queue_response(r->c, 426, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (key == NULL || strlen(key) != 24 ||
	    (n = EVP_DecodeBlock(decoded, (const unsigned char *)key, 24)) !=
		    18 ||
	    key[22] != '=' || key[23] != '=')
		return http_text(r, 400, "bad Sec-WebSocket-Key\n");
	if (!http_origin_ok(r))
		return http_text(r, 403, "origin not allowed\n");
	if (ws_count(r->hs->ws) >=
	    (unsigned int)(*r->hs->conf)->sig_max_connections)
		return http_text(r, 503, "too many connections\n");

	snprintf(concat, sizeof(concat), "%s%s", key, guid);
	SHA1((const unsigned char *)concat, strlen(concat), digest);
	EVP_EncodeBlock((unsigned char *)accept, digest, sizeof(digest));

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return MHD_NO;
	u->hs = r->hs;
	if (!http_host(r, u->host, sizeof(u->host))) {
		free(u);
		return http_text(r, 400, "bad Host header\n");
	}
	if ((resp = MHD_create_response_for_upgrade(http_upgrade_cb, u)) ==
	    NULL) {
		free(u);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	ret = MHD_queue_response(r->c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	if (ret != MHD_YES)
		free(u);
	return ret;
}

/* libmicrohttpd's access handler: find the route, answer. */
static enum MHD_Result
http_access_cb(void *cls, struct MHD_Connection *c, const char *url,
	       const char *method, const char *version, const char *upload_data,
	       size_t *upload_data_size, void **con_cls)
{
	struct http_req r = { cls, c, url, method };

	/* Headers first; a body is neither expected nor read. */
	if (*con_cls == NULL) {
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "OPTIONS") == 0)
		return http_preflight(&r);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_not_allowed(&r);
	for (size_t i = 0; i < sizeof(http_routes) / sizeof(http_routes[0]);
	     i++) {
		const struct http_route *rt = &http_routes[i];

		if (rt->prefix ? strncmp(url, rt->path, strlen(rt->path)) == 0
			       : strcmp(url, rt->path) == 0)
			return rt->handle(&r);
	}
	return http_text(&r, 404, "not found\n");
}

static void
http_notify_cb(void *cls, struct MHD_Connection *c, void **socket_context,
	       enum MHD_ConnectionNotificationCode code)
{
	struct http_set *hs = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		hs->connections++;
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED && hs->connections > 0)
		hs->connections--;
}

static void
http_log_cb(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	if (!log_debug_enabled())
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

/* Run every daemon, then set the timer for the soonest timeout. */
static void
http_run(struct http_set *hs)
{
	MHD_UNSIGNED_LONG_LONG soonest = HTTP_RUN_MAX_MS, t;
	struct timeval tv;

	for (unsigned int i = 0; i < hs->n; i++) {
		MHD_run(hs->listeners[i].mhd);
		if (MHD_get_timeout(hs->listeners[i].mhd, &t) == MHD_YES &&
		    t < soonest)
			soonest = t;
	}
	tv.tv_sec = (time_t)(soonest / 1000);
	tv.tv_usec = (suseconds_t)(soonest % 1000) * 1000;
	evtimer_add(hs->timer, &tv);
}

static void
http_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	http_run(arg);
}

void
http_kick(void *arg)
{
	struct http_set *hs = arg;
	struct timeval now = { 0, 0 };

	evtimer_add(hs->timer, &now);
}

/* Read a whole (small) PEM file; NULL after logging why. */
static char *
http_read_pem(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL) {
		log_warn("http: cannot open %s", path);
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) == -1 || (n = ftell(fp)) < 0 ||
	    n > 1 << 20 || fseek(fp, 0, SEEK_SET) == -1 ||
	    (buf = calloc(1, (size_t)n + 1)) == NULL) {
		fclose(fp);
		log_warnx("http: cannot read %s", path);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		fclose(fp);
		free(buf);
		log_warnx("http: cannot read %s", path);
		return NULL;
	}
	fclose(fp);
	return buf;
}

static struct MHD_Daemon *
http_start(struct http_set *hs)
{
	const struct conf *conf = *hs->conf;
	unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_UPGRADE |
			     MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
	struct MHD_OptionItem opts[] = {
		/* The logger first, or MHD logs its complaint elsewhere. */
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)http_log_cb, hs },
		{ MHD_OPTION_CONNECTION_LIMIT,
		  (intptr_t)conf->http_max_connections, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)http_notify_cb, hs },
		/* HTTPS, when configured; else these end the list. */
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (hs->tls_cert != NULL) {
		flags |= MHD_USE_TLS;
		opts[4] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
						   hs->tls_cert };
		opts[5] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
						   hs->tls_key };
	}
	return MHD_start_daemon(flags, 0, NULL, NULL, http_access_cb, hs,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

/*
 * A connection accepted on a listener goes to its MHD daemon, which owns
 * the socket from then on (and closes it if over http.max_connections).
 */
static void
http_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
	       struct sockaddr *sa, int salen, void *arg)
{
	struct http_listener *l = arg;

	if (MHD_add_connection(l->mhd, fd, sa, (socklen_t)salen) != MHD_YES)
		log_debug("http: connection not taken: %s", strerror(errno));
	http_kick(l->hs);
}

/* Listen again after descriptors ran out (http_accept_error_cb). */
static void
http_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_set *hs = arg;

	for (unsigned int i = 0; i < hs->n; i++)
		evconnlistener_enable(hs->listeners[i].lev);
}

static void
http_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct http_listener *l = arg;
	struct http_set *hs = l->hs;
	struct timeval pause = { 0, 100 * 1000 };

	log_debug("http: accept: %s", strerror(errno));
	/* Out of descriptors: the pending connection stays readable, so a
	 * listener left on would spin.  Pause them all for 100 ms; what is
	 * open keeps being served. */
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		for (unsigned int i = 0; i < hs->n; i++)
			evconnlistener_disable(hs->listeners[i].lev);
		event_add(hs->resume, &pause);
	}
}

struct http_set *
http_open(struct event_base *base, const struct conf **confp,
	  struct server *srv)
{
	const struct conf *conf = *confp;
	struct http_set *hs;
	char name[ADDR_STRLEN];

	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		return NULL;
	hs->base = base;
	hs->conf = confp;
	hs->srv = srv;
	hs->started_ms = clock_mono_ms();
	if ((hs->timer = evtimer_new(base, http_ready_cb, hs)) == NULL ||
	    (hs->resume = evtimer_new(base, http_resume_cb, hs)) == NULL)
		goto fail;
	if (conf->http_tls_certificate[0] != '\0') {
		hs->tls_cert = http_read_pem(conf->http_tls_certificate);
		hs->tls_key = http_read_pem(conf->http_tls_private_key);
		if (hs->tls_cert == NULL || hs->tls_key == NULL)
			goto fail;
	}
	for (unsigned int i = 0; i < conf->http_listen.n; i++) {
		const struct sockaddr *sa =
			(const struct sockaddr *)&conf->http_listen.addr[i];
		struct http_listener *l = &hs->listeners[hs->n];
		const union MHD_DaemonInfo *info;
		int fd;

		addr_str(sa, name, sizeof(name));
		if ((fd = sock_bind(sa, SOCK_STREAM)) == -1) {
			if (sock_family_missing(errno)) {
				log_warn("http %s skipped", name);
				continue;
			}
			log_warn("cannot listen on http %s", name);
			goto fail;
		}
		if ((l->mhd = http_start(hs)) == NULL) {
			close(fd);
			log_warnx("http %s: libmicrohttpd did not start", name);
			goto fail;
		}
		info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
		l->hs = hs;
		l->ev = event_new(base, info->epoll_fd, EV_READ | EV_PERSIST,
				  http_ready_cb, hs);
		l->lev = evconnlistener_new(base, http_accept_cb, l,
					    LEV_OPT_CLOSE_ON_FREE, -1, fd);
		if (l->lev == NULL)
			close(fd);
		if (l->ev == NULL || event_add(l->ev, NULL) == -1 ||
		    l->lev == NULL) {
			if (l->lev != NULL)
				evconnlistener_free(l->lev);
			if (l->ev != NULL)
				event_free(l->ev);
			MHD_stop_daemon(l->mhd);
			log_warnx("http %s: cannot watch the socket", name);
			goto fail;
		}
		evconnlistener_set_error_cb(l->lev, http_accept_error_cb);
		hs->n++;
		log_info("listening on %s %s", hs->tls_cert ? "https" : "http",
			 name);
	}
	http_run(hs);
	return hs;
fail:
	http_close(hs);
	return NULL;
}

void
http_attach(struct http_set *hs, struct ws_set *ws, struct sig_hub *hub)
{
	hs->ws = ws;
	hs->hub = hub;
}

unsigned int
http_count(const struct http_set *hs)
{
	return hs->n;
}

void
http_close(struct http_set *hs)
{
	if (hs == NULL)
		return;
	for (unsigned int i = 0; i < hs->n; i++) {
		evconnlistener_free(hs->listeners[i].lev);
		event_free(hs->listeners[i].ev);
		MHD_stop_daemon(hs->listeners[i].mhd);
	}
	if (hs->timer != NULL)
		event_free(hs->timer);
	if (hs->resume != NULL)
		event_free(hs->resume);
	if (hs->tls_key != NULL) {
		OPENSSL_cleanse(hs->tls_key, strlen(hs->tls_key));
		free(hs->tls_key);
	}
	free(hs->tls_cert);
	free(hs);
}
