/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xorshift.h: Marsaglia's xorshift64, a fast generator of numbers that
 * only need to look random (Data indication transaction ids, load
 * generators, fuzzing by mutation).  Not for anything an attacker must
 * not guess: that is RAND_bytes().
 */
#ifndef TURNPIKE_XORSHIFT_H
#define TURNPIKE_XORSHIFT_H

#include <stdint.h>

/* The next number of the generator whose state is *s (never 0). */
static inline uint64_t
xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

#endif /* TURNPIKE_XORSHIFT_H */
