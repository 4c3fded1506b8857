/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http.h: the HTTP side of the daemon on libmicrohttpd, run inside our
 * one libevent loop: the web client's files, the WebSocket upgrade at
 * /ws, /api/ice-servers, /api/turn, /metrics and /healthz.
 */
#ifndef TURNPIKE_HTTP_H
#define TURNPIKE_HTTP_H

#include <stdbool.h>
#include <stdint.h>

struct alloc_totals;
struct conf;
struct metrics_workers;
struct event_base;
struct http_set;
struct sig_hub;
struct stats;
struct ws_set;

/*
 * For /metrics: fill *sum with the STUN and TURN counters (summed over
 * every worker), *at with the live allocations and *wk with each worker's
 * share; return false when TURN is off and *at means nothing.
 */
typedef bool http_stats_fn(void *ctx, struct stats *sum,
			   struct alloc_totals *at, struct metrics_workers *wk);

/* For /healthz: the number of a worker whose loop is stuck, with for how
 * long by now_ms in *for_ms, or 0 when all run. */
typedef unsigned int http_health_fn(void *ctx, uint64_t now_ms,
				    uint64_t *for_ms);

/* The STUN and TURN side, as HTTP sees it. */
struct http_backend {
	http_stats_fn *stats;
	http_health_fn *health;
	void *ctx;
};

/* http.c */

/*
 * Bind http.listen and start libmicrohttpd on each socket, in epoll mode
 * with no thread of its own: libevent watches its epoll descriptor and
 * its timeout.  conf points to the daemon's current config pointer; be
 * (copied) gives /metrics and /healthz the STUN and TURN side.  Returns
 * NULL after logging why.  Call before giving up root.
 */
struct http_set *http_open(struct event_base *base, const struct conf **conf,
			   const struct http_backend *be);
/* The WebSocket side and the hub, once they exist. */
void http_attach(struct http_set *hs, struct ws_set *ws, struct sig_hub *hub);
void http_close(struct http_set *hs);
unsigned int http_count(const struct http_set *hs);

/* Run libmicrohttpd soon (after a WebSocket was handed back). */
void http_kick(void *hs);

#endif /* TURNPIKE_HTTP_H */
