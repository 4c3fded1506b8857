/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c: the counters of struct stats, struct alloc_totals and struct
 * sig_stats written in the Prometheus text exposition format, version
 * 0.0.4, for GET /metrics.
 *
 * Every family is written once, "# HELP" and "# TYPE" first, then its
 * samples.  Labels are only ever bounded sets known here (method, code,
 * reason, transport, direction, type), never a user, a room or an
 * address.  A new counter is a row in one of the tables below, or a few
 * lines in metrics_render() when it needs two labels.
 *
 * Pure: it formats what it is given into a new buffer.  Not here: serving
 * the text (http.c), and keeping the counters (whoever owns them).
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "auth.h"
#include "metrics.h"
#include "peer.h"
#include "sig.h"
#include "stats.h"
#include "stun.h"

#define METRICS_INITIAL_SIZE 16384

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The per-reason arrays of struct stats must hold every reason. */
_Static_assert(AUTH_NREASONS <= NELEMS(((struct stats *)0)->auth_failures),
	       "stats.auth_failures[] is too small for enum auth_reason");
_Static_assert(PEER_VERDICT_COUNT <= NELEMS(((struct stats *)0)->peer_denied),
	       "stats.peer_denied[] is too small for enum peer_verdict");

/* The text being built.  After a failed allocation every write is a no-op
 * and metrics_render() returns NULL. */
struct metrics_buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

/* One sample of a family with at most one label: the label's value (NULL
 * for the sample of a family without labels) and where the counter is. */
struct metrics_field {
	const char *value;
	size_t offset; /* of a uint64_t, in the struct the table is for */
};

/* A family of counters or gauges with at most one label of its own. */
struct metrics_row {
	const char *name;
	const char *help;
	const char *label;              /* NULL: fields[0] only, no label */
	struct metrics_field fields[8]; /* ends at a NULL value */
};

#define ST(field) offsetof(struct stats, field)

/* The STUN counters of struct stats that need no code of their own. */
static const struct metrics_row metrics_stun_rows[] = {
	{ "turnpike_stun_binding_responses_total",
	  "STUN Binding success responses sent",
	  NULL,
	  { { NULL, ST(binding_responses) } } },
	{ "turnpike_stun_classic_responses_total",
	  "answers to classic RFC 3489 Binding requests",
	  NULL,
	  { { NULL, ST(classic_responses) } } },
	{ "turnpike_dropped_total",
	  "input dropped without an answer, by reason",
	  "reason",
	  { { "not_stun", ST(drop_not_stun) },
	    { "malformed", ST(drop_malformed) },
	    { "fingerprint", ST(drop_fingerprint) },
	    { "classic", ST(drop_classic) },
	    { "unexpected", ST(drop_unexpected) },
	    { "oversized", ST(drop_oversized) },
	    { "send_failed", ST(drop_send_failed) } } },
};

/* The TURN counters of struct stats that need no code of their own. */
static const struct metrics_row metrics_turn_rows[] = {
	{ "turnpike_allocations_created_total",
	  "TURN allocations created",
	  NULL,
	  { { NULL, ST(allocations_created) } } },
	{ "turnpike_allocations_ended_total",
	  "TURN allocations ended, by reason",
	  "reason",
	  { { "expired", ST(allocations_expired) },
	    { "deleted", ST(allocations_deleted) } } },
	{ "turnpike_permissions_created_total",
	  "TURN permissions installed",
	  NULL,
	  { { NULL, ST(permissions_created) } } },
	{ "turnpike_channels_created_total",
	  "TURN channels bound",
	  NULL,
	  { { NULL, ST(channels_created) } } },
	{ "turnpike_rate_limited_total",
	  "unauthenticated requests dropped by the rate limit",
	  NULL,
	  { { NULL, ST(rate_limited) } } },
	{ "turnpike_retransmits_answered_total",
	  "retransmitted requests answered from the answer cache",
	  NULL,
	  { { NULL, ST(retransmits_answered) } } },
	{ "turnpike_relay_packets_total",
	  "datagrams relayed, by direction",
	  "direction",
	  { { "to_peer", ST(relay_to_peer_packets) },
	    { "to_client", ST(relay_to_client_packets) } } },
	{ "turnpike_relay_bytes_total",
	  "bytes of application data relayed, by direction",
	  "direction",
	  { { "to_peer", ST(relay_to_peer_bytes) },
	    { "to_client", ST(relay_to_client_bytes) } } },
	{ "turnpike_relay_dropped_total",
	  "datagrams the relay dropped, by reason",
	  "reason",
	  { { "no_allocation", ST(relay_drop_no_allocation) },
	    { "no_channel", ST(relay_drop_no_channel) },
	    { "no_permission", ST(relay_drop_no_permission) },
	    { "bandwidth", ST(relay_drop_bandwidth) },
	    { "malformed", ST(relay_drop_malformed) },
	    { "too_big", ST(relay_drop_too_big) },
	    { "send_failed", ST(relay_drop_send_failed) } } },
	{ "turnpike_relay_between_allocations_total",
	  "datagrams from one allocation to another of this daemon, by path: "
	  "in memory within a worker or across workers, or through the "
	  "kernel as the other worker's inbox was full",
	  "path",
	  { { "within_worker", ST(relay_in_memory_within) },
	    { "across_workers", ST(relay_in_memory_across) },
	    { "inbox_full", ST(relay_inbox_full) } } },
};

