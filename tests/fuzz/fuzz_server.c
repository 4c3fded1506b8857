/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_server.c: libFuzzer target for the protocol core: server_handle()
 * (src/server.c) with TURN on, and through it the Binding and TURN
 * handlers, authentication, the allocation table, the answer cache, the
 * rate limiter and the peer policy.  The relay is a fake (no sockets) and
 * the clock is the input's.
 *
 * Input: one setup byte, then records, each sent in turn to one server
 * that lives for the whole input, so that Allocate, CreatePermission,
 * ChannelBind, Send and ChannelData can follow each other:
 *
 *   setup  bit 0: config B (tight limits, short lifetimes, old channels,
 *                 no RFC 3489) instead of A
 *          bit 1: the relay has no IPv6
 *          bit 2: the relay has room for two allocations only
 *   record [ctl] [clock] [length, 2 bytes big-endian] [message]
 *   ctl    bits 0-1: which client sends it (two IPv4 addresses, one of
 *                    them with two ports, and one IPv6)
 *          bits 2-3: UDP, TCP, TLS, UDP
 *          bit 4: replace a 32-byte NONCE with a valid one
 *          bit 5: recompute MESSAGE-INTEGRITY(-SHA256) with the key of
 *                 the USERNAME (static user, or TURN REST)
 *          bit 6: recompute FINGERPRINT
 *          bit 7: sign a REST user with the second secret
 *   clock  advance before the message: 0-127 is that many 50 ms steps,
 *          128-255 that many 30 s steps past 127 (up to 64 minutes);
 *          expired allocations are swept when the clock passes a whole
 *          second, as the daemon's one-second timer does.
 *
 * The fake relay fails to send a datagram that starts with 0xFF.
 *
 * The fixes are what let a mutated request get past authentication: the
 * fuzzer cannot compute an HMAC.  Invariants checked after each message:
 * only requests get an answer; an answer fits, parses, carries the
 * request's transaction id and, when the harness signed the request and
 * the answer is not a retransmission, verifies with the same key; every
 * allocation in the table has exactly one open relay (none leaks, none is
 * closed twice); the relay only sends to a peer of a family the
 * allocation has; the table stays within turn.max_allocations; the
 * counters of allocations, permissions and channels created grow by no
 * more than one message can create.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "auth.h"
#include "bytes.h"
#include "conf.h"
#include "fuzz.h"
#include "log.h"
#include "policy.h"
#include "ratelimit.h"
#include "server.h"
#include "stun.h"
#include "txcache.h"

#define NCLIENTS     4
#define MAX_RECORDS  64
#define RELAY_PORT   49152
#define START_MS     UINT64_C(1000000)
#define START_UNIX   INT64_C(1700000000)
#define MAX_RESERVED 4

#define CTL_CLIENT    0x03
#define CTL_TRANSPORT 0x0c
#define CTL_NONCE     0x10
#define CTL_INTEGRITY 0x20
#define CTL_FP        0x40
#define CTL_SECRET2   0x80

#define SETUP_CONF_B 0x01
#define SETUP_NO_V6  0x02
#define SETUP_TIGHT  0x04

/* Config A: roomy, RFC 3489 answered; B: every limit small. */
static const char conf_a[] =
	"listen = { udp = [ \"192.0.2.100:3478\",\n"
	"  \"[2001:db8::100]:3478\" ];\n"
	"  tcp = [ \"192.0.2.100:3478\" ]; tls = [ \"192.0.2.100:5349\" ]; };\n"
	"http = { listen = [ ]; };\n"
	"stun = { rfc3489 = true; };\n"
	"turn = { realm = \"turnpike\";\n"
	"  users = [ \"alice:wonderland\", \"carol:x\",\n"
	"    \"bob:0x00112233445566778899aabbccddeeff\" ];\n"
	"  secrets = [ \"rest-secret-one\", \"rest-secret-two\" ];\n"
	"  allowed_peers = [ \"127.0.0.1\", \"10.1.0.0/16\",\n"
	"    \"::ffff:10.2.0.0/112\" ];\n"
	"  denied_peers = [ \"203.0.113.128/25\", \"2001:db8:dead::/48\" ];\n"
	"  max_allocations = 16; max_allocations_per_user = 8;\n"
	"  max_permissions = 8; max_channels = 8; unauth_rate = 1000; };\n";
