#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The systemd unit, systemd/turnpike.service.in, and the daemon in it.

The unit is rendered as the Makefile renders it (sed on @sbindir@ and
@sysconfdir@), then checked by systemd's own tools, offline:
"systemd-analyze verify" when it works without a running systemd, and
"systemd-analyze security --offline=true", whose exposure score must stay
at or below MAX_EXPOSURE, with each sandboxing setting it still marks as
exposed explained in ACCEPTED_EXPOSURE.

Then the real daemon is run under strace as an unprivileged user, as the
unit runs it, through STUN, TURN, TCP, HTTP, WebSocket signaling, a
reload, sd_notify and the watchdog; every system call it makes must be
one the unit's SystemCallFilter= allows (as systemd-analyze lists the
sets), every socket of a family RestrictAddressFamilies= allows, no
mapping both writable and executable (MemoryDenyWriteExecute=), no file
opened for writing (ProtectSystem=strict) and nothing of /proc but the
process's own (ProcSubset=pid).

Without systemd-analyze (Debian package systemd) the file is skipped
(exit 77), and without strace the run under strace; unless $CI is set:
CI must have both.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
import wsclient as wc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = tp.SRCDIR or os.path.dirname(os.path.dirname(HERE))
UNIT_IN = os.path.join(SRCDIR, "systemd", "turnpike.service.in")

# The highest overall exposure "systemd-analyze security" may give the
# unit (0 is the best, 10 the worst; 2.0 and below it calls "OK").
MAX_EXPOSURE = 2.0

# The settings systemd-analyze still marks as exposed, and why they stay.
# Any other one marked is a regression of the unit.
ACCEPTED_EXPOSURE = {
    # A TURN server relays to the internet, from ports across a range.
    "PrivateNetwork=": "the relay must reach peers on any network",
    "IPAddressDeny=": "peers may be at any address; the peer policy "
                      "(turn.allowed_peers, turn.denied_peers) judges them",
    "RestrictAddressFamilies=~AF_(INET|INET6)": "STUN and TURN are IP",
    "RestrictAddressFamilies=~AF_UNIX": "sd_notify, the journal, syslog",
    "RestrictAddressFamilies=~AF_NETLINK": "getifaddrs(3), for the peer "
                                           "policy's own addresses",
    # Ports below 1024 (TLS on 443) need the one capability.
    "CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)":
        "CAP_NET_BIND_SERVICE for ports below 1024",
    "AmbientCapabilities=": "CAP_NET_BIND_SERVICE for ports below 1024",
    "PrivateUsers=": "a user namespace would void CAP_NET_BIND_SERVICE "
                     "for the host's network",
    # Consequences of the rest.
    "DeviceAllow=": "ProtectClock= leaves /dev/rtc readable",
    "RootDirectory=/RootImage=": "the daemon runs from the host's /usr",
}

# The socket(2) families RestrictAddressFamilies= allows.
ALLOWED_FAMILIES = {"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"}

CI = bool(os.environ.get("CI"))


def need(tool, package):
    """The path of tool; skips the test without it, fails under CI."""
    path = shutil.which(tool)
    if path is None:
        if CI:
            raise AssertionError("%s is not installed (Debian package %s): "
                                 "CI must have it" % (tool, package))
        raise unittest.SkipTest("%s is not installed (Debian package %s)"
                                % (tool, package))
    return path


def setUpModule():
    """Without systemd-analyze the whole file is skipped (exit 77), but
    under CI, which must have it."""
    need("systemd-analyze", "systemd")


def render(sbindir, sysconfdir):
    """The unit as make writes it (the sed rule of Makefile.am)."""
    with open(UNIT_IN) as f:
        text = f.read()
    return text.replace("@sbindir@", sbindir).replace("@sysconfdir@",
                                                      sysconfdir)


def analyze(*args, timeout_s=60):
    """Run systemd-analyze with args; returns CompletedProcess."""
    return subprocess.run([need("systemd-analyze", "systemd")] + list(args),
                          capture_output=True, text=True,
                          timeout=tp.timeout(timeout_s),
                          stdin=subprocess.DEVNULL)


