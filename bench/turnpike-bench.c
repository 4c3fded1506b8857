/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * turnpike-bench.c: a load generator for STUN and TURN servers, turnpiked
 * or any other (coturn), over UDP.  One mode per run:
 *
 *   binding  STUN Binding requests from many sockets: answers per second,
 *            loss, round trip time;
 *   alloc    full long-term handshakes (Allocate, 401, signed Allocate,
 *            CreatePermission, ChannelBind, Refresh 0) per second;
 *   relay    pairs of allocations that relay to each other over
 *            ChannelData or Send indications: packets delivered per
 *            second, loss, one-way latency;
 *   hold     many live allocations kept for a while, so that a script can
 *            read the server's memory.
 *
 * It links turnpike's STUN codec and credential helpers and nothing of the
 * server.  Its own cost must not be what is measured: datagrams go out
 * with sendmmsg() and come in with recvmmsg() in batches, pacing sleeps
 * until absolute deadlines (a timerfd) instead of spinning, and the
 * sockets are sharded over --threads threads, each with its own epoll
 * loop and counters, merged at the end.  Not for conformance testing (the
 * integration tests do that), and not for addresses beyond a lab: it
 * sends as fast as it is told to.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "benchutil.h"
#include "bytes.h"
#include "auth.h"
#include "stun.h"

#define BENCH_BATCH     64   /* datagrams per sendmmsg / recvmmsg */
#define BENCH_RX_SLOT   2048 /* bytes per receive buffer */
#define BENCH_TX_SLOT   1536 /* bytes per send buffer */
#define BENCH_SIZE_MIN  24   /* the payload's own header */
#define BENCH_SIZE_MAX  1400
#define BENCH_REQ_MAX   512 /* one control request */
#define BENCH_USER_MAX  256
#define BENCH_REALM_MAX 256
#define BENCH_NONCE_MAX 256
#define BENCH_TRIES     4           /* sends of one request before it fails */
#define BENCH_MAX_CODES 8           /* distinct failure reasons kept */
#define BENCH_MAGIC     0x54504231u /* "TPB1", first word of a payload */
#define BENCH_CHANNEL   0x4000      /* RFC 8656 section 12: 0x4000-0x4FFF */
#define BENCH_STALL_NS  (50 * 1000000ull)
#define BENCH_DRAIN_NS  (300 * 1000000ull)
#define BENCH_SCAN_NS   (10 * 1000000ull)
#define BENCH_REST_TTL  3600       /* seconds a minted REST username is good */
#define BENCH_MAX_SECS  3600.0     /* longest --duration */
#define BENCH_TIMER     UINT64_MAX /* epoll tag of the shard's timerfd */

enum mode { MODE_NONE, MODE_BINDING, MODE_ALLOC, MODE_RELAY, MODE_HOLD };
enum carrier { CARRY_CHANNEL, CARRY_SEND, CARRY_RAW };

/* The command line, once parsed: read-only while threads run. */
static struct {
	enum mode mode;
	struct sockaddr_storage server;
	char server_str[ADDR_STRLEN];
	const char *user;
	const char *password;
	const char *secret;
	enum carrier carrier;
	unsigned int threads;
	double duration;
	double warmup;
	double rate;
	unsigned int window;
	bool window_set;
	unsigned int sockets;
	unsigned int pairs;
	unsigned int size;
	unsigned int count;
	unsigned int concurrency;
	unsigned int lifetime;
	unsigned int timeout_ms;
	int spread; /* -1: by the server's address */
	bool gso;
	bool json;
} opt = {
	.threads = 1,
	.duration = 5,
	.warmup = 0.5,
	.sockets = 8,
	.pairs = 1,
	.size = 100,
	.count = 1000,
	.concurrency = 32,
	.lifetime = 600,
	.timeout_ms = 500,
	.spread = -1,
};

/* Why control requests failed: a STUN error code (300-699), or one of
 * these. */
enum {
	FAIL_TIMEOUT,    /* no answer after BENCH_TRIES sends */
	FAIL_UNEXPECTED, /* an answer that is not what the state asked for */
	FAIL_INTEGRITY,  /* a success whose MESSAGE-INTEGRITY is wrong */
	FAIL_SOCKET,     /* no socket, or no credentials could be made */
};

/* Failures counted by reason. */
struct fail_counts {
	int code[BENCH_MAX_CODES];
	uint64_t n[BENCH_MAX_CODES];
	uint64_t other;
};

static void
fail_count(struct fail_counts *f, int code)
{
	for (unsigned int i = 0; i < BENCH_MAX_CODES; i++) {
		if (f->n[i] != 0 && f->code[i] == code) {
			f->n[i]++;
			return;
		}
		if (f->n[i] == 0) {
			f->code[i] = code;
			f->n[i] = 1;
			return;
		}
	}
	f->other++;
}

static void
fail_merge(struct fail_counts *to, const struct fail_counts *from)
{
	for (unsigned int i = 0; i < BENCH_MAX_CODES; i++)
		for (uint64_t k = 0; k < from->n[i]; k++)
			fail_count(to, from->code[i]);
	to->other += from->other;
}

static uint64_t
fail_total(const struct fail_counts *f)
{
	uint64_t t = f->other;

	for (unsigned int i = 0; i < BENCH_MAX_CODES; i++)
		t += f->n[i];
	return t;
}

static const char *
fail_name(int code, char *buf, size_t cap)
{
	if (code == FAIL_TIMEOUT)
		return "timeout";
	if (code == FAIL_UNEXPECTED)
		return "unexpected";
	if (code == FAIL_INTEGRITY)
		return "integrity";
	if (code == FAIL_SOCKET)
		return "socket";
	snprintf(buf, cap, "%d", code);
	return buf;
}

/*
 * A control session: one client socket and the allocation made over it.
 * Its state says which request is outstanding, or that none is (the
 * resting states).
 */
enum sess_state {
	SS_IDLE,            /* resting: nothing done, or a socket only */
	SS_ALLOC_CHALLENGE, /* unsigned Allocate sent, a 401 expected */
	SS_ALLOC,           /* signed Allocate sent */
	SS_ALLOCATED,       /* resting: relay waits for its partner */
	SS_PERM,            /* CreatePermission sent */
	SS_CHAN,            /* ChannelBind sent */
	SS_READY,           /* resting: the allocation is in use */
	SS_REFRESH,         /* Refresh (keep alive) sent */
	SS_DELETE,          /* Refresh with LIFETIME 0 sent */
	SS_DONE,            /* resting: deleted */
	SS_FAILED,          /* resting: a request failed */
};

struct sess {
	int fd;
	enum sess_state state;
	unsigned int tries;
	unsigned int stale;  /* 438 answers taken in this handshake */
	unsigned int moves;  /* 437 answers taken in this handshake */
	uint64_t deadline;   /* of the outstanding request, ns */
	uint64_t started;    /* of the handshake, ns */
	uint64_t refresh_at; /* SS_READY: next keep-alive, ns */
	uint8_t tid[STUN_TID_SIZE];
	uint16_t req_len;
	uint16_t user_len;
	uint16_t realm_len;
	uint16_t nonce_len;
	uint16_t rx_flow; /* relay and binding: the flow it receives */
	bool has_key;
	uint8_t key[AUTH_KEY_SIZE];
	char user[BENCH_USER_MAX];
	char pass[BENCH_USER_MAX];
	char realm[BENCH_REALM_MAX];
	char nonce[BENCH_NONCE_MAX];
	struct sockaddr_storage local;   /* the socket's own address */
	struct sockaddr_storage relayed; /* XOR-RELAYED-ADDRESS */
	struct sockaddr_storage peer;    /* what CreatePermission names */
	uint8_t req[BENCH_REQ_MAX];
};

/* One direction of data: from one session's socket to the other's. */
struct flow {
	int fd;
	uint32_t id;
	uint16_t hdr_len;
	uint8_t hdr[64];  /* what goes before the payload */
	uint64_t seq;     /* next sequence number sent */
	uint64_t rx_next; /* next sequence number expected */
};

/* One thread's share: its sessions, flows, loop and counters. */
struct shard {
	pthread_t thread;
	unsigned int id;
	int ep;
	int tfd;
	uint64_t rng;
	struct digest_ctx *crypto; /* this thread's digests (NULL: none) */
	struct sess *sess;
	unsigned int nsess;
	struct flow *flows;
	unsigned int nflows;
	unsigned int rr; /* next flow to send on */
	unsigned int cursor;
	unsigned int pending; /* sessions with a request outstanding */
	unsigned int concurrency;
	uint64_t minted;  /* REST usernames made */
	uint64_t sources; /* --spread source addresses used */
	bool restart;     /* alloc: a finished session starts again */
	/* Traffic. */
	double rate;     /* this shard's packets per second, 0 flat */
	uint64_t window; /* packets in flight, flat out; 0 unbounded */
	uint64_t sent, sent_measured, sent_eagain;
	uint64_t received, received_measured;
	uint64_t gaps, late, written_off, stalls, bad, errors;
	uint64_t last_rx;
	struct hist lat;
	/* Control. */
	uint64_t completed, completed_measured;
	uint64_t refreshed, deleted, ready;
	uint64_t moved; /* handshakes moved to a new 5-tuple after 437 */
	struct fail_counts fails;
	struct hist handshake;
	/* Batches. */
	struct mmsghdr out[BENCH_BATCH], in[BENCH_BATCH];
	struct iovec out_iov[BENCH_BATCH], in_iov[BENCH_BATCH];
	uint8_t (*txbuf)[BENCH_TX_SLOT];
	uint8_t (*rxbuf)[BENCH_RX_SLOT];
};

