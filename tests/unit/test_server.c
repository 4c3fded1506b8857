/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_server.c: the protocol core without sockets: requests built as
 * bytes go through server_handle() and the answers are parsed back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "conf.h"
#include "server.h"
#include "stun.h"
#include "unit.h"

static struct stats stats;
static struct conf *conf;
static struct server srv;
static struct sockaddr_in peer4, local4;
static struct sockaddr_in6 peer6;
static const uint8_t tid[STUN_TID_SIZE] = { 1, 2, 3, 4,  5,  6,
					    7, 8, 9, 10, 11, 12 };

static size_t
handle(const uint8_t *req, size_t len, const struct sockaddr *from,
       uint8_t *out)
{
	struct server_msg m = {
		.data = req,
		.len = len,
		.peer = from,
		.local = (struct sockaddr *)&local4,
		.transport = SERVER_UDP,
		.now_ms = 1000,
	};

	return server_handle(&srv, &m, out, SERVER_MAX_MESSAGE);
}

/* A request of the given type with an optional extra attribute. */
static size_t
build(uint8_t *buf, uint16_t type, uint16_t attr, bool fingerprint)
{
	struct stun_builder b;
	static const uint8_t value[4] = { 0 };

	stun_build_init(&b, buf, SERVER_MAX_MESSAGE, type, tid);
	if (attr != 0)
		stun_add_attr(&b, attr, value, sizeof(value));
	if (fingerprint)
		stun_add_fingerprint(&b);
	return stun_build_finish(&b);
}

static const uint16_t binding_req = 0x0001;

