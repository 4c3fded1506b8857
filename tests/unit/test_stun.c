/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_stun.c: unit tests of the STUN codec (src/stun.c).
 *
 * The four RFC 5769 vectors are parsed, checked and rebuilt byte for byte;
 * built messages are parsed back; every parser error has a negative case;
 * and a bounded loop feeds mutated vectors to the parser, the getters and
 * the checks, for the sanitizers to watch.  Nothing here opens a socket.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stun.h"
#include "unit.h"
#include "xorshift.h"

/*
 * RFC 5769 section 2, copied from the RFC (Copyright (c) 2010 IETF Trust
 * and the persons identified as the document authors; Simplified BSD
 * License).  The padding of SOFTWARE and USERNAME in 2.1-2.3 is 0x20, as
 * in the RFC; in 2.4 it is 0x00.
 */
static const char rfc5769_request[] = /* 2.1 Sample Request */
	"00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
	"00 24 00 04 6e 00 01 ff"
	"80 29 00 08 93 2f f9 b1 51 26 3b 36"
	"00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
	"00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 "
	"a2"
	"80 28 00 04 e5 7a 3b cf";

static const char rfc5769_ipv4[] = /* 2.2 Sample IPv4 Response */
	"01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
	"00 20 00 08 00 01 a1 47 e1 12 a6 43"
	"00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 "
	"d7"
	"80 28 00 04 c0 7d 4c 96";

static const char rfc5769_ipv6[] = /* 2.3 Sample IPv6 Response */
	"01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
	"00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 "
	"d9"
	"00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed "
	"41"
	"80 28 00 04 c8 fb 0b 4c";

static const char rfc5769_long_term[] = /* 2.4 long-term authentication */
	"00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
	"00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 "
	"00"
	"00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 "
	"46"
	"53 54 76 79 36 34 73 41"
	"00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
	"00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 "
	"66";

static const char short_term_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t rfc5769_tid[STUN_TID_SIZE] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};
/* The katakana "matorikkusu" (U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9)
 * in UTF-8, as in the USERNAME of RFC 5769 section 2.4. */
static const char matrix_username[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa"
				      "\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
static const char matrix_nonce[] = "f//499k954d6OL34oL9FSTvy64sA";

#define KEY(s) (const uint8_t *)(s), strlen(s)

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

/* Decode hex digits, skipping spaces, into out; returns the byte count. */
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

static bool
attr_equals(const struct stun_msg *msg, uint16_t type, const void *value,
	    size_t len)
{
	const struct stun_attr *a = stun_find(msg, type);

	return a != NULL && a->len == len &&
	       memcmp(stun_attr_value(msg, a), value, len) == 0;
}

static bool
is_v4(const struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	struct in_addr want;

	return inet_pton(AF_INET, addr, &want) == 1 &&
	       sin->sin_family == AF_INET && ntohs(sin->sin_port) == port &&
	       memcmp(&sin->sin_addr, &want, sizeof(want)) == 0;
}

static bool
is_v6(const struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	struct in6_addr want;

	return inet_pton(AF_INET6, addr, &want) == 1 &&
	       sin6->sin6_family == AF_INET6 &&
	       ntohs(sin6->sin6_port) == port &&
	       memcmp(&sin6->sin6_addr, &want, sizeof(want)) == 0;
}

static void
make_v4(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, addr, &sin->sin_addr);
}

static void
make_v6(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	inet_pton(AF_INET6, addr, &sin6->sin6_addr);
}

/* The RFC 5769 section 2.4 key: MD5(username ":" realm ":" password). */
static void
long_term_key(const uint8_t *user, size_t userlen, const uint8_t *realm,
	      size_t realmlen, const char *password, uint8_t key[16])
{
	uint8_t input[256];
	size_t n = 0, plen = strlen(password);
	unsigned int mdlen = 0;

	memcpy(input + n, user, userlen);
	n += userlen;
	input[n++] = ':';
	memcpy(input + n, realm, realmlen);
	n += realmlen;
	input[n++] = ':';
	memcpy(input + n, password, plen);
	n += plen;
	CHECK(EVP_Digest(input, n, key, &mdlen, EVP_md5(), NULL) == 1);
	CHECK_INT(mdlen, 16);
}

static void
test_type_helpers(void)
{
	CHECK_INT(stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), 0x0001);
	CHECK_INT(stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), 0x0101);
	CHECK_INT(stun_type(STUN_METHOD_BINDING, STUN_CLASS_ERROR), 0x0111);
	CHECK_INT(stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR), 0x0113);
	CHECK_INT(stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION), 0x0016);
	CHECK_INT(stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION), 0x0017);
	CHECK_INT(stun_type(STUN_METHOD_CHANNEL_BIND, STUN_CLASS_SUCCESS),
		  0x0109);
	CHECK_INT(stun_type(0xFFF, STUN_CLASS_ERROR), 0x3FFF);
	CHECK_INT(stun_method(0x0113), STUN_METHOD_ALLOCATE);
	CHECK_INT(stun_method(0x0101), STUN_METHOD_BINDING);
	CHECK_INT(stun_method(0x3FFF), 0xFFF);
	CHECK_INT(stun_class(0x0113), STUN_CLASS_ERROR);
	CHECK_INT(stun_class(0x0017), STUN_CLASS_INDICATION);
	CHECK_INT(stun_class(0x0101), STUN_CLASS_SUCCESS);
	CHECK_INT(stun_class(0x0009), STUN_CLASS_REQUEST);
	CHECK(stun_attr_required(STUN_ATTR_USERNAME));
	CHECK(!stun_attr_required(STUN_ATTR_SOFTWARE));
}

static void
test_rfc5769_request(void)
{
	uint8_t buf[128];
	size_t len = hex_decode(rfc5769_request, buf, sizeof(buf));
	struct stun_msg msg;
	uint32_t priority = 0;
	static const uint8_t ice[] = { 0x93, 0x2f, 0xf9, 0xb1,
				       0x51, 0x26, 0x3b, 0x36 };

	CHECK_INT(len, 108);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.type, 0x0001);
	CHECK_INT(msg.len, 108);
	CHECK_MEM(msg.tid, rfc5769_tid, STUN_TID_SIZE);
	CHECK_INT(msg.nattrs, 6);
	CHECK(attr_equals(&msg, STUN_ATTR_SOFTWARE, "STUN test client", 16));
	CHECK(attr_equals(&msg, STUN_ATTR_USERNAME, "evtj:h6vY", 9));
	CHECK(attr_equals(&msg, STUN_ATTR_ICE_CONTROLLED, ice, sizeof(ice)));
	CHECK_INT(stun_get_u32(&msg, stun_find(&msg, STUN_ATTR_PRIORITY),
			       &priority),
		  0);
	CHECK_INT(priority, 0x6e0001ff);
	CHECK_INT(msg.integrity, 4);
	CHECK_INT(msg.integrity_sha256, -1);
	CHECK_INT(msg.fingerprint, 5);
	CHECK(stun_check_fingerprint(&msg));
	CHECK(stun_check_integrity(&msg, KEY(short_term_password)));
	CHECK(!stun_check_integrity(&msg, KEY("VOkJxbRl1RmTxUk/WvJxBT")));
	CHECK(!stun_check_integrity(&msg, KEY("")));
	CHECK(!stun_check_integrity_sha256(&msg, KEY(short_term_password)));
	CHECK_INT(stun_frame_len(buf, len), 108);
}

