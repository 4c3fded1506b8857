/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_conf.c: the key table and its reader: defaults, every type, every
 * kind of error with its file:line, and what a reload carries over.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "log.h"
#include "unit.h"

static char path[64];

/* Write text to the temporary config file. */
static void
write_conf(const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		perror(path);
		exit(99);
	}
	fputs(text, fp);
	fclose(fp);
}

static struct conf *
load(const char *text, char *err)
{
	write_conf(text);
	return conf_load(path, err, CONF_ERRLEN);
}

/* The text must be refused with exactly "path:line: why". */
static void
check_error(const char *text, int line, const char *why)
{
	char err[CONF_ERRLEN] = "", want[CONF_ERRLEN];
	struct conf *conf = load(text, err);

	CHECK(conf == NULL);
	conf_free(conf);
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, why);
	CHECK_STR(err, want);
}

static void
test_defaults(void)
{
	char err[CONF_ERRLEN], buf[ADDR_STRLEN];
	struct conf *conf = conf_load(NULL, err, sizeof(err));

	CHECK(conf != NULL);
	if (conf == NULL)
		return;
	CHECK_STR(conf->user, "nobody");
	CHECK_STR(conf->group, "");
	CHECK_INT(conf->log_level, LOG_LEVEL_INFO);
	CHECK_INT(conf->log_target, LOG_TARGET_STDERR);
	CHECK_INT(conf->listen_udp.n, 2);
	CHECK_STR(addr_str((struct sockaddr *)&conf->listen_udp.addr[0], buf,
			   sizeof(buf)),
		  "0.0.0.0:3478");
	CHECK_STR(addr_str((struct sockaddr *)&conf->listen_udp.addr[1], buf,
			   sizeof(buf)),
		  "[::]:3478");
	CHECK_INT(conf->listen_tcp.n, 2);
	CHECK(!conf->stun_rfc3489);
	CHECK_INT(conf->stream_max_connections, 1024);
	CHECK_INT(conf->stream_idle_timeout, 30);
	CHECK_INT(conf->stream_max_buffer, 65536);
	conf_free(conf);
}

