/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_auth.c: unit tests of the credential checks (src/auth.c).
 *
 * The long-term key against RFC 5769 section 2.4 and a key computed here
 * with EVP_Digest; "0x" keys; the users table; TURN REST passwords against
 * a value computed with the openssl command and again here with HMAC();
 * nonces, honest and tampered; and auth_check() end to end on requests
 * built and parsed with the STUN codec, with a fake clock.  No sockets.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "base64url.h"
#include "stun.h"
#include "unit.h"

#define REALM "example.org"
#define NOW   INT64_C(1700000000) /* the fake clock */

/* The katakana "matorikkusu" of RFC 5769 section 2.4 in UTF-8. */
static const char matrix_username[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa"
				      "\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";

/* RFC 5769 section 2.4, the request with long-term authentication
 * (Copyright (c) 2010 IETF Trust and the persons identified as the
 * document authors; Simplified BSD License). */
static const char rfc5769_long_term[] =
	"00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
	"00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 "
	"00"
	"00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 "
	"46"
	"53 54 76 79 36 34 73 41"
	"00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
	"00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 "
	"66";

/* printf '1700000000:alice' | openssl dgst -sha1 -hmac north -binary |
 * base64 */
static const char north_alice_password[] = "Cd/49soE35ICqcJF/bCTn8Z4OyE=";

/* The digests most checks use, as the daemon does; NULL in some, as the
 * tools do. */
static struct digest_ctx *crypto;

static const uint8_t nonce_key[AUTH_NONCE_KEY_SIZE] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex digits, skipping anything else, into out; the byte count. */
static size_t
hex_decode(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s != '\0'; s++) {
		if ((v = hex_nibble(*s)) < 0)
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n < cap)
			out[n] = (uint8_t)(hi << 4 | v);
		n++;
		hi = -1;
	}
	return n;
}

/* MD5 of a string, computed here without auth.c. */
static void
md5_of(const char *s, uint8_t out[16])
{
	unsigned int len = 0;

	CHECK(EVP_Digest(s, strlen(s), out, &len, EVP_md5(), NULL) == 1);
	CHECK_INT(len, 16);
}

static void
v4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	CHECK(inet_pton(AF_INET, ip, &sin->sin_addr) == 1);
}

static void
v6(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	CHECK(inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1);
}

#define SA(ss) ((const struct sockaddr *)(ss))

static struct auth *
make_auth(const struct auth_user_def *users, size_t nusers,
	  const char *const *secrets, size_t nsecrets)
{
	struct auth_params p = {
		.realm = REALM,
		.users = users,
		.nusers = nusers,
		.rest_secrets = secrets,
		.nrest_secrets = nsecrets,
		.rest_max_ttl = AUTH_REST_MAX_TTL_DEFAULT,
		.nonce_ttl = AUTH_NONCE_TTL_DEFAULT,
	};
	char err[256] = "";
	struct auth *auth = auth_new(&p, err, sizeof(err));

	CHECK(auth != NULL);
	if (auth == NULL)
		fprintf(stderr, "auth_new: %s\n", err);
	return auth;
}

static void
test_long_term_key(void)
{
	static const uint8_t matrix_key[16] = {
		0xe8, 0xca, 0x7a, 0xd5, 0x9d, 0x5e, 0xb0, 0x51,
		0x8e, 0x31, 0x29, 0x11, 0xd2, 0xda, 0xb2, 0xa9,
	};
	static const uint8_t user_realm_pass[16] = {
		0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb,
		0x4c, 0x04, 0x4c, 0x45, 0x6b, 0xdc, 0x40, 0xeb,
	};
	uint8_t key[AUTH_KEY_SIZE], want[16], buf[128];
	struct stun_msg msg;
	size_t len;

	/* RFC 5769 section 2.4: the password after SASLprep is
	 * "TheMatrIX"; the key must verify the RFC's message. */
	CHECK_INT(auth_long_term_key(crypto, matrix_username,
				     strlen(matrix_username), "example.org", 11,
				     "TheMatrIX", 9, key),
		  0);
	CHECK_MEM(key, matrix_key, 16);
	len = hex_decode(rfc5769_long_term, buf, sizeof(buf));
	CHECK_INT(len, 116);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK(stun_check_integrity(&msg, key, sizeof(key)));

	/* An ASCII one, against EVP_Digest over the joined string. */
	CHECK_INT(auth_long_term_key(crypto, "user", 4, "realm", 5, "pass", 4,
				     key),
		  0);
	md5_of("user:realm:pass", want);
	CHECK_MEM(key, want, 16);
	CHECK_MEM(key, user_realm_pass, 16);
	memset(key, 0, sizeof(key));
	CHECK_INT(
		auth_long_term_key(NULL, "user", 4, "realm", 5, "pass", 4, key),
		0);
	CHECK_MEM(key, user_realm_pass, 16);

	/* Every part counts. */
	CHECK_INT(auth_long_term_key(crypto, "user", 4, "realm", 5, "Pass", 4,
				     key),
		  0);
	CHECK(memcmp(key, want, 16) != 0);
	CHECK_INT(auth_long_term_key(crypto, "", 0, "", 0, "", 0, key), 0);
	md5_of("::", want);
	CHECK_MEM(key, want, 16);
}

static void
test_parse_key(void)
{
	static const uint8_t want[16] = {
		0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb,
		0x4c, 0x04, 0x4c, 0x45, 0x6b, 0xdc, 0x40, 0xeb,
	};
	uint8_t key[AUTH_KEY_SIZE];

	memset(key, 0, sizeof(key));
	CHECK_INT(auth_parse_key("0x8493fbc53ba582fb4c044c456bdc40eb", key), 0);
	CHECK_MEM(key, want, 16);
	memset(key, 0, sizeof(key));
	CHECK_INT(auth_parse_key("0x8493FBC53BA582FB4C044C456BDC40EB", key), 0);
	CHECK_MEM(key, want, 16);

	/* Wrong length. */
	CHECK_INT(auth_parse_key("0x8493fbc53ba582fb4c044c456bdc40e", key), -1);
	CHECK_INT(auth_parse_key("0x8493fbc53ba582fb4c044c456bdc40eb0", key),
		  -1);
	CHECK_INT(auth_parse_key("0x8493fbc53ba582fb4c044c456bdc40eb00", key),
		  -1);
	CHECK_INT(auth_parse_key("0x", key), -1);
	/* Not hex. */
	CHECK_INT(auth_parse_key("0x8493fbc53ba582fb4c044c456bdc40eg", key),
		  -1);
	CHECK_INT(auth_parse_key("0x 493fbc53ba582fb4c044c456bdc40eb", key),
		  -1);
	CHECK_INT(auth_parse_key("0x8493fbc53ba582fb4c044c456bdc40e ", key),
		  -1);
	/* No prefix, or another one. */
	CHECK_INT(auth_parse_key("8493fbc53ba582fb4c044c456bdc40eb", key), -1);
	CHECK_INT(auth_parse_key("8493fbc53ba582fb4c044c456bdc40ebab", key),
		  -1);
	CHECK_INT(auth_parse_key("0X8493fbc53ba582fb4c044c456bdc40eb", key),
		  -1);
	CHECK_INT(auth_parse_key("", key), -1);
	/* A failure leaves key alone. */
	CHECK_MEM(key, want, 16);
}

