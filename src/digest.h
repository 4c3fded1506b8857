/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * digest.h: hashes and HMACs over OpenSSL, with the algorithms fetched once.
 */
#ifndef TURNPIKE_DIGEST_H
#define TURNPIKE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/*
 * The digests STUN hashes with: HMAC-SHA1 for MESSAGE-INTEGRITY, HMAC-SHA256
 * for MESSAGE-INTEGRITY-SHA256, MD5 for the long-term key (RFC 8489 sections
 * 9.2.2, 14.5, 14.6).  auth.c uses them too, for REST passwords and nonces.
 */
enum digest_kind { DIGEST_MD5 = 0, DIGEST_SHA1, DIGEST_SHA256, DIGEST_N };

#define DIGEST_MAX 64 /* EVP_MAX_MD_SIZE: the largest digest, bytes */

/* One piece of the input of digest_hash() and digest_hmac(). */
struct digest_chunk {
	const void *p;
	size_t len;
};

/*
 * struct digest_ctx: the digests of enum digest_kind fetched from OpenSSL
 * once, and one EVP_MD_CTX that every hash made with it reuses.  OpenSSL 3
 * looks an algorithm up in its provider store, under a lock, each time
 * EVP_sha1() or the one-shot HMAC() is used, and a context costs a malloc;
 * a request hashes a dozen times.  The daemon makes one before its event
 * loop (struct server owns it) and frees it at exit.  It is scratch space,
 * not shared state: one per thread.  Every function that takes one accepts
 * NULL and then fetches for that call and uses a context of its own.
 */
struct digest_ctx;

/* digest.c */

/*
 * Fetch the digests and make the context.  Returns NULL when OpenSSL fails
 * or memory runs out; a digest the provider lacks (MD5 in FIPS mode) is
 * not an error here, its use fails later as it would without this.
 */
struct digest_ctx *digest_ctx_new(void);

/* Free what digest_ctx_new() made; NULL is fine. */
void digest_ctx_free(struct digest_ctx *crypto);

/*
 * The digest d of the concatenation of in[0..n) into out.  Returns the
 * digest's size in bytes, or -1 when OpenSSL fails.
 */
int digest_hash(struct digest_ctx *crypto, enum digest_kind d,
		const struct digest_chunk *in, size_t n,
		uint8_t out[DIGEST_MAX]);

/*
 * HMAC (RFC 2104) with the digest d under key[0..keylen) of the
 * concatenation of in[0..n), into out.  Returns the size of the MAC in
 * bytes, or -1 when OpenSSL fails.  Intermediate values are wiped.
 */
int digest_hmac(struct digest_ctx *crypto, enum digest_kind d, const void *key,
		size_t keylen, const struct digest_chunk *in, size_t n,
		uint8_t out[DIGEST_MAX]);

#endif /* TURNPIKE_DIGEST_H */
