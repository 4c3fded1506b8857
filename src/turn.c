/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * turn.c: the TURN methods of RFC 8656, one handler each: Allocate,
 * Refresh, CreatePermission, ChannelBind, the Send indication, and
 * ChannelData from the client.
 *
 * server.c has already parsed the request, authenticated it and found the
 * allocation of its 5-tuple where the method needs one; a handler checks
 * the method's own attributes, changes the allocation table and answers.
 * Relay sockets are reached through srv->relay (relay.c), so this file
 * stays pure.  The client-to-peer path here (Send, ChannelData) allocates
 * nothing, formats nothing and logs nothing.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "bytes.h"
#include "conf.h"
#include "log.h"
#include "peer.h"
#include "server.h"
#include "stun.h"

/* RFC 8656 section 14.7: REQUESTED-TRANSPORT UDP is protocol 17. */
#define TURN_TRANSPORT_UDP 17
/* RFC 8656 section 14.1: address family values. */
#define TURN_FAMILY_IPV4 0x01
#define TURN_FAMILY_IPV6 0x02

/*
 * The lifetime to grant, in seconds (RFC 8656 sections 7.2 and 7.3): the
 * smaller of the requested one and turn.max_lifetime, but never below
 * turn.default_lifetime; the default when LIFETIME is absent.  *zero is
 * set when the client asked for 0 (Refresh: delete).  Returns -1 for a
 * malformed LIFETIME.
 */
static long
turn_lifetime(const struct conf *conf, const struct stun_msg *req, bool *zero)
{
	const struct stun_attr *a = stun_find(req, STUN_ATTR_LIFETIME);
	uint32_t want;

	*zero = false;
	if (a == NULL)
		return conf->turn_default_lifetime;
	if (stun_get_u32(req, a, &want) == -1)
		return -1;
	if (want == 0) {
		*zero = true;
		return 0;
	}
	if (want > (uint32_t)conf->turn_max_lifetime)
		want = (uint32_t)conf->turn_max_lifetime;
	if (want < (uint32_t)conf->turn_default_lifetime)
		want = (uint32_t)conf->turn_default_lifetime;
	return want;
}

/* REQUESTED-ADDRESS-FAMILY or ADDITIONAL-ADDRESS-FAMILY: AF_INET,
 * AF_INET6, 0 when absent, or -1 when malformed or unknown. */
static int
turn_family_attr(const struct stun_msg *req, uint16_t type)
{
	const struct stun_attr *a = stun_find(req, type);
	const uint8_t *v;

	if (a == NULL)
		return 0;
	if (a->len != 4)
		return -1;
	v = stun_attr_value(req, a);
	if (v[0] == TURN_FAMILY_IPV4)
		return AF_INET;
	if (v[0] == TURN_FAMILY_IPV6)
		return AF_INET6;
	return -1;
}

/* Add ADDRESS-ERROR-CODE (RFC 8656 section 14.13) for a family that could
 * not be allocated in a dual allocation. */
static void
turn_add_address_error(struct stun_builder *b, int family, int code)
{
	const char *reason = stun_reason(code);
	uint8_t v[4 + 64];
	size_t n = strlen(reason);

	if (n > sizeof(v) - 4)
		n = sizeof(v) - 4;
	v[0] = family == AF_INET6 ? TURN_FAMILY_IPV6 : TURN_FAMILY_IPV4;
	v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, n);
	stun_add_attr(b, STUN_ATTR_ADDRESS_ERROR_CODE, v, (uint16_t)(4 + n));
}

/* The success answer to an Allocate (RFC 8656 section 7.2, step 11). */
static void
turn_allocate_answer(struct server_req *r, struct alloc *a,
		     const struct server_relay_request *rq,
		     struct stun_builder *b)
{
	struct sockaddr_storage ss;

