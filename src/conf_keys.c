/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_keys.c: the table of every config key.  Each key is one row: its
 * dotted name, its type, its bounds, its default written in the file's
 * own syntax, where it lands in struct conf, whether a reload applies it,
 * whether it is a secret, and one line of help.  A new key is a field in
 * struct conf and a row here; conf.c reads, checks and prints them all.
 * Keep man/turnpike.conf.5 and etc/turnpike.conf in step:
 * tests/integration/test_docs.py checks both.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "auth.h"
#include "conf_table.h"

static const char *const conf_levels[] = { "error", "warning", "info", "debug",
					   NULL };
static const char *const conf_policies[] = { "all", "relay", NULL };
static const char *const conf_targets[] = { "stderr", "syslog", NULL };
static const char *const conf_facilities[] = { "daemon", "user",   "local0",
					       "local1", "local2", "local3",
					       "local4", "local5", "local6",
					       "local7", NULL };
const int conf_facility_values[] = {
	LOG_DAEMON, LOG_USER,   LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2,
	LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7,
};

/*
 * turn.users: "name:password" or "name:0x<32 hex digits>" (the MD5 key, as
 * coturn takes it), each name once.  Secrets are not echoed in errors.
 */
static int
conf_check_users(const struct conf_strlist *l, char *err, size_t errlen)
{
	uint8_t key[AUTH_KEY_SIZE];

	for (unsigned int i = 0; i < l->n; i++) {
		const char *colon = strchr(l->v[i], ':');
		size_t nlen = colon ? (size_t)(colon - l->v[i]) : 0;

		if (colon == NULL || nlen == 0 || colon[1] == '\0') {
			snprintf(err, errlen,
				 "entry %u is not \"name:password\" or "
				 "\"name:0xKEY\"",
				 i + 1);
			goto fail;
		}
		if (nlen > AUTH_USERNAME_MAX) {
			snprintf(err, errlen,
				 "entry %u: name longer than %d "
				 "bytes",
				 i + 1, AUTH_USERNAME_MAX);
			goto fail;
		}
		if (strncmp(colon + 1, "0x", 2) == 0 &&
		    auth_parse_key(colon + 1, key) == -1) {
			snprintf(err, errlen,
				 "user \"%.*s\": a key is \"0x\" and 32 hex "
				 "digits",
				 (int)nlen, l->v[i]);
			goto fail;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (strncmp(l->v[j], l->v[i], nlen + 1) == 0) {
				snprintf(err, errlen,
					 "user \"%.*s\" is listed twice",
					 (int)nlen, l->v[i]);
				goto fail;
			}
		}
	}
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
fail:
	OPENSSL_cleanse(key, sizeof(key));
	return -1;
}

/* turn.secrets: non-empty, at most AUTH_MAX_SECRETS. */
static int
conf_check_secrets(const struct conf_strlist *l, char *err, size_t errlen)
{
	if (l->n > AUTH_MAX_SECRETS) {
		snprintf(err, errlen, "at most %d secrets", AUTH_MAX_SECRETS);
		return -1;
	}
	for (unsigned int i = 0; i < l->n; i++) {
		if (l->v[i][0] == '\0') {
			snprintf(err, errlen, "secret %u is empty", i + 1);
			return -1;
		}
	}
	return 0;
}

#define F(field) offsetof(struct conf, field)

/*
 * The keys, grouped by their first name part; conf_print() relies on rows
 * of one group being adjacent.  Keep man/turnpike.conf.5 and
 * etc/turnpike.conf in step: tests/integration/test_docs.py checks both.
 */
