/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.c: the workers that serve STUN and TURN (see worker.h).
 *
 * One struct worker per event loop, owning that loop's listeners, its
 * allocation table, relay set, answer cache, rate limiter and counters;
 * the pool owns the workers and what they share: the allocation quota and
 * the relay ports, each behind its own mutex.  The main thread reaches a
 * worker only through worker_call(), which runs a function on the
 * worker's own thread and waits for it: that is how a reload, a /metrics
 * reading and the stop get there, and why nothing else needs a lock.  A
 * /metrics reading waits for a worker a bounded time, and not at all for
 * one known to be stuck (workers_beat()), so that one stuck worker never
 * stops the main loop, which serves /healthz and signaling.  Not
 * for protocol decisions (server.c, turn.c) or socket I/O (udp.c,
 * stream.c, relay.c).
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "conf.h"
#include "digest.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "policy.h"
#include "ratelimit.h"
#include "relay.h"
#include "relay_ports.h"
#include "server.h"
#include "stats.h"
#include "stream.h"
#include "txcache.h"
#include "udp.h"
#include "worker.h"

/* How long a /metrics reading waits for a worker that has not begun it. */
#define WORKER_READ_MS 500

struct worker;
typedef void worker_fn(struct worker *w, void *arg);

struct worker {
	struct worker_pool *pool;
	unsigned int id;
	struct event_base *base; /* worker 0: the main loop's, not owned */
	pthread_t thread;
	bool started;

	struct stats stats;
	struct server server;
	struct udp_set *udp;
	struct stream_set *stream;
	struct stream_set *tls;  /* when TLS listeners are on */
	struct relay_set *relay; /* when TURN is on */
	struct event *sweep;     /* expiry, once a second */
	uint64_t sweep_now_ms;

	/* worker_call(): one call at a time, from the main thread. */
	int wake_fd; /* eventfd */
	struct event *wake;
	pthread_mutex_t lock;
	pthread_cond_t done;
	worker_fn *call;
	void *call_arg;
	bool call_taken; /* the worker has begun it: it will finish */
	bool call_done;

	/* workers_beat(): the main thread posts a beat through wake_fd, and
	 * the worker answers it the next time its loop runs. */
	_Atomic uint64_t beat_posted, beat_answered;
	uint64_t beat_posted_ms; /* the main thread's */
	bool stuck;              /* the main thread's: a beat is overdue */

	/* The main thread's: the counters and allocations this worker gave
	 * at its last /metrics reading, shown while it does not answer. */
	struct stats seen;
	struct alloc_totals seen_at;
};

struct worker_pool {
	unsigned int n;
	bool turn;
	struct stream_total tcp_total, tls_total; /* stream.max_connections */
	struct alloc_quota *quota;
	struct relay_ports *ports;
	unsigned int stuck; /* the main thread's: the first stuck worker */
	struct worker w[];
};

unsigned int
workers_wanted(const struct conf *conf)
{
	cpu_set_t cpus;
	long n;

	if (conf->workers > 0)
		return (unsigned int)conf->workers;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		n = CPU_COUNT(&cpus);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > CONF_MAX_WORKERS ? CONF_MAX_WORKERS : (unsigned int)n;
}

/* On the worker's thread: run the call the main thread left, then say it
 * is done. */
static void
worker_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	eventfd_t count;
	worker_fn *fn;
	void *fn_arg;

	if (eventfd_read(fd, &count) == -1 && errno != EAGAIN)
		return;
	atomic_store_explicit(
		&w->beat_answered,
		atomic_load_explicit(&w->beat_posted, memory_order_acquire),
		memory_order_release);
	pthread_mutex_lock(&w->lock);
	fn = w->call;
	fn_arg = w->call_arg;
	w->call_taken = fn != NULL;
	pthread_mutex_unlock(&w->lock);
	if (fn == NULL)
		return;
	fn(w, fn_arg);
	pthread_mutex_lock(&w->lock);
	w->call = NULL;
	w->call_done = true;
	pthread_cond_signal(&w->done);
	pthread_mutex_unlock(&w->lock);
}