static void
test_rfc5769_ipv4(void)
{
	uint8_t buf[128];
	size_t len = hex_decode(rfc5769_ipv4, buf, sizeof(buf));
	struct stun_msg msg;
	struct sockaddr_storage ss;

	CHECK_INT(len, 80);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.type, stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS));
	CHECK_MEM(msg.tid, rfc5769_tid, STUN_TID_SIZE);
	CHECK_INT(msg.nattrs, 4);
	CHECK(attr_equals(&msg, STUN_ATTR_SOFTWARE, "test vector", 11));
	CHECK_INT(stun_get_xor_addr(
			  &msg, stun_find(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS),
			  &ss),
		  0);
	CHECK(is_v4(&ss, "192.0.2.1", 32853));
	CHECK(stun_check_fingerprint(&msg));
	CHECK(stun_check_integrity(&msg, KEY(short_term_password)));
	CHECK(!stun_check_integrity(&msg, KEY("wrong")));
}

static void
test_rfc5769_ipv6(void)
{
	uint8_t buf[128];
	size_t len = hex_decode(rfc5769_ipv6, buf, sizeof(buf));
	struct stun_msg msg;
	struct sockaddr_storage ss;

	CHECK_INT(len, 92);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.type, 0x0101);
	CHECK_INT(msg.nattrs, 4);
	CHECK(attr_equals(&msg, STUN_ATTR_SOFTWARE, "test vector", 11));
	CHECK_INT(stun_get_xor_addr(
			  &msg, stun_find(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS),
			  &ss),
		  0);
	CHECK(is_v6(&ss, "2001:db8:1234:5678:11:2233:4455:6677", 32853));
	CHECK(stun_check_fingerprint(&msg));
	CHECK(stun_check_integrity(&msg, KEY(short_term_password)));
	CHECK(!stun_check_integrity(&msg, KEY("wrong")));
}

static void
test_rfc5769_long_term(void)
{
	uint8_t buf[128], key[16], key2[16];
	size_t len = hex_decode(rfc5769_long_term, buf, sizeof(buf));
	struct stun_msg msg;
	const struct stun_attr *user, *realm;
	static const uint8_t tid[STUN_TID_SIZE] = {
		0x78, 0xad, 0x34, 0x33, 0xc6, 0xad,
		0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e,
	};

	CHECK_INT(len, 116);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.type, 0x0001);
	CHECK_MEM(msg.tid, tid, STUN_TID_SIZE);
	CHECK_INT(msg.nattrs, 4);
	CHECK(attr_equals(&msg, STUN_ATTR_USERNAME, matrix_username, 18));
	CHECK(attr_equals(&msg, STUN_ATTR_NONCE, matrix_nonce, 28));
	CHECK(attr_equals(&msg, STUN_ATTR_REALM, "example.org", 11));
	CHECK_INT(msg.fingerprint, -1);
	CHECK(!stun_check_fingerprint(&msg));

	/* RFC 5769 gives the password after SASLprep: "TheMatrIX" (from
	 * "TheM<U+00AA>tr<U+2168>"). */
	long_term_key((const uint8_t *)matrix_username, 18,
		      (const uint8_t *)"example.org", 11, "TheMatrIX", key);
	CHECK(stun_check_integrity(&msg, key, sizeof(key)));
	user = stun_find(&msg, STUN_ATTR_USERNAME);
	realm = stun_find(&msg, STUN_ATTR_REALM);
	CHECK(user != NULL && realm != NULL);
	if (user != NULL && realm != NULL) {
		long_term_key(stun_attr_value(&msg, user), user->len,
			      stun_attr_value(&msg, realm), realm->len,
			      "TheMatrIX", key2);
		CHECK_MEM(key2, key, sizeof(key));
	}
	long_term_key((const uint8_t *)matrix_username, 18,
		      (const uint8_t *)"example.org", 11, "thematrix", key2);
	CHECK(!stun_check_integrity(&msg, key2, sizeof(key2)));
	CHECK(!stun_check_integrity(&msg, KEY(short_term_password)));
}

/* Rebuild the RFC 5769 vectors with the builder, byte for byte.  Where the
 * RFC pads with 0x20 the builder pads with 0, so the test writes the RFC's
 * pad byte into the buffer before the integrity and fingerprint that
 * cover it. */