static void
test_binding(void)
{
	uint8_t req[SERVER_MAX_MESSAGE], out[SERVER_MAX_MESSAGE];
	struct sockaddr_storage mapped;
	struct stun_msg msg;
	size_t n;

	/* IPv4, no FINGERPRINT: XOR-MAPPED-ADDRESS and nothing else. */
	n = handle(req, build(req, binding_req, 0, false),
		   (struct sockaddr *)&peer4, out);
	CHECK_INT(n, STUN_HEADER_SIZE + 12);
	CHECK_INT(stun_parse(out, n, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.type, 0x0101);
	CHECK_MEM(msg.tid, tid, STUN_TID_SIZE);
	CHECK_INT(msg.nattrs, 1);
	CHECK_INT(msg.fingerprint, -1);
	CHECK_INT(stun_get_xor_addr(
			  &msg, stun_find(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS),
			  &mapped),
		  0);
	CHECK(((struct sockaddr_in *)&mapped)->sin_addr.s_addr ==
	      peer4.sin_addr.s_addr);
	CHECK(((struct sockaddr_in *)&mapped)->sin_port == peer4.sin_port);

	/* IPv6 with FINGERPRINT: the answer carries a valid one. */
	n = handle(req, build(req, binding_req, 0, true),
		   (struct sockaddr *)&peer6, out);
	CHECK_INT(n, STUN_HEADER_SIZE + 24 + 8);
	CHECK_INT(stun_parse(out, n, &msg), STUN_PARSE_OK);
	CHECK(msg.fingerprint >= 0);
	CHECK(stun_check_fingerprint(&msg));
	CHECK_INT(stun_get_xor_addr(
			  &msg, stun_find(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS),
			  &mapped),
		  0);
	CHECK(memcmp(&((struct sockaddr_in6 *)&mapped)->sin6_addr,
		     &peer6.sin6_addr, 16) == 0);

	/* Comprehension-optional unknown attributes are ignored. */
	n = handle(req, build(req, binding_req, 0x8031, false),
		   (struct sockaddr *)&peer4, out);
	CHECK_INT(stun_parse(out, n, &msg), STUN_PARSE_OK);
	CHECK_INT(msg.type, 0x0101);
	CHECK_INT(stats.binding_responses, 3);
	CHECK_INT(stats.requests[STUN_METHOD_BINDING], 3);
}

static int
error_code(const uint8_t *out, size_t n, struct stun_msg *msg)
{
	int code = 0;

	if (stun_parse(out, n, msg) != STUN_PARSE_OK)
		return -1;
	if (stun_get_error_code(msg, stun_find(msg, STUN_ATTR_ERROR_CODE),
				&code) == -1)
		return -1;
	return code;
}

static void
test_errors(void)
{
	uint8_t req[SERVER_MAX_MESSAGE], out[SERVER_MAX_MESSAGE];
	struct stun_builder b;
	struct stun_msg msg;
	const struct stun_attr *a;
	static const uint8_t v[4];
	size_t n;

	/* 420 lists each unknown comprehension-required attribute once. */
	stun_build_init(&b, req, sizeof(req), binding_req, tid);
	stun_add_attr(&b, 0x0031, v, 4);
	stun_add_attr(&b, 0x0031, v, 4);
	stun_add_attr(&b, 0x7FFF, v, 4);
	stun_add_fingerprint(&b);
	n = handle(req, stun_build_finish(&b), (struct sockaddr *)&peer4, out);
	CHECK_INT(error_code(out, n, &msg), 420);
	CHECK_INT(msg.type, 0x0111);
	CHECK_MEM(msg.tid, tid, STUN_TID_SIZE);
	CHECK(stun_check_fingerprint(&msg));
	a = stun_find(&msg, STUN_ATTR_UNKNOWN_ATTRIBUTES);
	CHECK(a != NULL);
	if (a != NULL) {
		const uint8_t *p = stun_attr_value(&msg, a);

		CHECK_INT(a->len, 4);
		CHECK_INT(p[0] << 8 | p[1], 0x0031);
		CHECK_INT(p[2] << 8 | p[3], 0x7FFF);
	}
	CHECK_INT(stats.errors[STATS_ERR_420], 1);

	/* An unknown method in a request: 400, with that method. */
	n = handle(req,
		   build(req, stun_type(0x0FF, STUN_CLASS_REQUEST), 0, false),
		   (struct sockaddr *)&peer4, out);
	CHECK_INT(error_code(out, n, &msg), 400);
	CHECK_INT(msg.type, stun_type(0x0FF, STUN_CLASS_ERROR));

	/* A sound header with an attribute overrunning the message: 400. */
	n = build(req, binding_req, STUN_ATTR_SOFTWARE, false);
	req[STUN_HEADER_SIZE + 3] = 40; /* the attribute claims 40 bytes */
	n = handle(req, n, (struct sockaddr *)&peer4, out);
	CHECK_INT(error_code(out, n, &msg), 400);
	CHECK_INT(msg.type, 0x0111);
	CHECK_INT(stats.errors[STATS_ERR_400], 2);
}

static void
test_drops(void)
{
	uint8_t req[SERVER_MAX_MESSAGE + 8], out[SERVER_MAX_MESSAGE];
	size_t n;

	/* A FINGERPRINT that does not match: not STUN, no answer. */
	n = build(req, binding_req, 0, true);
	req[n - 1] ^= 1;
	CHECK_INT(handle(req, n, (struct sockaddr *)&peer4, out), 0);
	CHECK_INT(stats.drop_fingerprint, 1);

	/* Lengths that do not add up. */
	n = build(req, binding_req, 0, false);
	CHECK_INT(handle(req, n - 1, (struct sockaddr *)&peer4, out), 0);
	req[3] = 2;
	CHECK_INT(handle(req, n + 2, (struct sockaddr *)&peer4, out), 0);
	CHECK_INT(stats.drop_malformed, 1);
	CHECK_INT(stats.drop_not_stun, 1); /* 19 bytes: not even a header */

	/* Indications and responses are not answered. */
	n = build(req, stun_type(STUN_METHOD_BINDING, STUN_CLASS_INDICATION), 0,
		  false);
	CHECK_INT(handle(req, n, (struct sockaddr *)&peer4, out), 0);
	n = build(req, 0x0101, 0, false);
	CHECK_INT(handle(req, n, (struct sockaddr *)&peer4, out), 0);
	CHECK_INT(stats.drop_unexpected, 2);

	/* ChannelData, garbage, nothing at all, too much. */
	memset(req, 0x40, 8);
	CHECK_INT(handle(req, 8, (struct sockaddr *)&peer4, out), 0);
	memset(req, 0xff, 64);
	CHECK_INT(handle(req, 64, (struct sockaddr *)&peer4, out), 0);
	CHECK_INT(handle(req, 0, (struct sockaddr *)&peer4, out), 0);
	CHECK_INT(stats.drop_not_stun, 4);
	memset(req, 0, sizeof(req));
	req[1] = 1;
	CHECK_INT(handle(req, SERVER_MAX_MESSAGE + 4, (struct sockaddr *)&peer4,
			 out),
		  0);
	CHECK_INT(stats.drop_oversized, 1);
}

static void
test_classic(void)
{
	uint8_t req[STUN_HEADER_SIZE], out[SERVER_MAX_MESSAGE];
	struct sockaddr_storage mapped;
	struct stun_msg msg;
	size_t n;

	/* RFC 3489: a 16-byte transaction id where the cookie would be. */
	memset(req, 0xA5, sizeof(req));
	req[0] = 0x00;
	req[1] = 0x01;
	req[2] = 0x00;
	req[3] = 0x00;
	CHECK_INT(handle(req, sizeof(req), (struct sockaddr *)&peer4, out), 0);
	CHECK_INT(stats.drop_classic, 1);

	conf->stun_rfc3489 = true;
	n = handle(req, sizeof(req), (struct sockaddr *)&peer4, out);
	CHECK_INT(n, STUN_HEADER_SIZE + 12);
	CHECK_INT(out[0] << 8 | out[1], 0x0101);
	CHECK_MEM(out + 4, req + 4, 16);
	CHECK_INT(stun_parse(out, n, &msg), STUN_PARSE_BAD_COOKIE);
	/* Read MAPPED-ADDRESS by hand: the codec wants a cookie. */
	CHECK_INT(out[20] << 8 | out[21], STUN_ATTR_MAPPED_ADDRESS);
	CHECK_INT(out[25], 0x01);
	CHECK_MEM(out + 26, &peer4.sin_port, 2);
	CHECK_MEM(out + 28, &peer4.sin_addr, 4);
	(void)mapped;

	/* Only Binding requests of a sound length are answered. */
	req[1] = 0x11;
	CHECK_INT(handle(req, sizeof(req), (struct sockaddr *)&peer4, out), 0);
	conf->stun_rfc3489 = false;
	CHECK_INT(stats.classic_responses, 1);
}

int
main(void)
{
	char err[CONF_ERRLEN];

	conf = conf_load(NULL, err, sizeof(err));
	if (conf == NULL)
		return 99;
	srv.conf = conf;
	srv.stats = &stats;
	peer4.sin_family = AF_INET;
	peer4.sin_port = htons(40000);
	inet_pton(AF_INET, "192.0.2.7", &peer4.sin_addr);
	local4.sin_family = AF_INET;
	local4.sin_port = htons(3478);
	inet_pton(AF_INET, "198.51.100.1", &local4.sin_addr);
	peer6.sin6_family = AF_INET6;
	peer6.sin6_port = htons(40001);
	inet_pton(AF_INET6, "2001:db8::7", &peer6.sin6_addr);

	test_binding();
	test_errors();
	test_drops();
	test_classic();
	conf_free(conf);
	return unit_done("test_server");
}
