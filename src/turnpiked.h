/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * turnpiked.h: the running daemon, one struct made in main.c.  Each module
 * gets the parts it needs at init; none reaches into another's state.
 */
#ifndef TURNPIKE_TURNPIKED_H
#define TURNPIKE_TURNPIKED_H

#include "conf.h"
#include "policy.h"

struct event;
struct event_base;
struct http_set;
struct sig_hub;
struct worker_pool;
struct ws_set;

struct turnpiked {
	const char *conf_path;
	bool log_stderr; /* -d: stderr, whatever log.target says */
	bool log_debug;  /* -v: debug level, whatever log.level says */

	struct event_base *base;     /* the main loop */
	struct conf *conf;           /* owned; replaced whole on reload */
	struct worker_pool *workers; /* STUN and TURN (worker.h) */
	bool tls_on;                 /* TLS listeners opened at start */
	struct http_set *http;       /* when http.listen is set */
	struct ws_set *ws;
	struct sig_hub *hub;
	struct policy policy; /* owned; replaced whole on reload */

	struct event *sig_term, *sig_int, *sig_hup;
	struct event *beat; /* workers_beat(), and systemd's watchdog */
	bool watchdog;      /* systemd asked for pings (WatchdogSec) */
	uint64_t stuck_ms;  /* a worker is stuck after this */
	unsigned int stuck; /* the first stuck worker, or 0 */
};

#endif /* TURNPIKE_TURNPIKED_H */
