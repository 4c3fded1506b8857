/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stun.c: the STUN message codec (RFC 8489, RFC 5389, RFC 3489 framing).
 *
 * It parses a message that is already in memory into a struct stun_msg that
 * points into the caller's buffer, decodes the attribute values turnpike
 * needs, checks MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT,
 * and builds messages into a caller's buffer; the HMACs and digests are
 * digest.c's.  It is pure: no socket, no clock, no global state but constant
 * tables, no heap memory of its own, and no logging.  Every length that
 * comes off the wire is checked against the buffer before it is used.
 * What a server does with a message (which attributes it requires, which
 * key it uses, what it answers) is not here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "bytes.h"
#include "digest.h"
#include "stun.h"

#define STUN_ATTR_HEADER_SIZE 4
#define STUN_MAX_LENGTH_FIELD 0xFFFF
#define STUN_SHA1_SIZE        20
#define STUN_SHA256_SIZE      32
#define STUN_SHA256_MIN_SIZE  16
#define STUN_FINGERPRINT_XOR  0x5354554eu
#define STUN_FAMILY_IPV4      0x01
#define STUN_FAMILY_IPV6      0x02
#define STUN_ERROR_REASON_MAX 509 /* RFC 8489 section 14.8, when encoding */

static const struct {
	int code;
	const char *reason;
} stun_reasons[] = {
	/* RFC 8489 section 14.8 */
	{ STUN_ERR_TRY_ALTERNATE, "Try Alternate" },
	{ STUN_ERR_BAD_REQUEST, "Bad Request" },
	{ STUN_ERR_UNAUTHORIZED, "Unauthenticated" },
	{ STUN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute" },
	{ STUN_ERR_STALE_NONCE, "Stale Nonce" },
	{ STUN_ERR_SERVER_ERROR, "Server Error" },
	/* RFC 8656 section 19 */
	{ STUN_ERR_FORBIDDEN, "Forbidden" },
	{ STUN_ERR_ALLOCATION_MISMATCH, "Allocation Mismatch" },
	{ STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED,
	  "Address Family not Supported" },
	{ STUN_ERR_WRONG_CREDENTIALS, "Wrong Credentials" },
	{ STUN_ERR_UNSUPPORTED_TRANSPORT, "Unsupported Transport Protocol" },
	{ STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH,
	  "Peer Address Family Mismatch" },
	{ STUN_ERR_ALLOCATION_QUOTA_REACHED, "Allocation Quota Reached" },
	{ STUN_ERR_INSUFFICIENT_CAPACITY, "Insufficient Capacity" },
};

/* CRC-32 of IEEE 802.3 (reflected polynomial 0xEDB88320), as in zlib. */
static const uint32_t crc32_table[256] = {
	0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u,
	0x706af48fu, 0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u,
	0xe0d5e91eu, 0x97d2d988u, 0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u,
	0x90bf1d91u, 0x1db71064u, 0x6ab020f2u, 0xf3b97148u, 0x84be41deu,
	0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u, 0x136c9856u,
	0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
	0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u,
	0xa2677172u, 0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu,
	0x35b5a8fau, 0x42b2986cu, 0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u,
	0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u, 0x26d930acu, 0x51de003au,
	0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u, 0xcfba9599u,
	0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
	0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u,
	0x01db7106u, 0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu,
	0x9fbfe4a5u, 0xe8b8d433u, 0x7807c9a2u, 0x0f00f934u, 0x9609a88eu,
	0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du, 0x91646c97u, 0xe6635c01u,
	0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu, 0x6c0695edu,
	0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
	0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u,
	0xfbd44c65u, 0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u,
	0x4adfa541u, 0x3dd895d7u, 0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au,
	0x346ed9fcu, 0xad678846u, 0xda60b8d0u, 0x44042d73u, 0x33031de5u,
	0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau, 0xbe0b1010u,
	0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
	0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u,
	0x2eb40d81u, 0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u,
	0x03b6e20cu, 0x74b1d29au, 0xead54739u, 0x9dd277afu, 0x04db2615u,
	0x73dc1683u, 0xe3630b12u, 0x94643b84u, 0x0d6d6a3eu, 0x7a6a5aa8u,
	0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u, 0xf00f9344u,
	0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
	0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au,
	0x67dd4accu, 0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u,
	0xd6d6a3e8u, 0xa1d1937eu, 0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u,
	0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu, 0xd80d2bdau, 0xaf0a1b4cu,
	0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u, 0x316e8eefu,
	0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
	0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu,
	0xb2bd0b28u, 0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u,
	0x2cd99e8bu, 0x5bdeae1du, 0x9b64c2b0u, 0xec63f226u, 0x756aa39cu,
	0x026d930au, 0x9c0906a9u, 0xeb0e363fu, 0x72076785u, 0x05005713u,
	0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u, 0x92d28e9bu,
	0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
	0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u,
	0x18b74777u, 0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu,
	0x8f659effu, 0xf862ae69u, 0x616bffd3u, 0x166ccf45u, 0xa00ae278u,
	0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u, 0xa7672661u, 0xd06016f7u,
	0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu, 0x40df0b66u,
	0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
	0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u,
	0xcdd70693u, 0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u,
	0x5d681b02u, 0x2a6f2b94u, 0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu,
	0x2d02ef8du,
};

static size_t
pad4(size_t len)
{
	return (len + 3) & ~(size_t)3;
}

uint32_t
stun_fingerprint(const uint8_t *buf, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;

	while (len-- > 0)
		crc = crc32_table[(crc ^ *buf++) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFu ^ STUN_FINGERPRINT_XOR;
}

/*
 * The HMAC with d of header[0..20) || body[0..bodylen), as the integrity
 * attributes have it; false when OpenSSL fails.
 */
static bool
hmac_message(struct digest_ctx *crypto, enum digest_kind d, const uint8_t *key,
	     size_t keylen, const uint8_t header[STUN_HEADER_SIZE],
	     const uint8_t *body, size_t bodylen, uint8_t out[DIGEST_MAX])
{
	const struct digest_chunk in[2] = {
		{ header, STUN_HEADER_SIZE },
		{ body, bodylen },
	};

	return digest_hmac(crypto, d, key, keylen, in, 2, out) > 0;
}

/* Empty the attribute list, so that a message that failed to parse answers
 * every lookup and check with "absent". */
static void
msg_clear_attrs(struct stun_msg *msg)
{
	msg->nattrs = 0;
	msg->integrity = -1;
	msg->integrity_sha256 = -1;
	msg->fingerprint = -1;
}

/*
 * Whether an attribute at this point of the message is kept in attrs[].
 * RFC 8489 section 14.5: "with the exception of the
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT attributes, which appear after
 * MESSAGE-INTEGRITY, agents MUST ignore all other attributes that follow
 * MESSAGE-INTEGRITY"; section 14.6 says the same of
 * MESSAGE-INTEGRITY-SHA256, with FINGERPRINT the only exception.
 */
static bool
attr_is_kept(const struct stun_msg *msg, uint16_t type)
{
	if (msg->integrity_sha256 >= 0)
		return type == STUN_ATTR_FINGERPRINT;
	if (msg->integrity >= 0)
		return type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 ||
		       type == STUN_ATTR_FINGERPRINT;
	return true;
}

enum stun_parse_result
stun_parse(const uint8_t *buf, size_t len, struct stun_msg *msg)
{
	size_t length, off;

	msg->buf = buf;
	msg->len = 0;
	msg->type = 0;
	memset(msg->tid, 0, sizeof(msg->tid));
	msg_clear_attrs(msg);

	/* RFC 8489 section 5: "The most significant 2 bits of every STUN
	 * message MUST be zeroes." */
	if (len < STUN_HEADER_SIZE || (buf[0] & 0xC0) != 0)
		return STUN_PARSE_NOT_STUN;

	length = get16(buf + 2);
	msg->type = get16(buf);
	msg->len = STUN_HEADER_SIZE + length;
	memcpy(msg->tid, buf + 8, STUN_TID_SIZE);

	if (get32(buf + 4) != STUN_MAGIC_COOKIE)
		return STUN_PARSE_BAD_COOKIE;
	/* RFC 8489 section 5: the length "MUST contain the size of the
	 * message in bytes, not including the 20-byte STUN header"; all
	 * attributes are padded, so its last 2 bits are always 0. */
	if (length % 4 != 0 || msg->len != len)
		return STUN_PARSE_BAD_LENGTH;

	for (off = STUN_HEADER_SIZE; off < msg->len;) {
		uint16_t type, alen;
		size_t room = msg->len - off;
		struct stun_attr *a;

		if (room < STUN_ATTR_HEADER_SIZE)
			goto bad_attribute;
		type = get16(buf + off);
		alen = get16(buf + off + 2);
		if (pad4(alen) > room - STUN_ATTR_HEADER_SIZE)
			goto bad_attribute;
		/* RFC 8489 section 14.7: FINGERPRINT "MUST be the last
		 * attribute in the message". */
		if (msg->fingerprint >= 0)
			goto bad_attribute;

		if (attr_is_kept(msg, type)) {
			if (msg->nattrs == STUN_MAX_ATTRS) {
				msg_clear_attrs(msg);
				return STUN_PARSE_TOO_MANY_ATTRS;
			}
			a = &msg->attrs[msg->nattrs];
			a->type = type;
			a->len = alen;
			a->offset = (uint32_t)(off + STUN_ATTR_HEADER_SIZE);
			if (type == STUN_ATTR_MESSAGE_INTEGRITY &&
			    msg->integrity < 0)
				msg->integrity = (int)msg->nattrs;
			else if (type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 &&
				 msg->integrity_sha256 < 0)
				msg->integrity_sha256 = (int)msg->nattrs;
			else if (type == STUN_ATTR_FINGERPRINT)
				msg->fingerprint = (int)msg->nattrs;
			msg->nattrs++;
		}
		off += STUN_ATTR_HEADER_SIZE + pad4(alen);
	}
	return STUN_PARSE_OK;

bad_attribute:
	msg_clear_attrs(msg);
	return STUN_PARSE_BAD_ATTRIBUTE;
}

long
stun_frame_len(const uint8_t *buf, size_t len)
{
	size_t length;

	if (len < 4)
		return 0;
	length = get16(buf + 2);
	/* RFC 7983: a first byte of 0-3 is STUN.  ChannelData is framed for
	 * 0x40-0x7F, the channel numbers of RFC 5766 (RFC 8656 narrowed them
	 * to 0x4000-0x4FFF; whether a number is acceptable is the TURN
	 * layer's call).  Anything else cannot be framed.  RFC 8656 section
	 * 12.5: over a stream, ChannelData "MUST be padded to a multiple of
	 * four bytes". */
	if (buf[0] <= 0x03)
		return (long)(STUN_HEADER_SIZE + length);
	if (buf[0] >= 0x40 && buf[0] <= 0x7F)
		return (long)(4 + pad4(length));
	return -1;
}

const struct stun_attr *
stun_find(const struct stun_msg *msg, uint16_t type)
{
	unsigned int i;

	for (i = 0; i < msg->nattrs && i < STUN_MAX_ATTRS; i++)
		if (msg->attrs[i].type == type)
			return &msg->attrs[i];
	return NULL;
}

/* Whether a lies wholly inside msg; attrs[] from stun_parse() always do, a
 * hand-made struct stun_attr might not. */
static bool
attr_in_msg(const struct stun_msg *msg, const struct stun_attr *a)
{
	return a->offset >= STUN_HEADER_SIZE + STUN_ATTR_HEADER_SIZE &&
	       (size_t)a->offset + a->len <= msg->len;
}

/*
 * Decode an address value (RFC 8489 section 14.1 and 14.2), XORed with the
 * magic cookie and transaction id when with_xor is true.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 0 0 0 0 0|    Family     |         (X-)Port              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                (X-)Address (32 bits or 128 bits)              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int
get_addr(const struct stun_msg *msg, const struct stun_attr *a, bool with_xor,
	 struct sockaddr_storage *ss)
{
	uint8_t mask[4 + STUN_TID_SIZE];
	const uint8_t *v;
	uint16_t port;
	size_t i;

	if (!attr_in_msg(msg, a) || a->len < 4)
		return -1;
	v = stun_attr_value(msg, a);
	put32(mask, with_xor ? STUN_MAGIC_COOKIE : 0);
	if (with_xor)
		memcpy(mask + 4, msg->tid, STUN_TID_SIZE);
	else
		memset(mask + 4, 0, STUN_TID_SIZE);
	port = get16(v + 2) ^ get16(mask);

	memset(ss, 0, sizeof(*ss));
	if (v[1] == STUN_FAMILY_IPV4 && a->len == 8) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		uint8_t addr[4];

		for (i = 0; i < sizeof(addr); i++)
			addr[i] = v[4 + i] ^ mask[i];
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, sizeof(addr));
		return 0;
	}
	if (v[1] == STUN_FAMILY_IPV6 && a->len == 20) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		uint8_t addr[16];

		for (i = 0; i < sizeof(addr); i++)
			addr[i] = v[4 + i] ^ mask[i];
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, sizeof(addr));
		return 0;
	}
	return -1;
}

int
stun_get_xor_addr(const struct stun_msg *msg, const struct stun_attr *a,
		  struct sockaddr_storage *ss)
{
	return get_addr(msg, a, true, ss);
}

int
stun_get_addr(const struct stun_msg *msg, const struct stun_attr *a,
	      struct sockaddr_storage *ss)
{
	return get_addr(msg, a, false, ss);
}

int
stun_get_u32(const struct stun_msg *msg, const struct stun_attr *a,
	     uint32_t *out)
{
	if (!attr_in_msg(msg, a) || a->len != 4)
		return -1;
	*out = get32(stun_attr_value(msg, a));
	return 0;
}

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Reserved, should be 0         |Class|     Number    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Reason Phrase (variable)                                ..
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *                RFC 8489 section 14.8: ERROR-CODE
 */
int
stun_get_error_code(const struct stun_msg *msg, const struct stun_attr *a,
		    int *code)
{
	const uint8_t *v;
	int cls, number;

	if (!attr_in_msg(msg, a) || a->len < 4)
		return -1;
	v = stun_attr_value(msg, a);
	cls = v[2] & 0x07;
	number = v[3];
	/* "The Class represents the hundreds digit of the error code.  The
	 * value MUST be between 3 and 6.  The Number represents the binary
	 * encoding of the error code modulo 100, and its value MUST be
	 * between 0 and 99." */
	if (cls < 3 || cls > 6 || number > 99)
		return -1;
	*code = cls * 100 + number;
	return 0;
}

/*
 * Check the integrity attribute attrs[index] of msg: its value must be
 * minlen..maxlen bytes, a multiple of 4, and equal to as many first bytes
 * of the HMAC with d over the header, its length patched to end at the
 * attribute (RFC 8489 section 14.5 and 14.6), and everything between the
 * header and the attribute.  The comparison is constant time.
 */
static bool
check_integrity(struct digest_ctx *crypto, const struct stun_msg *msg,
		int index, enum digest_kind d, size_t minlen, size_t maxlen,
		const uint8_t *key, size_t keylen)
{
	const struct stun_attr *a;
	uint8_t header[STUN_HEADER_SIZE];
	uint8_t digest[DIGEST_MAX];
	size_t start, end;
	bool ok;

	if (index < 0 || (unsigned int)index >= msg->nattrs ||
	    index >= STUN_MAX_ATTRS)
		return false;
	a = &msg->attrs[index];
	if (!attr_in_msg(msg, a) || a->len < minlen || a->len > maxlen ||
	    a->len % 4 != 0 || a->len > sizeof(digest))
		return false;
	start = a->offset - STUN_ATTR_HEADER_SIZE;
	end = a->offset + a->len;

	memcpy(header, msg->buf, STUN_HEADER_SIZE);
	put16(header + 2, (uint16_t)(end - STUN_HEADER_SIZE));
	if (!hmac_message(crypto, d, key, keylen, header,
			  msg->buf + STUN_HEADER_SIZE, start - STUN_HEADER_SIZE,
			  digest))
		return false;
	ok = CRYPTO_memcmp(digest, stun_attr_value(msg, a), a->len) == 0;
	OPENSSL_cleanse(digest, sizeof(digest));
	return ok;
}

bool
stun_check_integrity_with(struct digest_ctx *crypto, const struct stun_msg *msg,
			  bool sha256, const uint8_t *key, size_t keylen)
{
	/* RFC 8489 section 14.5: the value is the 20-byte HMAC-SHA1.
	 * Section 14.6: the SHA-256 value "MUST be at least 16 bytes" and
	 * "MUST be a multiple of 4 bytes", a prefix of the 32-byte
	 * HMAC-SHA256 when truncated. */
	if (sha256)
		return check_integrity(crypto, msg, msg->integrity_sha256,
				       DIGEST_SHA256, STUN_SHA256_MIN_SIZE,
				       STUN_SHA256_SIZE, key, keylen);
	return check_integrity(crypto, msg, msg->integrity, DIGEST_SHA1,
			       STUN_SHA1_SIZE, STUN_SHA1_SIZE, key, keylen);
}

bool
stun_check_integrity(const struct stun_msg *msg, const uint8_t *key,
		     size_t keylen)
{
	return stun_check_integrity_with(NULL, msg, false, key, keylen);
}

bool
stun_check_integrity_sha256(const struct stun_msg *msg, const uint8_t *key,
			    size_t keylen)
{
	return stun_check_integrity_with(NULL, msg, true, key, keylen);
}

bool
stun_check_fingerprint(const struct stun_msg *msg)
{
	const struct stun_attr *a;

	if (msg->fingerprint < 0 ||
	    (unsigned int)msg->fingerprint >= msg->nattrs ||
	    msg->fingerprint >= STUN_MAX_ATTRS)
		return false;
	a = &msg->attrs[msg->fingerprint];
	if (!attr_in_msg(msg, a) || a->len != 4)
		return false;
	/* RFC 8489 section 14.7: "the CRC-32 of the STUN message up to (but
	 * excluding) the FINGERPRINT attribute itself, XOR'ed with the 32-bit
	 * value 0x5354554e".  stun_parse() made sure FINGERPRINT is last, so
	 * the header's length already counts it. */
	return stun_fingerprint(msg->buf, a->offset - STUN_ATTR_HEADER_SIZE) ==
	       get32(stun_attr_value(msg, a));
}

/* Mark the message being built as failed: stun_build_finish() will return
 * 0, so a message missing an attribute cannot be sent by mistake. */
static int
build_fail(struct stun_builder *b)
{
	b->overflow = true;
	return -1;
}

void
stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
		const uint8_t tid[STUN_TID_SIZE])
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->overflow = false;
	b->crypto = NULL;
	if (cap < STUN_HEADER_SIZE) {
		b->overflow = true;
		return;
	}
	put16(buf, type & 0x3FFF);
	put16(buf + 2, 0);
	put32(buf + 4, STUN_MAGIC_COOKIE);
	memcpy(buf + 8, tid, STUN_TID_SIZE);
	b->len = STUN_HEADER_SIZE;
}

