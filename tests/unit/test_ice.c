/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ice.c: unit tests of what browsers are told about our STUN and
 * TURN servers (src/ice.c).
 *
 * The URL sets for each combination of listeners, TLS, TURN and secrets;
 * the host rules (IPv6 brackets, http.public_host); the transport policy;
 * and the minted credentials: the expiry in the username, and a password
 * recomputed here with HMAC() and EVP_EncodeBlock(), without auth.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "addr.h"
#include "auth.h"
#include "conf.h"
#include "ice.h"
#include "unit.h"

#define NOW    INT64_C(1700000000) /* the fake clock */
#define TTL    3600
#define SECRET "north"
#define USER   "0123456789abcdef0123456789abcdef"

static void
set_string(char **field, const char *value)
{
	free(*field);
	if ((*field = strdup(value)) == NULL)
		exit(99);
}

/* Make l hold the addresses of the NULL-terminated list, as the config
 * would. */
static void
set_listen(struct conf_addrs *l, const char *const *addrs)
{
	char err[128];

	l->n = 0;
	for (; *addrs != NULL; addrs++) {
		if (addr_parse(*addrs, &l->addr[l->n], err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "%s\n", err);
			exit(99);
		}
		l->n++;
	}
}

/* Replace the secrets with one, or none when secret is NULL. */
static void
set_secret(struct conf *conf, const char *secret)
{
	struct conf_strlist *l = &conf->turn_secrets;

	for (unsigned int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
	if (secret == NULL)
		return;
	if ((l->v = calloc(2, sizeof(*l->v))) == NULL ||
	    (l->v[0] = strdup(secret)) == NULL ||
	    (l->v[1] = strdup("x")) == NULL)
		exit(99);
	l->n = 2; /* the second one must not be used to mint */
}

/*
 * A config with UDP on 3478, TCP on 3479, TLS on 5349 (without a
 * certificate, so not offered), TURN on with one secret, the TTL of the
 * tests and the policy "all".
 */
static struct conf *
base_conf(void)
{
	char err[CONF_ERRLEN];
	struct conf *conf = conf_load(NULL, err, sizeof(err));

	if (conf == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(99);
	}
	set_listen(&conf->listen_udp,
		   (const char *[]){ "0.0.0.0:3478", "[::]:3488", NULL });
	set_listen(&conf->listen_tcp,
		   (const char *[]){ "0.0.0.0:3479", "[::]:3489", NULL });
	set_listen(&conf->listen_tls,
		   (const char *[]){ "0.0.0.0:5349", "[::]:5359", NULL });
	set_string(&conf->tls_certificate, "");
	set_string(&conf->http_public_host, "");
	conf->turn_enable = true;
	set_secret(conf, SECRET);
	conf->sig_credential_ttl = TTL;
	conf->sig_ice_transport_policy = 0;
	return conf;
}

/* The strings of a JSON array joined with spaces, into buf. */
static const char *
join(const json_t *array, char *buf, size_t cap)
{
	size_t i, off = 0;
	json_t *v;

	buf[0] = '\0';
	if (!json_is_array(array))
		return "(not an array)";
	json_array_foreach(array, i, v)
	{
		if (!json_is_string(v))
			return "(not a string)";
		off += (size_t)snprintf(buf + off, cap - off, "%s%s",
					i > 0 ? " " : "", json_string_value(v));
		if (off >= cap)
			return "(too long)";
	}
	return buf;
}

/* base64(HMAC-SHA1(secret, username)), computed here, into out[29]. */
static void
rest_password(const char *secret, const char *username, char out[29])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (HMAC(EVP_sha1(), secret, (int)strlen(secret),
		 (const unsigned char *)username, strlen(username), mac,
		 &maclen) == NULL ||
	    maclen != 20) {
		fprintf(stderr, "HMAC failed\n");
		exit(99);
	}
	CHECK_INT(EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen), 28);
}

/* The username carries now + TTL and user, the password is its MAC. */
static void
check_credential(const char *username, const char *password, const char *user)
{
	char want[AUTH_USERNAME_MAX + 1], pw[29];

	if (user != NULL)
		snprintf(want, sizeof(want), "%" PRId64 ":%s", NOW + TTL, user);
	else
		snprintf(want, sizeof(want), "%" PRId64, NOW + TTL);
	CHECK_STR(username, want);
	rest_password(SECRET, want, pw);
	CHECK_STR(password, pw);
}

/*
 * Check the RTCConfiguration of conf for host: exactly the keys it must
 * have, the STUN URLs stun_urls ("" for no STUN entry), the TURN URLs
 * turn_urls (NULL for no TURN entry) and the policy.
 */
