/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c: the libconfig reader behind the key table (conf_keys.c): value
 * types, defaults, the walk over a file, the rules that span keys, and
 * printing.  Defaults are parsed by the same code as the file, so a
 * default can never be something the parser would refuse.  This file does no I/O beyond reading the config file and
 * never logs: errors are returned as "file:line: what is wrong".
 */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "addr.h"
#include "auth.h"
#include "conf.h"
#include "conf_table.h"
#include "log.h"
#include "peer.h"

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
	for (size_t i = 0; i < conf_nkeys; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

/* Whether some key lives below the group called prefix ("log"). */
static bool
conf_group_known(const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < conf_nkeys; i++)
		if (strncmp(conf_keys[i].name, prefix, n) == 0 &&
		    conf_keys[i].name[n] == '.')
			return true;
	return false;
}

/*
 * Each type is a row of functions: read a setting into a field, print a
 * field back in the file's syntax, compare two fields, free a field.  A
 * new type is a row here and a case in no switch.
 */
struct conf_type_ops {
	size_t size;
	int (*set)(const config_setting_t *s, const struct conf_key *k,
		   void *field, const char *path, char *err, size_t errlen);
	void (*print)(FILE *fp, const struct conf_key *k, const void *field);
	bool (*equal)(const void *a, const void *b);
	void (*free)(const struct conf_key *k, void *field);
};

static void
conf_print_string(FILE *fp, const char *v)
{
	/* Strings are printed as libconfig reads them back. */
	fputc('"', fp);
	for (const char *c = v; *c; c++) {
		if (*c == '"' || *c == '\\')
			fputc('\\', fp);
		fputc(*c, fp);
	}
	fputc('"', fp);
}

static int
bool_set(const config_setting_t *s, const struct conf_key *k, void *field,
	 const char *path, char *err, size_t errlen)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		conf_err(err, errlen, s, path, "%s: expected true or false",
			 k->name);
		return -1;
	}
	*(bool *)field = config_setting_get_bool(s) != 0;
	return 0;
}

static void
bool_print(FILE *fp, const struct conf_key *k, const void *field)
{
	fputs(*(const bool *)field ? "true" : "false", fp);
}

static bool
bool_equal(const void *a, const void *b)
{
	return *(const bool *)a == *(const bool *)b;
}

static int
int_set(const config_setting_t *s, const struct conf_key *k, void *field,
	const char *path, char *err, size_t errlen)
{
	int type = config_setting_type(s);
	long long v;

	if (k->word0 != NULL && type == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(s), k->word0) == 0) {
		*(int *)field = 0;
		return 0;
	}
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		if (k->word0 != NULL)
			conf_err(err, errlen, s, path,
				 "%s: expected an integer or \"%s\"", k->name,
				 k->word0);
		else
			conf_err(err, errlen, s, path,
				 "%s: expected an integer", k->name);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < k->min || v > k->max) {
		conf_err(err, errlen, s, path,
			 "%s: %lld is out of range %ld..%ld", k->name, v,
			 k->min, k->max);
		return -1;
	}
	*(int *)field = (int)v;
	return 0;
}

static void
int_print(FILE *fp, const struct conf_key *k, const void *field)
{
	if (k->word0 != NULL && *(const int *)field == 0)
		fprintf(fp, "\"%s\"", k->word0);
	else
		fprintf(fp, "%d", *(const int *)field);
}

static bool
int_equal(const void *a, const void *b)
{
	return *(const int *)a == *(const int *)b;
}

static int
string_set(const config_setting_t *s, const struct conf_key *k, void *field,
	   const char *path, char *err, size_t errlen)
{
	char *copy;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(err, errlen, s, path, "%s: expected a string",
			 k->name);
		return -1;
	}
	if ((copy = strdup(config_setting_get_string(s))) == NULL) {
		conf_err(err, errlen, s, path, "%s: out of memory", k->name);
		return -1;
	}
	free(*(char **)field);
	*(char **)field = copy;
	return 0;
}