/* Times every shard shares, ns of CLOCK_MONOTONIC. */
static struct {
	uint64_t t0;      /* traffic or handshakes start */
	uint64_t measure; /* counting starts (after the warm-up) */
	uint64_t stop;    /* sending stops */
	pthread_barrier_t barrier;
} run;

static struct shard *shards;

/* Arm the shard's timer for the absolute time at (0 disarms). */
static void
shard_timer(struct shard *sh, uint64_t at)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (at != 0) {
		its.it_value.tv_sec = (time_t)(at / NS);
		its.it_value.tv_nsec = (long)(at % NS);
	}
	(void)timerfd_settime(sh->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * Bind fd to the next source address of the shard's share of 127.1.0.0 -
 * 127.253.255.255, port 0, so that no two sessions of a run share a
 * 5-tuple, as no two browsers do.  A failure leaves the kernel's choice.
 */
static void
client_spread(struct shard *sh, int fd)
{
	struct sockaddr_in sin;
	uint64_t n = sh->id + (uint64_t)opt.threads * sh->sources++;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7F010000u + (uint32_t)(n % 0xFD0000u));
	(void)bind(fd, (struct sockaddr *)&sin, sizeof(sin));
}

/*
 * A UDP socket of the server's family, connected to the server (so that
 * only its datagrams come in, and sends skip the route lookup), watched by
 * the shard's epoll with tag.  big asks for 1 MiB socket buffers; spread
 * for a source address of its own (--spread).  Returns the fd and its own
 * address in local, or -1.
 */
static int
client_socket(struct shard *sh, uint64_t tag, bool big, bool spread,
	      struct sockaddr_storage *local)
{
	const struct sockaddr *srv = (const struct sockaddr *)&opt.server;
	struct epoll_event ev;
	socklen_t len = sizeof(*local);
	int fd, buf = 1 << 20;

