/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_peer.c: the peer address policy.  Every built-in range from inside
 * and from just outside, every IPv6 spelling of a private IPv4 address, the
 * operator's lists against each other, and the CIDR parser.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/un.h>

#include "peer.h"
#include "unit.h"

/* Fill ss with ip (IPv4 or IPv6 text) and port. */
static void
make_addr(struct sockaddr_storage *ss, const char *ip, unsigned int port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		CHECK_INT(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		CHECK_INT(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	}
}

static void
expect_ss(const struct peer_policy *p, const struct sockaddr_storage *ss,
	  enum peer_verdict want, const char *what)
{
	enum peer_verdict got = peer_check(p, (const struct sockaddr *)ss);

	CHECK_INT(got, want);
	if (got != want)
		fprintf(stderr, "    peer %s: %s, expected %s\n", what,
			peer_verdict_name(got), peer_verdict_name(want));
}

static void
expect(const struct peer_policy *p, const char *ip, enum peer_verdict want)
{
	struct sockaddr_storage ss;

	make_addr(&ss, ip, 3478);
	expect_ss(p, &ss, want, ip);
}

/* Build a policy from CIDR strings; self is "ip:port"-free, port 3478. */
static struct peer_policy *
make_policy(const char *const *allowed, const char *const *denied,
	    const char *const *self)
{
	struct peer_cidr a[8], d[8];
	struct sockaddr_storage s[8];
	struct peer_policy *p;
	size_t na = 0, nd = 0, ns = 0;
	char err[128];

	for (; allowed != NULL && *allowed != NULL; allowed++)
		CHECK_INT(peer_cidr_parse(*allowed, &a[na++], err, sizeof(err)),
			  0);
	for (; denied != NULL && *denied != NULL; denied++)
		CHECK_INT(peer_cidr_parse(*denied, &d[nd++], err, sizeof(err)),
			  0);
	for (; self != NULL && *self != NULL; self++)
		make_addr(&s[ns++], *self, 3478);
	p = peer_policy_new(a, na, d, nd, s, ns, 49152, 65535);
	CHECK(p != NULL);
	return p;
}

/* The built-in ranges: inside each (first, middle, last), then neighbours. */
static void
test_defaults(void)
{
	static const struct {
		const char *ip;
		enum peer_verdict want;
	} cases[] = {
		/* CVE-2020-26262 reached loopback through these three. */
		{ "0.0.0.0", PEER_DENY_DEFAULT },
		{ "::", PEER_DENY_DEFAULT },
		{ "::1", PEER_DENY_DEFAULT },

		{ "0.1.2.3", PEER_DENY_DEFAULT },
		{ "0.255.255.255", PEER_DENY_DEFAULT },
		{ "1.0.0.0", PEER_ALLOW },
		{ "10.0.0.0", PEER_DENY_DEFAULT },
		{ "10.1.2.3", PEER_DENY_DEFAULT },
		{ "10.255.255.255", PEER_DENY_DEFAULT },
		{ "9.255.255.255", PEER_ALLOW },
		{ "11.0.0.0", PEER_ALLOW },
		{ "100.64.0.0", PEER_DENY_DEFAULT },
		{ "100.100.100.100", PEER_DENY_DEFAULT },
		{ "100.127.255.255", PEER_DENY_DEFAULT },
		{ "100.63.255.255", PEER_ALLOW },
		{ "100.128.0.0", PEER_ALLOW },
		{ "127.0.0.0", PEER_DENY_DEFAULT },
		{ "127.0.0.1", PEER_DENY_DEFAULT },
		{ "127.255.255.255", PEER_DENY_DEFAULT },
		{ "126.255.255.255", PEER_ALLOW },
		{ "128.0.0.0", PEER_ALLOW },
		{ "169.254.0.0", PEER_DENY_DEFAULT },
		{ "169.254.169.254", PEER_DENY_DEFAULT },
		{ "169.254.255.255", PEER_DENY_DEFAULT },
		{ "169.253.255.255", PEER_ALLOW },
		{ "169.255.0.0", PEER_ALLOW },
		{ "172.16.0.0", PEER_DENY_DEFAULT },
		{ "172.20.1.1", PEER_DENY_DEFAULT },
		{ "172.31.255.255", PEER_DENY_DEFAULT },
		{ "172.15.255.255", PEER_ALLOW },
		{ "172.32.0.0", PEER_ALLOW },
		{ "192.0.0.0", PEER_DENY_DEFAULT },
		{ "192.0.0.8", PEER_DENY_DEFAULT },
		{ "192.0.0.255", PEER_DENY_DEFAULT },
		{ "191.255.255.255", PEER_ALLOW },
		{ "192.0.1.0", PEER_ALLOW },
		{ "192.168.0.0", PEER_DENY_DEFAULT },
		{ "192.168.1.1", PEER_DENY_DEFAULT },
		{ "192.168.255.255", PEER_DENY_DEFAULT },
		{ "192.167.255.255", PEER_ALLOW },
		{ "192.169.0.0", PEER_ALLOW },
		{ "198.18.0.0", PEER_DENY_DEFAULT },
		{ "198.18.255.255", PEER_DENY_DEFAULT },
		{ "198.19.255.255", PEER_DENY_DEFAULT },
		{ "198.17.255.255", PEER_ALLOW },
		{ "198.20.0.0", PEER_ALLOW },
		{ "224.0.0.0", PEER_DENY_DEFAULT },
		{ "224.0.0.251", PEER_DENY_DEFAULT },
		{ "239.255.255.255", PEER_DENY_DEFAULT },
		{ "223.255.255.255", PEER_ALLOW },
		{ "240.0.0.0", PEER_DENY_DEFAULT },
		{ "250.1.2.3", PEER_DENY_DEFAULT },
		{ "255.255.255.255", PEER_DENY_DEFAULT },

		/* Public, and documentation ranges, which are not listed. */
		{ "8.8.8.8", PEER_ALLOW },
		{ "192.0.2.1", PEER_ALLOW },
		{ "198.51.100.1", PEER_ALLOW },
		{ "203.0.113.5", PEER_ALLOW },

		{ "fe80::", PEER_DENY_DEFAULT },
		{ "fe80::1", PEER_DENY_DEFAULT },
		{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		  PEER_DENY_DEFAULT },
		{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_ALLOW },
		{ "fec0::1", PEER_ALLOW },
		{ "fc00::", PEER_DENY_DEFAULT },
		{ "fd12:3456::1", PEER_DENY_DEFAULT },
		{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		  PEER_DENY_DEFAULT },
		{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_ALLOW },
		{ "fe00::", PEER_ALLOW },
		{ "ff00::", PEER_DENY_DEFAULT },
		{ "ff02::1", PEER_DENY_DEFAULT },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		  PEER_DENY_DEFAULT },
		{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PEER_ALLOW },
		{ "64:ff9b:1::", PEER_DENY_DEFAULT },
		{ "64:ff9b:1::808:808", PEER_DENY_DEFAULT },
		{ "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", PEER_DENY_DEFAULT },
		{ "64:ff9b:0:ffff:ffff:ffff:ffff:ffff", PEER_ALLOW },
		{ "64:ff9b:2::", PEER_ALLOW },
		{ "::2", PEER_DENY_DEFAULT }, /* ::0.0.0.2, in 0.0.0.0/8 */
		{ "::1:0:0:0", PEER_ALLOW },

		{ "2001:db8::1", PEER_ALLOW },
		{ "2001:4860:4860::8888", PEER_ALLOW },
		{ "2606:4700:4700::1111", PEER_ALLOW },
	};
	const struct peer_cidr *def;
	struct peer_policy *p;
	struct sockaddr_storage ss;
	char buf[PEER_CIDR_STRLEN];
	size_t i, n;

	p = peer_policy_new(NULL, 0, NULL, 0, NULL, 0, 49152, 65535);
	CHECK(p != NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(p, cases[i].ip, cases[i].want);

	/* The exported table is the one in force, and the documented one. */
	def = peer_default_denied(&n);
	CHECK_INT(n, 17);
	for (i = 0; i < n; i++) {
		peer_cidr_str(&def[i], buf, sizeof(buf));
		*strchr(buf, '/') = '\0';
		expect(p, buf, PEER_DENY_DEFAULT);
	}
	CHECK_STR(peer_cidr_str(&def[0], buf, sizeof(buf)), "0.0.0.0/8");
	CHECK_STR(peer_cidr_str(&def[13], buf, sizeof(buf)), "64:ff9b:1::/48");
	CHECK_STR(peer_cidr_str(&def[16], buf, sizeof(buf)), "ff00::/8");

	/* Any port but 0 is judged alike. */
	make_addr(&ss, "127.0.0.1", 1);
	expect_ss(p, &ss, PEER_DENY_DEFAULT, "127.0.0.1:1");
	make_addr(&ss, "8.8.8.8", 65535);
	expect_ss(p, &ss, PEER_ALLOW, "8.8.8.8:65535");
	peer_policy_free(p);
}

enum embed_form {
	EMBED_MAPPED,     /* ::ffff:a.b.c.d */
	EMBED_COMPATIBLE, /* ::a.b.c.d */
	EMBED_SIIT,       /* ::ffff:0:a.b.c.d */
	EMBED_NAT64,      /* 64:ff9b::a.b.c.d */
	EMBED_6TO4,       /* 2002:V4ADDR::1 */
	EMBED_TEREDO,     /* 2001:0:4136:e378:8000:63bf:~V4ADDR */
	EMBED_NFORMS
};

static const char *const embed_names[EMBED_NFORMS] = {
	"mapped", "compatible", "SIIT", "NAT64", "6to4", "Teredo",
};

/* ss = v4 (text) written in the IPv6 form f. */
static void
embed(struct sockaddr_storage *ss, enum embed_form f, const char *v4)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	uint8_t *a = sin6->sin6_addr.s6_addr;
	uint8_t ip[4];
	int i;

	CHECK_INT(inet_pton(AF_INET, v4, ip), 1);
	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(3478);
	switch (f) {
	case EMBED_MAPPED:
		a[10] = a[11] = 0xff;
		memcpy(a + 12, ip, 4);
		break;
	case EMBED_COMPATIBLE:
		memcpy(a + 12, ip, 4);
		break;
	case EMBED_SIIT:
		a[8] = a[9] = 0xff;
		memcpy(a + 12, ip, 4);
		break;
	case EMBED_NAT64:
		a[1] = 0x64, a[2] = 0xff, a[3] = 0x9b;
		memcpy(a + 12, ip, 4);
		break;
	case EMBED_6TO4:
		a[0] = 0x20, a[1] = 0x02;
		memcpy(a + 2, ip, 4);
		a[15] = 1;
		break;
	case EMBED_TEREDO:
		/* Server 65.54.227.120, flags 0x8000, port 40000. */
		a[0] = 0x20, a[1] = 0x01;
		a[4] = 65, a[5] = 54, a[6] = 227, a[7] = 120;
		a[8] = 0x80, a[10] = 0x63, a[11] = 0xbf;
		for (i = 0; i < 4; i++)
			a[12 + i] = ip[i] ^ 0xff;
		break;
	default:
		break;
	}
}