	for (int i = 0; i < 2; i++) {
		if (a->relay[i].family == 0)
			continue;
		addr_key_to(&a->relay[i], &ss);
		stun_add_xor_addr(b, STUN_ATTR_XOR_RELAYED_ADDRESS,
				  (struct sockaddr *)&ss);
	}
	for (int i = 0; i < 2; i++)
		if (rq != NULL && rq->family_error[i] != 0)
			turn_add_address_error(b, i ? AF_INET6 : AF_INET,
					       rq->family_error[i]);
	stun_add_u32(b, STUN_ATTR_LIFETIME,
		     (uint32_t)((a->expires_ms - r->m->now_ms + 999) / 1000));
	/* A retransmission rebuilt after the answer cache let it go still
	 * gets the token it was given. */
	if (a->has_token)
		stun_add_attr(b, STUN_ATTR_RESERVATION_TOKEN, a->token,
			      sizeof(a->token));
	stun_add_xor_addr(b, STUN_ATTR_XOR_MAPPED_ADDRESS, r->m->peer);
}

/*
 * Read the attributes of an Allocate that shape its relay sockets into rq
 * (RFC 8656 section 7.2, steps 3-7).  Returns 0 or a STUN error.
 */
static int
turn_allocate_request(const struct stun_msg *req,
		      struct server_relay_request *rq)
{
	const struct stun_attr *transport, *even, *token;
	int requested, additional;

	memset(rq, 0, sizeof(*rq));
	transport = stun_find(req, STUN_ATTR_REQUESTED_TRANSPORT);
	if (transport == NULL || transport->len != 4)
		return STUN_ERR_BAD_REQUEST;
	if (stun_attr_value(req, transport)[0] != TURN_TRANSPORT_UDP)
		return STUN_ERR_UNSUPPORTED_TRANSPORT;