	fd = socket(srv->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd == -1)
		return -1;
	if (spread && opt.spread)
		client_spread(sh, fd);
	if (big) {
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	}
	if (connect(fd, srv, addr_len(srv)) == -1 ||
	    getsockname(fd, (struct sockaddr *)local, &len) == -1) {
		close(fd);
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = tag;
	if (epoll_ctl(sh->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Control sessions.  Each request is built into s->req and kept there for
 * retransmission; a new transaction gets a new transaction id.
 */

static void
sess_new_tid(struct shard *sh, struct sess *s)
{
	uint64_t a = xorshift64(&sh->rng), b = xorshift64(&sh->rng);

	memcpy(s->tid, &a, 8);
	memcpy(s->tid + 8, &b, 4);
}

/* Fill s->user and s->pass: the static user, or a fresh REST username
 * "<expiry>:<user or tpb>-<shard>-<n>" and its password. */
static int
sess_credentials(struct shard *sh, struct sess *s, uint64_t n)
{
	char suffix[BENCH_USER_MAX];
	char pw[AUTH_REST_PASSWORD_LEN + 1];

	s->has_key = false;
	if (opt.secret == NULL) {
		snprintf(s->user, sizeof(s->user), "%s", opt.user);
		snprintf(s->pass, sizeof(s->pass), "%s", opt.password);
		s->user_len = (uint16_t)strlen(s->user);
		return 0;
	}
	snprintf(suffix, sizeof(suffix), "%.200s-%u-%" PRIu64,
		 opt.user != NULL ? opt.user : "tpb", sh->id, n);
	if (auth_rest_mint(opt.secret, suffix,
			   (int64_t)time(NULL) + BENCH_REST_TTL, s->user,
			   sizeof(s->user), pw) == -1)
		return -1;
	snprintf(s->pass, sizeof(s->pass), "%s", pw);
	s->user_len = (uint16_t)strlen(s->user);
	return 0;
}

/* Build the request that state asks for into s->req, with s->tid. */
static int
sess_build(struct shard *sh, struct sess *s, enum sess_state state)
{
	struct stun_builder b;
	uint16_t method;
	size_t len;
	bool sign = state != SS_ALLOC_CHALLENGE;

	switch (state) {
	case SS_ALLOC_CHALLENGE:
	case SS_ALLOC:
		method = STUN_METHOD_ALLOCATE;
		break;
	case SS_PERM:
		method = STUN_METHOD_CREATE_PERMISSION;
		break;
	case SS_CHAN:
		method = STUN_METHOD_CHANNEL_BIND;
		break;
	default:
		method = STUN_METHOD_REFRESH;
		break;
	}
	stun_build_init(&b, s->req, sizeof(s->req),
			stun_type(method, STUN_CLASS_REQUEST), s->tid);
	b.crypto = sh->crypto;
	switch (state) {
	case SS_ALLOC_CHALLENGE:
	case SS_ALLOC:
		/* RFC 8656 section 14.7: UDP is protocol 17. */
		stun_add_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24);
		stun_add_u32(&b, STUN_ATTR_LIFETIME, opt.lifetime);
		/* RFC 8656 section 7.1: an IPv6 relay must be asked for. */
		if (opt.server.ss_family == AF_INET6)
			stun_add_u32(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
				     0x02u << 24);
		break;
	case SS_PERM:
		stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS,
				  (struct sockaddr *)&s->peer);
		break;
	case SS_CHAN:
		stun_add_u32(&b, STUN_ATTR_CHANNEL_NUMBER,
			     (uint32_t)BENCH_CHANNEL << 16);
		stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS,
				  (struct sockaddr *)&s->peer);
		break;
	case SS_REFRESH:
		stun_add_u32(&b, STUN_ATTR_LIFETIME, opt.lifetime);
		break;
	default:
		stun_add_u32(&b, STUN_ATTR_LIFETIME, 0);
		break;
	}
	if (sign) {
		stun_add_attr(&b, STUN_ATTR_USERNAME, s->user, s->user_len);
		stun_add_attr(&b, STUN_ATTR_REALM, s->realm, s->realm_len);
		stun_add_attr(&b, STUN_ATTR_NONCE, s->nonce, s->nonce_len);
		stun_add_integrity(&b, s->key, sizeof(s->key));
	}
	if ((len = stun_build_finish(&b)) == 0)
		return -1;
	s->req_len = (uint16_t)len;
	return 0;
}

static void
sess_transmit(struct sess *s, uint64_t now)
{
	/* A full socket buffer is a lost datagram: the time-out resends. */
	(void)send(s->fd, s->req, s->req_len, MSG_DONTWAIT);
	s->deadline = now + ((uint64_t)opt.timeout_ms * 1000000ull
			     << (s->tries < 4 ? s->tries : 4));
	s->tries++;
}

static void
sess_rest(struct shard *sh, struct sess *s, enum sess_state state)
{
	s->state = state;
	if (sh->pending > 0)
		sh->pending--;
}

static void
sess_fail(struct shard *sh, struct sess *s, int why)
{
	fail_count(&sh->fails, why);
	sess_rest(sh, s, SS_FAILED);
}

/* Send a new request for state; s must have a socket. */
static void
sess_request(struct shard *sh, struct sess *s, enum sess_state state,
	     uint64_t now)
{
	bool resting = s->state == SS_IDLE || s->state == SS_ALLOCATED ||
		       s->state == SS_READY || s->state == SS_DONE ||
		       s->state == SS_FAILED;

	if (resting)
		sh->pending++;
	s->state = state;
	s->tries = 0;
	sess_new_tid(sh, s);
	if (sess_build(sh, s, state) == -1) {
		sess_fail(sh, s, FAIL_UNEXPECTED);
		return;
	}
	sess_transmit(s, now);
}

/* Start a handshake on session index i: a fresh socket (the last one's
 * 5-tuple may still be the server's), fresh credentials, Allocate. */
static void
sess_start(struct shard *sh, unsigned int i, uint64_t now)
{
	struct sess *s = &sh->sess[i];

	if (s->fd != -1)
		close(s->fd);
	s->fd = client_socket(sh, i, false, true, &s->local);
	s->stale = s->moves = 0;
	s->started = now;
	s->realm_len = s->nonce_len = 0;
	if (s->fd == -1 || sess_credentials(sh, s, sh->minted++) == -1) {
		sh->pending++;
		sess_fail(sh, s, FAIL_SOCKET);
		return;
	}
	sess_request(sh, s, SS_ALLOC_CHALLENGE, now);
}

/*
 * RFC 8656 section 7.4: 437 to an Allocate means that the server still
 * holds this 5-tuple (coturn keeps a deleted allocation's for a while,
 * and the kernel may hand out a recently closed port again).  Try again
 * from another 5-tuple, with the same credentials.
 */
static void
sess_move(struct shard *sh, unsigned int i, uint64_t now)
{
	struct sess *s = &sh->sess[i];

	close(s->fd);
	s->fd = client_socket(sh, i, false, true, &s->local);
	s->realm_len = s->nonce_len = 0;
	sh->moved++;
	if (s->fd == -1) {
		sess_fail(sh, s, FAIL_SOCKET);
		return;
	}
	sess_request(sh, s, SS_ALLOC_CHALLENGE, now);
}

/* Take REALM and NONCE from an error answer; false when absent. */
static bool
sess_take_nonce(struct shard *sh, struct sess *s, const struct stun_msg *m)
{
	const struct stun_attr *realm = stun_find(m, STUN_ATTR_REALM);
	const struct stun_attr *nonce = stun_find(m, STUN_ATTR_NONCE);

	if (realm == NULL || nonce == NULL || realm->len >= BENCH_REALM_MAX ||
	    nonce->len >= BENCH_NONCE_MAX)
		return false;
	if (realm->len != s->realm_len ||
	    memcmp(s->realm, stun_attr_value(m, realm), realm->len) != 0)
		s->has_key = false;
	memcpy(s->realm, stun_attr_value(m, realm), realm->len);
	s->realm_len = realm->len;
	memcpy(s->nonce, stun_attr_value(m, nonce), nonce->len);
	s->nonce_len = nonce->len;
	if (!s->has_key) {
		if (auth_long_term_key(sh->crypto, s->user, s->user_len,
				       s->realm, s->realm_len, s->pass,
				       strlen(s->pass), s->key) == -1)
			return false;
		s->has_key = true;
	}
	return true;
}

static void relay_allocated(struct shard *sh, unsigned int i, uint64_t now);

/* What follows a success, by mode (the state machine's one table). */
static void
sess_next(struct shard *sh, unsigned int i, uint64_t now)
{
	struct sess *s = &sh->sess[i];

	switch (s->state) {
	case SS_ALLOC:
		if (opt.mode == MODE_RELAY) {
			sess_rest(sh, s, SS_ALLOCATED);
			relay_allocated(sh, i, now);
			return;
		}
		/* alloc and hold: a permission and a channel to the
		 * allocation's own relayed address, a loopback peer. */
		s->peer = s->relayed;
		sess_request(sh, s, SS_PERM, now);
		return;
	case SS_PERM:
		if (opt.mode == MODE_RELAY && opt.carrier == CARRY_SEND)
			break;
		sess_request(sh, s, SS_CHAN, now);
		return;
	case SS_CHAN:
		if (opt.mode == MODE_ALLOC) {
			sess_request(sh, s, SS_DELETE, now);
			return;
		}
		break;
	case SS_REFRESH:
		sh->refreshed++;
		break;
	case SS_DELETE:
		if (opt.mode == MODE_ALLOC) {
			sh->completed++;
			if (now >= run.measure && now < run.stop) {
				sh->completed_measured++;
				hist_add(&sh->handshake, now - s->started);
			}
		} else {
			sh->deleted++;
		}
		sess_rest(sh, s, SS_DONE);
		close(s->fd);
		s->fd = -1;
		if (sh->restart && now < run.stop)
			sess_start(sh, i, now);
		return;
	default:
		return;
	}
	/* Ready: keep alive at half the lifetime. */
	sess_rest(sh, s, SS_READY);
	s->refresh_at = now + (uint64_t)opt.lifetime * NS / 2;
}

/* An answer on session i's socket. */
static void
sess_response(struct shard *sh, unsigned int i, const uint8_t *buf, size_t len,
	      uint64_t now)
{
	struct sess *s = &sh->sess[i];
	struct stun_msg m;
	const struct stun_attr *a;
	int code = 0;

	if (stun_parse(buf, len, &m) != STUN_PARSE_OK ||
	    memcmp(m.tid, s->tid, STUN_TID_SIZE) != 0 || s->state == SS_IDLE ||
	    s->state == SS_ALLOCATED || s->state == SS_READY ||
	    s->state == SS_DONE || s->state == SS_FAILED)
		return; /* not ours, or an answer to a retransmission */
	if (stun_class(m.type) == STUN_CLASS_ERROR) {
		if ((a = stun_find(&m, STUN_ATTR_ERROR_CODE)) == NULL ||
		    stun_get_error_code(&m, a, &code) == -1) {
			sess_fail(sh, s, FAIL_UNEXPECTED);
			return;
		}
		if (s->state == SS_ALLOC_CHALLENGE && code == 401) {
			if (!sess_take_nonce(sh, s, &m)) {
				sess_fail(sh, s, 401);
				return;
			}
			sess_request(sh, s, SS_ALLOC, now);
			return;
		}
		if (code == 437 && s->moves++ < 5 &&
		    (s->state == SS_ALLOC_CHALLENGE ||
		     (s->state == SS_ALLOC && s->tries == 1))) {
			sess_move(sh, i, now);
			return;
		}
		/* A Refresh 0 sent again after the first one deleted the
		 * allocation (its answer late, not lost) finds none: done. */
		if (s->state == SS_DELETE && code == 437 && s->tries > 1) {
			sess_next(sh, i, now);
			return;
		}
		/* RFC 8489 section 9.2.5: a stale nonce is replaced and the
		 * request sent again, a few times at most. */
		if (code == 438 && s->stale++ < 3 &&
		    sess_take_nonce(sh, s, &m)) {
			sess_request(sh, s, s->state, now);
			return;
		}
		sess_fail(sh, s, code);
		return;
	}
	if (stun_class(m.type) != STUN_CLASS_SUCCESS ||
	    s->state == SS_ALLOC_CHALLENGE) {
		sess_fail(sh, s, FAIL_UNEXPECTED);
		return;
	}
	if (!stun_check_integrity_with(sh->crypto, &m, false, s->key,
				       sizeof(s->key))) {
		sess_fail(sh, s, FAIL_INTEGRITY);
		return;
	}
	if (s->state == SS_ALLOC) {
		a = stun_find(&m, STUN_ATTR_XOR_RELAYED_ADDRESS);
		if (a == NULL || stun_get_xor_addr(&m, a, &s->relayed) == -1) {
			sess_fail(sh, s, FAIL_UNEXPECTED);
			return;
		}
	}
	sess_next(sh, i, now);
}

/* Resend or give up what has waited past its deadline. */
static void
sess_scan(struct shard *sh, uint64_t now)
{
	for (unsigned int i = 0; i < sh->nsess; i++) {
		struct sess *s = &sh->sess[i];

		switch (s->state) {
		case SS_IDLE:
		case SS_ALLOCATED:
		case SS_DONE:
			continue;
		case SS_FAILED:
			/* alloc: the slot goes on with a new handshake. */
			if (sh->restart && now < run.stop)
				sess_start(sh, i, now);
			continue;
		case SS_READY:
			if (s->refresh_at <= now &&
			    sh->pending < sh->concurrency)
				sess_request(sh, s, SS_REFRESH, now);
			continue;
		default:
			break;
		}
		if (s->deadline > now)
			continue;
		if (s->tries >= BENCH_TRIES) {
			sess_fail(sh, s, FAIL_TIMEOUT);
			continue;
		}
		sess_transmit(s, now);
	}
}

/*
 * Traffic.  A payload is the magic, the flow id, a sequence number and
 * the send time, then filler up to --size bytes:
 *   0: "TPB1"  4: flow  8: sequence (64 bits)  16: CLOCK_MONOTONIC ns
 * A Binding request carries the send time and a sequence number in its
 * transaction id instead, which the answer echoes.
 */

/* Count one datagram that came back for flow f with seq, sent at ts. */
static void
traffic_seen(struct shard *sh, struct flow *f, uint64_t seq, uint64_t ts,
	     uint64_t now)
{
	sh->received++;
	sh->last_rx = now;
	if (seq == f->rx_next) {
		f->rx_next++;
	} else if (seq > f->rx_next) {
		sh->gaps += seq - f->rx_next;
		f->rx_next = seq + 1;
	} else {
		sh->late++;
	}
	if (ts >= run.measure && ts < run.stop) {
		sh->received_measured++;
		hist_add(&sh->lat, now > ts ? now - ts : 0);
	}
}

/* A payload received on session i's socket. */
static void
traffic_payload(struct shard *sh, unsigned int i, const uint8_t *p, size_t len,
		uint64_t now)
{
	uint32_t id;

	if (len < BENCH_SIZE_MIN || get32(p) != BENCH_MAGIC) {
		sh->bad++;
		return;
	}
	id = get32(p + 4);
	if (id != sh->sess[i].rx_flow || id >= sh->nflows) {
		sh->bad++;
		return;
	}
	traffic_seen(sh, &sh->flows[id], get64(p + 8), get64(p + 16), now);
}

/* One datagram on session i's socket, whatever it is. */
static void
shard_datagram(struct shard *sh, unsigned int i, const uint8_t *buf, size_t len,
	       uint64_t now)
{
	struct stun_msg m;
	const struct stun_attr *data;

	if (opt.mode == MODE_BINDING) {
		/* A Binding success: the transaction id is ours. */
		if (len < STUN_HEADER_SIZE || buf[0] != 0x01 ||
		    buf[1] != 0x01 || get32(buf + 4) != STUN_MAGIC_COOKIE) {
			sh->errors++;
			return;
		}
		traffic_seen(sh, &sh->flows[sh->sess[i].rx_flow],
			     get32(buf + 16), get64(buf + 8), now);
		return;
	}
	if (opt.mode == MODE_RELAY && opt.carrier == CARRY_RAW) {
		if (len >= 4)
			traffic_payload(sh, i, buf + 4, len - 4, now);
		return;
	}
	if (len >= 4 && buf[0] >= 0x40 && buf[0] <= 0x7F) {
		/* ChannelData (RFC 8656 section 12.4). */
		size_t n = (size_t)(buf[2] << 8 | buf[3]);

		if (n + 4 > len) {
			sh->bad++;
			return;
		}
		traffic_payload(sh, i, buf + 4, n, now);
		return;
	}
	if (len >= STUN_HEADER_SIZE && buf[0] == 0x00 && buf[1] == 0x17) {
		/* A Data indication (RFC 8656 section 11.4). */
		if (stun_parse(buf, len, &m) != STUN_PARSE_OK ||
		    (data = stun_find(&m, STUN_ATTR_DATA)) == NULL) {
			sh->bad++;
			return;
		}
		traffic_payload(sh, i, stun_attr_value(&m, data), data->len,
				now);
		return;
	}
	if (len >= STUN_HEADER_SIZE && buf[0] <= 0x01)
		sess_response(sh, i, buf, len, now);
}

/* Read what session i's socket holds, a few batches at most. */
static void
shard_read(struct shard *sh, unsigned int i)
{
	int fd = sh->sess[i].fd;

	for (int round = 0; round < 8 && fd != -1; round++) {
		uint64_t now;
		int got;

		for (int k = 0; k < BENCH_BATCH; k++) {
			sh->in_iov[k].iov_base = sh->rxbuf[k];
			sh->in_iov[k].iov_len = BENCH_RX_SLOT;
			memset(&sh->in[k].msg_hdr, 0,
			       sizeof(sh->in[k].msg_hdr));
			sh->in[k].msg_hdr.msg_iov = &sh->in_iov[k];
			sh->in[k].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(fd, sh->in, BENCH_BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0) {
			/* ECONNREFUSED: an ICMP error, the server is gone. */
			if (got == -1 && errno == ECONNREFUSED)
				sh->errors++;
			return;
		}
		now = now_ns();
		for (int k = 0; k < got && sh->sess[i].fd == fd; k++)
			shard_datagram(sh, i, sh->rxbuf[k], sh->in[k].msg_len,
				       now);
		if (got < BENCH_BATCH)
			return;
	}
}

/*
 * Wait for events up to until (ns; 0: do not wait, UINT64_MAX: until the
 * timer or a datagram) and handle them.  Returns true when the timer fired.
 */
static bool
shard_poll(struct shard *sh, uint64_t until)
{
	struct epoll_event ev[64];
	uint64_t now = now_ns();
	int timeout, n;
	bool timer = false;

	if (until == 0 || until <= now)
		timeout = 0;
	else if (until == UINT64_MAX)
		timeout = -1;
	else
		timeout = (int)((until - now + 999999) / 1000000);
	n = epoll_wait(sh->ep, ev, 64, timeout);
	for (int k = 0; k < n; k++) {
		if (ev[k].data.u64 == BENCH_TIMER) {
			uint64_t expirations;

			(void)read(sh->tfd, &expirations, sizeof(expirations));
			timer = true;
			continue;
		}
		shard_read(sh, (unsigned int)ev[k].data.u64);
	}
	return timer;
}

/* Run the shard's control loop until no request is outstanding and the
 * cursor has started every session (start() is called on each), or until
 * deadline. */
static void
shard_settle(struct shard *sh,
	     void (*start)(struct shard *, unsigned int, uint64_t),
	     uint64_t deadline)
{
	uint64_t next_scan = 0;

	for (;;) {
		uint64_t now = now_ns();

		while (start != NULL && sh->cursor < sh->nsess &&
		       sh->pending < sh->concurrency)
			start(sh, sh->cursor++, now);
		if (sh->pending == 0 &&
		    (start == NULL || sh->cursor >= sh->nsess))
			return;
		if (now >= deadline)
			return;
		if (now >= next_scan) {
			sess_scan(sh, now);
			next_scan = now + BENCH_SCAN_NS;
		}
		shard_poll(sh, next_scan < deadline ? next_scan : deadline);
	}
}

/*
 * A transaction id per Send indication: the sequence number in its last 8
 * bytes (the template's are zero).  An IPv6 XOR-PEER-ADDRESS is XORed
 * with the transaction id too (RFC 8489 section 14.2), so the same 8
 * bytes go into the address bytes they cover, at 36-43.
 */
static void
send_new_tid(uint8_t *b, const struct flow *f, uint64_t seq)
{
	put64(b + 12, seq);
	if (f->hdr_len == STUN_HEADER_SIZE + 24 + 4)
		for (int k = 0; k < 8; k++)
			b[36 + k] ^= b[12 + k];
}

/* The payload of one packet of flow f into p (size bytes). */
static void
traffic_fill(uint8_t *p, const struct flow *f, uint64_t seq, uint64_t ts)
{
	put32(p, BENCH_MAGIC);
	put32(p + 4, f->id);
	put64(p + 8, seq);
	put64(p + 16, ts);
}

/*
 * Send the n datagrams of len bytes in sh->out_iov as one UDP GSO message
 * (UDP_SEGMENT): the kernel cuts it into datagrams, and the sender pays
 * for one trip down the stack instead of n.  Returns n or -1.
 */
static int
traffic_send_gso(struct shard *sh, int fd, unsigned int n, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct msghdr h;
	struct cmsghdr *c;
	uint16_t size = (uint16_t)len;

	memset(&h, 0, sizeof(h));
	memset(&ctl, 0, sizeof(ctl));
	h.msg_iov = sh->out_iov;
	h.msg_iovlen = n;
	h.msg_control = ctl.buf;
	h.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&h);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(size));
	memcpy(CMSG_DATA(c), &size, sizeof(size));
	return sendmsg(fd, &h, MSG_DONTWAIT) == -1 ? -1 : (int)n;
}

