/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ice.h: what browsers are told about this server's STUN and TURN: the
 * RTCConfiguration of the welcome message and /api/ice-servers, and the
 * TURN REST API answer of /api/turn (draft-uberti-behave-turn-rest), with
 * fresh credentials minted from the first turn.secrets entry.  Pure: the
 * time and the host name are parameters.
 */
#ifndef TURNPIKE_ICE_H
#define TURNPIKE_ICE_H

#include <jansson.h>
#include <stdint.h>

struct conf;

/* ice.c */

/*
 * The RTCConfiguration for a browser that reached us as host (a name or
 * an IP, without port; conf->http_public_host wins when set):
 *   {"iceServers":[{"urls":["stun:HOST:PORT"]},
 *                  {"urls":["turn:HOST:PORT?transport=udp",
 *                           "turn:HOST:PORT?transport=tcp",
 *                           "turns:HOST:PORT?transport=tcp"],
 *                   "username":"<expiry>:<user>","credential":"..."}],
 *    "iceTransportPolicy":"all"|"relay"}
 * Ports come from the first listen.udp, listen.tcp and listen.tls entry;
 * a URL is there only for a transport that is enabled (UDP and TCP when
 * listed; TLS when listed and tls.certificate is set; TURN at all when
 * turn.enable and a secret exist: without a secret only the STUN entry).
 * An IPv6 literal host is written in brackets.  user (e.g. the peer id)
 * is the part after the colon of the username; expiry is now +
 * signaling.credential_ttl.  Returns a new object owned by the caller,
 * or NULL when out of memory.
 */
json_t *ice_config(const struct conf *conf, const char *host, const char *user,
		   int64_t now);

/*
 * The TURN REST API answer (the shape Janus and others read):
 *   {"username":"<expiry>:<user>","password":"...","ttl":TTL,
 *    "uris":["turn:HOST:PORT?transport=udp", ...]}
 * with the same URL rules as ice_config (TURN URLs only).  NULL when TURN
 * or a secret is missing (the caller answers 503), or out of memory.
 */
json_t *ice_turn_rest(const struct conf *conf, const char *host,
		      const char *user, int64_t now);

#endif /* TURNPIKE_ICE_H */
