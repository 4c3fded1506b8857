#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""turnpiked's command line: -t, -t -v, -V, -h and bad usage.

Every config error must name the file and the line, exactly, so an
operator can go straight to it: these tests compare whole messages.
"""

import grp
import os
import pwd
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tp  # noqa: E402


class ConfigCheck(unittest.TestCase):
    """`turnpiked -t -c FILE`: "configuration OK" or "FILE:LINE: why"."""

    def setUp(self):
        self.dir = tp.make_tempdir("tp-cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, text, name="test.conf", base=True):
        """Write a config; base=True puts tp.base_conf() first (outside
        the groups the tests use, so that line numbers stay put)."""
        path = os.path.join(self.dir, name)
        if base:
            text = text + tp.render_conf(
                {g: k for g, k in tp.base_conf().items()
                 if not re.search(r"^%s\s*=" % g, text, re.MULTILINE)})
        tp.write_file(path, text)
        return path

    def check_ok(self, text):
        path = self.write(text)
        r = tp.run(["-t", "-c", path])
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, "configuration OK\n", ""))

    def check_error(self, text, message, line):
        """-t on text fails with exactly "PATH:LINE: message"."""
        path = self.write(text)
        r = tp.run(["-t", "-c", path])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr, "%s:%d: %s\n" % (path, line, message))

    def test_good_config(self):
        """A config setting every group is accepted."""
        self.check_ok('daemon = { user = ""; group = ""; };\n'
                      'log = { level = "debug"; target = "stderr";'
                      ' facility = "local3"; };\n'
                      'listen = { udp = [ "127.0.0.1:3478", "[::1]:3478" ];'
                      ' tcp = [ "0.0.0.0:3479" ]; };\n'
                      'stun = { rfc3489 = true; };\n'
                      'stream = { max_connections = 10; idle_timeout = 5;'
                      ' max_buffer = 4096; };\n')

    def test_http_checks(self):
        """-t checks the HTTPS pair goes together and can be read, the
        public host name, and that the credentials handed to browsers
        live no longer than our TURN accepts."""
        self.check_error('http = { listen = [ "127.0.0.1:1" ];'
                         ' tls_certificate = "/x.pem"; };\n',
                         "http.tls_certificate and http.tls_private_key "
                         "go together: set both or neither", 0)
        self.check_error('http = { listen = [ "127.0.0.1:1" ];'
                         ' public_host = "example.org:443"; };\n',
                         'http.public_host "example.org:443" is not a host '
                         'name or an IP address (no scheme, no port)', 0)
        self.check_ok('http = { listen = [ "127.0.0.1:1" ];'
                      ' public_host = "2001:db8::1"; };\n')
        self.check_error('http = { listen = [ "127.0.0.1:1" ]; };\n'
                         'turn = { enable = true; secrets = [ "s" ];'
                         ' rest_max_ttl = 3600; };\n',
                         "signaling.credential_ttl 86400 is above "
                         "turn.rest_max_ttl 3600: our own TURN would refuse "
                         "the credentials we hand out", 0)
        path = self.write('http = { listen = [ "127.0.0.1:1" ];'
                          ' tls_certificate = "/nonexistent/c.pem";'
                          ' tls_private_key = "/nonexistent/k.pem"; };\n')
        r = tp.run(["-t", "-c", path])
        self.assertEqual((r.returncode, r.stderr),
                         (1, "%s: http: cannot open /nonexistent/c.pem: No "
                          "such file or directory\n" % path))

    def test_ttl_needs_mint_token(self):
        """--ttl alone is a usage error."""
        path = self.write("", base=True)
        r = tp.run(["--ttl", "60", "-c", path])
        self.assertEqual(r.returncode, 2)

    def test_empty_config(self):
        """Every key has a default, but TURN has no unauthenticated mode:
        an empty file is refused until it names users or a secret."""
        path = self.write("", base=False)
        r = tp.run(["-t", "-c", path])
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", "%s:0: turn.users and turn.secrets are "
                          "both empty: turnpike has no unauthenticated "
                          "TURN; set one of them, or turn.enable = false "
                          "for STUN only\n" % path))
        path = self.write('turn = { secrets = [ "s" ]; };\n', base=False)
        r = tp.run(["-t", "-c", path])
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, "configuration OK\n", ""))

    def test_int64_literal(self):
        """An integer written as a 64-bit literal (5L) is still an integer."""
        self.check_ok("stream = { idle_timeout = 5L; };\n")

    def test_syntax_error(self):
        """libconfig's syntax error comes with the file and line."""
        self.check_error("log = { level = ; };\n", "syntax error", 1)

    def test_syntax_error_line(self):
        """The line of a syntax error is where the parser stopped."""
        self.check_error('# comment\nlog = {\n  level = "info";\n'
                         '  target = = "stderr";\n};\n', "syntax error", 4)

    def test_duplicate_setting(self):
        """A key given twice in a group is refused at the second one."""
        self.check_error('log = {\n  level = "info";\n'
                         '  level = "debug";\n};\n',
                         "duplicate setting name", 3)

    def test_unknown_key(self):
        """A misspelt key is named in full, with its line."""
        self.check_error('log = {\n  levle = "info";\n};\n',
                         'unknown key "log.levle"', 2)

    def test_unknown_group(self):
        """An unknown top-level setting is refused."""
        self.check_error("\nfoo = 1;\n", 'unknown key "foo"', 2)

    def test_unknown_subgroup(self):
        """A group inside a known group is not a key either."""
        self.check_error('log = { x = { level = "info"; }; };\n',
                         'unknown key "log.x"', 1)

    def test_group_as_value(self):
        """A known group name used as a plain setting is refused."""
        self.check_error('log = "info";\n', 'unknown key "log"', 1)

    def test_out_of_range(self):
        """An integer outside the key's bounds names value and bounds."""
        self.check_error("stream = {\n  max_connections = 5;\n"
                         "  idle_timeout = 0;\n};\n",
                         "stream.idle_timeout: 0 is out of range 1..86400", 3)

    def test_out_of_range_negative(self):
        self.check_error("stream = { idle_timeout = -1; };\n",
                         "stream.idle_timeout: -1 is out of range 1..86400", 1)

    def test_out_of_range_int64(self):
        """A 64-bit literal is range-checked without truncation."""
        self.check_error(
            "stream = { idle_timeout = 10000000000L; };\n",
            "stream.idle_timeout: 10000000000 is out of range 1..86400", 1)

    def test_max_buffer_minimum(self):
        """stream.max_buffer cannot be below one largest message."""
        self.check_error(
            "stream = {\n  max_buffer = 4095;\n};\n",
            "stream.max_buffer: 4095 is out of range 4096..16777216", 2)

    def test_max_connections_range(self):
        self.check_error(
            "stream = { max_connections = 0; };\n",
            "stream.max_connections: 0 is out of range 1..1000000", 1)

    def test_bad_enum(self):
        """An enum value not in the list is refused, listing the choices."""
        self.check_error(
            'log = {\n  level = "loud";\n};\n',
            'log.level: "loud" is not one of error, warning, info, debug', 2)

    def test_bad_enum_facility(self):
        self.check_error(
            'log = { facility = "local8"; };\n',
            'log.facility: "local8" is not one of daemon, user, local0, '
            "local1, local2, local3, local4, local5, local6, local7", 1)

    def test_wrong_type_bool(self):
        """A boolean key does not take 1."""
        self.check_error("stun = { rfc3489 = 1; };\n",
                         "stun.rfc3489: expected true or false", 1)

    def test_wrong_type_int(self):
        """An integer key does not take a string or a float."""
        self.check_error('stream = { idle_timeout = "5"; };\n',
                         "stream.idle_timeout: expected an integer", 1)
        self.check_error("stream = { idle_timeout = 1.5; };\n",
                         "stream.idle_timeout: expected an integer", 1)

    def test_wrong_type_string(self):
        self.check_error("daemon = { user = 5; };\n",
                         "daemon.user: expected a string", 1)
        self.check_error("log = { level = 3; };\n",
                         "log.level: expected a string", 1)

    def test_wrong_type_addrs(self):
        """Listen keys take a list of strings, nothing else."""
        msg = 'listen.udp: expected a list of "ip:port" strings'
        self.check_error('listen = { udp = "127.0.0.1:3478"; };\n', msg, 1)
        self.check_error('listen = { udp = ( "127.0.0.1:1", 5 ); };\n', msg, 1)
        self.check_error('listen = { udp = { a = "127.0.0.1:1"; }; };\n',
                         msg, 1)

    def test_bad_address_no_port(self):
        self.check_error(
            'listen = {\n  tcp = [ "127.0.0.1" ];\n};\n',
            'listen.tcp: "127.0.0.1" is not "ip:port" or "[ipv6]:port"', 2)

    def test_bad_address_port(self):
        self.check_error('listen = { udp = [ "127.0.0.1:0" ]; };\n',
                         'listen.udp: "127.0.0.1:0": port must be 1-65535', 1)
        self.check_error('listen = { udp = [ "[::1]:70000" ]; };\n',
                         'listen.udp: "[::1]:70000": port must be 1-65535', 1)

    def test_bad_address_host(self):
        """Only numeric addresses: a host name is a bad IPv4 address."""
        self.check_error(
            'listen = { udp = [ "localhost:3478" ]; };\n',
            'listen.udp: "localhost:3478": bad IPv4 address', 1)
        self.check_error(
            'listen = { udp = [ "300.1.1.1:3478" ]; };\n',
            'listen.udp: "300.1.1.1:3478": bad IPv4 address', 1)
        self.check_error(
            'listen = { udp = [ "[fe80::zz]:7" ]; };\n',
            'listen.udp: "[fe80::zz]:7": bad IPv6 address', 1)

    def test_bad_address_brackets(self):
        self.check_error('listen = { udp = [ "[::1:3478" ]; };\n',
                         'listen.udp: "[::1:3478" is not "[ipv6]:port"', 1)

    def test_address_listed_twice(self):
        self.check_error(
            'listen = { udp = [ "127.0.0.1:1", "127.0.0.1:1" ]; };\n',
            'listen.udp: "127.0.0.1:1" is listed twice', 1)

    def test_too_many_addresses(self):
        addrs = ", ".join('"127.0.0.1:%d"' % (1000 + i) for i in range(17))
        self.check_error("listen = { tcp = [ %s ]; };\n" % addrs,
                         "listen.tcp: more than 16 addresses", 1)

    def test_nothing_to_serve(self):
        """Empty listen lists are a whole-file error, reported at line 0."""
        self.check_error("listen = { udp = []; tcp = []; tls = []; };\n",
                         "listen.udp, listen.tcp, listen.tls and "
                         "http.listen are all empty: nothing to serve", 0)

    def test_error_in_included_file(self):
        """An error in an @include'd file names that file and its line.

        A relative @include is read from the working directory, as
        libconfig 1.5 does (the man page says to use absolute paths).
        """
        self.write("log = {\n  bogus = 1;\n};\n", "inc.conf", base=False)
        path = self.write('# main\n@include "inc.conf"\n')
        r = tp.run(["-t", "-c", path], cwd=self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r'^(%s/)?inc\.conf:2: unknown key '
                         r'"log\.bogus"\n$' % re.escape(self.dir))

    def test_relative_include(self):
        """A good relative @include is read from the working directory."""
        self.write('log = { level = "debug"; };\n', "inc.conf", base=False)
        path = self.write('@include "inc.conf"\n')
        r = tp.run(["-t", "-v", "-c", path], cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('level = "debug";', r.stdout)

    def test_absolute_include(self):
        """An absolute @include path is read as it is."""
        inc = self.write('log = { level = "debug"; };\n', "abs.conf",
                         base=False)
        path = self.write('@include "%s"\n' % inc)
        r = tp.run(["-t", "-v", "-c", path], cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('level = "debug";', r.stdout)

    def test_unknown_user(self):
        """-t checks that daemon.user exists (the message has no line)."""
        path = self.write('daemon = {\n  user = "tp-no-such-user";\n};\n')
        r = tp.run(["-t", "-c", path])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr, '%s: daemon.user "tp-no-such-user" does '
                         'not exist; create it or set daemon.user\n' % path)

    def test_unknown_group(self):
        """-t checks that daemon.group exists, when a user is set."""
        path = self.write('daemon = { user = "nobody";'
                          ' group = "tp-no-such-group"; };\n')
        r = tp.run(["-t", "-c", path])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, '%s: daemon.group "tp-no-such-group" '
                         'does not exist\n' % path)

    def test_missing_file(self):
        """A missing file says so, at line 0, with the reason."""
        path = os.path.join(self.dir, "absent.conf")
        r = tp.run(["-t", "-c", path])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr,
                         "%s:0: cannot open: No such file or directory\n"
                         % path)

    def test_directory_as_file(self):
        """A directory given as the config file is refused with line 0.

        The message is libconfig's "file I/O error": main.c's fopen()
        pre-check succeeds on a directory, so the errno reason ("Is a
        directory") that conf_load() gives for other open failures is not
        given here.  Only the exit status and the "DIR:0:" prefix are held
        to; see the report.
        """
        r = tp.run(["-t", "-c", self.dir])
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith("%s:0: " % self.dir), r.stderr)

    def test_errors_do_not_start_the_daemon(self):
        """Without -t, a bad config also exits 1 with the same message."""
        path = self.write('log = {\n  levle = "info";\n};\n')
        r = tp.run(["-d", "-c", path])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, '%s:2: unknown key "log.levle"\n' % path)


