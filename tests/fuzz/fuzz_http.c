/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_http.c: libFuzzer target for what the HTTP side decides on request
 * data (src/httpreq.c): the route, the static-file path check and content
 * type, Host for ICE server URLs, Origin, the API key, /metrics access,
 * the CORS preflight, the WebSocket handshake checks and
 * Sec-WebSocket-Accept, and the /api/turn query.  libmicrohttpd's own
 * parsing is not ours and not here: the request comes as the strings it
 * would hand to http.c.
 *
 * Input: one setup byte, then up to twelve fields separated by NUL bytes,
 * in this order: method, URL path, Host, Origin, Authorization, Upgrade,
 * Connection, Sec-WebSocket-Key, Sec-WebSocket-Version, ?key=, ?service=,
 * ?username=.  A field that is the single byte 0xFF, or is missing at the
 * end, is absent (no method is GET, no path "/").
 *
 *   setup  bits 0-1: http.allowed_origins empty, one entry, two entries
 *                    or empty again
 *          bit 2: http.api_key "s3cret" (else none)
 *          bits 3-4: the client address: unknown, 127.0.0.1, ::1 or
 *                    192.0.2.1
 *          bit 5: a Host buffer of 8 bytes instead of 256
 *
 * Invariants checked: each decision agrees with what its contract says,
 * written again here as plainly as possible: an accepted path has no
 * control character, backslash, empty, "." or ".." segment; an accepted
 * Host copy is short enough, NUL-terminated, of the allowed characters,
 * and a prefix of the header; an accepted Origin is in the list or names
 * the Host; an accepted key equals http.api_key; a handshake accepted has
 * a 24-character key of 16 bytes and gets a 28-character accept value.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "conf.h"
#include "fuzz.h"
#include "httpreq.h"

#define NFIELDS 12
#define ABSENT  0xff

static char no_key[] = "";
static char api_key[] = "s3cret";
static char origin_a[] = "https://app.example.org";
static char origin_b[] = "http://localhost:8080";
static char *origins[] = { origin_a, origin_b };

/* The route, as the table in httpreq.c reads. */
static enum httpreq_route
route_reference(const struct httpreq *rq)
{
	static const char *exact[] = { "/ws", "/healthz", "/metrics",
				       "/api/ice-servers", "/api/turn" };
	static const enum httpreq_route routes[] = {
		HTTPREQ_WS, HTTPREQ_HEALTHZ, HTTPREQ_METRICS,
		HTTPREQ_ICE_SERVERS, HTTPREQ_TURN
	};

	if (strcmp(rq->method, "OPTIONS") == 0)
		return HTTPREQ_PREFLIGHT;
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
		return HTTPREQ_NOT_ALLOWED;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(rq->url, exact[i]) == 0)
			return routes[i];
	return rq->url[0] == '/' ? HTTPREQ_STATIC : HTTPREQ_NOT_FOUND;
}

/* An accepted path: segment by segment, nothing that climbs or hides. */
static void
check_path(const char *path)
{
	const char *seg = path + 1;

	FUZZ_ASSERT(path[0] == '/');
	for (const char *p = path; *p; p++)
		FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f &&
			    *p != '\\');
	while (*seg != '\0') {
		size_t n = strcspn(seg, "/");

		FUZZ_ASSERT(seg[0] != '.');
		if (seg[n] == '\0')
			break;
		FUZZ_ASSERT(n > 0);
		seg += n + 1;
	}
}

