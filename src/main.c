/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c: turnpiked's entry point.  It reads the command line and the
 * config, binds every listener, gives up root, tells systemd it is ready
 * and runs the one event loop until SIGTERM or SIGINT.  SIGHUP reloads the
 * config: a new one that fails to load is refused and the running one
 * stays.  Modules are opened here in order and closed in reverse.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <sys/resource.h>
#include <ifaddrs.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <time.h>

#include "addr.h"
#include "clock.h"
#include "conf.h"
#include "http.h"
#include "ice.h"
#include "log.h"
#include "notify.h"
#include "peer.h"
#include "policy.h"
#include "privs.h"
#include "sig.h"
#include "tls.h"
#include "turnpiked.h"
#include "worker.h"
#include "ws.h"

#define MAIN_MAX_LOCAL 256

#ifndef TURNPIKE_CONFIG_FILE
#define TURNPIKE_CONFIG_FILE "/etc/turnpike/turnpike.conf"
#endif

static noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp,
		"usage: turnpiked [-dhtvV] [-c file]\n"
		"       turnpiked [-c file] --mint-token room [--ttl seconds]\n"
		"  -c file  read this config file (default %s)\n"
		"  -t       check the config and exit; with -v also print it\n"
		"  -d       log to stderr, whatever log.target says\n"
		"  -v       log at debug level, whatever log.level says\n"
		"  -V       print the version and exit\n"
		"  -h       print this help and exit\n"
		"  --mint-token room  print a join token for room (with\n"
		"           signaling.token_secret); --ttl: seconds, default "
		"3600\n",
		TURNPIKE_CONFIG_FILE);
	exit(status);
}

static void
version(void)
{
	printf("turnpiked %s (libevent %s, %s%s)\n", PACKAGE_VERSION,
	       event_get_version(), "OpenSSL",
#ifdef HAVE_LIBSYSTEMD
	       ", systemd"
#else
	       ""
#endif
	);
}

/*
 * The host's interface addresses, for the peer policy's self rule: a
 * wildcard listener names none of them.  Returns how many were written to
 * out[0..cap).  Read at start and on each reload.
 */
static size_t
local_addresses(struct sockaddr_storage *out, size_t cap)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		return 0;
	}
	for (i = ifa; i != NULL && n < cap; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET &&
					    i->ifa_addr->sa_family != AF_INET6))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(&out[n], i->ifa_addr, addr_len(i->ifa_addr));
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

/* The policy of conf, with the host's own addresses. */
static int
build_policy(const struct conf *conf, struct policy *p, char *err,
	     size_t errlen)
{
	struct sockaddr_storage local[MAIN_MAX_LOCAL];
	size_t n = local_addresses(local, MAIN_MAX_LOCAL);

	return policy_build(conf, local, n, p, err, errlen);
}

/*
 * The TLS listeners' context, when a certificate is configured: its load
 * failing at start is fatal; without one, listen.tls is not opened and
 * this returns NULL.  The caller frees it once the listeners hold it.
 */
static SSL_CTX *
tls_open(struct turnpiked *d)
{
	char err[CONF_ERRLEN], desc[512];
	SSL_CTX *ctx;

	if (d->conf->listen_tls.n == 0)
		return NULL;
	if (d->conf->tls_certificate[0] == '\0') {
		log_info("tls: no tls.certificate: TLS listeners off");
		return NULL;
	}
	ctx = tls_ctx_new(d->conf->tls_certificate, d->conf->tls_private_key,
			  d->conf->tls_ciphers, desc, sizeof(desc), err,
			  sizeof(err));
	if (ctx == NULL)
		fatalx("tls: %s", err);
	log_info("tls: certificate %s", desc);
	d->tls_on = true;
	return ctx;
}

/*
 * The STUN and TURN side: daemon.workers workers with their listeners,
 * and the peer policy they share when TURN is on.  Binds before root is
 * given up; the worker threads start after.
 */
static void
turn_open(struct turnpiked *d)
{
	char err[CONF_ERRLEN];
	SSL_CTX *tls = tls_open(d);

	if (d->conf->turn_enable &&
	    build_policy(d->conf, &d->policy, err, sizeof(err)) == -1)
		fatalx("%s", err);
	d->workers = workers_open(d->base, d->conf,
				  d->conf->turn_enable ? &d->policy : NULL, tls,
				  workers_wanted(d->conf));
	SSL_CTX_free(tls); /* each listener set holds its own reference */
}

static void
turn_close(struct turnpiked *d)
{
	workers_close(d->workers);
	policy_free(&d->policy);
}

/*
 * SIGHUP: read the certificate and key again.  Returns the new context
 * for workers_reload() (the caller frees it), or NULL when the old one
 * stays: TLS is off, or the pair failed to load (logged).  New handshakes
 * use the new pair; open connections keep theirs.
 */
