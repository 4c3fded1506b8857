/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * auth.h: who may use the TURN server.  Long-term credentials (RFC 8489
 * section 9.2) from a table of static users, ephemeral credentials of the
 * TURN REST API (draft-uberti-behave-turn-rest, as coturn's
 * "use-auth-secret" does them), and stateless nonces, all brought together
 * in auth_check(), the one decision a TURN request handler asks for.
 *
 * A pure module: it opens no socket, reads no clock (the time is always a
 * parameter), logs nothing and keeps no state but the struct auth a config
 * builds.  It does not build responses, count failures or know what an
 * allocation is: it says which answer is due and why, and the caller sends
 * it and bumps the counter.  SASLprep / OpaqueString (RFC 8265) is out of
 * scope: usernames, realms and passwords are used as the bytes given.
 */
#ifndef TURNPIKE_AUTH_H
#define TURNPIKE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct digest_ctx;
struct stun_msg;

#define AUTH_KEY_SIZE             16    /* MD5, RFC 8489 section 9.2.2 */
#define AUTH_USERNAME_MAX         513   /* RFC 8489 section 14.3 says < 509 */
#define AUTH_REALM_MAX            763   /* RFC 8489 section 14.9 */
#define AUTH_MAX_SECRETS          8     /* REST secrets in force at once */
#define AUTH_NONCE_KEY_SIZE       32    /* the server's random nonce key */
#define AUTH_NONCE_LEN            32    /* characters of a nonce, without NUL */
#define AUTH_REST_PASSWORD_LEN    28    /* base64 of HMAC-SHA1, without NUL */
#define AUTH_REST_MAX_TTL_DEFAULT 86400 /* seconds */
#define AUTH_NONCE_TTL_DEFAULT    600   /* seconds, as coturn's stale-nonce */
#define AUTH_TAG_SIZE             16    /* struct auth_known */

/*
 * What auth_check() decided, and the error code to answer with.  Every
 * answer but AUTH_OK and AUTH_BAD_REQUEST carries REALM and a fresh NONCE
 * (RFC 8489 section 9.2.4).  AUTH_WRONG_CREDENTIALS is answered with 401
 * (Unauthenticated), not with RFC 8656's 441, which is for a known user
 * who is not the owner of an allocation.
 */
enum auth_status {
	AUTH_OK = 0,            /* answer, signed with auth_result.key */
	AUTH_CHALLENGE,         /* 401 with REALM and NONCE */
	AUTH_BAD_REQUEST,       /* 400, without REALM, NONCE or integrity */
	AUTH_STALE_NONCE,       /* 438 with REALM and NONCE */
	AUTH_WRONG_CREDENTIALS, /* 401 with REALM and NONCE */
	AUTH_SERVER_ERROR,      /* 500: OpenSSL failed, or the client
				 * address is neither IPv4 nor IPv6 */
};

/* Why, for the counters: one per outcome that is not AUTH_OK. */
enum auth_reason {
	AUTH_REASON_NONE = 0,          /* AUTH_OK */
	AUTH_REASON_NO_CREDENTIALS,    /* no integrity attribute: challenge */
	AUTH_REASON_MISSING_ATTRIBUTE, /* integrity without USERNAME, REALM
					* or NONCE */
	AUTH_REASON_STALE_NONCE,       /* our nonce, expired */
	AUTH_REASON_BAD_NONCE,         /* not a nonce we made for this client
					* with this server key */
	AUTH_REASON_REALM_MISMATCH,    /* REALM is not ours */
	AUTH_REASON_BAD_USERNAME,      /* empty, or over AUTH_USERNAME_MAX */
	AUTH_REASON_UNKNOWN_USER,      /* neither a static nor a REST user */
	AUTH_REASON_REST_MALFORMED,    /* not "<expiry>[:...]" (auth_check:
					* only without static users) */
	AUTH_REASON_REST_EXPIRED,      /* REST expiry in the past */
	AUTH_REASON_REST_FUTURE,       /* REST expiry beyond max_ttl */
	AUTH_REASON_BAD_INTEGRITY,     /* a known user, a wrong key */
	AUTH_REASON_INTERNAL,          /* AUTH_SERVER_ERROR */
	AUTH_NREASONS
};

/* One static user, as the config gives it ("user = name:secret"). */
struct auth_user_def {
	const char *name;
	/* A plain password, or, when it starts with "0x", the key itself as
	 * 32 hex digits (coturn's rule: a password cannot start with "0x"). */
	const char *secret;
};