static void
test_users(void)
{
	static const struct auth_user_def users[] = {
		{ "alice", "wonderland" },
		{ "bob", "0x8493fbc53ba582fb4c044c456bdc40eb" },
		{ "al", "ice" },
	};
	static const uint8_t bob_key[16] = {
		0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb,
		0x4c, 0x04, 0x4c, 0x45, 0x6b, 0xdc, 0x40, 0xeb,
	};
	struct auth_user_def many[1000];
	char names[1000][16], err[256];
	struct auth_params p = {
		.realm = REALM,
		.rest_max_ttl = 1,
		.nonce_ttl = 1,
	};
	uint8_t want[16];
	const uint8_t *key;
	struct auth *auth;
	size_t i;
	bool all;

	auth = make_auth(users, 3, NULL, 0);
	if (auth == NULL)
		return;
	CHECK_STR(auth_realm(auth), REALM);
	key = auth_find_user(auth, "alice", 5);
	md5_of("alice:" REALM ":wonderland", want);
	CHECK(key != NULL && memcmp(key, want, 16) == 0);
	key = auth_find_user(auth, "bob", 3);
	CHECK(key != NULL && memcmp(key, bob_key, 16) == 0);
	key = auth_find_user(auth, "al", 2);
	md5_of("al:" REALM ":ice", want);
	CHECK(key != NULL && memcmp(key, want, 16) == 0);
	CHECK(auth_find_user(auth, "alic", 4) == NULL);
	CHECK(auth_find_user(auth, "alice", 4) == NULL); /* "alic" */
	CHECK(auth_find_user(auth, "alice", 2) != NULL); /* "al" */
	CHECK(auth_find_user(auth, "alice\0", 6) == NULL);
	CHECK(auth_find_user(auth, "Alice", 5) == NULL);
	CHECK(auth_find_user(auth, "", 0) == NULL);
	CHECK(auth_find_user(auth, "carol", 5) == NULL);
	auth_free(auth);
	auth_free(NULL);

	/* The key of a plain password depends on the realm. */
	p.realm = "other.example";
	p.users = users;
	p.nusers = 1;
	auth = auth_new(&p, err, sizeof(err));
	CHECK(auth != NULL);
	if (auth != NULL) {
		key = auth_find_user(auth, "alice", 5);
		md5_of("alice:other.example:wonderland", want);
		CHECK(key != NULL && memcmp(key, want, 16) == 0);
		auth_free(auth);
	}

	/* A thousand users, each found, with its own key. */
	for (i = 0; i < 1000; i++) {
		snprintf(names[i], sizeof(names[i]), "user%zu", i);
		many[i].name = names[i];
		many[i].secret = names[i];
	}
	p.realm = REALM;
	p.users = many;
	p.nusers = 1000;
	auth = auth_new(&p, err, sizeof(err));
	CHECK(auth != NULL);
	if (auth != NULL) {
		all = true;
		for (i = 0; i < 1000; i++) {
			char joined[64];

			snprintf(joined, sizeof(joined), "%.15s:%s:%.15s",
				 names[i], REALM, names[i]);
			md5_of(joined, want);
			key = auth_find_user(auth, names[i], strlen(names[i]));
			if (key == NULL || memcmp(key, want, 16) != 0)
				all = false;
		}
		CHECK(all);
		CHECK(auth_find_user(auth, "user1000", 8) == NULL);
		auth_free(auth);
	}
}

static void
test_auth_new_errors(void)
{
	static const struct auth_user_def dup[] = {
		{ "alice", "a" },
		{ "bob", "b" },
		{ "alice", "c" },
	};
	static const struct auth_user_def bad_key[] = {
		{ "alice", "0x1234" },
	};
	static const struct auth_user_def empty_pass[] = {
		{ "alice", "" },
	};
	static const struct auth_user_def empty_name[] = {
		{ "", "x" },
	};
	static const struct auth_user_def null_pass[] = {
		{ "alice", NULL },
	};
	static const char *const secrets[] = { "1", "2", "3", "4", "5",
					       "6", "7", "8", "9" };
	static const char *const empty_secret[] = { "north", "" };
	char longname[AUTH_USERNAME_MAX + 2], longrealm[AUTH_REALM_MAX + 2];
	struct auth_user_def long_user[1] = { { longname, "x" } };
	struct auth_params p;
	char err[256];
	struct auth *auth;

#define FAILS(...)                                                             \
	do {                                                                   \
		memset(&p, 0, sizeof(p));                                      \
		p.realm = REALM;                                               \
		p.rest_max_ttl = 60;                                           \
		p.nonce_ttl = 60;                                              \
		__VA_ARGS__;                                                   \
		err[0] = '\0';                                                 \
		auth = auth_new(&p, err, sizeof(err));                         \
		CHECK(auth == NULL);                                           \
		CHECK(err[0] != '\0');                                         \
		auth_free(auth);                                               \
	} while (0)

	FAILS(p.users = dup; p.nusers = 3);
	CHECK(strstr(err, "alice") != NULL);
	FAILS(p.users = bad_key; p.nusers = 1);
	FAILS(p.users = empty_pass; p.nusers = 1);
	FAILS(p.users = empty_name; p.nusers = 1);
	FAILS(p.users = null_pass; p.nusers = 1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	FAILS(p.users = long_user; p.nusers = 1);
	FAILS(p.realm = "");
	FAILS(p.realm = NULL);
	memset(longrealm, 'r', sizeof(longrealm) - 1);
	longrealm[sizeof(longrealm) - 1] = '\0';
	FAILS(p.realm = longrealm);
	FAILS(p.rest_secrets = secrets; p.nrest_secrets = 9);
	FAILS(p.rest_secrets = empty_secret; p.nrest_secrets = 2);
	FAILS(p.nonce_ttl = 0);
	FAILS(p.rest_max_ttl = 0);
#undef FAILS

	/* The limits themselves are fine, and so is nothing at all. */
	longname[AUTH_USERNAME_MAX] = '\0';
	memset(&p, 0, sizeof(p));
	p.realm = REALM;
	p.users = long_user;
	p.nusers = 1;
	p.rest_secrets = secrets;
	p.nrest_secrets = AUTH_MAX_SECRETS;
	p.rest_max_ttl = 1;
	p.nonce_ttl = 1;
	auth = auth_new(&p, err, sizeof(err));
	CHECK(auth != NULL);
	if (auth != NULL)
		CHECK(auth_find_user(auth, longname, AUTH_USERNAME_MAX) !=
		      NULL);
	auth_free(auth);
	memset(&p, 0, sizeof(p));
	p.realm = REALM;
	p.rest_max_ttl = 1;
	p.nonce_ttl = 1;
	auth = auth_new(&p, err, sizeof(err));
	CHECK(auth != NULL);
	if (auth != NULL)
		CHECK(auth_find_user(auth, "alice", 5) == NULL);
	auth_free(auth);
}

/* The REST key of username under secret, computed here: HMAC() and
 * EVP_EncodeBlock for the password, then EVP_Digest for the key. */
static void
rest_key_of(const char *secret, const char *username, uint8_t key[16],
	    char password[29])
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char joined[256];

	CHECK(HMAC(EVP_sha1(), secret, (int)strlen(secret),
		   (const uint8_t *)username, strlen(username), mac,
		   &maclen) != NULL);
	CHECK_INT(maclen, 20);
	CHECK_INT(EVP_EncodeBlock((uint8_t *)password, mac, 20), 28);
	snprintf(joined, sizeof(joined), "%s:%s:%s", username, REALM, password);
	md5_of(joined, key);
}