static const char conf_b[] =
	"listen = { udp = [ \"192.0.2.100:3478\",\n"
	"  \"[2001:db8::100]:3478\" ]; };\n"
	"http = { listen = [ ]; };\n"
	"turn = { realm = \"turnpike\";\n"
	"  users = [ \"alice:wonderland\", \"carol:x\" ];\n"
	"  secrets = [ \"rest-secret-one\" ]; rest_max_ttl = 60;\n"
	"  nonce_lifetime = 10; default_lifetime = 30; max_lifetime = 120;\n"
	"  max_allocations = 3; max_allocations_per_user = 2;\n"
	"  max_permissions = 2; max_channels = 2; max_bandwidth = 1000;\n"
	"  unauth_rate = 1; max_datagram = 576; old_channels = true; };\n";

/* One server per config, made once; the tables are made per input. */
struct fuzz_server {
	struct conf *conf;
	struct policy pol;
};

static struct fuzz_server servers[2];
static struct stats stats;
static struct sockaddr_storage clients[NCLIENTS], local4, local6;

/* The fake relay's state, reset per input. */
static struct {
	bool no_v6, tight;
	unsigned int opened, closed, serial;
	unsigned int nreserved;
	uint8_t tokens[MAX_RESERVED][8];
	uint16_t ports[MAX_RESERVED];
} relay;

/*
 * Logging: formatted into a buffer and dropped, so that every log line
 * with a remote value in it is built (AddressSanitizer sees a %s that is
 * not NUL-terminated) without flooding libFuzzer's output.
 */
static void log_format(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static void
log_format(const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
}

#define LOG_STUB(name)                                                         \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_format(fmt, ap);                                           \
		va_end(ap);                                                    \
	}
LOG_STUB(log_error)
LOG_STUB(log_warn)
LOG_STUB(log_warnx)
LOG_STUB(log_info)
LOG_STUB(log_debug)

bool
log_enabled(enum log_level level)
{
	return true;
}

/* Nothing a peer sends may end the process. */
void
fatal(const char *fmt, ...)
{
	abort();
}

void
fatalx(const char *fmt, ...)
{
	abort();
}

static void
set_relay(struct alloc *a, int index, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (index == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, "192.0.2.100", &sin->sin_addr);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, "2001:db8::100", &sin6->sin6_addr);
	}
	addr_key_from(&a->relay[index], (struct sockaddr *)&ss);
}