/*
 * Send up to n datagrams of flow f in one sendmmsg.  Returns how many the
 * kernel took.
 */
static unsigned int
traffic_send_flow(struct shard *sh, struct flow *f, unsigned int n,
		  uint64_t now)
{
	size_t pad = (4 - (opt.size & 3)) & 3;
	size_t len = opt.mode == MODE_BINDING ? STUN_HEADER_SIZE
					      : f->hdr_len + opt.size;
	int sent;

	if (opt.mode == MODE_RELAY && opt.carrier == CARRY_SEND)
		len += pad;
	for (unsigned int k = 0; k < n; k++) {
		uint8_t *b = sh->txbuf[k];
		uint64_t seq = f->seq + k;

		if (opt.mode == MODE_BINDING) {
			/* RFC 8489 section 5: a Binding request without
			 * attributes; the transaction id is the send time and
			 * the sequence number. */
			put16(b, stun_type(STUN_METHOD_BINDING,
					   STUN_CLASS_REQUEST));
			put16(b + 2, 0);
			put32(b + 4, STUN_MAGIC_COOKIE);
			put64(b + 8, now);
			put32(b + 16, (uint32_t)seq);
		} else {
			memcpy(b, f->hdr, f->hdr_len);
			if (opt.carrier == CARRY_SEND)
				send_new_tid(b, f, seq);
			traffic_fill(b + f->hdr_len, f, seq, now);
		}
		sh->out_iov[k].iov_base = b;
		sh->out_iov[k].iov_len = len;
		memset(&sh->out[k].msg_hdr, 0, sizeof(sh->out[k].msg_hdr));
		sh->out[k].msg_hdr.msg_iov = &sh->out_iov[k];
		sh->out[k].msg_hdr.msg_iovlen = 1;
	}
	if (opt.gso && n > 1)
		sent = traffic_send_gso(sh, f->fd, n, len);
	else
		sent = sendmmsg(f->fd, sh->out, n, MSG_DONTWAIT);
	if (sent < 0)
		sent = 0;
	if ((unsigned int)sent < n)
		sh->sent_eagain += n - (unsigned int)sent;
	f->seq += (unsigned int)sent;
	sh->sent += (unsigned int)sent;
	if (now >= run.measure)
		sh->sent_measured += (unsigned int)sent;
	return (unsigned int)sent;
}