static void
test_values(void)
{
	char err[CONF_ERRLEN] = "";
	struct conf *conf;

	conf = load(
		"# a comment\n"
		"daemon = { user = \"turnpike\"; group = \"turnpike\"; };\n"
		"log = { level = \"debug\"; target = \"syslog\"; "
		"facility = \"local3\"; };\n"
		"listen = { udp = [ \"127.0.0.1:1\" ]; tcp = [ ]; };\n"
		"stun = { rfc3489 = true; };\n"
		"stream = { max_connections = 7; idle_timeout = 86400; "
		"max_buffer = 4096L; };\n"
		"turn = { users = [ \"alice:pw\", "
		"\"bob:0x0123456789abcdef0123456789ABCDEF\" ];\n"
		"  secrets = [ \"s1\", \"s2\" ]; realm = \"example.org\";\n"
		"  relay_ip = [ \"192.0.2.1\", \"2001:db8::1\" ];\n"
		"  external_ip = [ \"203.0.113.1\" ];\n"
		"  allowed_peers = [ \"127.0.0.1\", \"10.0.0.0/8\" ];\n"
		"  denied_peers = [ \"10.1.0.0/16\" ];\n"
		"  port_min = 50000; port_max = 50100; old_channels = true;\n"
		"};\n",
		err);
	CHECK(conf != NULL);
	if (conf == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_STR(conf->path, path);
	CHECK_STR(conf->user, "turnpike");
	CHECK_STR(conf->group, "turnpike");
	CHECK_INT(conf->log_level, LOG_LEVEL_DEBUG);
	CHECK_INT(conf->log_target, LOG_TARGET_SYSLOG);
	CHECK_INT(conf_syslog_facility(conf), LOG_LOCAL3);
	CHECK_INT(conf->listen_udp.n, 1);
	CHECK_INT(conf->listen_tcp.n, 0);
	CHECK(conf->stun_rfc3489);
	CHECK_INT(conf->stream_max_connections, 7);
	CHECK_INT(conf->stream_idle_timeout, 86400);
	CHECK_INT(conf->stream_max_buffer, 4096);
	CHECK(conf->turn_enable);
	CHECK_STR(conf->turn_realm, "example.org");
	CHECK_INT(conf->turn_users.n, 2);
	CHECK_STR(conf->turn_users.v[1],
		  "bob:0x0123456789abcdef0123456789ABCDEF");
	CHECK_INT(conf->turn_secrets.n, 2);
	CHECK_INT(conf->turn_relay_ip.n, 2);
	CHECK_INT(addr_port((struct sockaddr *)&conf->turn_relay_ip.addr[0]),
		  0);
	CHECK_INT(conf->turn_external_ip.n, 1);
	CHECK_INT(conf->turn_allowed_peers.n, 2);
	CHECK_INT(conf->turn_allowed_peers.v[0].prefix, 32);
	CHECK_INT(conf->turn_denied_peers.n, 1);
	CHECK_INT(conf->turn_port_min, 50000);
	CHECK(conf->turn_old_channels);
	conf_free(conf);

	/* An empty file is the defaults, and TURN wants credentials. */
	CHECK(load("", err) == NULL);
	conf = load("turn = { enable = false; };\n", err);
	CHECK(conf != NULL);
	conf_free(conf);
}

static void
test_errors(void)
{
	check_error("log = {\n  levle = \"info\";\n};\n", 2,
		    "unknown key \"log.levle\"");
	check_error("\n\nbogus = 1;\n", 3, "unknown key \"bogus\"");
	check_error("nothing = { level = 1; };\n", 1,
		    "unknown key \"nothing\"");
	check_error("log = \"info\";\n", 1, "unknown key \"log\"");
	check_error("stream = {\n\n  idle_timeout = 0;\n};\n", 3,
		    "stream.idle_timeout: 0 is out of range 1..86400");
	check_error("stream = { max_buffer = 99999999999L; };\n", 1,
		    "stream.max_buffer: 99999999999 is out of range "
		    "4096..16777216");
	check_error("stream = { idle_timeout = \"10\"; };\n", 1,
		    "stream.idle_timeout: expected an integer");
	check_error("stream = { idle_timeout = 1.5; };\n", 1,
		    "stream.idle_timeout: expected an integer");
	check_error("log = { level = \"loud\"; };\n", 1,
		    "log.level: \"loud\" is not one of error, warning, info, "
		    "debug");
	check_error("log = { level = 3; };\n", 1,
		    "log.level: expected a string");
	check_error("stun = { rfc3489 = 1; };\n", 1,
		    "stun.rfc3489: expected true or false");
	check_error("daemon = { user = true; };\n", 1,
		    "daemon.user: expected a string");
	check_error("listen = { udp = \"127.0.0.1:3478\"; };\n", 1,
		    "listen.udp: expected a list of \"ip:port\" strings");
	check_error("listen = { udp = [ 3478 ]; };\n", 1,
		    "listen.udp: expected a list of \"ip:port\" strings");
	check_error("listen = {\n udp = [ \"127.0.0.1\" ]; };\n", 2,
		    "listen.udp: \"127.0.0.1\" is not \"ip:port\" or "
		    "\"[ipv6]:port\"");
	check_error(
		"listen = { udp = [ \"127.0.0.1:1\", \"127.0.0.1:1\" ]; };\n",
		1, "listen.udp: \"127.0.0.1:1\" is listed twice");
	check_error(
		"listen = { udp = []; tcp = []; tls = []; };\n"
		"http = { listen = []; };\n",
		0,
		"listen.udp, listen.tcp, listen.tls and http.listen are all "
		"empty: nothing to serve");
	check_error("", 0,
		    "turn.users and turn.secrets are both empty: turnpike "
		    "has no unauthenticated TURN; set one of them, or "
		    "turn.enable = false for STUN only");
	check_error("turn = {\n users = [ \"alice\" ]; };\n", 2,
		    "turn.users: entry 1 is not \"name:password\" or "
		    "\"name:0xKEY\"");
	check_error("turn = {\n users = [ \"alice:\" ]; };\n", 2,
		    "turn.users: entry 1 is not \"name:password\" or "
		    "\"name:0xKEY\"");
	check_error("turn = {\n users = [ \"a:x\", \"a:y\" ]; };\n", 2,
		    "turn.users: user \"a\" is listed twice");
	check_error("turn = {\n users = [ \"a:0x12\" ]; };\n", 2,
		    "turn.users: user \"a\": a key is \"0x\" and 32 hex "
		    "digits");
	check_error("turn = { secrets = [ \"\" ]; };\n", 1,
		    "turn.secrets: secret 1 is empty");
	check_error("turn = { secrets = [ \"s\" ];\n"
		    " allowed_peers = [ \"10.1.1.1/8\" ]; };\n",
		    2,
		    "turn.allowed_peers: \"10.1.1.1/8\": host bits set (the "
		    "network is 10.0.0.0/8)");
	check_error("turn = { secrets = [ \"s\" ];\n"
		    " relay_ip = [ \"1.2.3.4:5\" ]; };\n",
		    2, "turn.relay_ip: \"1.2.3.4:5\" is not an IP address");
	check_error("turn = { secrets = [ \"s\" ]; port_min = 60000; "
		    "port_max = 50000; };\n",
		    0, "turn.port_min 60000 is above turn.port_max 50000");
	check_error("turn = { secrets = [ \"s\" ]; default_lifetime = 700; "
		    "max_lifetime = 600; };\n",
		    0,
		    "turn.default_lifetime 700 is above turn.max_lifetime 600");
	check_error("turn = { secrets = [ \"s\" ];\n"
		    " relay_ip = [ \"192.0.2.1\", \"192.0.2.2\" ]; };\n",
		    0,
		    "turn.relay_ip and turn.external_ip take at most one IPv4 "
		    "and one IPv6 address");
	/* libconfig's own syntax errors keep its wording and line. */
	check_error("log = {\n level = ;\n};\n", 2, "syntax error");
}

static void
test_missing_file(void)
{
	char err[CONF_ERRLEN];

	CHECK(conf_load("/nonexistent/turnpike.conf", err, sizeof(err)) ==
	      NULL);
	CHECK_STR(err, "/nonexistent/turnpike.conf:0: cannot open: No such "
		       "file or directory");
}

static int reported;

static void
report_cb(const char *key, void *arg)
{
	reported++;
	CHECK(key != NULL);
}

static void
test_carry(void)
{
	char err[CONF_ERRLEN];
	struct conf *old, *new;

	old = load("turn = { enable = false; };\n"
		   "daemon = { user = \"a\"; };\n"
		   "listen = { udp = [ \"127.0.0.1:1\" ]; };\n"
		   "log = { level = \"info\"; };\n",
		   err);
	new = load("turn = { enable = false; };\n"
		   "daemon = { user = \"b\"; };\n"
		   "listen = { udp = [ \"127.0.0.1:2\" ]; };\n"
		   "log = { level = \"debug\"; };\n",
		   err);
	CHECK(old != NULL && new != NULL);
	if (old == NULL || new == NULL)
		return;
	/* listen.udp and daemon.user need a restart; log.level does not. */
	CHECK_INT(conf_carry_restart_keys(new, old, report_cb, NULL), 2);
	CHECK_INT(reported, 2);
	CHECK_STR(new->user, "a");
	CHECK_STR(old->user, "b");
	CHECK_INT(addr_port((struct sockaddr *)&new->listen_udp.addr[0]), 1);
	CHECK_INT(new->log_level, LOG_LEVEL_DEBUG);
	conf_free(old);
	conf_free(new);
}

static void
test_print_roundtrip(void)
{
	char err[CONF_ERRLEN], *text = NULL;
	size_t len = 0;
	struct conf *conf, *again;
	FILE *mem;

	conf = load("turn = { secrets = [ \"s\" ]; };\n"
		    "daemon = { user = \"with \\\"quote\\\"\"; };\n"
		    "listen = { udp = [ \"[::1]:9\", \"127.0.0.1:9\" ]; "
		    "tcp = [ ]; };\n",
		    err);
	CHECK(conf != NULL);
	if (conf == NULL)
		return;
	mem = open_memstream(&text, &len);
	conf_print(mem, conf);
	fclose(mem);
	again = load(text, err);
	CHECK(again != NULL);
	if (again != NULL) {
		CHECK_STR(again->user, "with \"quote\"");
		CHECK_INT(again->listen_udp.n, 2);
		CHECK_INT(again->listen_tcp.n, 0);
		CHECK_INT(conf_carry_restart_keys(again, conf, report_cb, NULL),
			  0);
	}
	conf_free(again);
	conf_free(conf);
	free(text);
}

int
main(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_conf.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return 99;
	close(fd);
	test_defaults();
	test_values();
	test_errors();
	test_missing_file();
	test_carry();
	test_print_roundtrip();
	unlink(path);
	return unit_done("test_conf");
}
