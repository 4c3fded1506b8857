/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.h: the STUN and TURN side of the daemon, as daemon.workers
 * workers.  A worker is one event loop with its own listeners on every
 * listen.udp, listen.tcp and listen.tls address, its own allocation table,
 * relay sockets and counters.  Worker 0 runs in the main loop, beside
 * HTTP and signaling; the others run in threads of their own.  With more
 * than one, every listener is bound once per worker with SO_REUSEPORT and
 * the kernel spreads clients over them by address hash, so a 5-tuple, and
 * the allocation it owns, stays on one worker.  The workers share only
 * the config (read-only), the allocation quotas and the relay ports.
 */
#ifndef TURNPIKE_WORKER_H
#define TURNPIKE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

struct alloc_totals;
struct conf;
struct metrics_workers;
struct event_base;
struct policy;
struct ssl_ctx_st;
struct stats;
struct worker_pool;

/* worker.c */

/* How many workers conf asks for: daemon.workers, or one per CPU this
 * process may run on for "auto". */
unsigned int workers_wanted(const struct conf *conf);

/*
 * Open n workers: bind their listeners, and when policy is not NULL
 * (turn.enable) make their allocation tables and relays.  Worker 0 uses
 * base; the others get event bases of their own, which run once
 * workers_start() is called.  conf and policy stay the caller's and must
 * outlive the workers or be replaced with workers_reload(); tls is the
 * TLS listeners' context or NULL (each set takes its own reference).
 * Fatal on failure: call before the loop runs and before giving up root.
 */
struct worker_pool *workers_open(struct event_base *base,
				 const struct conf *conf,
				 const struct policy *policy,
				 struct ssl_ctx_st *tls, unsigned int n);

/* Listeners bound, over all workers, counting each address once. */
unsigned int workers_listeners(const struct worker_pool *pool);

/* Start the threads of workers 1..n-1, with every signal blocked in them
 * (the main loop handles signals).  Call after giving up root. */
void workers_start(struct worker_pool *pool);

/*
 * Apply a reloaded config to every worker, each on its own thread, and
 * return once all have: new requests use conf and policy, permissions and
 * channels to peers policy denies are removed, and new TLS handshakes use
 * tls when it is not NULL.  The caller may then free the old conf and
 * policy.
 */
void workers_reload(struct worker_pool *pool, const struct conf *conf,
		    const struct policy *policy, struct ssl_ctx_st *tls);

/* For /metrics (an http_stats_fn): the counters of every worker summed,
 * the live allocations, and each worker's share; false when TURN is off.
 * Each worker reads its own counters, on its own thread; one that is stuck
 * or does not begin within WORKER_READ_MS (worker.c) counts as it was at
 * its last reading. */
bool workers_stats(void *pool, struct stats *sum, struct alloc_totals *at,
		   struct metrics_workers *wk);

/* Without systemd's watchdog, the main loop beats every WORKERS_BEAT_MS,
 * and a worker is stuck after WORKERS_STUCK_MS without answering. */
#define WORKERS_BEAT_MS  1000
#define WORKERS_STUCK_MS 10000

/*
 * On the main thread, every beat: post a beat to each worker thread that
 * has answered the one before, which it answers when its loop next runs.
 * A worker that has left one unanswered for more than late_ms is stuck
 * until it answers: /healthz fails, and /metrics shows it as it last was
 * without waiting for it.  Returns the number of the first stuck worker,
 * with how long in *for_ms, or 0 when every loop turns.  Worker 0 is the
 * main loop, the caller's own.
 */
unsigned int workers_beat(struct worker_pool *pool, uint64_t now_ms,
			  uint64_t late_ms, uint64_t *for_ms);

/* For /healthz (an http_health_fn): the first stuck worker at the last
 * beat, with for how long by now_ms in *for_ms, or 0. */
unsigned int workers_stuck(void *pool, uint64_t now_ms, uint64_t *for_ms);

/* Stop the threads, then close every allocation, relay and listener. */
void workers_close(struct worker_pool *pool);

#endif /* TURNPIKE_WORKER_H */