static SSL_CTX *
tls_reload(struct turnpiked *d, const struct conf *conf)
{
	char err[CONF_ERRLEN], desc[512];
	SSL_CTX *ctx;

	if (!d->tls_on) {
		if (conf->tls_certificate[0] != '\0' && conf->listen_tls.n > 0)
			log_warnx("tls: tls.certificate is set now; a restart "
				  "opens the TLS listeners");
		return NULL;
	}
	if (conf->tls_certificate[0] == '\0') {
		log_warnx("tls: tls.certificate is now empty; a restart turns "
			  "TLS off, the current certificate stays until then");
		return NULL;
	}
	ctx = tls_ctx_new(conf->tls_certificate, conf->tls_private_key,
			  conf->tls_ciphers, desc, sizeof(desc), err,
			  sizeof(err));
	if (ctx == NULL) {
		log_error("tls: %s; keeping the current certificate", err);
		return NULL;
	}
	log_info("tls: certificate reloaded: %s", desc);
	return ctx;
}

/* Apply the log settings of conf, as overridden by -d and -v. */
static void
apply_log(struct turnpiked *d, const struct conf *conf)
{
	log_init(d->log_debug ? LOG_LEVEL_DEBUG : conf->log_level,
		 d->log_stderr ? LOG_TARGET_STDERR : conf->log_target,
		 conf_syslog_facility(conf));
}

/* The hub's bounds from conf. */
static void
sig_config_of(const struct conf *conf, struct sig_config *cfg)
{
	cfg->max_rooms = (unsigned int)conf->sig_max_rooms;
	cfg->max_peers_per_room = (unsigned int)conf->sig_max_peers_per_room;
	cfg->rate = (unsigned int)conf->sig_rate;
	cfg->burst = (unsigned int)conf->sig_burst;
	cfg->abuse_limit = (unsigned int)conf->sig_abuse_limit;
	cfg->token_secret = conf->sig_token_secret[0] != '\0'
				    ? conf->sig_token_secret
				    : NULL;
}

static void
reload_report_cb(const char *key, void *arg)
{
	log_warnx("reload: %s changed; it takes effect after a restart", key);
}

/*
 * SIGHUP: load the file again.  On success the new config replaces the
 * old one whole, except for keys that need a restart, which keep their
 * running values (conf_carry_restart_keys logs each).  On failure the
 * running config stays and the reason is logged.
 */
static void
reload(struct turnpiked *d)
{
	char err[CONF_ERRLEN];
	struct conf *conf;
	struct policy policy = { NULL, NULL };
	SSL_CTX *tls;

	notify_reloading();
	if ((conf = conf_load(d->conf_path, err, sizeof(err))) == NULL) {
		log_error(
			"reload failed, keeping the running configuration: %s",
			err);
		notify_ready(
			"reload failed; running the previous configuration");
		return;
	}
	conf_carry_restart_keys(conf, d->conf, reload_report_cb, NULL);
	/* New users, secrets, realm and peer policy apply to new requests;
	 * live allocations keep their keys and go on relaying. */
	if (conf->turn_enable &&
	    build_policy(conf, &policy, err, sizeof(err)) == -1) {
		log_error(
			"reload failed, keeping the running configuration: %s",
			err);
		conf_free(conf);
		notify_ready(
			"reload failed; running the previous configuration");
		return;
	}
	apply_log(d, conf);
	tls = tls_reload(d, conf);
	/* Every worker takes the new config before the old one is freed. */
	workers_reload(d->workers, conf, conf->turn_enable ? &policy : NULL,
		       tls);
	SSL_CTX_free(tls);
	if (conf->turn_enable) {
		policy_free(&d->policy);
		d->policy = policy;
	}
	if (d->hub != NULL) {
		struct sig_config cfg;

		sig_config_of(conf, &cfg);
		sig_hub_configure(d->hub, &cfg);
	}
	conf_free(d->conf);
	d->conf = conf;
	log_info("configuration reloaded from %s", d->conf_path);
	notify_ready("serving");
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct turnpiked *d = arg;

	switch (sig) {
	case SIGHUP:
		reload(d);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("%s received, stopping",
			 sig == SIGTERM ? "SIGTERM" : "SIGINT");
		notify_stopping();
		event_base_loopbreak(d->base);
		break;
	}
}

/*
 * Every beat, on the main loop: check that each worker's loop turns
 * (workers_beat()), and tell systemd all is well if it asked (WatchdogSec)
 * and all is: a ping also means that the main loop turns.  A worker that
 * leaves a beat unanswered for too long (half of WatchdogSec, else
 * WORKERS_STUCK_MS) fails /healthz and holds the pings back, and systemd
 * restarts the daemon once WatchdogSec has passed without one.
 */
