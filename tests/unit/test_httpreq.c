/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_httpreq.c: unit tests of the HTTP side's decisions on request data
 * (src/httpreq.c): the routes and methods, the static-file path checks,
 * content types, Host and Origin, the API key, /metrics access, the CORS
 * preflight, the WebSocket handshake checks with RFC 6455 section 1.3's
 * key and accept value, and the /api/turn query.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"
#include "httpreq.h"
#include "unit.h"

#define RFC6455_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC6455_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* struct conf holds writable strings. */
static char no_key[] = "";
static char api_key[] = "s3cret";
static char app_origin[] = "https://app.example.org";

/* A GET of url with nothing else. */
static struct httpreq
get(const char *url)
{
	struct httpreq rq = { .method = "GET", .url = url };

	return rq;
}

static void
test_route(void)
{
	static const struct {
		const char *method, *url;
		enum httpreq_route route;
	} cases[] = {
		{ "GET", "/ws", HTTPREQ_WS },
		{ "GET", "/healthz", HTTPREQ_HEALTHZ },
		{ "GET", "/metrics", HTTPREQ_METRICS },
		{ "GET", "/api/ice-servers", HTTPREQ_ICE_SERVERS },
		{ "GET", "/api/turn", HTTPREQ_TURN },
		/* Exact paths only; everything else under / is a file. */
		{ "GET", "/ws/", HTTPREQ_STATIC },
		{ "GET", "/api/turnx", HTTPREQ_STATIC },
		{ "GET", "/", HTTPREQ_STATIC },
		{ "GET", "*", HTTPREQ_NOT_FOUND },
		{ "GET", "", HTTPREQ_NOT_FOUND },
		{ "HEAD", "/healthz", HTTPREQ_HEALTHZ },
		{ "OPTIONS", "/healthz", HTTPREQ_PREFLIGHT },
		{ "POST", "/healthz", HTTPREQ_NOT_ALLOWED },
		/* Methods are case-sensitive (RFC 9110 section 9.1). */
		{ "get", "/healthz", HTTPREQ_NOT_ALLOWED },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct httpreq rq = { .method = cases[i].method,
				      .url = cases[i].url };

		CHECK_INT(httpreq_route(&rq), cases[i].route);
	}
}

