/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock.h: the one clock the I/O modules read and hand to the pure ones.
 * Monotonic, so that lifetimes survive the wall clock stepping.
 */
#ifndef TURNPIKE_CLOCK_H
#define TURNPIKE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC. */
static inline uint64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif /* TURNPIKE_CLOCK_H */
