/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * benchutil.h: what the load generators of bench/ (turnpike-bench,
 * turnpike-sigbench) share: a latency histogram, a clock, a cheap random
 * number generator, the command-line number parsers and the option table
 * that drives getopt_long() and --help.  Not part of the daemon.
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>

#include "xorshift.h" /* xorshift64(), from src/ */

#define NS 1000000000ull

/*
 * A log-linear histogram of nanoseconds: exact below 64, then 64 buckets
 * per power of two, so a quantile is within 1.6 % of the truth.  Fixed
 * size, one per thread, merged at the end.
 */
#define HIST_SUB_BITS 6
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  (HIST_SUB * 60)

struct hist {
	uint64_t n;
	uint64_t max;
	uint64_t bucket[HIST_BUCKETS];
};

/*
 * One command-line option: its name, getopt key, argument and help, and
 * for a numeric option where its value goes, a number or a whole number,
 * from min to max.
 */
struct bench_option {
	const char *name;
	int key;
	const char *arg; /* NULL: a flag */
	const char *help;
	double *number;
	unsigned int *whole;
	double min, max;
};

/* The program's name in messages: set by each tool's main(). */
extern const char *bench_progname;

/* benchutil.c */
void hist_add(struct hist *, uint64_t);
void hist_merge(struct hist *, const struct hist *);
uint64_t hist_quantile(const struct hist *, double);
uint64_t now_ns(void);
double us(uint64_t);
noreturn void die(const char *, ...) __attribute__((format(printf, 1, 2)));
double parse_number(const char *, const char *, double, double);
unsigned int parse_uint(const char *, const char *, unsigned int, unsigned int);
void options_long(const struct bench_option *, size_t, struct option *);
bool options_number(const struct bench_option *, size_t, int, const char *);
noreturn void options_usage(FILE *, int, const char *,
			    const struct bench_option *, size_t);
void nofile_raise(unsigned long);

#endif /* BENCHUTIL_H */
