/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * auth.c: long-term credentials (RFC 8489 section 9.2, as RFC 8656 uses
 * them), TURN REST API credentials and stateless nonces.
 *
 * A config builds one struct auth: the realm, a small open-addressing hash
 * table of static users whose keys are computed once for that realm, and
 * the REST secrets.  It never changes afterwards, so a reload builds a new
 * one and frees the old.  auth_check() then decides about each request
 * from that struct, the parsed message, the client's address and a time
 * the caller gives: no socket, no clock, no log, no global but constant
 * tables, no heap memory but what OpenSSL takes inside its calls.
 *
 * Not here: building the 401/438 responses, counting, SASLprep (RFC 8265
 * OpaqueString; bytes are used as given, which is what coturn does without
 * libidn), USERHASH and the RFC 8489 "nonce cookie" with its password
 * algorithms, oAuth (RFC 7635), and which user owns which allocation.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "base64url.h"
#include "bytes.h"
#include "stun.h"

#define SHA1_SIZE       20
#define SHA256_SIZE     32
#define NONCE_MAC_SIZE  16                   /* HMAC-SHA256 truncated */
#define NONCE_RAW_SIZE  (8 + NONCE_MAC_SIZE) /* expiry, MAC: 32 chars */
#define USERS_MIN_SLOTS 8
#define KEY_PREFIX      "0x"
#define KEY_HEX_LEN     (2 * AUTH_KEY_SIZE)

/* Domain separation: the nonce key signs nothing else, but say so. */
static const char nonce_label[] = "turnpike nonce 1";
static const char tag_label[] = "turnpike auth tag 1";

static const char *const reason_names[AUTH_NREASONS] = {
	[AUTH_REASON_NONE] = "none",
	[AUTH_REASON_NO_CREDENTIALS] = "no_credentials",
	[AUTH_REASON_MISSING_ATTRIBUTE] = "missing_attribute",
	[AUTH_REASON_STALE_NONCE] = "stale_nonce",
	[AUTH_REASON_BAD_NONCE] = "bad_nonce",
	[AUTH_REASON_REALM_MISMATCH] = "realm_mismatch",
	[AUTH_REASON_BAD_USERNAME] = "bad_username",
	[AUTH_REASON_UNKNOWN_USER] = "unknown_user",
	[AUTH_REASON_REST_MALFORMED] = "rest_malformed",
	[AUTH_REASON_REST_EXPIRED] = "rest_expired",
	[AUTH_REASON_REST_FUTURE] = "rest_future",
	[AUTH_REASON_BAD_INTEGRITY] = "bad_integrity",
	[AUTH_REASON_INTERNAL] = "internal",
};

/* One slot of the users table; name is NULL in an empty slot. */
struct auth_user {
	const char *name; /* into auth->names */
	size_t len;
	uint8_t key[AUTH_KEY_SIZE];
};

struct auth {
	char *realm;
	size_t realm_len;
	struct auth_user *slots; /* nslots, a power of two, at most half full */
	size_t nslots;
	size_t nusers;
	char *names; /* every user name, each NUL-terminated */
	char *secrets[AUTH_MAX_SECRETS];
	size_t nsecrets;
	uint32_t rest_max_ttl;
	uint32_t nonce_ttl;
	uint8_t tag[AUTH_TAG_SIZE]; /* of the realm and secrets: auth_known */
};

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* FNV-1a: the names are the operator's, not a peer's, so a table a peer
 * could flood cannot arise; a lookup only ever probes what config made. */
static uint32_t
name_hash(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len-- > 0) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