/* Everything auth_new() needs; none of it is kept, it is all copied. */
struct auth_params {
	const char *realm;
	const struct auth_user_def *users;
	size_t nusers;
	const char *const *rest_secrets; /* TURN REST shared secrets */
	size_t nrest_secrets;            /* 0 to AUTH_MAX_SECRETS */
	uint32_t rest_max_ttl;           /* seconds an expiry may be ahead */
	uint32_t nonce_ttl;              /* seconds a nonce is good for */
};

/* What the check found.  username points into the request's buffer. */
struct auth_result {
	enum auth_status status;
	enum auth_reason reason;
	int error_code;             /* 0, 400, 401, 438 or 500 */
	uint8_t key[AUTH_KEY_SIZE]; /* AUTH_OK: sign the response with it */
	bool sha256;                /* AUTH_OK: checked and signed with
				     * MESSAGE-INTEGRITY-SHA256 */
	bool rest;                  /* AUTH_OK: a TURN REST user */
	int64_t rest_expiry;        /* AUTH_OK and rest: its expiry */
	uint8_t tag[AUTH_TAG_SIZE]; /* AUTH_OK and rest: for auth_known;
				     * zero otherwise */
	const uint8_t *username;    /* AUTH_OK: the USERNAME value */
	size_t username_len;
	char nonce[AUTH_NONCE_LEN + 1]; /* 401 and 438: a fresh NONCE */
};

/*
 * A REST key auth_check() accepted before, kept by the allocation that
 * request made and offered back with each later request on it.  When the
 * request's USERNAME is this username, this key is tried first, which
 * spares deriving the candidate keys again (an HMAC-SHA1 and an MD5 per
 * secret).  tag is the auth_result's: it names the realm and REST secrets
 * of the struct auth that accepted the key, so a struct auth with others
 * (a reload that removed or replaced a secret) ignores the key.  The REST
 * expiry in the username and the request's integrity are checked each
 * time; a key that does not fit is ignored and the full check runs, so the
 * answer is the one auth_check() would give without it.
 */
struct auth_known {
	const char *username; /* NUL-terminated */
	const uint8_t *key;   /* AUTH_KEY_SIZE bytes */
	const uint8_t *tag;   /* AUTH_TAG_SIZE bytes */
};

/* What auth_check() is asked to decide, and with what. */
struct auth_request {
	const struct stun_msg *msg;
	const struct sockaddr *client;
	int64_t now; /* unix seconds: the nonce and REST clock */
	/* The server's nonce key, made at start and kept across reloads. */
	const uint8_t *nonce_key;       /* AUTH_NONCE_KEY_SIZE bytes */
	struct digest_ctx *crypto;      /* NULL: digests fetched per call */
	const struct auth_known *known; /* NULL when none */
};

/* auth.c */

/*
 * The long-term key of RFC 8489 section 9.2.2 with the default password
 * algorithm: MD5(username ":" realm ":" password), 16 bytes, into key.
 * Returns 0, or -1 if OpenSSL fails (MD5 is absent in FIPS mode).
 */
int auth_long_term_key(struct digest_ctx *crypto, const void *username,
		       size_t username_len, const void *realm, size_t realm_len,
		       const void *password, size_t password_len,
		       uint8_t key[AUTH_KEY_SIZE]);

/*
 * Parse a key written as "0x" and 32 hex digits of either case, as coturn
 * accepts it in "user=name:0x..." and turnadmin -k prints it, into key.
 * Returns 0, or -1 for a missing prefix, a wrong length or a non-hex digit.
 */
int auth_parse_key(const char *s, uint8_t key[AUTH_KEY_SIZE]);

/*
 * Build the authentication state of one config: the realm, a hash table of
 * the static users with their keys computed for that realm, and copies of
 * the REST secrets.  Returns a new struct auth, owned by the caller and
 * released with auth_free(), immutable until then; or NULL with the reason
 * in err (a bad realm, an empty or duplicate or overlong name, an empty
 * password, a bad "0x" key, too many or empty secrets, a zero TTL, or no
 * memory).  No user and no secret is allowed: every request then fails.
 */
struct auth *auth_new(const struct auth_params *params, char *err,
		      size_t errlen);

/* Wipe every key and secret and free; NULL is fine. */
void auth_free(struct auth *auth);

/* The realm, NUL-terminated, for the REALM attribute of a challenge. */
const char *auth_realm(const struct auth *auth);

/*
 * The key of the static user name[0..len), or NULL.  O(1): one hash and a
 * short probe.  The key belongs to auth and lives as long as it does.
 */
const uint8_t *auth_find_user(const struct auth *auth, const void *name,
			      size_t len);