static void
expect_embedded(const struct peer_policy *p, const char *v4,
		enum peer_verdict want)
{
	struct sockaddr_storage ss;
	char what[64];
	int f;

	for (f = 0; f < EMBED_NFORMS; f++) {
		embed(&ss, (enum embed_form)f, v4);
		snprintf(what, sizeof(what), "%s in %s form", v4,
			 embed_names[f]);
		expect_ss(p, &ss, want, what);
	}
}

/* Every IPv6 spelling of an IPv4 address is judged by the IPv4 inside. */
static void
test_embedded(void)
{
	struct peer_policy *p;

	p = peer_policy_new(NULL, 0, NULL, 0, NULL, 0, 49152, 65535);
	CHECK(p != NULL);
	expect_embedded(p, "127.0.0.1", PEER_DENY_DEFAULT);
	expect_embedded(p, "10.1.2.3", PEER_DENY_DEFAULT);
	expect_embedded(p, "192.168.0.1", PEER_DENY_DEFAULT);
	expect_embedded(p, "169.254.169.254", PEER_DENY_DEFAULT);
	expect_embedded(p, "0.0.0.0", PEER_DENY_DEFAULT);
	expect_embedded(p, "255.255.255.255", PEER_DENY_DEFAULT);
	expect_embedded(p, "8.8.8.8", PEER_ALLOW);
	expect_embedded(p, "203.0.113.5", PEER_ALLOW);

	/* The same, written out, so that embed() is checked too. */
	expect(p, "::ffff:127.0.0.1", PEER_DENY_DEFAULT);
	expect(p, "::127.0.0.1", PEER_DENY_DEFAULT);
	expect(p, "::ffff:0:127.0.0.1", PEER_DENY_DEFAULT);
	expect(p, "64:ff9b::7f00:1", PEER_DENY_DEFAULT);
	expect(p, "2002:7f00:1::1", PEER_DENY_DEFAULT);
	expect(p, "2002:a9fe:a9fe::", PEER_DENY_DEFAULT);
	expect(p, "2001:0:4136:e378:8000:63bf:80ff:fffe", PEER_DENY_DEFAULT);
	expect(p, "::ffff:8.8.8.8", PEER_ALLOW);
	expect(p, "2002:808:808::1", PEER_ALLOW);
	/* RFC 4380's style of example: client 192.0.2.45 behind a NAT. */
	expect(p, "2001:0:4136:e378:8000:63bf:3fff:fdd2", PEER_ALLOW);
	/* A Teredo "server" on a private network is refused too. */
	expect(p, "2001:0:a00:1:8000:63bf:3fff:fdd2", PEER_DENY_DEFAULT);
	/* 64:ff9b::/96 only; the rest of 64:ff9b::/32 carries no IPv4. */
	expect(p, "64:ff9b:0:1::7f00:1", PEER_ALLOW);
	peer_policy_free(p);
}