static void
test_path(void)
{
	static const char *good[] = { "/",     "/index.html", "/a/b.js",
				      "/a..b", "/x/y/",       "/a.b/c" };
	static const char *bad[] = {
		"",        "index.html", "/..",   "/../etc/passwd",
		"/a/../b", "/.",         "/./a",  "/.git/config",
		"/a/.env", "//etc",      "/a//b", "/a\\b",
		"/a\tb",   "/a\x7f",     "/a\nb",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(httpreq_path_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!httpreq_path_ok(bad[i]));

	CHECK_STR(httpreq_type("/index.html"), "text/html; charset=utf-8");
	CHECK_STR(httpreq_type("/APP.JS"), "text/javascript; charset=utf-8");
	CHECK_STR(httpreq_type("/favicon.svg"), "image/svg+xml");
	CHECK_STR(httpreq_type("/a.tar.gz"), "application/octet-stream");
	CHECK_STR(httpreq_type("/README"), "application/octet-stream");
	CHECK_STR(httpreq_type("/x.html/y"), "application/octet-stream");
}

static void
test_host(void)
{
	struct httpreq rq = get("/api/turn");
	char out[16];

	CHECK(httpreq_host(&rq, out, sizeof(out)));
	CHECK_STR(out, "localhost");
	rq.host = "";
	CHECK(httpreq_host(&rq, out, sizeof(out)));
	CHECK_STR(out, "localhost");
	rq.host = "Example.org:8080";
	CHECK(httpreq_host(&rq, out, sizeof(out)));
	CHECK_STR(out, "Example.org");
	rq.host = "192.0.2.1";
	CHECK(httpreq_host(&rq, out, sizeof(out)));
	CHECK_STR(out, "192.0.2.1");
	rq.host = "[2001:db8::1]:443";
	CHECK(httpreq_host(&rq, out, sizeof(out)));
	CHECK_STR(out, "[2001:db8::1]");

	rq.host = "a.example.org.x"; /* 15 bytes and a NUL fit */
	CHECK(httpreq_host(&rq, out, sizeof(out)));
	rq.host = "a.example.org.xy"; /* 16 do not */
	CHECK(!httpreq_host(&rq, out, sizeof(out)));
	rq.host = "evil\"host";
	CHECK(!httpreq_host(&rq, out, sizeof(out)));
	rq.host = "a/b";
	CHECK(!httpreq_host(&rq, out, sizeof(out)));
	rq.host = ":80";
	CHECK(!httpreq_host(&rq, out, sizeof(out)));
	rq.host = "[::1";
	CHECK(!httpreq_host(&rq, out, sizeof(out)));
	rq.host = "[::1/x]";
	CHECK(!httpreq_host(&rq, out, sizeof(out)));
	rq.host = "h:st"; /* a colon outside brackets ends the name */
	CHECK(httpreq_host(&rq, out, sizeof(out)));
	CHECK_STR(out, "h");
}

static void
test_origin(void)
{
	char *allowed[] = { app_origin };
	struct conf conf = { .http_api_key = no_key };
	struct httpreq rq = get("/ws");

	/* No Origin: not a browser. */
	CHECK(httpreq_origin_ok(&rq, &conf));
	/* No list: the server's own host and port only. */
	rq.origin = "http://turn.example.org:8080";
	CHECK(!httpreq_origin_ok(&rq, &conf));
	rq.host = "turn.example.org:8080";
	CHECK(httpreq_origin_ok(&rq, &conf));
	rq.host = "TURN.example.org:8080";
	CHECK(httpreq_origin_ok(&rq, &conf));
	rq.host = "turn.example.org";
	CHECK(!httpreq_origin_ok(&rq, &conf));
	rq.origin = "turn.example.org";
	CHECK(!httpreq_origin_ok(&rq, &conf));

	/* A list: its entries only, whatever Host says. */
	conf.http_allowed_origins.n = 1;
	conf.http_allowed_origins.v = allowed;
	rq.origin = "HTTPS://APP.example.org";
	CHECK(httpreq_origin_ok(&rq, &conf));
	rq.origin = "https://app.example.org.evil";
	CHECK(!httpreq_origin_ok(&rq, &conf));
	rq.origin = "http://turn.example.org";
	CHECK(!httpreq_origin_ok(&rq, &conf));

	/* The preflight: /api only, with an Origin, an allowed one. */
	rq.url = "/api/turn";
	rq.origin = "https://app.example.org";
	CHECK_INT(httpreq_preflight(&rq, &conf), 204);
	rq.origin = "https://other.example.org";
	CHECK_INT(httpreq_preflight(&rq, &conf), 403);
	rq.origin = NULL;
	CHECK_INT(httpreq_preflight(&rq, &conf), 405);
	rq.origin = "https://app.example.org";
	rq.url = "/ws";
	CHECK_INT(httpreq_preflight(&rq, &conf), 405);
}

static void
test_key(void)
{
	struct conf conf = { .http_api_key = no_key };
	struct httpreq rq = get("/metrics");
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	CHECK(httpreq_key_ok(&rq, ""));
	CHECK(!httpreq_key_ok(&rq, "s3cret"));
	rq.arg_key = "s3cret";
	CHECK(httpreq_key_ok(&rq, "s3cret"));
	rq.arg_key = "s3cre";
	CHECK(!httpreq_key_ok(&rq, "s3cret"));
	rq.arg_key = "s3crett";
	CHECK(!httpreq_key_ok(&rq, "s3cret"));
	/* ?key= wins over the header, right or wrong. */
	rq.authorization = "Bearer s3cret";
	CHECK(!httpreq_key_ok(&rq, "s3cret"));
	rq.arg_key = NULL;
	CHECK(httpreq_key_ok(&rq, "s3cret"));
	rq.authorization = "bearer s3cret";
	CHECK(httpreq_key_ok(&rq, "s3cret"));
	rq.authorization = "Basic s3cret";
	CHECK(!httpreq_key_ok(&rq, "s3cret"));
	rq.authorization = "Bearer";
	CHECK(!httpreq_key_ok(&rq, "s3cret"));

	/* /metrics: loopback, or the key when there is one. */
	rq.authorization = NULL;
	CHECK(!httpreq_metrics_allowed(&rq, &conf));
	inet_pton(AF_INET, "127.1.2.3", &sin.sin_addr);
	rq.client = (struct sockaddr *)&sin;
	CHECK(httpreq_metrics_allowed(&rq, &conf));
	inet_pton(AF_INET, "128.0.0.1", &sin.sin_addr);
	CHECK(!httpreq_metrics_allowed(&rq, &conf));
	conf.http_api_key = api_key;
	CHECK(!httpreq_metrics_allowed(&rq, &conf));
	rq.arg_key = "s3cret";
	CHECK(httpreq_metrics_allowed(&rq, &conf));

	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	CHECK(httpreq_loopback((struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	CHECK(httpreq_loopback((struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &sin6.sin6_addr);
	CHECK(!httpreq_loopback((struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "::2", &sin6.sin6_addr);
	CHECK(!httpreq_loopback((struct sockaddr *)&sin6));
	CHECK(!httpreq_loopback(NULL));
}

static void
test_ws(void)
{
	struct conf conf = { .http_api_key = no_key };
	struct httpreq rq = {
		.method = "GET",
		.url = "/ws",
		.host = "server.example.com",
		.origin = "http://server.example.com",
		.upgrade = "websocket",
		.connection = "keep-alive, Upgrade",
		.ws_key = RFC6455_KEY,
		.ws_version = "13",
	};
	char accept[HTTPREQ_ACCEPT_LEN];
	const char *why = NULL;

	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 0);
	httpreq_ws_accept(rq.ws_key, accept);
	CHECK_STR(accept, RFC6455_ACCEPT);

	CHECK(httpreq_has_token("Upgrade", "upgrade"));
	CHECK(httpreq_has_token(" x ,\tUPGRADE ,y", "upgrade"));
	CHECK(!httpreq_has_token("upgrades", "upgrade"));
	CHECK(!httpreq_has_token("x-upgrade", "upgrade"));
	CHECK(!httpreq_has_token(NULL, "upgrade"));
	CHECK(!httpreq_has_token("", "upgrade"));

	rq.method = "HEAD";
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	CHECK_STR(why, "a WebSocket handshake is expected\n");
	rq.method = "GET";
	rq.upgrade = "h2c";
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	rq.upgrade = "WebSocket";
	rq.connection = "close";
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	rq.connection = "Upgrade";

	rq.ws_version = "8";
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 426);
	CHECK_STR(why, "WebSocket version 13 only\n");
	rq.ws_version = NULL;
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 426);
	rq.ws_version = "13";

	rq.ws_key = NULL;
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	CHECK_STR(why, "bad Sec-WebSocket-Key\n");
	rq.ws_key = "dGhlIHNhbXBsZSBub25jZQ="; /* 23 characters */
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	rq.ws_key = "dGhlIHNhbXBsZSBub25jZQ=x";
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	rq.ws_key = "dGhlIHNhbXBsZSBub25j!!==";
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	rq.ws_key = "dGhlIHNhbXBsZSBub2=jZQ=="; /* found by fuzz_http */
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	rq.ws_key = "dGhlIHNhbXBsZSBub25jZ===";
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	rq.ws_key = "dGhlIHNhbXBsZSBub25jZSE="; /* 17 bytes */
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 400);
	rq.ws_key = RFC6455_KEY;

	rq.origin = "http://evil.example.net";
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 403);
	CHECK_STR(why, "origin not allowed\n");
	rq.origin = NULL;
	CHECK_INT(httpreq_ws_check(&rq, &conf, &why), 0);
}

static void
test_turn_args(void)
{
	struct httpreq rq = get("/api/turn");
	char longname[66];
	const char *why = NULL;

	CHECK_INT(httpreq_turn_args(&rq, &why), 0);
	rq.arg_service = "turn";
	rq.arg_username = "alice";
	CHECK_INT(httpreq_turn_args(&rq, &why), 0);
	rq.arg_service = "stun";
	CHECK_INT(httpreq_turn_args(&rq, &why), 400);
	CHECK_STR(why, "service must be turn");
	rq.arg_service = NULL;

	memset(longname, 'a', 64);
	longname[64] = '\0';
	rq.arg_username = longname;
	CHECK_INT(httpreq_turn_args(&rq, &why), 0);
	longname[64] = 'a';
	longname[65] = '\0';
	CHECK_INT(httpreq_turn_args(&rq, &why), 400);
	CHECK_STR(why, "bad username");
	rq.arg_username = "";
	CHECK_INT(httpreq_turn_args(&rq, &why), 400);
	rq.arg_username = "a:b";
	CHECK_INT(httpreq_turn_args(&rq, &why), 400);
	rq.arg_username = "a\"b";
	CHECK_INT(httpreq_turn_args(&rq, &why), 400);
	rq.arg_username = "a\\b";
	CHECK_INT(httpreq_turn_args(&rq, &why), 400);
}

int
main(void)
{
	test_route();
	test_path();
	test_host();
	test_origin();
	test_key();
	test_ws();
	test_turn_args();
	return unit_done("test_httpreq");
}
