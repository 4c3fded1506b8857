/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stun.h: the STUN message codec (RFC 8489, RFC 5389, RFC 3489 framing).
 *
 * A pure module: bytes in, a struct out, and bytes out again.  It opens no
 * socket, reads no clock and keeps no global state, so everything here is
 * unit-tested with the RFC 5769 vectors.  It knows the wire format of every
 * attribute turnpike uses, not what a server does with them.
 */
#ifndef TURNPIKE_STUN_H
#define TURNPIKE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "digest.h"

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Magic Cookie                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Transaction ID (96 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *                RFC 8489 section 5: the STUN header
 */
#define STUN_HEADER_SIZE      20
#define STUN_MAGIC_COOKIE     0x2112A442u
#define STUN_TID_SIZE         12
#define STUN_MAX_ATTRS        40 /* attributes kept per parsed message */
#define STUN_MAX_MESSAGE_SIZE (STUN_HEADER_SIZE + 0xFFFF)

/* Message classes, already shifted into their bits of the type field. */
#define STUN_CLASS_REQUEST    0x0000
#define STUN_CLASS_INDICATION 0x0010
#define STUN_CLASS_SUCCESS    0x0100
#define STUN_CLASS_ERROR      0x0110
#define STUN_CLASS_MASK       0x0110

/* Methods (RFC 8489 section 18.2, RFC 8656 section 17). */
#define STUN_METHOD_BINDING           0x001
#define STUN_METHOD_ALLOCATE          0x003
#define STUN_METHOD_REFRESH           0x004
#define STUN_METHOD_SEND              0x006
#define STUN_METHOD_DATA              0x007
#define STUN_METHOD_CREATE_PERMISSION 0x008
#define STUN_METHOD_CHANNEL_BIND      0x009

/* Attributes (RFC 8489 section 18.3, RFC 8656 section 18). */
#define STUN_ATTR_MAPPED_ADDRESS            0x0001
#define STUN_ATTR_CHANGE_REQUEST            0x0003 /* RFC 5780, RFC 3489 */
#define STUN_ATTR_USERNAME                  0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY         0x0008
#define STUN_ATTR_ERROR_CODE                0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES        0x000A
#define STUN_ATTR_CHANNEL_NUMBER            0x000C
#define STUN_ATTR_LIFETIME                  0x000D
#define STUN_ATTR_XOR_PEER_ADDRESS          0x0012
#define STUN_ATTR_DATA                      0x0013
#define STUN_ATTR_REALM                     0x0014
#define STUN_ATTR_NONCE                     0x0015
#define STUN_ATTR_XOR_RELAYED_ADDRESS       0x0016
#define STUN_ATTR_REQUESTED_ADDRESS_FAMILY  0x0017
#define STUN_ATTR_EVEN_PORT                 0x0018
#define STUN_ATTR_REQUESTED_TRANSPORT       0x0019
#define STUN_ATTR_DONT_FRAGMENT             0x001A
#define STUN_ATTR_MESSAGE_INTEGRITY_SHA256  0x001C
#define STUN_ATTR_PASSWORD_ALGORITHM        0x001D
#define STUN_ATTR_USERHASH                  0x001E
#define STUN_ATTR_XOR_MAPPED_ADDRESS        0x0020
#define STUN_ATTR_RESERVATION_TOKEN         0x0022
#define STUN_ATTR_PRIORITY                  0x0024 /* RFC 8445 */
#define STUN_ATTR_USE_CANDIDATE             0x0025 /* RFC 8445 */
#define STUN_ATTR_PADDING                   0x0026 /* RFC 5780 */
#define STUN_ATTR_RESPONSE_PORT             0x0027 /* RFC 5780 */
#define STUN_ATTR_PASSWORD_ALGORITHMS       0x8002
#define STUN_ATTR_ALTERNATE_DOMAIN          0x8003
#define STUN_ATTR_SOFTWARE                  0x8022
#define STUN_ATTR_ALTERNATE_SERVER          0x8023
#define STUN_ATTR_FINGERPRINT               0x8028
#define STUN_ATTR_ICE_CONTROLLED            0x8029 /* RFC 8445 */
#define STUN_ATTR_ICE_CONTROLLING           0x802A /* RFC 8445 */
#define STUN_ATTR_RESPONSE_ORIGIN           0x802B /* RFC 5780 */
#define STUN_ATTR_OTHER_ADDRESS             0x802C /* RFC 5780 */
#define STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY 0x8000
#define STUN_ATTR_ADDRESS_ERROR_CODE        0x8001

/* Error codes (RFC 8489 section 14.8, RFC 8656 section 19). */
#define STUN_ERR_TRY_ALTERNATE                300
#define STUN_ERR_BAD_REQUEST                  400
#define STUN_ERR_UNAUTHORIZED                 401
#define STUN_ERR_FORBIDDEN                    403
#define STUN_ERR_UNKNOWN_ATTRIBUTE            420
#define STUN_ERR_ALLOCATION_MISMATCH          437
#define STUN_ERR_STALE_NONCE                  438
#define STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED 440
#define STUN_ERR_WRONG_CREDENTIALS            441
#define STUN_ERR_UNSUPPORTED_TRANSPORT        442
#define STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH 443
#define STUN_ERR_ALLOCATION_QUOTA_REACHED     486
#define STUN_ERR_SERVER_ERROR                 500
#define STUN_ERR_INSUFFICIENT_CAPACITY        508

/* What stun_parse() concluded about a buffer. */
enum stun_parse_result {
	STUN_PARSE_OK = 0,
	STUN_PARSE_NOT_STUN, /* first two bits set, or too short for a header */
	STUN_PARSE_BAD_COOKIE, /* header shaped, magic cookie absent (RFC 3489?) */
	STUN_PARSE_BAD_LENGTH, /* length not a multiple of 4 or != buffer size */
	STUN_PARSE_BAD_ATTRIBUTE,  /* an attribute overruns the message, or a
				    * FINGERPRINT that is not last */
	STUN_PARSE_TOO_MANY_ATTRS, /* more than STUN_MAX_ATTRS attributes */
};

/* One attribute as it lies in the buffer: the value is not copied. */
struct stun_attr {
	uint16_t type;
	uint16_t len;    /* value length, without padding */
	uint32_t offset; /* offset of the value from the start of the message;
			   * 32 bits, as a message may exceed 65535 bytes */
};

/*
 * A parsed message.  It points into the caller's buffer, which must outlive
 * it.  attrs[] holds every attribute in wire order, duplicates included;
 * stun_find() returns the first of a type, as RFC 8489 section 14 asks.
 * The exceptions are the attributes RFC 8489 sections 14.5 and 14.6 say to
 * ignore: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT are kept, after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT.
 * When stun_parse() fails, attrs[] is empty and the indexes are -1.
 */
struct stun_msg {
	const uint8_t *buf;
	size_t len; /* STUN_HEADER_SIZE + length field */
	uint16_t type;
	uint8_t tid[STUN_TID_SIZE];
	unsigned int nattrs;
	struct stun_attr attrs[STUN_MAX_ATTRS];
	/* Index into attrs[] of MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and
	 * FINGERPRINT, or -1 when absent. */
	int integrity;
	int integrity_sha256;
	int fingerprint;
};

/* Helpers on the type field (RFC 8489 section 5). */
static inline uint16_t
stun_method(uint16_t type)
{
	return (uint16_t)((type & 0x000F) | ((type & 0x00E0) >> 1) |
			  ((type & 0x3E00) >> 2));
}

static inline uint16_t
stun_class(uint16_t type)
{
	return type & STUN_CLASS_MASK;
}

static inline uint16_t
stun_type(uint16_t method, uint16_t cls)
{
	return (uint16_t)((method & 0x000F) | ((method & 0x0070) << 1) |
			  ((method & 0x0F80) << 2) | cls);
}

/* Whether an attribute type is comprehension-required (0x0000-0x7FFF). */
static inline bool
stun_attr_required(uint16_t type)
{
	return type < 0x8000;
}

/* stun.c */

/*
 * Parse the message in buf[0..len).  The buffer must hold exactly one
 * message: a datagram, or a frame cut from a stream by stun_frame_len().
 * Every length is checked against the buffer before it is read.  On
 * STUN_PARSE_OK, msg describes the message; attributes after a FINGERPRINT
 * make the message invalid.  On STUN_PARSE_BAD_ATTRIBUTE and
 * STUN_PARSE_TOO_MANY_ATTRS the header fields of msg (type, tid, len) are
 * still filled, so that a server can answer 400.
 */
enum stun_parse_result stun_parse(const uint8_t *buf, size_t len,
				  struct stun_msg *msg);

/*
 * How many bytes the next frame on a stream takes (RFC 8489 section 6.2,
 * RFC 8656 section 12.5): a STUN message (first byte 0-3, RFC 7983) is 20
 * + length; ChannelData (first byte 0x40-0x7F) is 4 + length rounded up
 * to a multiple of 4.  Returns 0 when fewer than 4 bytes are available
 * (call again with more), or -1 when the first byte cannot start either
 * kind of frame.  It does not check the body.
 */
long stun_frame_len(const uint8_t *buf, size_t len);

/* First attribute of a type, or NULL. */
const struct stun_attr *stun_find(const struct stun_msg *msg, uint16_t type);

/* Pointer to an attribute's value. */
static inline const uint8_t *
stun_attr_value(const struct stun_msg *msg, const struct stun_attr *a)
{
	return msg->buf + a->offset;
}

/*
 * Decode XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS or XOR-RELAYED-ADDRESS into
 * ss (AF_INET or AF_INET6).  Returns 0, or -1 for a malformed value
 * (wrong length for its family, unknown family).
 */
int stun_get_xor_addr(const struct stun_msg *msg, const struct stun_attr *a,
		      struct sockaddr_storage *ss);

/* Decode a plain MAPPED-ADDRESS-style value.  Returns 0 or -1. */
int stun_get_addr(const struct stun_msg *msg, const struct stun_attr *a,
		  struct sockaddr_storage *ss);

/* Decode a 32-bit value (LIFETIME, ...).  Returns 0, or -1 when len != 4. */
int stun_get_u32(const struct stun_msg *msg, const struct stun_attr *a,
		 uint32_t *out);

/*
 * Decode ERROR-CODE into its number (300-699).  Returns 0 or -1.  The
 * reason phrase, if wanted, is the value from offset 4.
 */
int stun_get_error_code(const struct stun_msg *msg, const struct stun_attr *a,
			int *code);

/*
 * Verify MESSAGE-INTEGRITY (HMAC-SHA1) or MESSAGE-INTEGRITY-SHA256 with the
 * given key (RFC 8489 section 14.5 and 14.6: the HMAC covers the header,
 * with the length adjusted to end at the integrity attribute, and every
 * attribute before it).  The comparison is constant time.  Returns true
 * only when the attribute is present and matches.
 */
bool stun_check_integrity(const struct stun_msg *msg, const uint8_t *key,
			  size_t keylen);
bool stun_check_integrity_sha256(const struct stun_msg *msg, const uint8_t *key,
				 size_t keylen);

/*
 * The same check with the digests of crypto (NULL: fetched for this call),
 * of MESSAGE-INTEGRITY-SHA256 when sha256 is set, else of
 * MESSAGE-INTEGRITY.
 */
bool stun_check_integrity_with(struct digest_ctx *crypto,
			       const struct stun_msg *msg, bool sha256,
			       const uint8_t *key, size_t keylen);

/* True when FINGERPRINT is present and matches (RFC 8489 section 14.7). */
bool stun_check_fingerprint(const struct stun_msg *msg);

/* The FINGERPRINT value of buf[0..len): CRC-32 XOR 0x5354554e. */
uint32_t stun_fingerprint(const uint8_t *buf, size_t len);

/*
 * Building a message into a caller's buffer.  No function here allocates.
 * An append that does not fit sets b->overflow and leaves the message as
 * it was; stun_build_finish() then returns 0.  Attributes are padded to 4
 * bytes with zero bytes.
 */
struct stun_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
	/* Digests for the integrity attributes: NULL after stun_build_init()
	 * (fetched per call); the caller may set its own, which it keeps. */
	struct digest_ctx *crypto;
};