/* As relay.c does, within the limits the setup byte chose. */
static int
fake_open(void *ctx, struct alloc *a, struct server_relay_request *rq)
{
	uint16_t port = (uint16_t)(RELAY_PORT + 2 * (relay.serial % 4000));

	FUZZ_ASSERT(a->io == NULL && a->relay[0].family == 0 &&
		    a->relay[1].family == 0);
	FUZZ_ASSERT(rq->family[0] || rq->family[1] || rq->use_token);
	if (relay.tight && relay.opened - relay.closed >= 2)
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	if (rq->use_token) {
		unsigned int i;

		for (i = 0; i < relay.nreserved; i++)
			if (memcmp(relay.tokens[i], rq->token, 8) == 0)
				break;
		if (i == relay.nreserved)
			return STUN_ERR_INSUFFICIENT_CAPACITY;
		port = relay.ports[i];
		relay.nreserved--;
		memmove(&relay.tokens[i], &relay.tokens[i + 1],
			(relay.nreserved - i) * sizeof(relay.tokens[0]));
		memmove(&relay.ports[i], &relay.ports[i + 1],
			(relay.nreserved - i) * sizeof(relay.ports[0]));
		set_relay(a, 0, port);
	} else {
		if (rq->family[1] && relay.no_v6) {
			if (!rq->family[0])
				return STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
			rq->family_error[1] =
				STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
		}
		if (rq->family[0])
			set_relay(a, 0, port);
		if (rq->family[1] && !relay.no_v6)
			set_relay(a, 1, port);
		if (rq->reserve_next && relay.nreserved < MAX_RESERVED) {
			rq->made_token = true;
			memset(rq->new_token, 0, sizeof(rq->new_token));
			memcpy(rq->new_token, &relay.serial,
			       sizeof(relay.serial));
			memcpy(relay.tokens[relay.nreserved], rq->new_token, 8);
			relay.ports[relay.nreserved++] = (uint16_t)(port + 1);
		}
	}
	relay.serial++;
	relay.opened++;
	a->io = &relay; /* marks it open */
	return 0;
}

static void
fake_close(void *ctx, struct alloc *a)
{
	FUZZ_ASSERT(a->io == &relay); /* opened, and not closed before */
	a->io = NULL;
	relay.closed++;
}

static int
fake_send(void *ctx, struct alloc *a, const struct sockaddr *peer,
	  const uint8_t *data, size_t len, bool dont_fragment)
{
	volatile uint8_t sum = 0;

	FUZZ_ASSERT(a->io == &relay);
	FUZZ_ASSERT(peer->sa_family == AF_INET || peer->sa_family == AF_INET6);
	FUZZ_ASSERT(a->relay[alloc_family_index(peer->sa_family)].family ==
		    peer->sa_family);
	for (size_t i = 0; i < len; i++) /* every byte must be readable */
		sum ^= data[i];
	(void)sum;
	/* A datagram that starts with 0xFF is dropped, as when sendto()
	 * fails. */
	return len > 0 && data[0] == 0xFF ? -1 : 0;
}

static const struct server_relay_ops fake_ops = { fake_open, fake_close,
						  fake_send };

/* The sweep of the daemon's timer: what alloc_expire() calls back. */
struct sweep {
	struct server *srv;
	uint64_t now_ms;
};

static void
gone_cb(struct alloc *a, void *arg)
{
	struct sweep *sw = arg;

	server_alloc_gone(sw->srv, a, "expired", sw->now_ms);
}

static void
stopped_cb(struct alloc *a, void *arg)
{
	server_alloc_gone(arg, a, "stopped", START_MS);
}

/* The long-term key the server would find for the USERNAME of msg, the
 * second REST secret's with second.  Returns false when there is none. */
static bool
key_for(const struct server *srv, const struct stun_msg *msg, int64_t now,
	bool second, uint8_t key[AUTH_KEY_SIZE])
{
	const struct stun_attr *u = stun_find(msg, STUN_ATTR_USERNAME);
	uint8_t keys[AUTH_MAX_SECRETS][AUTH_KEY_SIZE];
	const uint8_t *k;
	size_t n = 0;
	int64_t expiry;

	if (u == NULL)
		return false;
	k = auth_find_user(srv->auth, stun_attr_value(msg, u), u->len);
	if (k != NULL && !second) {
		memcpy(key, k, AUTH_KEY_SIZE);
		return true;
	}
	if (auth_rest_keys(srv->auth, stun_attr_value(msg, u), u->len, now,
			   keys, &n, &expiry) != AUTH_REASON_NONE ||
	    n == 0)
		return false;
	memcpy(key, keys[second && n > 1 ? 1 : 0], AUTH_KEY_SIZE);
	return true;
}