int
auth_long_term_key(struct digest_ctx *crypto, const void *username,
		   size_t username_len, const void *realm, size_t realm_len,
		   const void *password, size_t password_len,
		   uint8_t key[AUTH_KEY_SIZE])
{
	/* RFC 8489 section 9.2.2: key = MD5(username ":" OpaqueString(realm)
	 * ":" OpaqueString(password)), hashed piecewise so that no copy of
	 * the password is left to wipe. */
	const struct digest_chunk in[5] = {
		{ username, username_len }, { ":", 1 },
		{ realm, realm_len },       { ":", 1 },
		{ password, password_len },
	};
	uint8_t md[DIGEST_MAX];
	int rc;

	rc = digest_hash(crypto, DIGEST_MD5, in, 5, md) == AUTH_KEY_SIZE ? 0
									 : -1;
	if (rc == 0)
		memcpy(key, md, AUTH_KEY_SIZE);
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

int
auth_parse_key(const char *s, uint8_t key[AUTH_KEY_SIZE])
{
	uint8_t out[AUTH_KEY_SIZE];
	int hi, lo;
	size_t i;

	if (strncmp(s, KEY_PREFIX, strlen(KEY_PREFIX)) != 0)
		return -1;
	s += strlen(KEY_PREFIX);
	if (strlen(s) != KEY_HEX_LEN)
		return -1;
	for (i = 0; i < AUTH_KEY_SIZE; i++) {
		if ((hi = hex_value(s[2 * i])) < 0 ||
		    (lo = hex_value(s[2 * i + 1])) < 0) {
			OPENSSL_cleanse(out, sizeof(out));
			return -1;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(key, out, AUTH_KEY_SIZE);
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

/* The slot where name is, or the empty slot where it would go. */
static struct auth_user *
users_slot(const struct auth *auth, const void *name, size_t len)
{
	size_t mask = auth->nslots - 1;
	size_t i = name_hash(name, len) & mask;
	struct auth_user *u;

	for (;; i = (i + 1) & mask) {
		u = &auth->slots[i];
		if (u->name == NULL ||
		    (u->len == len && memcmp(u->name, name, len) == 0))
			return u;
	}
}

const uint8_t *
auth_find_user(const struct auth *auth, const void *name, size_t len)
{
	const struct auth_user *u;

	if (auth->nusers == 0 || len == 0 || len > AUTH_USERNAME_MAX)
		return NULL;
	u = users_slot(auth, name, len);
	return u->name != NULL ? u->key : NULL;
}

const char *
auth_realm(const struct auth *auth)
{
	return auth->realm;
}

void
auth_free(struct auth *auth)
{
	size_t i;

	if (auth == NULL)
		return;
	if (auth->slots != NULL) {
		OPENSSL_cleanse(auth->slots,
				auth->nslots * sizeof(*auth->slots));
		free(auth->slots);
	}
	free(auth->names);
	for (i = 0; i < auth->nsecrets; i++) {
		OPENSSL_cleanse(auth->secrets[i], strlen(auth->secrets[i]));
		free(auth->secrets[i]);
	}
	free(auth->realm);
	free(auth);
}

/*
 * The tag of auth (struct auth_known): SHA-256 of the realm and the REST
 * secrets, each after its length, truncated.  Two struct auth with the
 * same tag derive the same REST keys.  0, or -1 if OpenSSL fails.
 */
static int
auth_make_tag(struct auth *auth)
{
	struct digest_chunk in[1 + 2 * (1 + AUTH_MAX_SECRETS)];
	uint8_t lens[1 + AUTH_MAX_SECRETS][4];
	uint8_t md[DIGEST_MAX];
	size_t i, n = 0;
	int rc = -1;

	in[n++] = (struct digest_chunk){ tag_label, sizeof(tag_label) };
	for (i = 0; i <= auth->nsecrets; i++) {
		const char *v = i == 0 ? auth->realm : auth->secrets[i - 1];
		size_t len = strlen(v);

		lens[i][0] = (uint8_t)(len >> 24);
		lens[i][1] = (uint8_t)(len >> 16);
		lens[i][2] = (uint8_t)(len >> 8);
		lens[i][3] = (uint8_t)len;
		in[n++] = (struct digest_chunk){ lens[i], 4 };
		in[n++] = (struct digest_chunk){ v, len };
	}
	if (digest_hash(NULL, DIGEST_SHA256, in, n, md) == SHA256_SIZE) {
		memcpy(auth->tag, md, AUTH_TAG_SIZE);
		rc = 0;
	}
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

/* Fill the users table of auth from params; returns 0 or -1 with err. */
static int
users_build(struct auth *auth, const struct auth_params *params, char *err,
	    size_t errlen)
{
	const struct auth_user_def *def;
	struct auth_user *u;
	size_t i, len, size = 0;
	char *p;

	if (params->nusers > SIZE_MAX / 4 / sizeof(*auth->slots)) {
		snprintf(err, errlen, "too many users");
		return -1;
	}
	for (auth->nslots = USERS_MIN_SLOTS; auth->nslots < 2 * params->nusers;)
		auth->nslots *= 2;
	for (i = 0; i < params->nusers; i++) {
		def = &params->users[i];
		if (def->name == NULL || (len = strlen(def->name)) == 0 ||
		    len > AUTH_USERNAME_MAX) {
			snprintf(err, errlen,
				 "user %zu: the name must be 1 to %d bytes",
				 i + 1, AUTH_USERNAME_MAX);
			return -1;
		}
		size += len + 1;
	}
	auth->slots = calloc(auth->nslots, sizeof(*auth->slots));
	auth->names = malloc(size > 0 ? size : 1);
	if (auth->slots == NULL || auth->names == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}

	p = auth->names;
	for (i = 0; i < params->nusers; i++) {
		def = &params->users[i];
		len = strlen(def->name);
		u = users_slot(auth, def->name, len);
		if (u->name != NULL) {
			snprintf(err, errlen, "user \"%s\": defined twice",
				 def->name);
			return -1;
		}
		if (def->secret == NULL || def->secret[0] == '\0') {
			snprintf(err, errlen, "user \"%s\": empty password",
				 def->name);
			return -1;
		}
		if (strncmp(def->secret, KEY_PREFIX, strlen(KEY_PREFIX)) == 0) {
			if (auth_parse_key(def->secret, u->key) == -1) {
				snprintf(err, errlen,
					 "user \"%s\": a key is \"0x\" and "
					 "%d hex digits",
					 def->name, KEY_HEX_LEN);
				return -1;
			}
		} else if (auth_long_term_key(NULL, def->name, len, auth->realm,
					      auth->realm_len, def->secret,
					      strlen(def->secret),
					      u->key) == -1) {
			snprintf(err, errlen, "user \"%s\": MD5 failed",
				 def->name);
			return -1;
		}
		memcpy(p, def->name, len + 1);
		u->name = p;
		u->len = len;
		p += len + 1;
		auth->nusers++;
	}
	return 0;
}

struct auth *
auth_new(const struct auth_params *params, char *err, size_t errlen)
{
	struct auth *auth;
	size_t i;

	if (params->realm == NULL || params->realm[0] == '\0' ||
	    strlen(params->realm) > AUTH_REALM_MAX) {
		snprintf(err, errlen, "the realm must be 1 to %d bytes",
			 AUTH_REALM_MAX);
		return NULL;
	}
	if (params->nrest_secrets > AUTH_MAX_SECRETS) {
		snprintf(err, errlen, "at most %d REST secrets",
			 AUTH_MAX_SECRETS);
		return NULL;
	}
	if (params->nonce_ttl == 0 || params->rest_max_ttl == 0) {
		snprintf(err, errlen, "the nonce and REST TTLs must be > 0");
		return NULL;
	}
	if ((auth = calloc(1, sizeof(*auth))) == NULL ||
	    (auth->realm = strdup(params->realm)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(auth);
		return NULL;
	}
	auth->realm_len = strlen(auth->realm);
	auth->rest_max_ttl = params->rest_max_ttl;
	auth->nonce_ttl = params->nonce_ttl;

	for (i = 0; i < params->nrest_secrets; i++) {
		if (params->rest_secrets[i] == NULL ||
		    params->rest_secrets[i][0] == '\0' ||
		    strlen(params->rest_secrets[i]) > INT_MAX) {
			snprintf(err, errlen,
				 "REST secret %zu: empty or too long", i + 1);
			goto fail;
		}
		if ((auth->secrets[i] = strdup(params->rest_secrets[i])) ==
		    NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		auth->nsecrets++;
	}
	if (users_build(auth, params, err, errlen) == -1)
		goto fail;
	if (auth_make_tag(auth) == -1) {
		snprintf(err, errlen, "SHA-256 failed");
		goto fail;
	}
	return auth;
fail:
	auth_free(auth);
	return NULL;
}

int
auth_rest_password(struct digest_ctx *crypto, const char *secret,
		   const void *username, size_t username_len,
		   char out[AUTH_REST_PASSWORD_LEN + 1])
{
	const struct digest_chunk in = { username, username_len };
	uint8_t mac[DIGEST_MAX];
	int n = -1;

	/* draft-uberti-behave-turn-rest-00 section 2.2: password =
	 * base64(HMAC(secret key, username)), SHA-1 as coturn uses it. */
	if (digest_hmac(crypto, DIGEST_SHA1, secret, strlen(secret), &in, 1,
			mac) == SHA1_SIZE)
		n = EVP_EncodeBlock((unsigned char *)out, mac, SHA1_SIZE);
	OPENSSL_cleanse(mac, sizeof(mac));
	return n == AUTH_REST_PASSWORD_LEN ? 0 : -1;
}

int
auth_rest_mint(const char *secret, const char *suffix, int64_t expiry,
	       char *username, size_t usercap,
	       char password[AUTH_REST_PASSWORD_LEN + 1])
{
	int n;

	if (expiry < 0)
		return -1;
	if (suffix != NULL)
		n = snprintf(username, usercap, "%" PRId64 ":%s", expiry,
			     suffix);
	else
		n = snprintf(username, usercap, "%" PRId64, expiry);
	if (n < 0 || (size_t)n >= usercap || n > AUTH_USERNAME_MAX)
		return -1;
	return auth_rest_password(NULL, secret, username, (size_t)n, password);
}

/*
 * The expiry of a REST username: the decimal digits before the first ':',
 * or the whole name when there is none.  A number too large for int64_t
 * comes back as INT64_MAX, too far ahead of any real clock.
 */
static enum auth_reason
rest_expiry(const uint8_t *name, size_t len, int64_t *expiry)
{
	const uint8_t *colon = memchr(name, ':', len);
	size_t i, digits = colon != NULL ? (size_t)(colon - name) : len;
	int64_t v = 0;

	if (digits == 0)
		return AUTH_REASON_REST_MALFORMED;
	for (i = 0; i < digits; i++) {
		if (name[i] < '0' || name[i] > '9')
			return AUTH_REASON_REST_MALFORMED;
		if (v > (INT64_MAX - (name[i] - '0')) / 10)
			v = INT64_MAX;
		else
			v = v * 10 + (name[i] - '0');
	}
	*expiry = v;
	return AUTH_REASON_NONE;
}

/*
 * Whether username is a REST username good at now: AUTH_REASON_NONE with
 * its expiry in *expiry, or why not (see auth_rest_keys()).
 */
static enum auth_reason
rest_window(const struct auth *auth, const void *username, size_t username_len,
	    int64_t now, int64_t *expiry)
{
	enum auth_reason reason;
	int64_t when = 0;

	if (auth->nsecrets == 0)
		return AUTH_REASON_UNKNOWN_USER;
	if (username_len == 0 || username_len > AUTH_USERNAME_MAX)
		return AUTH_REASON_REST_MALFORMED;
	if ((reason = rest_expiry(username, username_len, &when)) !=
	    AUTH_REASON_NONE)
		return reason;
	if (when < now)
		return AUTH_REASON_REST_EXPIRED;
	/* when >= now, so the difference fits in uint64_t even for a
	 * negative now. */
	if ((uint64_t)when - (uint64_t)now > auth->rest_max_ttl)
		return AUTH_REASON_REST_FUTURE;
	*expiry = when;
	return AUTH_REASON_NONE;
}

/* auth_rest_keys() with the digests of crypto (NULL: fetched per call). */
static enum auth_reason
rest_keys(const struct auth *auth, struct digest_ctx *crypto,
	  const void *username, size_t username_len, int64_t now,
	  uint8_t keys[][AUTH_KEY_SIZE], size_t *nkeys, int64_t *expiry)
{
	char password[AUTH_REST_PASSWORD_LEN + 1];
	enum auth_reason reason;
	int64_t when = 0;
	size_t i;

	*nkeys = 0;
	*expiry = 0;
	if ((reason = rest_window(auth, username, username_len, now, &when)) !=
	    AUTH_REASON_NONE)
		return reason;
	for (i = 0; i < auth->nsecrets; i++) {
		if (auth_rest_password(crypto, auth->secrets[i], username,
				       username_len, password) == -1 ||
		    auth_long_term_key(crypto, username, username_len,
				       auth->realm, auth->realm_len, password,
				       AUTH_REST_PASSWORD_LEN, keys[i]) == -1) {
			OPENSSL_cleanse(password, sizeof(password));
			OPENSSL_cleanse(keys, i * AUTH_KEY_SIZE);
			return AUTH_REASON_INTERNAL;
		}
	}
	OPENSSL_cleanse(password, sizeof(password));
	*nkeys = auth->nsecrets;
	*expiry = when;
	return AUTH_REASON_NONE;
}

enum auth_reason
auth_rest_keys(const struct auth *auth, const void *username,
	       size_t username_len, int64_t now, uint8_t keys[][AUTH_KEY_SIZE],
	       size_t *nkeys, int64_t *expiry)
{
	return rest_keys(auth, NULL, username, username_len, now, keys, nkeys,
			 expiry);
}

/* The client's IP address as 16 bytes, IPv4 mapped; 0 or -1. */
static int
client_ip(const struct sockaddr *sa, uint8_t ip[16])
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memset(ip, 0, 10);
		ip[10] = 0xff;
		ip[11] = 0xff;
		memcpy(ip + 12, &sin->sin_addr, 4);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(ip, &sin6->sin6_addr, 16);
		return 0;
	default:
		return -1;
	}
}

/* HMAC-SHA256(key, label || expiry || ip), its first NONCE_MAC_SIZE bytes
 * into mac; 0 or -1. */
static int
nonce_mac(struct digest_ctx *crypto, const uint8_t key[AUTH_NONCE_KEY_SIZE],
	  const uint8_t ip[16], uint64_t expiry, uint8_t mac[NONCE_MAC_SIZE])
{
	uint8_t when[8];
	const struct digest_chunk in[3] = {
		{ nonce_label, sizeof(nonce_label) },
		{ when, sizeof(when) },
		{ ip, 16 },
	};
	uint8_t full[DIGEST_MAX];
	int rc = -1;

	put64(when, expiry);
	if (digest_hmac(crypto, DIGEST_SHA256, key, AUTH_NONCE_KEY_SIZE, in, 3,
			full) == SHA256_SIZE) {
		memcpy(mac, full, NONCE_MAC_SIZE);
		rc = 0;
	}
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

/* auth_nonce_make() with the digests of crypto. */
static int
nonce_make(struct digest_ctx *crypto, const uint8_t key[AUTH_NONCE_KEY_SIZE],
	   const struct sockaddr *client, int64_t now, uint32_t ttl, char *out,
	   size_t outlen)
{
	uint8_t raw[NONCE_RAW_SIZE], ip[16];

	if (now < 0 || outlen <= AUTH_NONCE_LEN || client_ip(client, ip) == -1)
		return -1;
	put64(raw, (uint64_t)now + ttl);
	if (nonce_mac(crypto, key, ip, get64(raw), raw + 8) == -1)
		return -1;
	/* base64url: no quote or backslash, as RFC 8489 section 14.10
	 * wants of a NONCE, and 32 characters, far below its 763 bytes. */
	base64url_encode(raw, NONCE_RAW_SIZE, out);
	return 0;
}

/* auth_nonce_check() with the digests of crypto. */
static enum auth_nonce_result
nonce_check(struct digest_ctx *crypto, const uint8_t key[AUTH_NONCE_KEY_SIZE],
	    const struct sockaddr *client, int64_t now, const void *nonce,
	    size_t len)
{
	uint8_t raw[NONCE_RAW_SIZE], ip[16], mac[NONCE_MAC_SIZE];
	uint64_t expiry;

	if (len != AUTH_NONCE_LEN || client_ip(client, ip) == -1 ||
	    base64url_decode(nonce, len, raw, sizeof(raw)) != NONCE_RAW_SIZE)
		return AUTH_NONCE_BAD;
	expiry = get64(raw);
	if (nonce_mac(crypto, key, ip, expiry, mac) == -1 ||
	    CRYPTO_memcmp(mac, raw + 8, NONCE_MAC_SIZE) != 0)
		return AUTH_NONCE_BAD;
	/* Only we sign nonces, and never with an expiry past INT64_MAX. */
	if (expiry > (uint64_t)INT64_MAX || (int64_t)expiry < now)
		return AUTH_NONCE_STALE;
	return AUTH_NONCE_OK;
}

int
auth_nonce_make(const uint8_t key[AUTH_NONCE_KEY_SIZE],
		const struct sockaddr *client, int64_t now, uint32_t ttl,
		char *out, size_t outlen)
{
	return nonce_make(NULL, key, client, now, ttl, out, outlen);
}

enum auth_nonce_result
auth_nonce_check(const uint8_t key[AUTH_NONCE_KEY_SIZE],
		 const struct sockaddr *client, int64_t now, const void *nonce,
		 size_t len)
{
	return nonce_check(NULL, key, client, now, nonce, len);
}

/* Fill res for a refusal, with a fresh nonce when the answer carries one;
 * a nonce that cannot be made turns the answer into a 500. */
static enum auth_status
refuse(const struct auth *auth, const struct auth_request *rq,
       struct auth_result *res, enum auth_status status,
       enum auth_reason reason)
{
	res->status = status;
	res->reason = reason;
	if (status != AUTH_BAD_REQUEST && status != AUTH_SERVER_ERROR &&
	    nonce_make(rq->crypto, rq->nonce_key, rq->client, rq->now,
		       auth->nonce_ttl, res->nonce, sizeof(res->nonce)) == -1) {
		res->status = AUTH_SERVER_ERROR;
		res->reason = AUTH_REASON_INTERNAL;
	}
	switch (res->status) {
	case AUTH_OK: /* not a refusal */
		break;
	case AUTH_BAD_REQUEST:
		res->error_code = STUN_ERR_BAD_REQUEST;
		break;
	case AUTH_STALE_NONCE:
		res->error_code = STUN_ERR_STALE_NONCE;
		break;
	case AUTH_CHALLENGE:
	case AUTH_WRONG_CREDENTIALS:
		res->error_code = STUN_ERR_UNAUTHORIZED;
		break;
	case AUTH_SERVER_ERROR:
		res->error_code = STUN_ERR_SERVER_ERROR;
		break;
	}
	return res->status;
}

/*
 * Usernames with control characters (a NUL would cut one user's quota in
 * two), a double quote or a backslash (they would forge a log line) are
 * not valid: no real credential needs them.
 */
static bool
auth_username_clean(const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x20 || name[i] == 0x7f || name[i] == '"' ||
		    name[i] == '\\')
			return false;
	return true;
}

/*
 * Whether rq->known holds a key good for the request from name[0..len):
 * accepted by a struct auth with the realm and secrets of this one, for
 * this username, still inside its REST window, and matching the request's
 * integrity.  Fills *expiry when it does.
 */
static bool
known_key_fits(const struct auth *auth, const struct auth_request *rq,
	       bool sha256, const uint8_t *name, size_t len, int64_t *expiry)
{
	const struct auth_known *k = rq->known;

	if (k == NULL || k->username == NULL ||
	    CRYPTO_memcmp(k->tag, auth->tag, AUTH_TAG_SIZE) != 0 ||
	    strlen(k->username) != len || memcmp(k->username, name, len) != 0 ||
	    rest_window(auth, name, len, rq->now, expiry) != AUTH_REASON_NONE)
		return false;
	return stun_check_integrity_with(rq->crypto, rq->msg, sha256, k->key,
					 AUTH_KEY_SIZE);
}

enum auth_status
auth_check(const struct auth *auth, const struct auth_request *rq,
	   struct auth_result *res)
{
	uint8_t keys[1 + AUTH_MAX_SECRETS][AUTH_KEY_SIZE];
	const struct stun_msg *req = rq->msg;
	const struct stun_attr *username, *realm, *nonce;
	const uint8_t *name, *static_key;
	enum auth_reason reason = AUTH_REASON_NONE;
	enum auth_status status;
	size_t i, nkeys = 0, nrest = 0;
	int64_t expiry = 0;
	bool sha256, ok;

	memset(res, 0, sizeof(*res));

	/* RFC 8489 section 9.2.4: "If the message does not contain a
	 * MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 attribute, the
	 * server MUST generate an error response with an error code of 401
	 * (Unauthenticated)", with REALM and NONCE. */
	if (req->integrity < 0 && req->integrity_sha256 < 0)
		return refuse(auth, rq, res, AUTH_CHALLENGE,
			      AUTH_REASON_NO_CREDENTIALS);

	/* "If the message contains a MESSAGE-INTEGRITY or a
	 * MESSAGE-INTEGRITY-SHA256 attribute, but is missing either the
	 * USERNAME or USERHASH, REALM, or NONCE attribute, the server MUST
	 * generate an error response with an error code of 400 (Bad
	 * Request)."  USERHASH alone counts as missing: it needs the nonce
	 * cookie, which we do not offer. */
	username = stun_find(req, STUN_ATTR_USERNAME);
	realm = stun_find(req, STUN_ATTR_REALM);
	nonce = stun_find(req, STUN_ATTR_NONCE);
	if (username == NULL || realm == NULL || nonce == NULL)
		return refuse(auth, rq, res, AUTH_BAD_REQUEST,
			      AUTH_REASON_MISSING_ATTRIBUTE);

	/* "If the NONCE is no longer valid, the server MUST generate an
	 * error response with an error code of 438 (Stale Nonce)."  We check
	 * it before the username, in RFC 5389 section 10.2.2's order: it is
	 * the cheapest check, and junk stops there.  A nonce
	 * we did not make for this client is no more valid than an old one:
	 * a client back from a server restart gets a new one this way. */
	switch (nonce_check(rq->crypto, rq->nonce_key, rq->client, rq->now,
			    stun_attr_value(req, nonce), nonce->len)) {
	case AUTH_NONCE_OK:
		break;
	case AUTH_NONCE_STALE:
		return refuse(auth, rq, res, AUTH_STALE_NONCE,
			      AUTH_REASON_STALE_NONCE);
	case AUTH_NONCE_BAD:
		return refuse(auth, rq, res, AUTH_STALE_NONCE,
			      AUTH_REASON_BAD_NONCE);
	}

	/* Another realm's credentials cannot be ours: 401 with our REALM,
	 * so the client can start over with it. */
	if (realm->len != auth->realm_len ||
	    memcmp(stun_attr_value(req, realm), auth->realm, auth->realm_len) !=
		    0)
		return refuse(auth, rq, res, AUTH_WRONG_CREDENTIALS,
			      AUTH_REASON_REALM_MISMATCH);

	/* "If the value of the USERNAME or USERHASH attribute is not valid,
	 * the server MUST generate an error response with an error code of
	 * 401 (Unauthenticated)." */
	name = stun_attr_value(req, username);
	if (username->len == 0 || username->len > AUTH_USERNAME_MAX ||
	    !auth_username_clean(name, username->len))
		return refuse(auth, rq, res, AUTH_WRONG_CREDENTIALS,
			      AUTH_REASON_BAD_USERNAME);

	/* RFC 8489 section 9.2.4: MESSAGE-INTEGRITY-SHA256 is checked when
	 * present, MESSAGE-INTEGRITY otherwise, and a mismatch "MUST use an
	 * error code of 401 (Unauthenticated)".  Without PASSWORD-ALGORITHM
	 * (which needs the nonce cookie) both use the MD5 key of section
	 * 9.2.2. */
	sha256 = req->integrity_sha256 >= 0;

	/* A REST key this allocation was made with, when it still fits,
	 * spares deriving every candidate key again. */
	if (known_key_fits(auth, rq, sha256, name, username->len, &expiry)) {
		memcpy(res->key, rq->known->key, AUTH_KEY_SIZE);
		res->rest = true;
		goto accepted;
	}

	if ((static_key = auth_find_user(auth, name, username->len)) != NULL)
		memcpy(keys[nkeys++], static_key, AUTH_KEY_SIZE);
	if (auth->nsecrets > 0) {
		reason = rest_keys(auth, rq->crypto, name, username->len,
				   rq->now, &keys[nkeys], &nrest, &expiry);
		nkeys += nrest;
	}
	if (nkeys == 0) {
		if (reason == AUTH_REASON_INTERNAL)
			status = AUTH_SERVER_ERROR;
		else
			status = AUTH_WRONG_CREDENTIALS;
		/* With static users too, a name that is not "<expiry>:..."
		 * is an unknown static user, not a broken REST one. */
		if (auth->nsecrets == 0 ||
		    (reason == AUTH_REASON_REST_MALFORMED && auth->nusers > 0))
			reason = AUTH_REASON_UNKNOWN_USER;
		return refuse(auth, rq, res, status, reason);
	}

	ok = false;
	for (i = 0; i < nkeys && !ok; i++) {
		ok = stun_check_integrity_with(rq->crypto, req, sha256, keys[i],
					       AUTH_KEY_SIZE);
		if (ok) {
			memcpy(res->key, keys[i], AUTH_KEY_SIZE);
			res->rest = static_key == NULL || i > 0;
		}
	}
	OPENSSL_cleanse(keys, sizeof(keys));
	if (!ok)
		return refuse(auth, rq, res, AUTH_WRONG_CREDENTIALS,
			      AUTH_REASON_BAD_INTEGRITY);

accepted:
	res->status = AUTH_OK;
	res->reason = AUTH_REASON_NONE;
	res->error_code = 0;
	res->sha256 = sha256;
	res->rest_expiry = res->rest ? expiry : 0;
	if (res->rest)
		memcpy(res->tag, auth->tag, AUTH_TAG_SIZE);
	res->username = name;
	res->username_len = username->len;
	return AUTH_OK;
}

void
auth_result_wipe(struct auth_result *res)
{
	OPENSSL_cleanse(res->key, sizeof(res->key));
}

const char *
auth_reason_name(enum auth_reason reason)
{
	if ((unsigned int)reason >= AUTH_NREASONS)
		return NULL;
	return reason_names[reason];
}
