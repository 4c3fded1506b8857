/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_stun.c: libFuzzer target for the STUN codec (src/stun.c).
 *
 * An input that starts with 0xFF is a program for the builder (see
 * fuzz_build()); anything else is a datagram for stun_parse(), followed,
 * when it parses, by every getter on every attribute, the integrity and
 * fingerprint checks, stun_frame_len(), and a rebuild of the message
 * through the builder that must give the same bytes back.  The checks
 * abort on a broken invariant, so libFuzzer reports them as crashes.
 * Not for the server's rules (fuzz_server.c has those).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "stun.h"

#define BUILD_MODE 0xFF /* first byte of a builder program */

/* Keys tried on every integrity attribute: RFC 5769's short-term password
 * and a 16-byte long-term key.  Only the code paths matter. */
static const uint8_t key_short[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t key_long[16] = { 0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5,
				      0x82, 0xfb, 0x4c, 0x04, 0x4c, 0x45,
				      0x6b, 0xdc, 0x40, 0xeb };

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Every getter on one attribute, and the address round trip: a value that
 * decodes must encode back to the same bytes (the first, reserved byte
 * aside). */
static void
fuzz_attr(const struct stun_msg *msg, const struct stun_attr *a)
{
	struct sockaddr_storage ss;
	struct stun_builder b;
	uint8_t out[64];
	uint32_t u32;
	int code;

	FUZZ_ASSERT((size_t)a->offset + a->len <= msg->len);
	if (stun_get_xor_addr(msg, a, &ss) == 0) {
		FUZZ_ASSERT(ss.ss_family == AF_INET ||
			    ss.ss_family == AF_INET6);
		stun_build_init(&b, out, sizeof(out), msg->type, msg->tid);
		FUZZ_ASSERT(stun_add_xor_addr(&b, a->type,
					      (struct sockaddr *)&ss) == 0);
		FUZZ_ASSERT(b.len == (size_t)STUN_HEADER_SIZE + 4 + a->len);
		FUZZ_ASSERT(memcmp(out + STUN_HEADER_SIZE + 5,
				   stun_attr_value(msg, a) + 1,
				   a->len - 1) == 0);
	}
	if (stun_get_addr(msg, a, &ss) == 0) {
		stun_build_init(&b, out, sizeof(out), msg->type, msg->tid);
		FUZZ_ASSERT(stun_add_addr(&b, a->type,
					  (struct sockaddr *)&ss) == 0);
		FUZZ_ASSERT(memcmp(out + STUN_HEADER_SIZE + 5,
				   stun_attr_value(msg, a) + 1,
				   a->len - 1) == 0);
	}
	if (stun_get_u32(msg, a, &u32) == 0)
		FUZZ_ASSERT(a->len == 4);
	if (stun_get_error_code(msg, a, &code) == 0)
		FUZZ_ASSERT(code >= 300 && code <= 699);
	FUZZ_ASSERT(stun_find(msg, a->type) != NULL);
}

/*
 * Build the parsed message again, attribute by attribute, as opaque
 * values.  When stun_parse() kept every attribute, the result is the input
 * with zero padding, parses the same, and when the input's padding was
 * zero it is the same bytes, so every check must give the same answer.
 */
static void
fuzz_rebuild(const uint8_t *data, size_t size, const struct stun_msg *msg)
{
	static uint8_t out[STUN_MAX_MESSAGE_SIZE];
	struct stun_builder b;
	struct stun_msg again;
	size_t len, kept = STUN_HEADER_SIZE;

	for (unsigned int i = 0; i < msg->nattrs; i++)
		kept += 4 + pad4(msg->attrs[i].len);
	stun_build_init(&b, out, sizeof(out), msg->type, msg->tid);
	for (unsigned int i = 0; i < msg->nattrs; i++)
		stun_add_attr(&b, msg->attrs[i].type,
			      stun_attr_value(msg, &msg->attrs[i]),
			      msg->attrs[i].len);
	len = stun_build_finish(&b);
	FUZZ_ASSERT(len == kept);
	FUZZ_ASSERT(stun_parse(out, len, &again) == STUN_PARSE_OK);
	FUZZ_ASSERT(again.nattrs == msg->nattrs);
	for (unsigned int i = 0; i < msg->nattrs; i++) {
		FUZZ_ASSERT(again.attrs[i].type == msg->attrs[i].type);
		FUZZ_ASSERT(again.attrs[i].len == msg->attrs[i].len);
	}
	if (kept != size)
		return; /* attributes after an integrity were dropped */
	FUZZ_ASSERT(again.integrity == msg->integrity);
	FUZZ_ASSERT(again.integrity_sha256 == msg->integrity_sha256);
	FUZZ_ASSERT(again.fingerprint == msg->fingerprint);
	if (memcmp(out, data, size) != 0)
		return; /* the input had non-zero padding, as RFC 5769 does */
	FUZZ_ASSERT(stun_check_fingerprint(&again) ==
		    stun_check_fingerprint(msg));
	FUZZ_ASSERT(stun_check_integrity(&again, key_long, sizeof(key_long)) ==
		    stun_check_integrity(msg, key_long, sizeof(key_long)));
}

static void
fuzz_parse(const uint8_t *data, size_t size)
{
	struct stun_msg msg;
	enum stun_parse_result rc;
	long frame;

	frame = stun_frame_len(data, size);
	if (size < 4)
		FUZZ_ASSERT(frame == 0);
	else if (data[0] <= 3)
		FUZZ_ASSERT(frame == (long)(STUN_HEADER_SIZE +
					    (data[2] << 8 | data[3])));
	else if (data[0] >= 0x40 && data[0] <= 0x7F)
		FUZZ_ASSERT(frame == (long)(4 + pad4(data[2] << 8 | data[3])));
	else
		FUZZ_ASSERT(frame == -1);

	rc = stun_parse(data, size, &msg);
	if (rc != STUN_PARSE_OK) {
		/* A failed parse answers every lookup with "absent". */
		FUZZ_ASSERT(msg.nattrs == 0 && msg.integrity == -1 &&
			    msg.integrity_sha256 == -1 &&
			    msg.fingerprint == -1);
		FUZZ_ASSERT(stun_find(&msg, STUN_ATTR_USERNAME) == NULL);
		FUZZ_ASSERT(!stun_check_fingerprint(&msg));
		FUZZ_ASSERT(!stun_check_integrity(&msg, key_long,
						  sizeof(key_long)));
		return;
	}
	FUZZ_ASSERT(msg.len == size && size % 4 == 0);
	FUZZ_ASSERT(msg.nattrs <= STUN_MAX_ATTRS);
	if (data[0] <= 3)
		FUZZ_ASSERT(frame == (long)size);
	for (unsigned int i = 0; i < msg.nattrs; i++) {
		if (i > 0)
			FUZZ_ASSERT(msg.attrs[i].offset >
				    msg.attrs[i - 1].offset);
		fuzz_attr(&msg, &msg.attrs[i]);
	}
	if (msg.fingerprint >= 0)
		FUZZ_ASSERT((unsigned int)msg.fingerprint == msg.nattrs - 1);
	stun_check_fingerprint(&msg);
	stun_check_integrity(&msg, key_short, sizeof(key_short) - 1);
	stun_check_integrity(&msg, key_long, sizeof(key_long));
	stun_check_integrity_sha256(&msg, key_long, sizeof(key_long));
	/* A key longer than a hash block is hashed first (RFC 2104). */
	stun_check_integrity_sha256(&msg, data, size);
	fuzz_rebuild(data, size, &msg);
}

/* Take n bytes of the program, or NULL when it has fewer left. */
static const uint8_t *
take(const uint8_t **p, const uint8_t *end, size_t n)
{
	const uint8_t *at = *p;

	if ((size_t)(end - at) < n)
		return NULL;
	*p += n;
	return at;
}

/*
 * A builder program: a capacity, then operations of one opcode byte and
 * their operands, into a heap buffer of exactly that capacity (so that
 * AddressSanitizer sees any write past it).  What the builder finishes
 * must parse, and the integrity and fingerprint it added must verify.
 */
static void
fuzz_build(const uint8_t *p, const uint8_t *end)
{
	static const uint8_t tid[STUN_TID_SIZE] = { 1, 2, 3, 4,  5,  6,
						    7, 8, 9, 10, 11, 12 };
	const uint8_t *v;
	struct stun_builder b;
	struct stun_msg msg;
	uint8_t *buf;
	size_t cap, len;
	/* Whether the first MESSAGE-INTEGRITY(-SHA256) is one the builder
	 * computed (1), an opaque value of that type (2), or a
	 * MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256, which the parser
	 * ignores (3); and the last operation that succeeded. */
	int mi = 0, mi256 = 0, last = -1;
	unsigned int nops = 0;

	if ((v = take(&p, end, 4)) == NULL)
		return;
	cap = (size_t)(v[0] << 8 | v[1]) % 2048;
	if ((buf = malloc(cap > 0 ? cap : 1)) == NULL)
		return;
	stun_build_init(&b, buf, cap, (uint16_t)(v[2] << 8 | v[3]), tid);
	while (p < end && nops++ < 64) {
		uint8_t op = *p++ % 9;
		uint16_t type, n;
		int rc = -1;

		if ((v = take(&p, end, 2)) == NULL)
			break;
		type = (uint16_t)(v[0] << 8 | v[1]);
		switch (op) {
		case 0: /* an opaque attribute of n bytes of the program */
			if ((v = take(&p, end, 2)) == NULL)
				goto done;
			n = (uint16_t)(v[0] << 8 | v[1]);
			if ((size_t)(end - p) < n)
				n = (uint16_t)(end - p);
			rc = stun_add_attr(&b, type, p, n);
			p += n;
			break;
		case 1:
			if ((v = take(&p, end, 4)) == NULL)
				goto done;
			rc = stun_add_u32(&b, type,
					  (uint32_t)v[0] << 24 | v[1] << 16 |
						  v[2] << 8 | v[3]);
			break;
		case 2:
		case 3: {
			struct sockaddr_storage ss = { 0 };
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			if ((v = take(&p, end, 18)) == NULL)
				goto done;
			if (v[0] & 1) {
				sin6->sin6_family = AF_INET6;
				memcpy(&sin6->sin6_port, v + 1, 2);
				memcpy(&sin6->sin6_addr, v + 2, 16);
			} else {
				sin->sin_family = AF_INET;
				memcpy(&sin->sin_port, v + 1, 2);
				memcpy(&sin->sin_addr, v + 2, 4);
			}
			if (op == 2)
				rc = stun_add_xor_addr(&b, type,
						       (struct sockaddr *)&ss);
			else
				rc = stun_add_addr(&b, type,
						   (struct sockaddr *)&ss);
			break;
		}
		case 4: { /* ERROR-CODE: type is the code, then a reason */
			char reason[600];

			if ((v = take(&p, end, 2)) == NULL)
				goto done;
			n = (uint16_t)((v[0] << 8 | v[1]) % sizeof(reason));
			if ((size_t)(end - p) < n)
				n = (uint16_t)(end - p);
			memcpy(reason, p, n);
			reason[n] = '\0';
			p += n;
			rc = stun_add_error(&b, type % 1000,
					    (v[0] & 0x80) ? NULL : reason);
			break;
		}
		case 5: { /* UNKNOWN-ATTRIBUTES: type is the count */
			uint16_t types[64];

			n = type % 64;
			for (unsigned int i = 0; i < n; i++)
				types[i] = (uint16_t)(0x7000 + i);
			rc = stun_add_unknown(&b, types, n);
			break;
		}
		case 6:
			rc = stun_add_integrity(&b, key_long, sizeof(key_long));
			type = STUN_ATTR_MESSAGE_INTEGRITY;
			break;
		case 7:
			rc = stun_add_integrity_sha256(&b, key_long,
						       sizeof(key_long));
			type = STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
			break;
		case 8:
			rc = stun_add_fingerprint(&b);
			break;
		}
		if (rc != 0) {
			/* A failed append leaves the message as it was. */
			FUZZ_ASSERT(b.overflow);
			break;
		}
		FUZZ_ASSERT(b.len <= cap && !b.overflow);
		last = op;
		/* Any operation but 4 and 5 can write an integrity type. */
		if (op != 4 && op != 5 && type == STUN_ATTR_MESSAGE_INTEGRITY &&
		    mi == 0)
			mi = mi256 != 0 ? 3 : op == 6 ? 1 : 2;
		if (op != 4 && op != 5 &&
		    type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 && mi256 == 0)
			mi256 = op == 7 ? 1 : 2;
	}
done:
	len = stun_build_finish(&b);
	if (len > 0) {
		FUZZ_ASSERT(len <= cap && len % 4 == 0);
		switch (stun_parse(buf, len, &msg)) {
		case STUN_PARSE_OK:
			/* The first integrity attribute of each kind covers
			 * what came before it, which appends do not change. */
			if (mi == 1)
				FUZZ_ASSERT(stun_check_integrity(
					&msg, key_long, sizeof(key_long)));
			if (mi256 == 1)
				FUZZ_ASSERT(stun_check_integrity_sha256(
					&msg, key_long, sizeof(key_long)));
			if (last == 8)
				FUZZ_ASSERT(stun_check_fingerprint(&msg));
			break;
		case STUN_PARSE_BAD_ATTRIBUTE: /* something after FINGERPRINT */
		case STUN_PARSE_TOO_MANY_ATTRS:
			break;
		default:
			FUZZ_ASSERT(!"a built message does not parse");
		}
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == BUILD_MODE)
		fuzz_build(data + 1, data + size);
	else
		fuzz_parse(data, size);
	return 0;
}