/* Recompute the integrity attribute at index of msg (in buf) with md. */
static void
fix_integrity(uint8_t *buf, const struct stun_msg *msg, int index,
	      const EVP_MD *md, const uint8_t key[AUTH_KEY_SIZE])
{
	static uint8_t tmp[SERVER_MAX_MESSAGE];
	const struct stun_attr *a = &msg->attrs[index];
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t start = a->offset - 4, end = a->offset + a->len;

	if (a->len > (size_t)EVP_MD_get_size(md))
		return;
	memcpy(tmp, buf, start);
	tmp[2] = (uint8_t)((end - STUN_HEADER_SIZE) >> 8);
	tmp[3] = (uint8_t)(end - STUN_HEADER_SIZE);
	if (HMAC(md, key, AUTH_KEY_SIZE, tmp, start, mac, &maclen) == NULL)
		abort();
	memcpy(buf + a->offset, mac, a->len);
}

/*
 * Apply the fixes ctl asks for to the message in buf.  Sets *signed_with
 * and fills key when an integrity attribute was recomputed.
 */
static void
fix_message(const struct server *srv, uint8_t *buf, size_t len, uint8_t ctl,
	    const struct sockaddr *client, int64_t now, bool *signed_with,
	    uint8_t key[AUTH_KEY_SIZE])
{
	struct stun_msg msg;
	const struct stun_attr *a;

	*signed_with = false;
	if (stun_parse(buf, len, &msg) != STUN_PARSE_OK)
		return;
	if ((ctl & CTL_NONCE) &&
	    (a = stun_find(&msg, STUN_ATTR_NONCE)) != NULL &&
	    a->len == AUTH_NONCE_LEN) {
		char nonce[AUTH_NONCE_LEN + 1];

		if (auth_nonce_make(srv->nonce_key, client, now,
				    (uint32_t)srv->conf->turn_nonce_lifetime,
				    nonce, sizeof(nonce)) == 0)
			memcpy(buf + a->offset, nonce, AUTH_NONCE_LEN);
	}
	if ((ctl & CTL_INTEGRITY) &&
	    (msg.integrity >= 0 || msg.integrity_sha256 >= 0) &&
	    key_for(srv, &msg, now, (ctl & CTL_SECRET2) != 0, key)) {
		if (msg.integrity >= 0)
			fix_integrity(buf, &msg, msg.integrity, EVP_sha1(),
				      key);
		if (msg.integrity_sha256 >= 0)
			fix_integrity(buf, &msg, msg.integrity_sha256,
				      EVP_sha256(), key);
		*signed_with = true;
	}
	if ((ctl & CTL_FP) && msg.fingerprint >= 0) {
		a = &msg.attrs[msg.fingerprint];
		if (a->len == 4)
			put32(buf + a->offset,
			      stun_fingerprint(buf, a->offset - 4));
	}
}

/* What an answer to the message in req[0..len) must look like. */
static void
check_answer(const uint8_t *req, size_t len, const uint8_t *out, size_t n,
	     bool signed_with, const uint8_t key[AUTH_KEY_SIZE], bool cached)
{
	struct stun_msg ans;
	const struct stun_attr *e;
	int code;

	FUZZ_ASSERT(n <= SERVER_MAX_MESSAGE);
	/* Only requests are answered: STUN (first byte 0-3) of the request
	 * class, or a classic RFC 3489 Binding. */
	FUZZ_ASSERT(len >= STUN_HEADER_SIZE && req[0] <= 3);
	FUZZ_ASSERT((req[0] & 0x01) == 0 && (req[1] & 0x10) == 0);
	if (req[4] != 0x21 || req[5] != 0x12 || req[6] != 0xA4 ||
	    req[7] != 0x42) {
		/* RFC 3489: the whole 16-byte transaction id comes back. */
		FUZZ_ASSERT(stun_parse(out, n, &ans) == STUN_PARSE_BAD_COOKIE);
		FUZZ_ASSERT(memcmp(out + 4, req + 4, 16) == 0);
		FUZZ_ASSERT(ans.type == 0x0101);
		return;
	}
	FUZZ_ASSERT(stun_parse(out, n, &ans) == STUN_PARSE_OK);
	FUZZ_ASSERT(memcmp(ans.tid, req + 8, STUN_TID_SIZE) == 0);
	FUZZ_ASSERT(stun_class(ans.type) == STUN_CLASS_SUCCESS ||
		    stun_class(ans.type) == STUN_CLASS_ERROR);
	if (stun_class(ans.type) == STUN_CLASS_ERROR) {
		e = stun_find(&ans, STUN_ATTR_ERROR_CODE);
		FUZZ_ASSERT(e != NULL &&
			    stun_get_error_code(&ans, e, &code) == 0);
	}
	if (ans.fingerprint >= 0)
		FUZZ_ASSERT(stun_check_fingerprint(&ans));
	if (signed_with && !cached) {
		if (ans.integrity >= 0)
			FUZZ_ASSERT(
				stun_check_integrity(&ans, key, AUTH_KEY_SIZE));
		if (ans.integrity_sha256 >= 0)
			FUZZ_ASSERT(stun_check_integrity_sha256(&ans, key,
								AUTH_KEY_SIZE));
	}
}

