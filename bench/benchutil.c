/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * benchutil.c: the helpers bench/turnpike-bench.c and
 * bench/turnpike-sigbench.c share (see benchutil.h).  Nothing here touches
 * the network.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "benchutil.h"

const char *bench_progname = "bench";

static unsigned int
hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < HIST_SUB)
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned int)(v >> shift) - HIST_SUB;
}

static uint64_t
hist_value(unsigned int i)
{
	unsigned int shift;
	uint64_t low;

	if (i < HIST_SUB)
		return i;
	shift = i / HIST_SUB - 1;
	low = (uint64_t)(i % HIST_SUB + HIST_SUB) << shift;
	return low + ((1ull << shift) >> 1);
}

void
hist_add(struct hist *h, uint64_t v)
{
	unsigned int i = hist_index(v);

	h->bucket[i < HIST_BUCKETS ? i : HIST_BUCKETS - 1]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

void
hist_merge(struct hist *to, const struct hist *from)
{
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		to->bucket[i] += from->bucket[i];
	to->n += from->n;
	if (from->max > to->max)
		to->max = from->max;
}

/* The value at quantile q (0..1), or 0 for an empty histogram. */
uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->n + 0.5);
	if (rank < 1)
		rank = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t v = hist_value(i);

			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* Nanoseconds as microseconds, for printing. */
double
us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* Print "progname: " and the message to standard error, and exit 1. */
noreturn void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", bench_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/*
 * The number s, the argument of option --name, from min to max; a usage
 * error (exit 2) for anything else.
 */
double
parse_number(const char *name, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr,
			"%s: --%s: \"%s\" is not a number from %g to %g\n",
			bench_progname, name, s, min, max);
		exit(2);
	}
	return v;
}

/* As parse_number(), for a whole number. */
unsigned int
parse_uint(const char *name, const char *s, unsigned int min, unsigned int max)
{
	double v = parse_number(name, s, min, max);

	if (v != (double)(unsigned int)v) {
		fprintf(stderr, "%s: --%s: \"%s\" is not a whole number\n",
			bench_progname, name, s);
		exit(2);
	}
	return (unsigned int)v;
}

/*
 * Fill lopts, which has room for n + 1 entries, with getopt_long()'s view
 * of the n options of table, and a terminating zero entry.
 */
void
options_long(const struct bench_option *table, size_t n, struct option *lopts)
{
	memset(lopts, 0, (n + 1) * sizeof(*lopts));
	for (size_t i = 0; i < n; i++) {
		lopts[i].name = table[i].name;
		lopts[i].has_arg =
			table[i].arg ? required_argument : no_argument;
		lopts[i].val = table[i].key;
	}
}

/*
 * Store arg, the argument of the option of table with getopt key, where
 * the table says when it is a numeric option; a usage error (exit 2) when
 * it is out of bounds.  Returns false when key is no numeric option.
 */
bool
options_number(const struct bench_option *table, size_t n, int key,
	       const char *arg)
{
	for (size_t i = 0; i < n; i++) {
		const struct bench_option *o = &table[i];

		if (o->key != key)
			continue;
		if (o->number != NULL)
			*o->number = parse_number(o->name, arg, o->min, o->max);
		else if (o->whole != NULL)
			*o->whole =
				parse_uint(o->name, arg, (unsigned int)o->min,
					   (unsigned int)o->max);
		else
			return false;
		return true;
	}
	return false;
}

/* Print the synopsis line and the n options of table to fp, and exit. */
noreturn void
options_usage(FILE *fp, int status, const char *synopsis,
	      const struct bench_option *table, size_t n)
{
	fprintf(fp, "usage: %s %s\n", bench_progname, synopsis);
	for (size_t i = 0; i < n; i++) {
		const struct bench_option *o = &table[i];
		char left[40];

		snprintf(left, sizeof(left), "--%s%s%s", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(fp, "  %-24s %s\n", left, o->help);
	}
	exit(status);
}

/*
 * Raise RLIMIT_NOFILE to descriptors + 64, as far as the hard limit and
 * beyond it when the process may (CAP_SYS_RESOURCE); die when it cannot
 * reach that many.
 */
void
nofile_raise(unsigned long descriptors)
{
	struct rlimit rl;
	rlim_t want = descriptors + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		rl.rlim_cur = rl.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			die("%lu sockets need RLIMIT_NOFILE %llu (the hard "
			    "limit is lower)",
			    descriptors, (unsigned long long)want);
		return;
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("setrlimit: %s", strerror(errno));
}
