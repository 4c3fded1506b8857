/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_turn.c: the TURN request path of the protocol core, without
 * sockets: requests built as bytes go through server_handle() with a fake
 * relay (struct server_relay_ops) that records what it is asked, and the
 * clock is passed in.  Also the answer cache and the rate limiter.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc.h"
#include "auth.h"
#include "conf.h"
#include "policy.h"
#include "ratelimit.h"
#include "server.h"
#include "stun.h"
#include "txcache.h"
#include "unit.h"

/* The fake relay: every allocation gets 192.0.2.100:50000 + n. */
static int opens, closes, sends;
static uint8_t sent[SERVER_MAX_MESSAGE];
static size_t sent_len;
static struct sockaddr_storage sent_to;

static int
fake_open(void *ctx, struct alloc *a, struct server_relay_request *rq)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (rq->family[1])
		return STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
	sin.sin_port = htons((uint16_t)(50000 + opens));
	inet_pton(AF_INET, "192.0.2.100", &sin.sin_addr);
	addr_key_from(&a->relay[0], (struct sockaddr *)&sin);
	opens++;
	return 0;
}

static void
fake_close(void *ctx, struct alloc *a)
{
	closes++;
}

static int
fake_send(void *ctx, struct alloc *a, const struct sockaddr *peer,
	  const uint8_t *data, size_t len, bool df)
{
	sends++;
	memcpy(sent, data, len);
	sent_len = len;
	memcpy(&sent_to, peer, addr_len(peer));
	return 0;
}

static const struct server_relay_ops fake_ops = { fake_open, fake_close,
						  fake_send };

static struct stats stats;
static struct conf *conf;
static struct server srv;
static struct policy pol;
static struct sockaddr_in client, local, peer;
static uint64_t now_ms = 1000000;
static const int64_t now_unix = 1800000000;
static char nonce[64];

static size_t
handle_from(const uint8_t *req, size_t len, const struct sockaddr_in *from,
	    uint8_t *out)
{
	struct server_msg m = {
		.data = req,
		.len = len,
		.peer = (const struct sockaddr *)from,
		.local = (struct sockaddr *)&local,
		.transport = SERVER_UDP,
		.now_ms = now_ms,
		.now_unix = now_unix,
	};

	return server_handle(&srv, &m, out, SERVER_MAX_MESSAGE);
}

static size_t
handle(const uint8_t *req, size_t len, uint8_t *out)
{
	return handle_from(req, len, &client, out);
}

static void
key_of(const char *user, const char *pass, uint8_t key[16])
{
	char text[256];
	unsigned int n = 16;

	snprintf(text, sizeof(text), "%s:turnpike:%s", user, pass);
	EVP_Digest(text, strlen(text), key, &n, EVP_md5(), NULL);
}

static uint8_t tid_counter;

/* Start a request with a fresh transaction id. */
static void
start(struct stun_builder *b, uint8_t *buf, uint16_t method)
{
	uint8_t tid[STUN_TID_SIZE] = { 0xAB, ++tid_counter };

	stun_build_init(b, buf, SERVER_MAX_MESSAGE,
			stun_type(method, STUN_CLASS_REQUEST), tid);
}

/* Sign a request as user/pass with the current nonce. */
static size_t
sign(struct stun_builder *b, const char *user, const char *pass)
{
	uint8_t key[16];

	key_of(user, pass, key);
	stun_add_attr(b, STUN_ATTR_USERNAME, user, (uint16_t)strlen(user));
	stun_add_attr(b, STUN_ATTR_REALM, "turnpike", 8);
	stun_add_attr(b, STUN_ATTR_NONCE, nonce, (uint16_t)strlen(nonce));
	stun_add_integrity(b, key, sizeof(key));
	return stun_build_finish(b);
}

static int
answer(const uint8_t *out, size_t n, struct stun_msg *msg)
{
	int code = 0;
	const struct stun_attr *e;

	if (n == 0 || stun_parse(out, n, msg) != STUN_PARSE_OK)
		return -1;
	if ((e = stun_find(msg, STUN_ATTR_ERROR_CODE)) == NULL)
		return 0;
	stun_get_error_code(msg, e, &code);
	return code;
}

static void
add_transport(struct stun_builder *b, uint8_t proto)
{
	uint8_t v[4] = { proto, 0, 0, 0 };

	stun_add_attr(b, STUN_ATTR_REQUESTED_TRANSPORT, v, 4);
}