/*
 * Append the header of an attribute with a value of len bytes, and its zero
 * padding, and count it in the header's length field.  Returns where the
 * caller writes the value, or NULL (and marks the builder failed) when it
 * does not fit; the message is then unchanged.
 */
static uint8_t *
build_reserve(struct stun_builder *b, uint16_t type, size_t len)
{
	size_t need;
	uint8_t *p;

	if (b->overflow)
		return NULL;
	need = STUN_ATTR_HEADER_SIZE + pad4(len);
	if (len > STUN_MAX_LENGTH_FIELD || need > b->cap - b->len ||
	    b->len - STUN_HEADER_SIZE + need > STUN_MAX_LENGTH_FIELD) {
		build_fail(b);
		return NULL;
	}
	p = b->buf + b->len;
	put16(p, type);
	put16(p + 2, (uint16_t)len);
	memset(p + STUN_ATTR_HEADER_SIZE + len, 0, pad4(len) - len);
	b->len += need;
	put16(b->buf + 2, (uint16_t)(b->len - STUN_HEADER_SIZE));
	return p + STUN_ATTR_HEADER_SIZE;
}

/* Take back the attribute build_reserve() just appended. */
static void
build_unreserve(struct stun_builder *b, size_t len)
{
	b->len -= STUN_ATTR_HEADER_SIZE + pad4(len);
	put16(b->buf + 2, (uint16_t)(b->len - STUN_HEADER_SIZE));
}

