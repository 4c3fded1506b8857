/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_peer.c: libFuzzer target for the peer address policy (src/peer.c).
 *
 * The input is text, a NUL byte, then binary.  Each line of the text is an
 * address range for peer_cidr_parse(); a line that starts with '+' or '-'
 * also goes (without that character) into the allowed or denied list of a
 * policy.  The binary part is the policy's relay port range, its own
 * addresses, and then the peers to judge with peer_check() and
 * peer_check_ip().  Invariants checked:
 *  - a parsed range prints as a string that parses to the same range;
 *  - an address inside a denied range is PEER_DENY_CONFIG, however the
 *    range was written (an IPv4-mapped range covers the IPv4 addresses);
 *  - an IPv4 address written in any IPv6 form that carries it (mapped,
 *    SIIT, compatible, NAT64, 6to4, Teredo) is judged no better than the
 *    IPv4 address itself;
 *  - a peer with a port is judged no better than its IP alone.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "peer.h"

#define MAX_LIST  16 /* ranges per list */
#define MAX_SELF  4
#define MAX_PEERS 64
#define ADDR_REC  19 /* family byte, 16 address bytes, 2 port bytes */

static void
fuzz_cidr_roundtrip(const char *line, struct peer_cidr *c, bool *ok)
{
	char err[256], buf[PEER_CIDR_STRLEN];
	struct peer_cidr again;

	*ok = peer_cidr_parse(line, c, err, sizeof(err)) == 0;
	if (!*ok) {
		FUZZ_ASSERT(err[0] != '\0');
		return;
	}
	FUZZ_ASSERT(c->family == AF_INET || c->family == AF_INET6);
	FUZZ_ASSERT(c->prefix <= (c->family == AF_INET ? 32 : 128));
	peer_cidr_str(c, buf, sizeof(buf));
	FUZZ_ASSERT(strlen(buf) < PEER_CIDR_STRLEN - 1);
	FUZZ_ASSERT(peer_cidr_parse(buf, &again, err, sizeof(err)) == 0);
	FUZZ_ASSERT(memcmp(&again, c, sizeof(again)) == 0);
}

/* A sockaddr from a record of the binary part. */
static void
fuzz_sockaddr(const uint8_t *rec, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	switch (rec[0] % 4) {
	case 0:
	case 1: {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, rec + 1, 4);
		memcpy(&sin->sin_port, rec + 17, 2);
		break;
	}
	case 2: {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, rec + 1, 16);
		memcpy(&sin6->sin6_port, rec + 17, 2);
		break;
	}
	default: /* neither: AF_UNIX, AF_UNSPEC, ... */
		ss->ss_family = rec[1];
		break;
	}
}

static struct sockaddr_storage
v6_from(const uint8_t addr[16], in_port_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = port;
	memcpy(&sin6->sin6_addr, addr, 16);
	return ss;
}

/* Every IPv6 spelling of the IPv4 address in sin must be judged no
 * better than sin itself. */
static void
fuzz_embeddings(const struct peer_policy *p, const struct sockaddr_in *sin)
{
	const uint8_t *v4 = (const uint8_t *)&sin->sin_addr;
	enum peer_verdict base_check =
		peer_check(p, (const struct sockaddr *)sin);
	enum peer_verdict base_ip =
		peer_check_ip(p, (const struct sockaddr *)sin);
	uint8_t forms[7][16];
	size_t n = 0;

	memset(forms, 0, sizeof(forms));
	/* ::ffff:a.b.c.d, ::ffff:0:a.b.c.d, 64:ff9b::a.b.c.d */
	forms[n][10] = forms[n][11] = 0xff;
	memcpy(forms[n++] + 12, v4, 4);
	forms[n][8] = forms[n][9] = 0xff;
	memcpy(forms[n++] + 12, v4, 4);
	forms[n][1] = 0x64, forms[n][2] = 0xff, forms[n][3] = 0x9b;
	memcpy(forms[n++] + 12, v4, 4);
	/* 2002:a.b.c.d::/48, 6to4 */
	forms[n][0] = 0x20, forms[n][1] = 0x02;
	memcpy(forms[n++] + 2, v4, 4);
	/* Teredo, as the server and as the (inverted) client */
	forms[n][0] = 0x20, forms[n][1] = 0x01;
	memcpy(forms[n++] + 4, v4, 4);
	forms[n][0] = 0x20, forms[n][1] = 0x01;
	for (int k = 0; k < 4; k++)
		forms[n][12 + k] = (uint8_t)~v4[k];
	n++;
	/* ::a.b.c.d, except where that is :: or ::1 */
	if (!(v4[0] == 0 && v4[1] == 0 && v4[2] == 0 && v4[3] <= 1))
		memcpy(forms[n++] + 12, v4, 4);

	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage ss = v6_from(forms[i], sin->sin_port);

		FUZZ_ASSERT(peer_check(p, (struct sockaddr *)&ss) >=
			    base_check);
		FUZZ_ASSERT(peer_check_ip(p, (struct sockaddr *)&ss) >=
			    base_ip);
	}
}

