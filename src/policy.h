/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.h: what a config decides about TURN clients, built in one go:
 * who may authenticate (auth.c) and which peers they may reach (peer.c).
 * Start, reload and "turnpiked -t" all build it the same way, so a config
 * that passes -t starts, and a reload that fails to build keeps the old.
 */
#ifndef TURNPIKE_POLICY_H
#define TURNPIKE_POLICY_H

#include <stddef.h>
#include <sys/socket.h>

struct auth;
struct conf;
struct peer_policy;

struct policy {
	struct auth *auth;
	struct peer_policy *peers;
};

/* policy.c */

/*
 * Build the policy of conf into p.  The server's own addresses are
 * refused as peers off the relay ports: the non-wildcard listeners, the
 * relay and external IPs, and the addresses in local[0..nlocal) (the
 * host's interfaces, which main.c reads, since a wildcard listener names
 * none).  Returns 0, or -1 with "file:0: reason" in err and p empty.
 */
int policy_build(const struct conf *conf, const struct sockaddr_storage *local,
		 size_t nlocal, struct policy *p, char *err, size_t errlen);
void policy_free(struct policy *p);

#endif /* TURNPIKE_POLICY_H */
