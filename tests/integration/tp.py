# SPDX-License-Identifier: BSD-2-Clause
"""Shared harness for turnpiked's integration tests.

It finds the daemon under test ($TURNPIKED), picks ports nobody else is
using, writes a temporary config, starts the daemon with its log captured
to a file, waits for it to be ready, and stops it again, failing loudly if
it crashed or wrote a log line nobody expected.  main() runs a test file's
unittest cases and turns the result into automake's exit codes: 0 pass,
1 fail, 77 skip, 99 harness error.

Not for: talking STUN; that is stunclient.py.
"""

import functools
import os
import pwd
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

TURNPIKED = os.environ.get("TURNPIKED", "")
SRCDIR = os.environ.get("TP_SRCDIR", "")
BUILDDIR = os.environ.get("TP_BUILDDIR", "")

# Multiply every wait by this (for slow sanitizer or valgrind builds).
TIMEOUT_SCALE = float(os.environ.get("TP_TIMEOUT_SCALE", "1"))

# daemon.workers for every daemon whose test does not set it: the whole
# suite runs on several workers with TP_WORKERS=2 (see tools/run-variant).
WORKERS = os.environ.get("TP_WORKERS", "")

# A command every turnpiked runs under, e.g. "valgrind -q ..." (see
# tools/valgrind-suite); its reports go to the daemon's stderr.
DAEMON_WRAPPER = shlex.split(os.environ.get("TP_DAEMON_WRAPPER", ""))
if DAEMON_WRAPPER:  # a path, for wrappers of the wrapper that use execv()
    DAEMON_WRAPPER[0] = shutil.which(DAEMON_WRAPPER[0]) or DAEMON_WRAPPER[0]

EXIT_PASS, EXIT_FAIL, EXIT_SKIP, EXIT_HARNESS = 0, 1, 77, 99

# "2026-11-21T08:51:19.183Z info: text", or "<6>info: text" under systemd.
LOG_LINE = re.compile(
    r"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z |<[0-7]>)"
    r"(error|warning|info|debug): (.*)$")
READY = re.compile(r"^turnpiked \S+ ready$")

# Info lines every daemon run writes; anything else above debug has to be
# allowed by the test that expects it.
ROUTINE_LINES = [
    r"listening on (udp|tcp) \S+",
    r"listening on (http|https) \S+",
    r"turn: disabled \(turn\.enable = false\): STUN only",
    r"tls: no tls\.certificate: TLS listeners off",
    r"turn: relay ports \d+-\d+(, IPv4)?(, IPv6)?",
    r'turn: realm "[^"]*", \d+ static users, \d+ REST secrets',
    r"turnpiked \S+ ready",
    r"\d+ workers, each with its own listeners \(SO_REUSEPORT\) and "
    r"allocations",
    r"(SIGTERM|SIGINT) received, stopping",
    r"stopped",
]

# What sanitizers and glibc print when something went badly wrong.
CRASH_MARKERS = re.compile(
    r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
    r"ThreadSanitizer|MemorySanitizer|runtime error:|"
    r"\*\*\* .* \*\*\*|Segmentation fault|Aborted|double free|"
    r"malloc\(\): |free\(\): |"
    r"(?m:^==\d+== )")  # valgrind -q writes only errors

# Environment a developer's shell or a CI runner may set that changes how
# the daemon logs or talks to systemd: never inherited.
SCRUBBED_ENV = ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC",
                "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
                "LISTEN_FDNAMES")


class HarnessError(Exception):
    """The test environment, not the daemon, is broken (exit 99)."""


class DaemonFailure(AssertionError):
    """The daemon did not start, crashed, exited early or would not stop.

    A test failure like any other, but never mistaken for the bug a
    known_bug test expects.
    """


def timeout(seconds):
    """A wait of seconds, scaled by $TP_TIMEOUT_SCALE."""
    return seconds * TIMEOUT_SCALE


def check_env():
    """Raise HarnessError unless $TURNPIKED names an executable."""
    if not TURNPIKED:
        raise HarnessError("TURNPIKED is not set (run through make check, "
                           "or set it to the built src/turnpiked)")
    if not os.path.isabs(TURNPIKED) or not os.access(TURNPIKED, os.X_OK):
        raise HarnessError("TURNPIKED=%s is not an executable absolute path"
                           % TURNPIKED)


