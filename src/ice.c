/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ice.c: the STUN and TURN servers a browser is told about, as an
 * RTCConfiguration (the welcome message, /api/ice-servers) and as the
 * TURN REST API answer (/api/turn), with credentials minted from the
 * first turn.secrets entry by auth_rest_mint().
 *
 * Pure: the host the browser reached us as and the time are parameters;
 * no socket, no clock, no log.  Not here: checking the Host header (the
 * HTTP side hands a host without port, already judged sane), deciding who
 * may ask, and the TURN server's own checking of the credentials (auth.c).
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "auth.h"
#include "conf.h"
#include "ice.h"

/*
 * The TURN URLs, one row each, in the order browsers get them: the
 * transport, the listen list whose first entry gives the port, and
 * whether it needs tls.certificate (RFC 7065 section 3.1 for the syntax).
 */
static const struct ice_turn_row {
	const char *scheme;
	const char *transport;
	size_t listen; /* offsetof(struct conf, listen_*) */
	bool tls;
} ice_turn_rows[] = {
	{ "turn", "udp", offsetof(struct conf, listen_udp), false },
	{ "turn", "tcp", offsetof(struct conf, listen_tcp), false },
	{ "turns", "tcp", offsetof(struct conf, listen_tls), true },
};

#define ICE_NTURN_ROWS (sizeof(ice_turn_rows) / sizeof(ice_turn_rows[0]))

static const struct conf_addrs *
ice_listen(const struct conf *conf, size_t offset)
{
	return (const struct conf_addrs *)((const char *)conf + offset);
}

/* The port of the first address of l, which has one. */
static unsigned int
ice_port(const struct conf_addrs *l)
{
	return addr_port((const struct sockaddr *)&l->addr[0]);
}

/* Whether TURN is served and we can mint credentials for it. */
static bool
ice_turn_on(const struct conf *conf)
{
	return conf->turn_enable && conf->turn_secrets.n > 0 &&
	       conf->turn_secrets.v[0][0] != '\0';
}

/*
 * The host as the URLs write it: http.public_host when set, else host; an
 * IPv6 literal (it has a ':') in brackets unless it has them already
 * (RFC 7064 section 3.1 and RFC 7065 section 3.1 use the URI host rule).
 * Returns a new string (free()), or NULL when there is no host or no
 * memory.
 */
static char *
ice_host(const struct conf *conf, const char *host)
{
	const char *h = host;
	size_t len;
	char *out;

	if (conf->http_public_host != NULL && conf->http_public_host[0] != '\0')
		h = conf->http_public_host;
	if (h == NULL || h[0] == '\0')
		return NULL;
	if (strchr(h, ':') == NULL || h[0] == '[')
		return strdup(h);
	len = strlen(h);
	if ((out = malloc(len + 3)) == NULL)
		return NULL;
	out[0] = '[';
	memcpy(out + 1, h, len);
	out[len + 1] = ']';
	out[len + 2] = '\0';
	return out;
}

/*
 * The TURN URLs for host, one per enabled transport, as a new array.  An
 * empty array when none is enabled; NULL when out of memory.
 */
static json_t *
ice_turn_urls(const struct conf *conf, const char *host)
{
	const struct conf_addrs *l;
	json_t *urls;

	if ((urls = json_array()) == NULL)
		return NULL;
	for (size_t i = 0; i < ICE_NTURN_ROWS; i++) {
		const struct ice_turn_row *row = &ice_turn_rows[i];

		l = ice_listen(conf, row->listen);
		if (l->n == 0)
			continue;
		if (row->tls && (conf->tls_certificate == NULL ||
				 conf->tls_certificate[0] == '\0'))
			continue;
		if (json_array_append_new(
			    urls, json_sprintf("%s:%s:%u?transport=%s",
					       row->scheme, host, ice_port(l),
					       row->transport)) == -1) {
			json_decref(urls);
			return NULL;
		}
	}
	return urls;
}

/*
 * The iceServers entry of STUN, {"urls":["stun:HOST:PORT"]}, with the port
 * of the first UDP listener, else of the first TCP one (RFC 7064 section
 * 3.1: a stun: URL has no transport parameter).  Browsers send STUN over
 * UDP only, so the TCP port serves other clients.  The caller checks that
 * one of the lists has an address.  A new object, or NULL when out of
 * memory.
 */
static json_t *
ice_stun_server(const struct conf *conf, const char *host)
{
	const struct conf_addrs *l;

	l = conf->listen_udp.n > 0 ? &conf->listen_udp : &conf->listen_tcp;
	return json_pack("{s:[o]}", "urls",
			 json_sprintf("stun:%s:%u", host, ice_port(l)));
}