static void
test_allocate(void)
{
	uint8_t req[SERVER_MAX_MESSAGE], out[SERVER_MAX_MESSAGE];
	uint8_t again[SERVER_MAX_MESSAGE], key[16];
	struct sockaddr_storage relayed;
	struct stun_builder b;
	struct stun_msg msg;
	const struct stun_attr *a;
	uint32_t lifetime;
	size_t n, len;

	/* No credentials: 401 with REALM and NONCE. */
	start(&b, req, STUN_METHOD_ALLOCATE);
	add_transport(&b, 17);
	n = handle(req, stun_build_finish(&b), out);
	CHECK_INT(answer(out, n, &msg), 401);
	CHECK_INT(msg.type, 0x0113);
	a = stun_find(&msg, STUN_ATTR_NONCE);
	CHECK(a != NULL && stun_find(&msg, STUN_ATTR_REALM) != NULL);
	if (a == NULL)
		return;
	memcpy(nonce, stun_attr_value(&msg, a), a->len);
	nonce[a->len] = '\0';
	CHECK(stun_find(&msg, STUN_ATTR_MESSAGE_INTEGRITY) == NULL);

	/* A wrong password: 401, nothing allocated. */
	start(&b, req, STUN_METHOD_ALLOCATE);
	add_transport(&b, 17);
	n = handle(req, sign(&b, "alice", "nope"), out);
	CHECK_INT(answer(out, n, &msg), 401);
	CHECK_INT(opens, 0);

	/* REQUESTED-TRANSPORT TCP: 442, signed. */
	start(&b, req, STUN_METHOD_ALLOCATE);
	add_transport(&b, 6);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 442);
	key_of("alice", "wonderland", key);
	CHECK(stun_check_integrity(&msg, key, sizeof(key)));

	/* No REQUESTED-TRANSPORT: 400. */
	start(&b, req, STUN_METHOD_ALLOCATE);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 400);

	/* The real thing, asking for more than turn.max_lifetime. */
	start(&b, req, STUN_METHOD_ALLOCATE);
	add_transport(&b, 17);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 999999);
	len = sign(&b, "alice", "wonderland");
	n = handle(req, len, out);
	CHECK_INT(answer(out, n, &msg), 0);
	CHECK_INT(msg.type, 0x0103);
	CHECK(stun_check_integrity(&msg, key, sizeof(key)));
	CHECK_INT(stun_get_xor_addr(
			  &msg, stun_find(&msg, STUN_ATTR_XOR_RELAYED_ADDRESS),
			  &relayed),
		  0);
	CHECK_INT(ntohs(((struct sockaddr_in *)&relayed)->sin_port), 50000);
	CHECK_INT(stun_get_u32(&msg, stun_find(&msg, STUN_ATTR_LIFETIME),
			       &lifetime),
		  0);
	CHECK_INT(lifetime, 3600);
	CHECK(stun_find(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS) != NULL);
	CHECK_INT(opens, 1);
	CHECK_INT(stats.allocations_created, 1);

	/* The same request again: the same bytes, no second allocation. */
	CHECK_INT(handle(req, len, again), n);
	CHECK_MEM(again, out, n);
	CHECK_INT(opens, 1);
	CHECK_INT(stats.retransmits_answered, 1);

	/* A new Allocate on the taken 5-tuple: 437. */
	start(&b, req, STUN_METHOD_ALLOCATE);
	add_transport(&b, 17);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 437);

	/* Another user on this 5-tuple: 441. */
	start(&b, req, STUN_METHOD_REFRESH);
	n = handle(req, sign(&b, "bob", "builder"), out);
	CHECK_INT(answer(out, n, &msg), 441);
}

static void
add_peer(struct stun_builder *b, const char *ip, unsigned int port)
{
	struct sockaddr_storage ss = { 0 };

	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
	stun_add_xor_addr(b, STUN_ATTR_XOR_PEER_ADDRESS,
			  (struct sockaddr *)&ss);
}

