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
 * calls MHD_run() on either.  Requests go through one route table
 * (httpreq.c picks the row, this file has its function).  What is decided
 * on request data (routes, paths, Origin, Host, the WebSocket handshake
 * checks) is in httpreq.c; this file answers, and hands an upgraded socket
 * to ws.c.  Not for protocol logic: signaling is sig.c, ICE configs ice.c,
 * the metrics text metrics.c.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "alloc.h"
#include "clock.h"
#include "conf.h"
#include "http.h"
#include "httpreq.h"
#include "ice.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "sig.h"
#include "sock.h"
#include "ws.h"

#define HTTP_RUN_MAX_MS 1000

struct http_set;

struct http_listener {
	struct MHD_Daemon *mhd;
	struct event *ev;           /* the daemon's epoll descriptor */
	struct evconnlistener *lev; /* owns the listening socket */
	struct http_set *hs;
};

struct http_set {
	struct event_base *base;
	const struct conf **conf;
	struct http_backend be; /* the STUN and TURN side */
	struct ws_set *ws;
	struct sig_hub *hub;
	struct event *timer;
	struct sock_pause pause; /* the listeners, while descriptors ran out */
	unsigned int n;
	struct http_listener listeners[CONF_MAX_LISTEN];
	unsigned int connections; /* open HTTP connections */
	uint64_t started_ms;
	char *tls_cert, *tls_key; /* PEM text, alive as long as MHD */
};

/* One request, as a route sees it: its data in rq (httpreq.h). */
struct http_req {
	struct http_set *hs;
	struct MHD_Connection *c;
	struct httpreq rq;
};

typedef enum MHD_Result http_route_fn(struct http_req *r);

/*
 * Queue resp (NULL: out of memory) with status and drop our reference to
 * it: the one place answers are queued.  A body's type, when not NULL, goes
 * with X-Content-Type-Options: nosniff.
 */
static enum MHD_Result
http_queue(struct http_req *r, unsigned int status, struct MHD_Response *resp,
	   const char *type)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	if (type != NULL) {
		MHD_add_response_header(resp, "Content-Type", type);
		MHD_add_response_header(resp, "X-Content-Type-Options",
					"nosniff");
	}
	ret = MHD_queue_response(r->c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Answer with a copy of body, not cached unless cache says otherwise. */
static enum MHD_Result
http_reply(struct http_req *r, unsigned int status, const char *type,
	   const char *body, size_t len, const char *cache)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)body,
					       MHD_RESPMEM_MUST_COPY);
	if (resp != NULL)
		MHD_add_response_header(resp, "Cache-Control",
					cache ? cache : "no-store");
	return http_queue(r, status, resp, type);
}

/* RFC 9110 section 15.5.6: a 405 names the methods that are allowed. */
static enum MHD_Result
http_not_allowed(struct http_req *r)
{
	static const char msg[] = "method not allowed\n";
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
					       MHD_RESPMEM_PERSISTENT);
	if (resp != NULL)
		MHD_add_response_header(resp, "Allow", "GET, HEAD");
	return http_queue(r, 405, resp, "text/plain; charset=utf-8");
}

static enum MHD_Result
http_text(struct http_req *r, unsigned int status, const char *text)
{
	return http_reply(r, status, "text/plain; charset=utf-8", text,
			  strlen(text), NULL);
}

/*
 * CORS for /api: a page from an allowed origin (httpreq_origin_ok) may read
 * the answer.  Nothing is added for a request without Origin.
 */
static void
http_cors(struct http_req *r, struct MHD_Response *resp)
{
	const char *origin = r->rq.origin;

	if (origin == NULL || !httpreq_origin_ok(&r->rq, *r->hs->conf))
		return;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(resp, "Vary", "Origin");
}

/* A CORS preflight for /api (the Authorization header is not simple). */
static enum MHD_Result
http_preflight(struct http_req *r)
{
	struct MHD_Response *resp;

	switch (httpreq_preflight(&r->rq, *r->hs->conf)) {
	case 405:
		return http_not_allowed(r);
	case 403:
		return http_text(r, 403, "origin not allowed\n");
	}
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
	return http_queue(r, 204, resp, NULL);
}

