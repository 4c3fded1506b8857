/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.h: socket addresses as the config and the logs write them,
 * "192.0.2.1:3478" and "[2001:db8::1]:3478".  Pure: no sockets are opened.
 */
#ifndef TURNPIKE_ADDR_H
#define TURNPIKE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest string addr_str() writes, "[" IPv6 "]:" port and NUL. */
#define ADDR_STRLEN 56

/*
 * An address in 20 bytes, for hash keys and tables: family, port in host
 * order, and the IP (an IPv4 address in ip[0..3], the rest zero).  Padding
 * is explicit and zero, so two keys compare and hash as bytes.
 */
struct addr_key {
	uint8_t family;
	uint8_t pad;
	uint16_t port;
	uint8_t ip[16];
};

/* addr.c */

/*
 * Parse "ip:port" or "[ipv6]:port" (numeric only, port 1-65535) into ss.
 * Returns 0, or -1 with the reason written to err.
 */
int addr_parse(const char *s, struct sockaddr_storage *ss, char *err,
	       size_t errlen);

/* Write sa as "ip:port" / "[ipv6]:port" into buf; returns buf. */
const char *addr_str(const struct sockaddr *sa, char *buf, size_t cap);

/* Length of the sockaddr for its family (0 for an unknown family). */
socklen_t addr_len(const struct sockaddr *sa);

/* Same family, address and port. */
bool addr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* The port in host byte order. */
unsigned int addr_port(const struct sockaddr *sa);

/* Convert between a sockaddr (AF_INET or AF_INET6) and an addr_key. */
void addr_key_from(struct addr_key *k, const struct sockaddr *sa);
void addr_key_to(const struct addr_key *k, struct sockaddr_storage *ss);

/* Same family and IP, whatever the port. */
bool addr_key_same_ip(const struct addr_key *a, const struct addr_key *b);

#endif /* TURNPIKE_ADDR_H */