static void
send_indication(const char *ip, const char *payload)
{
	uint8_t req[SERVER_MAX_MESSAGE], out[SERVER_MAX_MESSAGE];
	uint8_t tid[STUN_TID_SIZE] = { 0x55 };
	struct stun_builder b;

	stun_build_init(&b, req, sizeof(req),
			stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION),
			tid);
	add_peer(&b, ip, 7000);
	stun_add_attr(&b, STUN_ATTR_DATA, payload, (uint16_t)strlen(payload));
	CHECK_INT(handle(req, stun_build_finish(&b), out), 0);
}

static void
test_permissions_and_send(void)
{
	uint8_t req[SERVER_MAX_MESSAGE], out[SERVER_MAX_MESSAGE];
	struct stun_builder b;
	struct stun_msg msg;
	size_t n;

	/* No permission yet: a Send is dropped. */
	send_indication("203.0.113.9", "early");
	CHECK_INT(sends, 0);
	CHECK_INT(stats.relay_drop_no_permission, 1);

	/* The default policy refuses loopback, also spelled as IPv6. */
	start(&b, req, STUN_METHOD_CREATE_PERMISSION);
	add_peer(&b, "127.0.0.1", 7000);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 403);
	start(&b, req, STUN_METHOD_CREATE_PERMISSION);
	add_peer(&b, "203.0.113.9", 7000);
	add_peer(&b, "::ffff:10.0.0.1", 7000);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	/* An IPv6 peer on an IPv4 allocation: 443, and nothing installed. */
	CHECK_INT(answer(out, n, &msg), 443);
	send_indication("203.0.113.9", "still-no");
	CHECK_INT(sends, 0);

	/* No XOR-PEER-ADDRESS at all: 400. */
	start(&b, req, STUN_METHOD_CREATE_PERMISSION);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 400);

	start(&b, req, STUN_METHOD_CREATE_PERMISSION);
	add_peer(&b, "203.0.113.9", 1);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 0);
	CHECK_INT(msg.type, 0x0108);
	CHECK_INT(stats.permissions_created, 1);

	/* Now the data goes out, to the peer's port of the indication. */
	send_indication("203.0.113.9", "hello");
	CHECK_INT(sends, 1);
	CHECK_INT(sent_len, 5);
	CHECK_MEM(sent, "hello", 5);
	CHECK_INT(ntohs(((struct sockaddr_in *)&sent_to)->sin_port), 7000);
	/* Another IP has no permission. */
	send_indication("203.0.113.10", "nope");
	CHECK_INT(sends, 1);
}

static void
channel_data(uint16_t number, const char *payload, size_t claimed)
{
	uint8_t buf[64], out[SERVER_MAX_MESSAGE];
	size_t len = strlen(payload);

	buf[0] = (uint8_t)(number >> 8);
	buf[1] = (uint8_t)number;
	buf[2] = (uint8_t)(claimed >> 8);
	buf[3] = (uint8_t)claimed;
	memcpy(buf + 4, payload, len);
	CHECK_INT(handle(buf, 4 + len, out), 0);
}

static void
test_channels(void)
{
	uint8_t req[SERVER_MAX_MESSAGE], out[SERVER_MAX_MESSAGE];
	uint8_t cn[4] = { 0x40, 0x01, 0, 0 };
	struct stun_builder b;
	struct stun_msg msg;
	size_t n;

	/* Unbound: dropped. */
	channel_data(0x4001, "x", 1);
	CHECK_INT(stats.relay_drop_no_channel, 1);

	start(&b, req, STUN_METHOD_CHANNEL_BIND);
	stun_add_attr(&b, STUN_ATTR_CHANNEL_NUMBER, cn, 4);
	add_peer(&b, "203.0.113.20", 9000);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 0);
	CHECK_INT(msg.type, 0x0109);
	CHECK_INT(stats.channels_created, 1);

	channel_data(0x4001, "media", 5);
	CHECK_INT(sends, 2);
	CHECK_MEM(sent, "media", 5);
	CHECK_INT(ntohs(((struct sockaddr_in *)&sent_to)->sin_port), 9000);
	/* Padding past the length is ignored; a length past the datagram is
	 * dropped; so is a number out of range. */
	channel_data(0x4001, "abcdefgh", 3);
	CHECK_INT(sends, 3);
	CHECK_INT(sent_len, 3);
	channel_data(0x4001, "ab", 9);
	channel_data(0x5001, "ab", 2);
	CHECK_INT(sends, 3);
	CHECK_INT(stats.relay_drop_malformed, 2);

	/* The number bound to another peer: 400. */
	start(&b, req, STUN_METHOD_CHANNEL_BIND);
	stun_add_attr(&b, STUN_ATTR_CHANNEL_NUMBER, cn, 4);
	add_peer(&b, "203.0.113.21", 9000);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 400);
	/* Out of range without turn.old_channels: 400. */
	cn[0] = 0x50;
	start(&b, req, STUN_METHOD_CHANNEL_BIND);
	stun_add_attr(&b, STUN_ATTR_CHANNEL_NUMBER, cn, 4);
	add_peer(&b, "203.0.113.21", 9000);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 400);
	/* To a denied peer: 403. */
	cn[0] = 0x40;
	cn[1] = 0x02;
	start(&b, req, STUN_METHOD_CHANNEL_BIND);
	stun_add_attr(&b, STUN_ATTR_CHANNEL_NUMBER, cn, 4);
	add_peer(&b, "169.254.169.254", 80);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 403);
}

