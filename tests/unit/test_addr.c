/* SPDX-License-Identifier: BSD-2-Clause */
/* test_addr.c: parsing and printing "ip:port" and "[ipv6]:port". */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "addr.h"
#include "unit.h"

static void
check_ok(const char *in, const char *out, int family)
{
	struct sockaddr_storage ss;
	char err[128], buf[ADDR_STRLEN];

	CHECK_INT(addr_parse(in, &ss, err, sizeof(err)), 0);
	CHECK_INT(ss.ss_family, family);
	CHECK_STR(addr_str((struct sockaddr *)&ss, buf, sizeof(buf)), out);
}

static void
check_bad(const char *in, const char *why)
{
	struct sockaddr_storage ss;
	char err[128] = "";

	CHECK_INT(addr_parse(in, &ss, err, sizeof(err)), -1);
	CHECK_STR(err, why);
}

int
main(void)
{
	struct sockaddr_storage a, b;
	char err[128];

	check_ok("0.0.0.0:3478", "0.0.0.0:3478", AF_INET);
	check_ok("127.0.0.1:1", "127.0.0.1:1", AF_INET);
	check_ok("[::]:3478", "[::]:3478", AF_INET6);
	check_ok("[2001:DB8::1]:65535", "[2001:db8::1]:65535", AF_INET6);
	check_ok("[::ffff:192.0.2.1]:5349", "[::ffff:192.0.2.1]:5349",
		 AF_INET6);

	check_bad("1.2.3.4",
		  "\"1.2.3.4\" is not \"ip:port\" or \"[ipv6]:port\"");
	check_bad("::1:3478",
		  "\"::1:3478\" is not \"ip:port\" or \"[ipv6]:port\"");
	check_bad("[::1]3478", "\"[::1]3478\" is not \"[ipv6]:port\"");
	check_bad("[::1:3478", "\"[::1:3478\" is not \"[ipv6]:port\"");
	check_bad("1.2.3.4:0", "\"1.2.3.4:0\": port must be 1-65535");
	check_bad("1.2.3.4:65536", "\"1.2.3.4:65536\": port must be 1-65535");
	check_bad("1.2.3.4:-1", "\"1.2.3.4:-1\": port must be 1-65535");
	check_bad("1.2.3.4:12ab", "\"1.2.3.4:12ab\": port must be 1-65535");
	check_bad("1.2.3.4:", "\"1.2.3.4:\": port must be 1-65535");
	check_bad(":3478", "\":3478\": bad address");
	check_bad("1.2.3:3478", "\"1.2.3:3478\": bad IPv4 address");
	check_bad("localhost:3478", "\"localhost:3478\": bad IPv4 address");
	check_bad("[1.2.3.4]:3478", "\"[1.2.3.4]:3478\": bad IPv6 address");
	check_bad("[]:3478", "\"[]:3478\": bad address");

	/* Equality is family, address and port. */
	addr_parse("10.0.0.1:5", &a, err, sizeof(err));
	addr_parse("10.0.0.1:5", &b, err, sizeof(err));
	CHECK(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	addr_parse("10.0.0.1:6", &b, err, sizeof(err));
	CHECK(!addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	addr_parse("[::ffff:10.0.0.1]:5", &b, err, sizeof(err));
	CHECK(!addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	CHECK_INT(addr_port((struct sockaddr *)&b), 5);
	CHECK_INT(addr_len((struct sockaddr *)&a), sizeof(struct sockaddr_in));
	CHECK_INT(addr_len((struct sockaddr *)&b), sizeof(struct sockaddr_in6));

	return unit_done("test_addr");
}
