/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer.c: the peer address policy.  peer_policy_new() turns the config's
 * lists into one array of masked networks; peer_check() scans it without
 * allocating.  The lists are short (a few dozen entries), so a linear scan
 * costs less than anything cleverer would to build and review.
 *
 * Not here: DNS names (the config takes numbers only), the server's
 * interface addresses (the caller knows which it listens and relays on),
 * and what to answer a denied client.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

/*
 * The built-in denied ranges: addresses that are not a public peer, after
 * the RFC 6890 special-purpose registries.  RFC 8656 section 21.2.2: "TURN
 * servers are allowed to arbitrarily restrict the range of addresses of
 * peers that they will relay to."  The operator's allowed list opens them.
 */
static const struct peer_cidr peer_defaults[] = {
	{ AF_INET, 8, { 0 } },           /* "this network", RFC 1122 */
	{ AF_INET, 8, { 10 } },          /* private, RFC 1918 */
	{ AF_INET, 10, { 100, 64 } },    /* shared (CGN), RFC 6598 */
	{ AF_INET, 8, { 127 } },         /* loopback, RFC 1122 */
	{ AF_INET, 16, { 169, 254 } },   /* link local, RFC 3927 */
	{ AF_INET, 12, { 172, 16 } },    /* private, RFC 1918 */
	{ AF_INET, 24, { 192, 0, 0 } },  /* IETF protocols, RFC 6890 */
	{ AF_INET, 16, { 192, 168 } },   /* private, RFC 1918 */
	{ AF_INET, 15, { 198, 18 } },    /* benchmarking, RFC 2544 */
	{ AF_INET, 4, { 224 } },         /* multicast, RFC 5771 */
	{ AF_INET, 4, { 240 } },         /* reserved and broadcast, RFC 1112 */
	{ AF_INET6, 128, { 0 } },        /* unspecified, RFC 4291 */
	{ AF_INET6, 128, { [15] = 1 } }, /* loopback, RFC 4291 */
	/* 64:ff9b:1::/48, local-use IPv4/IPv6 translation, RFC 8215 */
	{ AF_INET6, 48, { 0, 0x64, 0xff, 0x9b, 0, 1 } },
	{ AF_INET6, 7, { 0xfc } },        /* unique local, RFC 4193 */
	{ AF_INET6, 10, { 0xfe, 0x80 } }, /* link local, RFC 4291 */
	{ AF_INET6, 8, { 0xff } },        /* multicast, RFC 4291 */
};
#define PEER_NDEFAULTS (sizeof(peer_defaults) / sizeof(peer_defaults[0]))

/*
 * The IPv6 forms that carry an IPv4 address, which a host or a translator
 * on the path may turn into an IPv4 packet.  Each IPv4 address found is
 * judged like a peer of its own; an address matching several rows
 * (Teredo) is refused if any of them is.  64:ff9b:1::/48 (RFC 8215) is
 * not here: where the IPv4 address sits in it is each network's choice,
 * so the built-in list refuses it whole.
 */
static const struct peer_embedding {
	uint8_t prefix[12];
	uint8_t prefix_len; /* bytes of prefix that must match */
	uint8_t offset;     /* of the IPv4 address */
	uint8_t flip;       /* Teredo inverts the client's address */
	bool compatible;    /* ::/96, where :: and ::1 are IPv6's own */
} peer_embeddings[] = {
	/* ::ffff:0:0/96, IPv4-mapped, RFC 4291 section 2.5.5.2 */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 12, 12, 0, false },
	/* ::ffff:0:0:0/96, IPv4-translated, RFC 2765 section 2.1 */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0 }, 12, 12, 0, false },
	/* ::/96, IPv4-compatible (deprecated), RFC 4291 section 2.5.5.1 */
	{ { 0 }, 12, 12, 0, true },
	/* 64:ff9b::/96, NAT64 well-known prefix, RFC 6052 section 2.1 */
	{ { 0, 0x64, 0xff, 0x9b }, 12, 12, 0, false },
	/* 2002::/16, 6to4: 2002:V4ADDR::/48, RFC 3056 section 2 */
	{ { 0x20, 0x02 }, 2, 2, 0, false },
	/*
	 * 2001::/32, Teredo, RFC 4380 section 4: the server's IPv4 in bits
	 * 32-63, the client's public IPv4 "obfuscated" (every bit inverted)
	 * in bits 96-127.  The client is where the data goes; a server that
	 * is not public is no real Teredo address either.
	 */
	{ { 0x20, 0x01, 0, 0 }, 4, 4, 0, false },
	{ { 0x20, 0x01, 0, 0 }, 4, 12, 0xff, false },
};
#define PEER_NEMBEDDINGS (sizeof(peer_embeddings) / sizeof(peer_embeddings[0]))