/* Wake w's loop: worker_wake_cb() runs on its thread. */
static void
worker_wake(struct worker *w)
{
	(void)eventfd_write(w->wake_fd, 1);
}

/*
 * Run fn(w, arg) on w's own thread and return true when it has run.  Worker
 * 0 and a worker whose thread has not started are the caller's own: fn
 * runs at once.  With wait_ms not 0, a worker that has not begun fn within
 * wait_ms never will: false.  Only the main thread calls this; fn must not
 * block.
 */
static bool
worker_call_within(struct worker *w, worker_fn *fn, void *arg, uint64_t wait_ms)
{
	uint64_t until_ms = clock_mono_ms() + wait_ms;
	/* w->done waits on CLOCK_MONOTONIC, the clock of clock_mono_ms(). */
	struct timespec until = { (time_t)(until_ms / 1000),
				  (long)(until_ms % 1000) * 1000000L };
	bool done;

	if (!w->started) {
		fn(w, arg);
		return true;
	}
	pthread_mutex_lock(&w->lock);
	w->call = fn;
	w->call_arg = arg;
	w->call_taken = false;
	w->call_done = false;
	pthread_mutex_unlock(&w->lock);
	worker_wake(w);
	pthread_mutex_lock(&w->lock);
	while (!w->call_done) {
		if (wait_ms == 0 || w->call_taken) {
			pthread_cond_wait(&w->done, &w->lock);
		} else if (pthread_cond_timedwait(&w->done, &w->lock, &until) ==
				   ETIMEDOUT &&
			   !w->call_taken && !w->call_done) {
			w->call = NULL; /* it finds nothing when it wakes */
			break;
		}
	}
	done = w->call_done;
	pthread_mutex_unlock(&w->lock);
	return done;
}

static void
worker_call(struct worker *w, worker_fn *fn, void *arg)
{
	(void)worker_call_within(w, fn, arg, 0);
}

static void
worker_expired_cb(struct alloc *a, void *arg)
{
	struct worker *w = arg;

	server_alloc_gone(&w->server, a, "expired", w->sweep_now_ms);
}

static void
worker_stopped_cb(struct alloc *a, void *arg)
{
	struct worker *w = arg;

	server_alloc_gone(&w->server, a, "stopped", w->sweep_now_ms);
}

static void
worker_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	w->sweep_now_ms = clock_mono_ms();
	alloc_expire(w->server.allocs, w->sweep_now_ms, worker_expired_cb, w);
	relay_sweep(w->relay, w->sweep_now_ms);
}

/* Random keys for hash tables: made once, kept over reloads. */
static void
worker_random(void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) != 1)
		fatalx("turn: the random number generator failed");
}

/* The limits of the allocation table, from conf (applied on reload). */
static void
worker_limits(struct worker *w, const struct conf *conf)
{
	struct alloc_limits lim = {
		.max_total = (unsigned int)conf->turn_max_allocations,
		.max_per_user =
			(unsigned int)conf->turn_max_allocations_per_user,
		.max_permissions = (unsigned int)conf->turn_max_permissions,
		.max_channels = (unsigned int)conf->turn_max_channels,
	};

	alloc_set_limits(w->server.allocs, &lim);
}

/* TURN state of one worker; nonce_key is the pool's, so that a nonce one
 * worker made is good on every other. */
