#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""turnpiked as a process: signals, reload, start-up failures, systemd
notification and watchdog, privilege drop, and how it logs.
"""

import grp
import os
import pwd
import re
import select
import shutil
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402

RELOADED = r"^configuration reloaded from %s$"
TCP_CLOSING = r"^tcp \S+: closing: input that cannot be framed$"


def with_systemd():
    """Whether turnpiked was built with libsystemd (see -V)."""
    try:
        return "systemd" in tp.run(["-V"]).stdout
    except tp.HarnessError:
        return False


SYSTEMD = with_systemd()


def udp_binding(daemon, host="127.0.0.1", port=None, timeout_s=2):
    """The answer to one Binding request over UDP, or None."""
    with sc.udp_socket(host) as s:
        req = sc.binding_request()
        data = sc.udp_transaction(s, (host, port or daemon.port), req,
                                  tp.timeout(timeout_s))
    if data is None:
        return None
    ans = sc.parse(data)
    return ans if ans.tid == req[8:20] else None


def tcp_binding(daemon, host="127.0.0.1"):
    """The answer to one Binding request over TCP, or None."""
    with sc.tcp_connect((host, daemon.port), tp.timeout(2)) as s:
        req = sc.binding_request()
        s.sendall(req)
        data = sc.StreamReader(s).read_message(tp.timeout(2))
    return sc.parse(data) if data else None


def tcp_garbage(daemon):
    """Make the daemon close a TCP connection for garbage: a debug line."""
    with sc.tcp_connect(daemon.addr()) as s:
        s.sendall(b"\xff" * 8)
        s.settimeout(tp.timeout(2))
        try:
            while s.recv(4096):
                pass
        except (ConnectionResetError, socket.timeout):
            pass


class DaemonCase(unittest.TestCase):

    def assert_serving(self, daemon):
        """The daemon answers Binding over UDP and TCP."""
        self.assertIsNotNone(udp_binding(daemon), "no UDP answer")
        self.assertIsNotNone(tcp_binding(daemon), "no TCP answer")


class Signals(DaemonCase):
    """SIGTERM and SIGINT stop the daemon cleanly; SIGHUP does not."""

    def check_stop(self, sig, name):
        with tp.Daemon() as d:
            self.assert_serving(d)
            self.assertEqual(d.stop(sig), 0)
        msgs = [m for _, m in d.check_log()]
        self.assertEqual(msgs[-2:], ["%s received, stopping" % name,
                                     "stopped"])

    def test_sigterm(self):
        """SIGTERM: "SIGTERM received, stopping", "stopped", exit 0."""
        self.check_stop(signal.SIGTERM, "SIGTERM")

    def test_sigint(self):
        """SIGINT: "SIGINT received, stopping", "stopped", exit 0."""
        self.check_stop(signal.SIGINT, "SIGINT")

    def test_stop_with_open_connections(self):
        """Stopping with TCP connections open is still a clean exit 0."""
        with tp.Daemon() as d:
            conns = [sc.tcp_connect(d.addr()) for _ in range(5)]
            conns[0].sendall(sc.binding_request()[:7])
            self.assertEqual(d.stop(), 0)
            for c in conns:
                c.close()
        d.check_log()

    def test_sighup_storm(self):
        """Twenty SIGHUPs in a row: twenty reloads, and still serving."""
        with tp.Daemon() as d:
            for _ in range(20):
                d.signal(signal.SIGHUP)
                time.sleep(0.005)
            deadline = time.monotonic() + tp.timeout(3)
            while (len(d.find_log(RELOADED % re.escape(d.conf_path)))
                   < 20 and time.monotonic() < deadline):
                time.sleep(0.02)
            self.assert_serving(d)
        # Signals may merge while one is handled, never get lost wholesale.
        reloads = d.find_log(RELOADED % re.escape(d.conf_path))
        self.assertGreaterEqual(len(reloads), 1)
        self.assertLessEqual(len(reloads), 20)
        d.check_log([RELOADED % re.escape(d.conf_path)])


class Reload(DaemonCase):
    """SIGHUP reads the file again; a bad file keeps the running config."""

    def test_log_level(self):
        """log.level = "debug" by reload: debug lines appear afterwards."""
        with tp.Daemon() as d:
            tcp_garbage(d)
            time.sleep(0.1)
            self.assertEqual(d.find_log(TCP_CLOSING), [],
                             "a debug line at log.level info")
            d.write_conf({"log": {"level": "debug"}})
            mark = d.mark()
            d.signal(signal.SIGHUP)
            d.wait_log(RELOADED % re.escape(d.conf_path), since=mark,
                       level="info")
            tcp_garbage(d)
            d.wait_log(TCP_CLOSING, since=mark, level="debug")
            # And back to info: no more debug lines.
            d.write_conf({"log": {"level": "info"}})
            mark = d.mark()
            d.signal(signal.SIGHUP)
            d.wait_log(RELOADED % re.escape(d.conf_path), since=mark)
            mark = d.mark()
            tcp_garbage(d)
            self.assert_serving(d)
            self.assertEqual(d.find_log(TCP_CLOSING, since=mark), [])
        d.check_log([RELOADED % re.escape(d.conf_path)])

    def check_bad_reload(self, text, message):
        with tp.Daemon() as d:
            tp.write_file(d.conf_path, text)
            mark = d.mark()
            d.signal(signal.SIGHUP)
            err = ("reload failed, keeping the running configuration: "
                   "%s:%s" % (d.conf_path, message))
            got = d.wait_log("^reload failed", since=mark, level="error")
            self.assertEqual(got, err)
            self.assertTrue(d.alive())
            self.assert_serving(d)
            # Fixed again, the next SIGHUP works.
            d.write_conf()
            d.signal(signal.SIGHUP)
            d.wait_log(RELOADED % re.escape(d.conf_path), since=mark)
            self.assert_serving(d)
        d.check_log(["^" + re.escape(err) + "$",
                     RELOADED % re.escape(d.conf_path)])

    def test_syntax_error(self):
        """A syntax error in the new file: error with file:line, still
        serving on the running config."""
        self.check_bad_reload("# broken\nlog = { level = ; };\n",
                              "2: syntax error")

    def test_unknown_key(self):
        self.check_bad_reload('log = {\n  levle = "debug";\n};\n',
                              '2: unknown key "log.levle"')

    def test_file_removed(self):
        """The config file gone: error, still serving."""
        with tp.Daemon() as d:
            os.rename(d.conf_path, d.conf_path + ".away")
            d.signal(signal.SIGHUP)
            got = d.wait_log("^reload failed", level="error")
            self.assertEqual(got, "reload failed, keeping the running "
                             "configuration: %s:0: cannot open: No such "
                             "file or directory" % d.conf_path)
            self.assert_serving(d)
            os.rename(d.conf_path + ".away", d.conf_path)
        d.check_log(["^reload failed, keeping the running configuration: "])

    def test_listen_change_needs_restart(self):
        """Changed listen.udp: a warning; the old port still answers and
        the new one is not opened."""
        with tp.Daemon() as d:
            new_port = tp.free_port()
            conf = d.default_conf()
            conf["listen"]["udp"] = ["127.0.0.1:%d" % new_port]
            tp.write_file(d.conf_path, tp.render_conf(conf))
            d.signal(signal.SIGHUP)
            d.wait_log(RELOADED % re.escape(d.conf_path))
            self.assertEqual(
                d.find_log("^reload: ", level="warning"),
                ["reload: listen.udp changed; it takes effect after a "
                 "restart"])
            self.assert_serving(d)
            self.assertIsNone(udp_binding(d, port=new_port, timeout_s=0.3))
        d.check_log([r"^reload: listen\.udp changed; it takes effect after "
                     r"a restart$", RELOADED % re.escape(d.conf_path)])

    def test_user_change_needs_restart(self):
        """Changed daemon.user: the same restart warning for that key."""
        with tp.Daemon() as d:
            d.write_conf({"daemon": {"user": "tp-someone-else"}})
            d.signal(signal.SIGHUP)
            d.wait_log(RELOADED % re.escape(d.conf_path))
            self.assert_serving(d)
        d.check_log([r"^reload: daemon\.user changed; it takes effect "
                     r"after a restart$", RELOADED % re.escape(d.conf_path)])
        self.assertEqual(len(d.find_log("^reload: ", level="warning")), 1)

    def test_stream_keys_apply(self):
        """stream.max_connections and stun.rfc3489 apply on reload."""
        with tp.Daemon() as d:
            self.assertIsNone(self.classic(d, timeout_s=0.3))
            d.write_conf({"stream": {"max_connections": 1},
                          "stun": {"rfc3489": True}})
            d.signal(signal.SIGHUP)
            d.wait_log(RELOADED % re.escape(d.conf_path))
            self.assertIsNotNone(self.classic(d), "stun.rfc3489 not applied")
            with sc.tcp_connect(d.addr()) as first:
                first.sendall(sc.binding_request())
                self.assertIsNotNone(
                    sc.StreamReader(first).read_message(tp.timeout(2)))
                with sc.tcp_connect(d.addr()) as second:
                    second.sendall(sc.binding_request())
                    reader = sc.StreamReader(second)
                    self.assertIsNone(reader.read_message(tp.timeout(2)))
                    self.assertTrue(reader.eof, "a second connection "
                                    "past max_connections = 1")
        d.check_log([RELOADED % re.escape(d.conf_path),
                     r"^tcp: 1 connections open, the limit",
                     r"^tcp: below the connection limit again$"])

    @staticmethod
    def classic(d, timeout_s=2):
        with sc.udp_socket("127.0.0.1") as s:
            req = sc.classic_binding_request()
            s.sendto(req, d.addr())
            return sc.recv_datagram(s, tp.timeout(timeout_s))


class StartupFailures(DaemonCase):
    """What the daemon says, and how it exits, when it cannot start."""

    def check_cannot_listen(self, kind):
        port = tp.free_port()
        family_type = socket.SOCK_DGRAM if kind == "udp" else \
            socket.SOCK_STREAM
        with socket.socket(socket.AF_INET, family_type) as holder:
            holder.bind(("127.0.0.1", port))
            if kind == "tcp":
                holder.listen(1)
            d = tp.Daemon(port=port, ready=False)
            with d:
                rc = d.wait_exit()
        self.assertNotEqual(rc, 0)
        self.assertEqual(rc, 1)
        self.assertEqual(
            d.find_log("^cannot listen", level="warning"),
            ["cannot listen on %s 127.0.0.1:%d: Address already in use"
             % (kind, port)])
        self.assertEqual(d.find_log("^cannot open", level="error"),
                         ["cannot open the %s listeners" % kind])
        self.assertEqual(d.find_log(tp.READY.pattern), [])

    def test_udp_port_taken(self):
        """A UDP port held by someone else: exit 1, the reason logged."""
        self.check_cannot_listen("udp")

    def test_tcp_port_taken(self):
        """A TCP port held by someone else: exit 1, the reason logged."""
        self.check_cannot_listen("tcp")

    @unittest.skipUnless(os.geteuid() == 0, "privileges are only dropped "
                         "when started as root")
    def test_unknown_user(self):
        """A daemon.user that does not exist stops the start as root."""
        d = tp.Daemon({"daemon": {"user": "tp-no-such-user"}}, ready=False)
        with d:
            self.assertEqual(d.wait_exit(), 1)
        self.assertEqual(d.find_log("daemon.user", level="error"),
                         ['daemon.user "tp-no-such-user" does not exist; '
                          'create it or set daemon.user'])

    @unittest.skipUnless(os.geteuid() == 0, "privileges are only dropped "
                         "when started as root")
    def test_unknown_group(self):
        d = tp.Daemon({"daemon": {"user": "nobody",
                                  "group": "tp-no-such-group"}}, ready=False)
        with d:
            self.assertEqual(d.wait_exit(), 1)
        self.assertEqual(d.find_log("daemon.group", level="error"),
                         ['daemon.group "tp-no-such-group" does not exist'])


class Privileges(DaemonCase):
    """Started as root, the daemon becomes daemon.user after binding."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("not root: privileges cannot be dropped")
        try:
            self.nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")

    def check_ids(self, d, uid, gid):
        status = tp.read_status(d.pid)
        self.assertEqual(status["Uid"].split(), [str(uid)] * 4)
        self.assertEqual(status["Gid"].split(), [str(gid)] * 4)
        self.assertEqual(status["Groups"].split(), [str(gid)])

    def test_drop_to_nobody(self):
        """daemon.user = "nobody": real, effective, saved and filesystem
        ids are nobody's, the only group is nobody's, and it serves."""
        with tp.Daemon({"daemon": {"user": "nobody"}}) as d:
            self.check_ids(d, self.nobody.pw_uid, self.nobody.pw_gid)
            self.assert_serving(d)
        d.check_log()

    def test_drop_with_group(self):
        """daemon.group picks the group instead of the user's own."""
        group = None
        for name in ("nogroup", "daemon", "users"):
            try:
                group = grp.getgrnam(name)
                break
            except KeyError:
                continue
        if group is None:
            self.skipTest("no group to switch to")
        with tp.Daemon({"daemon": {"user": "nobody",
                                   "group": group.gr_name}}) as d:
            self.check_ids(d, self.nobody.pw_uid, group.gr_gid)
            self.assert_serving(d)
        d.check_log()

    def test_root_warning(self):
        """daemon.user = "" as root: it stays root and says so."""
        with tp.Daemon({"daemon": {"user": ""}}) as d:
            self.assertEqual(tp.read_status(d.pid)["Uid"].split()[0], "0")
            d.wait_log("^running as root: set daemon.user$",
                       level="warning")
        d.check_log(["^running as root: set daemon.user$"])


