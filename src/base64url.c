/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * base64url.c: unpadded base64url (RFC 4648 section 5), the spelling of
 * our nonces and of signaling join tokens.  Pure.
 */
#include "config.h"

#include "base64url.h"

static const char base64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
base64url_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i < len; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = base64url_alphabet[v >> 18 & 63];
		out[o++] = base64url_alphabet[v >> 12 & 63];
		if (i + 1 < len)
			out[o++] = base64url_alphabet[v >> 6 & 63];
		if (i + 2 < len)
			out[o++] = base64url_alphabet[v & 63];
	}
	out[o] = '\0';
	return o;
}

static int
base64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
base64url_decode(const char *in, size_t len, uint8_t *out, size_t outlen)
{
	size_t n = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1), o = 0;
	uint32_t v = 0;
	int c;

	if (len % 4 == 1 || n > outlen || n > (size_t)INT32_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((c = base64url_value(in[i])) < 0)
			return -1;
		v = v << 6 | (uint32_t)c;
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(v >> 16);
			out[o++] = (uint8_t)(v >> 8);
			out[o++] = (uint8_t)v;
			v = 0;
		}
	}
	/* A last group of 2 or 3 characters: 12 or 18 bits, of which the
	 * 4 or 2 past the last byte must be zero. */
	if (len % 4 == 2) {
		if (v & 0xF)
			return -1;
		out[o++] = (uint8_t)(v >> 4);
	} else if (len % 4 == 3) {
		if (v & 0x3)
			return -1;
		out[o++] = (uint8_t)(v >> 10);
		out[o++] = (uint8_t)(v >> 2);
	}
	return (int)o;
}