static void
test_operator_lists(void)
{
	static const char *const allow_lo[] = { "127.0.0.1/32", NULL };
	static const char *const allow_10[] = { "10.0.0.0/8", NULL };
	static const char *const deny_10_1[] = { "10.1.0.0/16", NULL };
	static const char *const deny_pub[] = { "203.0.113.0/24",
						"2001:db8:bad::/48", NULL };
	static const char *const deny_6to4[] = { "2002::/16", NULL };
	static const char *const allow_v6[] = { "::/0", NULL };
	static const char *const deny_mapped[] = { "::ffff:8.8.8.0/120", NULL };
	static const char *const allow_mapped[] = { "::ffff:192.168.0.0/112",
						    NULL };
	struct peer_policy *p;

	/* An allow opens a hole in the built-in list, for every spelling. */
	p = make_policy(allow_lo, NULL, NULL);
	expect(p, "127.0.0.1", PEER_ALLOW);
	expect_embedded(p, "127.0.0.1", PEER_ALLOW);
	expect(p, "127.0.0.2", PEER_DENY_DEFAULT);
	expect(p, "::ffff:127.0.0.2", PEER_DENY_DEFAULT);
	expect(p, "::1", PEER_DENY_DEFAULT); /* judged as IPv6 */
	expect(p, "10.0.0.1", PEER_DENY_DEFAULT);
	peer_policy_free(p);

	/* An explicit deny beats an allow. */
	p = make_policy(allow_10, deny_10_1, NULL);
	expect(p, "10.1.2.3", PEER_DENY_CONFIG);
	expect_embedded(p, "10.1.2.3", PEER_DENY_CONFIG);
	expect(p, "10.2.0.1", PEER_ALLOW);
	expect_embedded(p, "10.2.0.1", PEER_ALLOW);
	expect(p, "11.0.0.1", PEER_ALLOW);
	expect(p, "192.168.0.1", PEER_DENY_DEFAULT);
	peer_policy_free(p);

	/* Denying public ranges, of either family. */
	p = make_policy(NULL, deny_pub, NULL);
	expect(p, "203.0.113.5", PEER_DENY_CONFIG);
	expect_embedded(p, "203.0.113.5", PEER_DENY_CONFIG);
	expect(p, "203.0.114.1", PEER_ALLOW);
	expect(p, "2001:db8:bad::1", PEER_DENY_CONFIG);
	expect(p, "2001:db8:bae::1", PEER_ALLOW);
	expect(p, "127.0.0.1", PEER_DENY_DEFAULT);
	peer_policy_free(p);

	/* An IPv4 allow does not open an IPv6 range that is denied. */
	p = make_policy(allow_lo, deny_6to4, NULL);
	expect(p, "2002:7f00:1::1", PEER_DENY_CONFIG);
	expect(p, "2002:808:808::1", PEER_DENY_CONFIG);
	expect(p, "::ffff:127.0.0.1", PEER_ALLOW);
	peer_policy_free(p);

	/* Nor does an IPv6 allow open the IPv4 addresses it spells. */
	p = make_policy(allow_v6, NULL, NULL);
	expect(p, "fe80::1", PEER_ALLOW);
	expect(p, "::1", PEER_ALLOW);
	expect(p, "::ffff:127.0.0.1", PEER_DENY_DEFAULT);
	expect(p, "2002:a00:1::", PEER_DENY_DEFAULT);
	expect(p, "127.0.0.1", PEER_DENY_DEFAULT);
	peer_policy_free(p);

	/* An IPv4-mapped range in the config is that IPv4 range. */
	p = make_policy(allow_mapped, deny_mapped, NULL);
	expect(p, "8.8.8.8", PEER_DENY_CONFIG);
	expect(p, "::ffff:8.8.8.8", PEER_DENY_CONFIG);
	expect(p, "8.8.4.4", PEER_ALLOW);
	expect(p, "192.168.3.4", PEER_ALLOW);
	expect(p, "::ffff:192.168.3.4", PEER_ALLOW);
	expect(p, "192.169.3.4", PEER_ALLOW);
	expect(p, "10.0.0.1", PEER_DENY_DEFAULT);
	peer_policy_free(p);
}