/*
 * Mint the credential of user, valid until now + signaling.credential_ttl,
 * with the first secret into username[usercap] and password.  Returns 0,
 * or -1 when the name does not fit or OpenSSL fails.  The caller wipes
 * password.
 */
static int
ice_mint(const struct conf *conf, const char *user, int64_t now, char *username,
	 size_t usercap, char password[AUTH_REST_PASSWORD_LEN + 1])
{
	if (now < 0 || now > INT64_MAX - conf->sig_credential_ttl)
		return -1;
	return auth_rest_mint(conf->turn_secrets.v[0], user,
			      now + conf->sig_credential_ttl, username, usercap,
			      password);
}

/*
 * The iceServers entry of TURN: the URLs and a fresh credential.  Returns
 * a new object, or NULL when out of memory or the credential cannot be
 * minted; *none is set instead when there is no TURN URL to give.
 */
static json_t *
ice_turn_server(const struct conf *conf, const char *host, const char *user,
		int64_t now, bool *none)
{
	char username[AUTH_USERNAME_MAX + 1];
	char password[AUTH_REST_PASSWORD_LEN + 1];
	json_t *urls, *server = NULL;

	*none = false;
	if ((urls = ice_turn_urls(conf, host)) == NULL)
		return NULL;
	if (json_array_size(urls) == 0) {
		json_decref(urls);
		*none = true;
		return NULL;
	}
	if (ice_mint(conf, user, now, username, sizeof(username), password) ==
	    -1) {
		json_decref(urls);
		return NULL;
	}
	if ((server = json_object()) == NULL ||
	    json_object_set_new(server, "urls", urls) == -1 ||
	    json_object_set_new(server, "username", json_string(username)) ==
		    -1 ||
	    json_object_set_new(server, "credential", json_string(password)) ==
		    -1) {
		if (server == NULL)
			json_decref(urls);
		json_decref(server);
		server = NULL;
	}
	OPENSSL_cleanse(password, sizeof(password));
	return server;
}

/*
 * As ice.h says; NULL too when there is no host at all (neither host nor
 * http.public_host) or a credential cannot be minted (a user so long that
 * the username passes AUTH_USERNAME_MAX).
 */
json_t *
ice_config(const struct conf *conf, const char *host, const char *user,
	   int64_t now)
{
	json_t *config = NULL, *servers, *turn;
	char *h;
	bool none;

	if ((h = ice_host(conf, host)) == NULL)
		return NULL;
	if ((servers = json_array()) == NULL)
		goto fail;
	if ((conf->listen_udp.n > 0 || conf->listen_tcp.n > 0) &&
	    json_array_append_new(servers, ice_stun_server(conf, h)) == -1)
		goto fail;
	if (ice_turn_on(conf)) {
		turn = ice_turn_server(conf, h, user, now, &none);
		if (turn == NULL && !none)
			goto fail;
		if (turn != NULL && json_array_append_new(servers, turn) == -1)
			goto fail;
	}
	config = json_pack(
		"{s:o,s:s}", "iceServers", servers, "iceTransportPolicy",
		conf->sig_ice_transport_policy == 1 ? "relay" : "all");
	servers = NULL; /* json_pack took it, even when it failed */
fail:
	json_decref(servers);
	free(h);
	return config;
}

/* As ice.h says; NULL too when there is no host or no TURN URL. */
json_t *
ice_turn_rest(const struct conf *conf, const char *host, const char *user,
	      int64_t now)
{
	char username[AUTH_USERNAME_MAX + 1];
	char password[AUTH_REST_PASSWORD_LEN + 1];
	json_t *rest = NULL, *urls = NULL;
	char *h;

	if (!ice_turn_on(conf))
		return NULL;
	if ((h = ice_host(conf, host)) == NULL)
		return NULL;
	if ((urls = ice_turn_urls(conf, h)) == NULL ||
	    json_array_size(urls) == 0)
		goto done;
	if (ice_mint(conf, user, now, username, sizeof(username), password) ==
	    -1)
		goto done;
	rest = json_pack("{s:s,s:s,s:i,s:o}", "username", username, "password",
			 password, "ttl", conf->sig_credential_ttl, "uris",
			 urls);
	urls = NULL; /* json_pack took it, even when it failed */
	OPENSSL_cleanse(password, sizeof(password));
done:
	json_decref(urls);
	free(h);
	return rest;
}