static void
test_rest_password(void)
{
	char password[AUTH_REST_PASSWORD_LEN + 1], want[29], username[64];
	uint8_t key[16];

	/* The literal pins the algorithm; the computation pins the code. */
	CHECK_INT(auth_rest_password(crypto, "north", "1700000000:alice", 16,
				     password),
		  0);
	CHECK_STR(password, north_alice_password);
	CHECK_INT(auth_rest_password(NULL, "north", "1700000000:alice", 16,
				     password),
		  0);
	CHECK_STR(password, north_alice_password);
	rest_key_of("north", "1700000000:alice", key, want);
	CHECK_STR(password, want);

	/* Minting gives the same. */
	CHECK_INT(auth_rest_mint("north", "alice", NOW, username,
				 sizeof(username), password),
		  0);
	CHECK_STR(username, "1700000000:alice");
	CHECK_STR(password, north_alice_password);
	CHECK_INT(auth_rest_mint("north", NULL, NOW, username, sizeof(username),
				 password),
		  0);
	CHECK_STR(username, "1700000000");
	rest_key_of("north", "1700000000", key, want);
	CHECK_STR(password, want);
	CHECK_INT(auth_rest_mint("north", "", NOW, username, sizeof(username),
				 password),
		  0);
	CHECK_STR(username, "1700000000:");

	/* Refusals: no room, negative expiry. */
	CHECK_INT(auth_rest_mint("north", "alice", NOW, username, 16, password),
		  -1);
	CHECK_INT(auth_rest_mint("north", "alice", NOW, username, 17, password),
		  0);
	CHECK_INT(auth_rest_mint("north", "alice", -1, username,
				 sizeof(username), password),
		  -1);
}

static void
test_rest_keys(void)
{
	static const char *const secrets[] = { "north", "south" };
	static const struct auth_user_def users[] = { { "carol", "pw" } };
	uint8_t keys[AUTH_MAX_SECRETS][AUTH_KEY_SIZE], want[16];
	char password[29], longname[AUTH_USERNAME_MAX + 2];
	struct auth *auth, *users_only;
	int64_t expiry;
	size_t n;

	if ((auth = make_auth(NULL, 0, secrets, 2)) == NULL)
		return;

#define REST(name, now)                                                        \
	auth_rest_keys(auth, name, strlen(name), now, keys, &n, &expiry)

	/* Rotation: one key per secret, in order. */
	CHECK_INT(REST("1700000000:alice", NOW - 100), AUTH_REASON_NONE);
	CHECK_INT(n, 2);
	CHECK_INT(expiry, NOW);
	rest_key_of("north", "1700000000:alice", want, password);
	CHECK_STR(password, north_alice_password);
	CHECK_MEM(keys[0], want, 16);
	rest_key_of("south", "1700000000:alice", want, password);
	CHECK_MEM(keys[1], want, 16);

	/* A bare timestamp, and one with more colons. */
	CHECK_INT(REST("1700000000", NOW), AUTH_REASON_NONE);
	CHECK_INT(n, 2);
	rest_key_of("north", "1700000000", want, password);
	CHECK_MEM(keys[0], want, 16);
	CHECK_INT(REST("1700000000:a:b", NOW), AUTH_REASON_NONE);
	CHECK_INT(REST("1700000000:", NOW), AUTH_REASON_NONE);

	/* Expiry: good up to and including the second it names. */
	CHECK_INT(REST("1700000000:alice", NOW), AUTH_REASON_NONE);
	CHECK_INT(REST("1700000000:alice", NOW + 1), AUTH_REASON_REST_EXPIRED);
	CHECK_INT(n, 0);
	CHECK_INT(REST("0:alice", NOW), AUTH_REASON_REST_EXPIRED);

	/* Too far ahead: more than rest_max_ttl. */
	CHECK_INT(REST("1700000000:alice", NOW - 86400), AUTH_REASON_NONE);
	CHECK_INT(REST("1700000000:alice", NOW - 86401),
		  AUTH_REASON_REST_FUTURE);
	CHECK_INT(n, 0);
	CHECK_INT(REST("99999999999999999999999999:alice", NOW),
		  AUTH_REASON_REST_FUTURE);
	CHECK_INT(REST("9223372036854775807:alice", NOW),
		  AUTH_REASON_REST_FUTURE);
	CHECK_INT(REST("9223372036854775807:alice", -1),
		  AUTH_REASON_REST_FUTURE);

	/* Malformed. */
	CHECK_INT(REST("", NOW), AUTH_REASON_REST_MALFORMED);
	CHECK_INT(REST("alice", NOW), AUTH_REASON_REST_MALFORMED);
	CHECK_INT(REST("alice:1700000000", NOW), AUTH_REASON_REST_MALFORMED);
	CHECK_INT(REST(":1700000000", NOW), AUTH_REASON_REST_MALFORMED);
	CHECK_INT(REST("17000000x0:alice", NOW), AUTH_REASON_REST_MALFORMED);
	CHECK_INT(REST("+1700000000:alice", NOW), AUTH_REASON_REST_MALFORMED);
	CHECK_INT(REST("-1700000000:alice", NOW), AUTH_REASON_REST_MALFORMED);
	CHECK_INT(REST(" 1700000000:alice", NOW), AUTH_REASON_REST_MALFORMED);
	CHECK_INT(REST("0x65536DC0:alice", NOW), AUTH_REASON_REST_MALFORMED);
	CHECK_INT(n, 0);
	memset(longname, '1', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "1700000000:", 11);
	CHECK_INT(REST(longname, NOW), AUTH_REASON_REST_MALFORMED);
	longname[AUTH_USERNAME_MAX] = '\0';
	CHECK_INT(REST(longname, NOW), AUTH_REASON_NONE);
	CHECK_INT(auth_rest_keys(auth, "1700000000\0x", 12, NOW, keys, &n,
				 &expiry),
		  AUTH_REASON_REST_MALFORMED);
#undef REST

	/* No secrets: nobody is a REST user. */
	if ((users_only = make_auth(users, 1, NULL, 0)) != NULL) {
		CHECK_INT(auth_rest_keys(users_only, "1700000000:alice", 16,
					 NOW, keys, &n, &expiry),
			  AUTH_REASON_UNKNOWN_USER);
		CHECK_INT(n, 0);
		auth_free(users_only);
	}
	auth_free(auth);
}

