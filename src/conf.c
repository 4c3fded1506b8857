/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c: the key table and the libconfig reader behind it.
 *
 * Each key is one row: its dotted name, its type, its bounds, its default
 * written in the file's own syntax, where it lands in struct conf, whether
 * a reload applies it, and one line of help.  Defaults are parsed by the
 * same code as the file, so a default can never be something the parser
 * would refuse.  This file does no I/O beyond reading the config file and
 * never logs: errors are returned as "file:line: what is wrong".
 */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "addr.h"
#include "conf.h"
#include "log.h"

enum conf_type {
	CONF_BOOL,
	CONF_INT,
	CONF_STRING,
	CONF_ENUM,
	CONF_ADDRS,
};

struct conf_key {
	const char *name;
	enum conf_type type;
	long min, max; /* CONF_INT bounds */
	const char *const
		*choices; /* CONF_ENUM names; the value is the index */
	const char *def;  /* default, in libconfig syntax */
	size_t offset;    /* of the field in struct conf */
	bool restart;     /* a change needs a restart, not a reload */
	const char *help;
};

static const char *const conf_levels[] = { "error", "warning", "info", "debug",
					   NULL };
static const char *const conf_targets[] = { "stderr", "syslog", NULL };
static const char *const conf_facilities[] = { "daemon", "user",   "local0",
					       "local1", "local2", "local3",
					       "local4", "local5", "local6",
					       "local7", NULL };
static const int conf_facility_values[] = {
	LOG_DAEMON, LOG_USER,   LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2,
	LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7,
};

#define F(field) offsetof(struct conf, field)

/*
 * The keys, grouped by their first name part; conf_print() relies on rows
 * of one group being adjacent.  Keep man/turnpike.conf.5 and
 * etc/turnpike.conf in step: tests/integration/test_docs.py checks both.
 */
static const struct conf_key conf_keys[] = {
	{ "daemon.user", CONF_STRING, 0, 0, NULL, "\"nobody\"", F(user), true,
	  "user to switch to after binding, when started as root; \"\" keeps "
	  "the current user" },
	{ "daemon.group", CONF_STRING, 0, 0, NULL, "\"\"", F(group), true,
	  "group to switch to; \"\" means the user's primary group" },

	{ "log.level", CONF_ENUM, 0, 0, conf_levels, "\"info\"", F(log_level),
	  false, "least severe level logged: error, warning, info or debug" },
	{ "log.target", CONF_ENUM, 0, 0, conf_targets, "\"stderr\"",
	  F(log_target), false, "where log lines go: stderr or syslog" },
	{ "log.facility", CONF_ENUM, 0, 0, conf_facilities, "\"daemon\"",
	  F(log_facility), false, "syslog facility: daemon, user, local0-7" },

	{ "listen.udp", CONF_ADDRS, 0, 0, NULL,
	  "[ \"0.0.0.0:3478\", \"[::]:3478\" ]", F(listen_udp), true,
	  "UDP addresses for STUN and TURN" },
	{ "listen.tcp", CONF_ADDRS, 0, 0, NULL,
	  "[ \"0.0.0.0:3478\", \"[::]:3478\" ]", F(listen_tcp), true,
	  "TCP addresses for STUN and TURN" },

	{ "stun.rfc3489", CONF_BOOL, 0, 0, NULL, "false", F(stun_rfc3489),
	  false, "answer classic RFC 3489 Binding requests (no magic cookie)" },

	{ "stream.max_connections", CONF_INT, 1, 1000000, NULL, "1024",
	  F(stream_max_connections), false,
	  "most TCP and TLS client connections open at once" },
	{ "stream.idle_timeout", CONF_INT, 1, 86400, NULL, "30",
	  F(stream_idle_timeout), false,
	  "seconds a connection may go without a complete message" },
	{ "stream.max_buffer", CONF_INT, 4096, 16777216, NULL, "65536",
	  F(stream_max_buffer), false,
	  "bytes queued toward one client before its connection is closed" },
};

