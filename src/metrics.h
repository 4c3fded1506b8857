/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h: every counter of the daemon in the Prometheus text format
 * (version 0.0.4), for GET /metrics.  Pure: it formats what it is given.
 */
#ifndef TURNPIKE_METRICS_H
#define TURNPIKE_METRICS_H

#include <stddef.h>

struct alloc_totals;
struct sig_stats;
struct stats;

#include <stdint.h>

#include "conf.h" /* CONF_MAX_WORKERS */

/* How the load falls over the workers (daemon.workers). */
struct metrics_workers {
	unsigned int n;
	uint64_t received[CONF_MAX_WORKERS];    /* datagrams and frames */
	uint64_t allocations[CONF_MAX_WORKERS]; /* alive now */
	uint64_t stuck[CONF_MAX_WORKERS];       /* 1: its loop does not run */
};

/* What /metrics shows besides the counters. */
struct metrics_gauges {
	unsigned int ws_connections; /* WebSocket connections open */
	unsigned int http_connections;
	double uptime_seconds;
	const struct metrics_workers *workers; /* NULL: left out */
};

/* metrics.c */

/*
 * Render the counters as Prometheus text: each family once, with # HELP
 * and # TYPE lines; labels only for bounded sets (method, code, reason,
 * transport, direction, type), never per user or room.  at and sg may be
 * NULL (TURN or signaling off): their families are then left out.
 * Returns a NUL-terminated string owned by the caller (free()), its length
 * in *len; NULL when out of memory.
 */
char *metrics_render(const struct stats *st, const struct alloc_totals *at,
		     const struct sig_stats *sg, const struct metrics_gauges *g,
		     const char *version, size_t *len);

#endif /* TURNPIKE_METRICS_H */