static void
beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct turnpiked *d = arg;
	uint64_t for_ms = 0;
	unsigned int stuck;

	stuck = workers_beat(d->workers, clock_mono_ms(), d->stuck_ms, &for_ms);
	if (stuck != 0) {
		if (d->stuck != stuck)
			log_warnx("worker %u has not run for %llu ms; /healthz "
				  "fails%s",
				  stuck, (unsigned long long)for_ms,
				  d->watchdog ? ", and systemd is not told all "
						"is well"
					      : "");
		d->stuck = stuck;
		return;
	}
	if (d->stuck != 0)
		log_info("worker %u runs again", d->stuck);
	d->stuck = 0;
	if (d->watchdog)
		notify_watchdog();
}

static void
signals_open(struct turnpiked *d)
{
	signal(SIGPIPE, SIG_IGN);
	d->sig_term = evsignal_new(d->base, SIGTERM, signal_cb, d);
	d->sig_int = evsignal_new(d->base, SIGINT, signal_cb, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, signal_cb, d);
	if (d->sig_term == NULL || d->sig_int == NULL || d->sig_hup == NULL ||
	    evsignal_add(d->sig_term, NULL) == -1 ||
	    evsignal_add(d->sig_int, NULL) == -1 ||
	    evsignal_add(d->sig_hup, NULL) == -1)
		fatalx("cannot install signal handlers");
}

/* Beat four times in systemd's WatchdogSec, pinging it, or else every
 * WORKERS_BEAT_MS. */
static void
beat_open(struct turnpiked *d)
{
	uint64_t usec = notify_watchdog_usec();
	struct timeval tv;

	d->watchdog = usec != 0;
	d->stuck_ms = WORKERS_STUCK_MS;
	if (d->watchdog) {
		d->stuck_ms = usec / 2000;
		usec /= 4;
		log_debug("systemd watchdog: pinging every %llu ms",
			  (unsigned long long)usec / 1000);
	} else {
		usec = WORKERS_BEAT_MS * 1000;
	}
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	d->beat = event_new(d->base, -1, EV_PERSIST, beat_cb, d);
	if (d->beat == NULL || event_add(d->beat, &tv) == -1)
		fatalx("cannot start the beat timer");
}

/*
 * -t: everything a start would check besides binding: the user, the TURN
 * credentials and peer policy, the TLS pair.  Prints "configuration OK"
 * (with -v, the effective config first) and returns 0, or prints the
 * reason and returns 1.
 */