#undef F

#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static void conf_err(char *err, size_t errlen, const config_setting_t *s,
		     const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Write "file:line: message" for setting s into err. */
static void
conf_err(char *err, size_t errlen, const config_setting_t *s, const char *path,
	 const char *fmt, ...)
{
	const char *file = NULL;
	unsigned int line = 0;
	va_list ap;
	int n;

	if (s != NULL) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	n = snprintf(err, errlen, "%s:%u: ", file ? file : path, line);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static const struct conf_key *
conf_key_find(const char *name)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

/* Whether some key lives below the group called prefix ("log"). */
static bool
conf_group_known(const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strncmp(conf_keys[i].name, prefix, n) == 0 &&
		    conf_keys[i].name[n] == '.')
			return true;
	return false;
}

static int
conf_set_addrs(const config_setting_t *s, const struct conf_key *k,
	       struct conf_addrs *addrs, const char *path, char *err,
	       size_t errlen)
{
	int n = config_setting_length(s);
	char why[128];

	if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
		conf_err(err, errlen, s, path,
			 "%s: expected a list of \"ip:port\" strings", k->name);
		return -1;
	}
	if (n > CONF_MAX_LISTEN) {
		conf_err(err, errlen, s, path, "%s: more than %d addresses",
			 k->name, CONF_MAX_LISTEN);
		return -1;
	}
	addrs->n = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e =
			config_setting_get_elem(s, (unsigned)i);
		const char *str = config_setting_get_string(e);

		if (str == NULL) {
			conf_err(err, errlen, s, path,
				 "%s: expected a list of \"ip:port\" strings",
				 k->name);
			return -1;
		}
		if (addr_parse(str, &addrs->addr[i], why, sizeof(why)) == -1) {
			conf_err(err, errlen, s, path, "%s: %s", k->name, why);
			return -1;
		}
		for (int j = 0; j < i; j++) {
			if (addr_equal((struct sockaddr *)&addrs->addr[i],
				       (struct sockaddr *)&addrs->addr[j])) {
				conf_err(err, errlen, s, path,
					 "%s: \"%s\" is listed twice", k->name,
					 str);
				return -1;
			}
		}
		addrs->n++;
	}
	return 0;
}

/*
 * Store the value of setting s into the field of conf that row k names.
 * Returns 0, or -1 with the reason in err.
 */
static int
conf_set(struct conf *conf, const struct conf_key *k, const config_setting_t *s,
	 const char *path, char *err, size_t errlen)
{
	void *field = (char *)conf + k->offset;
	int type = config_setting_type(s);

	switch (k->type) {
	case CONF_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			conf_err(err, errlen, s, path,
				 "%s: expected true or false", k->name);
			return -1;
		}
		*(bool *)field = config_setting_get_bool(s) != 0;
		return 0;
	case CONF_INT: {
		long long v;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			conf_err(err, errlen, s, path,
				 "%s: expected an integer", k->name);
			return -1;
		}
		v = config_setting_get_int64(s);
		if (v < k->min || v > k->max) {
			conf_err(err, errlen, s, path,
				 "%s: %lld is out of range %ld..%ld", k->name,
				 v, k->min, k->max);
			return -1;
		}
		*(int *)field = (int)v;
		return 0;
	}
	case CONF_STRING: {
		char *copy;

		if (type != CONFIG_TYPE_STRING) {
			conf_err(err, errlen, s, path, "%s: expected a string",
				 k->name);
			return -1;
		}
		if ((copy = strdup(config_setting_get_string(s))) == NULL) {
			conf_err(err, errlen, s, path, "%s: out of memory",
				 k->name);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case CONF_ENUM: {
		const char *v;
		char list[256] = "";

		if (type != CONFIG_TYPE_STRING) {
			conf_err(err, errlen, s, path, "%s: expected a string",
				 k->name);
			return -1;
		}
		v = config_setting_get_string(s);
		for (int i = 0; k->choices[i] != NULL; i++) {
			if (strcmp(v, k->choices[i]) == 0) {
				*(int *)field = i;
				return 0;
			}
			if (i > 0)
				strncat(list, ", ",
					sizeof(list) - strlen(list) - 1);
			strncat(list, k->choices[i],
				sizeof(list) - strlen(list) - 1);
		}
		conf_err(err, errlen, s, path, "%s: \"%s\" is not one of %s",
			 k->name, v, list);
		return -1;
	}
	case CONF_ADDRS:
		return conf_set_addrs(s, k, field, path, err, errlen);
	}
	return -1;
}