static void
check_config(const struct conf *conf, const char *host, const char *stun_urls,
	     const char *turn_urls, const char *policy)
{
	json_t *cfg = ice_config(conf, host, USER, NOW), *servers, *stun, *turn;
	json_t *urls;
	const char *pol = NULL, *username = NULL, *credential = NULL;
	json_error_t err;
	char buf[512];
	size_t n;

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_INT(json_unpack_ex(cfg, &err, JSON_STRICT, "{s:o,s:s}",
				 "iceServers", &servers, "iceTransportPolicy",
				 &pol),
		  0);
	CHECK_STR(pol, policy);
	n = (stun_urls[0] != '\0') + (turn_urls != NULL);
	CHECK(json_is_array(servers));
	CHECK_INT(json_array_size(servers), n);
	if (json_array_size(servers) != n) {
		json_decref(cfg);
		return;
	}
	if (stun_urls[0] != '\0') {
		stun = json_array_get(servers, 0);
		CHECK_INT(json_unpack_ex(stun, &err, JSON_STRICT, "{s:o}",
					 "urls", &urls),
			  0);
		CHECK_STR(join(urls, buf, sizeof(buf)), stun_urls);
	}
	if (turn_urls != NULL) {
		turn = json_array_get(servers, n - 1);
		CHECK_INT(json_unpack_ex(turn, &err, JSON_STRICT,
					 "{s:o,s:s,s:s}", "urls", &urls,
					 "username", &username, "credential",
					 &credential),
			  0);
		CHECK_STR(join(urls, buf, sizeof(buf)), turn_urls);
		check_credential(username, credential, USER);
	}
	json_decref(cfg);
}

/* The TURN REST answer of conf for host and user, or that there is none
 * (turn_urls NULL). */
static void
check_rest(const struct conf *conf, const char *host, const char *user,
	   const char *turn_urls)
{
	json_t *rest = ice_turn_rest(conf, host, user, NOW), *urls;
	const char *username = NULL, *password = NULL;
	json_error_t err;
	char buf[512];
	int ttl = 0;

	if (turn_urls == NULL) {
		CHECK(rest == NULL);
		json_decref(rest);
		return;
	}
	CHECK(rest != NULL);
	if (rest == NULL)
		return;
	CHECK_INT(json_unpack_ex(rest, &err, JSON_STRICT, "{s:s,s:s,s:i,s:o}",
				 "username", &username, "password", &password,
				 "ttl", &ttl, "uris", &urls),
		  0);
	CHECK_INT(ttl, TTL);
	CHECK_STR(join(urls, buf, sizeof(buf)), turn_urls);
	check_credential(username, password, user);
	json_decref(rest);
}

static void
test_udp_only(void)
{
	struct conf *conf = base_conf();

	conf->listen_tcp.n = 0;
	conf->listen_tls.n = 0;
	check_config(conf, "example.org", "stun:example.org:3478",
		     "turn:example.org:3478?transport=udp", "all");
	check_rest(conf, "example.org", USER,
		   "turn:example.org:3478?transport=udp");
	conf_free(conf);
}

static void
test_tcp_only(void)
{
	struct conf *conf = base_conf();

	/* No UDP listener: the STUN URL takes the TCP port. */
	conf->listen_udp.n = 0;
	check_config(conf, "example.org", "stun:example.org:3479",
		     "turn:example.org:3479?transport=tcp", "all");
	conf_free(conf);
}

static void
test_udp_tcp(void)
{
	struct conf *conf = base_conf();

	/* listen.tls is set but tls.certificate is not: no turns: URL. */
	check_config(conf, "example.org", "stun:example.org:3478",
		     "turn:example.org:3478?transport=udp "
		     "turn:example.org:3479?transport=tcp",
		     "all");
	check_rest(conf, "example.org", USER,
		   "turn:example.org:3478?transport=udp "
		   "turn:example.org:3479?transport=tcp");
	conf_free(conf);
}

static void
test_tls(void)
{
	struct conf *conf = base_conf();

	set_string(&conf->tls_certificate, "/etc/turnpike/cert.pem");
	check_config(conf, "example.org", "stun:example.org:3478",
		     "turn:example.org:3478?transport=udp "
		     "turn:example.org:3479?transport=tcp "
		     "turns:example.org:5349?transport=tcp",
		     "all");
	check_rest(conf, "example.org", USER,
		   "turn:example.org:3478?transport=udp "
		   "turn:example.org:3479?transport=tcp "
		   "turns:example.org:5349?transport=tcp");

	/* A certificate without a TLS listener offers nothing more. */
	conf->listen_tls.n = 0;
	check_config(conf, "example.org", "stun:example.org:3478",
		     "turn:example.org:3478?transport=udp "
		     "turn:example.org:3479?transport=tcp",
		     "all");
	conf_free(conf);
}

