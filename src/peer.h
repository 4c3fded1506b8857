/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer.h: which peer addresses a TURN client may relay to.
 *
 * CreatePermission, ChannelBind and Send name a peer in XOR-PEER-ADDRESS;
 * RFC 8656 sections 10.2, 11.2 and 12.2 let the server refuse some, and a
 * relay open to loopback, private networks or cloud metadata is how a TURN
 * server becomes a way into the network it runs in.  This module decides,
 * for one address, allow or deny and why.  It also sees through the IPv6
 * forms that carry an IPv4 address (mapped, compatible, SIIT, NAT64, 6to4,
 * Teredo): a client must not reach 127.0.0.1 by writing it another way.
 *
 * Pure: no socket, no clock, no logging, no state but the immutable policy
 * the caller builds from the config.  It does not answer the client (the
 * TURN handlers turn a denial into 403 or a silent drop), count denials
 * (the daemon's metrics do, by enum peer_verdict) or find the server's own
 * addresses (the caller passes them in).
 */
#ifndef TURNPIKE_PEER_H
#define TURNPIKE_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest string peer_cidr_str() writes: IPv6 address, "/128" and NUL. */
#define PEER_CIDR_STRLEN 50

/* An address range, as the config writes it: "10.0.0.0/8", "fc00::/7". */
struct peer_cidr {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t prefix;   /* 0-32 or 0-128 */
	uint8_t addr[16]; /* network byte order; AF_INET uses addr[0..3] */
};

/*
 * Why a peer was refused.  The values are ordered: where an address is
 * judged twice (an IPv6 form and the IPv4 inside it) the greater verdict
 * is the answer, so the order is that of the judgement in peer_check_ip().
 */
enum peer_verdict {
	PEER_ALLOW,        /* relay to it */
	PEER_DENY_DEFAULT, /* in the built-in list of non-public ranges */
	PEER_DENY_SELF,    /* one of the server's own addresses */
	PEER_DENY_CONFIG,  /* in the operator's denied list */
	PEER_DENY_BAD,     /* port 0, or not IPv4 or IPv6 */
};
#define PEER_VERDICT_COUNT 5

/* The policy built from one config; immutable, so shared freely. */
struct peer_policy;

/* peer.c */

/*
 * Parse "10.0.0.0/8", "2001:db8::/32", or an address alone ("192.0.2.1"
 * is /32, "::1" is /128) into out.  Only numeric addresses; bits set
 * beyond the prefix are an error, since "192.168.1.1/16" is usually a
 * typo for a host or for 192.168.0.0/16 and guessing either is wrong.
 * Returns 0, or -1 with the reason written to err.
 */
int peer_cidr_parse(const char *s, struct peer_cidr *out, char *err,
		    size_t errlen);

/* Write c as "10.0.0.0/8" into buf (PEER_CIDR_STRLEN bytes); returns buf. */
const char *peer_cidr_str(const struct peer_cidr *c, char *buf, size_t cap);

/*
 * The built-in denied ranges (RFC 6890 special-purpose addresses and the
 * like), for "turnpiked -t" and the man page.  Sets *n; never NULL.
 */
const struct peer_cidr *peer_default_denied(size_t *n);

/*
 * Build a policy.  allowed opens ranges out of the built-in denied list
 * and the self rule, denied closes more and beats allowed.  self holds the
 * server's listening and relay addresses: a peer on one of those IPs is
 * refused unless its port is a relay port (relay_port_min..max: another
 * allocation of this server, which two browsers relaying through it use)
 * or the check names no port (peer_check_ip).  The arrays
 * are copied, so the caller keeps them; an IPv4-mapped entry
 * (::ffff:a.b.c.d, prefix 96 or more) is taken as the IPv4 range it names.
 * Entries come from peer_cidr_parse(); one of another family is ignored.
 * Returns a policy owned by the caller, released with peer_policy_free(),
 * or NULL when out of memory.
 */
struct peer_policy *
peer_policy_new(const struct peer_cidr *allowed, size_t nallowed,
		const struct peer_cidr *denied, size_t ndenied,
		const struct sockaddr_storage *self, size_t nself,
		unsigned int relay_port_min, unsigned int relay_port_max);
void peer_policy_free(struct peer_policy *p);

/*
 * Judge a peer transport address, for ChannelBind and Send (RFC 8656
 * sections 12.2 and 11.2 restrict "the IP address and port values").  Port
 * 0 and families other than IPv4 and IPv6 are PEER_DENY_BAD.  Otherwise
 * the IP address is judged as peer_check_ip() does, except that one of
 * the server's own addresses is refused (PEER_DENY_SELF) unless the port
 * is a relay port.  No allocation: this runs for every Send indication.
 */
enum peer_verdict peer_check(const struct peer_policy *p,
			     const struct sockaddr *peer);

/*
 * Judge the IP address of peer alone, for CreatePermission, whose port
 * "is ignored and may be any arbitrary value" (RFC 8656 section 10.2).
 * The judgement, first match wins: in the operator's denied list
 * (PEER_DENY_CONFIG); in the operator's allowed list (PEER_ALLOW); in the
 * built-in list (PEER_DENY_DEFAULT); else PEER_ALLOW.  (The server's own
 * addresses are judged by port, so only peer_check() refuses them.)  An IPv6 address that carries
 * IPv4 addresses (mapped, compatible, SIIT, NAT64 64:ff9b::/96, 6to4, and
 * both of Teredo's) is judged as itself and as each of them, and gets the
 * greatest verdict: allowing 127.0.0.1/32 allows ::ffff:127.0.0.1, but a
 * denied IPv6 range still denies.
 */
enum peer_verdict peer_check_ip(const struct peer_policy *p,
				const struct sockaddr *peer);

/* "allow", "deny_default", ...: for logs and metric labels. */
const char *peer_verdict_name(enum peer_verdict v);

#endif /* TURNPIKE_PEER_H */