static bool
is_base64url(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxy"
			   "z"
			   "0123456789-_",
			   *s) == NULL)
			return false;
	return true;
}

static void
test_nonce(void)
{
	struct sockaddr_storage client, other, v6client, mapped, unix_ss;
	uint8_t other_key[AUTH_NONCE_KEY_SIZE];
	char nonce[AUTH_NONCE_LEN + 1], copy[AUTH_NONCE_LEN + 1];
	char nonce6[AUTH_NONCE_LEN + 1], small[AUTH_NONCE_LEN];
	bool all;
	size_t i, j;

	v4(&client, "192.0.2.1", 40000);
	v4(&other, "192.0.2.2", 40000);
	v6(&v6client, "2001:db8::1", 40000);
	v6(&mapped, "::ffff:192.0.2.1", 1);
	memset(&unix_ss, 0, sizeof(unix_ss));
	unix_ss.ss_family = AF_UNIX;

	CHECK_INT(auth_nonce_make(nonce_key, SA(&client), NOW, 600, nonce,
				  sizeof(nonce)),
		  0);
	/* RFC 8489 section 14.10: at most 763 bytes, quoted-string
	 * characters; ours are base64url. */
	CHECK_INT(strlen(nonce), AUTH_NONCE_LEN);
	CHECK(AUTH_NONCE_LEN <= 763);
	CHECK(is_base64url(nonce));
	CHECK(strchr(nonce, '"') == NULL && strchr(nonce, '\\') == NULL);

	/* Good until expiry, from any port of the same address. */
	CHECK_INT(auth_nonce_check(nonce_key, SA(&client), NOW, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_OK);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&client), NOW + 600, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_OK);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&client), NOW - 10000, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_OK);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&mapped), NOW, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_OK);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&client), NOW + 601, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_STALE);

	/* Another client, another key. */
	CHECK_INT(auth_nonce_check(nonce_key, SA(&other), NOW, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_BAD);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&v6client), NOW, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_BAD);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&other), NOW + 601, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_BAD);
	memcpy(other_key, nonce_key, sizeof(other_key));
	other_key[31] ^= 1;
	CHECK_INT(auth_nonce_check(other_key, SA(&client), NOW, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_BAD);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&unix_ss), NOW, nonce,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_BAD);

	/* Every character changed to every other one is refused. */
	all = true;
	for (i = 0; i < AUTH_NONCE_LEN; i++) {
		static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					       "abcdefghijklmnopqrstuvwxyz"
					       "0123456789-_+/=.\"\\ ";

		for (j = 0; j < sizeof(alphabet) - 1; j++) {
			if (alphabet[j] == nonce[i])
				continue;
			memcpy(copy, nonce, sizeof(copy));
			copy[i] = alphabet[j];
			if (auth_nonce_check(nonce_key, SA(&client), NOW, copy,
					     AUTH_NONCE_LEN) != AUTH_NONCE_BAD)
				all = false;
		}
	}
	CHECK(all);

	/* Truncated, extended, empty, garbage. */
	for (i = 0; i < AUTH_NONCE_LEN; i++)
		CHECK_INT(
			auth_nonce_check(nonce_key, SA(&client), NOW, nonce, i),
			AUTH_NONCE_BAD);
	memcpy(copy, nonce, sizeof(copy));
	CHECK_INT(auth_nonce_check(nonce_key, SA(&client), NOW, "", 0),
		  AUTH_NONCE_BAD);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&client), NOW,
				   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 32),
		  AUTH_NONCE_BAD);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&client), NOW,
				   "f//499k954d6OL34oL9FSTvy64sA", 28),
		  AUTH_NONCE_BAD);
	{
		char longer[AUTH_NONCE_LEN + 2];

		memcpy(longer, nonce, AUTH_NONCE_LEN);
		longer[AUTH_NONCE_LEN] = 'A';
		longer[AUTH_NONCE_LEN + 1] = '\0';
		CHECK_INT(auth_nonce_check(nonce_key, SA(&client), NOW, longer,
					   AUTH_NONCE_LEN + 1),
			  AUTH_NONCE_BAD);
	}

	/* IPv6 clients; the nonce depends on the time. */
	CHECK_INT(auth_nonce_make(nonce_key, SA(&v6client), NOW, 600, nonce6,
				  sizeof(nonce6)),
		  0);
	CHECK(strcmp(nonce6, nonce) != 0);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&v6client), NOW, nonce6,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_OK);
	CHECK_INT(auth_nonce_check(nonce_key, SA(&client), NOW, nonce6,
				   AUTH_NONCE_LEN),
		  AUTH_NONCE_BAD);
	CHECK_INT(auth_nonce_make(nonce_key, SA(&client), NOW + 1, 600, copy,
				  sizeof(copy)),
		  0);
	CHECK(strcmp(copy, nonce) != 0);
	/* The same inputs, the same nonce: nothing random, nothing kept. */
	CHECK_INT(auth_nonce_make(nonce_key, SA(&client), NOW, 600, copy,
				  sizeof(copy)),
		  0);
	CHECK_STR(copy, nonce);

	/* Refusals. */
	CHECK_INT(auth_nonce_make(nonce_key, SA(&client), NOW, 600, small,
				  sizeof(small)),
		  -1);
	CHECK_INT(auth_nonce_make(nonce_key, SA(&unix_ss), NOW, 600, copy,
				  sizeof(copy)),
		  -1);
	CHECK_INT(auth_nonce_make(nonce_key, SA(&client), -1, 600, copy,
				  sizeof(copy)),
		  -1);
}

