/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * digest.c: the digests STUN and TURN hash with (MD5, SHA-1, SHA-256) and
 * HMAC on top of them, over OpenSSL's EVP_MD with the algorithms fetched
 * once.  Pure: no sockets, no clock.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "digest.h"

#define HMAC_MAX_BLOCK 128 /* block size of SHA-512, the largest */

struct digest_ctx {
	EVP_MD *md[DIGEST_N]; /* NULL where the provider has none */
	EVP_MD_CTX *ctx;
};

static const char *const digest_names[DIGEST_N] = {
	[DIGEST_MD5] = "MD5",
	[DIGEST_SHA1] = "SHA1",
	[DIGEST_SHA256] = "SHA256",
};

struct digest_ctx *
digest_ctx_new(void)
{
	struct digest_ctx *crypto;

	if ((crypto = calloc(1, sizeof(*crypto))) == NULL)
		return NULL;
	if ((crypto->ctx = EVP_MD_CTX_new()) == NULL) {
		free(crypto);
		return NULL;
	}
	for (int d = 0; d < DIGEST_N; d++)
		crypto->md[d] = EVP_MD_fetch(NULL, digest_names[d], NULL);
	return crypto;
}

void
digest_ctx_free(struct digest_ctx *crypto)
{
	if (crypto == NULL)
		return;
	for (int d = 0; d < DIGEST_N; d++)
		EVP_MD_free(crypto->md[d]);
	EVP_MD_CTX_free(crypto->ctx);
	free(crypto);
}

/* The digest d: crypto's, or OpenSSL's implicitly fetched one. */
static const EVP_MD *
crypto_md(const struct digest_ctx *crypto, enum digest_kind d)
{
	if (crypto != NULL && crypto->md[d] != NULL)
		return crypto->md[d];
	switch (d) {
	case DIGEST_MD5:
		return EVP_md5();
	case DIGEST_SHA1:
		return EVP_sha1();
	default:
		return EVP_sha256();
	}
}

/* One hash of the concatenation of a prefix (may be NULL) and in[0..n). */
static bool
digest_run(EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t *prefix,
	   size_t prefixlen, const struct digest_chunk *in, size_t n,
	   uint8_t *out)
{
	if (!EVP_DigestInit_ex(ctx, md, NULL) ||
	    (prefix != NULL && !EVP_DigestUpdate(ctx, prefix, prefixlen)))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!EVP_DigestUpdate(ctx, in[i].p, in[i].len))
			return false;
	return EVP_DigestFinal_ex(ctx, out, NULL) == 1;
}

int
digest_hash(struct digest_ctx *crypto, enum digest_kind d,
	    const struct digest_chunk *in, size_t n, uint8_t out[DIGEST_MAX])
{
	const EVP_MD *md = crypto_md(crypto, d);
	EVP_MD_CTX *ctx = crypto != NULL ? crypto->ctx : EVP_MD_CTX_new();
	int size = EVP_MD_get_size(md);
	bool ok;

	if (ctx == NULL || size <= 0 || size > DIGEST_MAX)
		ok = false;
	else
		ok = digest_run(ctx, md, NULL, 0, in, n, out);
	if (crypto == NULL)
		EVP_MD_CTX_free(ctx);
	return ok ? size : -1;
}

/*
 * HMAC (RFC 2104) built on EVP_MD_CTX.  Why not OpenSSL's own: HMAC_CTX is
 * deprecated in OpenSSL 3; EVP_MAC and the one-shot HMAC() fetch the MAC and
 * the digest per call; and HMAC() takes one contiguous buffer, so checking
 * MESSAGE-INTEGRITY with it would mean copying the message to patch its
 * length field (RFC 8489 section 14.5).  Here the input is a list of
 * chunks: the patched header is a 20-byte copy on the caller's stack and
 * the body is hashed in place.
 */
int
digest_hmac(struct digest_ctx *crypto, enum digest_kind d, const void *key,
	    size_t keylen, const struct digest_chunk *in, size_t n,
	    uint8_t out[DIGEST_MAX])
{
	const EVP_MD *md = crypto_md(crypto, d);
	EVP_MD_CTX *ctx = crypto != NULL ? crypto->ctx : EVP_MD_CTX_new();
	uint8_t pad[HMAC_MAX_BLOCK];
	uint8_t hashed_key[DIGEST_MAX];
	uint8_t inner[DIGEST_MAX];
	struct digest_chunk chunk;
	const uint8_t *k = key;
	int block = EVP_MD_get_block_size(md);
	int mdlen = EVP_MD_get_size(md);
	int rc = -1;
	size_t i;

	if (ctx == NULL || block <= 0 || (size_t)block > sizeof(pad) ||
	    mdlen <= 0 || (size_t)mdlen > sizeof(inner))
		goto done;

	/* RFC 2104 section 2: a key longer than a block is hashed first. */
	if (keylen > (size_t)block) {
		chunk.p = key;
		chunk.len = keylen;
		if (!digest_run(ctx, md, NULL, 0, &chunk, 1, hashed_key))
			goto done;
		k = hashed_key;
		keylen = (size_t)mdlen;
	}

	memset(pad, 0x36, (size_t)block);
	for (i = 0; i < keylen; i++)
		pad[i] ^= k[i];
	if (!digest_run(ctx, md, pad, (size_t)block, in, n, inner))
		goto done;

	memset(pad, 0x5c, (size_t)block);
	for (i = 0; i < keylen; i++)
		pad[i] ^= k[i];
	chunk.p = inner;
	chunk.len = (size_t)mdlen;
	if (!digest_run(ctx, md, pad, (size_t)block, &chunk, 1, out))
		goto done;
	rc = mdlen;
done:
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(hashed_key, sizeof(hashed_key));
	OPENSSL_cleanse(inner, sizeof(inner));
	if (crypto == NULL)
		EVP_MD_CTX_free(ctx);
	return rc;
}
