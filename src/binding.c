/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * binding.c: the STUN Binding method (RFC 8489 section 3), and the answer
 * to classic RFC 3489 clients when stun.rfc3489 asks for it.
 *
 * The answer is kept small on purpose: XOR-MAPPED-ADDRESS and, when the
 * request had one, FINGERPRINT.  No SOFTWARE attribute: every byte added
 * to an unauthenticated answer makes the server a better reflector.
 */
#include "config.h"

#include <string.h>

#include "bytes.h"
#include "server.h"
#include "stun.h"

int
binding_handle(struct server *srv, struct server_req *r, struct stun_builder *b)
{
	if (stun_add_xor_addr(b, STUN_ATTR_XOR_MAPPED_ADDRESS, r->m->peer) ==
	    -1)
		return STUN_ERR_SERVER_ERROR;
	srv->stats->binding_responses++;
	return 0;
}

/*
 * RFC 3489 section 11.1: the 16-byte transaction id starts right after the
 * length, where RFC 5389 put the magic cookie.  The answer echoes it whole
 * and carries MAPPED-ADDRESS, which such clients read.  Only a Binding
 * request whose length matches the datagram is answered.
 */
size_t
binding_classic(struct server *srv, const struct server_msg *m, uint8_t *out,
		size_t cap)
{
	struct stun_builder b;
	size_t len;

	if (m->len < STUN_HEADER_SIZE || m->len % 4 != 0 ||
	    (size_t)get16(m->data + 2) + STUN_HEADER_SIZE != m->len ||
	    m->data[0] != 0x00 || m->data[1] != 0x01) {
		srv->stats->drop_malformed++;
		return 0;
	}
	stun_build_init(&b, out, cap,
			stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS),
			m->data + 8);
	stun_add_addr(&b, STUN_ATTR_MAPPED_ADDRESS, m->peer);
	if ((len = stun_build_finish(&b)) == 0)
		return 0;
	memcpy(out + 4, m->data + 4, 4); /* the tid's first 4 bytes */
	srv->stats->requests[STUN_METHOD_BINDING]++;
	srv->stats->classic_responses++;
	return len;
}