def daemon_env(extra=None):
    """os.environ without the systemd variables, plus extra."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env.update(extra or {})
    return env


def run(args, timeout_s=10, env=None, cwd=None):
    """Run turnpiked with args; returns CompletedProcess (text output)."""
    check_env()
    return subprocess.run(DAEMON_WRAPPER + [TURNPIKED] + list(args),
                          capture_output=True,
                          text=True, timeout=timeout(timeout_s),
                          env=daemon_env(env), stdin=subprocess.DEVNULL,
                          cwd=cwd)


# turn.port_min and port_max of every test daemon (see base_conf()).
RELAY_PORTS = (10000, 19999)


def base_conf():
    """The settings every test config needs, as a {group: {key: value}}.

    daemon.user as default_user(), turn.enable = false (TURN refuses to
    run without credentials) and no HTTP listener (the default, port 8080,
    would clash between tests running at once), so that a test config is
    a plain STUN server unless the test says otherwise.  Relay ports are
    RELAY_PORTS, below the ports below_ephemeral() gives and the kernel's
    ephemeral range: data a test sends to a relay that has just closed
    reaches no other test's socket.
    """
    daemon = {"user": default_user()}
    if WORKERS:
        daemon["workers"] = WORKERS if WORKERS == "auto" else int(WORKERS)
    return {"daemon": daemon,
            "turn": {"enable": False, "port_min": RELAY_PORTS[0],
                     "port_max": RELAY_PORTS[1]},
            "http": {"listen": []}}


_ipv6 = None


def have_ipv6():
    """Whether ::1 can be bound for UDP and TCP on this host."""
    global _ipv6
    if _ipv6 is None:
        _ipv6 = True
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            try:
                with socket.socket(socket.AF_INET6, kind) as s:
                    s.bind(("::1", 0))
            except OSError:
                _ipv6 = False
    return _ipv6


def free_port(ipv6=False):
    """A port that is free on 127.0.0.1 (and ::1) for both UDP and TCP.

    The kernel picks it (bind to port 0); the probe sockets are closed
    again before returning, so the daemon can bind it.
    """
    wanted = [(socket.AF_INET, "127.0.0.1")]
    if ipv6:
        wanted.append((socket.AF_INET6, "::1"))
    for _ in range(200):
        socks = []
        try:
            first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(first)
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            for family, host in wanted:
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    if (family, kind) == (socket.AF_INET, socket.SOCK_STREAM):
                        continue
                    s = socket.socket(family, kind)
                    socks.append(s)
                    s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise HarnessError("no free port found")


def below_ephemeral():
    """A random port number below the kernel's ephemeral range, which no
    socket bound to port 0 takes: for ports a test lets go while data
    may still be sent to them (a closed peer, a client that vanishes), so
    that a test running beside it never binds one and gets that data."""
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return random.randrange(max(RELAY_PORTS[1] + 1, low - 12768),
                            max(RELAY_PORTS[1] + 2, low - 2))


_low_ports_given = set()


def low_udp_socket(host="127.0.0.1"):
    """A UDP socket on host bound to a port below_ephemeral(), never one
    this process has had before (see stunclient.udp_socket)."""
    for _ in range(200):
        port = below_ephemeral()
        if (host, port) in _low_ports_given:
            continue
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                          socket.SOCK_DGRAM)
        try:
            s.bind((host, port))
        except OSError:
            s.close()
            continue
        _low_ports_given.add((host, port))
        return s
    raise HarnessError("no free UDP port below the ephemeral range")


def free_port_pair():
    """p, p+1 free for UDP on 127.0.0.1, below the kernel's ephemeral
    range so that no client socket takes them meanwhile."""
    for _ in range(200):
        p = below_ephemeral()
        socks = []
        try:
            for port in (p, p + 1):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise HarnessError("no free pair of ports")


def default_user():
    """daemon.user for test configs: "nobody" when root, else ""."""
    return "nobody" if os.geteuid() == 0 else ""


def make_tempdir(prefix="tp-"):
    """A world-readable temporary directory (the daemon may run as nobody)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def write_file(path, text, mode=0o644):
    """Write text to path, world-readable."""
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def conf_value(value):
    """A Python value in libconfig syntax."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(value, (list, tuple)):
        return "[ %s ]" % ", ".join(conf_value(v) for v in value)
    raise TypeError("cannot write %r in a config" % (value,))


def render_conf(conf):
    """A {group: {key: value}} dict as libconfig text."""
    out = []
    for group, keys in conf.items():
        out.append("%s = {" % group)
        for key, value in keys.items():
            out.append("\t%s = %s;" % (key, conf_value(value)))
        out.append("};")
    return "\n".join(out) + "\n"


def merge_conf(base, override):
    """base updated group by group with override (neither is modified)."""
    merged = {g: dict(k) for g, k in base.items()}
    for group, keys in (override or {}).items():
        merged.setdefault(group, {}).update(keys)
    return merged


def listen_addrs(port, ipv6):
    """["127.0.0.1:port"] plus "[::1]:port" when ipv6."""
    addrs = ["127.0.0.1:%d" % port]
    if ipv6:
        addrs.append("[::1]:%d" % port)
    return addrs


def read_status(pid):
    """/proc/PID/status as a dict of field -> text."""
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def rss_kb(pid):
    """Resident set size of pid in kB."""
    return int(read_status(pid)["VmRSS"].split()[0])


class Daemon:
    """One turnpiked process with a temporary config, as a context manager.

    conf is a {group: {key: value}} dict merged over default_conf()
    (base_conf() and loopback listeners on one free port), or a complete
    config text in which "{port}" is replaced by the port.  The daemon
    runs as `turnpiked -d -c FILE` (plus args) with stdout and stderr in
    a log file; journal=True makes that file look like the journal's
    stream to it (JOURNAL_STREAM).  On leaving the with block it is
    stopped with SIGTERM and must exit 0 without a crash; a test that
    wants to check something else calls stop() or wait_exit() first.
    Failures of the process itself raise DaemonFailure.
    """

    def __init__(self, conf=None, ipv6=False, args=(), env=None,
                 wrapper=None, ready=True, port=None, journal=False):
        check_env()
        self.journal = journal
        self.conf = conf
        self.ipv6 = ipv6 and have_ipv6()
        self.args = list(args)
        self.env = env or {}
        self.wrapper = wrapper
        self.wait_ready = ready
        self.fixed_port = port
        self.port = port
        self.dir = make_tempdir()
        self.conf_path = os.path.join(self.dir, "turnpike.conf")
        self.log_path = os.path.join(self.dir, "turnpiked.log")
        self.proc = None
        self.returncode = None
        self.final_log = None

    # -- configuration -------------------------------------------------

    def default_conf(self):
        """The config every test daemon starts from: base_conf(), log
        level info, and listeners on self.port."""
        addrs = listen_addrs(self.port, self.ipv6)
        return merge_conf(base_conf(), {
            "log": {"level": "info"},
            "listen": {"udp": addrs, "tcp": list(addrs)},
        })

    def conf_text(self, conf=None):
        """The config text for conf (default: the one given at creation)."""
        conf = self.conf if conf is None else conf
        if isinstance(conf, str):
            return conf.replace("{port}", str(self.port))
        return render_conf(merge_conf(self.default_conf(), conf))

    def write_conf(self, conf=None):
        """(Re)write the config file, e.g. before a SIGHUP."""
        write_file(self.conf_path, self.conf_text(conf))

    # -- process -------------------------------------------------------

    def command(self):
        """The argv that starts the daemon."""
        argv = DAEMON_WRAPPER + [TURNPIKED, "-d", "-c", self.conf_path]
        argv += self.args
        if self.wrapper:
            argv = list(self.wrapper) + argv
        return argv

    def start(self):
        """Start the daemon and, unless ready=False, wait for its ready line.

        A port picked by the harness that someone else took in the
        meantime is retried with another one.
        """
        for attempt in range(5):
            if self.fixed_port is None:
                self.port = free_port(self.ipv6)
            self.write_conf()
            env = dict(self.env)
            with open(self.log_path, "wb") as log:
                if self.journal:
                    # As systemd does: the device and inode of stderr.
                    st = os.fstat(log.fileno())
                    env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
                self.proc = subprocess.Popen(
                    self.command(), stdin=subprocess.DEVNULL, stdout=log,
                    stderr=log, env=daemon_env(env))
            self.returncode = None
            if not self.wait_ready:
                return self
            try:
                self.wait_log(READY.pattern, timeout_s=5)
                return self
            except AssertionError:
                rc = self.proc.poll()
                if (rc is not None and self.fixed_port is None
                        and "Address already in use" in self.log()
                        and attempt < 4):
                    continue
                self.kill()
                raise DaemonFailure(
                    "turnpiked did not become ready (exit status %s); "
                    "its log:\n%s" % (rc, self.log()))
        raise AssertionError("unreachable")

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        """Whether the process is still running."""
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        """Send sig to the daemon."""
        self.proc.send_signal(sig)

    def wait_exit(self, timeout_s=5):
        """Wait for the process to exit; returns its exit status.

        A process still running after timeout_s is killed and the test
        fails; so does one killed by a signal or with a sanitizer report.
        """
        try:
            self.returncode = self.proc.wait(timeout=timeout(timeout_s))
        except subprocess.TimeoutExpired:
            self.kill()
            raise DaemonFailure("turnpiked did not exit within %s s; log:\n%s"
                                % (timeout_s, self.log()))
        self.check_crash()
        return self.returncode

    def stop(self, sig=None, timeout_s=5):
        """Send sig (SIGTERM) and wait for the exit; returns the status."""
        if sig is None:
            sig = signal.SIGTERM
        if self.alive():
            self.signal(sig)
        return self.wait_exit(timeout_s)

    def kill(self):
        """SIGKILL the process if it still runs (cleanup only)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def check_crash(self):
        """Fail if the daemon died by a signal or a sanitizer spoke."""
        rc = self.proc.poll()
        if rc is not None and rc < 0:
            raise DaemonFailure("turnpiked was killed by signal %d; log:\n%s"
                                % (-rc, self.log()))
        if CRASH_MARKERS.search(self.log()):
            raise DaemonFailure("turnpiked's log shows a crash or a "
                                "sanitizer report:\n%s" % self.log())

    def rss_kb(self):
        """The daemon's resident set size in kB."""
        return rss_kb(self.pid)

    # -- log -----------------------------------------------------------

    def log(self):
        """Everything the daemon wrote so far (kept after cleanup)."""
        if self.final_log is not None:
            return self.final_log
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def lines(self, since=0):
        """The log's complete lines, from line number since on."""
        text = self.log()
        if not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
        return text.splitlines()[since:]

    def mark(self):
        """A position in the log for wait_log(since=...) and lines()."""
        return len(self.lines())

    def entries(self, since=0):
        """(level, message) of each log line; unparsable lines as (None, l)."""
        out = []
        for line in self.lines(since):
            m = LOG_LINE.match(line)
            out.append((m.group(1), m.group(2)) if m else (None, line))
        return out

    def find_log(self, pattern, since=0, level=None):
        """Messages (text after "level: ") matching pattern, from since."""
        rx = re.compile(pattern)
        return [msg for lvl, msg in self.entries(since)
                if lvl is not None and (level is None or lvl == level)
                and rx.search(msg)]

    def wait_log(self, pattern, since=0, timeout_s=3, level=None):
        """Wait until a log message from line since on matches pattern.

        Returns the message; fails the test on timeout or if the daemon
        exits meanwhile.
        """
        deadline = time.monotonic() + timeout(timeout_s)
        while True:
            found = self.find_log(pattern, since, level)
            if found:
                return found[0]
            if self.proc.poll() is not None:
                raise DaemonFailure(
                    "turnpiked exited (status %s) before logging /%s/; "
                    "log:\n%s" % (self.proc.returncode, pattern, self.log()))
            if time.monotonic() > deadline:
                raise AssertionError("no log line matched /%s/ within %s s; "
                                     "log:\n%s" % (pattern, timeout_s,
                                                   self.log()))
            time.sleep(0.01)

    def check_log(self, allowed=()):
        """Fail on any log line above debug that nobody expected.

        Every line must have the log format; info, warning and error lines
        must match ROUTINE_LINES or one of the allowed regexes (searched
        in the message text, e.g. r"^reload: listen.udp changed").
        Returns the list of (level, message).
        """
        patterns = [re.compile("^(?:%s)$" % p) for p in ROUTINE_LINES]
        patterns += [re.compile(p) for p in allowed]
        bad = []
        entries = self.entries()
        for level, msg in entries:
            if level is None:
                bad.append(msg)
            elif level != "debug" and not any(p.search(msg)
                                              for p in patterns):
                bad.append("%s: %s" % (level, msg))
        if bad:
            raise AssertionError("unexpected lines in turnpiked's log:\n  "
                                 + "\n  ".join(bad)
                                 + "\nwhole log:\n" + self.log())
        return entries

    # -- addresses -----------------------------------------------------

    def addr(self, host="127.0.0.1"):
        """(host, port) of the daemon's listener on host."""
        return (host, self.port)

    # -- context manager -----------------------------------------------

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None:
                self.kill()
                sys.stderr.write("--- turnpiked log (%s) ---\n%s---\n"
                                 % (self.log_path, self.log()))
                return False
            if self.returncode is None and self.proc is not None:
                rc = self.stop()
                if rc != 0:
                    raise DaemonFailure(
                        "turnpiked exited with %d on SIGTERM; log:\n%s"
                        % (rc, self.log()))
            else:
                self.check_crash()
        finally:
            self.cleanup()
        return False

    def cleanup(self):
        """Kill the process if need be and remove the temporary files."""
        self.kill()
        if self.final_log is None:
            self.final_log = self.log()
        if os.environ.get("TP_KEEP"):
            sys.stderr.write("keeping %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def nobody_ids():
    """(uid, gid) of user nobody, or None."""
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return pw.pw_uid, pw.pw_gid


def skip_if_wrapped(reason):
    """Skip a test that cannot mean anything under $TP_DAEMON_WRAPPER
    (a bound on CPU time, memory or speed), saying why."""
    return unittest.skipIf(bool(DAEMON_WRAPPER), "under TP_DAEMON_WRAPPER: "
                           + reason)


def known_bug(description):
    """Mark a test that fails because of a known daemon bug.

    The test still runs in full.  If it fails with an AssertionError (the
    bug), it is reported as skipped with the description, so the suite
    stays usable; if it passes, it fails, asking for the marker to go; any
    other exception is an error as usual.
    """
    def decorate(test):
        @functools.wraps(test)
        def wrapper(self, *args, **kwargs):
            try:
                test(self, *args, **kwargs)
            except DaemonFailure:
                raise
            except AssertionError as e:
                first = str(e).splitlines()[0] if str(e) else ""
                raise unittest.SkipTest("KNOWN DAEMON BUG: %s (%s)"
                                        % (description, first))
            raise AssertionError("known bug no longer shows (%s): remove "
                                 "the known_bug marker" % description)
        return wrapper
    return decorate


def main():
    """Run the calling module's tests; exit with automake's status codes."""
    try:
        check_env()
    except HarnessError as e:
        print("harness error: %s" % e, file=sys.stderr)
        sys.exit(EXIT_HARNESS)
    name = os.path.basename(sys.argv[0])
    started = time.monotonic()
    prog = unittest.main(module="__main__", exit=False, verbosity=2,
                         buffer=False)
    result = prog.result
    elapsed = time.monotonic() - started
    harness = [t for t, tb in result.errors if "HarnessError" in tb]
    skipped = len(result.skipped)
    print("%s: %d run, %d failed, %d errors, %d skipped in %.1f s"
          % (name, result.testsRun, len(result.failures), len(result.errors),
             skipped, elapsed), file=sys.stderr)
    if harness:
        sys.exit(EXIT_HARNESS)
    if result.failures or result.errors or result.unexpectedSuccesses:
        sys.exit(EXIT_FAIL)
    if result.testsRun == 0 or skipped == result.testsRun:
        sys.exit(EXIT_SKIP)
    sys.exit(EXIT_PASS)
