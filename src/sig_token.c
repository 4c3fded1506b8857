/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sig_token.c: the join tokens of signaling (turnpike-signaling(7)), made
 * by turnpiked --mint-token or an application's backend and checked by
 * the hub at each join: "<expiry>:<base64url(HMAC-SHA256(secret,
 * "<room>:<expiry>"))>", without padding.  Pure: the time is a parameter.
 * Not here: when a token is asked for (sig.c), where the secret comes
 * from (signaling.token_secret).
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base64url.h"
#include "digest.h"
#include "sig.h"

#define SHA256_SIZE         32
#define TOKEN_MAC_LEN       BASE64URL_LEN(SHA256_SIZE)
#define TOKEN_EXPIRY_DIGITS 19 /* INT64_MAX has 19 digits */

/*
 * base64url(HMAC-SHA256(secret, room ":" expiry)) without padding into
 * out, expiry being the decimal digits as they stand in the token.
 * Returns 0 or -1.
 */
static int
token_mac(const char *secret, const char *room, const char *expiry,
	  size_t expiry_len, char out[TOKEN_MAC_LEN + 1])
{
	size_t room_len = strlen(room);
	struct digest_chunk in[] = { { room, room_len },
				     { ":", 1 },
				     { expiry, expiry_len } };
	uint8_t mac[DIGEST_MAX];
	int rc = -1;

	if (room_len <= SIG_ROOM_MAX && expiry_len <= TOKEN_EXPIRY_DIGITS &&
	    digest_hmac(NULL, DIGEST_SHA256, secret, strlen(secret), in, 3,
			mac) == SHA256_SIZE) {
		base64url_encode(mac, SHA256_SIZE, out);
		rc = 0;
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

int
sig_token_make(const char *secret, const char *room, int64_t expiry, char *out,
	       size_t outlen)
{
	char digits[TOKEN_EXPIRY_DIGITS + 1], mac[TOKEN_MAC_LEN + 1];
	int n;

	if (secret == NULL || secret[0] == '\0' || expiry < 0 ||
	    !sig_room_name_valid(room, strlen(room)))
		return -1;
	n = snprintf(digits, sizeof(digits), "%" PRId64, expiry);
	if (n < 0 || (size_t)n >= sizeof(digits) ||
	    token_mac(secret, room, digits, (size_t)n, mac) == -1)
		return -1;
	n = snprintf(out, outlen, "%s:%s", digits, mac);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

bool
sig_token_check(const char *secret, const char *room, const char *token,
		int64_t now)
{
	char mac[TOKEN_MAC_LEN + 1];
	const char *colon;
	size_t digits, i;
	int64_t expiry = 0;
	bool ok;

	if (secret == NULL || secret[0] == '\0' || token == NULL ||
	    !sig_room_name_valid(room, strlen(room)) ||
	    (colon = strchr(token, ':')) == NULL)
		return false;
	digits = (size_t)(colon - token);
	if (digits == 0 || digits > TOKEN_EXPIRY_DIGITS ||
	    strlen(colon + 1) != TOKEN_MAC_LEN)
		return false;
	for (i = 0; i < digits; i++) {
		if (token[i] < '0' || token[i] > '9' ||
		    expiry > (INT64_MAX - (token[i] - '0')) / 10)
			return false;
		expiry = expiry * 10 + (token[i] - '0');
	}
	if (token_mac(secret, room, token, digits, mac) == -1)
		return false;
	ok = CRYPTO_memcmp(mac, colon + 1, TOKEN_MAC_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	/* Expired means expiry < now: a token is good through its second. */
	return ok && expiry >= now;
}