/* Send n datagrams spread over the flows, round robin, in batches. */
static void
traffic_send(struct shard *sh, uint64_t n, uint64_t now)
{
	unsigned int misses = 0;

	while (n > 0 && sh->nflows > 0 && misses < sh->nflows) {
		struct flow *f = &sh->flows[sh->rr];
		uint64_t k = n / sh->nflows;
		unsigned int sent;

		if (k < 1)
			k = 1;
		if (k > BENCH_BATCH)
			k = BENCH_BATCH;
		sh->rr = (sh->rr + 1) % sh->nflows;
		if (f->fd == -1) {
			misses++;
			continue;
		}
		sent = traffic_send_flow(sh, f, (unsigned int)k, now);
		misses = sent == 0 ? misses + 1 : 0;
		n -= sent;
	}
}

/* Packets believed in flight: sent, neither received nor seen lost. */
static uint64_t
traffic_inflight(const struct shard *sh)
{
	uint64_t done = sh->received + sh->gaps + sh->written_off;

	done = done > sh->late ? done - sh->late : 0;
	return sh->sent > done ? sh->sent - done : 0;
}

/*
 * The traffic phase of one shard: paced at sh->rate from run.t0, or flat
 * out with at most sh->window in flight, until run.stop; then a drain.
 */
static void
traffic_run(struct shard *sh)
{
	uint64_t now = now_ns();
	unsigned int active = 0;

	for (unsigned int i = 0; i < sh->nflows; i++)
		active += sh->flows[i].fd != -1;
	if (active == 0)
		return; /* a shard without pairs, or whose pairs all failed */
	if (now < run.t0) {
		shard_timer(sh, run.t0);
		while (now_ns() < run.t0)
			shard_poll(sh, run.t0);
	}
	sh->last_rx = now_ns();
	for (;;) {
		uint64_t next = 0, n;

		now = now_ns();
		if (now >= run.stop)
			break;
		if (sh->rate > 0) {
			double due = (double)(now - run.t0) * sh->rate / 1e9;

			n = (uint64_t)due + 1 > sh->sent
				    ? (uint64_t)due + 1 - sh->sent
				    : 0;
			if (n > 4096)
				n = 4096;
			traffic_send(sh, n, now);
			next = run.t0 +
			       (uint64_t)((double)sh->sent * 1e9 / sh->rate);
			if (next > run.stop)
				next = run.stop;
			shard_timer(sh, next > now ? next : now + 1);
			shard_poll(sh, UINT64_MAX);
			continue;
		}
		if (sh->window == 0) {
			traffic_send(sh, (uint64_t)sh->nflows * BENCH_BATCH,
				     now);
			shard_poll(sh, 0);
			continue;
		}
		n = traffic_inflight(sh);
		if (n < sh->window) {
			traffic_send(sh, sh->window - n, now);
			shard_poll(sh, 0);
			continue;
		}
		/* The window is full: wait for answers; when none come for
		 * a while, what is in flight is taken as lost. */
		if (now - sh->last_rx > BENCH_STALL_NS) {
			sh->written_off += n;
			sh->stalls++;
			sh->last_rx = now;
			continue;
		}
		next = sh->last_rx + BENCH_STALL_NS;
		shard_timer(sh, next < run.stop ? next : run.stop);
		shard_poll(sh, UINT64_MAX);
	}
	/* Drain: what is still on its way counts if it comes soon. */
	shard_timer(sh, 0);
	while ((now = now_ns()) < run.stop + BENCH_DRAIN_NS &&
	       sh->received < sh->sent)
		shard_poll(sh, run.stop + BENCH_DRAIN_NS);
}

/*
 * Relay.  Sessions 2p and 2p+1 of a shard are pair p: each gets a
 * permission (and a channel) to the other's relayed address, and the flow
 * of one is received on the other's socket.
 */

/* The header of the flow leaving session i for its partner. */
static void
relay_flow_init(struct shard *sh, unsigned int i)
{
	struct sess *s = &sh->sess[i], *to = &sh->sess[i ^ 1];
	struct flow *f = &sh->flows[i];

	f->fd = s->fd;
	f->id = i;
	switch (opt.carrier) {
	case CARRY_CHANNEL:
		/* RFC 8656 section 12.4: number and length. */
		put16(f->hdr, BENCH_CHANNEL);
		put16(f->hdr + 2, (uint16_t)opt.size);
		f->hdr_len = 4;
		break;
	case CARRY_RAW:
		/* bench/forwarder: the port to deliver to, and length. */
		put16(f->hdr,
		      (uint16_t)addr_port((struct sockaddr *)&to->local));
		put16(f->hdr + 2, (uint16_t)opt.size);
		f->hdr_len = 4;
		break;
	case CARRY_SEND: {
		/* RFC 8656 section 10.1: XOR-PEER-ADDRESS and DATA; the
		 * codec writes the header and the address, DATA's header is
		 * written by hand in front of the payload. */
		struct stun_builder b;
		uint8_t tid[STUN_TID_SIZE] = { 0 };
		size_t pad = (4 - (opt.size & 3)) & 3, body;

		stun_build_init(
			&b, f->hdr, sizeof(f->hdr) - 4,
			stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION),
			tid);
		stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS,
				  (struct sockaddr *)&to->relayed);
		f->hdr_len = (uint16_t)(b.len + 4);
		body = b.len - STUN_HEADER_SIZE + 4 + opt.size + pad;
		put16(f->hdr + 2, (uint16_t)body);
		put16(f->hdr + b.len, STUN_ATTR_DATA);
		put16(f->hdr + b.len + 2, (uint16_t)opt.size);
		break;
	}
	}
}

/* Session i has its allocation: once its partner has one too, both ask
 * for a permission to the other. */
static void
relay_allocated(struct shard *sh, unsigned int i, uint64_t now)
{
	struct sess *s = &sh->sess[i], *p = &sh->sess[i ^ 1];

	if (p->state != SS_ALLOCATED)
		return;
	s->peer = p->relayed;
	p->peer = s->relayed;
	sess_request(sh, s, SS_PERM, now);
	sess_request(sh, p, SS_PERM, now);
}

/* Start pair member i: a handshake, or for the forwarder a socket. */
static void
relay_start(struct shard *sh, unsigned int i, uint64_t now)
{
	struct sess *s = &sh->sess[i];

	if (opt.carrier != CARRY_RAW) {
		sess_start(sh, i, now);
		return;
	}
	s->fd = client_socket(sh, i, true, false, &s->local);
	s->state = s->fd == -1 ? SS_FAILED : SS_READY;
	if (s->fd == -1)
		fail_count(&sh->fails, FAIL_SOCKET);
}

/* Larger buffers for a socket that carries traffic. */
static void
socket_grow(int fd)
{
	int buf = 1 << 20;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
}

static void *
relay_thread(void *arg)
{
	struct shard *sh = arg;
	uint64_t setup_deadline = now_ns() + 60 * NS;

	shard_settle(sh, relay_start, setup_deadline);
	/* Pairs with a failed member carry nothing. */
	for (unsigned int i = 0; i < sh->nsess; i++) {
		struct sess *s = &sh->sess[i], *p = &sh->sess[i ^ 1];

		if (s->state == SS_READY && p->state == SS_READY) {
			socket_grow(s->fd);
			relay_flow_init(sh, i);
			sh->sess[i ^ 1].rx_flow = (uint16_t)i;
			sh->ready++;
		} else {
			sh->flows[i].fd = -1;
		}
	}
	pthread_barrier_wait(&run.barrier); /* setup done */
	pthread_barrier_wait(&run.barrier); /* run.t0 set */
	traffic_run(sh);
	if (opt.carrier != CARRY_RAW) {
		/* Leave the server as it was: delete every allocation. */
		for (unsigned int i = 0; i < sh->nsess; i++)
			if (sh->sess[i].state == SS_READY)
				sess_request(sh, &sh->sess[i], SS_DELETE,
					     now_ns());
		shard_settle(sh, NULL, now_ns() + 10 * NS);
	}
	return NULL;
}

static void *
binding_thread(void *arg)
{
	struct shard *sh = arg;

	traffic_run(sh);
	return NULL;
}