const struct conf_key conf_keys[] = {
	{ .name = "daemon.user",
	  .type = CONF_STRING,
	  .def = "\"nobody\"",
	  .offset = F(user),
	  .restart = true,
	  .help = "user to switch to after binding, when started as root; "
		  "\"\" keeps the current user" },
	{ .name = "daemon.group",
	  .type = CONF_STRING,
	  .def = "\"\"",
	  .offset = F(group),
	  .restart = true,
	  .help = "group to switch to; \"\" means the user's primary group" },
	{ .name = "daemon.workers",
	  .type = CONF_INT,
	  .min = 1,
	  .max = CONF_MAX_WORKERS,
	  .word0 = "auto",
	  .def = "1",
	  .offset = F(workers),
	  .restart = true,
	  .help = "threads that serve STUN and TURN, each with its own "
		  "listeners and allocations; \"auto\" is one per CPU" },

	{ .name = "log.level",
	  .type = CONF_ENUM,
	  .choices = conf_levels,
	  .def = "\"info\"",
	  .offset = F(log_level),
	  .help = "least severe level logged: error, warning, info or debug" },
	{ .name = "log.target",
	  .type = CONF_ENUM,
	  .choices = conf_targets,
	  .def = "\"stderr\"",
	  .offset = F(log_target),
	  .help = "where log lines go: stderr or syslog" },
	{ .name = "log.facility",
	  .type = CONF_ENUM,
	  .choices = conf_facilities,
	  .def = "\"daemon\"",
	  .offset = F(log_facility),
	  .help = "syslog facility: daemon, user, local0-7" },

	{ .name = "listen.udp",
	  .type = CONF_ADDRS,
	  .def = "[ \"0.0.0.0:3478\", \"[::]:3478\" ]",
	  .offset = F(listen_udp),
	  .restart = true,
	  .help = "UDP addresses for STUN and TURN" },
	{ .name = "listen.tcp",
	  .type = CONF_ADDRS,
	  .def = "[ \"0.0.0.0:3478\", \"[::]:3478\" ]",
	  .offset = F(listen_tcp),
	  .restart = true,
	  .help = "TCP addresses for STUN and TURN" },

	{ .name = "listen.tls",
	  .type = CONF_ADDRS,
	  .def = "[ \"0.0.0.0:5349\", \"[::]:5349\" ]",
	  .offset = F(listen_tls),
	  .restart = true,
	  .help = "TLS addresses for STUN and TURN (turns:), opened when "
		  "tls.certificate is set" },

	{ .name = "tls.certificate",
	  .type = CONF_STRING,
	  .def = "\"\"",
	  .offset = F(tls_certificate),
	  .help = "PEM file with the certificate chain, leaf first; SIGHUP "
		  "reads it again" },
	{ .name = "tls.private_key",
	  .type = CONF_STRING,
	  .def = "\"\"",
	  .offset = F(tls_private_key),
	  .help = "PEM file with the private key; SIGHUP reads it again" },
	{ .name = "tls.ciphers",
	  .type = CONF_STRING,
	  .def = "\"ECDHE+AESGCM:ECDHE+CHACHA20\"",
	  .offset = F(tls_ciphers),
	  .help = "OpenSSL cipher list for TLS 1.2 (TLS 1.3 uses OpenSSL's "
		  "suites)" },
	{ .name = "tls.handshake_timeout",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 300,
	  .def = "10",
	  .offset = F(tls_handshake_timeout),
	  .help = "seconds a TLS handshake may take" },

	{ .name = "stun.rfc3489",
	  .type = CONF_BOOL,
	  .def = "false",
	  .offset = F(stun_rfc3489),
	  .help = "answer classic RFC 3489 Binding requests (no magic "
		  "cookie)" },

	{ .name = "stream.max_connections",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 1000000,
	  .def = "1024",
	  .offset = F(stream_max_connections),
	  .help = "most client connections open at once, on TCP and on TLS "
		  "each" },
	{ .name = "stream.idle_timeout",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 86400,
	  .def = "30",
	  .offset = F(stream_idle_timeout),
	  .help = "seconds a connection without an allocation may go without "
		  "a complete message" },
	{ .name = "stream.max_buffer",
	  .type = CONF_INT,
	  .min = 4096,
	  .max = 16777216,
	  .def = "65536",
	  .offset = F(stream_max_buffer),
	  .help = "bytes queued toward one client before its connection is "
		  "closed" },

	{ .name = "http.listen",
	  .type = CONF_ADDRS,
	  .def = "[ \"0.0.0.0:8080\" ]",
	  .offset = F(http_listen),
	  .restart = true,
	  .help = "HTTP addresses: the web client, /ws signaling, /api, "
		  "/metrics, /healthz; [] turns HTTP off" },
	{ .name = "http.webroot",
	  .type = CONF_STRING,
	  .def = "\"" TURNPIKE_WEBROOT "\"",
	  .offset = F(http_webroot),
	  .help = "directory of the web client's static files" },
	{ .name = "http.allowed_origins",
	  .type = CONF_STRLIST,
	  .def = "[]",
	  .offset = F(http_allowed_origins),
	  .help = "origins (\"https://app.example.com\") whose pages may open "
		  "/ws and call /api; [] allows the server's own host only" },
	{ .name = "http.api_key",
	  .type = CONF_STRING,
	  .def = "\"\"",
	  .offset = F(http_api_key),
	  .secret = true,
	  .help = "when set, /api/* requires it (?key= or Authorization: "
		  "Bearer)" },
	{ .name = "http.public_host",
	  .type = CONF_STRING,
	  .def = "\"\"",
	  .offset = F(http_public_host),
	  .help = "host name put in ICE server URLs; \"\" uses the Host the "
		  "browser asked for" },
	{ .name = "http.tls_certificate",
	  .type = CONF_STRING,
	  .def = "\"\"",
	  .offset = F(http_tls_certificate),
	  .restart = true,
	  .help = "PEM certificate chain: serve HTTPS instead of HTTP" },
	{ .name = "http.tls_private_key",
	  .type = CONF_STRING,
	  .def = "\"\"",
	  .offset = F(http_tls_private_key),
	  .restart = true,
	  .help = "PEM private key for http.tls_certificate" },
	{ .name = "http.max_connections",
	  .type = CONF_INT,
	  .min = 16,
	  .max = 1000000,
	  .def = "4096",
	  .offset = F(http_max_connections),
	  .restart = true,
	  .help = "HTTP connections open at once, WebSockets included" },
	{ .name = "http.connection_memory",
	  .type = CONF_INT,
	  .min = 4096,
	  .max = 1048576,
	  .def = "16384",
	  .offset = F(http_connection_memory),
	  .restart = true,
	  .help = "bytes of memory each HTTP connection, WebSockets "
		  "included, holds for its request" },

	{ .name = "signaling.max_connections",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 1000000,
	  .def = "2048",
	  .offset = F(sig_max_connections),
	  .help = "WebSocket connections open at once" },
	{ .name = "signaling.max_rooms",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 1000000,
	  .def = "1000",
	  .offset = F(sig_max_rooms),
	  .help = "rooms at once" },
	{ .name = "signaling.max_peers_per_room",
	  .type = CONF_INT,
	  .min = 2,
	  .max = 1000,
	  .def = "8",
	  .offset = F(sig_max_peers_per_room),
	  .help = "peers in one room (room-full beyond)" },
	{ .name = "signaling.max_message_size",
	  .type = CONF_INT,
	  .min = 1024,
	  .max = 16777216,
	  .def = "65536",
	  .offset = F(sig_max_message_size),
	  .help = "bytes of one WebSocket message (close 1009 beyond)" },
	{ .name = "signaling.send_queue",
	  .type = CONF_INT,
	  .min = 65536,
	  .max = 67108864,
	  .def = "1048576",
	  .offset = F(sig_send_queue),
	  .help = "bytes queued toward one connection before it is dropped "
		  "as a slow consumer" },
	{ .name = "signaling.rate",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 100000,
	  .def = "20",
	  .offset = F(sig_rate),
	  .help = "messages per second one connection may send" },
	{ .name = "signaling.burst",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 100000,
	  .def = "60",
	  .offset = F(sig_burst),
	  .help = "messages one connection may send at once beyond the rate" },
	{ .name = "signaling.abuse_limit",
	  .type = CONF_INT,
	  .min = 0,
	  .max = 100000,
	  .def = "20",
	  .offset = F(sig_abuse_limit),
	  .help = "rate-limited messages in a row before the connection is "
		  "closed (1008); 0 never closes" },
	{ .name = "signaling.token_secret",
	  .type = CONF_STRING,
	  .def = "\"\"",
	  .offset = F(sig_token_secret),
	  .secret = true,
	  .help = "when set, join needs a token made with it (turnpiked "
		  "--mint-token)" },
	{ .name = "signaling.credential_ttl",
	  .type = CONF_INT,
	  .min = 60,
	  .max = 604800,
	  .def = "86400",
	  .offset = F(sig_credential_ttl),
	  .help = "seconds the TURN credentials handed to browsers are valid" },
	{ .name = "signaling.ice_transport_policy",
	  .type = CONF_ENUM,
	  .choices = conf_policies,
	  .def = "\"all\"",
	  .offset = F(sig_ice_transport_policy),
	  .help = "iceTransportPolicy handed to browsers: all, or relay (every "
		  "call through this server's TURN)" },

	{ .name = "turn.enable",
	  .type = CONF_BOOL,
	  .def = "true",
	  .offset = F(turn_enable),
	  .restart = true,
	  .help = "serve TURN (RFC 8656) on the listeners; false leaves a STUN "
		  "server" },
	{ .name = "turn.realm",
	  .type = CONF_STRING,
	  .def = "\"turnpike\"",
	  .offset = F(turn_realm),
	  .help = "the REALM of long-term credentials" },
	{ .name = "turn.users",
	  .type = CONF_STRLIST,
	  .def = "[]",
	  .offset = F(turn_users),
	  .secret = true,
	  .check = conf_check_users,
	  .help = "static users, \"name:password\" or \"name:0xKEY\" with "
		  "KEY the hex MD5 of name:realm:password" },
	{ .name = "turn.secrets",
	  .type = CONF_STRLIST,
	  .def = "[]",
	  .offset = F(turn_secrets),
	  .secret = true,
	  .check = conf_check_secrets,
	  .help = "TURN REST API shared secrets (coturn's static-auth-secret); "
		  "the first mints credentials, all are accepted" },
	{ .name = "turn.rest_max_ttl",
	  .type = CONF_INT,
	  .min = 60,
	  .max = 31536000,
	  .def = "86400",
	  .offset = F(turn_rest_max_ttl),
	  .help = "seconds into the future a REST username's expiry may be" },
	{ .name = "turn.nonce_lifetime",
	  .type = CONF_INT,
	  .min = 10,
	  .max = 86400,
	  .def = "600",
	  .offset = F(turn_nonce_lifetime),
	  .help = "seconds a NONCE is valid before 438 Stale Nonce" },
	{ .name = "turn.default_lifetime",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 86400,
	  .def = "600",
	  .offset = F(turn_default_lifetime),
	  .help = "seconds an allocation lives when the client asks for less "
		  "or nothing" },
	{ .name = "turn.max_lifetime",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 86400,
	  .def = "3600",
	  .offset = F(turn_max_lifetime),
	  .help = "the most seconds an allocation or refresh may ask for" },
	{ .name = "turn.relay_ip",
	  .type = CONF_IPS,
	  .def = "[]",
	  .offset = F(turn_relay_ip),
	  .restart = true,
	  .help = "addresses relay sockets bind, one per family; empty binds "
		  "the wildcard of both" },
	{ .name = "turn.external_ip",
	  .type = CONF_IPS,
	  .def = "[]",
	  .offset = F(turn_external_ip),
	  .restart = true,
	  .help = "addresses told to clients in XOR-RELAYED-ADDRESS, one per "
		  "family, for servers behind 1:1 NAT" },
	{ .name = "turn.port_min",
	  .type = CONF_INT,
	  .min = 1024,
	  .max = 65535,
	  .def = "49152",
	  .offset = F(turn_port_min),
	  .restart = true,
	  .help = "lowest relay port" },
	{ .name = "turn.port_max",
	  .type = CONF_INT,
	  .min = 1024,
	  .max = 65535,
	  .def = "65535",
	  .offset = F(turn_port_max),
	  .restart = true,
	  .help = "highest relay port" },
	{ .name = "turn.allowed_peers",
	  .type = CONF_CIDRS,
	  .def = "[]",
	  .offset = F(turn_allowed_peers),
	  .help = "address ranges opened to relaying despite the built-in "
		  "deny list (loopback, private, link-local, ...)" },
	{ .name = "turn.denied_peers",
	  .type = CONF_CIDRS,
	  .def = "[]",
	  .offset = F(turn_denied_peers),
	  .help = "more address ranges never relayed to; beats allowed_peers" },
	{ .name = "turn.max_allocations",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 1000000,
	  .def = "10000",
	  .offset = F(turn_max_allocations),
	  .help = "allocations in total (508 beyond)" },
	{ .name = "turn.max_allocations_per_user",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 1000000,
	  .def = "100",
	  .offset = F(turn_max_allocations_per_user),
	  .help = "allocations per username (486 beyond)" },
	{ .name = "turn.max_permissions",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 10000,
	  .def = "64",
	  .offset = F(turn_max_permissions),
	  .help = "permissions per allocation (508 beyond)" },
	{ .name = "turn.max_channels",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 4096,
	  .def = "64",
	  .offset = F(turn_max_channels),
	  .help = "channels per allocation (508 beyond)" },
	{ .name = "turn.max_bandwidth",
	  .type = CONF_INT,
	  .min = 0,
	  .max = 1000000000,
	  .def = "2500000",
	  .offset = F(turn_max_bandwidth),
	  .help = "bytes per second one allocation may relay, both ways "
		  "together; excess is dropped; 0 is no limit" },
	{ .name = "turn.unauth_rate",
	  .type = CONF_INT,
	  .min = 1,
	  .max = 1000000,
	  .def = "20",
	  .offset = F(turn_unauth_rate),
	  .help = "requests per second one source address may send without "
		  "valid credentials (a burst of twice that)" },
	{ .name = "turn.max_datagram",
	  .type = CONF_INT,
	  .min = 576,
	  .max = 4000,
	  .def = "1600",
	  .offset = F(turn_max_datagram),
	  .help = "largest datagram relayed, in bytes" },
	{ .name = "turn.old_channels",
	  .type = CONF_BOOL,
	  .def = "false",
	  .offset = F(turn_old_channels),
	  .help = "accept channel numbers 0x5000-0x7FFF of RFC 5766 (old "
		  "clients such as turnutils_uclient)" },
};

#undef F

const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);