#undef ST

#define TC(field) offsetof(struct stats_transport_counters, field)

/* The families of every transport's struct stats_transport_counters. */
static const struct metrics_row metrics_transport_rows[] = {
	{ "turnpike_transport_packets_total",
	  "datagrams or stream frames, by transport and direction",
	  "direction",
	  { { "rx", TC(rx_packets) }, { "tx", TC(tx_packets) } } },
	{ "turnpike_transport_bytes_total",
	  "bytes of STUN and TURN traffic, by transport and direction",
	  "direction",
	  { { "rx", TC(rx_bytes) }, { "tx", TC(tx_bytes) } } },
};

/*
 * The families of TCP's and TLS's only (a gauge, then counters): UDP has
 * no connections.  The gauge
 * is not "turnpike_connections": OpenMetrics parsers (the Python client's
 * among them) read a counter foo_total as the family foo, which would then
 * be there twice.
 */
static const struct metrics_row metrics_stream_gauges[] = {
	{ "turnpike_connections_open",
	  "stream connections open, by transport",
	  NULL,
	  { { NULL, TC(conns_open) } } },
};

static const struct metrics_row metrics_stream_rows[] = {
	{ "turnpike_connections_total",
	  "stream connections accepted, by transport",
	  NULL,
	  { { NULL, TC(conns_total) } } },
	{ "turnpike_connections_closed_total",
	  "stream connections the server closed, by transport and reason",
	  "reason",
	  { { "rejected", TC(conns_rejected) },
	    { "idle", TC(conns_idle_closed) },
	    { "overflow", TC(conns_overflow_closed) },
	    { "garbage", TC(conns_garbage_closed) } } },
};

#undef TC

static const char *const metrics_transport_names[STATS_NTRANSPORTS] = {
	[STATS_UDP] = "udp",
	[STATS_TCP] = "tcp",
	[STATS_TLS] = "tls",
};

/* The STUN methods with a name of their own; the rest count as "other". */
static const char *const metrics_methods[16] = {
	[STUN_METHOD_BINDING] = "binding",
	[STUN_METHOD_ALLOCATE] = "allocate",
	[STUN_METHOD_REFRESH] = "refresh",
	[STUN_METHOD_SEND] = "send",
	[STUN_METHOD_DATA] = "data",
	[STUN_METHOD_CREATE_PERMISSION] = "create_permission",
	[STUN_METHOD_CHANNEL_BIND] = "channel_bind",
};

/* Room for more bytes and a NUL after b->len; false (and b->failed) when
 * out of memory. */
static bool
metrics_reserve(struct metrics_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->failed)
		return false;
	if (more < b->cap - b->len)
		return true;
	cap = b->cap > 0 ? b->cap : METRICS_INITIAL_SIZE;
	while (more >= cap - b->len) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	if ((p = realloc(b->data, cap)) == NULL)
		goto fail;
	b->data = p;
	b->cap = cap;
	return true;
fail:
	b->failed = true;
	return false;
}