static void *
alloc_thread(void *arg)
{
	struct shard *sh = arg;

	sh->restart = true;
	shard_settle(sh, sess_start, run.stop);
	/* Let the handshakes under way finish, uncounted. */
	sh->restart = false;
	shard_settle(sh, NULL, run.stop + 10 * NS);
	return NULL;
}

static void
hold_start(struct shard *sh, unsigned int i, uint64_t now)
{
	sess_start(sh, i, now);
}

static void
hold_delete(struct shard *sh, unsigned int i, uint64_t now)
{
	struct sess *s = &sh->sess[i];

	if (s->state == SS_READY)
		sess_request(sh, s, SS_DELETE, now);
}

static void *
hold_thread(void *arg)
{
	struct shard *sh = arg;
	uint64_t next_scan = 0;

	shard_settle(sh, hold_start, now_ns() + 600 * NS);
	for (unsigned int i = 0; i < sh->nsess; i++)
		sh->ready += sh->sess[i].state == SS_READY;
	pthread_barrier_wait(&run.barrier); /* all ready */
	pthread_barrier_wait(&run.barrier); /* run.stop set */
	/* Hold: refresh at half the lifetime, answer nothing else. */
	for (uint64_t now; (now = now_ns()) < run.stop;) {
		if (now >= next_scan) {
			sess_scan(sh, now);
			next_scan = now + BENCH_SCAN_NS;
		}
		shard_poll(sh, next_scan < run.stop ? next_scan : run.stop);
	}
	shard_settle(sh, NULL, now_ns() + 10 * NS);
	sh->cursor = 0;
	shard_settle(sh, hold_delete, now_ns() + 60 * NS);
	return NULL;
}

/*
 * The command line: one table drives getopt_long() and --help.
 */
enum {
	OPT_SERVER = 256,
	OPT_USER,
	OPT_PASSWORD,
	OPT_SECRET,
	OPT_THREADS,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_RATE,
	OPT_WINDOW,
	OPT_SOCKETS,
	OPT_PAIRS,
	OPT_CHANNEL,
	OPT_SEND,
	OPT_RAW,
	OPT_SIZE,
	OPT_COUNT,
	OPT_CONCURRENCY,
	OPT_LIFETIME,
	OPT_TIMEOUT,
	OPT_GSO,
	OPT_SPREAD,
	OPT_NO_SPREAD,
	OPT_JSON,
	OPT_HELP,
};

static const struct bench_option bench_options[] = {
	{ .name = "server",
	  .key = OPT_SERVER,
	  .arg = "ADDR",
	  .help = "the server, ip:port or [ipv6]:port (127.0.0.1:3478)" },
	{ .name = "user",
	  .key = OPT_USER,
	  .arg = "NAME",
	  .help = "static user; with --secret, the REST username's suffix" },
	{ .name = "password",
	  .key = OPT_PASSWORD,
	  .arg = "PASS",
	  .help = "the static user's password" },
	{ .name = "secret",
	  .key = OPT_SECRET,
	  .arg = "SECRET",
	  .help = "TURN REST secret: a fresh username per allocation" },
	{ .name = "threads",
	  .key = OPT_THREADS,
	  .arg = "N",
	  .help = "threads, sockets sharded over them (1)",
	  .whole = &opt.threads,
	  .min = 1,
	  .max = 64 },
	{ .name = "duration",
	  .key = OPT_DURATION,
	  .arg = "SECONDS",
	  .help = "measured time; hold: time held (5)",
	  .number = &opt.duration,
	  .min = 0.1,
	  .max = BENCH_MAX_SECS },
	{ .name = "warmup",
	  .key = OPT_WARMUP,
	  .arg = "SECONDS",
	  .help = "binding, relay: traffic before counting starts (0.5)",
	  .number = &opt.warmup,
	  .min = 0,
	  .max = 60 },
	{ .name = "rate",
	  .key = OPT_RATE,
	  .arg = "N",
	  .help = "binding, relay: datagrams per second in total; 0 is flat "
		  "out (0)",
	  .number = &opt.rate,
	  .min = 0,
	  .max = 1e8 },
	{ .name = "window",
	  .key = OPT_WINDOW,
	  .arg = "N",
	  .help = "flat out: most datagrams in flight, 0 unbounded (1024)" },
	{ .name = "sockets",
	  .key = OPT_SOCKETS,
	  .arg = "N",
	  .help = "binding: client sockets (8)",
	  .whole = &opt.sockets,
	  .min = 1,
	  .max = 10000 },
	{ .name = "pairs",
	  .key = OPT_PAIRS,
	  .arg = "N",
	  .help = "relay: pairs of allocations (1)",
	  .whole = &opt.pairs,
	  .min = 1,
	  .max = 5000 },
	{ .name = "channel",
	  .key = OPT_CHANNEL,
	  .help = "relay: over ChannelData (default)" },
	{ .name = "send",
	  .key = OPT_SEND,
	  .help = "relay: over Send and Data indications" },
	{ .name = "raw",
	  .key = OPT_RAW,
	  .help = "relay: no TURN, through bench/forwarder (the ceiling)" },
	{ .name = "size",
	  .key = OPT_SIZE,
	  .arg = "BYTES",
	  .help = "relay: payload bytes, 24-1400 (100)",
	  .whole = &opt.size,
	  .min = BENCH_SIZE_MIN,
	  .max = BENCH_SIZE_MAX },
	{ .name = "count",
	  .key = OPT_COUNT,
	  .arg = "N",
	  .help = "hold: allocations to make and keep (1000)",
	  .whole = &opt.count,
	  .min = 0,
	  .max = 100000 },
	{ .name = "concurrency",
	  .key = OPT_CONCURRENCY,
	  .arg = "N",
	  .help = "handshakes under way at once (32)",
	  .whole = &opt.concurrency,
	  .min = 1,
	  .max = 10000 },
	{ .name = "lifetime",
	  .key = OPT_LIFETIME,
	  .arg = "SECONDS",
	  .help = "LIFETIME asked for; hold refreshes at half of it (600)",
	  .whole = &opt.lifetime,
	  .min = 60,
	  .max = 86400 },
	{ .name = "timeout",
	  .key = OPT_TIMEOUT,
	  .arg = "MS",
	  .help = "first retransmission of a request, doubling, 4 sends (500)",
	  .whole = &opt.timeout_ms,
	  .min = 10,
	  .max = 10000 },
	{ .name = "gso",
	  .key = OPT_GSO,
	  .help = "binding, relay: send each batch as one UDP GSO message" },
	{ .name = "spread",
	  .key = OPT_SPREAD,
	  .help = "TURN: each allocation from its own 127.x.y.z address "
		  "(default when the server is on 127.0.0.0/8)" },
	{ .name = "no-spread",
	  .key = OPT_NO_SPREAD,
	  .help = "TURN: every allocation from the kernel's choice of "
		  "address" },
	{ .name = "json",
	  .key = OPT_JSON,
	  .help = "JSON on standard output, one human line on standard error" },
	{ .name = "help", .key = OPT_HELP, .help = "this help" },
};

#define NOPTIONS (sizeof(bench_options) / sizeof(bench_options[0]))

static noreturn void
usage(FILE *fp, int status)
{
	options_usage(fp, status, "[options] binding|alloc|relay|hold",
		      bench_options, NOPTIONS);
}

static void
parse_args(int argc, char **argv)
{
	struct option lopts[NOPTIONS + 1];
	char err[128];
	const char *server = "127.0.0.1:3478";
	int ch;

	options_long(bench_options, NOPTIONS, lopts);
	while ((ch = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (ch) {
		case OPT_SERVER:
			server = optarg;
			break;
		case OPT_USER:
			opt.user = optarg;
			break;
		case OPT_PASSWORD:
			opt.password = optarg;
			break;
		case OPT_SECRET:
			opt.secret = optarg;
			break;
		case OPT_WINDOW:
			opt.window = parse_uint("window", optarg, 0, 1000000);
			opt.window_set = true;
			break;
		case OPT_CHANNEL:
			opt.carrier = CARRY_CHANNEL;
			break;
		case OPT_SEND:
			opt.carrier = CARRY_SEND;
			break;
		case OPT_RAW:
			opt.carrier = CARRY_RAW;
			break;
		case OPT_GSO:
			opt.gso = true;
			break;
		case OPT_SPREAD:
			opt.spread = 1;
			break;
		case OPT_NO_SPREAD:
			opt.spread = 0;
			break;
		case OPT_JSON:
			opt.json = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout, 0);
		default:
			if (!options_number(bench_options, NOPTIONS, ch,
					    optarg))
				usage(stderr, 2);
		}
	}
	if (optind != argc - 1)
		usage(stderr, 2);
	if (strcmp(argv[optind], "binding") == 0)
		opt.mode = MODE_BINDING;
	else if (strcmp(argv[optind], "alloc") == 0)
		opt.mode = MODE_ALLOC;
	else if (strcmp(argv[optind], "relay") == 0)
		opt.mode = MODE_RELAY;
	else if (strcmp(argv[optind], "hold") == 0)
		opt.mode = MODE_HOLD;
	else
		usage(stderr, 2);

	if (addr_parse(server, &opt.server, err, sizeof(err)) == -1) {
		fprintf(stderr, "turnpike-bench: --server: %s\n", err);
		exit(2);
	}
	addr_str((struct sockaddr *)&opt.server, opt.server_str,
		 sizeof(opt.server_str));
	if (opt.spread == -1)
		opt.spread = opt.server.ss_family == AF_INET &&
			     (ntohl(((struct sockaddr_in *)&opt.server)
					    ->sin_addr.s_addr) >>
			      24) == 127;
	if (opt.spread && opt.server.ss_family != AF_INET) {
		fprintf(stderr, "turnpike-bench: --spread needs an IPv4 "
				"loopback server\n");
		exit(2);
	}
	if (!opt.window_set)
		opt.window = 1024;
	if (opt.mode == MODE_BINDING ||
	    (opt.mode == MODE_RELAY && opt.carrier == CARRY_RAW))
		return;
	if (opt.secret == NULL && (opt.user == NULL || opt.password == NULL)) {
		fprintf(stderr, "turnpike-bench: TURN needs --secret, or "
				"--user and --password\n");
		exit(2);
	}
}