static void
worker_turn_open(struct worker *w, const struct policy *policy,
		 const uint8_t nonce_key[SERVER_NONCE_KEY_SIZE])
{
	struct timeval second = { 1, 0 };
	uint8_t hkey[HTAB_KEY_SIZE];
	struct server *srv = &w->server;

	srv->auth = policy->auth;
	srv->peers = policy->peers;
	memcpy(srv->nonce_key, nonce_key, SERVER_NONCE_KEY_SIZE);
	worker_random(hkey, sizeof(hkey));
	srv->allocs = alloc_table_new_shared(hkey, w->pool->quota);
	worker_random(hkey, sizeof(hkey));
	srv->unauth = ratelimit_new(12, hkey);
	worker_random(hkey, sizeof(hkey));
	srv->answers = txcache_new(10, hkey);
	srv->crypto = digest_ctx_new();
	OPENSSL_cleanse(hkey, sizeof(hkey));
	if (srv->allocs == NULL || srv->unauth == NULL ||
	    srv->answers == NULL || srv->crypto == NULL)
		fatalx("turn: out of memory");
	worker_limits(w, srv->conf);
	w->relay = relay_new(w->base, srv, srv->conf, w->pool->ports);
	if (w->relay == NULL)
		fatalx("turn: cannot set up the relay");
	w->sweep = event_new(w->base, -1, EV_PERSIST, worker_sweep_cb, w);
	if (w->sweep == NULL || event_add(w->sweep, &second) == -1)
		fatalx("turn: cannot start the expiry timer");
}

static void
worker_open(struct worker *w, struct event_base *main_base,
	    const struct conf *conf, const struct policy *policy, SSL_CTX *tls,
	    const uint8_t nonce_key[SERVER_NONCE_KEY_SIZE])
{
	/* -1: the only listener on its address; else SO_REUSEPORT. */
	int share = w->pool->n > 1 ? (int)w->id : -1;
	pthread_condattr_t cattr;

	w->wake_fd = -1;
	w->base = w->id == 0 ? main_base : event_base_new();
	if (w->base == NULL)
		fatalx("worker %u: cannot create an event loop", w->id);
	w->server.conf = conf;
	w->server.stats = &w->stats;
	if ((w->udp = udp_open(w->base, &conf->listen_udp, &w->server,
			       share)) == NULL)
		fatalx("cannot open the udp listeners");
	if (tls != NULL &&
	    (w->tls = stream_open(w->base, &conf->listen_tls, &w->server, tls,
				  share, &w->pool->tls_total)) == NULL)
		fatalx("cannot open the tls listeners");
	if ((w->stream = stream_open(w->base, &conf->listen_tcp, &w->server,
				     NULL, share, &w->pool->tcp_total)) == NULL)
		fatalx("cannot open the tcp listeners");
	if (policy != NULL)
		worker_turn_open(w, policy, nonce_key);
	if (w->id == 0)
		return;
	if (pthread_mutex_init(&w->lock, NULL) != 0 ||
	    pthread_condattr_init(&cattr) != 0 ||
	    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&w->done, &cattr) != 0)
		fatalx("worker %u: cannot make its lock", w->id);
	pthread_condattr_destroy(&cattr);
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd == -1)
		fatal("worker %u: eventfd", w->id);
	w->wake = event_new(w->base, w->wake_fd, EV_READ | EV_PERSIST,
			    worker_wake_cb, w);
	if (w->wake == NULL || event_add(w->wake, NULL) == -1)
		fatalx("worker %u: cannot watch its eventfd", w->id);
}

struct worker_pool *
workers_open(struct event_base *base, const struct conf *conf,
	     const struct policy *policy, SSL_CTX *tls, unsigned int n)
{
	uint8_t nonce_key[SERVER_NONCE_KEY_SIZE], hkey[HTAB_KEY_SIZE];
	struct worker_pool *pool;

	pool = calloc(1, sizeof(*pool) + n * sizeof(pool->w[0]));
	if (pool == NULL)
		fatalx("workers: out of memory");
	pool->n = n;
	pool->turn = policy != NULL;
	if (pool->turn) {
		worker_random(hkey, sizeof(hkey));
		pool->quota = alloc_quota_new(hkey);
		pool->ports = relay_ports_new(n);
		if (pool->quota == NULL || pool->ports == NULL)
			fatalx("turn: out of memory");
		worker_random(nonce_key, sizeof(nonce_key));
	}
	for (unsigned int i = 0; i < n; i++) {
		pool->w[i].pool = pool;
		pool->w[i].id = i;
		worker_open(&pool->w[i], base, conf, policy, tls, nonce_key);
	}
	OPENSSL_cleanse(nonce_key, sizeof(nonce_key));
	OPENSSL_cleanse(hkey, sizeof(hkey));
	if (n > 1)
		log_info("%u workers, each with its own listeners "
			 "(SO_REUSEPORT) and allocations",
			 n);
	if (pool->turn)
		log_info("turn: realm \"%s\", %u static users, %u REST secrets",
			 conf->turn_realm, conf->turn_users.n,
			 conf->turn_secrets.n);
	else
		log_info("turn: disabled (turn.enable = false): STUN only");
	return pool;
}