def unit_settings(text):
    """{key: [values]} of the unit's [Service] section."""
    out = {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            k, _, v = line.partition("=")
            out.setdefault(k.strip(), []).append(v.strip())
    return out


class Unit(unittest.TestCase):
    """The unit file, as systemd's own tools judge it."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tp-unit-")
        # The daemon's real directory, so that verify finds ExecStart's
        # binary; the config path need not exist.
        cls.sbindir = os.path.dirname(tp.TURNPIKED)
        cls.text = render(cls.sbindir, "/etc")
        cls.path = os.path.join(cls.dir, "turnpike.service")
        with open(cls.path, "w") as f:
            f.write(cls.text)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_rendered(self):
        """Every placeholder is filled, and the commands are the
        daemon's."""
        self.assertNotRegex(self.text, r"@[a-z_]+@")
        s = unit_settings(self.text)
        daemon = os.path.join(self.sbindir, "turnpiked")
        self.assertEqual(s["ExecStart"],
                         ["%s -c /etc/turnpike/turnpike.conf" % daemon])
        self.assertEqual(s["ExecStartPre"],
                         ["%s -t -c /etc/turnpike/turnpike.conf" % daemon])
        self.assertEqual(s["ExecReload"], ["/bin/kill -HUP $MAINPID"])
        self.assertEqual(s["Type"], ["notify"])

    def test_never_root(self):
        """The daemon is started as its own user, not as root (nor
        nobody), and keeps one capability at most."""
        s = unit_settings(self.text)
        self.assertEqual(s.get("User"), ["turnpike"])
        self.assertEqual(s.get("Group"), ["turnpike"])
        self.assertEqual(s.get("CapabilityBoundingSet"),
                         ["CAP_NET_BIND_SERVICE"])
        self.assertEqual(s.get("NoNewPrivileges"), ["yes"])

    def test_verify(self):
        """systemd-analyze verify finds nothing to say, when it works
        without a running systemd at all (checked on a trivial unit)."""
        trivial = os.path.join(self.dir, "tp-trivial.service")
        with open(trivial, "w") as f:
            f.write("[Unit]\nDescription=x\n[Service]\nType=oneshot\n"
                    "ExecStart=/bin/true\n")
        probe = analyze("verify", "--man=no", trivial)
        if probe.returncode != 0 or probe.stderr.strip():
            raise unittest.SkipTest("systemd-analyze verify does not work "
                                    "offline here: %s"
                                    % (probe.stderr.strip() or
                                       probe.returncode))
        r = analyze("verify", "--man=no", self.path)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""),
                         "systemd-analyze verify complains")

    def test_security(self):
        """systemd-analyze security scores the unit at most MAX_EXPOSURE,
        and marks nothing exposed that ACCEPTED_EXPOSURE does not
        explain."""
        r = analyze("security", "--offline=true", "--no-pager", self.path)
        out = r.stdout + r.stderr
        m = re.search(r"Overall exposure level for turnpike\.service: "
                      r"(\d+\.\d+)", out)
        self.assertIsNotNone(m, "no exposure level in:\n%s" % out)
        score = float(m.group(1))
        print("\nsystemd-analyze security --offline=true: exposure %.1f "
              "(at most %.1f)" % (score, MAX_EXPOSURE), file=sys.stderr)
        exposed = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("\u2717"):  # ✗
                name = line[1:].split()[0]
                if name not in ACCEPTED_EXPOSURE:
                    exposed.append(line)
        self.assertLessEqual(score, MAX_EXPOSURE, out)
        self.assertEqual(exposed, [], "exposed beyond the accepted list:"
                         "\n%s" % out)


# -- the daemon under the unit's sandbox -------------------------------

def syscall_sets():
    """{"@name": set of syscalls and "@subsets"} as systemd-analyze
    syscall-filter lists them."""
    r = analyze("syscall-filter")
    sets, current = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("@"):
            current = sets.setdefault(line.strip(), set())
        elif current is not None and line.strip() and \
                not line.strip().startswith("#"):
            current.add(line.strip())
    if "@system-service" not in sets:
        raise tp.HarnessError("systemd-analyze syscall-filter lists no "
                              "@system-service:\n%s" % r.stdout[:2000])
    return sets


