/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_metrics.c: unit tests of the Prometheus text (src/metrics.c).
 *
 * Every counter is given a value of its own, the text is rendered and
 * read back by a strict little parser of the text format 0.0.4 as we
 * write it (one HELP and one TYPE per family, before its samples, each
 * family once, samples "name{labels} value" with escaped label values),
 * and the values are compared with the inputs: a sample of them by name
 * and label, and every field by value, so that a counter added to a
 * struct without a metric is noticed.  The parser is tested on bad input
 * too, or its silence would prove nothing.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
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
#include "unit.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_FAMILIES 128
#define MAX_SAMPLES  1024
#define NAME_MAX_LEN 128
#define LABELS_MAX   512
#define VALUE_MAX    32

/* What the parser read: families in order, and every sample. */
struct family {
	char name[NAME_MAX_LEN];
	char type[16]; /* "" until its TYPE line */
};

struct sample {
	char name[NAME_MAX_LEN];
	char labels[LABELS_MAX]; /* k=v,k=v unescaped, as written */
	char value[VALUE_MAX];
};

static struct family families[MAX_FAMILIES];
static size_t nfamilies;
static struct sample samples[MAX_SAMPLES];
static size_t nsamples;
static char parse_error[256];

static bool
parse_fail(int lineno, const char *why)
{
	snprintf(parse_error, sizeof(parse_error), "line %d: %s", lineno, why);
	return false;
}

static struct family *
family_find(const char *name)
{
	for (size_t i = 0; i < nfamilies; i++)
		if (strcmp(families[i].name, name) == 0)
			return &families[i];
	return NULL;
}

static const char *
sample_find(const char *name, const char *labels)
{
	for (size_t i = 0; i < nsamples; i++)
		if (strcmp(samples[i].name, name) == 0 &&
		    strcmp(samples[i].labels, labels) == 0)
			return samples[i].value;
	return NULL;
}

/* A metric name, [a-zA-Z_:][a-zA-Z0-9_:]*, copied into out; the length
 * read, 0 if none or too long. */
static size_t
read_name(const char *s, char *out, size_t cap, bool colon)
{
	size_t n = 0;

	while (isalpha((unsigned char)s[n]) || s[n] == '_' ||
	       (colon && s[n] == ':') ||
	       (n > 0 && isdigit((unsigned char)s[n]))) {
		if (n + 1 >= cap)
			return 0;
		out[n] = s[n];
		n++;
	}
	out[n] = '\0';
	return n;
}

/* The text after a HELP name: anything but a backslash not followed by
 * another or by n. */
static bool
help_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\\') {
			if (s[1] != '\\' && s[1] != 'n')
				return false;
			s++;
		}
	return true;
}

/*
 * The label set at *sp, just after '{': label="value" pairs separated by
 * commas up to '}', the values unescaped (\\, \" and \n only) into out as
 * k=v,k=v.  Advances *sp past the '}'.  No label twice.
 */
static bool
read_labels(const char **sp, char *out, size_t cap)
{
	char names[16][NAME_MAX_LEN], name[NAME_MAX_LEN];
	const char *s = *sp;
	size_t off = 0, n, nnames = 0;

	out[0] = '\0';
	for (;;) {
		if ((n = read_name(s, name, sizeof(name), false)) == 0)
			return false;
		for (size_t i = 0; i < nnames; i++)
			if (strcmp(names[i], name) == 0)
				return false;
		if (nnames == NELEMS(names))
			return false;
		strcpy(names[nnames++], name);
		s += n;
		if (s[0] != '=' || s[1] != '"')
			return false;
		s += 2;
		off += (size_t)snprintf(out + off, cap - off,
					"%s%s=", nnames > 1 ? "," : "", name);
		for (; *s != '"'; s++) {
			char c = *s;

			if (c == '\0' || c == '\n')
				return false;
			if (c == '\\') {
				s++;
				if (*s == '\\' || *s == '"')
					c = *s;
				else if (*s == 'n')
					c = '\n';
				else
					return false;
			}
			if (off + 1 >= cap)
				return false;
			out[off++] = c;
			out[off] = '\0';
		}
		s++;
		if (*s == '}')
			break;
		if (*s != ',')
			return false;
		s++;
	}
	*sp = s + 1;
	return off < cap;
}