static void
test_refresh_and_expiry(void)
{
	uint8_t req[SERVER_MAX_MESSAGE], out[SERVER_MAX_MESSAGE];
	uint8_t again[SERVER_MAX_MESSAGE];
	struct stun_builder b;
	struct stun_msg msg;
	size_t n, len;
	uint32_t lifetime;

	/* Asking for less than the default gets the default. */
	start(&b, req, STUN_METHOD_REFRESH);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 5);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 0);
	stun_get_u32(&msg, stun_find(&msg, STUN_ATTR_LIFETIME), &lifetime);
	CHECK_INT(lifetime, 600);

	/* Refresh 0 deletes; its retransmission gets the same answer. */
	start(&b, req, STUN_METHOD_REFRESH);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 0);
	len = sign(&b, "alice", "wonderland");
	n = handle(req, len, out);
	CHECK_INT(answer(out, n, &msg), 0);
	CHECK_INT(closes, 1);
	CHECK_INT(alloc_count(srv.allocs), 0);
	CHECK_INT(handle(req, len, again), n);
	CHECK_MEM(again, out, n);
	/* A new Refresh finds nothing: 437. */
	start(&b, req, STUN_METHOD_REFRESH);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 437);

	/* A fresh allocation expires with time. */
	start(&b, req, STUN_METHOD_ALLOCATE);
	add_transport(&b, 17);
	n = handle(req, sign(&b, "alice", "wonderland"), out);
	CHECK_INT(answer(out, n, &msg), 0);
	CHECK_INT(alloc_expire(srv.allocs, now_ms + 599999, NULL, NULL), 0);
	CHECK_INT(alloc_expire(srv.allocs, now_ms + 600000, NULL, NULL), 1);
}

static void
test_quota_and_nonce(void)
{
	uint8_t req[SERVER_MAX_MESSAGE], out[SERVER_MAX_MESSAGE];
	struct sockaddr_in other = client, third = client;
	struct stun_builder b;
	struct stun_msg msg;
	size_t n;

	other.sin_port = htons(40001);
	third.sin_port = htons(40002);
	start(&b, req, STUN_METHOD_ALLOCATE);
	add_transport(&b, 17);
	n = handle_from(req, sign(&b, "bob", "builder"), &other, out);
	CHECK_INT(answer(out, n, &msg), 0);
	/* turn.max_allocations_per_user = 1 here. */
	start(&b, req, STUN_METHOD_ALLOCATE);
	add_transport(&b, 17);
	n = handle_from(req, sign(&b, "bob", "builder"), &third, out);
	CHECK_INT(answer(out, n, &msg), 486);

	/* The nonce expires with turn.nonce_lifetime (wall clock): 438. */
	start(&b, req, STUN_METHOD_ALLOCATE);
	add_transport(&b, 17);
	{
		struct server_msg m = {
			.data = req,
			.len = sign(&b, "carol", "x"),
			.peer = (struct sockaddr *)&third,
			.local = (struct sockaddr *)&local,
			.transport = SERVER_UDP,
			.now_ms = now_ms,
			.now_unix = now_unix + 601,
		};

		n = server_handle(&srv, &m, out, SERVER_MAX_MESSAGE);
	}
	CHECK_INT(answer(out, n, &msg), 438);
	CHECK(stun_find(&msg, STUN_ATTR_NONCE) != NULL);
}