static void
test_no_turn(void)
{
	struct conf *conf = base_conf();

	/* turn.enable = false: a STUN server, whatever the secrets. */
	conf->turn_enable = false;
	check_config(conf, "example.org", "stun:example.org:3478", NULL, "all");
	check_rest(conf, "example.org", USER, NULL);

	/* TURN with static users only: nothing to mint with. */
	conf->turn_enable = true;
	set_secret(conf, NULL);
	check_config(conf, "example.org", "stun:example.org:3478", NULL, "all");
	check_rest(conf, "example.org", USER, NULL);

	/* An empty first secret is no secret. */
	set_secret(conf, "");
	check_config(conf, "example.org", "stun:example.org:3478", NULL, "all");
	check_rest(conf, "example.org", USER, NULL);
	conf_free(conf);
}

static void
test_hosts(void)
{
	struct conf *conf = base_conf();

	conf->listen_tcp.n = 0;
	check_config(conf, "192.0.2.1", "stun:192.0.2.1:3478",
		     "turn:192.0.2.1:3478?transport=udp", "all");
	check_config(conf, "2001:db8::1", "stun:[2001:db8::1]:3478",
		     "turn:[2001:db8::1]:3478?transport=udp", "all");
	check_config(conf, "[2001:db8::2]", "stun:[2001:db8::2]:3478",
		     "turn:[2001:db8::2]:3478?transport=udp", "all");
	check_rest(conf, "::1", USER, "turn:[::1]:3478?transport=udp");

	/* No host at all: nothing to say. */
	CHECK(ice_config(conf, NULL, USER, NOW) == NULL);
	CHECK(ice_config(conf, "", USER, NOW) == NULL);
	CHECK(ice_turn_rest(conf, NULL, USER, NOW) == NULL);

	/* http.public_host wins over the host asked for, brackets too. */
	set_string(&conf->http_public_host, "turn.example.net");
	check_config(conf, "192.0.2.1", "stun:turn.example.net:3478",
		     "turn:turn.example.net:3478?transport=udp", "all");
	check_config(conf, NULL, "stun:turn.example.net:3478",
		     "turn:turn.example.net:3478?transport=udp", "all");
	check_rest(conf, "192.0.2.1", USER,
		   "turn:turn.example.net:3478?transport=udp");
	set_string(&conf->http_public_host, "2001:db8::3");
	check_config(conf, "example.org", "stun:[2001:db8::3]:3478",
		     "turn:[2001:db8::3]:3478?transport=udp", "all");
	conf_free(conf);
}

static void
test_policy(void)
{
	struct conf *conf = base_conf();

	conf->listen_tcp.n = 0;
	conf->sig_ice_transport_policy = 1;
	check_config(conf, "example.org", "stun:example.org:3478",
		     "turn:example.org:3478?transport=udp", "relay");
	conf->sig_ice_transport_policy = 0;
	check_config(conf, "example.org", "stun:example.org:3478",
		     "turn:example.org:3478?transport=udp", "all");
	conf_free(conf);
}

static void
test_credentials(void)
{
	struct conf *conf = base_conf();
	char longuser[AUTH_USERNAME_MAX + 1];

	/* A credential known by value: the vector of test_auth.c, minted at
	 * 1700000000 - TTL so that the username is "1700000000:alice". */
	{
		json_t *rest =
			ice_turn_rest(conf, "example.org", "alice", NOW - TTL);
		const char *username = NULL, *password = NULL;

		CHECK(rest != NULL);
		CHECK_INT(json_unpack(rest, "{s:s,s:s}", "username", &username,
				      "password", &password),
			  0);
		CHECK_STR(username, "1700000000:alice");
		CHECK_STR(password, "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
		json_decref(rest);
	}

	/* Without a user, the username is the expiry alone. */
	check_rest(conf, "example.org", NULL,
		   "turn:example.org:3478?transport=udp "
		   "turn:example.org:3479?transport=tcp");

	/* A name that cannot fit: no answer rather than a bad one. */
	memset(longuser, 'a', sizeof(longuser) - 1);
	longuser[sizeof(longuser) - 1] = '\0';
	CHECK(ice_config(conf, "example.org", longuser, NOW) == NULL);
	CHECK(ice_turn_rest(conf, "example.org", longuser, NOW) == NULL);

	/* A clock before 1970 mints nothing. */
	CHECK(ice_turn_rest(conf, "example.org", USER, -TTL - 1) == NULL);
	conf_free(conf);
}

int
main(void)
{
	test_udp_only();
	test_tcp_only();
	test_udp_tcp();
	test_tls();
	test_no_turn();
	test_hosts();
	test_policy();
	test_credentials();
	return unit_done("test_ice");
}