/* FUZZ_TRACE=1 in the environment: one line per record on stderr, to see
 * what a seed does (which requests succeed, which get which error). */
static bool trace;

static void
trace_record(unsigned int i, uint8_t ctl, const uint8_t *req, size_t len,
	     const uint8_t *out, size_t n)
{
	struct stun_msg ans;
	const struct stun_attr *e;
	int code = 0;

	fprintf(stderr, "record %u: client %d, %zu bytes, type 0x%02x%02x", i,
		ctl & CTL_CLIENT, len, len > 0 ? req[0] : 0,
		len > 1 ? req[1] : 0);
	if (n == 0) {
		fprintf(stderr, ": no answer\n");
		return;
	}
	stun_parse(out, n, &ans);
	if ((e = stun_find(&ans, STUN_ATTR_ERROR_CODE)) != NULL)
		stun_get_error_code(&ans, e, &code);
	fprintf(stderr, ": answer 0x%04x, error %d\n", ans.type, code);
}

static struct sockaddr_storage
sockaddr_of(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, ip, &sin->sin_addr);
	}
	return ss;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_storage local[2];
	char err[CONF_ERRLEN];

	trace = getenv("FUZZ_TRACE") != NULL;
	clients[0] = sockaddr_of("198.51.100.5", 40000);
	clients[1] = sockaddr_of("198.51.100.5", 40001);
	clients[2] = sockaddr_of("2001:db8:1::5", 40000);
	clients[3] = sockaddr_of("203.0.113.7", 5000);
	local4 = local[0] = sockaddr_of("192.0.2.100", 3478);
	local6 = local[1] = sockaddr_of("2001:db8::100", 3478);
	servers[0].conf = fuzz_conf_text(conf_a);
	servers[1].conf = fuzz_conf_text(conf_b);
	for (int i = 0; i < 2; i++)
		if (policy_build(servers[i].conf, local, 2, &servers[i].pol,
				 err, sizeof(err)) == -1) {
			fprintf(stderr, "fuzz_server: %s\n", err);
			abort();
		}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[SERVER_MAX_MESSAGE + 64], out[SERVER_MAX_MESSAGE];
	static const uint8_t hkey[HTAB_KEY_SIZE] = { 7 };
	const uint8_t *p = data, *end = data + size;
	struct fuzz_server *fs;
	struct server srv;
	struct server_msg m;
	struct alloc_limits lim;
	uint64_t now_ms = START_MS;
	unsigned int nrecords = 0;

	if (size < 1)
		return 0;
	fs = &servers[*p & SETUP_CONF_B ? 1 : 0];
	memset(&relay, 0, sizeof(relay));
	relay.no_v6 = (*p & SETUP_NO_V6) != 0;
	relay.tight = (*p & SETUP_TIGHT) != 0;
	p++;

	memset(&stats, 0, sizeof(stats));
	memset(&srv, 0, sizeof(srv));
	srv.conf = fs->conf;
	srv.stats = &stats;
	srv.auth = fs->pol.auth;
	srv.peers = fs->pol.peers;
	memset(srv.nonce_key, 0x4e, sizeof(srv.nonce_key));
	srv.relay = &fake_ops;
	srv.allocs = alloc_table_new(hkey);
	srv.unauth = ratelimit_new(4, hkey);
	srv.answers = txcache_new(4, hkey);
	if (srv.allocs == NULL || srv.unauth == NULL || srv.answers == NULL)
		abort();
	lim.max_total = (unsigned int)fs->conf->turn_max_allocations;
	lim.max_per_user =
		(unsigned int)fs->conf->turn_max_allocations_per_user;
	lim.max_permissions = (unsigned int)fs->conf->turn_max_permissions;
	lim.max_channels = (unsigned int)fs->conf->turn_max_channels;
	alloc_set_limits(srv.allocs, &lim);

	while (end - p >= 4 && nrecords++ < MAX_RECORDS) {
		uint8_t ctl = p[0], adv = p[1];
		size_t len = (size_t)(p[2] << 8 | p[3]), n;
		const struct sockaddr *client;
		struct stats before = stats;
		uint8_t key[AUTH_KEY_SIZE];
		bool signed_with;

		p += 4;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, p, len);
		p += len;

		if (adv > 0) {
			struct sweep sw = { &srv, 0 };
			uint64_t then_ms = now_ms;

			now_ms += adv < 128 ? adv * UINT64_C(50)
					    : (adv - 127) * UINT64_C(30000);
			sw.now_ms = now_ms;
			/* The daemon sweeps once a second: in between, a
			 * request may find an allocation expired. */
			if (now_ms / 1000 != then_ms / 1000)
				alloc_expire(srv.allocs, now_ms, gone_cb, &sw);
		}
		client = (struct sockaddr *)&clients[ctl & CTL_CLIENT];
		memset(&m, 0, sizeof(m));
		m.data = buf;
		m.len = len;
		m.peer = client;
		m.local = (struct sockaddr *)(client->sa_family == AF_INET6
						      ? &local6
						      : &local4);
		m.transport = (enum server_transport)(
			((ctl & CTL_TRANSPORT) >> 2) % 3);
		m.conn = &clients[ctl & CTL_CLIENT];
		m.now_ms = now_ms;
		m.now_unix = START_UNIX + (int64_t)((now_ms - START_MS) / 1000);
		fix_message(&srv, buf, len, ctl, client, m.now_unix,
			    &signed_with, key);

		n = server_handle(&srv, &m, out, sizeof(out));
		if (trace)
			trace_record(nrecords, ctl, buf, len, out, n);
		if (n > 0)
			check_answer(buf, len, out, n, signed_with, key,
				     stats.retransmits_answered !=
					     before.retransmits_answered);
		FUZZ_ASSERT(alloc_count(srv.allocs) ==
			    relay.opened - relay.closed);
		FUZZ_ASSERT(alloc_count(srv.allocs) <= lim.max_total);
		/* One message creates at most one allocation and one
		 * channel, and a permission per XOR-PEER-ADDRESS. */
		FUZZ_ASSERT(stats.allocations_created -
				    before.allocations_created <=
			    1);
		FUZZ_ASSERT(stats.channels_created - before.channels_created <=
			    1);
		FUZZ_ASSERT(stats.permissions_created -
				    before.permissions_created <=
			    STUN_MAX_ATTRS);
	}

	alloc_table_free(srv.allocs, stopped_cb, &srv);
	FUZZ_ASSERT(relay.opened == relay.closed);
	ratelimit_free(srv.unauth);
	txcache_free(srv.answers);
	return 0;
}