int
stun_add_attr(struct stun_builder *b, uint16_t type, const void *value,
	      uint16_t len)
{
	uint8_t *p;

	if (value == NULL && len > 0)
		return build_fail(b);
	if ((p = build_reserve(b, type, len)) == NULL)
		return -1;
	if (len > 0)
		memcpy(p, value, len);
	return 0;
}

int
stun_add_u32(struct stun_builder *b, uint16_t type, uint32_t value)
{
	uint8_t *p;

	if ((p = build_reserve(b, type, 4)) == NULL)
		return -1;
	put32(p, value);
	return 0;
}

/* Encode sa as an address value (see get_addr()), XORed when with_xor is
 * true.  An unsupported family marks the builder failed. */
static int
add_addr(struct stun_builder *b, uint16_t type, const struct sockaddr *sa,
	 bool with_xor)
{
	uint8_t mask[4 + STUN_TID_SIZE];
	const uint8_t *addr;
	uint16_t port;
	size_t addrlen, i;
	uint8_t family, *p;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (b->overflow)
		return -1;
	if (sa == NULL)
		return build_fail(b);
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(&sin, sa, sizeof(sin));
		family = STUN_FAMILY_IPV4;
		port = ntohs(sin.sin_port);
		addr = (const uint8_t *)&sin.sin_addr;
		addrlen = 4;
		break;
	case AF_INET6:
		memcpy(&sin6, sa, sizeof(sin6));
		family = STUN_FAMILY_IPV6;
		port = ntohs(sin6.sin6_port);
		addr = (const uint8_t *)&sin6.sin6_addr;
		addrlen = 16;
		break;
	default:
		return build_fail(b);
	}

	put32(mask, with_xor ? STUN_MAGIC_COOKIE : 0);
	if (with_xor)
		memcpy(mask + 4, b->buf + 8, STUN_TID_SIZE);
	else
		memset(mask + 4, 0, STUN_TID_SIZE);
	if ((p = build_reserve(b, type, 4 + addrlen)) == NULL)
		return -1;
	p[0] = 0;
	p[1] = family;
	put16(p + 2, port ^ get16(mask));
	for (i = 0; i < addrlen; i++)
		p[4 + i] = addr[i] ^ mask[i];
	return 0;
}