/* A struct auth for realm "turnpike" with one REST secret. */
static struct auth *
rest_auth(const char *secret)
{
	const char *const secrets[] = { secret };
	struct auth_params p = {
		.realm = "turnpike",
		.rest_secrets = secrets,
		.nrest_secrets = 1,
		.rest_max_ttl = AUTH_REST_MAX_TTL_DEFAULT,
		.nonce_ttl = AUTH_NONCE_TTL_DEFAULT,
	};
	char err[128];
	struct auth *auth = auth_new(&p, err, sizeof(err));

	CHECK(auth != NULL);
	return auth;
}

/* Send method as user/pass from 'from' at now_unix + dt; the code. */
static int
rest_request(const struct sockaddr_in *from, uint16_t method, const char *user,
	     const char *pass, int64_t dt)
{
	uint8_t req[SERVER_MAX_MESSAGE], out[SERVER_MAX_MESSAGE];
	struct stun_builder b;
	struct stun_msg msg;
	struct server_msg m = {
		.data = req,
		.peer = (const struct sockaddr *)from,
		.local = (struct sockaddr *)&local,
		.transport = SERVER_UDP,
		.now_ms = now_ms,
		.now_unix = now_unix + dt,
	};
	uint8_t key[16];
	int code;

	start(&b, req, method);
	if (method == STUN_METHOD_ALLOCATE)
		add_transport(&b, 17);
	if (method == STUN_METHOD_CREATE_PERMISSION)
		add_peer(&b, "203.0.113.9", 7000);
	m.len = sign(&b, user, pass);
	code = answer(out, server_handle(&srv, &m, out, SERVER_MAX_MESSAGE),
		      &msg);
	/* Every success is signed with the user's key. */
	key_of(user, pass, key);
	if (code == 0)
		CHECK(stun_check_integrity(&msg, key, sizeof(key)));
	return code;
}

/*
 * TURN REST users, with the digests the daemon uses: requests on an
 * allocation are checked against the key it was made with (struct
 * auth_known) while the secret stays, and no longer once a reload has
 * replaced the secret, nor once the username has expired.
 */
static void
test_rest_reload(void)
{
	struct auth *north = rest_auth("north"), *again = rest_auth("north");
	struct auth *south = rest_auth("south");
	struct sockaddr_in from = client;
	char user[64], pass[AUTH_REST_PASSWORD_LEN + 1];
	char user2[64], pass2[AUTH_REST_PASSWORD_LEN + 1];

	if (north == NULL || again == NULL || south == NULL)
		goto done;
	srv.crypto = digest_ctx_new();
	CHECK(srv.crypto != NULL);
	from.sin_port = htons(40100);
	CHECK_INT(auth_rest_mint("north", "dave", now_unix + 300, user,
				 sizeof(user), pass),
		  0);
	CHECK_INT(auth_rest_mint("north", "erin", now_unix + 300, user2,
				 sizeof(user2), pass2),
		  0);

	srv.auth = north;
	CHECK_INT(rest_request(&from, STUN_METHOD_ALLOCATE, user, pass, 0), 0);
	CHECK_INT(rest_request(&from, STUN_METHOD_CREATE_PERMISSION, user, pass,
			       0),
		  0);
	/* Another REST user on dave's allocation: 441, as before. */
	CHECK_INT(rest_request(&from, STUN_METHOD_REFRESH, user2, pass2, 0),
		  441);
	/* A wrong password for dave's name: 401. */
	CHECK_INT(rest_request(&from, STUN_METHOD_REFRESH, user, "wrong", 0),
		  401);

	/* A reload that rebuilds the same secret keeps dave going. */
	srv.auth = again;
	CHECK_INT(rest_request(&from, STUN_METHOD_CREATE_PERMISSION, user, pass,
			       0),
		  0);
	/* One that replaces it: his requests fail from then on. */
	srv.auth = south;
	CHECK_INT(rest_request(&from, STUN_METHOD_CREATE_PERMISSION, user, pass,
			       0),
		  401);
	CHECK_INT(rest_request(&from, STUN_METHOD_REFRESH, user, pass, 0), 401);
	/* Back to north; then the username expires (the nonce does not). */
	srv.auth = north;
	CHECK_INT(rest_request(&from, STUN_METHOD_REFRESH, user, pass, 300), 0);
	CHECK_INT(rest_request(&from, STUN_METHOD_REFRESH, user, pass, 301),
		  401);
	CHECK_INT(stats.auth_failures[AUTH_REASON_REST_EXPIRED], 1);
done:
	srv.auth = pol.auth;
	digest_ctx_free(srv.crypto);
	srv.crypto = NULL;
	auth_free(north);
	auth_free(again);
	auth_free(south);
}