/* What goes into a test request. */
struct req {
	const char *username; /* NULL: no USERNAME */
	const char *realm;    /* NULL: no REALM */
	const char *nonce;    /* NULL: no NONCE */
	const uint8_t *key;   /* NULL: no integrity */
	bool sha256;          /* MESSAGE-INTEGRITY-SHA256 instead */
	const char *password; /* instead of key: MD5(user:realm:password) */
};

/* Build an Allocate request from r into buf and parse it into msg. */
static void
build(const struct req *r, uint8_t *buf, size_t cap, struct stun_msg *msg)
{
	static const uint8_t tid[STUN_TID_SIZE] = { 1, 2, 3, 4,  5,  6,
						    7, 8, 9, 10, 11, 12 };
	struct stun_builder b;
	uint8_t key[AUTH_KEY_SIZE];
	const uint8_t *k = r->key;
	size_t len;

	stun_build_init(&b, buf, cap,
			stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST),
			tid);
	CHECK_INT(stun_add_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24),
		  0);
	if (r->username != NULL)
		CHECK_INT(stun_add_attr(&b, STUN_ATTR_USERNAME, r->username,
					(uint16_t)strlen(r->username)),
			  0);
	if (r->realm != NULL)
		CHECK_INT(stun_add_attr(&b, STUN_ATTR_REALM, r->realm,
					(uint16_t)strlen(r->realm)),
			  0);
	if (r->nonce != NULL)
		CHECK_INT(stun_add_attr(&b, STUN_ATTR_NONCE, r->nonce,
					(uint16_t)strlen(r->nonce)),
			  0);
	if (r->password != NULL) {
		CHECK_INT(auth_long_term_key(NULL, r->username,
					     strlen(r->username), r->realm,
					     strlen(r->realm), r->password,
					     strlen(r->password), key),
			  0);
		k = key;
	}
	if (k != NULL && r->sha256)
		CHECK_INT(stun_add_integrity_sha256(&b, k, AUTH_KEY_SIZE), 0);
	else if (k != NULL)
		CHECK_INT(stun_add_integrity(&b, k, AUTH_KEY_SIZE), 0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	len = stun_build_finish(&b);
	CHECK(len > 0);
	CHECK_INT(stun_parse(buf, len, msg), STUN_PARSE_OK);
}

/* Build r, run auth_check on it from client at now, offering known, and
 * return the status; res holds the rest. */
static enum auth_status
check_known(const struct auth *auth, const struct req *r,
	    const struct sockaddr *client, int64_t now,
	    const struct auth_known *known, struct auth_result *res)
{
	uint8_t buf[2048];
	struct stun_msg msg;
	enum auth_status st;
	struct auth_request rq = {
		.msg = &msg,
		.client = client,
		.now = now,
		.nonce_key = nonce_key,
		.crypto = crypto,
		.known = known,
	};

	build(r, buf, sizeof(buf), &msg);
	st = auth_check(auth, &rq, res);
	CHECK_INT(st, res->status);
	/* Every answer but 200 and 400 carries a nonce good for client. */
	if (st == AUTH_OK || st == AUTH_BAD_REQUEST) {
		CHECK_STR(res->nonce, "");
	} else {
		CHECK_INT(strlen(res->nonce), AUTH_NONCE_LEN);
		CHECK_INT(auth_nonce_check(nonce_key, client, now, res->nonce,
					   strlen(res->nonce)),
			  AUTH_NONCE_OK);
	}
	if (st == AUTH_OK) {
		CHECK_INT(res->error_code, 0);
		CHECK_INT(res->reason, AUTH_REASON_NONE);
		/* username pointed into buf, which is gone now. */
		res->username = NULL;
	} else {
		CHECK(res->username == NULL);
	}
	return st;
}

/* check_known() without a known key. */
static enum auth_status
check(const struct auth *auth, const struct req *r,
      const struct sockaddr *client, int64_t now, struct auth_result *res)
{
	return check_known(auth, r, client, now, NULL, res);
}