static void
test_rfc5769_rebuild(void)
{
	uint8_t want[128], buf[128], key[16];
	size_t wantlen;
	struct stun_builder b;
	struct sockaddr_storage ss;
	static const uint8_t ice[] = { 0x93, 0x2f, 0xf9, 0xb1,
				       0x51, 0x26, 0x3b, 0x36 };
	static const uint8_t tid24[STUN_TID_SIZE] = {
		0x78, 0xad, 0x34, 0x33, 0xc6, 0xad,
		0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e,
	};

	/* 2.1 */
	wantlen = hex_decode(rfc5769_request, want, sizeof(want));
	stun_build_init(&b, buf, sizeof(buf),
			stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST),
			rfc5769_tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "STUN test client", 16),
		  0);
	CHECK_INT(stun_add_u32(&b, STUN_ATTR_PRIORITY, 0x6e0001ff), 0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_ICE_CONTROLLED, ice, 8), 0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_USERNAME, "evtj:h6vY", 9), 0);
	CHECK_MEM(buf + 73, "\0\0\0", 3); /* the builder's padding */
	memset(buf + 73, 0x20, 3);
	CHECK_INT(stun_add_integrity(&b, KEY(short_term_password)), 0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	CHECK_INT(stun_build_finish(&b), wantlen);
	CHECK_MEM(buf, want, wantlen);

	/* 2.2: first as the builder pads, which matches up to the pad byte
	 * and again in the XOR-MAPPED-ADDRESS; then with the RFC's pad. */
	wantlen = hex_decode(rfc5769_ipv4, want, sizeof(want));
	make_v4(&ss, "192.0.2.1", 32853);
	stun_build_init(&b, buf, sizeof(buf),
			stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS),
			rfc5769_tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "test vector", 11), 0);
	CHECK_INT(stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS,
				    (struct sockaddr *)&ss),
		  0);
	CHECK_INT(stun_add_integrity(&b, KEY(short_term_password)), 0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	CHECK_INT(stun_build_finish(&b), wantlen);
	CHECK_MEM(buf, want, 35);
	CHECK_INT(buf[35], 0);
	CHECK_MEM(buf + 36, want + 36, 12);
	CHECK_INT(buf[2] << 8 | buf[3], 0x3c);

	stun_build_init(&b, buf, sizeof(buf), 0x0101, rfc5769_tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "test vector", 11), 0);
	buf[35] = 0x20;
	CHECK_INT(stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS,
				    (struct sockaddr *)&ss),
		  0);
	CHECK_INT(stun_add_integrity(&b, KEY(short_term_password)), 0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	CHECK_INT(stun_build_finish(&b), wantlen);
	CHECK_MEM(buf, want, wantlen);

	/* 2.3 */
	wantlen = hex_decode(rfc5769_ipv6, want, sizeof(want));
	make_v6(&ss, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
	stun_build_init(&b, buf, sizeof(buf), 0x0101, rfc5769_tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "test vector", 11), 0);
	buf[35] = 0x20;
	CHECK_INT(stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS,
				    (struct sockaddr *)&ss),
		  0);
	CHECK_INT(stun_add_integrity(&b, KEY(short_term_password)), 0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	CHECK_INT(stun_build_finish(&b), wantlen);
	CHECK_MEM(buf, want, wantlen);

	/* 2.4 pads with zero bytes, like the builder. */
	wantlen = hex_decode(rfc5769_long_term, want, sizeof(want));
	long_term_key((const uint8_t *)matrix_username, 18,
		      (const uint8_t *)"example.org", 11, "TheMatrIX", key);
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid24);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_USERNAME, matrix_username, 18),
		  0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_NONCE, matrix_nonce, 28), 0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_REALM, "example.org", 11), 0);
	CHECK_INT(stun_add_integrity(&b, key, sizeof(key)), 0);
	CHECK_INT(stun_build_finish(&b), wantlen);
	CHECK_MEM(buf, want, wantlen);
}

/*
 * Recompute an integrity value of a parsed message with OpenSSL's one-shot
 * HMAC() over a patched copy, to cross-check stun.c's own HMAC.
 */
static bool
reference_hmac(const struct stun_msg *msg, const struct stun_attr *a,
	       const EVP_MD *md, const uint8_t *key, size_t keylen)
{
	uint8_t copy[1024], digest[EVP_MAX_MD_SIZE];
	size_t start = a->offset - 4, end = a->offset + a->len;
	unsigned int dlen = 0;

	if (start > sizeof(copy))
		return false;
	memcpy(copy, msg->buf, start);
	copy[2] = (uint8_t)((end - 20) >> 8);
	copy[3] = (uint8_t)(end - 20);
	if (HMAC(md, key, (int)keylen, copy, start, digest, &dlen) == NULL)
		return false;
	return dlen >= a->len &&
	       memcmp(digest, stun_attr_value(msg, a), a->len) == 0;
}

static void
test_round_trip(void)
{
	uint8_t buf[512], key[100];
	struct stun_builder b;
	struct stun_msg msg;
	struct sockaddr_storage v4, v6, ss;
	const struct stun_attr *a;
	size_t len, i;
	int code = 0;
	uint32_t lifetime = 0;
	static const uint8_t tid[STUN_TID_SIZE] = { 1, 2, 3, 4,  5,  6,
						    7, 8, 9, 10, 11, 12 };

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 3);
	make_v4(&v4, "203.0.113.77", 3478);
	make_v6(&v6, "2001:db8::ff:1", 65535);

	stun_build_init(&b, buf, sizeof(buf),
			stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_SUCCESS),
			tid);
	CHECK_INT(stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS,
				    (struct sockaddr *)&v4),
		  0);
	CHECK_INT(stun_add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS,
				    (struct sockaddr *)&v6),
		  0);
	CHECK_INT(stun_add_addr(&b, STUN_ATTR_MAPPED_ADDRESS,
				(struct sockaddr *)&v4),
		  0);
	CHECK_INT(stun_add_u32(&b, STUN_ATTR_LIFETIME, 600), 0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "turnpiked 0.1", 13),
		  0);
	/* 20 + 12 + 24 + 12 + 8 + 20 */
	CHECK_MEM(buf + 20 + 12 + 24 + 12 + 8 + 4 + 13, "\0\0\0", 3);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0), 0);
	CHECK_INT(stun_add_integrity(&b, key, sizeof(key)), 0);
	CHECK_INT(stun_add_integrity_sha256(&b, key, 16), 0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	len = stun_build_finish(&b);
	CHECK_INT(len, 20 + 12 + 24 + 12 + 8 + 20 + 4 + 24 + 36 + 8);
	CHECK_INT(buf[2] << 8 | buf[3], len - 20);
	CHECK_INT(stun_frame_len(buf, len), len);

	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.type, 0x0103);
	CHECK_MEM(msg.tid, tid, STUN_TID_SIZE);
	CHECK_INT(msg.nattrs, 9);
	CHECK_INT(stun_get_xor_addr(
			  &msg, stun_find(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS),
			  &ss),
		  0);
	CHECK(is_v4(&ss, "203.0.113.77", 3478));
	CHECK_INT(stun_get_xor_addr(
			  &msg, stun_find(&msg, STUN_ATTR_XOR_RELAYED_ADDRESS),
			  &ss),
		  0);
	CHECK(is_v6(&ss, "2001:db8::ff:1", 65535));
	CHECK_INT(stun_get_addr(&msg, stun_find(&msg, STUN_ATTR_MAPPED_ADDRESS),
				&ss),
		  0);
	CHECK(is_v4(&ss, "203.0.113.77", 3478));
	a = stun_find(&msg, STUN_ATTR_MAPPED_ADDRESS);
	CHECK(a != NULL && a->len == 8 &&
	      memcmp(stun_attr_value(&msg, a),
		     "\x00\x01\x0d\x96\xcb\x00\x71\x4d", 8) == 0);
	CHECK_INT(stun_get_u32(&msg, stun_find(&msg, STUN_ATTR_LIFETIME),
			       &lifetime),
		  0);
	CHECK_INT(lifetime, 600);
	CHECK(attr_equals(&msg, STUN_ATTR_SOFTWARE, "turnpiked 0.1", 13));
	CHECK(attr_equals(&msg, STUN_ATTR_DONT_FRAGMENT, "", 0));
	CHECK(stun_check_integrity(&msg, key, sizeof(key)));
	CHECK(stun_check_integrity_sha256(&msg, key, 16));
	CHECK(!stun_check_integrity(&msg, key, 16));
	CHECK(!stun_check_integrity_sha256(&msg, key, sizeof(key)));
	CHECK(stun_check_fingerprint(&msg));
	CHECK(reference_hmac(&msg, &msg.attrs[msg.integrity], EVP_sha1(), key,
			     sizeof(key)));
	CHECK(reference_hmac(&msg, &msg.attrs[msg.integrity_sha256],
			     EVP_sha256(), key, 16));
	CHECK_INT(stun_get_error_code(&msg, stun_find(&msg, STUN_ATTR_LIFETIME),
				      &code),
		  -1);

	/* Any changed byte breaks both integrities and the fingerprint. */
	buf[40] ^= 0x01;
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK(!stun_check_integrity(&msg, key, sizeof(key)));
	CHECK(!stun_check_integrity_sha256(&msg, key, 16));
	CHECK(!stun_check_fingerprint(&msg));
	buf[40] ^= 0x01;

	/* A flipped bit in the FINGERPRINT value only breaks it. */
	buf[len - 1] ^= 0x80;
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK(!stun_check_fingerprint(&msg));
	CHECK(stun_check_integrity(&msg, key, sizeof(key)));
	buf[len - 1] ^= 0x80;

	/* An empty key is a key. */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_integrity(&b, NULL, 0), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK(stun_check_integrity(&msg, NULL, 0));
	CHECK(reference_hmac(&msg, &msg.attrs[msg.integrity], EVP_sha1(),
			     (const uint8_t *)"", 0));
}