static void
string_print(FILE *fp, const struct conf_key *k, const void *field)
{
	const char *v = *(char *const *)field;

	/* A secret that is set shows as stars; an empty one as "". */
	conf_print_string(fp, k->secret && v[0] != '\0' ? "********" : v);
}

static bool
string_equal(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b) == 0;
}

static void
string_free(const struct conf_key *k, void *field)
{
	if (k->secret && *(char **)field != NULL)
		OPENSSL_cleanse(*(char **)field, strlen(*(char **)field));
	free(*(char **)field);
	*(char **)field = NULL;
}

static int
enum_set(const config_setting_t *s, const struct conf_key *k, void *field,
	 const char *path, char *err, size_t errlen)
{
	char list[256] = "";
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
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
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, k->choices[i], sizeof(list) - strlen(list) - 1);
	}
	conf_err(err, errlen, s, path, "%s: \"%s\" is not one of %s", k->name,
		 v, list);
	return -1;
}

static void
enum_print(FILE *fp, const struct conf_key *k, const void *field)
{
	fprintf(fp, "\"%s\"", k->choices[*(const int *)field]);
}

/*
 * The elements of a list or array setting, which must all be strings.
 * Returns the count, or -1 with the error written.
 */
static int
conf_string_elems(const config_setting_t *s, const struct conf_key *k,
		  const char *what, const char *path, char *err, size_t errlen)
{
	int n;

	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		goto bad;
	n = config_setting_length(s);
	for (int i = 0; i < n; i++)
		if (config_setting_get_string_elem(s, i) == NULL)
			goto bad;
	return n;
bad:
	conf_err(err, errlen, s, path, "%s: expected a list of %s", k->name,
		 what);
	return -1;
}

