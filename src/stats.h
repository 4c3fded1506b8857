/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.h: every counter the daemon keeps, in one struct that main.c owns
 * and hands to each module.  The metrics endpoint reads it; nothing else
 * does.  Counters only go up, except the "open" gauges.  Incrementing one
 * is the whole cost on the packet path: no locks, one thread.  With
 * several workers each has its own, and /metrics shows their sum, taken
 * by each worker on its own thread (worker.c).
 */
#ifndef TURNPIKE_STATS_H
#define TURNPIKE_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Error responses we send, by code; index with stats_error_slot(). */
#define STATS_ERROR_CODES                                                      \
	X(400)                                                                 \
	X(401)                                                                 \
	X(403)                                                                 \
	X(420) X(437) X(438) X(440) X(441) X(442) X(443) X(486) X(500) X(508)

enum stats_error_slot {
#define X(code) STATS_ERR_##code,
	STATS_ERROR_CODES
#undef X
		STATS_ERR_OTHER,
	STATS_NERRORS
};

static inline enum stats_error_slot
stats_error_slot(int code)
{
	switch (code) {
#define X(c)                                                                   \
	case c:                                                                \
		return STATS_ERR_##c;
		STATS_ERROR_CODES
#undef X
	default:
		return STATS_ERR_OTHER;
	}
}

enum stats_transport { STATS_UDP = 0, STATS_TCP, STATS_TLS, STATS_NTRANSPORTS };

struct stats_transport_counters {
	uint64_t rx_packets, rx_bytes; /* datagrams or stream frames */
	uint64_t tx_packets, tx_bytes;
	uint64_t conns_open, conns_total; /* streams only */
	uint64_t conns_rejected;          /* connection limit reached */
	uint64_t conns_idle_closed;       /* idle timeout */
	uint64_t conns_overflow_closed;   /* client not reading */
	uint64_t handshakes_failed;       /* TLS: failed or timed out */
	uint64_t conns_garbage_closed;    /* a frame that is neither STUN
					   * nor ChannelData, or too long */
};

struct stats {
	struct stats_transport_counters transport[STATS_NTRANSPORTS];

	uint64_t requests[16]; /* STUN requests by method (0x000-0x00F) */
	uint64_t errors[STATS_NERRORS]; /* error responses sent, by code */
	uint64_t binding_responses;     /* Binding success responses */
	uint64_t classic_responses;     /* RFC 3489 answers */

	/* Input dropped without an answer, by reason. */
	uint64_t drop_not_stun;    /* neither STUN nor ChannelData */
	uint64_t drop_malformed;   /* bad length, cookie or attributes */
	uint64_t drop_fingerprint; /* FINGERPRINT present and wrong */
	uint64_t drop_classic;     /* RFC 3489 request, stun.rfc3489 off */
	uint64_t drop_unexpected;  /* a response, an unknown indication */
	uint64_t drop_oversized;   /* larger than we accept */
	uint64_t drop_send_failed; /* the kernel refused our answer */

	/* TURN (RFC 8656).  Live counts come from alloc_totals(). */
	uint64_t allocations_created;
	uint64_t allocations_expired;
	uint64_t allocations_deleted; /* Refresh 0, or the connection went */
	uint64_t permissions_created;
	uint64_t channels_created;
	uint64_t auth_failures[16];    /* by enum auth_reason */
	uint64_t peer_denied[8];       /* by enum peer_verdict */
	uint64_t rate_limited;         /* unauthenticated requests dropped */
	uint64_t retransmits_answered; /* from the answer cache */

	/* The relay, each way: client to peer, peer to client. */
	uint64_t relay_to_peer_packets, relay_to_peer_bytes;
	uint64_t relay_to_client_packets, relay_to_client_bytes;
	uint64_t relay_drop_no_allocation; /* ChannelData/Send, no alloc */
	uint64_t relay_drop_no_channel;    /* ChannelData on no channel */
	uint64_t relay_drop_no_permission; /* either way */
	uint64_t relay_drop_bandwidth;     /* turn.max_bandwidth */
	uint64_t relay_drop_malformed;     /* bad ChannelData or Send */
	uint64_t relay_drop_too_big;       /* over turn.max_datagram */
	uint64_t relay_drop_send_failed;   /* the kernel refused it */
	/* From one allocation to another without the kernel: on one worker,
	 * and handed to another; and through the kernel instead, as the
	 * other worker's inbox was full. */
	uint64_t relay_in_memory_within, relay_in_memory_across;
	uint64_t relay_inbox_full;
};

/* Every member is a uint64_t, so a struct stats adds up word by word. */
#define STATS_WORDS (sizeof(struct stats) / sizeof(uint64_t))
_Static_assert(sizeof(struct stats) % sizeof(uint64_t) == 0,
	       "struct stats must hold uint64_t counters only");

/* sum += s, counter by counter (the open gauges add up too). */
static inline void
stats_add(struct stats *sum, const struct stats *s)
{
	uint64_t *to = (uint64_t *)(void *)sum;
	const uint64_t *from = (const uint64_t *)(const void *)s;

	for (size_t i = 0; i < STATS_WORDS; i++)
		to[i] += from[i];
}

#endif /* TURNPIKE_STATS_H */