/* One range, masked in advance: ip is in it if (ip & mask) == net. */
struct peer_net {
	uint8_t family;
	uint8_t net[16];
	uint8_t mask[16];
};

/* An address being judged. */
struct peer_ip {
	uint8_t family;
	uint8_t addr[16];
};

/* The lists in the order peer_judge() consults them; the first match wins. */
enum peer_list {
	PEER_LIST_DENIED,
	PEER_LIST_ALLOWED,
	PEER_LIST_SELF,
	PEER_LIST_DEFAULT,
	PEER_NLISTS
};

static const enum peer_verdict peer_list_verdict[PEER_NLISTS] = {
	[PEER_LIST_DENIED] = PEER_DENY_CONFIG,
	[PEER_LIST_SELF] = PEER_DENY_SELF,
	[PEER_LIST_ALLOWED] = PEER_ALLOW,
	[PEER_LIST_DEFAULT] = PEER_DENY_DEFAULT,
};

struct peer_policy {
	/* The server's own IPs are peers only on relay ports: those are the
	 * other allocations, which two browsers relaying through one server
	 * use; any other port of ours is a service that is not for relaying
	 * to. */
	unsigned int relay_port_min, relay_port_max;
	size_t n[PEER_NLISTS]; /* entries of each list, in net[] in order */
	struct peer_net net[];
};

/* ::ffff:0:0/96, the IPv4-mapped addresses. */
static const uint8_t peer_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