unsigned int
workers_listeners(const struct worker_pool *pool)
{
	const struct worker *w = &pool->w[0];

	return udp_count(w->udp) + stream_count(w->stream) +
	       (w->tls != NULL ? stream_count(w->tls) : 0);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char name[32]; /* at most 15 bytes are kept */

	/* What top -H and ps -L show. */
	snprintf(name, sizeof(name), "worker %u", w->id);
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);

	if (event_base_dispatch(w->base) == -1)
		log_error("worker %u: event loop failed", w->id);
	return NULL;
}

void
workers_start(struct worker_pool *pool)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned int i = 1; i < pool->n; i++) {
		struct worker *w = &pool->w[i];

		if ((rc = pthread_create(&w->thread, NULL, worker_main, w)) !=
		    0) {
			errno = rc;
			fatal("worker %u: cannot start its thread", i);
		}
		w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Permissions and channels to peers a new policy denies. */
static bool
worker_keep_ip_cb(const struct addr_key *k, void *arg)
{
	struct sockaddr_storage ss;

	addr_key_to(k, &ss);
	return peer_check_ip(arg, (struct sockaddr *)&ss) == PEER_ALLOW;
}

static bool
worker_keep_peer_cb(const struct addr_key *k, void *arg)
{
	struct sockaddr_storage ss;

	addr_key_to(k, &ss);
	return peer_check(arg, (struct sockaddr *)&ss) == PEER_ALLOW;
}

struct worker_reload {
	const struct conf *conf;
	const struct policy *policy;
	SSL_CTX *tls;
	unsigned int pruned;
};

static void
worker_reload_cb(struct worker *w, void *arg)
{
	struct worker_reload *r = arg;

	w->server.conf = r->conf;
	if (w->pool->turn) {
		w->server.auth = r->policy->auth;
		w->server.peers = r->policy->peers;
		worker_limits(w, r->conf);
		/* The packet path does not judge peers again: those the new
		 * policy denies lose their permissions and channels now. */
		r->pruned += alloc_prune(w->server.allocs, worker_keep_ip_cb,
					 worker_keep_peer_cb, r->policy->peers);
	}
	if (r->tls != NULL && w->tls != NULL)
		stream_set_tls(w->tls, r->tls);
}

void
workers_reload(struct worker_pool *pool, const struct conf *conf,
	       const struct policy *policy, SSL_CTX *tls)
{
	struct worker_reload r = { conf, policy, tls, 0 };

	for (unsigned int i = 0; i < pool->n; i++)
		worker_call(&pool->w[i], worker_reload_cb, &r);
	if (r.pruned > 0)
		log_info("reload: %u permissions and channels to peers now "
			 "denied removed",
			 r.pruned);
}

/* On w's thread: copy its counters and allocations for a reading. */
static void
worker_read_cb(struct worker *w, void *arg)
{
	w->seen = w->stats;
	memset(&w->seen_at, 0, sizeof(w->seen_at));
	if (w->server.allocs != NULL)
		alloc_totals(w->server.allocs, &w->seen_at);
}

bool
workers_stats(void *arg, struct stats *sum, struct alloc_totals *at,
	      struct metrics_workers *wk)
{
	struct worker_pool *pool = arg;

	memset(sum, 0, sizeof(*sum));
	memset(at, 0, sizeof(*at));
	memset(wk, 0, sizeof(*wk));
	wk->n = pool->n;
	for (unsigned int i = 0; i < pool->n; i++) {
		struct worker *w = &pool->w[i];

		/* A worker that does not answer in time, or is known to be
		 * stuck, is shown as it was at its last answer. */
		if (!w->stuck)
			(void)worker_call_within(w, worker_read_cb, NULL,
						 WORKER_READ_MS);
		stats_add(sum, &w->seen);
		at->allocations += w->seen_at.allocations;
		at->permissions += w->seen_at.permissions;
		at->channels += w->seen_at.channels;
		wk->allocations[i] = w->seen_at.allocations;
		for (int t = 0; t < STATS_NTRANSPORTS; t++)
			wk->received[i] += w->seen.transport[t].rx_packets;
		wk->stuck[i] = w->stuck ? 1 : 0;
	}
	return pool->turn;
}

unsigned int
workers_beat(struct worker_pool *pool, uint64_t now_ms, uint64_t late_ms,
	     uint64_t *for_ms)
{
	pool->stuck = 0;
	for (unsigned int i = 1; i < pool->n; i++) {
		struct worker *w = &pool->w[i];
		uint64_t posted = atomic_load_explicit(&w->beat_posted,
						       memory_order_relaxed);

		w->stuck = false;
		if (!w->started)
			continue;
		if (atomic_load_explicit(&w->beat_answered,
					 memory_order_acquire) != posted) {
			w->stuck = now_ms - w->beat_posted_ms > late_ms;
			if (w->stuck && pool->stuck == 0) {
				pool->stuck = i;
				*for_ms = now_ms - w->beat_posted_ms;
			}
			continue;
		}
		atomic_store_explicit(&w->beat_posted, posted + 1,
				      memory_order_release);
		w->beat_posted_ms = now_ms;
		worker_wake(w);
	}
	return pool->stuck;
}

unsigned int
workers_stuck(void *arg, uint64_t now_ms, uint64_t *for_ms)
{
	struct worker_pool *pool = arg;

	if (pool->stuck != 0)
		*for_ms = now_ms - pool->w[pool->stuck].beat_posted_ms;
	return pool->stuck;
}

static void
worker_stop_cb(struct worker *w, void *arg)
{
	event_base_loopbreak(w->base);
}

/* Close what w owns; its thread, if any, has ended. */
static void
worker_close(struct worker *w)
{
	if (w->sweep != NULL)
		event_free(w->sweep);
	if (w->server.allocs != NULL) {
		w->sweep_now_ms = clock_mono_ms();
		alloc_table_free(w->server.allocs, worker_stopped_cb, w);
	}
	relay_free(w->relay);
	ratelimit_free(w->server.unauth);
	txcache_free(w->server.answers);
	digest_ctx_free(w->server.crypto);
	OPENSSL_cleanse(w->server.nonce_key, sizeof(w->server.nonce_key));
	stream_close(w->tls);
	stream_close(w->stream);
	udp_close(w->udp);
	if (w->id == 0)
		return;
	if (w->wake != NULL)
		event_free(w->wake);
	if (w->wake_fd != -1)
		close(w->wake_fd);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->lock);
	event_base_free(w->base);
}

void
workers_close(struct worker_pool *pool)
{
	if (pool == NULL)
		return;
	for (unsigned int i = 1; i < pool->n; i++) {
		struct worker *w = &pool->w[i];

		if (!w->started)
			continue;
		worker_call(w, worker_stop_cb, NULL);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	for (unsigned int i = 0; i < pool->n; i++)
		worker_close(&pool->w[i]);
	relay_ports_free(pool->ports);
	alloc_quota_free(pool->quota);
	free(pool);
}