/* A MESSAGE-INTEGRITY-SHA256 truncated to n bytes (RFC 8489 section 14.6),
 * filled with the HMAC by reference_hmac()'s method. */
static void
check_truncated_sha256(uint16_t n, bool valid)
{
	uint8_t buf[128], zero[40] = { 0 }, copy[128], digest[EVP_MAX_MD_SIZE];
	struct stun_builder b;
	struct stun_msg msg;
	static const uint8_t tid[STUN_TID_SIZE] = { 0 };
	unsigned int dlen = 0;
	size_t len, start;

	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_USERNAME, "user", 4), 0);
	start = b.len;
	CHECK_INT(
		stun_add_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, zero, n),
		0);
	len = stun_build_finish(&b);
	memcpy(copy, buf, start);
	CHECK(HMAC(EVP_sha256(), "key", 3, copy, start, digest, &dlen) != NULL);
	memcpy(buf + start + 4, digest, n < dlen ? n : dlen);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK(stun_check_integrity_sha256(&msg, KEY("key")) == valid);
	CHECK(!stun_check_integrity(&msg, KEY("key")));
}

static void
test_integrity_lengths(void)
{
	uint8_t buf[128], zero[24] = { 0 };
	struct stun_builder b;
	struct stun_msg msg;
	static const uint8_t tid[STUN_TID_SIZE] = { 0 };
	size_t len;

	check_truncated_sha256(16, true);
	check_truncated_sha256(20, true);
	check_truncated_sha256(28, true);
	check_truncated_sha256(32, true);
	check_truncated_sha256(12, false);
	check_truncated_sha256(18, false);
	check_truncated_sha256(36, false);

	/* MESSAGE-INTEGRITY must be 20 bytes. */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY, zero, 16), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.integrity, 0);
	CHECK(!stun_check_integrity(&msg, KEY("key")));
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY, zero, 24), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK(!stun_check_integrity(&msg, KEY("key")));

	/* Absent attributes never verify. */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	len = stun_build_finish(&b);
	CHECK_INT(len, 20);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.nattrs, 0);
	CHECK(!stun_check_integrity(&msg, KEY("")));
	CHECK(!stun_check_integrity_sha256(&msg, KEY("")));
	CHECK(!stun_check_fingerprint(&msg));
}

static void
test_parse_errors(void)
{
	uint8_t vec[128], buf[160];
	size_t len = hex_decode(rfc5769_request, vec, sizeof(vec));
	struct stun_msg msg;

	/* Too short for a header, or not STUN. */
	CHECK_INT(stun_parse(vec, 19, &msg), STUN_PARSE_NOT_STUN);
	CHECK_INT(stun_parse(vec, 0, &msg), STUN_PARSE_NOT_STUN);
	memcpy(buf, vec, len);
	buf[0] |= 0x80;
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_NOT_STUN);
	buf[0] = vec[0] | 0x40;
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_NOT_STUN);

	/* A wrong magic cookie still fills the header fields. */
	memcpy(buf, vec, len);
	buf[7] ^= 0x01;
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_BAD_COOKIE);
	CHECK_INT(msg.type, 0x0001);
	CHECK_INT(msg.len, 108);
	CHECK_MEM(msg.tid, rfc5769_tid, STUN_TID_SIZE);
	CHECK_INT(msg.nattrs, 0);
	CHECK(stun_find(&msg, STUN_ATTR_SOFTWARE) == NULL);

	/* Length not a multiple of 4, even when it matches the buffer. */
	memcpy(buf, vec, len);
	buf[3] = 0x57;
	CHECK_INT(stun_parse(buf, len - 1, &msg), STUN_PARSE_BAD_LENGTH);
	/* 20 + length != buffer size, both ways. */
	CHECK_INT(stun_parse(vec, len - 4, &msg), STUN_PARSE_BAD_LENGTH);
	memcpy(buf, vec, len);
	memset(buf + len, 0, 4);
	CHECK_INT(stun_parse(buf, len + 4, &msg), STUN_PARSE_BAD_LENGTH);
	CHECK_INT(stun_parse(buf, len + 1, &msg), STUN_PARSE_BAD_LENGTH);
	CHECK(!stun_check_fingerprint(&msg));
	CHECK(!stun_check_integrity(&msg, KEY(short_term_password)));

	/* An attribute that overruns the message: SOFTWARE says 17 bytes,
	 * which with padding is 20, more than the 16 there are. */
	memcpy(buf, vec, 40);
	buf[2] = 0;
	buf[3] = 20;
	buf[23] = 17;
	CHECK_INT(stun_parse(buf, 40, &msg), STUN_PARSE_BAD_ATTRIBUTE);
	CHECK_INT(msg.type, 0x0001);
	CHECK_INT(msg.len, 40);
	CHECK_MEM(msg.tid, rfc5769_tid, STUN_TID_SIZE);
	CHECK_INT(msg.nattrs, 0);
	CHECK_INT(msg.integrity, -1);
	CHECK_INT(msg.fingerprint, -1);
	buf[23] = 16;
	CHECK_INT(stun_parse(buf, 40, &msg), STUN_PARSE_OK);
	buf[22] = 0xFF;
	CHECK_INT(stun_parse(buf, 40, &msg), STUN_PARSE_BAD_ATTRIBUTE);

	/* A message cut inside an attribute header. */
	memcpy(buf, vec, 24);
	buf[2] = 0;
	buf[3] = 4;
	buf[22] = 0;
	buf[23] = 1;
	CHECK_INT(stun_parse(buf, 24, &msg), STUN_PARSE_BAD_ATTRIBUTE);
}