/* Enough descriptors for every socket, and a timer slack of 1 ns so that
 * pacing deadlines are kept. */
static void
setup_process(unsigned int sockets)
{
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	nofile_raise(sockets);
}

/* The shards, with sessions per_shard(i) each. */
static void
shards_new(unsigned int (*nsess)(unsigned int), bool flows)
{
	struct epoll_event ev;
	uint64_t seed;

	if ((shards = calloc(opt.threads, sizeof(*shards))) == NULL)
		die("out of memory");
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)now_ns();
	for (unsigned int t = 0; t < opt.threads; t++) {
		struct shard *sh = &shards[t];

		sh->id = t;
		sh->crypto = digest_ctx_new();
		sh->rng = (seed ^ (0x9E3779B97F4A7C15ull * (t + 1))) | 1;
		sh->nsess = nsess(t);
		sh->concurrency = opt.concurrency / opt.threads;
		if (sh->concurrency < 1)
			sh->concurrency = 1;
		if ((sh->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
		    (sh->tfd = timerfd_create(CLOCK_MONOTONIC,
					      TFD_NONBLOCK | TFD_CLOEXEC)) ==
			    -1)
			die("epoll/timerfd: %s", strerror(errno));
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = BENCH_TIMER;
		if (epoll_ctl(sh->ep, EPOLL_CTL_ADD, sh->tfd, &ev) == -1)
			die("epoll_ctl: %s", strerror(errno));
		sh->sess = calloc(sh->nsess ? sh->nsess : 1, sizeof(*sh->sess));
		sh->txbuf = calloc(BENCH_BATCH, sizeof(*sh->txbuf));
		sh->rxbuf = calloc(BENCH_BATCH, sizeof(*sh->rxbuf));
		if (sh->sess == NULL || sh->txbuf == NULL || sh->rxbuf == NULL)
			die("out of memory");
		for (unsigned int i = 0; i < sh->nsess; i++)
			sh->sess[i].fd = -1;
		if (flows) {
			sh->nflows = sh->nsess;
			sh->flows = calloc(sh->nflows ? sh->nflows : 1,
					   sizeof(*sh->flows));
			if (sh->flows == NULL)
				die("out of memory");
		}
		/* The filler after each payload's header. */
		for (unsigned int k = 0; k < BENCH_BATCH; k++)
			memset(sh->txbuf[k], 'x', BENCH_TX_SLOT);
	}
}

/* n split over the shards: shard t gets its share of n. */
static unsigned int
share(unsigned int n, unsigned int t)
{
	return n / opt.threads + (t < n % opt.threads ? 1 : 0);
}

static unsigned int
binding_nsess(unsigned int t)
{
	return share(opt.sockets, t);
}

static unsigned int
relay_nsess(unsigned int t)
{
	return 2 * share(opt.pairs, t);
}

static unsigned int
alloc_nsess(unsigned int t)
{
	return share(opt.concurrency, t);
}

static unsigned int
hold_nsess(unsigned int t)
{
	return share(opt.count, t);
}

static void
threads_run(void *(*fn)(void *))
{
	for (unsigned int t = 0; t < opt.threads; t++)
		if (pthread_create(&shards[t].thread, NULL, fn, &shards[t]) !=
		    0)
			die("pthread_create failed");
}

static void
threads_join(void)
{
	for (unsigned int t = 0; t < opt.threads; t++)
		pthread_join(shards[t].thread, NULL);
}

/* Every shard's counters in one. */
static struct shard *
shards_total(void)
{
	static struct shard total;

	for (unsigned int t = 0; t < opt.threads; t++) {
		struct shard *sh = &shards[t];

		total.sent += sh->sent;
		total.sent_measured += sh->sent_measured;
		total.sent_eagain += sh->sent_eagain;
		total.received += sh->received;
		total.received_measured += sh->received_measured;
		total.gaps += sh->gaps;
		total.late += sh->late;
		total.stalls += sh->stalls;
		total.bad += sh->bad;
		total.errors += sh->errors;
		total.completed += sh->completed;
		total.completed_measured += sh->completed_measured;
		total.refreshed += sh->refreshed;
		total.deleted += sh->deleted;
		total.ready += sh->ready;
		total.moved += sh->moved;
		hist_merge(&total.lat, &sh->lat);
		hist_merge(&total.handshake, &sh->handshake);
		fail_merge(&total.fails, &sh->fails);
	}
	return &total;
}

/*
 * Output: with --json, one JSON object on standard output and the human
 * line on standard error; without, the human line on standard output.
 */
static FILE *
human_out(void)
{
	return opt.json ? stderr : stdout;
}

static void
json_fails(const struct fail_counts *f)
{
	char name[16];
	bool first = true;

	printf("\"failures\":{");
	for (unsigned int i = 0; i < BENCH_MAX_CODES; i++) {
		if (f->n[i] == 0)
			continue;
		printf("%s\"%s\":%" PRIu64, first ? "" : ",",
		       fail_name(f->code[i], name, sizeof(name)), f->n[i]);
		first = false;
	}
	if (f->other)
		printf("%s\"other\":%" PRIu64, first ? "" : ",", f->other);
	printf("}");
}

static void
human_fails(FILE *fp, const struct fail_counts *f)
{
	char name[16];

	if (fail_total(f) == 0)
		return;
	fprintf(fp, " (");
	for (unsigned int i = 0; i < BENCH_MAX_CODES; i++)
		if (f->n[i] != 0)
			fprintf(fp, "%s%s %" PRIu64, i ? ", " : "",
				fail_name(f->code[i], name, sizeof(name)),
				f->n[i]);
	fprintf(fp, ")");
}

/* Report the traffic modes (binding, relay). */
static void
report_traffic(const struct shard *t, unsigned int ready)
{
	uint64_t lost = t->sent_measured > t->received_measured
				? t->sent_measured - t->received_measured
				: 0;
	double loss = t->sent_measured
			      ? 100.0 * (double)lost / (double)t->sent_measured
			      : 0;
	double sent_rate = (double)t->sent_measured / opt.duration;
	double rx_rate = (double)t->received_measured / opt.duration;
	const char *what = opt.mode == MODE_BINDING ? "rtt" : "one-way";
	static const char *const carriers[] = { "channel", "send", "raw" };

	if (opt.json) {
		printf("{\"mode\":\"%s\",\"server\":\"%s\",",
		       opt.mode == MODE_BINDING ? "binding" : "relay",
		       opt.server_str);
		if (opt.mode == MODE_RELAY)
			printf("\"carrier\":\"%s\",\"pairs\":%u,"
			       "\"pairs_ready\":%u,\"size\":%u,",
			       carriers[opt.carrier], opt.pairs, ready,
			       opt.size);
		else
			printf("\"sockets\":%u,", opt.sockets);
		printf("\"threads\":%u,\"rate_target\":%.0f,\"window\":%u,"
		       "\"duration_s\":%.3f,\"sent\":%" PRIu64
		       ",\"received\":%" PRIu64 ",\"lost\":%" PRIu64
		       ",\"loss_pct\":%.3f,\"sent_per_s\":%.1f,"
		       "\"received_per_s\":%.1f,\"sent_total\":%" PRIu64
		       ",\"received_total\":%" PRIu64 ",\"reordered\":%" PRIu64
		       ",\"send_refused\":%" PRIu64 ",\"stalls\":%" PRIu64
		       ",\"errors\":%" PRIu64 ",\"bad\":%" PRIu64 ",",
		       opt.threads, opt.rate, opt.window, opt.duration,
		       t->sent_measured, t->received_measured, lost, loss,
		       sent_rate, rx_rate, t->sent, t->received, t->late,
		       t->sent_eagain, t->stalls, t->errors, t->bad);
		printf("\"latency_us\":{\"kind\":\"%s\",\"p50\":%.1f,"
		       "\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},",
		       what, us(hist_quantile(&t->lat, 0.5)),
		       us(hist_quantile(&t->lat, 0.9)),
		       us(hist_quantile(&t->lat, 0.99)), us(t->lat.max));
		json_fails(&t->fails);
		printf("}\n");
	}
	if (opt.mode == MODE_BINDING)
		fprintf(human_out(), "binding %s: %u sockets", opt.server_str,
			opt.sockets);
	else
		fprintf(human_out(), "relay %s %s: %u/%u pairs, %u B",
			opt.server_str, carriers[opt.carrier], ready, opt.pairs,
			opt.size);
	fprintf(human_out(),
		", sent %" PRIu64 " (%.0f/s), received %" PRIu64
		" (%.0f/s), loss %.2f%%, %s p50 %.0f us p99 %.0f us max "
		"%.0f us",
		t->sent_measured, sent_rate, t->received_measured, rx_rate,
		loss, what, us(hist_quantile(&t->lat, 0.5)),
		us(hist_quantile(&t->lat, 0.99)), us(t->lat.max));
	if (fail_total(&t->fails) > 0) {
		fprintf(human_out(), ", %" PRIu64 " setup failures",
			fail_total(&t->fails));
		human_fails(human_out(), &t->fails);
	}
	fputc('\n', human_out());
}

