/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_util.c: helpers of the libFuzzer targets (fuzz.h).  Not a target.
 */
#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

struct conf *
fuzz_conf_text(const char *text)
{
	char err[CONF_ERRLEN], path[64];
	struct conf *conf;
	int fd;

	if ((fd = memfd_create("fuzz_conf_text", 0)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((conf = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_conf_text: %s\n", err);
		abort();
	}
	close(fd);
	return conf;
}
