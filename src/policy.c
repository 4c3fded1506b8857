/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.c: from the turn.* keys of a config to an auth object and a peer
 * policy.  Pure: it copies what it needs and keeps no reference to conf.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "conf.h"
#include "peer.h"
#include "policy.h"

/* Whether sa is 0.0.0.0 or ::. */
static bool
policy_wildcard(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, &any6,
		      sizeof(any6)) == 0;
}

static void
policy_add_self(struct sockaddr_storage *self, size_t *n,
		const struct conf_addrs *a)
{
	for (unsigned int i = 0; i < a->n; i++)
		if (!policy_wildcard(&a->addr[i]))
			self[(*n)++] = a->addr[i];
}

static struct peer_policy *
policy_peers(const struct conf *conf, const struct sockaddr_storage *local,
	     size_t nlocal)
{
	struct sockaddr_storage *self;
	struct peer_policy *p;
	size_t nself = 0;

	if ((self = calloc(4 * CONF_MAX_LISTEN + nlocal, sizeof(*self))) ==
	    NULL)
		return NULL;
	policy_add_self(self, &nself, &conf->listen_udp);
	policy_add_self(self, &nself, &conf->listen_tcp);
	policy_add_self(self, &nself, &conf->turn_relay_ip);
	policy_add_self(self, &nself, &conf->turn_external_ip);
	for (size_t i = 0; i < nlocal; i++)
		if (!policy_wildcard(&local[i]))
			self[nself++] = local[i];
	p = peer_policy_new(
		conf->turn_allowed_peers.v, conf->turn_allowed_peers.n,
		conf->turn_denied_peers.v, conf->turn_denied_peers.n, self,
		nself, (unsigned int)conf->turn_port_min,
		(unsigned int)conf->turn_port_max);
	free(self);
	return p;
}

static struct auth *
policy_auth(const struct conf *conf, char *err, size_t errlen)
{
	struct auth_user_def *users = NULL;
	char **names = NULL;
	struct auth_params params;
	struct auth *auth = NULL;
	char why[256];
	unsigned int n = conf->turn_users.n;

	if (n > 0 && ((users = calloc(n, sizeof(*users))) == NULL ||
		      (names = calloc(n, sizeof(*names))) == NULL)) {
		snprintf(err, errlen, "%s:0: out of memory", conf->path);
		goto done;
	}
	/* "name:secret", as conf.c has checked. */
	for (unsigned int i = 0; i < n; i++) {
		const char *v = conf->turn_users.v[i];
		const char *colon = strchr(v, ':');

		if ((names[i] = strndup(v, (size_t)(colon - v))) == NULL) {
			snprintf(err, errlen, "%s:0: out of memory",
				 conf->path);
			goto done;
		}
		users[i].name = names[i];
		users[i].secret = colon + 1;
	}
	memset(&params, 0, sizeof(params));
	params.realm = conf->turn_realm;
	params.users = users;
	params.nusers = n;
	params.rest_secrets = (const char *const *)conf->turn_secrets.v;
	params.nrest_secrets = conf->turn_secrets.n;
	params.rest_max_ttl = (uint32_t)conf->turn_rest_max_ttl;
	params.nonce_ttl = (uint32_t)conf->turn_nonce_lifetime;
	if ((auth = auth_new(&params, why, sizeof(why))) == NULL)
		snprintf(err, errlen, "%s:0: turn: %s",
			 conf->path ? conf->path : "(defaults)", why);
done:
	for (unsigned int i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	free(users);
	return auth;
}

int
policy_build(const struct conf *conf, const struct sockaddr_storage *local,
	     size_t nlocal, struct policy *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if ((p->auth = policy_auth(conf, err, errlen)) == NULL)
		return -1;
	if ((p->peers = policy_peers(conf, local, nlocal)) == NULL) {
		snprintf(err, errlen, "%s:0: out of memory", conf->path);
		policy_free(p);
		return -1;
	}
	return 0;
}

void
policy_free(struct policy *p)
{
	auth_free(p->auth);
	peer_policy_free(p->peers);
	p->auth = NULL;
	p->peers = NULL;
}