class NotifySocket:
    """A NOTIFY_SOCKET for the daemon's sd_notify() messages."""

    def __init__(self):
        self.dir = tp.make_tempdir("tp-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        # The daemon sends after dropping to nobody.
        os.chmod(self.path, 0o666)

    def receive(self, timeout_s=2):
        """The next message as a dict of its KEY=VALUE lines, or None."""
        r, _, _ = select.select([self.sock], [], [], tp.timeout(timeout_s))
        if not r:
            return None
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n") if line)

    def next_not_watchdog(self, timeout_s=2):
        """The next message that is not a plain WATCHDOG=1 ping."""
        deadline = time.monotonic() + tp.timeout(timeout_s)
        while True:
            msg = self.receive(max(0, deadline - time.monotonic()))
            if msg != {"WATCHDOG": "1"}:
                return msg

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(SYSTEMD, "turnpiked built without libsystemd")
class Notify(DaemonCase):
    """sd_notify(3): READY, RELOADING, STOPPING and the watchdog."""

    def setUp(self):
        self.notify = NotifySocket()
        self.addCleanup(self.notify.close)

    def daemon(self, conf=None, env=None, **kw):
        env = dict(env or {}, NOTIFY_SOCKET=self.notify.path)
        return tp.Daemon(conf, env=env, ready=False, **kw)

    def test_ready_reload_stop(self):
        """READY=1 once listening; RELOADING=1 then READY=1 on SIGHUP;
        STOPPING=1 on SIGTERM."""
        with self.daemon() as d:
            msg = self.notify.receive()
            self.assertEqual(msg, {"READY": "1", "STATUS": "serving"})
            # Ready means the listeners are bound: answer at once.
            self.assert_serving(d)
            self.assertTrue(d.find_log(tp.READY.pattern))

            before = time.monotonic_ns() // 1000
            d.signal(signal.SIGHUP)
            msg = self.notify.receive()
            after = time.monotonic_ns() // 1000
            self.assertEqual(msg.get("RELOADING"), "1", msg)
            # systemd 253+ wants CLOCK_MONOTONIC with RELOADING=1.
            self.assertTrue(before <= int(msg["MONOTONIC_USEC"]) <= after,
                            msg)
            msg = self.notify.receive()
            self.assertEqual(msg, {"READY": "1", "STATUS": "serving"})
            self.assert_serving(d)

            self.assertEqual(d.stop(), 0)
            msg = self.notify.receive()
            self.assertEqual(msg, {"STOPPING": "1"})
        d.check_log([RELOADED % re.escape(d.conf_path)])

    def test_failed_reload(self):
        """A failed reload still ends with READY=1, its STATUS saying that
        the previous configuration runs."""
        with self.daemon() as d:
            self.assertEqual(self.notify.receive().get("READY"), "1")
            tp.write_file(d.conf_path, "log = { level = ; };\n")
            d.signal(signal.SIGHUP)
            msgs = [self.notify.receive() for _ in range(2)]
            self.assertEqual(msgs[0].get("RELOADING"), "1", msgs)
            self.assertEqual(msgs[1].get("READY"), "1", msgs)
            self.assertIn("reload failed", msgs[1].get("STATUS", ""), msgs)
            self.assert_serving(d)
        d.check_log(["^reload failed, keeping the running configuration: "])

    def test_watchdog(self):
        """WATCHDOG_USEC=200000 for this pid: WATCHDOG=1 every ~50 ms, four
        times per interval."""
        wrapper = ["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"']
        with self.daemon({"log": {"level": "debug"}},
                         env={"WATCHDOG_USEC": "200000"},
                         wrapper=wrapper) as d:
            self.assertEqual(self.notify.receive().get("READY"), "1")
            self.assertEqual(d.find_log("^systemd watchdog"),
                             ["systemd watchdog: pinging every 50 ms"])
            pings = 0
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                msg = self.notify.receive(deadline - time.monotonic())
                if msg == {"WATCHDOG": "1"}:
                    pings += 1
            self.assertGreaterEqual(pings, 4)
            self.assertLessEqual(pings, 40)
            d.stop()
            self.assertEqual(self.notify.next_not_watchdog(),
                             {"STOPPING": "1"})
        d.check_log()

    def test_watchdog_for_another_pid(self):
        """WATCHDOG_PID naming another process: no watchdog pings."""
        with self.daemon({"log": {"level": "debug"}},
                         env={"WATCHDOG_USEC": "200000",
                              "WATCHDOG_PID": "1"}) as d:
            self.assertEqual(self.notify.receive().get("READY"), "1")
            self.assertIsNone(self.notify.receive(0.5))
            self.assertEqual(d.find_log("watchdog"), [])
        d.check_log()


class Logging(DaemonCase):
    """The log line format, and what -d, -v and JOURNAL_STREAM change."""

    def test_format(self):
        """Every line is "YYYY-MM-DDTHH:MM:SS.mmmZ level: text", in UTC."""
        with tp.Daemon() as d:
            pass
        lines = d.lines()
        self.assertTrue(lines)
        for line in lines:
            m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z "
                         r"(error|warning|info|debug): \S", line)
            self.assertIsNotNone(m, line)
            stamp = time.mktime(time.strptime(m.group(1),
                                              "%Y-%m-%dT%H:%M:%S"))
            # UTC: within a minute of now, read as UTC.
            self.assertLess(abs(stamp - time.mktime(time.gmtime())), 60)

    def test_journal_stream(self):
        """Under systemd (JOURNAL_STREAM is stderr's device:inode):
        "<6>info: text" lines, the journal adds the time."""
        with tp.Daemon(journal=True) as d:
            d.wait_log(tp.READY.pattern)
        for line in d.lines():
            self.assertRegex(line, r"^<6>info: \S")
        self.assertIn("<6>info: stopped", d.lines())

    def test_journal_stream_elsewhere(self):
        """A JOURNAL_STREAM naming another file than stderr (inherited,
        stderr redirected since) is ignored: timestamps as usual."""
        with tp.Daemon(env={"JOURNAL_STREAM": "8:12345"}) as d:
            d.wait_log(tp.READY.pattern)
        for line in d.lines():
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT")
        d.check_log()

    def test_journal_priorities(self):
        """Warnings are <4>, errors <3> under the journal."""
        with tp.Daemon(journal=True) as d:
            tp.write_file(d.conf_path, "log = { level = ; };\n")
            d.signal(signal.SIGHUP)
            d.wait_log("^reload failed", level="error")
        self.assertTrue(any(l.startswith("<3>error: reload failed")
                            for l in d.lines()), d.log())

    def test_d_overrides_syslog_target(self):
        """-d logs to stderr even when log.target says syslog."""
        with tp.Daemon({"log": {"target": "syslog"}}) as d:
            self.assert_serving(d)
        d.check_log()

    def test_v_overrides_level_and_survives_reload(self):
        """-v logs debug whatever log.level says, also after a reload."""
        with tp.Daemon({"log": {"level": "warning"}}, args=["-v"]) as d:
            tcp_garbage(d)
            d.wait_log(TCP_CLOSING, level="debug")
            d.signal(signal.SIGHUP)
            d.wait_log(RELOADED % re.escape(d.conf_path))
            mark = d.mark()
            tcp_garbage(d)
            d.wait_log(TCP_CLOSING, since=mark, level="debug")
        d.check_log([RELOADED % re.escape(d.conf_path)])

    def test_level_warning_is_quiet(self):
        """log.level = "warning": a normal run logs nothing at all."""
        d = tp.Daemon({"log": {"level": "warning"}}, ready=False)
        with d:
            deadline = time.monotonic() + tp.timeout(5)
            while udp_binding(d, timeout_s=0.1) is None:
                self.assertLess(time.monotonic(), deadline, "never served")
            self.assert_serving(d)
            self.assertEqual(d.stop(), 0)
        self.assertEqual(d.log(), "")


if __name__ == "__main__":
    tp.main()
