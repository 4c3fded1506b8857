/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef TURNPIKE_BASE64URL_H
#define TURNPIKE_BASE64URL_H

#include <stddef.h>
#include <stdint.h>

/* The characters of n bytes in base64url without padding. */
#define BASE64URL_LEN(n) (((n)*4 + 2) / 3)

/*
 * base64url (RFC 4648 section 5) without padding: every character is a
 * letter, a digit, '-' or '_', never a quote or a backslash.  Writes
 * BASE64URL_LEN(len) characters and a NUL to out; returns the characters.
 */
size_t base64url_encode(const uint8_t *in, size_t len, char *out);

/*
 * Decode in[0..len), unpadded base64url, into out; returns the bytes, or
 * -1 when a character is not of the alphabet, when len is not a length
 * base64url_encode() makes, when bits past the last byte are not zero (so
 * each byte string has one spelling), or when out (outlen) is too small.
 */
int base64url_decode(const char *in, size_t len, uint8_t *out, size_t outlen);

#endif /* TURNPIKE_BASE64URL_H */