/* A sample value: an unsigned integer, or a decimal with a point. */
static bool
value_ok(const char *v)
{
	size_t i = 0, digits = 0;

	while (isdigit((unsigned char)v[i])) {
		i++;
		digits++;
	}
	if (v[i] == '.') {
		i++;
		while (isdigit((unsigned char)v[i]))
			i++;
	}
	return digits > 0 && v[i] == '\0';
}

/*
 * Read text strictly, filling families[] and samples[].  Returns false
 * with the reason in parse_error at the first line that breaks a rule.
 */
static bool
parse(const char *text)
{
	char line[1024], name[NAME_MAX_LEN], labels[LABELS_MAX];
	struct family *cur = NULL, *f;
	const char *s, *nl;
	size_t n, len;
	int lineno = 0;

	nfamilies = nsamples = 0;
	parse_error[0] = '\0';
	len = strlen(text);
	if (len == 0 || text[len - 1] != '\n')
		return parse_fail(0, "does not end with a newline");
	for (s = text; *s != '\0'; s = nl + 1) {
		lineno++;
		nl = strchr(s, '\n');
		if ((size_t)(nl - s) >= sizeof(line))
			return parse_fail(lineno, "line too long");
		memcpy(line, s, (size_t)(nl - s));
		line[nl - s] = '\0';

		if (strncmp(line, "# HELP ", 7) == 0) {
			if ((n = read_name(line + 7, name, sizeof(name),
					   true)) == 0 ||
			    line[7 + n] != ' ' || !help_ok(line + 8 + n))
				return parse_fail(lineno, "bad HELP");
			if (family_find(name) != NULL)
				return parse_fail(lineno, "family twice");
			if (nfamilies == MAX_FAMILIES)
				return parse_fail(lineno, "too many families");
			cur = &families[nfamilies++];
			strcpy(cur->name, name);
			cur->type[0] = '\0';
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			if ((n = read_name(line + 7, name, sizeof(name),
					   true)) == 0 ||
			    line[7 + n] != ' ')
				return parse_fail(lineno, "bad TYPE");
			if (cur == NULL || strcmp(cur->name, name) != 0 ||
			    cur->type[0] != '\0')
				return parse_fail(lineno, "TYPE not after its "
							  "HELP");
			if (strcmp(line + 8 + n, "counter") != 0 &&
			    strcmp(line + 8 + n, "gauge") != 0)
				return parse_fail(lineno, "bad type");
			strcpy(cur->type, line + 8 + n);
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			return parse_fail(lineno, "unexpected line");

		/* A sample of the family just opened by HELP and TYPE. */
		if ((n = read_name(line, name, sizeof(name), true)) == 0)
			return parse_fail(lineno, "bad sample name");
		if ((f = family_find(name)) == NULL || f != cur ||
		    f->type[0] == '\0')
			return parse_fail(lineno, "sample without HELP and "
						  "TYPE just before");
		s = line + n;
		labels[0] = '\0';
		if (*s == '{') {
			s++;
			if (!read_labels(&s, labels, sizeof(labels)))
				return parse_fail(lineno, "bad labels");
		}
		if (*s != ' ' || !value_ok(s + 1) || strlen(s + 1) >= VALUE_MAX)
			return parse_fail(lineno, "bad value");
		if (sample_find(name, labels) != NULL)
			return parse_fail(lineno, "sample twice");
		if (nsamples == MAX_SAMPLES)
			return parse_fail(lineno, "too many samples");
		strcpy(samples[nsamples].name, name);
		strcpy(samples[nsamples].labels, labels);
		strcpy(samples[nsamples].value, s + 1);
		nsamples++;
	}
	for (size_t i = 0; i < nfamilies; i++) {
		size_t nl_ = strlen(families[i].name);
		bool total = nl_ > 6 &&
			     strcmp(families[i].name + nl_ - 6, "_total") == 0;

		if (families[i].type[0] == '\0')
			return parse_fail(0, "family without TYPE");
		if (strncmp(families[i].name, "turnpike_", 9) != 0)
			return parse_fail(0, "name without turnpike_");
		if (total != (strcmp(families[i].type, "counter") == 0))
			return parse_fail(0, "counters, and only they, end "
					     "in _total");
		/* OpenMetrics names the family of foo_total foo: then
		 * there must be no other foo. */
		if (total) {
			char base[NAME_MAX_LEN];

			snprintf(base, sizeof(base), "%.*s", (int)(nl_ - 6),
				 families[i].name);
			if (family_find(base) != NULL)
				return parse_fail(0, "foo and foo_total");
		}
	}
	return true;
}

/* The value of one sample as a number, or -1 (as unsigned) if absent. */
static uint64_t
value_of(const char *name, const char *labels)
{
	const char *v = sample_find(name, labels);

	if (v == NULL) {
		fprintf(stderr, "no sample %s{%s}\n", name, labels);
		return UINT64_MAX;
	}
	return strtoull(v, NULL, 10);
}

static const char *
type_of(const char *name)
{
	struct family *f = family_find(name);

	return f != NULL ? f->type : "(absent)";
}

/* Any sample, whatever its name, with this value. */
static bool
value_seen(uint64_t v)
{
	char buf[VALUE_MAX];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	for (size_t i = 0; i < nsamples; i++)
		if (strcmp(samples[i].value, buf) == 0)
			return true;
	return false;
}

/* Every field of the structs a value of its own, from base upwards. */
static void
fill(void *p, size_t size, uint64_t base)
{
	uint64_t *u = p;

	for (size_t i = 0; i < size / sizeof(*u); i++)
		u[i] = base + i;
}

/* Whether the uint64_t at offset in struct stats is one we do not
 * export on purpose. */
static bool
stats_unexported(size_t offset)
{
	const struct stats *z = NULL;
	size_t tc = sizeof(struct stats_transport_counters);
	size_t udp = offsetof(struct stats, transport[STATS_UDP]);
	size_t tcp = offsetof(struct stats, transport[STATS_TCP]);
	size_t in_tc = offset % tc;

	/* UDP has no connections nor handshakes, TCP no handshakes. */
	if (offset >= udp && offset < udp + tc &&
	    in_tc >= offsetof(struct stats_transport_counters, conns_open))
		return true;
	if (offset >= tcp && offset < tcp + tc &&
	    in_tc == offsetof(struct stats_transport_counters,
			      handshakes_failed))
		return true;
	/* Requests: checked by their sum, "other" adds several up. */
	if (offset >= offsetof(struct stats, requests) &&
	    offset < offsetof(struct stats, requests) + sizeof(z->requests))
		return true;
	/* AUTH_REASON_NONE and PEER_ALLOW are not failures; slots past
	 * the enums are spare. */
	if (offset == offsetof(struct stats, auth_failures[0]) ||
	    (offset >= offsetof(struct stats, auth_failures[AUTH_NREASONS]) &&
	     offset < offsetof(struct stats, auth_failures) +
			      sizeof(z->auth_failures)))
		return true;
	if (offset == offsetof(struct stats, peer_denied[PEER_ALLOW]) ||
	    (offset >=
		     offsetof(struct stats, peer_denied[PEER_VERDICT_COUNT]) &&
	     offset < offsetof(struct stats, peer_denied) +
			      sizeof(z->peer_denied)))
		return true;
	return false;
}

#define STATS_BASE 1000
#define ALLOC_BASE 5000
#define SIG_BASE   7000

static struct stats st;
static struct alloc_totals at;
static struct sig_stats sg;
static const struct metrics_gauges gauges = { .ws_connections = 42,
					      .http_connections = 43,
					      .uptime_seconds = 12.5 };

/* Render, check the length and parse; the text, or NULL. */
static char *
render(const struct stats *s, const struct alloc_totals *a,
       const struct sig_stats *g, const struct metrics_gauges *mg,
       const char *version)
{
	size_t len = 0;
	char *text = metrics_render(s, a, g, mg, version, &len);

	CHECK(text != NULL);
	if (text == NULL)
		return NULL;
	CHECK_INT(len, strlen(text));
	CHECK(parse(text));
	if (parse_error[0] != '\0')
		fprintf(stderr, "parse: %s\n", parse_error);
	return text;
}

static void
test_everything(void)
{
	uint64_t sum = 0;
	char *text;

	fill(&st, sizeof(st), STATS_BASE);
	fill(&at, sizeof(at), ALLOC_BASE);
	fill(&sg, sizeof(sg), SIG_BASE);
	st.relay_to_peer_bytes = UINT64_MAX - 1; /* all 20 digits */
	if ((text = render(&st, &at, &sg, &gauges, "1.2.3")) == NULL)
		return;

	CHECK_STR(type_of("turnpike_build_info"), "gauge");
	CHECK_INT(value_of("turnpike_build_info", "version=1.2.3"), 1);
	CHECK_STR(type_of("turnpike_uptime_seconds"), "gauge");
	CHECK_STR(sample_find("turnpike_uptime_seconds", ""), "12.500");

	/* STUN. */
	CHECK_STR(type_of("turnpike_stun_requests_total"), "counter");
	CHECK_INT(value_of("turnpike_stun_requests_total", "method=binding"),
		  st.requests[1]);
	CHECK_INT(
		value_of("turnpike_stun_requests_total", "method=channel_bind"),
		st.requests[9]);
	for (size_t i = 0; i < NELEMS(st.requests); i++)
		sum += st.requests[i];
	CHECK_INT(value_of("turnpike_stun_requests_total", "method=binding") +
			  value_of("turnpike_stun_requests_total",
				   "method=allocate") +
			  value_of("turnpike_stun_requests_total",
				   "method=refresh") +
			  value_of("turnpike_stun_requests_total",
				   "method=send") +
			  value_of("turnpike_stun_requests_total",
				   "method=data") +
			  value_of("turnpike_stun_requests_total",
				   "method=create_permission") +
			  value_of("turnpike_stun_requests_total",
				   "method=channel_bind") +
			  value_of("turnpike_stun_requests_total",
				   "method=other"),
		  sum);
	CHECK_INT(value_of("turnpike_stun_binding_responses_total", ""),
		  st.binding_responses);
	CHECK_INT(value_of("turnpike_stun_error_responses_total", "code=438"),
		  st.errors[STATS_ERR_438]);
	CHECK_INT(value_of("turnpike_stun_error_responses_total", "code=other"),
		  st.errors[STATS_ERR_OTHER]);
	CHECK_INT(value_of("turnpike_dropped_total", "reason=fingerprint"),
		  st.drop_fingerprint);

	/* Transports and connections. */
	CHECK_INT(value_of("turnpike_transport_bytes_total",
			   "transport=tls,direction=tx"),
		  st.transport[STATS_TLS].tx_bytes);
	CHECK_INT(value_of("turnpike_transport_packets_total",
			   "transport=udp,direction=rx"),
		  st.transport[STATS_UDP].rx_packets);
	CHECK_STR(type_of("turnpike_connections_open"), "gauge");
	CHECK_INT(value_of("turnpike_connections_open", "transport=tcp"),
		  st.transport[STATS_TCP].conns_open);
	CHECK(sample_find("turnpike_connections_open", "transport=udp") ==
	      NULL);
	CHECK_INT(value_of("turnpike_connections_total", "transport=tls"),
		  st.transport[STATS_TLS].conns_total);
	CHECK_INT(value_of("turnpike_connections_closed_total",
			   "transport=tls,reason=garbage"),
		  st.transport[STATS_TLS].conns_garbage_closed);
	CHECK_INT(value_of("turnpike_tls_handshake_failures_total", ""),
		  st.transport[STATS_TLS].handshakes_failed);

	/* TURN. */
	CHECK_STR(type_of("turnpike_allocations"), "gauge");
	CHECK_INT(value_of("turnpike_allocations", ""), at.allocations);
	CHECK_INT(value_of("turnpike_channels", ""), at.channels);
	CHECK_INT(
		value_of("turnpike_allocations_ended_total", "reason=deleted"),
		st.allocations_deleted);
	CHECK_INT(value_of("turnpike_auth_failures_total",
			   "reason=bad_integrity"),
		  st.auth_failures[AUTH_REASON_BAD_INTEGRITY]);
	CHECK(sample_find("turnpike_auth_failures_total", "reason=none") ==
	      NULL);
	CHECK_INT(value_of("turnpike_peer_denied_total", "reason=deny_self"),
		  st.peer_denied[PEER_DENY_SELF]);
	CHECK(sample_find("turnpike_peer_denied_total", "reason=allow") ==
	      NULL);
	CHECK_STR(
		sample_find("turnpike_relay_bytes_total", "direction=to_peer"),
		"18446744073709551614");
	CHECK_INT(value_of("turnpike_relay_dropped_total", "reason=too_big"),
		  st.relay_drop_too_big);

	/* The gauges given, and signaling. */
	CHECK_INT(value_of("turnpike_ws_connections", ""), 42);
	CHECK_INT(value_of("turnpike_http_connections", ""), 43);
	CHECK_STR(type_of("turnpike_signaling_rooms"), "gauge");
	CHECK_INT(value_of("turnpike_signaling_rooms", ""), sg.rooms);
	CHECK_INT(value_of("turnpike_signaling_messages_total", "type=chat"),
		  sg.messages[SIG_TYPE_CHAT]);
	CHECK_INT(value_of("turnpike_signaling_errors_total", "code=room-full"),
		  sg.errors[SIG_ERR_ROOM_FULL]);
	CHECK_INT(value_of("turnpike_signaling_chat_deliveries_total", ""),
		  sg.chat_fanout);

	/* Every field shows, by its value of its own. */
	for (size_t off = 0; off < sizeof(st); off += sizeof(uint64_t)) {
		uint64_t v;

		memcpy(&v, (const char *)&st + off, sizeof(v));
		if (stats_unexported(off))
			continue;
		if (!value_seen(v))
			fprintf(stderr,
				"struct stats at offset %zu (%" PRIu64
				") is not exported\n",
				off, v);
		CHECK(value_seen(v));
	}
	for (size_t i = 0; i < sizeof(at) / sizeof(uint64_t); i++)
		CHECK(value_seen(ALLOC_BASE + i));
	for (size_t i = 0; i < sizeof(sg) / sizeof(uint64_t); i++)
		CHECK(value_seen(SIG_BASE + i));
	free(text);
}

static void
test_optional(void)
{
	char *text;

	fill(&st, sizeof(st), STATS_BASE);

	/* No TURN table and no signaling hub: their families go. */
	if ((text = render(&st, NULL, NULL, &gauges, "1.2.3")) == NULL)
		return;
	CHECK(family_find("turnpike_allocations") == NULL);
	CHECK(family_find("turnpike_permissions") == NULL);
	CHECK(family_find("turnpike_channels") == NULL);
	for (size_t i = 0; i < nfamilies; i++)
		CHECK(strncmp(families[i].name, "turnpike_signaling_", 19) !=
		      0);
	CHECK(family_find("turnpike_stun_requests_total") != NULL);
	CHECK(family_find("turnpike_allocations_created_total") != NULL);
	CHECK(family_find("turnpike_ws_connections") != NULL);
	free(text);

	/* No gauges: no uptime, WebSocket or HTTP families. */
	if ((text = render(&st, &at, &sg, NULL, "1.2.3")) == NULL)
		return;
	CHECK(family_find("turnpike_uptime_seconds") == NULL);
	CHECK(family_find("turnpike_ws_connections") == NULL);
	CHECK(family_find("turnpike_http_connections") == NULL);
	CHECK(family_find("turnpike_signaling_peers") != NULL);
	CHECK(family_find("turnpike_allocations") != NULL);
	free(text);
}

/* The workers' families: one sample per worker, and the count. */
static void
test_workers(void)
{
	struct metrics_workers wk = { .n = 3 };
	struct metrics_gauges g = gauges;
	char *text;

	for (unsigned int i = 0; i < wk.n; i++) {
		wk.received[i] = 1000 + i;
		wk.allocations[i] = 10 + i;
	}
	g.workers = &wk;
	memset(&st, 0, sizeof(st));
	if ((text = render(&st, NULL, NULL, &g, "1")) == NULL)
		return;
	CHECK_STR(type_of("turnpike_workers"), "gauge");
	CHECK_INT(value_of("turnpike_workers", ""), 3);
	CHECK_STR(type_of("turnpike_worker_received_total"), "counter");
	CHECK_INT(value_of("turnpike_worker_received_total", "worker=0"), 1000);
	CHECK_INT(value_of("turnpike_worker_received_total", "worker=2"), 1002);
	CHECK(sample_find("turnpike_worker_received_total", "worker=3") ==
	      NULL);
	CHECK_STR(type_of("turnpike_worker_allocations"), "gauge");
	CHECK_INT(value_of("turnpike_worker_allocations", "worker=1"), 11);
	free(text);

	/* Without them (g.workers NULL), no family at all. */
	if ((text = render(&st, NULL, NULL, &gauges, "1")) == NULL)
		return;
	CHECK(family_find("turnpike_workers") == NULL);
	CHECK(family_find("turnpike_worker_allocations") == NULL);
	free(text);
}

static void
test_escaping(void)
{
	static const char version[] = "1.0 \"x\" \\ y\nz";
	char *text;

	memset(&st, 0, sizeof(st));
	if ((text = render(&st, NULL, NULL, &gauges, version)) == NULL)
		return;
	CHECK(strstr(text, "version=\"1.0 \\\"x\\\" \\\\ y\\nz\"") != NULL);
	CHECK_INT(value_of("turnpike_build_info", "version=1.0 \"x\" \\ y\nz"),
		  1);
	free(text);

	if ((text = render(&st, NULL, NULL, &gauges, NULL)) == NULL)
		return;
	CHECK_INT(value_of("turnpike_build_info", "version=unknown"), 1);
	free(text);
}

/* The parser refuses what it must, or its approval is worth nothing. */
static void
test_parser(void)
{
	static const char head[] = "# HELP turnpike_a_total a\n"
				   "# TYPE turnpike_a_total counter\n";
	static const char *const bad[] = {
		"turnpike_a_total 1\n", /* no HELP, no TYPE */
		"# HELP turnpike_a_total a\nturnpike_a_total 1\n", /* no TYPE */
		"# TYPE turnpike_a_total counter\nturnpike_a_total 1\n",
		"# HELP turnpike_a_total a\n# TYPE turnpike_a_total counter\n"
		"# HELP turnpike_a_total a\n# TYPE turnpike_a_total counter\n",
		"# HELP turnpike_a_total a\n# TYPE turnpike_a_total summary\n",
		"# HELP turnpike_a a\n# TYPE turnpike_a counter\n",
		"# HELP turnpike_a_total a\n# TYPE turnpike_a_total gauge\n",
		"# HELP other_total a\n# TYPE other_total counter\n",
		"# HELP turnpike_a a\n# TYPE turnpike_a gauge\nturnpike_a 1\n"
		"# HELP turnpike_a_total a\n# TYPE turnpike_a_total counter\n"
		"turnpike_a_total 1\n",
		"# HELP turnpike_a_total bad \\x\n"
		"# TYPE turnpike_a_total counter\n",
	};
	static const char *const bad_samples[] = {
		"turnpike_a_total\n",
		"turnpike_a_total 1",
		"turnpike_a_total x\n",
		"turnpike_a_total 1 1700000000\n",
		"turnpike_a_total{k=\"v\"\n",
		"turnpike_a_total{k=\"v\",} 1\n",
		"turnpike_a_total{k=\"v\",k=\"w\"} 1\n",
		"turnpike_a_total{k=\"a\\qb\"} 1\n",
		"turnpike_a_total{k=v} 1\n",
		"turnpike_a_total{k=\"v\"} 1\nturnpike_a_total{k=\"v\"} 2\n",
		"turnpike_b_total 1\n",
		"turnpike_a_total 1\n\n",
	};
	char text[512];

	snprintf(text, sizeof(text), "%sturnpike_a_total{k=\"a\\\"b\"} 1\n",
		 head);
	CHECK(parse(text));
	CHECK_STR(sample_find("turnpike_a_total", "k=a\"b"), "1");
	for (size_t i = 0; i < NELEMS(bad); i++)
		CHECK(!parse(bad[i]));
	for (size_t i = 0; i < NELEMS(bad_samples); i++) {
		snprintf(text, sizeof(text), "%s%s", head, bad_samples[i]);
		CHECK(!parse(text));
	}
}

int
main(void)
{
	test_parser();
	test_everything();
	test_optional();
	test_workers();
	test_escaping();
	return unit_done("test_metrics");
}