def expand(sets, name, seen=None):
    """The system calls of a set, its subsets expanded."""
    seen = set() if seen is None else seen
    if name in seen:
        return set()
    seen.add(name)
    out = set()
    for item in sets.get(name, ()):
        out |= expand(sets, item, seen) if item.startswith("@") else {item}
    return out


def allowed_syscalls(unit_text):
    """What the unit's SystemCallFilter= lines allow: the first, an allow
    list, with @default as systemd adds it, less each ~ list after."""
    sets = syscall_sets()
    allowed = expand(sets, "@default")
    for value in unit_settings(unit_text).get("SystemCallFilter", []):
        deny = value.startswith("~")
        names = set()
        for item in value.lstrip("~").split():
            names |= expand(sets, item) if item.startswith("@") else {item}
        if deny:
            allowed -= names
        else:
            allowed |= names
    return allowed


STRACE_CALL = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]")


class Sandbox(unittest.TestCase):
    """The daemon does nothing the unit's sandbox forbids."""

    @tp.skip_if_wrapped("the trace would be the wrapper's system calls")
    def test_syscalls_fit_the_filter(self):
        strace = need("strace", "strace")
        unit_text = render("/usr/sbin", "/etc")
        allowed = allowed_syscalls(unit_text)
        nobody = tp.nobody_ids()
        if nobody is None or os.geteuid() != 0:
            raise unittest.SkipTest("needs root and user nobody to run the "
                                    "daemon as another user")
        with open(tp.TURNPIKED, "rb") as f:
            if re.search(rb"__asan_init|__ubsan_handle|__tsan_init",
                         f.read()):
                raise unittest.SkipTest("a sanitizer build: its runtime "
                                        "makes system calls of its own "
                                        "and cannot run under strace")
        setpriv = need("setpriv", "util-linux")
        tmp = tempfile.mkdtemp(prefix="tp-strace-")
        self.addCleanup(shutil.rmtree, tmp, True)
        trace = os.path.join(tmp, "strace.out")
        # The daemon's sd_notify socket, to which nobody may send.
        notify_path = os.path.join(tmp, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(notify.close)
        notify.bind(notify_path)
        os.chmod(tmp, 0o711)
        os.chmod(notify_path, 0o777)
        # As under User=: not root from the start, so the daemon switches
        # no user (daemon.user is ignored).  strace -D: the tracer runs as
        # a grandchild, so that the process the harness started, signals
        # and stops is the daemon itself.
        wrapper = [strace, "-D", "-f", "-qq", "-o", trace, setpriv,
                   "--reuid=%d" % nobody[0], "--regid=%d" % nobody[1],
                   "--clear-groups", "--"]
        self.tcp_port = tp.free_port()
        conf = {"daemon": {"user": "nobody"},
                "listen": {"tcp": ["127.0.0.1:%d" % self.tcp_port]},
                "turn": wc.turn_on(users=["alice:alice-pw"],
                                   allowed_peers=["127.0.0.1"])}
        d = wc.HttpDaemon(conf, wrapper=wrapper,
                          env={"NOTIFY_SOCKET": notify_path,
                               "WATCHDOG_USEC": "400000"})
        with d:
            self.exercise(d)
            d.signal(signal.SIGHUP)
            d.wait_log(r"^configuration reloaded", timeout_s=10)
            self.exercise(d)
            time.sleep(0.5)  # a watchdog ping or two
        d.check_log(wc.ALLOWED_LOG + [r"^configuration reloaded from "])
        got = []
        while True:
            try:
                notify.setblocking(False)
                got.append(notify.recv(4096).decode())
            except BlockingIOError:
                break
        if "systemd" in tp.run(["-V"]).stdout:  # built with sd_notify
            self.assertIn("READY=1", " ".join(got))
            self.assertIn("WATCHDOG=1", " ".join(got))
        # The tracer writes its last lines as the daemon exits.
        deadline = time.monotonic() + tp.timeout(5)
        while time.monotonic() < deadline:
            with open(trace) as f:
                if re.search(r"^\d+\s+exit_group\(", f.read(), re.M):
                    break
            time.sleep(0.05)
        self.check_trace(trace, allowed)

    def exercise(self, d):
        """A little of everything the daemon serves."""
        server = d.addr()
        s = sc.udp_socket("127.0.0.1")
        self.addCleanup(s.close)
        self.assertIsNotNone(sc.udp_transaction(
            s, server, sc.binding_request(), timeout=tp.timeout(5)))
        with socket.create_connection(("127.0.0.1", self.tcp_port),
                                      timeout=tp.timeout(5)) as t:
            t.sendall(sc.binding_request())
            self.assertIsNotNone(sc.StreamReader(t).read_message(
                tp.timeout(5)))
        c = tc.Client(server, "alice", "alice-pw", timeout=tp.timeout(5))
        self.addCleanup(c.close)
        self.assertEqual(c.allocate().cls, sc.SUCCESS)
        peer = tc.Peer()
        self.addCleanup(peer.close)
        self.assertEqual(c.channel_bind(0x4000, peer.addr).cls, sc.SUCCESS)
        c.send_channel(0x4000, b"to the peer")
        got = peer.recv(tp.timeout(5))
        self.assertIsNotNone(got)
        peer.sendto(b"to the client", got[1])
        self.assertIsNotNone(c.recv_relayed(tp.timeout(5)))
        self.assertEqual(c.refresh(0).cls, sc.SUCCESS)
        self.assertEqual(wc.http_request(d, "/healthz").status, 200)
        self.assertEqual(wc.http_request(d, "/metrics").status, 200)
        self.assertEqual(wc.http_request(d, "/api/ice-servers").status, 200)
        ws = wc.RawWebSocket.connect(d)
        self.addCleanup(ws.close)
        ws.send_json({"type": "join", "room": "sandbox"})
        self.assertEqual(ws.recv_json(timeout_s=5)["type"], "welcome")
        ws.send_close()
        ws.expect_close()

    def check_trace(self, path, allowed):
        """The daemon's part of the trace (after its execve) keeps to the
        sandbox."""
        with open(path) as f:
            lines = f.read().splitlines()
        start = next((i for i, l in enumerate(lines)
                      if re.match(r"^\d+\s+execve\(\"[^\"]*turnpiked\"", l)),
                     None)
        self.assertIsNotNone(start, "no execve of turnpiked in the trace")
        calls, problems = set(), []
        for line in lines[start + 1:]:
            m = STRACE_CALL.match(line)
            if not m:
                continue
            name = m.group(2)
            calls.add(name)
            if name == "socket":
                fam = re.search(r"socket\((AF_\w+|\d+)", line)
                if fam and fam.group(1) not in ALLOWED_FAMILIES:
                    problems.append("socket family: " + line)
            if name in ("mmap", "mprotect", "pkey_mprotect") and \
                    "PROT_WRITE" in line and "PROT_EXEC" in line:
                problems.append("writable and executable: " + line)
            if name in ("open", "openat", "openat2", "creat"):
                fm = re.search(r'"([^"]*)"', line)
                fname = fm.group(1) if fm else ""
                if re.search(r"O_WRONLY|O_RDWR|O_CREAT", line) and \
                        not fname.startswith("/dev/"):
                    problems.append("opened for writing: " + line)
                if fname.startswith("/proc/") and not re.match(
                        r"^/proc/(self|thread-self|\d+)(/|$)", fname):
                    problems.append("/proc beyond the process: " + line)
        outside = sorted(calls - allowed)
        print("\n%d distinct system calls, %d outside the unit's filter"
              % (len(calls), len(outside)), file=sys.stderr)
        self.assertEqual(outside, [], "system calls the unit's "
                         "SystemCallFilter= refuses (EPERM)")
        self.assertEqual(problems, [])


if __name__ == "__main__":
    tp.main()