static void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append, keeping b->data NUL-terminated. */
static void
metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!metrics_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/*
 * Append s escaped as the text format wants it: a backslash and a newline
 * as \\ and \n everywhere, and a double quote as \" in a label value
 * (in_label), where it would end the value.
 */
static void
metrics_escape(struct metrics_buf *b, const char *s, bool in_label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			metrics_printf(b, "\\\\");
		else if (*s == '\n')
			metrics_printf(b, "\\n");
		else if (*s == '"' && in_label)
			metrics_printf(b, "\\\"");
		else
			metrics_printf(b, "%c", *s);
	}
}

/* The # HELP and # TYPE lines that open a family; type is "counter" or
 * "gauge". */
static void
metrics_family(struct metrics_buf *b, const char *name, const char *type,
	       const char *help)
{
	metrics_printf(b, "# HELP %s ", name);
	metrics_escape(b, help, false);
	metrics_printf(b, "\n# TYPE %s %s\n", name, type);
}

/*
 * The start of a sample line: the name and, when labels is not NULL, the
 * label set {n1="v1",n2="v2"} from the NULL-terminated list of names and
 * values, then a space.  The caller writes the value and the newline.
 */
static void
metrics_sample_start(struct metrics_buf *b, const char *name,
		     const char *const *labels)
{
	metrics_printf(b, "%s", name);
	if (labels != NULL && labels[0] != NULL) {
		for (size_t i = 0; labels[i] != NULL; i += 2) {
			metrics_printf(b, "%s%s=\"", i == 0 ? "{" : ",",
				       labels[i]);
			metrics_escape(b, labels[i + 1], true);
			metrics_printf(b, "\"");
		}
		metrics_printf(b, "}");
	}
	metrics_printf(b, " ");
}

static void
metrics_sample(struct metrics_buf *b, const char *name,
	       const char *const *labels, uint64_t value)
{
	metrics_sample_start(b, name, labels);
	metrics_printf(b, "%" PRIu64 "\n", value);
}

/* The label list of one label, for metrics_sample(). */
#define METRICS_LABEL(name, value) ((const char *const[]){ name, value, NULL })

/* A family without labels and its one sample. */
static void
metrics_single(struct metrics_buf *b, const char *name, const char *type,
	       const char *help, uint64_t value)
{
	metrics_family(b, name, type, help);
	metrics_sample(b, name, NULL, value);
}

/* The uint64_t at offset in the struct at base. */
static uint64_t
metrics_field_value(const void *base, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const char *)base + offset, sizeof(v));
	return v;
}

/*
 * The samples of row read from base, with the label transport=tname first
 * when tname is not NULL.
 */
static void
metrics_row_samples(struct metrics_buf *b, const struct metrics_row *row,
		    const void *base, const char *tname)
{
	const struct metrics_field *f;
	const char *labels[5];
	size_t n;

	for (size_t j = 0; j < NELEMS(row->fields); j++) {
		f = &row->fields[j];
		if (row->label != NULL && f->value == NULL)
			break;
		n = 0;
		if (tname != NULL) {
			labels[n++] = "transport";
			labels[n++] = tname;
		}
		if (row->label != NULL) {
			labels[n++] = row->label;
			labels[n++] = f->value;
		}
		labels[n] = NULL;
		metrics_sample(b, row->name, labels,
			       metrics_field_value(base, f->offset));
		if (row->label == NULL)
			break;
	}
}

/* The families of rows, read from base (a struct stats). */
static void
metrics_rows(struct metrics_buf *b, const struct metrics_row *rows,
	     size_t nrows, const void *base)
{
	for (size_t i = 0; i < nrows; i++) {
		metrics_family(b, rows[i].name, "counter", rows[i].help);
		metrics_row_samples(b, &rows[i], base, NULL);
	}
}

/* The families of rows, of type, read from st's transports first to last. */
static void
metrics_transport_rows_of(struct metrics_buf *b, const char *type,
			  const struct metrics_row *rows, size_t nrows,
			  const struct stats *st, int first, int last)
{
	for (size_t i = 0; i < nrows; i++) {
		metrics_family(b, rows[i].name, type, rows[i].help);
		for (int t = first; t <= last; t++)
			metrics_row_samples(b, &rows[i], &st->transport[t],
					    metrics_transport_names[t]);
	}
}