/*
 * The TURN REST password of username: base64(HMAC-SHA1(secret, username)),
 * standard alphabet with padding, written NUL-terminated to
 * out[AUTH_REST_PASSWORD_LEN + 1].  crypto may be NULL, here and in
 * auth_long_term_key().  Returns 0, or -1 if OpenSSL fails.
 */
int auth_rest_password(struct digest_ctx *crypto, const char *secret,
		       const void *username, size_t username_len,
		       char out[AUTH_REST_PASSWORD_LEN + 1]);

/*
 * Mint a TURN REST credential, as a signaling service hands it to a
 * browser: username "<expiry>:<suffix>", or "<expiry>" alone when suffix
 * is NULL, NUL-terminated into username[usercap], and its password into
 * password[AUTH_REST_PASSWORD_LEN + 1].  Returns 0, or -1 when expiry is
 * negative, the username does not fit usercap or AUTH_USERNAME_MAX, or
 * OpenSSL fails.
 */
int auth_rest_mint(const char *secret, const char *suffix, int64_t expiry,
		   char *username, size_t usercap,
		   char password[AUTH_REST_PASSWORD_LEN + 1]);

/*
 * The candidate keys of a TURN REST username: one per secret of auth, in
 * their order, written to keys[] (room for AUTH_MAX_SECRETS), their count
 * to *nkeys and the expiry to *expiry.  The username is "<expiry>" or
 * "<expiry>:<anything>", expiry in decimal unix seconds.  now is the unix
 * time.  Returns AUTH_REASON_NONE, or with *nkeys 0:
 * AUTH_REASON_REST_MALFORMED (empty, over AUTH_USERNAME_MAX, or no decimal
 * timestamp), AUTH_REASON_REST_EXPIRED (expiry < now),
 * AUTH_REASON_REST_FUTURE (expiry > now + rest_max_ttl),
 * AUTH_REASON_UNKNOWN_USER (auth has no secrets) or AUTH_REASON_INTERNAL
 * (OpenSSL failed).  The caller wipes keys[] when done.
 */
enum auth_reason auth_rest_keys(const struct auth *auth, const void *username,
				size_t username_len, int64_t now,
				uint8_t keys[][AUTH_KEY_SIZE], size_t *nkeys,
				int64_t *expiry);

/* What auth_nonce_check() found. */
enum auth_nonce_result {
	AUTH_NONCE_OK = 0,
	AUTH_NONCE_STALE, /* ours and intact, but expired */
	AUTH_NONCE_BAD,   /* malformed, forged, another client's or key's */
};

/*
 * Make a nonce for client (AF_INET or AF_INET6; the port is not bound, so
 * a NAT rebinding or a new TCP connection keeps it), good until now + ttl:
 * the base64url encoding, without padding, of the expiry and a truncated
 * HMAC-SHA256 under key.  Writes AUTH_NONCE_LEN printable characters and
 * a NUL to out[outlen].  Returns 0, or -1 for another family, a negative
 * now, outlen <= AUTH_NONCE_LEN, or an OpenSSL failure.
 */
int auth_nonce_make(const uint8_t key[AUTH_NONCE_KEY_SIZE],
		    const struct sockaddr *client, int64_t now, uint32_t ttl,
		    char *out, size_t outlen);

/* Check nonce[0..len) (not NUL-terminated) for client at now. */
enum auth_nonce_result auth_nonce_check(const uint8_t key[AUTH_NONCE_KEY_SIZE],
					const struct sockaddr *client,
					int64_t now, const void *nonce,
					size_t len);

/*
 * The long-term credential check of RFC 8489 section 9.2.4 for the parsed
 * request rq->msg from rq->client.  Fills res, including a fresh nonce
 * when the answer needs one, and returns res->status.  The order: no
 * integrity (challenge), missing USERNAME, REALM or NONCE (400), the nonce
 * (438), the realm, the username, the integrity itself (401).  It reads
 * USERNAME, REALM, NONCE and the integrity attributes from the request,
 * nothing else, and does not care about the method.  A username that is
 * both a static user and a valid REST username is tried with every
 * candidate key, after rq->known's key.  Nothing is allocated but what
 * OpenSSL does inside; the caller wipes res->key when the response is sent
 * (auth_result_wipe()).
 */
enum auth_status auth_check(const struct auth *auth,
			    const struct auth_request *rq,
			    struct auth_result *res);

/* Wipe the key in res. */
void auth_result_wipe(struct auth_result *res);

/* "unknown_user" and the like, for metric labels; NULL out of range. */
const char *auth_reason_name(enum auth_reason reason);

#endif /* TURNPIKE_AUTH_H */