static void
test_self(void)
{
	static const char *const allow[] = { "192.0.2.0/24", "10.0.0.0/8",
					     NULL };
	static const char *const deny[] = { "10.9.9.9/32", NULL };
	static const char *const self[] = {
		"192.0.2.10", "2001:db8::10", "::ffff:198.51.100.7",
		"10.0.0.5",   "10.9.9.9",     "203.0.113.10",
		NULL
	};
	struct sockaddr_storage ss;
	struct peer_policy *p;

	p = make_policy(allow, deny, self);
	/* The server's own addresses, on a port that is not a relay port
	 * (expect() uses 3478): refused. */
	expect(p, "2001:db8::10", PEER_DENY_SELF);
	expect(p, "2001:db8::11", PEER_ALLOW);
	expect(p, "203.0.113.10", PEER_DENY_SELF);
	expect_embedded(p, "203.0.113.10", PEER_DENY_SELF);
	expect(p, "203.0.113.11", PEER_ALLOW);
	/* A dual-stack socket's mapped address is its IPv4 address. */
	expect(p, "198.51.100.7", PEER_DENY_SELF);
	expect(p, "::ffff:198.51.100.7", PEER_DENY_SELF);
	make_addr(&ss, "203.0.113.10", 22);
	expect_ss(p, &ss, PEER_DENY_SELF, "203.0.113.10:22");
	make_addr(&ss, "203.0.113.10", 49151);
	expect_ss(p, &ss, PEER_DENY_SELF, "203.0.113.10:49151");
	/* On a relay port it is another allocation of this server: two
	 * browsers relaying through us reach each other that way. */
	make_addr(&ss, "203.0.113.10", 49152);
	expect_ss(p, &ss, PEER_ALLOW, "203.0.113.10:49152");
	make_addr(&ss, "2001:db8::10", 65535);
	expect_ss(p, &ss, PEER_ALLOW, "[2001:db8::10]:65535");
	/* A permission names no port: the IP alone is not refused. */
	CHECK_INT(peer_check_ip(p, (struct sockaddr *)&ss), PEER_ALLOW);
	/* An operator's allow beats the self rule (a lab on loopback), but
	 * not the default deny list's reach beyond what it allows. */
	expect(p, "192.0.2.10", PEER_ALLOW);
	expect(p, "10.0.0.5", PEER_ALLOW);
	/* On a relay port, self gives way to the default list. */
	make_addr(&ss, "198.51.100.7", 50000);
	expect_ss(p, &ss, PEER_ALLOW, "198.51.100.7:50000");
	/* The operator's deny is the more specific reason. */
	expect(p, "10.9.9.9", PEER_DENY_CONFIG);
	expect(p, "::ffff:10.9.9.9", PEER_DENY_CONFIG);
	peer_policy_free(p);
}