/* STUN requests by method, and error responses by code. */
static void
metrics_stun(struct metrics_buf *b, const struct stats *st)
{
	const char *name;
	uint64_t other = 0;

	name = "turnpike_stun_requests_total";
	metrics_family(b, name, "counter", "STUN requests, by method");
	for (size_t m = 0; m < NELEMS(st->requests); m++) {
		if (metrics_methods[m] == NULL)
			other += st->requests[m];
		else
			metrics_sample(
				b, name,
				METRICS_LABEL("method", metrics_methods[m]),
				st->requests[m]);
	}
	metrics_sample(b, name, METRICS_LABEL("method", "other"), other);

	metrics_rows(b, metrics_stun_rows, NELEMS(metrics_stun_rows), st);

	name = "turnpike_stun_error_responses_total";
	metrics_family(b, name, "counter",
		       "STUN error responses sent, by code");
#define X(c)                                                                   \
	metrics_sample(b, name, METRICS_LABEL("code", #c),                     \
		       st->errors[STATS_ERR_##c]);
	STATS_ERROR_CODES
#undef X
	metrics_sample(b, name, METRICS_LABEL("code", "other"),
		       st->errors[STATS_ERR_OTHER]);
}

/* Traffic per transport, and the stream connections of TCP and TLS. */
static void
metrics_traffic(struct metrics_buf *b, const struct stats *st)
{
	metrics_transport_rows_of(b, "counter", metrics_transport_rows,
				  NELEMS(metrics_transport_rows), st, 0,
				  STATS_NTRANSPORTS - 1);
	metrics_transport_rows_of(b, "gauge", metrics_stream_gauges,
				  NELEMS(metrics_stream_gauges), st, STATS_TCP,
				  STATS_TLS);
	metrics_transport_rows_of(b, "counter", metrics_stream_rows,
				  NELEMS(metrics_stream_rows), st, STATS_TCP,
				  STATS_TLS);
	metrics_single(b, "turnpike_tls_handshake_failures_total", "counter",
		       "TLS handshakes that failed or timed out",
		       st->transport[STATS_TLS].handshakes_failed);
}

/* The TURN counters, and the live counts when at is not NULL. */
static void
metrics_turn(struct metrics_buf *b, const struct stats *st,
	     const struct alloc_totals *at)
{
	const char *name, *reason;

	if (at != NULL) {
		metrics_single(b, "turnpike_allocations", "gauge",
			       "TURN allocations live", at->allocations);
		metrics_single(b, "turnpike_permissions", "gauge",
			       "TURN permissions live", at->permissions);
		metrics_single(b, "turnpike_channels", "gauge",
			       "TURN channels live", at->channels);
	}
	metrics_rows(b, metrics_turn_rows, NELEMS(metrics_turn_rows), st);

	name = "turnpike_auth_failures_total";
	metrics_family(b, name, "counter",
		       "TURN requests not authenticated, by reason");
	for (int r = AUTH_REASON_NONE + 1; r < AUTH_NREASONS; r++) {
		reason = auth_reason_name((enum auth_reason)r);
		metrics_sample(b, name,
			       METRICS_LABEL("reason", reason != NULL
							       ? reason
							       : "unknown"),
			       st->auth_failures[r]);
	}
	name = "turnpike_peer_denied_total";
	metrics_family(b, name, "counter",
		       "TURN peers refused by the peer policy, by reason");
	for (int v = PEER_ALLOW + 1; v < PEER_VERDICT_COUNT; v++)
		metrics_sample(
			b, name,
			METRICS_LABEL("reason",
				      peer_verdict_name((enum peer_verdict)v)),
			st->peer_denied[v]);
}

/* The signaling hub: its gauges, and its messages and errors by name. */
static void
metrics_sig(struct metrics_buf *b, const struct sig_stats *sg)
{
	const char *name, *label;

	metrics_single(b, "turnpike_signaling_connections", "gauge",
		       "signaling connections open, joined or not",
		       sg->connections);
	metrics_single(b, "turnpike_signaling_peers", "gauge",
		       "signaling peers in a room", sg->peers);
	metrics_single(b, "turnpike_signaling_rooms", "gauge",
		       "signaling rooms", sg->rooms);

	name = "turnpike_signaling_messages_total";
	metrics_family(b, name, "counter",
		       "signaling messages accepted, by type");
	for (int i = 0; i < SIG_NTYPES; i++) {
		label = sig_type_name((enum sig_type)i);
		metrics_sample(b, name,
			       METRICS_LABEL("type",
					     label != NULL ? label : "unknown"),
			       sg->messages[i]);
	}
	name = "turnpike_signaling_errors_total";
	metrics_family(b, name, "counter",
		       "signaling error messages sent, by code");
	for (int i = 0; i < SIG_NERRORS; i++) {
		label = sig_error_name((enum sig_error)i);
		metrics_sample(b, name,
			       METRICS_LABEL("code",
					     label != NULL ? label : "unknown"),
			       sg->errors[i]);
	}
	metrics_single(b, "turnpike_signaling_relayed_total", "counter",
		       "offers, answers and candidates delivered", sg->relayed);
	metrics_single(b, "turnpike_signaling_chat_deliveries_total", "counter",
		       "chat messages delivered to peers", sg->chat_fanout);
}

/* One sample per worker of a family labelled by worker. */
static void
metrics_by_worker(struct metrics_buf *b, const char *name, const char *type,
		  const char *help, const uint64_t *v, unsigned int n)
{
	char id[16];

	metrics_family(b, name, type, help);
	for (unsigned int i = 0; i < n && i < CONF_MAX_WORKERS; i++) {
		snprintf(id, sizeof(id), "%u", i);
		metrics_sample(b, name, METRICS_LABEL("worker", id), v[i]);
	}
}

/* The workers, and the share of the load each has. */
static void
metrics_workers(struct metrics_buf *b, const struct metrics_workers *w)
{
	metrics_single(b, "turnpike_workers", "gauge",
		       "workers serving STUN and TURN (daemon.workers)", w->n);
	metrics_by_worker(b, "turnpike_worker_received_total", "counter",
			  "STUN and TURN messages received, by worker",
			  w->received, w->n);
	metrics_by_worker(b, "turnpike_worker_allocations", "gauge",
			  "TURN allocations alive, by worker", w->allocations,
			  w->n);
	metrics_by_worker(
		b, "turnpike_worker_stuck", "gauge",
		"1 while a worker's loop has not run for the watchdog's"
		" limit (its figures are then its last ones)",
		w->stuck, w->n);
}

/*
 * As metrics.h says.  g may be NULL too: the uptime and the WebSocket and
 * HTTP gauges are then left out; a NULL version is written as "unknown".
 */
char *
metrics_render(const struct stats *st, const struct alloc_totals *at,
	       const struct sig_stats *sg, const struct metrics_gauges *g,
	       const char *version, size_t *len)
{
	struct metrics_buf b = { NULL, 0, 0, false };

	metrics_family(&b, "turnpike_build_info", "gauge",
		       "always 1; the version is in the label");
	metrics_sample(
		&b, "turnpike_build_info",
		METRICS_LABEL("version", version != NULL ? version : "unknown"),
		1);
	if (g != NULL) {
		metrics_family(&b, "turnpike_uptime_seconds", "gauge",
			       "seconds since the daemon started");
		metrics_sample_start(&b, "turnpike_uptime_seconds", NULL);
		metrics_printf(&b, "%.3f\n", g->uptime_seconds);
	}
	if (g != NULL && g->workers != NULL)
		metrics_workers(&b, g->workers);
	metrics_stun(&b, st);
	metrics_traffic(&b, st);
	metrics_turn(&b, st, at);
	if (g != NULL) {
		metrics_single(&b, "turnpike_ws_connections", "gauge",
			       "WebSocket connections open", g->ws_connections);
		metrics_single(&b, "turnpike_http_connections", "gauge",
			       "HTTP connections open", g->http_connections);
	}
	if (sg != NULL)
		metrics_sig(&b, sg);

	if (b.failed) {
		free(b.data);
		return NULL;
	}
	if (len != NULL)
		*len = b.len;
	return b.data;
}