static int
check_config(struct turnpiked *d)
{
	char err[CONF_ERRLEN];

	if (privs_check(d->conf->user, d->conf->group, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "%s: %s\n", d->conf_path, err);
		return 1;
	}
	if (d->conf->turn_enable) {
		struct policy p;

		if (build_policy(d->conf, &p, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		policy_free(&p);
	}
	if (d->conf->http_tls_certificate[0] != '\0') {
		/* libmicrohttpd reads the HTTPS pair at start: check it can. */
		const char *files[] = { d->conf->http_tls_certificate,
					d->conf->http_tls_private_key };

		for (int i = 0; i < 2; i++) {
			FILE *fp = fopen(files[i], "r");

			if (fp == NULL) {
				fprintf(stderr,
					"%s: http: cannot open %s: %s\n",
					d->conf_path, files[i],
					strerror(errno));
				return 1;
			}
			fclose(fp);
		}
	}
	if (d->conf->tls_certificate[0] != '\0') {
		char desc[512];
		SSL_CTX *ctx = tls_ctx_new(d->conf->tls_certificate,
					   d->conf->tls_private_key,
					   d->conf->tls_ciphers, desc,
					   sizeof(desc), err, sizeof(err));

		if (ctx == NULL) {
			fprintf(stderr, "%s: tls: %s\n", d->conf_path, err);
			return 1;
		}
		SSL_CTX_free(ctx);
	}
	if (d->log_debug)
		conf_print(stdout, d->conf);
	printf("configuration OK\n");
	return 0;
}

static void
sig_random_cb(void *ctx, uint8_t *buf, size_t n)
{
	if (RAND_bytes(buf, (int)n) != 1)
		fatalx("the random number generator failed");
}

static json_t *
sig_ice_cb(void *ctx, void *conn, const char *peer_id)
{
	struct turnpiked *d = ctx;

	return ice_config(d->conf, ws_host(conn), peer_id, time(NULL));
}

/*
 * HTTP, the WebSocket side and the signaling hub, when http.listen is
 * set.  Binds before root is given up.
 */
static void
signaling_open(struct turnpiked *d)
{
	struct sig_ops ops = {
		.send = ws_send_text,
		.close = ws_close_code,
		.random = sig_random_cb,
		.ice_config = sig_ice_cb,
	};
	struct sig_config cfg;

	if (d->conf->http_listen.n == 0)
		return;
	d->http = http_open(d->base, (const struct conf **)&d->conf,
			    &(struct http_backend){
				    workers_stats, workers_stuck, d->workers });
	if (d->http == NULL)
		fatalx("cannot start HTTP");
	d->ws = ws_set_new(d->base, (const struct conf **)&d->conf, http_kick,
			   d->http);
	if (d->ws == NULL)
		fatalx("cannot start WebSockets");
	/* The hub reaches connections through ws.c and ICE configs
	 * through sig_ice_cb, which needs the daemon. */
	ops.ctx = d;
	sig_config_of(d->conf, &cfg);
	if ((d->hub = sig_hub_new(&ops, &cfg)) == NULL)
		fatalx("cannot start signaling");
	ws_set_hub(d->ws, d->hub);
	http_attach(d->http, d->ws, d->hub);
}

static void
signaling_close(struct turnpiked *d)
{
	ws_set_free(d->ws); /* each peer leaves the hub */
	sig_hub_free(d->hub);
	http_close(d->http);
}

/* Room for every allocation and connection: the soft limit of open files
 * goes up to the hard one (as nginx's worker_rlimit_nofile does). */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
}

/* --mint-token ROOM [--ttl S]: print a join token for scripts. */
static int
mint_token(struct turnpiked *d, const char *room, long ttl)
{
	char token[128];

	if (d->conf->sig_token_secret[0] == '\0') {
		fprintf(stderr, "%s: signaling.token_secret is not set\n",
			d->conf_path);
		return 1;
	}
	if (sig_token_make(d->conf->sig_token_secret, room,
			   (int64_t)time(NULL) + ttl, token,
			   sizeof(token)) == -1) {
		fprintf(stderr, "cannot make a token for room \"%s\"\n", room);
		return 1;
	}
	printf("%s\n", token);
	return 0;
}

static void
daemon_close(struct turnpiked *d)
{
	if (d->beat != NULL)
		event_free(d->beat);
	signaling_close(d);
	turn_close(d);
	if (d->sig_hup != NULL)
		event_free(d->sig_hup);
	if (d->sig_int != NULL)
		event_free(d->sig_int);
	if (d->sig_term != NULL)
		event_free(d->sig_term);
	event_base_free(d->base);
	conf_free(d->conf);
}

int
main(int argc, char *argv[])
{
	struct turnpiked d;
	static const struct option long_opts[] = {
		{ "mint-token", required_argument, NULL, 'M' },
		{ "ttl", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	char err[CONF_ERRLEN], *end;
	const char *mint_room = NULL;
	long mint_ttl = 3600;
	bool mint_ttl_set = false;
	bool check = false;
	int ch;

	memset(&d, 0, sizeof(d));
	d.conf_path = TURNPIKE_CONFIG_FILE;
	while ((ch = getopt_long(argc, argv, "c:dhtvV", long_opts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'M':
			mint_room = optarg;
			break;
		case 'T':
			mint_ttl = strtol(optarg, &end, 10);
			mint_ttl_set = true;
			if (*end != '\0' || mint_ttl < 1 || mint_ttl > 31536000)
				usage(stderr, 2);
			break;
		case 'c':
			d.conf_path = optarg;
			break;
		case 'd':
			d.log_stderr = true;
			break;
		case 'h':
			usage(stdout, 0);
		case 't':
			check = true;
			break;
		case 'v':
			d.log_debug = true;
			break;
		case 'V':
			version();
			return 0;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);

	if ((d.conf = conf_load(d.conf_path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (mint_ttl_set && mint_room == NULL)
		usage(stderr, 2);
	if (mint_room != NULL) {
		int rc = mint_token(&d, mint_room, mint_ttl);

		conf_free(d.conf);
		return rc;
	}
	if (check) {
		int rc = check_config(&d);

		conf_free(d.conf);
		return rc;
	}
	apply_log(&d, d.conf);
	raise_nofile();

	if ((d.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	signals_open(&d);
	turn_open(&d);
	signaling_open(&d);
	if (workers_listeners(d.workers) + (d.http ? http_count(d.http) : 0) ==
	    0)
		fatalx("no listener could be opened: nothing to serve");

	if (privs_drop(d.conf->user, d.conf->group, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (geteuid() == 0)
		log_warnx("running as root: set daemon.user");
	workers_start(d.workers);

	beat_open(&d);
	log_info("turnpiked %s ready", PACKAGE_VERSION);
	notify_ready("serving");
	if (event_base_dispatch(d.base) == -1)
		log_error("event loop failed");

	daemon_close(&d);
	log_info("stopped");
	return 0;
}