/* Start a message of the given type and transaction id in buf[0..cap). */
void stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap,
		     uint16_t type, const uint8_t tid[STUN_TID_SIZE]);

/* Append an attribute with an opaque value; returns 0 or -1 (overflow). */
int stun_add_attr(struct stun_builder *b, uint16_t type, const void *value,
		  uint16_t len);
int stun_add_u32(struct stun_builder *b, uint16_t type, uint32_t value);

/* XOR-MAPPED-ADDRESS and the other XOR-*-ADDRESS attributes. */
int stun_add_xor_addr(struct stun_builder *b, uint16_t type,
		      const struct sockaddr *sa);

/* MAPPED-ADDRESS (plain, for RFC 3489 clients). */
int stun_add_addr(struct stun_builder *b, uint16_t type,
		  const struct sockaddr *sa);

/* ERROR-CODE with its reason phrase (stun_reason(code) when NULL). */
int stun_add_error(struct stun_builder *b, int code, const char *reason);

/* UNKNOWN-ATTRIBUTES listing n attribute types. */
int stun_add_unknown(struct stun_builder *b, const uint16_t *types,
		     unsigned int n);

/*
 * Append MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256 computed over what
 * has been built so far, with the header length set to include it.
 */
int stun_add_integrity(struct stun_builder *b, const uint8_t *key,
		       size_t keylen);
int stun_add_integrity_sha256(struct stun_builder *b, const uint8_t *key,
			      size_t keylen);

/* Append FINGERPRINT; it must be the last attribute. */
int stun_add_fingerprint(struct stun_builder *b);

/* Write the final length into the header; returns the message size, or 0
 * if anything overflowed. */
size_t stun_build_finish(struct stun_builder *b);

/* The RFC's reason phrase for an error code ("Bad Request", ...). */
const char *stun_reason(int code);

#endif /* TURNPIKE_STUN_H */