/* Apply every row's default by parsing it as the file would. */
static void
conf_set_defaults(struct conf *conf)
{
	char text[512], err[CONF_ERRLEN];

	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		config_t cfg;
		config_setting_t *s;

		config_init(&cfg);
		snprintf(text, sizeof(text), "v = %s;", k->def);
		if (config_read_string(&cfg, text) != CONFIG_TRUE ||
		    (s = config_lookup(&cfg, "v")) == NULL ||
		    conf_set(conf, k, s, "(default)", err, sizeof(err)) == -1)
			fatalx("built-in default of %s is invalid", k->name);
		config_destroy(&cfg);
	}
}

/*
 * Walk a group of the file: a setting whose full name is a key is applied,
 * a group that holds keys is walked, anything else is an unknown key.
 */
static int
conf_walk(struct conf *conf, const config_setting_t *group, const char *prefix,
	  const char *path, char *err, size_t errlen)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s =
			config_setting_get_elem(group, (unsigned)i);
		const struct conf_key *k;
		char name[128];

		snprintf(name, sizeof(name), "%s%s%s", prefix,
			 *prefix ? "." : "", config_setting_name(s));
		if ((k = conf_key_find(name)) != NULL) {
			if (conf_set(conf, k, s, path, err, errlen) == -1)
				return -1;
		} else if (config_setting_is_group(s) &&
			   conf_group_known(name)) {
			if (conf_walk(conf, s, name, path, err, errlen) == -1)
				return -1;
		} else {
			conf_err(err, errlen, s, path, "unknown key \"%s\"",
				 name);
			return -1;
		}
	}
	return 0;
}

/* Rules that span keys. */
static int
conf_validate(const struct conf *conf, const char *path, char *err,
	      size_t errlen)
{
	if (conf->listen_udp.n == 0 && conf->listen_tcp.n == 0) {
		snprintf(err, errlen,
			 "%s:0: listen.udp and listen.tcp are both empty: "
			 "nothing to serve",
			 path);
		return -1;
	}
	return 0;
}

struct conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct conf *conf;
	config_t cfg;
	FILE *fp;

	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	conf_set_defaults(conf);
	if (path == NULL)
		return conf;
	if ((conf->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		conf_free(conf);
		return NULL;
	}

	/* libconfig says only "file I/O error": say which. */
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path,
			 strerror(errno));
		conf_free(conf);
		return NULL;
	}
	fclose(fp);

	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		const char *file = config_error_file(&cfg);

		snprintf(err, errlen, "%s:%d: %s", file ? file : path,
			 config_error_line(&cfg), config_error_text(&cfg));
		config_destroy(&cfg);
		conf_free(conf);
		return NULL;
	}
	if (conf_walk(conf, config_root_setting(&cfg), "", path, err, errlen) ==
		    -1 ||
	    conf_validate(conf, path, err, errlen) == -1) {
		config_destroy(&cfg);
		conf_free(conf);
		return NULL;
	}
	config_destroy(&cfg);
	return conf;
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].type == CONF_STRING)
			free(*(char **)((char *)conf + conf_keys[i].offset));
	free(conf->path);
	free(conf);
}