/* Addresses, with ports (CONF_ADDRS) or without (CONF_IPS). */
static int
addrs_parse(const config_setting_t *s, const struct conf_key *k,
	    struct conf_addrs *addrs, bool with_port, const char *path,
	    char *err, size_t errlen)
{
	int n = conf_string_elems(
		s, k, with_port ? "\"ip:port\" strings" : "IP address strings",
		path, err, errlen);
	char why[128], buf[80];

	if (n < 0)
		return -1;
	if (n > CONF_MAX_LISTEN) {
		conf_err(err, errlen, s, path, "%s: more than %d addresses",
			 k->name, CONF_MAX_LISTEN);
		return -1;
	}
	addrs->n = 0;
	for (int i = 0; i < n; i++) {
		const char *str = config_setting_get_string_elem(s, i);
		int rc;

		if (with_port) {
			rc = addr_parse(str, &addrs->addr[i], why, sizeof(why));
		} else {
			/* A bare IP: parse it as "ip:1" or "[ip]:1", then
			 * clear the port. */
			snprintf(buf, sizeof(buf),
				 strchr(str, ':') ? "[%s]:1" : "%s:1", str);
			rc = addr_parse(buf, &addrs->addr[i], why, sizeof(why));
			if (rc == -1)
				snprintf(why, sizeof(why),
					 "\"%s\" is not an IP address", str);
			else if (addrs->addr[i].ss_family == AF_INET)
				((struct sockaddr_in *)&addrs->addr[i])
					->sin_port = 0;
			else
				((struct sockaddr_in6 *)&addrs->addr[i])
					->sin6_port = 0;
		}
		if (rc == -1) {
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

static int
addrs_set(const config_setting_t *s, const struct conf_key *k, void *field,
	  const char *path, char *err, size_t errlen)
{
	return addrs_parse(s, k, field, true, path, err, errlen);
}

static int
ips_set(const config_setting_t *s, const struct conf_key *k, void *field,
	const char *path, char *err, size_t errlen)
{
	return addrs_parse(s, k, field, false, path, err, errlen);
}

static void
addrs_print_list(FILE *fp, const struct conf_addrs *a, bool with_port)
{
	char buf[ADDR_STRLEN];

	fputs("[ ", fp);
	for (unsigned int i = 0; i < a->n; i++) {
		char *p = buf;

		addr_str((const struct sockaddr *)&a->addr[i], buf,
			 sizeof(buf));
		if (!with_port) {
			/* Strip ":0" and the brackets of an IPv6 address. */
			*strrchr(buf, ':') = '\0';
			if (buf[0] == '[') {
				buf[strlen(buf) - 1] = '\0';
				p++;
			}
		}
		fprintf(fp, "%s\"%s\"", i ? ", " : "", p);
	}
	fputs(a->n ? " ]" : "]", fp);
}

static void
addrs_print(FILE *fp, const struct conf_key *k, const void *field)
{
	addrs_print_list(fp, field, true);
}

static void
ips_print(FILE *fp, const struct conf_key *k, const void *field)
{
	addrs_print_list(fp, field, false);
}

static bool
addrs_equal(const void *a, const void *b)
{
	const struct conf_addrs *p = a, *q = b;

	if (p->n != q->n)
		return false;
	for (unsigned int i = 0; i < p->n; i++)
		if (!addr_equal((const struct sockaddr *)&p->addr[i],
				(const struct sockaddr *)&q->addr[i]))
			return false;
	return true;
}

static void
strlist_free(const struct conf_key *k, void *field)
{
	struct conf_strlist *l = field;

	for (unsigned int i = 0; i < l->n; i++) {
		if (k->secret)
			OPENSSL_cleanse(l->v[i], strlen(l->v[i]));
		free(l->v[i]);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
strlist_set(const config_setting_t *s, const struct conf_key *k, void *field,
	    const char *path, char *err, size_t errlen)
{
	struct conf_strlist *l = field, fresh = { 0, NULL };
	int n = conf_string_elems(s, k, "strings", path, err, errlen);
	char why[256];

	if (n < 0)
		return -1;
	if (n > 0 && (fresh.v = calloc((size_t)n, sizeof(char *))) == NULL)
		goto nomem;
	for (int i = 0; i < n; i++) {
		if ((fresh.v[i] = strdup(
			     config_setting_get_string_elem(s, i))) == NULL)
			goto nomem;
		fresh.n++;
	}
	if (k->check != NULL && k->check(&fresh, why, sizeof(why)) == -1) {
		conf_err(err, errlen, s, path, "%s: %s", k->name, why);
		strlist_free(k, &fresh);
		return -1;
	}
	strlist_free(k, l);
	*l = fresh;
	return 0;
nomem:
	strlist_free(k, &fresh);
	conf_err(err, errlen, s, path, "%s: out of memory", k->name);
	return -1;
}

static void
strlist_print(FILE *fp, const struct conf_key *k, const void *field)
{
	const struct conf_strlist *l = field;

	fputs("[ ", fp);
	for (unsigned int i = 0; i < l->n; i++) {
		fputs(i ? ", " : "", fp);
		/* A secret is shown as stars, so that "turnpiked -t -v"
		 * output can be pasted into a bug report. */
		conf_print_string(fp, k->secret ? "********" : l->v[i]);
	}
	fputs(l->n ? " ]" : "]", fp);
}

static bool
strlist_equal(const void *a, const void *b)
{
	const struct conf_strlist *p = a, *q = b;

	if (p->n != q->n)
		return false;
	for (unsigned int i = 0; i < p->n; i++)
		if (strcmp(p->v[i], q->v[i]) != 0)
			return false;
	return true;
}

static int
cidrs_set(const config_setting_t *s, const struct conf_key *k, void *field,
	  const char *path, char *err, size_t errlen)
{
	struct conf_cidrs *l = field;
	struct peer_cidr *v = NULL;
	char why[128];
	int n = conf_string_elems(s, k, "address ranges", path, err, errlen);

	if (n < 0)
		return -1;
	if (n > 0 && (v = calloc((size_t)n, sizeof(*v))) == NULL) {
		conf_err(err, errlen, s, path, "%s: out of memory", k->name);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (peer_cidr_parse(config_setting_get_string_elem(s, i), &v[i],
				    why, sizeof(why)) == -1) {
			conf_err(err, errlen, s, path, "%s: %s", k->name, why);
			free(v);
			return -1;
		}
	}
	free(l->v);
	l->v = v;
	l->n = (unsigned int)n;
	return 0;
}

static void
cidrs_print(FILE *fp, const struct conf_key *k, const void *field)
{
	const struct conf_cidrs *l = field;
	char buf[PEER_CIDR_STRLEN];

	fputs("[ ", fp);
	for (unsigned int i = 0; i < l->n; i++)
		fprintf(fp, "%s\"%s\"", i ? ", " : "",
			peer_cidr_str(&l->v[i], buf, sizeof(buf)));
	fputs(l->n ? " ]" : "]", fp);
}

static bool
cidrs_equal(const void *a, const void *b)
{
	const struct conf_cidrs *p = a, *q = b;

	return p->n == q->n &&
	       (p->n == 0 || memcmp(p->v, q->v, p->n * sizeof(*p->v)) == 0);
}

static void
cidrs_free(const struct conf_key *k, void *field)
{
	struct conf_cidrs *l = field;

	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static const struct conf_type_ops conf_types[] = {
	[CONF_BOOL] = { sizeof(bool), bool_set, bool_print, bool_equal, NULL },
	[CONF_INT] = { sizeof(int), int_set, int_print, int_equal, NULL },
	[CONF_STRING] = { sizeof(char *), string_set, string_print,
			  string_equal, string_free },
	[CONF_ENUM] = { sizeof(int), enum_set, enum_print, int_equal, NULL },
	[CONF_ADDRS] = { sizeof(struct conf_addrs), addrs_set, addrs_print,
			 addrs_equal, NULL },
	[CONF_IPS] = { sizeof(struct conf_addrs), ips_set, ips_print,
		       addrs_equal, NULL },
	[CONF_STRLIST] = { sizeof(struct conf_strlist), strlist_set,
			   strlist_print, strlist_equal, strlist_free },
	[CONF_CIDRS] = { sizeof(struct conf_cidrs), cidrs_set, cidrs_print,
			 cidrs_equal, cidrs_free },
};

/*
 * Store the value of setting s into the field of conf that row k names.
 * Returns 0, or -1 with the reason in err.
 */
static int
conf_set(struct conf *conf, const struct conf_key *k, const config_setting_t *s,
	 const char *path, char *err, size_t errlen)
{
	return conf_types[k->type].set(s, k, (char *)conf + k->offset, path,
				       err, errlen);
}

/* Apply every row's default by parsing it as the file would. */
static void
conf_set_defaults(struct conf *conf)
{
	char text[512], err[CONF_ERRLEN];

	for (size_t i = 0; i < conf_nkeys; i++) {
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

static int
conf_one_per_family(const struct conf_addrs *a)
{
	int v4 = 0, v6 = 0;

	for (unsigned int i = 0; i < a->n; i++) {
		if (a->addr[i].ss_family == AF_INET)
			v4++;
		else
			v6++;
	}
	return v4 > 1 || v6 > 1 ? -1 : 0;
}

/* A host name, an IPv4 address or an IPv6 address (brackets optional);
 * "" is fine (the Host header is used then). */
static int
conf_check_host(const char *h)
{
	struct in6_addr a6;
	char buf[64];
	size_t n = strlen(h);

	if (n == 0)
		return 0;
	if (strchr(h, ':') != NULL) {
		if (h[0] == '[' && n > 2 && h[n - 1] == ']' &&
		    n - 2 < sizeof(buf)) {
			memcpy(buf, h + 1, n - 2);
			buf[n - 2] = '\0';
			h = buf;
		}
		return inet_pton(AF_INET6, h, &a6) == 1 ? 0 : -1;
	}
	if (n > 253)
		return -1;
	for (const char *c = h; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
			return -1;
	return 0;
}

/* Rules that span keys. */
static int
conf_validate(const struct conf *conf, const char *path, char *err,
	      size_t errlen)
{
	if (conf->listen_udp.n == 0 && conf->listen_tcp.n == 0 &&
	    conf->listen_tls.n == 0 && conf->http_listen.n == 0) {
		snprintf(err, errlen,
			 "%s:0: listen.udp, listen.tcp, listen.tls and "
			 "http.listen are all empty: nothing to serve",
			 path);

		return -1;
	}
	if ((conf->http_tls_certificate[0] == '\0') !=
	    (conf->http_tls_private_key[0] == '\0')) {
		snprintf(err, errlen,
			 "%s:0: http.tls_certificate and http.tls_private_key "
			 "go together: set both or neither",
			 path);
		return -1;
	}
	if (conf_check_host(conf->http_public_host) == -1) {
		snprintf(err, errlen,
			 "%s:0: http.public_host \"%s\" is not a host name or "
			 "an IP address (no scheme, no port)",
			 path, conf->http_public_host);
		return -1;
	}
	if (conf->turn_enable && conf->turn_secrets.n > 0 &&
	    conf->http_listen.n > 0 &&
	    conf->sig_credential_ttl > conf->turn_rest_max_ttl) {
		snprintf(err, errlen,
			 "%s:0: signaling.credential_ttl %d is above "
			 "turn.rest_max_ttl %d: our own TURN would refuse the "
			 "credentials we hand out",
			 path, conf->sig_credential_ttl,
			 conf->turn_rest_max_ttl);
		return -1;
	}
	if ((conf->tls_certificate[0] == '\0') !=
	    (conf->tls_private_key[0] == '\0')) {
		snprintf(err, errlen,
			 "%s:0: tls.certificate and tls.private_key go "
			 "together: set both or neither",
			 path);
		return -1;
	}
	if (conf->turn_enable && conf->turn_users.n == 0 &&
	    conf->turn_secrets.n == 0) {
		snprintf(err, errlen,
			 "%s:0: turn.users and turn.secrets are both empty: "
			 "turnpike has no unauthenticated TURN; set one of "
			 "them, or turn.enable = false for STUN only",
			 path);
		return -1;
	}
	if (conf->turn_port_min > conf->turn_port_max) {
		snprintf(err, errlen,
			 "%s:0: turn.port_min %d is above turn.port_max %d",
			 path, conf->turn_port_min, conf->turn_port_max);
		return -1;
	}
	if (conf->turn_default_lifetime > conf->turn_max_lifetime) {
		snprintf(err, errlen,
			 "%s:0: turn.default_lifetime %d is above "
			 "turn.max_lifetime %d",
			 path, conf->turn_default_lifetime,
			 conf->turn_max_lifetime);
		return -1;
	}
	if (conf_one_per_family(&conf->turn_relay_ip) == -1 ||
	    conf_one_per_family(&conf->turn_external_ip) == -1) {
		snprintf(err, errlen,
			 "%s:0: turn.relay_ip and turn.external_ip take at "
			 "most one IPv4 and one IPv6 address",
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
	struct stat st;
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
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s:0: not a regular file", path);
		fclose(fp);
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
	for (size_t i = 0; i < conf_nkeys; i++)
		if (conf_types[conf_keys[i].type].free != NULL)
			conf_types[conf_keys[i].type].free(
				&conf_keys[i],
				(char *)conf + conf_keys[i].offset);
	free(conf->path);
	free(conf);
}

void
conf_print(FILE *fp, const struct conf *conf)
{
	size_t glen = 0;
	const char *group = NULL;

	for (size_t i = 0; i < conf_nkeys; i++) {
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
		conf_types[k->type].print(fp, k,
					  (const char *)conf + k->offset);
		fputs(";\n", fp);
	}
	if (group != NULL)
		fputs("};\n", fp);
}

int
conf_carry_restart_keys(struct conf *new, struct conf *old,
			void (*report)(const char *key, void *arg), void *arg)
{
	int n = 0;

	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		char *x = (char *)new + k->offset, *y = (char *)old + k->offset;

		size_t size = conf_types[k->type].size;
		char tmp[sizeof(struct conf_addrs)];

		if (!k->restart || conf_types[k->type].equal(x, y))
			continue;
		report(k->name, arg);
		/* Swap, so that each struct still frees what it holds. */
		memcpy(tmp, x, size);
		memcpy(x, y, size);
		memcpy(y, tmp, size);
		n++;
	}
	return n;
}

int
conf_syslog_facility(const struct conf *conf)
{
	return conf_facility_values[conf->log_facility];
}
