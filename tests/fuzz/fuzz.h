/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz.h: what the libFuzzer targets share: the invariant check that
 * aborts (libFuzzer reports it as a crash, with the input), and a config
 * made from text for the targets that need a daemon's config.
 */
#ifndef TURNPIKE_FUZZ_H
#define TURNPIKE_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

struct conf;

#define FUZZ_ASSERT(expr)                                                      \
	do {                                                                   \
		if (!(expr)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #expr);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* fuzz_util.c */

/*
 * The config that text (a turnpike.conf) makes, loaded through a memfd
 * with conf_load(); owned by the caller.  Aborts when it does not load:
 * the targets' own configs must.
 */
struct conf *fuzz_conf_text(const char *text);

#endif /* TURNPIKE_FUZZ_H */