int
stun_add_xor_addr(struct stun_builder *b, uint16_t type,
		  const struct sockaddr *sa)
{
	return add_addr(b, type, sa, true);
}

int
stun_add_addr(struct stun_builder *b, uint16_t type, const struct sockaddr *sa)
{
	return add_addr(b, type, sa, false);
}

/*
 * ERROR-CODE (RFC 8489 section 14.8).  The code must be 300-699 and the
 * reason at most 509 bytes ("fewer than 128 characters (which can be as
 * long as 509 bytes when encoding them"); anything else marks the builder
 * failed.
 */
int
stun_add_error(struct stun_builder *b, int code, const char *reason)
{
	size_t rlen;
	uint8_t *p;

	if (b->overflow)
		return -1;
	if (code < 300 || code > 699)
		return build_fail(b);
	if (reason == NULL)
		reason = stun_reason(code);
	for (rlen = 0; reason[rlen] != '\0'; rlen++)
		if (rlen == STUN_ERROR_REASON_MAX)
			return build_fail(b);
	if ((p = build_reserve(b, STUN_ATTR_ERROR_CODE, 4 + rlen)) == NULL)
		return -1;
	p[0] = 0;
	p[1] = 0;
	p[2] = (uint8_t)(code / 100);
	p[3] = (uint8_t)(code % 100);
	memcpy(p + 4, reason, rlen);
	return 0;
}

