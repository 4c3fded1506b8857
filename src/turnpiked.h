/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * turnpiked.h: the running daemon, one struct made in main.c.  Each module
 * gets the parts it needs at init; none reaches into another's state.
 */
#ifndef TURNPIKE_TURNPIKED_H
#define TURNPIKE_TURNPIKED_H

#include "conf.h"
#include "policy.h"
#include "server.h"
#include "stats.h"

struct event;
struct event_base;
struct http_set;
struct sig_hub;
struct ws_set;
struct relay_set;
struct stream_set;
struct udp_set;

struct turnpiked {
	const char *conf_path;
	bool log_stderr; /* -d: stderr, whatever log.target says */
	bool log_debug;  /* -v: debug level, whatever log.level says */

	struct event_base *base;
	struct conf *conf; /* owned; replaced whole on reload */
	struct stats stats;
	struct server server; /* the protocol core */
	struct udp_set *udp;
	struct stream_set *stream;
	struct stream_set *tls; /* when tls.certificate is set */
	struct http_set *http;  /* when http.listen is set */
	struct ws_set *ws;
	struct sig_hub *hub;
	struct relay_set *relay; /* TURN, when turn.enable */
	struct policy policy;    /* owned; replaced whole on reload */
	struct event *sweep;     /* expiry, once a second */
	uint64_t sweep_now_ms;

	struct event *sig_term, *sig_int, *sig_hup;
	struct event *watchdog;
};

#endif /* TURNPIKE_TURNPIKED_H */