static int
mode_binding(void)
{
	struct shard *t;

	setup_process(opt.sockets);
	shards_new(binding_nsess, true);
	for (unsigned int s = 0; s < opt.threads; s++) {
		struct shard *sh = &shards[s];

		sh->rate = opt.rate / opt.threads;
		sh->window = opt.window / opt.threads;
		if (opt.window != 0 && sh->window == 0)
			sh->window = 1;
		for (unsigned int i = 0; i < sh->nsess; i++) {
			struct sess *ss = &sh->sess[i];
			ss->fd = client_socket(sh, i, true, false, &ss->local);
			if (ss->fd == -1)
				die("socket: %s", strerror(errno));
			ss->state = SS_READY;
			ss->rx_flow = (uint16_t)i;
			sh->flows[i].fd = ss->fd;
			sh->flows[i].id = i;
		}
	}
	run.t0 = now_ns() + 10000000ull;
	run.measure = run.t0 + (uint64_t)(opt.warmup * 1e9);
	run.stop = run.measure + (uint64_t)(opt.duration * 1e9);
	threads_run(binding_thread);
	threads_join();
	t = shards_total();
	report_traffic(t, 0);
	return t->received_measured > 0 ? 0 : 1;
}

static int
mode_relay(void)
{
	struct shard *t;
	unsigned int ready;

	setup_process(2 * opt.pairs);
	shards_new(relay_nsess, true);
	for (unsigned int s = 0; s < opt.threads; s++) {
		shards[s].rate = opt.rate / opt.threads;
		shards[s].window = opt.window / opt.threads;
		if (opt.window != 0 && shards[s].window == 0)
			shards[s].window = 1;
	}
	if (pthread_barrier_init(&run.barrier, NULL, opt.threads + 1) != 0)
		die("pthread_barrier_init failed");
	run.t0 = run.measure = run.stop = UINT64_MAX;
	threads_run(relay_thread);
	pthread_barrier_wait(&run.barrier);
	ready = 0;
	for (unsigned int s = 0; s < opt.threads; s++)
		ready += (unsigned int)shards[s].ready / 2;
	run.t0 = now_ns() + 10000000ull;
	run.measure = run.t0 + (uint64_t)(opt.warmup * 1e9);
	run.stop = run.measure + (uint64_t)(opt.duration * 1e9);
	if (ready == 0) /* nothing to send: no traffic phase */
		run.t0 = run.measure = run.stop = 0;
	pthread_barrier_wait(&run.barrier);
	threads_join();
	t = shards_total();
	report_traffic(t, ready);
	return ready > 0 && t->received_measured > 0 ? 0 : 1;
}

static int
mode_alloc(void)
{
	struct shard *t;
	double rate;

	setup_process(opt.concurrency);
	shards_new(alloc_nsess, false);
	run.t0 = run.measure = now_ns();
	run.stop = run.t0 + (uint64_t)(opt.duration * 1e9);
	threads_run(alloc_thread);
	threads_join();
	t = shards_total();
	rate = (double)t->completed_measured / opt.duration;
	if (opt.json) {
		printf("{\"mode\":\"alloc\",\"server\":\"%s\",\"threads\":%u,"
		       "\"concurrency\":%u,\"duration_s\":%.3f,"
		       "\"completed\":%" PRIu64 ",\"failed\":%" PRIu64
		       ",\"moved_5tuple\":%" PRIu64
		       ",\"allocs_per_s\":%.1f,\"handshake_ms\":{\"p50\":%.3f,"
		       "\"p99\":%.3f,\"max\":%.3f},",
		       opt.server_str, opt.threads, opt.concurrency,
		       opt.duration, t->completed_measured,
		       fail_total(&t->fails), t->moved, rate,
		       us(hist_quantile(&t->handshake, 0.5)) / 1000,
		       us(hist_quantile(&t->handshake, 0.99)) / 1000,
		       us(t->handshake.max) / 1000);
		json_fails(&t->fails);
		printf("}\n");
	}
	fprintf(human_out(),
		"alloc %s: %" PRIu64 " handshakes in %.1f s (%.0f/s), %" PRIu64
		" failed",
		opt.server_str, t->completed_measured, opt.duration, rate,
		fail_total(&t->fails));
	human_fails(human_out(), &t->fails);
	if (t->moved > 0)
		fprintf(human_out(), ", %" PRIu64 " moved after 437", t->moved);
	fprintf(human_out(), ", handshake p50 %.2f ms p99 %.2f ms\n",
		us(hist_quantile(&t->handshake, 0.5)) / 1000,
		us(hist_quantile(&t->handshake, 0.99)) / 1000);
	return t->completed_measured > 0 ? 0 : 1;
}

static int
mode_hold(void)
{
	struct shard *t;
	uint64_t start, ready_at;
	unsigned int ready = 0;
	double setup;

	setup_process(opt.count);
	shards_new(hold_nsess, false);
	if (pthread_barrier_init(&run.barrier, NULL, opt.threads + 1) != 0)
		die("pthread_barrier_init failed");
	run.t0 = run.measure = start = now_ns();
	run.stop = UINT64_MAX;
	threads_run(hold_thread);
	pthread_barrier_wait(&run.barrier);
	ready_at = now_ns();
	for (unsigned int s = 0; s < opt.threads; s++)
		ready += (unsigned int)shards[s].ready;
	setup = (double)(ready_at - start) / 1e9;
	/* The line a script waits for before it reads the server. */
	fprintf(stderr, "turnpike-bench: holding %u allocations for %.1f s\n",
		ready, opt.duration);
	fflush(stderr);
	run.stop = ready_at + (uint64_t)(opt.duration * 1e9);
	pthread_barrier_wait(&run.barrier);
	threads_join();
	t = shards_total();
	if (opt.json) {
		printf("{\"mode\":\"hold\",\"server\":\"%s\",\"threads\":%u,"
		       "\"requested\":%u,\"held\":%u,\"setup_s\":%.3f,"
		       "\"setup_per_s\":%.1f,\"duration_s\":%.3f,"
		       "\"refreshed\":%" PRIu64 ",\"deleted\":%" PRIu64 ",",
		       opt.server_str, opt.threads, opt.count, ready, setup,
		       setup > 0 ? ready / setup : 0, opt.duration,
		       t->refreshed, t->deleted);
		json_fails(&t->fails);
		printf("}\n");
	}
	fprintf(human_out(),
		"hold %s: %u of %u allocations held for %.1f s (set up in "
		"%.2f s), %" PRIu64 " refreshes, %" PRIu64 " deleted, %" PRIu64
		" failures",
		opt.server_str, ready, opt.count, opt.duration, setup,
		t->refreshed, t->deleted, fail_total(&t->fails));
	human_fails(human_out(), &t->fails);
	fputc('\n', human_out());
	return ready == opt.count ? 0 : 1;
}

int
main(int argc, char **argv)
{
	bench_progname = "turnpike-bench";
	parse_args(argc, argv);
	switch (opt.mode) {
	case MODE_BINDING:
		return mode_binding();
	case MODE_ALLOC:
		return mode_alloc();
	case MODE_RELAY:
		return mode_relay();
	case MODE_HOLD:
		return mode_hold();
	default:
		usage(stderr, 2);
	}
}