	even = stun_find(req, STUN_ATTR_EVEN_PORT);
	token = stun_find(req, STUN_ATTR_RESERVATION_TOKEN);
	requested = turn_family_attr(req, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	additional = turn_family_attr(req, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY);

	/* Step 5: a token excludes EVEN-PORT and the family attributes. */
	if (token != NULL &&
	    (even != NULL || requested != 0 || additional != 0))
		return STUN_ERR_BAD_REQUEST;
	if (token != NULL) {
		if (token->len != sizeof(rq->token))
			return STUN_ERR_BAD_REQUEST;
		rq->use_token = true;
		memcpy(rq->token, stun_attr_value(req, token),
		       sizeof(rq->token));
	}
	if (even != NULL) {
		if (even->len != 1)
			return STUN_ERR_BAD_REQUEST;
		rq->even_port = true;
		rq->reserve_next = (stun_attr_value(req, even)[0] & 0x80) != 0;
	}
	/* RFC 8656 section 7.2: REQUESTED-ADDRESS-FAMILY with an unknown
	 * value is 440; with ADDITIONAL-ADDRESS-FAMILY too it is 400, and
	 * ADDITIONAL-ADDRESS-FAMILY may only ask for IPv6. */
	if (requested == -1)
		return STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED;
	if (additional == -1 || (additional != 0 && requested != 0) ||
	    additional == AF_INET)
		return STUN_ERR_BAD_REQUEST;
	if (additional == AF_INET6) {
		rq->family[0] = rq->family[1] = true;
		/* Two relays cannot share one even/reserved port pair. */
		if (rq->even_port)
			return STUN_ERR_BAD_REQUEST;
	} else {
		rq->family[alloc_family_index(requested ? requested
							: AF_INET)] = true;
	}
	return 0;
}

int
turn_allocate(struct server *srv, struct server_req *r, struct stun_builder *b)
{
	const struct stun_msg *req = r->msg;
	const struct server_msg *m = r->m;
	struct server_relay_request rq;
	struct alloc *a = alloc_find(srv->allocs, &r->tuple);
	bool zero;
	long lifetime;
	int rc;

	/* RFC 8656 section 7.2 step 2: the 5-tuple is taken.  The same
	 * transaction again is a retransmission, answered as before. */
	if (a != NULL && a->expires_ms > m->now_ms) {
		if (memcmp(a->tid, req->tid, sizeof(a->tid)) != 0)
			return STUN_ERR_ALLOCATION_MISMATCH;
		turn_allocate_answer(r, a, NULL, b);
		return 0;
	}
	if (a != NULL) {
		/* Expired, not yet swept: it goes now. */
		server_alloc_gone(srv, a, "expired", m->now_ms);
		alloc_free(srv->allocs, a);
	}
	if ((rc = turn_allocate_request(req, &rq)) != 0)
		return rc;
	/* DONT-FRAGMENT (step 4) is supported: the relay honours it on Send
	 * indications.  Nothing to check here. */
	if ((lifetime = turn_lifetime(srv->conf, req, &zero)) == -1 || zero)
		return STUN_ERR_BAD_REQUEST;

	rc = alloc_new(srv->allocs, &r->tuple, r->username, r->key, req->tid,
		       m->now_ms, (uint64_t)lifetime * 1000, &a);
	if (rc != 0)
		return rc;
	memcpy(a->key_tag, r->key_tag, sizeof(a->key_tag));
	a->conn = m->conn;
	if ((rc = srv->relay->open(srv->relay_ctx, a, &rq)) != 0) {
		alloc_free(srv->allocs, a);
		return rc;
	}
	srv->stats->allocations_created++;
	if (rq.made_token) {
		memcpy(a->token, rq.new_token, sizeof(a->token));
		a->has_token = true;
	}
	turn_allocate_answer(r, a, &rq, b);

	if (log_enabled(LOG_LEVEL_INFO)) {
		char client[ADDR_STRLEN], relay[ADDR_STRLEN];
		struct sockaddr_storage ss;

		addr_key_to(&a->relay[a->relay[0].family ? 0 : 1], &ss);
		log_info("allocation created: client %s/%s user \"%s\" relay "
			 "%s%s lifetime %ld s",
			 addr_str(m->peer, client, sizeof(client)),
			 m->transport == SERVER_UDP   ? "udp"
			 : m->transport == SERVER_TCP ? "tcp"
						      : "tls",
			 r->username,
			 addr_str((struct sockaddr *)&ss, relay, sizeof(relay)),
			 a->relay[0].family && a->relay[1].family ? " and IPv6"
								  : "",
			 lifetime);
	}
	return 0;
}

int
turn_refresh(struct server *srv, struct server_req *r, struct stun_builder *b)
{
	struct alloc *a = r->alloc;
	bool zero;
	long lifetime;
	int family;

	/* RFC 8656 section 7.3: REQUESTED-ADDRESS-FAMILY, if present, must
	 * be a family of the allocation (443). */
	family = turn_family_attr(r->msg, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	if (family == -1)
		return STUN_ERR_BAD_REQUEST;
	if (family != 0 && a->relay[alloc_family_index(family)].family == 0)
		return STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH;
	if ((lifetime = turn_lifetime(srv->conf, r->msg, &zero)) == -1)
		return STUN_ERR_BAD_REQUEST;
	if (zero) {
		server_alloc_gone(srv, a, "deleted", r->m->now_ms);
		alloc_free(srv->allocs, a);
		r->alloc = NULL;
		stun_add_u32(b, STUN_ATTR_LIFETIME, 0);
		return 0;
	}
	a->expires_ms = r->m->now_ms + (uint64_t)lifetime * 1000;
	stun_add_u32(b, STUN_ATTR_LIFETIME, (uint32_t)lifetime);
	return 0;
}

/*
 * Judge one XOR-PEER-ADDRESS of a request against the allocation and the
 * peer policy.  Returns 0 with *peer filled, or 400 (malformed), 443 (no
 * relay of its family), 403 (policy).  with_port: ChannelBind and Send
 * name a transport address; CreatePermission only an IP (RFC 8656 section
 * 10.2: the port "is ignored").
 */
static int
turn_peer(struct server *srv, const struct alloc *a, const struct stun_msg *req,
	  const struct stun_attr *attr, bool with_port,
	  struct sockaddr_storage *peer)
{
	enum peer_verdict v;

	if (stun_get_xor_addr(req, attr, peer) == -1)
		return STUN_ERR_BAD_REQUEST;
	if (a->relay[alloc_family_index(peer->ss_family)].family == 0)
		return STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH;
	v = with_port ? peer_check(srv->peers, (struct sockaddr *)peer)
		      : peer_check_ip(srv->peers, (struct sockaddr *)peer);
	if (v != PEER_ALLOW) {
		srv->stats->peer_denied[v & 7]++;
		return STUN_ERR_FORBIDDEN;
	}
	return 0;
}

int
turn_create_permission(struct server *srv, struct server_req *r,
		       struct stun_builder *b)
{
	const struct stun_msg *req = r->msg;
	struct sockaddr_storage peers[STUN_MAX_ATTRS];
	unsigned int n = 0, before = r->alloc->nperms;
	int rc;

	/* RFC 8656 section 9.2: every XOR-PEER-ADDRESS is checked before
	 * any permission is installed: all or none. */
	for (unsigned int i = 0; i < req->nattrs; i++) {
		if (req->attrs[i].type != STUN_ATTR_XOR_PEER_ADDRESS)
			continue;
		rc = turn_peer(srv, r->alloc, req, &req->attrs[i], false,
			       &peers[n]);
		if (rc != 0)
			return rc;
		n++;
	}
	if (n == 0)
		return STUN_ERR_BAD_REQUEST;
	if (r->alloc->nperms + n >
	    (unsigned int)srv->conf->turn_max_permissions) {
		/* Only new peers count against the limit. */
		unsigned int fresh = 0;

		for (unsigned int i = 0; i < n; i++) {
			struct addr_key k, prev;
			bool repeated = false;

			addr_key_from(&k, (struct sockaddr *)&peers[i]);
			/* A peer named twice counts once. */
			for (unsigned int j = 0; j < i && !repeated; j++) {
				addr_key_from(&prev,
					      (struct sockaddr *)&peers[j]);
				repeated = addr_key_same_ip(&k, &prev);
			}
			fresh += !repeated &&
				 !alloc_perm_ok(srv->allocs, r->alloc, &k, 0);
		}
		if (r->alloc->nperms + fresh >
		    (unsigned int)srv->conf->turn_max_permissions)
			return STUN_ERR_INSUFFICIENT_CAPACITY;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct addr_key k;

		addr_key_from(&k, (struct sockaddr *)&peers[i]);
		if ((rc = alloc_perm_add(srv->allocs, r->alloc, &k,
					 r->m->now_ms)) != 0)
			return rc;
	}
	srv->stats->permissions_created += r->alloc->nperms - before;
	(void)b;
	return 0;
}

/* Whether a channel number is one clients may bind (RFC 8656 section 12:
 * 0x4000-0x4FFF; RFC 5766's 0x4000-0x7FFF with turn.old_channels). */
static bool
turn_channel_ok(const struct conf *conf, uint16_t number)
{
	return number >= 0x4000 &&
	       number <= (conf->turn_old_channels ? 0x7FFF : 0x4FFF);
}

int
turn_channel_bind(struct server *srv, struct server_req *r,
		  struct stun_builder *b)
{
	const struct stun_msg *req = r->msg;
	const struct stun_attr *cn = stun_find(req, STUN_ATTR_CHANNEL_NUMBER);
	const struct stun_attr *pa = stun_find(req, STUN_ATTR_XOR_PEER_ADDRESS);
	struct sockaddr_storage peer;
	struct addr_key k;
	bool had_chan, had_perm;
	uint16_t number;
	int rc;

	/* RFC 8656 section 11.2: both attributes, a number in range. */
	if (cn == NULL || cn->len != 4 || pa == NULL)
		return STUN_ERR_BAD_REQUEST;
	number = get16(stun_attr_value(req, cn));
	if (!turn_channel_ok(srv->conf, number))
		return STUN_ERR_BAD_REQUEST;
	if ((rc = turn_peer(srv, r->alloc, req, pa, true, &peer)) != 0)
		return rc;
	addr_key_from(&k, (struct sockaddr *)&peer);
	/* Counted by what was live before, not by the difference of counts:
	 * the bind frees expired, unswept bindings, so nchans can go down
	 * (found by fuzz_server). */
	had_chan = alloc_chan_by_number(srv->allocs, r->alloc, number,
					r->m->now_ms) != NULL;
	had_perm = alloc_perm_ok(srv->allocs, r->alloc, &k, r->m->now_ms);
	rc = alloc_chan_bind(srv->allocs, r->alloc, number, &k, r->m->now_ms);
	if (rc == 0) {
		srv->stats->channels_created += !had_chan;
		srv->stats->permissions_created += !had_perm;
	}
	(void)b;
	return rc;
}

/*
 * Relay data from a's client to peer, if the bandwidth and size limits
 * allow.  The packet path: counters only.
 */
static void
turn_to_peer(struct server *srv, struct alloc *a, const struct sockaddr *peer,
	     const uint8_t *data, size_t len, bool dont_fragment,
	     uint64_t now_ms)
{
	struct stats *st = srv->stats;

	if (len > (size_t)srv->conf->turn_max_datagram) {
		st->relay_drop_too_big++;
		return;
	}
	if (!alloc_bw_take(a, len, (uint64_t)srv->conf->turn_max_bandwidth,
			   now_ms)) {
		st->relay_drop_bandwidth++;
		return;
	}
	if (srv->relay->send(srv->relay_ctx, a, peer, data, len,
			     dont_fragment) == -1)
		return;
	a->packets_to_peer++;
	a->bytes_to_peer += len;
	st->relay_to_peer_packets++;
	st->relay_to_peer_bytes += len;
}

void
turn_send(struct server *srv, struct server_req *r)
{
	const struct stun_msg *msg = r->msg;
	const struct stun_attr *pa = stun_find(msg, STUN_ATTR_XOR_PEER_ADDRESS);
	const struct stun_attr *data = stun_find(msg, STUN_ATTR_DATA);
	struct alloc *a = alloc_find(srv->allocs, &r->tuple);
	struct sockaddr_storage peer;
	struct addr_key k;
	enum peer_verdict v;

	/* RFC 8656 section 10.2: no allocation, no XOR-PEER-ADDRESS or DATA,
	 * no permission: the indication is dropped silently. */
	if (a == NULL || a->expires_ms <= r->m->now_ms) {
		srv->stats->relay_drop_no_allocation++;
		return;
	}
	if (pa == NULL || data == NULL ||
	    stun_get_xor_addr(msg, pa, &peer) == -1 ||
	    a->relay[alloc_family_index(peer.ss_family)].family == 0) {
		srv->stats->relay_drop_malformed++;
		return;
	}
	/* The policy again: a permission installed before a reload that
	 * denies the peer must not keep relaying to it. */
	if ((v = peer_check(srv->peers, (struct sockaddr *)&peer)) !=
	    PEER_ALLOW) {
		srv->stats->peer_denied[v & 7]++;
		return;
	}
	addr_key_from(&k, (struct sockaddr *)&peer);
	if (!alloc_perm_ok(srv->allocs, a, &k, r->m->now_ms)) {
		srv->stats->relay_drop_no_permission++;
		return;
	}
	turn_to_peer(srv, a, (struct sockaddr *)&peer,
		     stun_attr_value(msg, data), data->len,
		     stun_find(msg, STUN_ATTR_DONT_FRAGMENT) != NULL,
		     r->m->now_ms);
}

void
turn_channel_data(struct server *srv, const struct server_msg *m)
{
	const struct alloc_chan *c;
	struct alloc_tuple tuple;
	struct sockaddr_storage peer;
	struct alloc *a;
	uint16_t number, len;

	/*
	 * RFC 8656 section 12.4:
	 *  0                   1                   2                   3
	 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
	 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
	 * |         Channel Number        |            Length             |
	 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
	 * /                       Application Data                        /
	 * A length beyond the datagram, or a number out of range, is
	 * dropped; bytes past the length (padding) are ignored.
	 */
	if (m->len < 4) {
		srv->stats->relay_drop_malformed++;
		return;
	}
	number = get16(m->data);
	len = get16(m->data + 2);
	if ((size_t)len + 4 > m->len || !turn_channel_ok(srv->conf, number)) {
		srv->stats->relay_drop_malformed++;
		return;
	}
	server_tuple(&tuple, m);
	a = alloc_find(srv->allocs, &tuple);
	if (a == NULL || a->expires_ms <= m->now_ms) {
		srv->stats->relay_drop_no_allocation++;
		return;
	}
	if ((c = alloc_chan_by_number(srv->allocs, a, number, m->now_ms)) ==
	    NULL) {
		srv->stats->relay_drop_no_channel++;
		return;
	}
	if (!alloc_perm_ok(srv->allocs, a, &c->peer, m->now_ms)) {
		srv->stats->relay_drop_no_permission++;
		return;
	}
	addr_key_to(&c->peer, &peer);
	turn_to_peer(srv, a, (struct sockaddr *)&peer, m->data + 4, len, false,
		     m->now_ms);
}
