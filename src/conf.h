/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.h: the configuration of a running turnpiked, and the one table of
 * keys that drives parsing, validation, "turnpiked -t", the reload rules,
 * the man page and the sample config.
 *
 * Pure: conf_load() reads a file and fills a struct; it opens no socket and
 * logs nothing.  Errors come back as "file:line: what is wrong".
 */
#ifndef TURNPIKE_CONF_H
#define TURNPIKE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "peer.h"

#define CONF_MAX_LISTEN  16
#define CONF_MAX_WORKERS 64 /* daemon.workers */
#define CONF_ERRLEN      512

/* A list of listening addresses ("ip:port" / "[ipv6]:port"). */
struct conf_addrs {
	unsigned int n;
	struct sockaddr_storage addr[CONF_MAX_LISTEN];
};

/* A list of strings (secrets among them: wiped when freed). */
struct conf_strlist {
	unsigned int n;
	char **v;
};

/* A list of address ranges (struct peer_cidr, from peer.h). */
struct conf_cidrs {
	unsigned int n;
	struct peer_cidr *v;
};

/*
 * Everything the daemon reads from its file.  Each field is one row of the
 * key table in conf.c; a new key is a field here and a row there.
 */
struct conf {
	char *path;

	/* daemon */
	char *user;
	char *group;
	int workers; /* 0: "auto", one per CPU */

	/* log */
	int log_level;    /* enum log_level */
	int log_target;   /* enum log_target */
	int log_facility; /* index into conf_facility_values */

	/* listen */
	struct conf_addrs listen_udp;
	struct conf_addrs listen_tcp;
	struct conf_addrs listen_tls;

	/* stun */
	bool stun_rfc3489;

	/* tls */
	char *tls_certificate;
	char *tls_private_key;
	char *tls_ciphers;
	int tls_handshake_timeout;

	/* stream */
	int stream_max_connections;
	int stream_idle_timeout;
	int stream_max_buffer;

	/* http */
	struct conf_addrs http_listen;
	char *http_webroot;
	struct conf_strlist http_allowed_origins;
	char *http_api_key;
	char *http_public_host;
	char *http_tls_certificate;
	char *http_tls_private_key;
	int http_max_connections;
	int http_connection_memory;

	/* signaling */
	int sig_max_connections;
	int sig_max_rooms;
	int sig_max_peers_per_room;
	int sig_max_message_size;
	int sig_send_queue;
	int sig_rate;
	int sig_burst;
	int sig_abuse_limit;
	char *sig_token_secret;
	int sig_credential_ttl;
	int sig_ice_transport_policy; /* 0 all, 1 relay */

	/* turn */
	bool turn_enable;
	char *turn_realm;
	struct conf_strlist turn_users;
	struct conf_strlist turn_secrets;
	int turn_rest_max_ttl;
	int turn_nonce_lifetime;
	int turn_default_lifetime;
	int turn_max_lifetime;
	struct conf_addrs turn_relay_ip;
	struct conf_addrs turn_external_ip;
	int turn_port_min;
	int turn_port_max;
	struct conf_cidrs turn_allowed_peers;
	struct conf_cidrs turn_denied_peers;
	int turn_max_allocations;
	int turn_max_allocations_per_user;
	int turn_max_permissions;
	int turn_max_channels;
	int turn_max_bandwidth;
	int turn_unauth_rate;
	int turn_max_datagram;
	bool turn_old_channels;
};

/* conf.c */

/*
 * Read and validate a config file.  Returns a new struct conf, owned by the
 * caller and released with conf_free(), or NULL with "file:line: reason"
 * in err (CONF_ERRLEN bytes).  A NULL path loads the built-in defaults.
 */
struct conf *conf_load(const char *path, char *err, size_t errlen);
void conf_free(struct conf *conf);

/* Print every key with its effective value, in the file's own syntax. */
void conf_print(FILE *fp, const struct conf *conf);

/*
 * After a reload: for each key that only takes effect at start (listeners,
 * user) and differs between the running config old and the new one, call
 * report and give new the running value, so that new describes what is
 * really in force.  Returns how many keys were carried.
 */
int conf_carry_restart_keys(struct conf *new, struct conf *old,
			    void (*report)(const char *key, void *arg),
			    void *arg);

/* The syslog facility for conf->log_facility. */
int conf_syslog_facility(const struct conf *conf);

#endif /* TURNPIKE_CONF_H */