static size_t
peer_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static unsigned int
peer_max_prefix(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* Whether the bits of addr beyond prefix are all zero. */
static bool
peer_host_bits_clear(const uint8_t *addr, size_t len, unsigned int prefix)
{
	size_t i;

	for (i = prefix / 8; i < len; i++) {
		unsigned int keep = i == prefix / 8 ? prefix % 8 : 0;

		if ((addr[i] & (0xffu >> keep)) != 0)
			return false;
	}
	return true;
}

int
peer_cidr_parse(const char *s, struct peer_cidr *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN], buf[PEER_CIDR_STRLEN];
	const char *slash, *digits;
	size_t hostlen, i;
	unsigned int max, prefix;
	int family;

	memset(out, 0, sizeof(*out));
	if (*s == '\0') {
		snprintf(err, errlen, "empty address range");
		return -1;
	}
	slash = strchr(s, '/');
	hostlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	family = memchr(s, ':', hostlen) != NULL ? AF_INET6 : AF_INET;
	if (hostlen == 0 || hostlen >= sizeof(host)) {
		snprintf(err, errlen, "\"%s\": bad address", s);
		return -1;
	}
	memcpy(host, s, hostlen);
	host[hostlen] = '\0';
	if (inet_pton(family, host, out->addr) != 1) {
		snprintf(err, errlen, "\"%s\": bad %s address", s,
			 family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	max = peer_max_prefix(family);
	prefix = max;
	if (slash != NULL) {
		digits = slash + 1;
		prefix = 0;
		for (i = 0; i < 4 && digits[i] >= '0' && digits[i] <= '9'; i++)
			prefix = prefix * 10 + (unsigned int)(digits[i] - '0');
		if (i == 0 || digits[i] != '\0' || prefix > max) {
			snprintf(err, errlen, "\"%s\": prefix must be 0-%u", s,
				 max);
			return -1;
		}
	}
	out->family = (uint8_t)family;
	out->prefix = (uint8_t)prefix;
	if (!peer_host_bits_clear(out->addr, peer_addr_len(family), prefix)) {
		struct peer_cidr network = *out;

		for (i = 0; i < sizeof(network.addr); i++) {
			unsigned int keep = i < prefix / 8    ? 8
					    : i == prefix / 8 ? prefix % 8
							      : 0;

			network.addr[i] &= (uint8_t)(0xff00u >> keep);
		}
		snprintf(err, errlen,
			 "\"%s\": host bits set (the network is %s)", s,
			 peer_cidr_str(&network, buf, sizeof(buf)));
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

const char *
peer_cidr_str(const struct peer_cidr *c, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (c->family != AF_INET && c->family != AF_INET6) {
		snprintf(buf, cap, "(family %d)", c->family);
		return buf;
	}
	inet_ntop(c->family, c->addr, host, sizeof(host));
	snprintf(buf, cap, "%s/%u", host, c->prefix);
	return buf;
}

const struct peer_cidr *
peer_default_denied(size_t *n)
{
	*n = PEER_NDEFAULTS;
	return peer_defaults;
}

/*
 * Fill net from c.  An IPv4-mapped range becomes the IPv4 range it names,
 * so that "::ffff:10.0.0.0/104" and "10.0.0.0/8" mean one thing.  Returns
 * false for an entry of another family, which is skipped.
 */
static bool
peer_net_set(struct peer_net *net, const struct peer_cidr *c)
{
	struct peer_cidr v4;
	unsigned int prefix, keep;
	size_t i;

	if (c->family == AF_INET6 && c->prefix >= 96 &&
	    memcmp(c->addr, peer_mapped_prefix, 12) == 0) {
		memset(&v4, 0, sizeof(v4));
		v4.family = AF_INET;
		v4.prefix = (uint8_t)(c->prefix - 96);
		memcpy(v4.addr, c->addr + 12, 4);
		c = &v4;
	}
	if (c->family != AF_INET && c->family != AF_INET6)
		return false;
	memset(net, 0, sizeof(*net));
	net->family = c->family;
	prefix = c->prefix;
	if (prefix > peer_max_prefix(c->family))
		prefix = peer_max_prefix(c->family);
	for (i = 0; i < peer_addr_len(c->family); i++) {
		keep = prefix >= 8 ? 8 : prefix;
		prefix -= keep;
		net->mask[i] = (uint8_t)(0xff00u >> keep);
		net->net[i] = c->addr[i] & net->mask[i];
	}
	return true;
}

/*
 * Read the address of sa into ip, and its port (network byte order) into
 * *port.  Copied out rather than cast, since a struct sockaddr need not be
 * aligned for the struct of its family.  Returns false for a family other
 * than IPv4 and IPv6.
 */
static bool
peer_ip_read(struct peer_ip *ip, in_port_t *port, const struct sockaddr *sa)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET) {
		memcpy(&sin, sa, sizeof(sin));
		ip->family = AF_INET;
		memcpy(ip->addr, &sin.sin_addr, 4);
		*port = sin.sin_port;
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(&sin6, sa, sizeof(sin6));
		ip->family = AF_INET6;
		memcpy(ip->addr, &sin6.sin6_addr, 16);
		*port = sin6.sin6_port;
		return true;
	}
	return false;
}

/*
 * The server's own address as a one-address range, port dropped; a
 * dual-stack socket's ::ffff:a.b.c.d is the IPv4 address a.b.c.d.
 */
static bool
peer_net_set_self(struct peer_net *net, const struct sockaddr_storage *ss)
{
	struct peer_cidr c;
	struct peer_ip ip;
	in_port_t port;

	if (!peer_ip_read(&ip, &port, (const struct sockaddr *)ss))
		return false;
	memset(&c, 0, sizeof(c));
	c.family = ip.family;
	c.prefix = (uint8_t)peer_max_prefix(ip.family);
	memcpy(c.addr, ip.addr, sizeof(c.addr));
	return peer_net_set(net, &c);
}

struct peer_policy *
peer_policy_new(const struct peer_cidr *allowed, size_t nallowed,
		const struct peer_cidr *denied, size_t ndenied,
		const struct sockaddr_storage *self, size_t nself,
		unsigned int relay_port_min, unsigned int relay_port_max)
{
	struct peer_policy *p;
	size_t i, total;

	/* The config bounds the lists; this only keeps the sum from wrapping. */
	if (ndenied > SIZE_MAX / 4 / sizeof(p->net[0]) ||
	    nself > SIZE_MAX / 4 / sizeof(p->net[0]) ||
	    nallowed > SIZE_MAX / 4 / sizeof(p->net[0]))
		return NULL;
	total = ndenied + nself + nallowed + PEER_NDEFAULTS;
	p = calloc(1, sizeof(*p) + total * sizeof(p->net[0]));
	if (p == NULL)
		return NULL;
	p->relay_port_min = relay_port_min;
	p->relay_port_max = relay_port_max;
	/* Filled in peer_list order; the counts say where each list ends. */
	total = 0;
	for (i = 0; i < ndenied; i++)
		if (peer_net_set(&p->net[total], &denied[i])) {
			p->n[PEER_LIST_DENIED]++;
			total++;
		}
	for (i = 0; i < nallowed; i++)
		if (peer_net_set(&p->net[total], &allowed[i])) {
			p->n[PEER_LIST_ALLOWED]++;
			total++;
		}
	for (i = 0; i < nself; i++)
		if (peer_net_set_self(&p->net[total], &self[i])) {
			p->n[PEER_LIST_SELF]++;
			total++;
		}
	for (i = 0; i < PEER_NDEFAULTS; i++)
		if (peer_net_set(&p->net[total], &peer_defaults[i])) {
			p->n[PEER_LIST_DEFAULT]++;
			total++;
		}
	return p;
}

void
peer_policy_free(struct peer_policy *p)
{
	free(p);
}

static bool
peer_net_contains(const struct peer_net *net, const struct peer_ip *ip)
{
	size_t i, len;

	if (net->family != ip->family)
		return false;
	len = peer_addr_len(ip->family);
	for (i = 0; i < len; i++)
		if ((ip->addr[i] & net->mask[i]) != net->net[i])
			return false;
	return true;
}

/*
 * One address, one family: the first list that holds it decides.  The
 * self list is skipped for a relay port, and for port 0 (a permission,
 * which is for an IP; ChannelBind and Send name the port).
 */
static enum peer_verdict
peer_judge(const struct peer_policy *p, const struct peer_ip *ip,
	   unsigned int port)
{
	const struct peer_net *net = p->net;
	bool relay_port = port == 0 || (port >= p->relay_port_min &&
					port <= p->relay_port_max);
	size_t list, i;

	for (list = 0; list < PEER_NLISTS; list++) {
		if (list == PEER_LIST_SELF && relay_port) {
			net += p->n[list];
			continue;
		}
		for (i = 0; i < p->n[list]; i++)
			if (peer_net_contains(&net[i], ip))
				return peer_list_verdict[list];
		net += p->n[list];
	}
	return PEER_ALLOW;
}

/* Is a the unspecified address :: or the loopback ::1? */
static bool
peer_ipv6_unspec_or_loopback(const uint8_t *a)
{
	static const uint8_t zero[15];

	return memcmp(a, zero, 15) == 0 && a[15] <= 1;
}

/*
 * The verdict on ip, and on every IPv4 address it carries: the greatest of
 * them.  CVE-2020-26262 reached loopback as 0.0.0.0 and ::; such holes
 * reopen whenever one spelling of an address escapes the check.
 */
static enum peer_verdict
peer_judge_all(const struct peer_policy *p, const struct peer_ip *ip,
	       unsigned int port)
{
	const struct peer_embedding *e;
	enum peer_verdict verdict, inner;
	struct peer_ip v4;
	size_t i, k;

	verdict = peer_judge(p, ip, port);
	if (ip->family != AF_INET6)
		return verdict;
	memset(&v4, 0, sizeof(v4));
	v4.family = AF_INET;
	for (i = 0; i < PEER_NEMBEDDINGS; i++) {
		e = &peer_embeddings[i];
		if (memcmp(ip->addr, e->prefix, e->prefix_len) != 0)
			continue;
		if (e->compatible && peer_ipv6_unspec_or_loopback(ip->addr))
			continue;
		for (k = 0; k < 4; k++)
			v4.addr[k] = ip->addr[e->offset + k] ^ e->flip;
		inner = peer_judge(p, &v4, port);
		if (inner > verdict)
			verdict = inner;
	}
	return verdict;
}

enum peer_verdict
peer_check(const struct peer_policy *p, const struct sockaddr *peer)
{
	struct peer_ip ip;
	in_port_t port;

	if (!peer_ip_read(&ip, &port, peer) || port == 0)
		return PEER_DENY_BAD;
	return peer_judge_all(p, &ip, ntohs(port));
}

enum peer_verdict
peer_check_ip(const struct peer_policy *p, const struct sockaddr *peer)
{
	struct peer_ip ip;
	in_port_t port;

	if (!peer_ip_read(&ip, &port, peer))
		return PEER_DENY_BAD;
	return peer_judge_all(p, &ip, 0);
}

const char *
peer_verdict_name(enum peer_verdict v)
{
	switch (v) {
	case PEER_ALLOW:
		return "allow";
	case PEER_DENY_DEFAULT:
		return "deny_default";
	case PEER_DENY_SELF:
		return "deny_self";
	case PEER_DENY_CONFIG:
		return "deny_config";
	case PEER_DENY_BAD:
		return "deny_bad";
	}
	return "unknown";
}
