/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unit.h: the few macros the unit tests share.  A failed check prints the
 * file, line and expression and marks the test failed; the program carries
 * on so that one run shows every failure.  unit_done() is the exit status
 * automake expects: 0 passed, 1 failed.
 */
#ifndef TURNPIKE_UNIT_H
#define TURNPIKE_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(expr)                                                            \
	do {                                                                   \
		unit_checks++;                                                 \
		if (!(expr)) {                                                 \
			unit_failures++;                                       \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #expr);                              \
		}                                                              \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);  \
		unit_checks++;                                                 \
		if (unit_a_ != unit_b_) {                                      \
			unit_failures++;                                       \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n",  \
				__FILE__, __LINE__, #a, unit_a_, unit_b_);     \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *unit_a_ = (a), *unit_b_ = (b);                     \
		unit_checks++;                                                 \
		if (unit_a_ == NULL || strcmp(unit_a_, unit_b_) != 0) {        \
			unit_failures++;                                       \
			fprintf(stderr,                                        \
				"%s:%d: %s == \"%s\", expected \"%s\"\n",      \
				__FILE__, __LINE__, #a,                        \
				unit_a_ ? unit_a_ : "(null)", unit_b_);        \
		}                                                              \
	} while (0)

#define CHECK_MEM(a, b, n)                                                     \
	do {                                                                   \
		unit_checks++;                                                 \
		if (memcmp((a), (b), (n)) != 0) {                              \
			unit_failures++;                                       \
			fprintf(stderr, "%s:%d: %s differs from %s\n",         \
				__FILE__, __LINE__, #a, #b);                   \
		}                                                              \
	} while (0)

static inline int
unit_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}

#endif /* TURNPIKE_UNIT_H */