class ConfigDump(unittest.TestCase):
    """`turnpiked -t -v` prints the effective config, which is a config."""

    def setUp(self):
        self.dir = tp.make_tempdir("tp-cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def dump(self, text, name):
        path = os.path.join(self.dir, name)
        tp.write_file(path, text + tp.render_conf(
            {g: k for g, k in tp.base_conf().items()
             if not re.search(r"^%s\s*=" % g, text, re.MULTILINE)}))
        r = tp.run(["-t", "-v", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertTrue(r.stdout.endswith("\nconfiguration OK\n"), r.stdout)
        return r.stdout[: -len("configuration OK\n")]

    def test_round_trip(self):
        """The dump of a config, read back, gives the very same dump."""
        nobody = pwd.getpwnam("nobody")
        group = grp.getgrgid(nobody.pw_gid).gr_name
        first = self.dump(
            'daemon = { user = "nobody"; group = "%s"; };\n' % group +
            'log = { level = "warning"; target = "syslog";'
            ' facility = "local7"; };\n'
            'listen = { udp = [ "127.0.0.1:3478", "[::1]:5349" ];'
            ' tcp = []; };\n'
            'stun = { rfc3489 = true; };\n'
            'stream = { max_connections = 7; idle_timeout = 86400;'
            ' max_buffer = 16777216; };\n', "one.conf")
        for expected in ['user = "nobody";', 'group = "%s";' % group,
                         'level = "warning";', 'target = "syslog";',
                         'facility = "local7";',
                         'udp = [ "127.0.0.1:3478", "[::1]:5349" ];',
                         "tcp = [ ];", "rfc3489 = true;",
                         "max_connections = 7;", "idle_timeout = 86400;",
                         "max_buffer = 16777216;"]:
            self.assertIn(expected, first)
        second = self.dump(first, "two.conf")
        self.assertEqual(first, second)

    def test_defaults_round_trip(self):
        """The defaults dump reads back identically."""
        first = self.dump("", "empty.conf")
        self.assertIn('udp = [ "0.0.0.0:3478", "[::]:3478" ];', first)
        self.assertIn("idle_timeout = 30;", first)
        self.assertEqual(first, self.dump(first, "again.conf"))


class Usage(unittest.TestCase):
    """-V, -h and bad usage."""

    def test_version(self):
        """-V prints name, version and the libraries, and exits 0."""
        r = tp.run(["-V"])
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, "")
        m = re.fullmatch(r"turnpiked (\d+\.\d+\.\d+\S*) \(libevent [^,()]+, "
                         r"OpenSSL(, systemd)?\)\n", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        header = os.path.join(tp.BUILDDIR, "config.h")
        if tp.BUILDDIR and os.path.exists(header):
            with open(header) as f:
                want = re.search(r'#define PACKAGE_VERSION "([^"]*)"',
                                 f.read())
            if want:
                self.assertEqual(m.group(1), want.group(1))

    def test_help(self):
        """-h prints the usage on stdout, naming every option, exit 0."""
        r = tp.run(["-h"])
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, "")
        self.assertTrue(r.stdout.startswith("usage: turnpiked "), r.stdout)
        for opt in ("-c file", "-t", "-d", "-v", "-V", "-h"):
            self.assertIn("  %s " % opt, r.stdout)

    def test_bad_option(self):
        """An unknown option prints the usage on stderr and exits 2."""
        r = tp.run(["-x"])
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertIn("usage: turnpiked ", r.stderr)

    def test_missing_option_argument(self):
        r = tp.run(["-c"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: turnpiked ", r.stderr)

    def test_extra_operand(self):
        """Operands are not accepted either."""
        r = tp.run(["-t", "extra"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: turnpiked ", r.stderr)


if __name__ == "__main__":
    tp.main()
