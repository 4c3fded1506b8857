/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * httpreq.c: the HTTP side's decisions on request data, apart from
 * libmicrohttpd so that unit tests and a fuzz target can reach them: the
 * route table, Host and Origin, the API key, the static-file path checks,
 * the WebSocket handshake checks and the /api/turn query.  Not for
 * answering: http.c queues the responses, opens files and hands the
 * upgraded socket to ws.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "conf.h"
#include "httpreq.h"

#define HTTPREQ_BASE64                                                         \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/* The routes, first match wins; every route answers GET and HEAD. */
static const struct {
	const char *path;
	bool prefix;
	enum httpreq_route route;
} httpreq_routes[] = {
	{ "/ws", false, HTTPREQ_WS },
	{ "/healthz", false, HTTPREQ_HEALTHZ },
	{ "/metrics", false, HTTPREQ_METRICS },
	{ "/api/ice-servers", false, HTTPREQ_ICE_SERVERS },
	{ "/api/turn", false, HTTPREQ_TURN },
	{ "/", true, HTTPREQ_STATIC },
};

/* Content types by file extension. */
static const struct {
	const char *ext;
	const char *type;
} httpreq_types[] = {
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

enum httpreq_route
httpreq_route(const struct httpreq *rq)
{
	if (strcmp(rq->method, "OPTIONS") == 0)
		return HTTPREQ_PREFLIGHT;
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
		return HTTPREQ_NOT_ALLOWED;
	for (size_t i = 0;
	     i < sizeof(httpreq_routes) / sizeof(httpreq_routes[0]); i++) {
		const char *path = httpreq_routes[i].path;

		if (httpreq_routes[i].prefix
			    ? strncmp(rq->url, path, strlen(path)) == 0
			    : strcmp(rq->url, path) == 0)
			return httpreq_routes[i].route;
	}
	return HTTPREQ_NOT_FOUND;
}

bool
httpreq_host(const struct httpreq *rq, char *out, size_t cap)
{
	const char *host = rq->host;
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

bool
httpreq_origin_ok(const struct httpreq *rq, const struct conf *conf)
{
	const char *p;

	if (rq->origin == NULL)
		return true;
	if (conf->http_allowed_origins.n > 0) {
		for (unsigned int i = 0; i < conf->http_allowed_origins.n; i++)
			if (strcasecmp(rq->origin,
				       conf->http_allowed_origins.v[i]) == 0)
				return true;
		return false;
	}
	if (rq->host == NULL || (p = strstr(rq->origin, "://")) == NULL)
		return false;
	return strcasecmp(p + 3, rq->host) == 0;
}

bool
httpreq_key_ok(const struct httpreq *rq, const char *want)
{
	const char *got = rq->arg_key;
	size_t n;

	if (want[0] == '\0')
		return true;
	if (got == NULL) {
		got = rq->authorization;
		if (got != NULL && strncasecmp(got, "Bearer ", 7) == 0)
			got += 7;
		else
			got = NULL;
	}
	n = strlen(want);
	return got != NULL && strlen(got) == n &&
	       CRYPTO_memcmp(got, want, n) == 0;
}

bool
httpreq_loopback(const struct sockaddr *sa)
{
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

bool
httpreq_metrics_allowed(const struct httpreq *rq, const struct conf *conf)
{
	/* Counters say much about a server: loopback clients (a local
	 * Prometheus or agent) may read them, others need http.api_key. */
	return httpreq_loopback(rq->client) ||
	       (conf->http_api_key[0] != '\0' &&
		httpreq_key_ok(rq, conf->http_api_key));
}

int
httpreq_preflight(const struct httpreq *rq, const struct conf *conf)
{
	if (strncmp(rq->url, "/api/", 5) != 0 || rq->origin == NULL)
		return 405;
	if (!httpreq_origin_ok(rq, conf))
		return 403;
	return 204;
}

bool
httpreq_path_ok(const char *path)
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

const char *
httpreq_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0;
	     dot && i < sizeof(httpreq_types) / sizeof(httpreq_types[0]); i++)
		if (strcasecmp(dot, httpreq_types[i].ext) == 0)
			return httpreq_types[i].type;
	return "application/octet-stream";
}

bool
httpreq_has_token(const char *value, const char *token)
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

int
httpreq_ws_check(const struct httpreq *rq, const struct conf *conf,
		 const char **why)
{
	const char *key = rq->ws_key;

	if (strcmp(rq->method, "GET") != 0 ||
	    !httpreq_has_token(rq->upgrade, "websocket") ||
	    !httpreq_has_token(rq->connection, "upgrade")) {
		*why = "a WebSocket handshake is expected\n";
		return 400;
	}
	if (rq->ws_version == NULL || strcmp(rq->ws_version, "13") != 0) {
		*why = "WebSocket version 13 only\n";
		return 426;
	}
	/* 16 bytes in base64 are 22 characters of its alphabet and "==";
	 * OpenSSL's EVP_DecodeBlock() alone also took a '=' inside. */
	if (key == NULL || strlen(key) != 24 ||
	    strspn(key, HTTPREQ_BASE64) != 22 || strcmp(key + 22, "==") != 0) {
		*why = "bad Sec-WebSocket-Key\n";
		return 400;
	}
	if (!httpreq_origin_ok(rq, conf)) {
		*why = "origin not allowed\n";
		return 403;
	}
	return 0;
}

void
httpreq_ws_accept(const char *key, char out[HTTPREQ_ACCEPT_LEN])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char digest[SHA_DIGEST_LENGTH];
	char concat[128];

	snprintf(concat, sizeof(concat), "%s%s", key, guid);
	SHA1((const unsigned char *)concat, strlen(concat), digest);
	EVP_EncodeBlock((unsigned char *)out, digest, sizeof(digest));
}

int
httpreq_turn_args(const struct httpreq *rq, const char **why)
{
	const char *service = rq->arg_service, *username = rq->arg_username;

	if (service != NULL && strcmp(service, "turn") != 0) {
		*why = "service must be turn";
		return 400;
	}
	if (username != NULL &&
	    (strlen(username) == 0 || strlen(username) > 64 ||
	     strpbrk(username, ":\"\\") != NULL)) {
		*why = "bad username";
		return 400;
	}
	return 0;
}