static void
test_attribute_order(void)
{
	uint8_t buf[512];
	struct stun_builder b;
	struct stun_msg msg;
	static const uint8_t tid[STUN_TID_SIZE] = { 9, 9, 9 };
	const struct stun_attr *a;
	size_t len;
	unsigned int i;

	/* Duplicates are kept; stun_find() returns the first. */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "first", 5), 0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "second", 6), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.nattrs, 2);
	CHECK(attr_equals(&msg, STUN_ATTR_SOFTWARE, "first", 5));
	CHECK_INT(msg.attrs[1].len, 6);

	/* An unknown attribute is simply parsed: judging it is the
	 * server's job. */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_attr(&b, 0x7FFE, "??", 2), 0);
	CHECK_INT(stun_add_attr(&b, 0xC001, "!", 1), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.nattrs, 2);
	CHECK(attr_equals(&msg, 0x7FFE, "??", 2));
	CHECK(attr_equals(&msg, 0xC001, "!", 1));

	/* Nothing may follow FINGERPRINT (RFC 8489 section 14.7). */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "late", 4), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_BAD_ATTRIBUTE);
	CHECK_INT(msg.type, 0x0001);
	CHECK_MEM(msg.tid, tid, STUN_TID_SIZE);
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_BAD_ATTRIBUTE);

	/* Attributes after MESSAGE-INTEGRITY other than
	 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored (RFC 8489
	 * section 14.5), and after MESSAGE-INTEGRITY-SHA256 all but
	 * FINGERPRINT (section 14.6). */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_USERNAME, "u", 1), 0);
	CHECK_INT(stun_add_integrity(&b, KEY("k")), 0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "ignored", 7), 0);
	CHECK_INT(stun_add_integrity(&b, KEY("k")), 0);
	CHECK_INT(stun_add_integrity_sha256(&b, KEY("k")), 0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_REALM, "ignored", 7), 0);
	CHECK_INT(stun_add_integrity_sha256(&b, KEY("k")), 0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.nattrs, 4);
	CHECK(stun_find(&msg, STUN_ATTR_SOFTWARE) == NULL);
	CHECK(stun_find(&msg, STUN_ATTR_REALM) == NULL);
	CHECK_INT(msg.integrity, 1);
	CHECK_INT(msg.integrity_sha256, 2);
	CHECK_INT(msg.fingerprint, 3);
	CHECK(stun_check_integrity(&msg, KEY("k")));
	CHECK(stun_check_integrity_sha256(&msg, KEY("k")));
	CHECK(stun_check_fingerprint(&msg));

	/* Ignored attributes are still bounds-checked. */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	CHECK_INT(stun_add_integrity(&b, KEY("k")), 0);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "ignored", 7), 0);
	len = stun_build_finish(&b);
	buf[len - 9] = 9;
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_BAD_ATTRIBUTE);

	/* STUN_MAX_ATTRS attributes fit, one more does not; ignored ones
	 * do not count. */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	for (i = 0; i < STUN_MAX_ATTRS; i++)
		CHECK_INT(stun_add_u32(&b, STUN_ATTR_PRIORITY, i), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.nattrs, STUN_MAX_ATTRS);
	a = stun_find(&msg, STUN_ATTR_PRIORITY);
	CHECK(a == &msg.attrs[0]);
	CHECK_INT(stun_add_u32(&b, STUN_ATTR_PRIORITY, i), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_TOO_MANY_ATTRS);
	CHECK_INT(msg.type, 0x0001);
	CHECK_MEM(msg.tid, tid, STUN_TID_SIZE);
	CHECK_INT(msg.len, len);
	CHECK_INT(msg.nattrs, 0);

	stun_build_init(&b, buf, sizeof(buf), 0x0001, tid);
	for (i = 0; i < STUN_MAX_ATTRS - 1; i++)
		CHECK_INT(stun_add_u32(&b, STUN_ATTR_PRIORITY, i), 0);
	CHECK_INT(stun_add_integrity(&b, KEY("k")), 0);
	for (i = 0; i < 5; i++)
		CHECK_INT(stun_add_u32(&b, STUN_ATTR_PRIORITY, i), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.nattrs, STUN_MAX_ATTRS);
	CHECK(stun_check_integrity(&msg, KEY("k")));
}

/* A message of the largest size, whose last attribute lies beyond offset
 * 65535. */
static void
test_large_message(void)
{
	static uint8_t buf[STUN_MAX_MESSAGE_SIZE], data[0xFFFF];
	struct stun_builder b;
	struct stun_msg msg;
	static const uint8_t tid[STUN_TID_SIZE] = { 7 };
	size_t len;

	memset(data, 0xA5, sizeof(data));
	stun_build_init(&b, buf, sizeof(buf),
			stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION),
			tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_DATA, data, 0xFFFF - 4 - 8 - 4),
		  0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	CHECK_INT(b.len, STUN_HEADER_SIZE + 0xFFFC);
	/* The length field is full: not even an empty attribute fits. */
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0), -1);
	CHECK(b.overflow);
	b.overflow = false;
	len = stun_build_finish(&b);
	CHECK_INT(len, STUN_HEADER_SIZE + 0xFFFC);
	CHECK_INT(stun_frame_len(buf, len), len);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.nattrs, 2);
	CHECK(msg.fingerprint == 1 && msg.attrs[1].offset > 0xFFFF);
	CHECK(stun_check_fingerprint(&msg));
}

