/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls.c: building the OpenSSL server context from the tls.* keys.  It
 * reads the two PEM files and nothing else; connections are stream.c's.
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "tls.h"

/* RFC 7443: the ALPN protocol id of STUN and TURN over TLS. */
static const unsigned char tls_alpn_turn[] = { 9,   's', 't', 'u', 'n',
					       '.', 't', 'u', 'r', 'n' };

/*
 * ALPN: choose "stun.turn" when the client offers it; a client that
 * offers only other protocols, or no ALPN at all, is still served
 * (RFC 7443 section 4: the server "MAY" require it; we do not).
 */
static int
tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, tls_alpn_turn,
				  sizeof(tls_alpn_turn), in,
				  inlen) == OPENSSL_NPN_NEGOTIATED) {
		*out = sel;
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

static int
tls_no_passphrase_cb(char *buf, int size, int rwflag, void *arg)
{
	return 0;
}

/* The last OpenSSL error as text, after what. */
static void
tls_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char reason[256];

	ERR_error_string_n(e, reason, sizeof(reason));
	snprintf(err, errlen, "%s %s: %s", what, path,
		 e != 0 ? reason : "unknown error");
	ERR_clear_error();
}

static void
tls_describe(SSL_CTX *ctx, char *desc, size_t desclen)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	char subject[256] = "?", until[64] = "?";
	BIO *mem;

	if (x == NULL) {
		snprintf(desc, desclen, "(no certificate)");
		return;
	}
	X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
	if ((mem = BIO_new(BIO_s_mem())) != NULL) {
		int n;

		ASN1_TIME_print(mem, X509_get0_notAfter(x));
		n = BIO_read(mem, until, sizeof(until) - 1);
		until[n > 0 ? n : 0] = '\0';
		BIO_free(mem);
	}
	snprintf(desc, desclen, "%s, valid until %s", subject, until);
}

SSL_CTX *
tls_ctx_new(const char *cert, const char *key, const char *ciphers, char *desc,
	    size_t desclen, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_err(err, errlen, "cannot create a TLS context", "");
		return NULL;
	}
	/* An encrypted key must not make OpenSSL ask on a terminal (and
	 * freeze the daemon): no pass phrase is given, so it fails to load. */
	SSL_CTX_set_default_passwd_cb(ctx, tls_no_passphrase_cb);
	/* TLS 1.0 and 1.1 are deprecated (RFC 8996): refused. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_NO_COMPRESSION);
	/* Idle connections hold no read and write buffers. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		tls_err(err, errlen, "tls.ciphers", ciphers);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_err(err, errlen, "cannot load the certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_err(err, errlen, "cannot load the private key", key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, "the private key does not match", cert);
		goto fail;
	}
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, NULL);
	tls_describe(ctx, desc, desclen);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