static void
check_host(const struct httpreq *rq, size_t cap)
{
	char out[256];
	size_t n;

	memset(out, 'x', sizeof(out));
	if (!httpreq_host(rq, out, cap))
		return;
	n = strnlen(out, cap);
	FUZZ_ASSERT(n < cap && n > 0);
	if (rq->host == NULL || rq->host[0] == '\0') {
		FUZZ_ASSERT(strcmp(out, "localhost") == 0 ||
			    strncmp(out, "localhost", cap - 1) == 0);
		return;
	}
	FUZZ_ASSERT(strncmp(out, rq->host, n) == 0);
	/* A name ends at the port; a literal at its bracket. */
	if (out[0] != '[')
		FUZZ_ASSERT(rq->host[n] == '\0' || rq->host[n] == ':');
	if (out[0] == '[')
		FUZZ_ASSERT(out[n - 1] == ']' &&
			    strspn(out,
				   "[]:0123456789abcdefABCDEF"
				   "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ"
				   ".-") == n);
	else
		FUZZ_ASSERT(strspn(out, "0123456789.-"
					"abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n);
}

static void
check_origin(const struct httpreq *rq, const struct conf *conf)
{
	const char *p;
	bool listed = false;

	if (!httpreq_origin_ok(rq, conf) || rq->origin == NULL)
		return;
	for (unsigned int i = 0; i < conf->http_allowed_origins.n; i++)
		listed |= strcasecmp(rq->origin,
				     conf->http_allowed_origins.v[i]) == 0;
	if (conf->http_allowed_origins.n > 0) {
		FUZZ_ASSERT(listed);
		return;
	}
	FUZZ_ASSERT(rq->host != NULL &&
		    (p = strstr(rq->origin, "://")) != NULL &&
		    strcasecmp(p + 3, rq->host) == 0);
}

static void
check_key(const struct httpreq *rq, const struct conf *conf)
{
	const char *want = conf->http_api_key;
	const char *auth = rq->authorization;

	if (httpreq_key_ok(rq, want) && want[0] != '\0') {
		if (rq->arg_key != NULL)
			FUZZ_ASSERT(strcmp(rq->arg_key, want) == 0);
		else
			FUZZ_ASSERT(auth != NULL &&
				    strncasecmp(auth, "bearer ", 7) == 0 &&
				    strcmp(auth + 7, want) == 0);
	}
	if (httpreq_metrics_allowed(rq, conf))
		FUZZ_ASSERT(httpreq_loopback(rq->client) ||
			    (want[0] != '\0' && httpreq_key_ok(rq, want)));
}

static void
check_ws(const struct httpreq *rq, const struct conf *conf)
{
	char accept[HTTPREQ_ACCEPT_LEN + 8];
	const char *why = NULL;
	int status = httpreq_ws_check(rq, conf, &why);

	FUZZ_ASSERT(status == 0 || status == 400 || status == 403 ||
		    status == 426);
	FUZZ_ASSERT(status == 0 || (why != NULL && strchr(why, '\n')));
	if (status == 426)
		FUZZ_ASSERT(rq->ws_version == NULL ||
			    strcmp(rq->ws_version, "13") != 0);
	if (status == 403)
		FUZZ_ASSERT(!httpreq_origin_ok(rq, conf));
	if (status != 0)
		return;
	FUZZ_ASSERT(strcmp(rq->method, "GET") == 0);
	FUZZ_ASSERT(httpreq_has_token(rq->upgrade, "websocket"));
	FUZZ_ASSERT(httpreq_has_token(rq->connection, "upgrade"));
	FUZZ_ASSERT(strcmp(rq->ws_version, "13") == 0);
	FUZZ_ASSERT(strlen(rq->ws_key) == 24 && rq->ws_key[22] == '=' &&
		    rq->ws_key[23] == '=');
	FUZZ_ASSERT(strspn(rq->ws_key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz"
				       "0123456789+/") == 22);
	memset(accept, 'x', sizeof(accept));
	httpreq_ws_accept(rq->ws_key, accept);
	FUZZ_ASSERT(strlen(accept) == HTTPREQ_ACCEPT_LEN - 1);
	FUZZ_ASSERT(accept[27] == '=');
}

static void
check_turn_args(const struct httpreq *rq)
{
	const char *why = NULL;
	int status = httpreq_turn_args(rq, &why);

	FUZZ_ASSERT(status == 0 || (status == 400 && why != NULL));
	if (status != 0)
		return;
	FUZZ_ASSERT(rq->arg_service == NULL ||
		    strcmp(rq->arg_service, "turn") == 0);
	if (rq->arg_username != NULL) {
		size_t n = strlen(rq->arg_username);

		FUZZ_ASSERT(n >= 1 && n <= 64);
		FUZZ_ASSERT(strcspn(rq->arg_username, ":\"\\") == n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int norigins[] = { 0, 1, 2, 0 };
	const char *field[NFIELDS] = { 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct conf conf = { .http_api_key = no_key };
	struct httpreq rq;
	char *text;
	size_t off = 1;
	uint8_t setup;
	int status;

	if (size < 1)
		return 0;
	setup = data[0];
	/* A copy with a NUL after the last field. */
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (int i = 0; i < NFIELDS && off <= size; i++) {
		char *f = text + off;

		off += strlen(f) + 1;
		field[i] = ((uint8_t)f[0] == ABSENT && f[1] == '\0') ? NULL : f;
	}

	conf.http_allowed_origins.n = norigins[setup & 3];
	conf.http_allowed_origins.v = origins;
	if (setup & 0x04)
		conf.http_api_key = api_key;
	rq = (struct httpreq){
		.method = field[0] ? field[0] : "GET",
		.url = field[1] ? field[1] : "/",
		.host = field[2],
		.origin = field[3],
		.authorization = field[4],
		.upgrade = field[5],
		.connection = field[6],
		.ws_key = field[7],
		.ws_version = field[8],
		.arg_key = field[9],
		.arg_service = field[10],
		.arg_username = field[11],
	};
	switch ((setup >> 3) & 3) {
	case 1:
		inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
		rq.client = (struct sockaddr *)&sin;
		break;
	case 2:
		inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
		rq.client = (struct sockaddr *)&sin6;
		break;
	case 3:
		inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
		rq.client = (struct sockaddr *)&sin;
		break;
	}

	FUZZ_ASSERT(httpreq_route(&rq) == route_reference(&rq));
	if (httpreq_path_ok(rq.url))
		check_path(rq.url);
	FUZZ_ASSERT(httpreq_type(rq.url) != NULL);
	check_host(&rq, (setup & 0x20) ? 8 : 256);
	check_origin(&rq, &conf);
	check_key(&rq, &conf);
	status = httpreq_preflight(&rq, &conf);
	FUZZ_ASSERT(status == 204 || status == 403 || status == 405);
	if (status == 204)
		FUZZ_ASSERT(strncmp(rq.url, "/api/", 5) == 0 &&
			    rq.origin != NULL && httpreq_origin_ok(&rq, &conf));
	check_ws(&rq, &conf);
	check_turn_args(&rq);
	free(text);
	return 0;
}