static void
test_getters(void)
{
	uint8_t buf[256];
	struct stun_builder b;
	struct stun_msg msg;
	struct sockaddr_storage ss;
	static const uint8_t tid[STUN_TID_SIZE] = { 0 };
	static const uint8_t v4_long[] = { 0, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t v6_short[] = { 0, 2, 0, 0, 1, 2, 3, 4 };
	static const uint8_t family3[] = { 0, 3, 0, 0, 1, 2, 3, 4 };
	static const uint8_t tiny[] = { 0, 1, 0 };
	static const uint8_t err_bad_class[] = { 0, 0, 2, 0 };
	static const uint8_t err_bad_number[] = { 0, 0, 4, 100 };
	static const uint8_t err_799[] = { 0, 0, 7, 99 };
	static const uint16_t unknown[] = { 0x0031, 0x7FFF, 0x0002 };
	static const uint8_t unknown_wire[] = { 0x00, 0x31, 0x7F, 0xFF,
						0x00, 0x02, 0x00, 0x00 };
	size_t len;
	int code = 0;
	uint32_t u = 0;

	stun_build_init(&b, buf, sizeof(buf), 0x0111, tid);
	CHECK_INT(stun_add_attr(&b, 0x0100, v4_long, sizeof(v4_long)), 0);
	CHECK_INT(stun_add_attr(&b, 0x0101, v6_short, sizeof(v6_short)), 0);
	CHECK_INT(stun_add_attr(&b, 0x0102, family3, sizeof(family3)), 0);
	CHECK_INT(stun_add_attr(&b, 0x0103, tiny, sizeof(tiny)), 0);
	CHECK_INT(stun_add_attr(&b, 0x0104, err_bad_class, 4), 0);
	CHECK_INT(stun_add_attr(&b, 0x0105, err_bad_number, 4), 0);
	CHECK_INT(stun_add_attr(&b, 0x0106, err_799, 4), 0);
	CHECK_INT(stun_add_error(&b, STUN_ERR_STALE_NONCE, NULL), 0);
	CHECK_INT(stun_add_unknown(&b, unknown, 3), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);

	CHECK_INT(stun_get_xor_addr(&msg, stun_find(&msg, 0x0100), &ss), -1);
	CHECK_INT(stun_get_addr(&msg, stun_find(&msg, 0x0100), &ss), -1);
	CHECK_INT(stun_get_xor_addr(&msg, stun_find(&msg, 0x0101), &ss), -1);
	CHECK_INT(stun_get_addr(&msg, stun_find(&msg, 0x0101), &ss), -1);
	CHECK_INT(stun_get_xor_addr(&msg, stun_find(&msg, 0x0102), &ss), -1);
	CHECK_INT(stun_get_addr(&msg, stun_find(&msg, 0x0102), &ss), -1);
	CHECK_INT(stun_get_xor_addr(&msg, stun_find(&msg, 0x0103), &ss), -1);
	CHECK_INT(stun_get_u32(&msg, stun_find(&msg, 0x0103), &u), -1);
	CHECK_INT(stun_get_u32(&msg, stun_find(&msg, 0x0100), &u), -1);
	CHECK_INT(stun_get_error_code(&msg, stun_find(&msg, 0x0103), &code),
		  -1);
	CHECK_INT(stun_get_error_code(&msg, stun_find(&msg, 0x0104), &code),
		  -1);
	CHECK_INT(stun_get_error_code(&msg, stun_find(&msg, 0x0105), &code),
		  -1);
	CHECK_INT(stun_get_error_code(&msg, stun_find(&msg, 0x0106), &code),
		  -1);
	CHECK_INT(stun_get_error_code(
			  &msg, stun_find(&msg, STUN_ATTR_ERROR_CODE), &code),
		  0);
	CHECK_INT(code, 438);
	CHECK(attr_equals(&msg, STUN_ATTR_ERROR_CODE, "\0\0\x04\x26Stale Nonce",
			  15));
	CHECK(attr_equals(&msg, STUN_ATTR_UNKNOWN_ATTRIBUTES, unknown_wire, 6));
	CHECK_MEM(stun_attr_value(
			  &msg, stun_find(&msg, STUN_ATTR_UNKNOWN_ATTRIBUTES)),
		  unknown_wire, 8);
	CHECK(stun_find(&msg, STUN_ATTR_XOR_PEER_ADDRESS) == NULL);

	/* ERROR-CODE with a reason of our own; codes out of range fail. */
	stun_build_init(&b, buf, sizeof(buf), 0x0113, tid);
	CHECK_INT(stun_add_error(&b, 699, "Odd"), 0);
	len = stun_build_finish(&b);
	CHECK_INT(stun_parse(buf, len, &msg), STUN_PARSE_OK);
	CHECK_INT(stun_get_error_code(
			  &msg, stun_find(&msg, STUN_ATTR_ERROR_CODE), &code),
		  0);
	CHECK_INT(code, 699);
	CHECK(attr_equals(&msg, STUN_ATTR_ERROR_CODE, "\0\0\x06\x63Odd", 7));
	CHECK_INT(stun_add_error(&b, 299, NULL), -1);
	CHECK_INT(stun_build_finish(&b), 0);
	stun_build_init(&b, buf, sizeof(buf), 0x0113, tid);
	CHECK_INT(stun_add_error(&b, 700, NULL), -1);
	CHECK_INT(stun_build_finish(&b), 0);

	CHECK_STR(stun_reason(300), "Try Alternate");
	CHECK_STR(stun_reason(400), "Bad Request");
	CHECK_STR(stun_reason(401), "Unauthenticated");
	CHECK_STR(stun_reason(403), "Forbidden");
	CHECK_STR(stun_reason(420), "Unknown Attribute");
	CHECK_STR(stun_reason(437), "Allocation Mismatch");
	CHECK_STR(stun_reason(438), "Stale Nonce");
	CHECK_STR(stun_reason(440), "Address Family not Supported");
	CHECK_STR(stun_reason(441), "Wrong Credentials");
	CHECK_STR(stun_reason(442), "Unsupported Transport Protocol");
	CHECK_STR(stun_reason(443), "Peer Address Family Mismatch");
	CHECK_STR(stun_reason(486), "Allocation Quota Reached");
	CHECK_STR(stun_reason(500), "Server Error");
	CHECK_STR(stun_reason(508), "Insufficient Capacity");
	CHECK_STR(stun_reason(499), "Unknown Error");
	CHECK_STR(stun_reason(-1), "Unknown Error");
}

static void
test_builder_overflow(void)
{
	uint8_t buf[64], snapshot[64], big[600];
	struct stun_builder b;
	struct sockaddr_storage ss;
	static const uint8_t tid[STUN_TID_SIZE] = { 1 };
	size_t len;

	/* No room for the header. */
	stun_build_init(&b, buf, 19, 0x0001, tid);
	CHECK(b.overflow);
	CHECK_INT(stun_add_u32(&b, STUN_ATTR_LIFETIME, 1), -1);
	CHECK_INT(stun_build_finish(&b), 0);

	/* A failed append leaves the message as it was. */
	stun_build_init(&b, buf, 40, 0x0001, tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "abc", 3), 0);
	memcpy(snapshot, buf, 28);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "123456789", 9), -1);
	CHECK(b.overflow);
	CHECK_INT(b.len, 28);
	CHECK_MEM(buf, snapshot, 28);
	CHECK_INT(buf[3], 8);
	CHECK_INT(stun_build_finish(&b), 0);
	/* After a failure nothing more is appended, even what would fit. */
	CHECK_INT(stun_add_u32(&b, STUN_ATTR_LIFETIME, 1), -1);
	CHECK_INT(b.len, 28);

	/* Exactly full is fine; then integrity does not fit. */
	stun_build_init(&b, buf, 40, 0x0001, tid);
	CHECK_INT(stun_add_attr(&b, STUN_ATTR_SOFTWARE, "01234567", 8), 0);
	CHECK_INT(stun_add_fingerprint(&b), 0);
	CHECK_INT(stun_build_finish(&b), 40);
	memcpy(snapshot, buf, 40);
	CHECK_INT(stun_add_integrity(&b, KEY("k")), -1);
	CHECK_INT(stun_add_integrity_sha256(&b, KEY("k")), -1);
	CHECK_INT(stun_add_fingerprint(&b), -1);
	CHECK_MEM(buf, snapshot, 40);
	CHECK_INT(stun_build_finish(&b), 0);

	stun_build_init(&b, buf, 43, 0x0001, tid);
	CHECK_INT(stun_add_integrity(&b, KEY("k")), -1);
	CHECK_INT(b.len, 20);
	CHECK_INT(buf[2] << 8 | buf[3], 0);
	stun_build_init(&b, buf, 44, 0x0001, tid);
	CHECK_INT(stun_add_integrity(&b, KEY("k")), 0);
	CHECK_INT(stun_build_finish(&b), 44);

	/* XOR addresses: v6 needs 24 bytes. */
	make_v6(&ss, "::1", 1);
	stun_build_init(&b, buf, 43, 0x0101, tid);
	CHECK_INT(stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS,
				    (struct sockaddr *)&ss),
		  -1);
	CHECK_INT(b.len, 20);
	CHECK_INT(stun_build_finish(&b), 0);

	/* An unsupported family, an error code out of range, an over-long
	 * reason: the message is not finished either. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	stun_build_init(&b, buf, sizeof(buf), 0x0101, tid);
	CHECK_INT(stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS,
				    (struct sockaddr *)&ss),
		  -1);
	CHECK_INT(stun_build_finish(&b), 0);
	memset(big, 'x', sizeof(big));
	big[510] = '\0';
	stun_build_init(&b, buf, sizeof(buf), 0x0111, tid);
	CHECK_INT(stun_add_error(&b, 400, (const char *)big), -1);
	CHECK_INT(stun_build_finish(&b), 0);

	/* Too long for the 16-bit length field. */
	{
		static uint8_t huge[STUN_MAX_MESSAGE_SIZE + 64];
		static uint8_t value[0xFFFF];

		stun_build_init(&b, huge, sizeof(huge), 0x0016, tid);
		CHECK_INT(stun_add_attr(&b, STUN_ATTR_DATA, value, 0xFFFF), -1);
		CHECK_INT(b.len, 20);
		stun_build_init(&b, huge, sizeof(huge), 0x0016, tid);
		CHECK_INT(stun_add_attr(&b, STUN_ATTR_DATA, value, 0xFFFF - 5),
			  -1);
		CHECK_INT(b.len, 20);
		stun_build_init(&b, huge, sizeof(huge), 0x0016, tid);
		CHECK_INT(stun_add_attr(&b, STUN_ATTR_DATA, value, 0xFFFF - 7),
			  0);
		len = stun_build_finish(&b);
		CHECK_INT(len, STUN_HEADER_SIZE + 0xFFFC);
	}
}