/* Answer with a JSON object, which is consumed. */
static enum MHD_Result
http_json(struct http_req *r, unsigned int status, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	struct MHD_Response *resp;

	json_decref(obj);
	if (text == NULL)
		return http_text(r, 500, "out of memory\n");
	resp = MHD_create_response_from_buffer(strlen(text), text,
					       MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	http_cors(r, resp);
	return http_queue(r, status, resp, "application/json");
}

static enum MHD_Result
http_json_error(struct http_req *r, unsigned int status, const char *msg)
{
	return http_json(r, status, json_pack("{s:s}", "error", msg));
}

static enum MHD_Result
route_not_found(struct http_req *r)
{
	return http_text(r, 404, "not found\n");
}

/* 200 while every loop turns; 503, naming it, while a worker is stuck. */
static enum MHD_Result
route_healthz(struct http_req *r)
{
	const struct http_backend *be = &r->hs->be;
	uint64_t for_ms = 0;
	unsigned int stuck;
	char msg[80];

	if (be->health == NULL ||
	    (stuck = be->health(be->ctx, clock_mono_ms(), &for_ms)) == 0)
		return http_text(r, 200, "ok\n");
	snprintf(msg, sizeof(msg), "worker %u has not run for %llu ms\n", stuck,
		 (unsigned long long)for_ms);
	return http_text(r, 503, msg);
}

static enum MHD_Result
route_metrics(struct http_req *r)
{
	struct http_set *hs = r->hs;
	struct alloc_totals at;
	struct stats st;
	struct metrics_workers wk;
	bool turn;
	struct metrics_gauges g = {
		.ws_connections = hs->ws ? ws_count(hs->ws) : 0,
		.http_connections = hs->connections,
		.uptime_seconds =
			(double)(clock_mono_ms() - hs->started_ms) / 1000.0,
	};
	enum MHD_Result ret;
	size_t len;
	char *text;

	if (!httpreq_metrics_allowed(&r->rq, *hs->conf))
		return http_text(r, 403,
				 "metrics: loopback clients or the API "
				 "key only\n");
	turn = hs->be.stats(hs->be.ctx, &st, &at, &wk);
	g.workers = &wk;
	text = metrics_render(&st, turn ? &at : NULL,
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

	if (!httpreq_origin_ok(&r->rq, *r->hs->conf))
		return http_json_error(r, 403, "origin not allowed");
	if (!httpreq_key_ok(&r->rq, (*r->hs->conf)->http_api_key))
		return http_json_error(r, 401, "api key required");
	if (!httpreq_host(&r->rq, host, sizeof(host)))
		return http_json_error(r, 400, "bad Host header");
	http_random_user(user, sizeof(user));
	if ((obj = ice_config(*r->hs->conf, host, user, time(NULL))) == NULL)
		return http_json_error(r, 500, "out of memory");
	return http_json(r, 200, obj);
}

static enum MHD_Result
route_turn(struct http_req *r)
{
	const char *username = r->rq.arg_username, *why;
	char host[256], user[72];
	json_t *obj;

	if (!httpreq_origin_ok(&r->rq, *r->hs->conf))
		return http_json_error(r, 403, "origin not allowed");
	if (!httpreq_key_ok(&r->rq, (*r->hs->conf)->http_api_key))
		return http_json_error(r, 401, "api key required");
	if (httpreq_turn_args(&r->rq, &why) != 0)
		return http_json_error(r, 400, why);
	if (username != NULL)
		snprintf(user, sizeof(user), "%s", username);
	else
		http_random_user(user, sizeof(user));
	if (!httpreq_host(&r->rq, host, sizeof(host)))
		return http_json_error(r, 400, "bad Host header");
	if ((obj = ice_turn_rest(*r->hs->conf, host, user, time(NULL))) == NULL)
		return http_json_error(r, 503, "no TURN secret configured");
	return http_json(r, 200, obj);
}

/*
 * Open the file at url (checked by httpreq_path_ok) below root, one path
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
	const char *url = r->rq.url;
	struct stat st;
	int fd;

	if (!httpreq_path_ok(url))
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
	/* Pages are checked on every load; their assets may be cached. */
	MHD_add_response_header(resp, "Cache-Control",
				strstr(httpreq_type(url), "text/html")
					? "no-cache"
					: "public, max-age=3600");
	return http_queue(r, 200, resp, httpreq_type(url));
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
 * The WebSocket handshake, checked by httpreq_ws_check() (RFC 6455
 * section 4.2.1; a 426 names version 13), then the connection limit;
 * the answer carries Sec-WebSocket-Accept (section 4.2.2).
 */
static enum MHD_Result
route_ws(struct http_req *r)
{
	char accept[HTTPREQ_ACCEPT_LEN];
	struct MHD_Response *resp;
	struct http_upgrade *u;
	enum MHD_Result ret;
	const char *why;
	int status;

	if (r->hs->ws == NULL || r->hs->hub == NULL)
		return http_text(r, 404, "not found\n");
	if ((status = httpreq_ws_check(&r->rq, *r->hs->conf, &why)) == 426) {
		resp = MHD_create_response_from_buffer(strlen(why), (void *)why,
						       MHD_RESPMEM_PERSISTENT);
		if (resp != NULL)
			MHD_add_response_header(resp, "Sec-WebSocket-Version",
						"13");
		return http_queue(r, 426, resp, "text/plain; charset=utf-8");
	}
	if (status != 0)
		return http_text(r, (unsigned int)status, why);
	if (ws_count(r->hs->ws) >=
	    (unsigned int)(*r->hs->conf)->sig_max_connections)
		return http_text(r, 503, "too many connections\n");
	httpreq_ws_accept(r->rq.ws_key, accept);

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return MHD_NO;
	u->hs = r->hs;
	if (!httpreq_host(&r->rq, u->host, sizeof(u->host))) {
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
	ret = http_queue(r, MHD_HTTP_SWITCHING_PROTOCOLS, resp, NULL);
	if (ret != MHD_YES)
		free(u);
	return ret;
}

static const char *
http_header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static const char *
http_arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* The request's data, as httpreq.c decides on it. */
static void
http_req_fill(struct httpreq *rq, struct MHD_Connection *c, const char *url,
	      const char *method)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	rq->method = method;
	rq->url = url;
	rq->host = http_header(c, "Host");
	rq->origin = http_header(c, "Origin");
	rq->authorization = http_header(c, "Authorization");
	rq->upgrade = http_header(c, "Upgrade");
	rq->connection = http_header(c, "Connection");
	rq->ws_key = http_header(c, "Sec-WebSocket-Key");
	rq->ws_version = http_header(c, "Sec-WebSocket-Version");
	rq->arg_key = http_arg(c, "key");
	rq->arg_service = http_arg(c, "service");
	rq->arg_username = http_arg(c, "username");
	rq->client = ci != NULL ? ci->client_addr : NULL;
}

/* What answers each route of httpreq_route(). */
static http_route_fn *const http_routes[HTTPREQ_NROUTES] = {
	[HTTPREQ_NOT_FOUND] = route_not_found,
	[HTTPREQ_NOT_ALLOWED] = http_not_allowed,
	[HTTPREQ_PREFLIGHT] = http_preflight,
	[HTTPREQ_WS] = route_ws,
	[HTTPREQ_HEALTHZ] = route_healthz,
	[HTTPREQ_METRICS] = route_metrics,
	[HTTPREQ_ICE_SERVERS] = route_ice_servers,
	[HTTPREQ_TURN] = route_turn,
	[HTTPREQ_STATIC] = route_static,
};

/* libmicrohttpd's access handler: find the route, answer. */
static enum MHD_Result
http_access_cb(void *cls, struct MHD_Connection *c, const char *url,
	       const char *method, const char *version, const char *upload_data,
	       size_t *upload_data_size, void **con_cls)
{
	struct http_req r = { .hs = cls, .c = c };

	/* Headers first; a body is neither expected nor read. */
	if (*con_cls == NULL) {
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	http_req_fill(&r.rq, c, url, method);
	return http_routes[httpreq_route(&r.rq)](&r);
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

static void http_log_cb(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

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
		/* Kept for the life of a WebSocket too: the bulk of what one
		 * costs (libmicrohttpd's default is 32 KiB). */
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		  (intptr_t)conf->http_connection_memory, NULL },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)http_notify_cb, hs },
		/* HTTPS, when configured; else these end the list. */
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (hs->tls_cert != NULL) {
		flags |= MHD_USE_TLS;
		opts[5] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
						   hs->tls_cert };
		opts[6] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
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

static void
http_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct http_listener *l = arg;

	sock_pause_accept_error(&l->hs->pause);
}

struct http_set *
http_open(struct event_base *base, const struct conf **confp,
	  const struct http_backend *be)
{
	const struct conf *conf = *confp;
	struct http_set *hs;
	char name[ADDR_STRLEN];

	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		return NULL;
	hs->base = base;
	hs->conf = confp;
	hs->be = *be;
	hs->started_ms = clock_mono_ms();
	if ((hs->timer = evtimer_new(base, http_ready_cb, hs)) == NULL ||
	    sock_pause_init(&hs->pause, base, "http") == -1)
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
		if ((fd = sock_bind(sa, SOCK_STREAM, false)) == -1) {
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
		sock_pause_add(&hs->pause, l->lev);
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
	sock_pause_free(&hs->pause);
	if (hs->tls_key != NULL) {
		OPENSSL_cleanse(hs->tls_key, strlen(hs->tls_key));
		free(hs->tls_key);
	}
	free(hs->tls_cert);
	free(hs);
}