int
stun_add_unknown(struct stun_builder *b, const uint16_t *types, unsigned int n)
{
	unsigned int i;
	uint8_t *p;

	if (b->overflow)
		return -1;
	if ((types == NULL && n > 0) || n > STUN_MAX_LENGTH_FIELD / 2)
		return build_fail(b);
	if ((p = build_reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		put16(p + 2 * i, types[i]);
	return 0;
}

/*
 * Append an integrity attribute of size bytes computed with d.  The
 * reservation already sets the header's length to end at the new attribute,
 * which is what RFC 8489 section 14.5 and 14.6 have the HMAC cover, so the
 * HMAC runs over the buffer as it stands.
 */
static int
add_integrity(struct stun_builder *b, uint16_t type, enum digest_kind d,
	      size_t size, const uint8_t *key, size_t keylen)
{
	uint8_t digest[DIGEST_MAX];
	size_t start = b->len;
	uint8_t *p;

	if ((p = build_reserve(b, type, size)) == NULL)
		return -1;
	if (!hmac_message(b->crypto, d, key, keylen, b->buf,
			  b->buf + STUN_HEADER_SIZE, start - STUN_HEADER_SIZE,
			  digest)) {
		build_unreserve(b, size);
		return build_fail(b);
	}
	memcpy(p, digest, size);
	OPENSSL_cleanse(digest, sizeof(digest));
	return 0;
}

int
stun_add_integrity(struct stun_builder *b, const uint8_t *key, size_t keylen)
{
	return add_integrity(b, STUN_ATTR_MESSAGE_INTEGRITY, DIGEST_SHA1,
			     STUN_SHA1_SIZE, key, keylen);
}

int
stun_add_integrity_sha256(struct stun_builder *b, const uint8_t *key,
			  size_t keylen)
{
	return add_integrity(b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
			     DIGEST_SHA256, STUN_SHA256_SIZE, key, keylen);
}

int
stun_add_fingerprint(struct stun_builder *b)
{
	size_t start = b->len;
	uint8_t *p;

	if ((p = build_reserve(b, STUN_ATTR_FINGERPRINT, 4)) == NULL)
		return -1;
	/* RFC 8489 section 14.7: the CRC covers the message up to the
	 * FINGERPRINT attribute, with a length that already counts it. */
	put32(p, stun_fingerprint(b->buf, start));
	return 0;
}

size_t
stun_build_finish(struct stun_builder *b)
{
	if (b->overflow)
		return 0;
	put16(b->buf + 2, (uint16_t)(b->len - STUN_HEADER_SIZE));
	return b->len;
}

const char *
stun_reason(int code)
{
	size_t i;

	for (i = 0; i < sizeof(stun_reasons) / sizeof(stun_reasons[0]); i++)
		if (stun_reasons[i].code == code)
			return stun_reasons[i].reason;
	return "Unknown Error";
}