static void
test_bad(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	struct peer_policy *p;

	p = peer_policy_new(NULL, 0, NULL, 0, NULL, 0, 49152, 65535);
	CHECK(p != NULL);
	make_addr(&ss, "8.8.8.8", 0);
	expect_ss(p, &ss, PEER_DENY_BAD, "8.8.8.8:0");
	make_addr(&ss, "2001:db8::1", 0);
	expect_ss(p, &ss, PEER_DENY_BAD, "[2001:db8::1]:0");
	make_addr(&ss, "127.0.0.1", 0);
	expect_ss(p, &ss, PEER_DENY_BAD, "127.0.0.1:0");

	/* CreatePermission ignores the port (RFC 8656 section 10.2). */
	make_addr(&ss, "8.8.8.8", 0);
	CHECK_INT(peer_check_ip(p, (struct sockaddr *)&ss), PEER_ALLOW);
	make_addr(&ss, "::ffff:127.0.0.1", 0);
	CHECK_INT(peer_check_ip(p, (struct sockaddr *)&ss), PEER_DENY_DEFAULT);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	CHECK_INT(peer_check(p, (struct sockaddr *)&sun), PEER_DENY_BAD);
	CHECK_INT(peer_check_ip(p, (struct sockaddr *)&sun), PEER_DENY_BAD);
	memset(&ss, 0, sizeof(ss));
	CHECK_INT(peer_check(p, (struct sockaddr *)&ss), PEER_DENY_BAD);
	peer_policy_free(p);
	peer_policy_free(NULL);

	CHECK_STR(peer_verdict_name(PEER_ALLOW), "allow");
	CHECK_STR(peer_verdict_name(PEER_DENY_DEFAULT), "deny_default");
	CHECK_STR(peer_verdict_name(PEER_DENY_SELF), "deny_self");
	CHECK_STR(peer_verdict_name(PEER_DENY_CONFIG), "deny_config");
	CHECK_STR(peer_verdict_name(PEER_DENY_BAD), "deny_bad");
	CHECK_STR(peer_verdict_name((enum peer_verdict)PEER_VERDICT_COUNT),
		  "unknown");
}