static void
test_check(void)
{
	static const struct auth_user_def users[] = {
		{ "alice", "wonderland" },
		{ "bob", "0x80024D7A38061907c852f64829ea33b3" }, /* "pass" */
		{ "1700000000:carol", "static" },
	};
	static const char *const secrets[] = { "north", "south" };
	static const uint8_t bob_key[16] = {
		0x80, 0x02, 0x4d, 0x7a, 0x38, 0x06, 0x19, 0x07,
		0xc8, 0x52, 0xf6, 0x48, 0x29, 0xea, 0x33, 0xb3,
	};
	struct sockaddr_storage client, other;
	struct auth *both, *users_only, *rest_only;
	struct auth_result res;
	char nonce[AUTH_NONCE_LEN + 1], old_nonce[AUTH_NONCE_LEN + 1];
	char south_pw[29], longname[AUTH_USERNAME_MAX + 2];
	uint8_t key[16], want[16];
	struct req r;

	v4(&client, "198.51.100.7", 50000);
	v4(&other, "198.51.100.8", 50000);
	both = make_auth(users, 3, secrets, 2);
	users_only = make_auth(users, 2, NULL, 0);
	rest_only = make_auth(NULL, 0, secrets, 2);
	if (both == NULL || users_only == NULL || rest_only == NULL)
		goto done;
	CHECK_INT(auth_nonce_make(nonce_key, SA(&client), NOW, 600, nonce,
				  sizeof(nonce)),
		  0);
	CHECK_INT(auth_nonce_make(nonce_key, SA(&client), NOW - 1000, 600,
				  old_nonce, sizeof(old_nonce)),
		  0);

	/* No integrity: the challenge, whatever else is there. */
	r = (struct req){ .username = "alice" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_CHALLENGE);
	CHECK_INT(res.reason, AUTH_REASON_NO_CREDENTIALS);
	CHECK_INT(res.error_code, 401);
	r = (struct req){ 0 };
	CHECK_INT(check(users_only, &r, SA(&client), NOW, &res),
		  AUTH_CHALLENGE);
	r = (struct req){ "alice", REALM, "garbage", NULL, false, NULL };
	CHECK_INT(check(users_only, &r, SA(&client), NOW, &res),
		  AUTH_CHALLENGE);

	/* Integrity without USERNAME, REALM or NONCE: 400, no nonce. */
	r = (struct req){ "alice", REALM, NULL, NULL, false, "wonderland" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_BAD_REQUEST);
	CHECK_INT(res.reason, AUTH_REASON_MISSING_ATTRIBUTE);
	CHECK_INT(res.error_code, 400);
	r = (struct req){ "alice", NULL, nonce, bob_key, false, NULL };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_BAD_REQUEST);
	r = (struct req){ NULL, REALM, nonce, bob_key, false, NULL };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_BAD_REQUEST);

	/* A static user with a password, the right one. */
	r = (struct req){ "alice", REALM, nonce, NULL, false, "wonderland" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_OK);
	md5_of("alice:" REALM ":wonderland", want);
	CHECK_MEM(res.key, want, 16);
	CHECK(!res.rest && !res.sha256);
	CHECK_INT(res.rest_expiry, 0);
	CHECK_INT(check(users_only, &r, SA(&client), NOW, &res), AUTH_OK);
	CHECK_INT(res.username_len, 5);
	auth_result_wipe(&res);
	memset(want, 0, sizeof(want));
	CHECK_MEM(res.key, want, 16);

	/* The username is handed back, pointing into the request. */
	{
		uint8_t buf[512];
		struct stun_msg msg;

		struct auth_request rq = { &msg,      SA(&client), NOW,
					   nonce_key, NULL,        NULL };

		build(&r, buf, sizeof(buf), &msg);
		CHECK_INT(auth_check(both, &rq, &res), AUTH_OK);
		CHECK(res.username != NULL && res.username > buf &&
		      res.username < buf + sizeof(buf));
		CHECK(res.username_len == 5 &&
		      memcmp(res.username, "alice", 5) == 0);
	}

	/* With MESSAGE-INTEGRITY-SHA256, and the same MD5 key. */
	r.sha256 = true;
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_OK);
	CHECK(res.sha256);

	/* A static user with a 0x key. */
	r = (struct req){ "bob", REALM, nonce, NULL, false, "pass" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_OK);
	md5_of("bob:" REALM ":pass", want);
	CHECK_MEM(res.key, want, 16);
	CHECK_MEM(res.key, bob_key, 16);
	r = (struct req){ "bob", REALM, nonce, bob_key, false, NULL };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_OK);

	/* A wrong password. */
	r = (struct req){ "alice", REALM, nonce, NULL, false, "Wonderland" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_BAD_INTEGRITY);
	CHECK_INT(res.error_code, 401);
	r.sha256 = true;
	CHECK_INT(check(both, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_BAD_INTEGRITY);
	/* Another user's key. */
	r = (struct req){ "alice", REALM, nonce, bob_key, false, NULL };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_BAD_INTEGRITY);

	/* Unknown users. */
	r = (struct req){ "mallory", REALM, nonce, NULL, false, "x" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_UNKNOWN_USER);
	CHECK_INT(check(users_only, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_UNKNOWN_USER);
	CHECK_INT(check(rest_only, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_REST_MALFORMED);
	r = (struct req){
		"1700000000:mallory", REALM, nonce, NULL, false, "x"
	};
	CHECK_INT(check(users_only, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_UNKNOWN_USER);
	r = (struct req){ "", REALM, nonce, NULL, false, "x" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_BAD_USERNAME);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	r = (struct req){ longname, REALM, nonce, NULL, false, "x" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_BAD_USERNAME);

	/* Nonces: stale, forged, someone else's. */
	r =
		(struct req){ "alice", REALM, old_nonce,
			      NULL,    false, "wonderland" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_STALE_NONCE);
	CHECK_INT(res.reason, AUTH_REASON_STALE_NONCE);
	CHECK_INT(res.error_code, 438);
	CHECK(strcmp(res.nonce, old_nonce) != 0);
	r.nonce = "f//499k954d6OL34oL9FSTvy64sA";
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_STALE_NONCE);
	CHECK_INT(res.reason, AUTH_REASON_BAD_NONCE);
	r.nonce = nonce;
	CHECK_INT(check(both, &r, SA(&other), NOW, &res), AUTH_STALE_NONCE);
	CHECK_INT(res.reason, AUTH_REASON_BAD_NONCE);
	/* The nonce comes before the username. */
	r = (struct req){ "mallory", REALM, old_nonce, NULL, false, "x" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_STALE_NONCE);

	/* Another realm. */
	r = (struct req){ "alice", "example.com", nonce,
			  NULL,    false,         "wonderland" };
	CHECK_INT(check(both, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_REALM_MISMATCH);
	r.realm = "example.org.";
	CHECK_INT(check(both, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_REALM_MISMATCH);

	/* REST users, with either secret, alone or next to static users. */
	r = (struct req){ "1700000000:dave", REALM, nonce, NULL, false, NULL };
	rest_key_of("north", "1700000000:dave", key, south_pw);
	r.key = key;
	CHECK_INT(check(both, &r, SA(&client), NOW - 60, &res), AUTH_OK);
	CHECK(res.rest);
	CHECK_INT(res.rest_expiry, NOW);
	CHECK_MEM(res.key, key, 16);
	CHECK_INT(check(rest_only, &r, SA(&client), NOW - 60, &res), AUTH_OK);
	rest_key_of("south", "1700000000:dave", key, south_pw);
	CHECK_INT(check(both, &r, SA(&client), NOW - 60, &res), AUTH_OK);
	CHECK_MEM(res.key, key, 16);
	/* The password a client would be handed works the same way. */
	r.key = NULL;
	r.password = south_pw;
	CHECK_INT(check(rest_only, &r, SA(&client), NOW - 60, &res), AUTH_OK);
	/* ... but not with a static-only config. */
	CHECK_INT(check(users_only, &r, SA(&client), NOW - 60, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_UNKNOWN_USER);
	/* Not after its expiry, nor long before. */
	CHECK_INT(check(both, &r, SA(&client), NOW + 1, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_REST_EXPIRED);
	CHECK_INT(check(rest_only, &r, SA(&client), NOW - 86401, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_REST_FUTURE);
	/* A REST password made with a secret we do not have. */
	rest_key_of("west", "1700000000:dave", key, south_pw);
	r.password = NULL;
	r.key = key;
	CHECK_INT(check(both, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_BAD_INTEGRITY);

	/* A static user whose name is also a valid REST name: both keys. */
	r = (struct req){
		"1700000000:carol", REALM, nonce, NULL, false, "static"
	};
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_OK);
	CHECK(!res.rest);
	rest_key_of("south", "1700000000:carol", key, south_pw);
	r.password = NULL;
	r.key = key;
	CHECK_INT(check(both, &r, SA(&client), NOW, &res), AUTH_OK);
	CHECK(res.rest);
	/* Expired as REST, still good as the static user. */
	r.key = NULL;
	r.password = "static";
	CHECK_INT(check(both, &r, SA(&client), NOW + 10, &res), AUTH_OK);

	/* Every reason has a name. */
	{
		int i;

		for (i = 0; i < AUTH_NREASONS; i++)
			CHECK(auth_reason_name((enum auth_reason)i) != NULL);
		CHECK(auth_reason_name(AUTH_NREASONS) == NULL);
		CHECK_STR(auth_reason_name(AUTH_REASON_REST_EXPIRED),
			  "rest_expired");
	}
done:
	auth_free(both);
	auth_free(users_only);
	auth_free(rest_only);
}

/*
 * The key an allocation keeps (struct auth_known): it spares the REST
 * derivation when it fits, and when it does not (another username, an
 * expired REST name, another key, a struct auth without its secret) the
 * answer is the one without it.
 */
static void
test_known(void)
{
	static const struct auth_user_def users[] = { { "alice",
							"wonderland" } };
	static const char *const secrets[] = { "north", "south" };
	static const char *const north_only[] = { "north" };
	static const char *const south_only[] = { "south" };
	static const char *const rotated[] = { "north", "west" };
	struct sockaddr_storage client;
	struct auth *auth, *same, *without, *other_realm, *added;
	struct auth_known known;
	struct auth_result res;
	char nonce[AUTH_NONCE_LEN + 1], pw[29];
	const char *name = "1700000600:alice";
	uint8_t key[16], tag[AUTH_TAG_SIZE], zero[AUTH_TAG_SIZE] = { 0 };
	uint8_t wrong[16];
	struct req r;

	v4(&client, "198.51.100.7", 50000);
	auth = make_auth(users, 1, secrets, 2);
	same = make_auth(users, 1, secrets, 2);
	without = make_auth(users, 1, north_only, 1);
	added = make_auth(NULL, 0, rotated, 2);
	{
		struct auth_params p = {
			.realm = "other.example",
			.rest_secrets = south_only,
			.nrest_secrets = 1,
			.rest_max_ttl = AUTH_REST_MAX_TTL_DEFAULT,
			.nonce_ttl = AUTH_NONCE_TTL_DEFAULT,
		};
		char err[128];

		other_realm = auth_new(&p, err, sizeof(err));
	}
	if (auth == NULL || same == NULL || without == NULL ||
	    other_realm == NULL || added == NULL)
		goto done;
	CHECK_INT(auth_nonce_make(nonce_key, SA(&client), NOW, 600, nonce,
				  sizeof(nonce)),
		  0);

	/* A REST user with the second secret: its result carries a tag,
	 * and a static user's does not. */
	rest_key_of("south", name, key, pw);
	r = (struct req){ name, REALM, nonce, key, false, NULL };
	CHECK_INT(check(auth, &r, SA(&client), NOW, &res), AUTH_OK);
	CHECK(res.rest);
	CHECK(memcmp(res.tag, zero, sizeof(zero)) != 0);
	memcpy(tag, res.tag, sizeof(tag));
	CHECK_INT(check(same, &r, SA(&client), NOW, &res), AUTH_OK);
	CHECK_MEM(res.tag, tag, sizeof(tag));
	CHECK_INT(check(without, &r, SA(&client), NOW, &res),
		  AUTH_WRONG_CREDENTIALS);
	r = (struct req){ "alice", REALM, nonce, NULL, false, "wonderland" };
	CHECK_INT(check(auth, &r, SA(&client), NOW, &res), AUTH_OK);
	CHECK_MEM(res.tag, zero, sizeof(zero));

	/* Offered back: accepted, same key, same expiry. */
	known = (struct auth_known){ name, key, tag };
	r = (struct req){ name, REALM, nonce, key, false, NULL };
	CHECK_INT(check_known(auth, &r, SA(&client), NOW, &known, &res),
		  AUTH_OK);
	CHECK_MEM(res.key, key, 16);
	CHECK(res.rest);
	CHECK_INT(res.rest_expiry, 1700000600);
	CHECK_MEM(res.tag, tag, sizeof(tag));
	r.sha256 = true;
	CHECK_INT(check_known(auth, &r, SA(&client), NOW, &known, &res),
		  AUTH_OK);
	CHECK(res.sha256);
	/* A struct auth built again from the same config takes it too. */
	r.sha256 = false;
	CHECK_INT(check_known(same, &r, SA(&client), NOW, &known, &res),
		  AUTH_OK);

	/* The secret is gone (a reload): the key is not taken, whatever
	 * the tag says, and the request fails as it would without. */
	CHECK_INT(check_known(without, &r, SA(&client), NOW, &known, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_BAD_INTEGRITY);
	CHECK_INT(check_known(added, &r, SA(&client), NOW, &known, &res),
		  AUTH_WRONG_CREDENTIALS);
	known.tag = zero;
	CHECK_INT(check_known(without, &r, SA(&client), NOW, &known, &res),
		  AUTH_WRONG_CREDENTIALS);
	/* Another realm: refused before any key is looked at. */
	known.tag = tag;
	CHECK_INT(check_known(other_realm, &r, SA(&client), NOW, &known, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_REALM_MISMATCH);

	/* Expired since: 401 rest_expired, as without the cache. */
	CHECK_INT(check_known(auth, &r, SA(&client), 1700000601, &known, &res),
		  AUTH_STALE_NONCE);
	{
		char late[AUTH_NONCE_LEN + 1];

		CHECK_INT(auth_nonce_make(nonce_key, SA(&client), 1700000601,
					  600, late, sizeof(late)),
			  0);
		r.nonce = late;
		CHECK_INT(check_known(auth, &r, SA(&client), 1700000601, &known,
				      &res),
			  AUTH_WRONG_CREDENTIALS);
		CHECK_INT(res.reason, AUTH_REASON_REST_EXPIRED);
		r.nonce = nonce;
	}

	/* Another username with the cached key: not taken for it. */
	r = (struct req){ "1700000600:bob", REALM, nonce, key, false, NULL };
	CHECK_INT(check_known(auth, &r, SA(&client), NOW, &known, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_BAD_INTEGRITY);
	/* A longer name with the cached one as its prefix, likewise. */
	r.username = "1700000600:alice2";
	CHECK_INT(check_known(auth, &r, SA(&client), NOW, &known, &res),
		  AUTH_WRONG_CREDENTIALS);

	/* A request signed with another key while one is cached: the full
	 * check still runs, so the north key of the same name works and a
	 * wrong one fails. */
	rest_key_of("north", name, wrong, pw);
	r = (struct req){ name, REALM, nonce, wrong, false, NULL };
	CHECK_INT(check_known(auth, &r, SA(&client), NOW, &known, &res),
		  AUTH_OK);
	CHECK_MEM(res.key, wrong, 16);
	memset(wrong, 0x5a, sizeof(wrong));
	CHECK_INT(check_known(auth, &r, SA(&client), NOW, &known, &res),
		  AUTH_WRONG_CREDENTIALS);
	CHECK_INT(res.reason, AUTH_REASON_BAD_INTEGRITY);

	/* The cached key is taken as given, since only auth_check()'s own
	 * results are kept: a request signed with it passes under a struct
	 * auth with the tag, and not under one without the secret. */
	known.key = wrong;
	r = (struct req){ name, REALM, nonce, wrong, false, NULL };
	CHECK_INT(check_known(auth, &r, SA(&client), NOW, &known, &res),
		  AUTH_OK);
	CHECK_INT(check_known(without, &r, SA(&client), NOW, &known, &res),
		  AUTH_WRONG_CREDENTIALS);
done:
	auth_free(auth);
	auth_free(same);
	auth_free(without);
	auth_free(other_realm);
	auth_free(added);
}

/* digest_hash() and digest_hmac() with and without a struct digest_ctx,
 * against OpenSSL's one-shot functions. */
static void
test_digests(void)
{
	static const char text[] =
		"The quick brown fox jumps over the lazy dog";
	const struct digest_chunk whole = { text, sizeof(text) - 1 };
	const struct digest_chunk parts[3] = { { text, 4 },
					       { text + 4, 0 },
					       { text + 4, sizeof(text) - 5 } };
	static const char *const names[] = { "MD5", "SHA1", "SHA256" };
	uint8_t want[EVP_MAX_MD_SIZE], got[DIGEST_MAX];
	uint8_t longkey[200];
	unsigned int wlen;

	memset(longkey, 0x42, sizeof(longkey));
	for (int d = 0; d < DIGEST_N; d++) {
		const EVP_MD *md = EVP_get_digestbyname(names[d]);

		CHECK(EVP_Digest(text, sizeof(text) - 1, want, &wlen, md,
				 NULL) == 1);
		CHECK_INT(digest_hash(crypto, d, &whole, 1, got), wlen);
		CHECK_MEM(got, want, wlen);
		CHECK_INT(digest_hash(NULL, d, parts, 3, got), wlen);
		CHECK_MEM(got, want, wlen);
		/* HMAC, with a short key and with one longer than a block. */
		HMAC(md, "key", 3, (const uint8_t *)text, sizeof(text) - 1,
		     want, &wlen);
		CHECK_INT(digest_hmac(crypto, d, "key", 3, parts, 3, got),
			  wlen);
		CHECK_MEM(got, want, wlen);
		CHECK_INT(digest_hmac(NULL, d, "key", 3, &whole, 1, got), wlen);
		CHECK_MEM(got, want, wlen);
		HMAC(md, longkey, sizeof(longkey), (const uint8_t *)text,
		     sizeof(text) - 1, want, &wlen);
		CHECK_INT(digest_hmac(crypto, d, longkey, sizeof(longkey),
				      parts, 3, got),
			  wlen);
		CHECK_MEM(got, want, wlen);
	}
	/* Used again after all that, the one context starts afresh. */
	HMAC(EVP_sha1(), "", 0, NULL, 0, want, &wlen);
	CHECK_INT(digest_hmac(crypto, DIGEST_SHA1, "", 0, NULL, 0, got), 20);
	CHECK_MEM(got, want, 20);
	digest_ctx_free(NULL);
}

/* base64url: RFC 4648 section 10's vectors, in the URL alphabet and
 * without padding, both ways; the characters of the URL alphabet; and
 * what decoding refuses. */
static void
test_base64url(void)
{
	static const struct {
		const char *raw, *text;
	} vec[] = {
		{ "", "" },
		{ "f", "Zg" },
		{ "fo", "Zm8" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const uint8_t hi[] = { 0xfb, 0xff, 0xbf };
	char text[16];
	uint8_t raw[16];

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n = strlen(vec[i].raw);

		CHECK_INT(
			base64url_encode((const uint8_t *)vec[i].raw, n, text),
			BASE64URL_LEN(n));
		CHECK_STR(text, vec[i].text);
		CHECK_INT(base64url_decode(vec[i].text, strlen(vec[i].text),
					   raw, sizeof(raw)),
			  n);
		CHECK_MEM(raw, vec[i].raw, n);
	}
	base64url_encode(hi, sizeof(hi), text);
	CHECK_STR(text, "-_-_");
	CHECK_INT(base64url_decode("-_-_", 4, raw, sizeof(raw)), 3);
	CHECK_MEM(raw, hi, 3);
	CHECK_INT(base64url_decode("Zm9v+g", 6, raw, sizeof(raw)), -1);
	CHECK_INT(base64url_decode("Zm9v=", 5, raw, sizeof(raw)), -1);
	CHECK_INT(base64url_decode("Zm9vY", 5, raw, sizeof(raw)), -1);
	CHECK_INT(base64url_decode("Zh", 2, raw, sizeof(raw)), -1);
	CHECK_INT(base64url_decode("Zm9", 3, raw, sizeof(raw)), -1);
	CHECK_INT(base64url_decode("Zm-", 3, raw, sizeof(raw)), -1);
	CHECK_INT(base64url_decode("Zm9vYmFy", 8, raw, 5), -1);
}

int
main(void)
{
	crypto = digest_ctx_new();
	CHECK(crypto != NULL);
	test_base64url();
	test_digests();
	test_known();
	test_long_term_key();
	test_parse_key();
	test_users();
	test_auth_new_errors();
	test_rest_password();
	test_rest_keys();
	test_nonce();
	test_check();
	digest_ctx_free(crypto);
	return unit_done("test_auth");
}