static void
test_frame_len(void)
{
	static const uint8_t stun_hdr[] = { 0x00, 0x01, 0x00, 0x58 };
	static const uint8_t stun_odd[] = { 0x01, 0x01, 0x00, 0x05 };
	static const uint8_t cd5[] = { 0x40, 0x00, 0x00, 0x05, 'h' };
	static const uint8_t cd0[] = { 0x4F, 0xFF, 0x00, 0x00 };
	static const uint8_t cd8[] = { 0x40, 0x01, 0x00, 0x08 };
	static const uint8_t cdmax[] = { 0x41, 0x00, 0xFF, 0xFF };
	static const uint8_t bad80[] = { 0x80, 0x00, 0x00, 0x00 };
	static const uint8_t badc0[] = { 0xC0, 0x00, 0x00, 0x00 };
	static const uint8_t cd50[] = { 0x50, 0x00, 0x00, 0x04 };
	static const uint8_t cd7f[] = { 0x7F, 0xFF, 0x00, 0x01 };
	static const uint8_t bad04[] = { 0x04, 0x01, 0x00, 0x00 };
	static const uint8_t bad3f[] = { 0x3F, 0x01, 0x00, 0x00 };

	CHECK_INT(stun_frame_len(stun_hdr, 4), 108);
	CHECK_INT(stun_frame_len(stun_odd, 4), 25);
	CHECK_INT(stun_frame_len(cd5, sizeof(cd5)), 12);
	CHECK_INT(stun_frame_len(cd0, 4), 4);
	CHECK_INT(stun_frame_len(cd8, 4), 12);
	CHECK_INT(stun_frame_len(cdmax, 4), 4 + 0x10000);
	CHECK_INT(stun_frame_len(stun_hdr, 3), 0);
	CHECK_INT(stun_frame_len(cd5, 0), 0);
	CHECK_INT(stun_frame_len(bad80, 3), 0);
	CHECK_INT(stun_frame_len(bad80, 4), -1);
	CHECK_INT(stun_frame_len(badc0, 4), -1);
	/* RFC 5766's channels 0x5000-0x7FFF are framed (old clients). */
	CHECK_INT(stun_frame_len(cd50, 4), 8);
	CHECK_INT(stun_frame_len(cd7f, 4), 8);
	/* RFC 7983: only 0-3 starts STUN. */
	CHECK_INT(stun_frame_len(bad04, 4), -1);
	CHECK_INT(stun_frame_len(bad3f, 4), -1);
}

