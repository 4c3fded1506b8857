/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls.h: the TLS server context of TURN over TLS (RFC 8656 section 3.1,
 * RFC 7443): TLS 1.2 and 1.3 only, a modern cipher list, the certificate
 * chain and key from PEM files, ALPN "stun.turn" accepted but not needed.
 * A context is made whole or not at all, so that a reload that fails to
 * load a new pair keeps the old one.
 */
#ifndef TURNPIKE_TLS_H
#define TURNPIKE_TLS_H

#include <stddef.h>

struct ssl_ctx_st;

/* tls.c */

/*
 * A new server context from the PEM certificate chain at cert and the
 * private key at key, with ciphers for TLS 1.2 (TLS 1.3 uses OpenSSL's
 * own suites, all modern).  Returns it, owned by the caller (SSL_CTX_free,
 * which only frees once the last connection using it has gone), or NULL
 * with the reason in err.  desc gets a line for the log: the subject and
 * the expiry of the certificate.
 */
struct ssl_ctx_st *tls_ctx_new(const char *cert, const char *key,
			       const char *ciphers, char *desc, size_t desclen,
			       char *err, size_t errlen);

#endif /* TURNPIKE_TLS_H */