static void
check_cidr_ok(const char *in, const char *out, int family, unsigned int prefix)
{
	struct peer_cidr c;
	char err[128] = "", buf[PEER_CIDR_STRLEN];

	CHECK_INT(peer_cidr_parse(in, &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(c.family, family);
	CHECK_INT(c.prefix, prefix);
	CHECK_STR(peer_cidr_str(&c, buf, sizeof(buf)), out);
}

static void
check_cidr_bad(const char *in, const char *why)
{
	struct peer_cidr c;
	char err[128] = "";

	CHECK_INT(peer_cidr_parse(in, &c, err, sizeof(err)), -1);
	CHECK_STR(err, why);
	CHECK_INT(c.family, 0);
}

static void
test_cidr_parse(void)
{
	char longest[PEER_CIDR_STRLEN], buf[PEER_CIDR_STRLEN], err[128];
	struct peer_cidr c;

	check_cidr_ok("10.0.0.0/8", "10.0.0.0/8", AF_INET, 8);
	check_cidr_ok("0.0.0.0/0", "0.0.0.0/0", AF_INET, 0);
	check_cidr_ok("192.0.2.1", "192.0.2.1/32", AF_INET, 32);
	check_cidr_ok("192.0.2.1/32", "192.0.2.1/32", AF_INET, 32);
	check_cidr_ok("100.64.0.0/10", "100.64.0.0/10", AF_INET, 10);
	check_cidr_ok("10.0.0.0/08", "10.0.0.0/8", AF_INET, 8);
	check_cidr_ok("::1", "::1/128", AF_INET6, 128);
	check_cidr_ok("::/0", "::/0", AF_INET6, 0);
	check_cidr_ok("2001:DB8::/32", "2001:db8::/32", AF_INET6, 32);
	check_cidr_ok("fe80::/10", "fe80::/10", AF_INET6, 10);
	check_cidr_ok("fc00::/7", "fc00::/7", AF_INET6, 7);
	check_cidr_ok("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", AF_INET6,
		      104);
	check_cidr_ok("64:ff9b:1::/48", "64:ff9b:1::/48", AF_INET6, 48);

	check_cidr_bad("", "empty address range");
	check_cidr_bad("10.0.0.0/33", "\"10.0.0.0/33\": prefix must be 0-32");
	check_cidr_bad("::/129", "\"::/129\": prefix must be 0-128");
	check_cidr_bad("10.0.0.0/1000",
		       "\"10.0.0.0/1000\": prefix must be 0-32");
	check_cidr_bad("10.0.0.0/", "\"10.0.0.0/\": prefix must be 0-32");
	check_cidr_bad("10.0.0.0/-1", "\"10.0.0.0/-1\": prefix must be 0-32");
	check_cidr_bad("10.0.0.0/+8", "\"10.0.0.0/+8\": prefix must be 0-32");
	check_cidr_bad("10.0.0.0/8x", "\"10.0.0.0/8x\": prefix must be 0-32");
	check_cidr_bad("10.0.0.0/ 8", "\"10.0.0.0/ 8\": prefix must be 0-32");
	check_cidr_bad("10.0.0.0/8/8", "\"10.0.0.0/8/8\": prefix must be 0-32");
	check_cidr_bad("10.0.0.256/8", "\"10.0.0.256/8\": bad IPv4 address");
	check_cidr_bad("10.0.0/8", "\"10.0.0/8\": bad IPv4 address");
	check_cidr_bad(" 10.0.0.0/8", "\" 10.0.0.0/8\": bad IPv4 address");
	check_cidr_bad("garbage", "\"garbage\": bad IPv4 address");
	check_cidr_bad("localhost/8", "\"localhost/8\": bad IPv4 address");
	check_cidr_bad("2001:db8::g/32",
		       "\"2001:db8::g/32\": bad IPv6 address");
	check_cidr_bad("fe80::1%eth0", "\"fe80::1%eth0\": bad IPv6 address");
	check_cidr_bad("1.2.3.4:3478", "\"1.2.3.4:3478\": bad IPv6 address");
	check_cidr_bad("/8", "\"/8\": bad address");
	check_cidr_bad("/", "\"/\": bad address");
	check_cidr_bad("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa/64",
		       "\"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa/"
		       "64\": bad address");
	check_cidr_bad("192.168.1.1/16", "\"192.168.1.1/16\": host bits set "
					 "(the network is 192.168.0.0/16)");
	check_cidr_bad("10.0.0.1/31",
		       "\"10.0.0.1/31\": host bits set (the network is "
		       "10.0.0.0/31)");
	check_cidr_bad(
		"1.0.0.0/0",
		"\"1.0.0.0/0\": host bits set (the network is 0.0.0.0/0)");
	check_cidr_bad(
		"fe80::1/10",
		"\"fe80::1/10\": host bits set (the network is fe80::/10)");
	check_cidr_bad("2001:db8::1/127", "\"2001:db8::1/127\": host bits set "
					  "(the network is 2001:db8::/127)");

	/* The longest address fits PEER_CIDR_STRLEN. */
	strcpy(longest, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128");
	CHECK_INT(strlen(longest) + 1, PEER_CIDR_STRLEN);
	CHECK_INT(peer_cidr_parse(longest, &c, err, sizeof(err)), 0);
	CHECK_STR(peer_cidr_str(&c, buf, sizeof(buf)),
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

int
main(void)
{
	test_defaults();
	test_embedded();
	test_operator_lists();
	test_self();
	test_bad();
	test_cidr_parse();
	return unit_done("test_peer");
}