static void
conf_print_value(FILE *fp, const struct conf_key *k, const void *field)
{
	char buf[ADDR_STRLEN];

	switch (k->type) {
	case CONF_BOOL:
		fputs(*(const bool *)field ? "true" : "false", fp);
		break;
	case CONF_INT:
		fprintf(fp, "%d", *(const int *)field);
		break;
	case CONF_STRING:
		/* Strings are printed as libconfig reads them back. */
		fputc('"', fp);
		for (const char *c = *(char *const *)field; *c; c++) {
			if (*c == '"' || *c == '\\')
				fputc('\\', fp);
			fputc(*c, fp);
		}
		fputc('"', fp);
		break;
	case CONF_ENUM:
		fprintf(fp, "\"%s\"", k->choices[*(const int *)field]);
		break;
	case CONF_ADDRS: {
		const struct conf_addrs *a = field;

		fputs("[ ", fp);
		for (unsigned int i = 0; i < a->n; i++)
			fprintf(fp, "%s\"%s\"", i ? ", " : "",
				addr_str((const struct sockaddr *)&a->addr[i],
					 buf, sizeof(buf)));
		fputs(a->n ? " ]" : "]", fp);
		break;
	}
	}
}

void
conf_print(FILE *fp, const struct conf *conf)
{
	size_t glen = 0;
	const char *group = NULL;

	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *dot = strchr(k->name, '.');

		if (group == NULL || (size_t)(dot - k->name) != glen ||
		    strncmp(group, k->name, glen) != 0) {
			if (group != NULL)
				fputs("};\n", fp);
			group = k->name;
			glen = (size_t)(dot - k->name);
			fprintf(fp, "%.*s = {\n", (int)glen, group);
		}
		fprintf(fp, "\t# %s (default: %s)\n\t%s = ", k->help, k->def,
			dot + 1);
		conf_print_value(fp, k, (const char *)conf + k->offset);
		fputs(";\n", fp);
	}
	if (group != NULL)
		fputs("};\n", fp);
}

static size_t
conf_type_size(enum conf_type type)
{
	switch (type) {
	case CONF_BOOL:
		return sizeof(bool);
	case CONF_INT:
	case CONF_ENUM:
		return sizeof(int);
	case CONF_STRING:
		return sizeof(char *);
	case CONF_ADDRS:
		return sizeof(struct conf_addrs);
	}
	return 0;
}

static bool
conf_field_equal(const struct conf_key *k, const struct conf *a,
		 const struct conf *b)
{
	const void *x = (const char *)a + k->offset;
	const void *y = (const char *)b + k->offset;

	switch (k->type) {
	case CONF_BOOL:
		return *(const bool *)x == *(const bool *)y;
	case CONF_INT:
	case CONF_ENUM:
		return *(const int *)x == *(const int *)y;
	case CONF_STRING:
		return strcmp(*(char *const *)x, *(char *const *)y) == 0;
	case CONF_ADDRS: {
		const struct conf_addrs *p = x, *q = y;

		if (p->n != q->n)
			return false;
		for (unsigned int i = 0; i < p->n; i++)
			if (!addr_equal((const struct sockaddr *)&p->addr[i],
					(const struct sockaddr *)&q->addr[i]))
				return false;
		return true;
	}
	}
	return false;
}

int
conf_carry_restart_keys(struct conf *new, struct conf *old,
			void (*report)(const char *key, void *arg), void *arg)
{
	int n = 0;

	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		char *x = (char *)new + k->offset, *y = (char *)old + k->offset;

		if (!k->restart || conf_field_equal(k, new, old))
			continue;
		report(k->name, arg);
		if (k->type == CONF_STRING) {
			/* Swap, so that each struct still frees its own. */
			char *tmp = *(char **)x;

			*(char **)x = *(char **)y;
			*(char **)y = tmp;
		} else {
			memcpy(x, y, conf_type_size(k->type));
		}
		n++;
	}
	return n;
}

int
conf_syslog_facility(const struct conf *conf)
{
	return conf_facility_values[conf->log_facility];
}