/* Parse buf and run everything that reads a parsed message over it;
 * returns whether it parsed. */
static bool
probe(const uint8_t *buf, size_t len)
{
	struct stun_msg msg;
	struct sockaddr_storage ss;
	uint32_t u;
	int code;
	unsigned int i;
	enum stun_parse_result res;

	(void)stun_frame_len(buf, len);
	res = stun_parse(buf, len, &msg);
	for (i = 0; i < msg.nattrs; i++) {
		const struct stun_attr *a = &msg.attrs[i];

		(void)stun_get_xor_addr(&msg, a, &ss);
		(void)stun_get_addr(&msg, a, &ss);
		(void)stun_get_u32(&msg, a, &u);
		(void)stun_get_error_code(&msg, a, &code);
		CHECK(a->offset + a->len <= len);
	}
	(void)stun_find(&msg, STUN_ATTR_USERNAME);
	(void)stun_check_integrity(&msg, KEY(short_term_password));
	(void)stun_check_integrity_sha256(&msg, KEY(short_term_password));
	(void)stun_check_fingerprint(&msg);
	return res == STUN_PARSE_OK;
}

/*
 * 200000 mutations of the vectors: bit flips, random bytes, truncations,
 * random attribute soup behind a valid header.  Each one is copied into a
 * heap block of its exact size, so that ASan sees any read past its end.
 */
static void
test_robustness(void)
{
	uint8_t seeds[5][512], work[512];
	size_t seedlen[5];
	uint64_t rng = 0x9E3779B97F4A7C15u;
	struct stun_builder b;
	struct sockaddr_storage ss;
	unsigned long iter;
	unsigned int valid = 0;
	static const uint8_t tid[STUN_TID_SIZE] = { 3, 1, 4, 1, 5, 9 };
	static const uint16_t soup_types[] = {
		STUN_ATTR_XOR_MAPPED_ADDRESS,
		STUN_ATTR_MAPPED_ADDRESS,
		STUN_ATTR_ERROR_CODE,
		STUN_ATTR_LIFETIME,
		STUN_ATTR_MESSAGE_INTEGRITY,
		STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
		STUN_ATTR_FINGERPRINT,
		STUN_ATTR_SOFTWARE,
		0x7FFF,
	};
	const size_t soup_ntypes = sizeof(soup_types) / sizeof(soup_types[0]);

	seedlen[0] = hex_decode(rfc5769_request, seeds[0], sizeof(seeds[0]));
	seedlen[1] = hex_decode(rfc5769_ipv4, seeds[1], sizeof(seeds[1]));
	seedlen[2] = hex_decode(rfc5769_ipv6, seeds[2], sizeof(seeds[2]));
	seedlen[3] = hex_decode(rfc5769_long_term, seeds[3], sizeof(seeds[3]));
	make_v6(&ss, "2001:db8::1", 9);
	stun_build_init(&b, seeds[4], sizeof(seeds[4]), 0x0113, tid);
	stun_add_error(&b, 486, NULL);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS,
			  (struct sockaddr *)&ss);
	stun_add_integrity(&b, KEY(short_term_password));
	stun_add_integrity_sha256(&b, KEY(short_term_password));
	stun_add_fingerprint(&b);
	seedlen[4] = stun_build_finish(&b);
	CHECK(seedlen[4] > 0);

	for (iter = 0; iter < 200000; iter++) {
		unsigned int s = (unsigned int)(xorshift64(&rng) % 5);
		size_t len = seedlen[s], i, n;
		uint8_t *copy;

		memcpy(work, seeds[s], len);
		switch (xorshift64(&rng) % 5) {
		case 0: /* flip a few bits */
			n = 1 + xorshift64(&rng) % 4;
			for (i = 0; i < n; i++)
				work[xorshift64(&rng) % len] ^=
					(uint8_t)(1u << (xorshift64(&rng) % 8));
			break;
		case 1: /* overwrite a few bytes */
			n = 1 + xorshift64(&rng) % 4;
			for (i = 0; i < n; i++)
				work[xorshift64(&rng) % len] =
					(uint8_t)xorshift64(&rng);
			break;
		case 2: /* truncate */
			len = xorshift64(&rng) % (len + 1);
			break;
		case 3: /* mutate, then cut to a consistent length field */
			work[20 + xorshift64(&rng) % (len - 20)] =
				(uint8_t)xorshift64(&rng);
			len = 20 +
			      4 * (xorshift64(&rng) % ((len - 20) / 4 + 1));
			work[2] = (uint8_t)((len - 20) >> 8);
			work[3] = (uint8_t)(len - 20);
			break;
		default: /* a valid header and well-formed attribute soup */
			len = 20 + 4 * (xorshift64(&rng) % 100);
			for (i = 20; i + 4 <= len;) {
				uint16_t type = soup_types[xorshift64(&rng) %
							   soup_ntypes];
				size_t alen = xorshift64(&rng) % 37;

				if (alen + 3 > len - i - 4)
					alen = len - i - 4;
				work[i] = (uint8_t)(type >> 8);
				work[i + 1] = (uint8_t)type;
				work[i + 2] = 0;
				work[i + 3] = (uint8_t)alen;
				for (n = 0; n < ((alen + 3) & ~(size_t)3); n++)
					work[i + 4 + n] =
						(uint8_t)xorshift64(&rng);
				i += 4 + ((alen + 3) & ~(size_t)3);
			}
			work[2] = (uint8_t)((len - 20) >> 8);
			work[3] = (uint8_t)(len - 20);
			break;
		}
		copy = malloc(len > 0 ? len : 1);
		if (copy == NULL)
			continue;
		memcpy(copy, work, len);
		if (probe(copy, len))
			valid++;
		free(copy);
	}
	/* The loop must reach the attribute walk, not only the header. */
	CHECK(valid > 20000);
}

int
main(void)
{
	test_type_helpers();
	test_rfc5769_request();
	test_rfc5769_ipv4();
	test_rfc5769_ipv6();
	test_rfc5769_long_term();
	test_rfc5769_rebuild();
	test_round_trip();
	test_integrity_lengths();
	test_parse_errors();
	test_attribute_order();
	test_large_message();
	test_getters();
	test_builder_overflow();
	test_frame_len();
	test_robustness();
	return unit_done("test_stun");
}