static void
test_cache_and_limit(void)
{
	const uint8_t hkey[HTAB_KEY_SIZE] = { 9 };
	struct txcache *c = txcache_new(4, hkey);
	struct ratelimit *r = ratelimit_new(4, hkey);
	struct addr_key k1, k2;
	uint8_t tid[12] = { 1 }, out[TXCACHE_MAX_ANSWER];
	int granted = 0;

	addr_key_from(&k1, (struct sockaddr *)&client);
	addr_key_from(&k2, (struct sockaddr *)&peer);
	txcache_put(c, &k1, 0, tid, 1000, (const uint8_t *)"answer", 6);
	CHECK_INT(txcache_find(c, &k1, 0, tid, 1000, out, sizeof(out)), 6);
	CHECK_MEM(out, "answer", 6);
	/* Another transport, client or tid; or too late: nothing. */
	CHECK_INT(txcache_find(c, &k1, 1, tid, 1000, out, sizeof(out)), 0);
	CHECK_INT(txcache_find(c, &k2, 0, tid, 1000, out, sizeof(out)), 0);
	tid[0] = 2;
	CHECK_INT(txcache_find(c, &k1, 0, tid, 1000, out, sizeof(out)), 0);
	tid[0] = 1;
	CHECK_INT(txcache_find(c, &k1, 0, tid, 1000 + TXCACHE_LIFETIME_MS, out,
			       sizeof(out)),
		  0);
	txcache_free(c);

	/* 10 per second, a burst of 20, then 10 more a second later. */
	for (int i = 0; i < 100; i++)
		granted += ratelimit_take(r, &k1, 10, 5000);
	CHECK_INT(granted, 20);
	CHECK(ratelimit_take(r, &k2, 10, 5000)); /* another IP */
	granted = 0;
	for (int i = 0; i < 100; i++)
		granted += ratelimit_take(r, &k1, 10, 6000);
	CHECK_INT(granted, 10);
	ratelimit_free(r);
}

int
main(void)
{
	char err[CONF_ERRLEN], path[] = "/tmp/test_turn.XXXXXX";
	uint8_t hkey[HTAB_KEY_SIZE] = { 3 };
	FILE *fp;
	int fd;

	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL)
		return 99;
	fputs("turn = { users = [ \"alice:wonderland\", \"bob:builder\" ];\n"
	      "  max_allocations_per_user = 1; unauth_rate = 1000; };\n",
	      fp);
	fclose(fp);
	conf = conf_load(path, err, sizeof(err));
	unlink(path);
	if (conf == NULL ||
	    policy_build(conf, NULL, 0, &pol, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 99;
	}
	srv.conf = conf;
	srv.stats = &stats;
	srv.auth = pol.auth;
	srv.peers = pol.peers;
	srv.allocs = alloc_table_new(hkey);
	srv.unauth = ratelimit_new(8, hkey);
	srv.answers = txcache_new(8, hkey);
	srv.relay = &fake_ops;
	{
		struct alloc_limits lim = {
			.max_total = 100,
			.max_per_user = 1,
			.max_permissions = 10,
			.max_channels = 10,
		};

		alloc_set_limits(srv.allocs, &lim);
	}
	client.sin_family = local.sin_family = peer.sin_family = AF_INET;
	client.sin_port = htons(40000);
	inet_pton(AF_INET, "198.51.100.5", &client.sin_addr);
	local.sin_port = htons(3478);
	inet_pton(AF_INET, "192.0.2.100", &local.sin_addr);
	peer.sin_port = htons(7000);
	inet_pton(AF_INET, "203.0.113.9", &peer.sin_addr);

	test_allocate();
	test_permissions_and_send();
	test_channels();
	test_refresh_and_expiry();
	test_quota_and_nonce();
	test_rest_reload();
	test_cache_and_limit();

	alloc_table_free(srv.allocs, NULL, NULL);
	ratelimit_free(srv.unauth);
	txcache_free(srv.answers);
	policy_free(&pol);
	conf_free(conf);
	return unit_done("test_turn");
}
