/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_conf.c: libFuzzer target for the config reader (src/conf.c and the
 * key table in src/conf_keys.c), and for what the daemon builds from a
 * config: the TURN policy (src/policy.c: users, REST secrets, peer lists)
 * and the reload's carrying of restart-only keys.
 *
 * The input is the file's contents, written to a memfd that conf_load()
 * opens by its /proc/self/fd path.  Inputs with "@include" are skipped:
 * libconfig would read other files.  Invariant checked: a config without
 * secrets (conf_print() shows secrets as stars, which do not load back)
 * prints as a file that loads back and prints the same.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "log.h"
#include "policy.h"

static int conf_fd = -1;
static char conf_path[64];

/* Make the memfd's contents data[0..size); 0 or -1. */
static int
conf_write(const void *data, size_t size)
{
	if (ftruncate(conf_fd, 0) == -1 ||
	    pwrite(conf_fd, data, size, 0) != (ssize_t)size)
		return -1;
	return 0;
}

/* conf_print() into a new string, owned by the caller. */
static char *
conf_text(const struct conf *conf, size_t *len)
{
	char *text = NULL;
	FILE *fp;

	if ((fp = open_memstream(&text, len)) == NULL)
		abort();
	conf_print(fp, conf);
	if (fclose(fp) != 0)
		abort();
	return text;
}

static bool
conf_has_secrets(const struct conf *conf)
{
	return conf->turn_users.n > 0 || conf->turn_secrets.n > 0 ||
	       conf->http_api_key[0] != '\0' ||
	       conf->sig_token_secret[0] != '\0';
}

static void
report_cb(const char *key, void *arg)
{
	(*(unsigned int *)arg)++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 (Debian 12) leaks a string its scanner was building when a
 * file fails to parse: its bug, not ours. */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG_LEVEL_ERROR, LOG_TARGET_STDERR, 0);
	if ((conf_fd = memfd_create("fuzz_conf", 0)) == -1) {
		perror("memfd_create");
		abort();
	}
	snprintf(conf_path, sizeof(conf_path), "/proc/self/fd/%d", conf_fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *conf, *again, *defaults;
	struct sockaddr_storage local[2];
	struct policy pol;
	char err[CONF_ERRLEN], *text, *text2;
	size_t len, len2, nlocal;
	unsigned int reported = 0;

	if (memmem(data, size, "@include", 8) != NULL)
		return 0;
	if (conf_write(data, size) == -1)
		abort();
	err[0] = '\0';
	if ((conf = conf_load(conf_path, err, sizeof(err))) == NULL) {
		FUZZ_ASSERT(err[0] != '\0' && strlen(err) < sizeof(err));
		return 0;
	}

	/* What the daemon builds from it at start and at each reload. */
	nlocal = conf->listen_udp.n < 2 ? conf->listen_udp.n : 2;
	memcpy(local, conf->listen_udp.addr, nlocal * sizeof(local[0]));
	if (conf->turn_enable) {
		if (policy_build(conf, local, nlocal, &pol, err, sizeof(err)) ==
		    0)
			policy_free(&pol);
		else
			FUZZ_ASSERT(err[0] != '\0');
	}
	conf_syslog_facility(conf);

	text = conf_text(conf, &len);
	if (!conf_has_secrets(conf)) {
		if (conf_write(text, len) == -1)
			abort();
		again = conf_load(conf_path, err, sizeof(err));
		if (again == NULL)
			fprintf(stderr, "printed config does not load: %s\n%s",
				err, text);
		FUZZ_ASSERT(again != NULL);
		text2 = conf_text(again, &len2);
		if (len2 != len || memcmp(text, text2, len) != 0)
			fprintf(stderr, "printed twice differs:\n%s\n%s", text,
				text2);
		FUZZ_ASSERT(len2 == len && memcmp(text, text2, len) == 0);
		free(text2);
		conf_free(again);
	}
	free(text);

	defaults = conf_load(NULL, err, sizeof(err));
	FUZZ_ASSERT(defaults != NULL);
	conf_carry_restart_keys(conf, defaults, report_cb, &reported);
	conf_free(defaults);
	conf_free(conf);
	return 0;
}