/* An address inside c, its host bits taken from bits. */
static struct sockaddr_storage
inside(const struct peer_cidr *c, const uint8_t bits[16], in_port_t port)
{
	struct sockaddr_storage ss;
	uint8_t addr[16];
	size_t len = c->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < len; i++) {
		unsigned int keep = 0; /* bits of this byte in the prefix */
		uint8_t mask;

		if (i < c->prefix / 8U)
			keep = 8;
		else if (i == c->prefix / 8U)
			keep = c->prefix % 8U;
		mask = (uint8_t)(0xff00u >> keep);

		addr[i] = (uint8_t)((c->addr[i] & mask) | (bits[i] & ~mask));
	}
	memset(&ss, 0, sizeof(ss));
	if (c->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = port;
		memcpy(&sin->sin_addr, addr, 4);
		return ss;
	}
	return v6_from(addr, port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer_cidr allowed[MAX_LIST], denied[MAX_LIST], c;
	struct sockaddr_storage self[MAX_SELF], ss;
	const uint8_t *text_end = memchr(data, '\0', size), *p, *end;
	size_t nallowed = 0, ndenied = 0, nself = 0, npeers = 0;
	unsigned int port_min, port_max;
	struct peer_policy *pol;
	char line[128];
	bool ok;

	if (text_end == NULL)
		text_end = data + size;
	for (p = data; p < text_end;) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(text_end - p));
		size_t len = (size_t)((nl != NULL ? nl : text_end) - p);

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl != NULL ? nl + 1 : text_end;

		fuzz_cidr_roundtrip(line, &c, &ok);
		if (line[0] != '+' && line[0] != '-')
			continue;
		fuzz_cidr_roundtrip(line + 1, &c, &ok);
		if (!ok)
			continue;
		if (line[0] == '+' && nallowed < MAX_LIST)
			allowed[nallowed++] = c;
		else if (line[0] == '-' && ndenied < MAX_LIST)
			denied[ndenied++] = c;
	}

	p = text_end < data + size ? text_end + 1 : text_end;
	end = data + size;
	if (end - p < 5)
		return 0;
	port_min = (unsigned int)(p[0] << 8 | p[1]);
	port_max = (unsigned int)(p[2] << 8 | p[3]);
	nself = p[4] % (MAX_SELF + 1);
	p += 5;
	for (size_t i = 0; i < nself; i++, p += ADDR_REC) {
		if (end - p < ADDR_REC) {
			nself = i;
			break;
		}
		fuzz_sockaddr(p, &self[i]);
	}
	pol = peer_policy_new(allowed, nallowed, denied, ndenied, self, nself,
			      port_min, port_max);
	FUZZ_ASSERT(pol != NULL);

	for (; end - p >= ADDR_REC && npeers < MAX_PEERS;
	     p += ADDR_REC, npeers++) {
		enum peer_verdict vc, vi;

		fuzz_sockaddr(p, &ss);
		vc = peer_check(pol, (struct sockaddr *)&ss);
		vi = peer_check_ip(pol, (struct sockaddr *)&ss);
		FUZZ_ASSERT(vc <= PEER_DENY_BAD && vi <= PEER_DENY_BAD);
		FUZZ_ASSERT(strcmp(peer_verdict_name(vc), "unknown") != 0);
		if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
			FUZZ_ASSERT(vc == PEER_DENY_BAD && vi == PEER_DENY_BAD);
			continue;
		}
		FUZZ_ASSERT(vi != PEER_DENY_BAD);
		if (vc != PEER_DENY_BAD)
			FUZZ_ASSERT(vc >= vi);
		if (ss.ss_family == AF_INET)
			fuzz_embeddings(pol, (struct sockaddr_in *)&ss);
		/* The record's bytes as host bits inside each denied range. */
		for (size_t i = 0; i < ndenied; i++) {
			struct sockaddr_storage in =
				inside(&denied[i], p + 1, htons(3478));
			const struct sockaddr *sa = (struct sockaddr *)&in;

			FUZZ_ASSERT(peer_check_ip(pol, sa) == PEER_DENY_CONFIG);
			FUZZ_ASSERT(peer_check(pol, sa) == PEER_DENY_CONFIG);
		}
	}
	peer_policy_free(pol);
	return 0;
}
