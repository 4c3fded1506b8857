#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The TURN relay over UDP driven by coturn's own clients (RFC 8656).

turnutils_uclient, a client we did not write, authenticates (static users,
REST secrets), allocates relays, binds channels or sends indications, and
streams numbered datagrams to turnutils_peer, which echoes them, or to
another of its own relays; it counts what comes back.  The daemon's log
must account for every allocation: created, then deleted by the client's
Refresh with lifetime 0, expired, or stopped with the daemon, with the
packets it relayed.

uclient starts each session 1-6 s after connecting, so every run takes
several seconds whatever its size.  All runs therefore go at once, in
threads, in setUpModule, against two daemons: one relay daemon for the
relaying and credential cases, and one whose secret a SIGHUP changes
under a live allocation.  The test methods then judge what was recorded.

Facts about uclient this relies on (coturn 4.6.1, see INTEROP.md): -m 4
gives four sessions (RTP and RTCP of two clients, or both ends of one
client-to-client pair, each with RTCP); each client first makes a "probe"
allocation that it never uses, refreshes or deletes; sessions that end
send a Refresh with lifetime 0; peer mode also sends to the peer's port
plus one (turnutils_peer listens on both); channel numbers come from RFC
5766's range, so the daemons run with turn.old_channels.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tp  # noqa: E402

UCLIENT = shutil.which("turnutils_uclient")
PEER = shutil.which("turnutils_peer")

# The relay daemon's turn.max_lifetime: uclient asks for 777 s and gets
# this, so its unused probe allocations expire while the tests run.  Longer
# than any session here (at most about 12 s), which refreshes only at the
# start.
LIFETIME = int(20 * tp.TIMEOUT_SCALE)

# Message size (-l) and count per session (-n) of the relaying runs.
LENGTH = 170
COUNT = 200
SESSIONS = 4  # -m 4

# The SIGHUP run: paced so that every session is still sending when the
# reload comes RELOAD_AFTER seconds after its first allocation (sessions
# start 1-6 s after connecting and send LONG_COUNT * LONG_PACE ms).
LONG_COUNT = 250
LONG_PACE = 30
RELOAD_AFTER = 6.5

STATIC_USERS = {
    "alice": "wonderland",  # ChannelData to a peer
    "bob": "builder",  # Send and Data indications to a peer
    "carol": "singer",  # client to client
    "dave": "right",  # only ever given a wrong password
}

CREATED = re.compile(
    r'^allocation created: client 127\.0\.0\.1:(\d+)/udp user "([^"]*)" '
    r"relay 127\.0\.0\.1:(\d+) lifetime (\d+) s$")
GONE = re.compile(
    r"^allocation (deleted|expired|stopped): client 127\.0\.0\.1:(\d+)/udp "
    r'user "([^"]*)" relay 127\.0\.0\.1:(\d+), (\d+) s, (\d+) packets (\d+) '
    r"bytes to peers, (\d+) packets (\d+) bytes from peers$")
RELOADED = r"^configuration reloaded from \S+$"
STOPPING = r"^(SIGTERM|SIGINT) received, stopping$"

# What uclient prints at the end of a run.
TOTAL_MSGS = re.compile(
    r"start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)$", re.M)
TOTAL_BYTES = re.compile(
    r"start_mclient: tot_send_bytes ~ (\d+), tot_recv_bytes ~ (\d+)$", re.M)
TOTAL_LOST = re.compile(r"Total lost packets (\d+) ", re.M)

# A uclient run that hangs is killed after this long.
RUN_TIMEOUT = 45


def turn_conf(secrets, lifetime=None):
    """The turn group of both daemons' configs."""
    turn = {
        "enable": True,
        "users": ["%s:%s" % u for u in STATIC_USERS.items()],
        "secrets": list(secrets),
        "allowed_peers": ["127.0.0.1"],
        "relay_ip": ["127.0.0.1"],
        "old_channels": True,
        # tp.RELAY_PORTS, below the kernel's ephemeral ports; relays
        # are picked at random and a taken port is skipped, so parallel
        # tests can share it.
        "port_min": tp.RELAY_PORTS[0],
        "port_max": tp.RELAY_PORTS[1],
        # Every uclient session starts with an unauthenticated Allocate,
        # all of them from 127.0.0.1 and at once.
        "unauth_rate": 1000,
    }
    if lifetime is not None:
        turn["default_lifetime"] = lifetime
        turn["max_lifetime"] = lifetime
    return {"turn": turn}


# -- turnutils_peer -----------------------------------------------------


def echoes(port):
    """Whether something on 127.0.0.1:port echoes a datagram."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        for _ in range(10):
            s.sendto(b"tp echo probe", ("127.0.0.1", port))
            try:
                if s.recv(64) == b"tp echo probe":
                    return True
            except socket.timeout:
                continue
    return False


class Peer:
    """turnutils_peer on 127.0.0.1:port and port + 1, echoing."""

    def __init__(self):
        self.proc = None
        for _ in range(5):
            self.port = tp.free_port_pair()
            self.proc = subprocess.Popen(
                [PEER, "-L", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            if echoes(self.port) and echoes(self.port + 1):
                return
            self.stop()
        raise tp.HarnessError("turnutils_peer does not echo")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- turnutils_uclient --------------------------------------------------


class Run:
    """One turnutils_uclient run, in a thread of its own."""

    def __init__(self, daemon, *args, timeout_s=RUN_TIMEOUT):
        self.argv = ([UCLIENT, "-p", str(daemon.port)] + list(args)
                     + ["127.0.0.1"])
        self.timeout_s = timeout_s
        self.rc = None
        self.out = ""
        self.timed_out = False
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            p = subprocess.run(self.argv, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT,
                               timeout=tp.timeout(self.timeout_s))
            self.rc = p.returncode
            self.out = p.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            self.timed_out = True
            self.out = (e.stdout or b"").decode("utf-8", "replace")
        except Exception as e:  # reported by the test that reads it
            self.error = e

    def start(self):
        self.thread.start()
        return self

    def join(self):
        self.thread.join()
        return self

    def describe(self):
        """The command and its output, for failure messages."""
        tail = "\n".join(self.out.splitlines()[-15:])
        return "%s\n(exit %s%s)\n%s" % (
            " ".join(self.argv), self.rc,
            ", killed after %d s" % self.timeout_s if self.timed_out else "",
            tail)

    def totals(self):
        """(sent, received, sent bytes, received bytes, lost), or None."""
        msgs = TOTAL_MSGS.findall(self.out)
        nbytes = TOTAL_BYTES.findall(self.out)
        lost = TOTAL_LOST.findall(self.out)
        if not (msgs and nbytes and lost):
            return None
        return tuple(int(x) for x in msgs[-1] + nbytes[-1] + (lost[-1],))


# -- the daemon's allocation lines -----------------------------------------


class Alloc:
    """One allocation as the log tells it."""

    def __init__(self, line, client, user, relay, lifetime):
        self.line = line
        self.client = client
        self.user = user
        self.relay = relay
        self.lifetime = lifetime
        self.gone = None  # "deleted", "expired" or "stopped"
        self.gone_line = None
        self.age = None
        self.to_peers = self.from_peers = (0, 0)  # packets, bytes

    def __repr__(self):
        return ("<client %d user %s relay %d: %s, %d/%d packets to/from "
                "peers>" % (self.client, self.user, self.relay,
                            self.gone or "live", self.to_peers[0],
                            self.from_peers[0]))


def allocations(daemon):
    """The allocations in daemon's log, in order of creation, and a list
    of inconsistencies (a line for an allocation that is not live, the
    same one created twice)."""
    allocs, live, problems = [], {}, []
    for n, (level, msg) in enumerate(daemon.entries()):
        m = CREATED.match(msg)
        if m:
            client, relay = int(m.group(1)), int(m.group(3))
            if (client, relay) in live:
                problems.append("line %d: created again while live: %s"
                                % (n, msg))
            a = Alloc(n, client, m.group(2), relay, int(m.group(4)))
            live[(client, relay)] = a
            allocs.append(a)
            continue
        m = GONE.match(msg)
        if m:
            key = (int(m.group(2)), int(m.group(4)))
            a = live.pop(key, None)
            if a is None or a.user != m.group(3):
                problems.append("line %d: no such live allocation: %s"
                                % (n, msg))
                continue
            a.gone, a.gone_line, a.age = m.group(1), n, int(m.group(5))
            a.to_peers = (int(m.group(6)), int(m.group(7)))
            a.from_peers = (int(m.group(8)), int(m.group(9)))
            continue
        if msg.startswith("allocation "):
            problems.append("line %d: not understood: %s" % (n, msg))
    return allocs, problems


def wait_until(predicate, timeout_s):
    """Poll predicate until it is true or timeout_s (scaled) passed."""
    deadline = time.monotonic() + tp.timeout(timeout_s)
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def all_gone(daemon):
    allocs, _ = allocations(daemon)
    return all(a.gone for a in allocs)


# -- the workload, run once for all tests ----------------------------------


class Workload:
    """Everything that runs against the daemons, and what came of it."""

    relay = None  # the relay daemon, stopped
    reload = None  # the SIGHUP daemon, stopped
    runs = {}
    reload_error = None
    expired_in_time = False


W = Workload()


def reload_scenario(d, peer):
    """On daemon d: a long run with secret north; a SIGHUP that makes the
    secret south while it relays; then new runs with north and with south.
    """
    try:
        W.runs["long"] = Run(
            d, "-n", str(LONG_COUNT), "-z", str(LONG_PACE), "-m",
            str(SESSIONS), "-l", str(LENGTH), "-e", "127.0.0.1", "-r",
            str(peer.port), "-W", "north", "-u", "longrun").start()
        d.wait_log(r'^allocation created: .* user "\d+:longrun"',
                   timeout_s=15)
        # uclient's own clock, not the daemon's speed: not scaled.
        time.sleep(RELOAD_AFTER)
        mark = d.mark()
        d.write_conf(turn_conf(["south"]))
        d.signal(signal.SIGHUP)
        d.wait_log(RELOADED, since=mark, timeout_s=5)
        for name, secret in (("north-after", "north"),
                             ("south-after", "south")):
            W.runs[name] = Run(
                d, "-n", "50", "-m", str(SESSIONS), "-l", str(LENGTH),
                "-e", "127.0.0.1", "-r", str(peer.port), "-W", secret,
                "-u", name).start()
    except BaseException as e:
        W.reload_error = e


def setUpModule():
    if not (UCLIENT and PEER):
        raise unittest.SkipTest("turnutils_uclient or turnutils_peer "
                                "(coturn) is not installed; CI installs it")
    tp.check_env()
    peer = Peer()
    try:
        with tp.Daemon(turn_conf(["north"], lifetime=LIFETIME)) as relay, \
                tp.Daemon(turn_conf(["north"])) as reload:
            W.relay, W.reload = relay, reload
            to_peer = ["-e", "127.0.0.1", "-r", str(peer.port)]
            sized = ["-n", str(COUNT), "-m", str(SESSIONS), "-l",
                     str(LENGTH)]
            runs = {
                "channel": sized + to_peer + ["-u", "alice", "-w",
                                              "wonderland"],
                "send": sized + to_peer + ["-s", "-u", "bob", "-w",
                                           "builder"],
                "c2c": sized + ["-y", "-u", "carol", "-w", "singer"],
                "rest": sized + to_peer + ["-W", "north", "-u",
                                           "restuser"],
                "wrong-secret": sized + to_peer + ["-W", "wrong", "-u",
                                                   "badrest"],
                "wrong-password": sized + to_peer + ["-u", "dave", "-w",
                                                     "wrong"],
                "unknown-user": sized + to_peer + ["-u", "mallory", "-w",
                                                   "wonderland"],
            }
            for name, args in runs.items():
                W.runs[name] = Run(relay, *args).start()
            scenario = threading.Thread(target=reload_scenario,
                                        args=(reload, peer), daemon=True)
            scenario.start()
            for name in list(runs):
                W.runs[name].join()
            scenario.join()
            for run in list(W.runs.values()):
                run.join()
            # The probes expire LIFETIME s after their creation; the
            # sweep runs once a second.
            W.expired_in_time = wait_until(lambda: all_gone(relay),
                                           LIFETIME + 5)
            # uclient does not wait for the answer to its last Refresh.
            wait_until(lambda: len([
                a for a in allocations(reload)[0] if a.gone]) >= 4, 3)
    finally:
        peer.stop()


class CoturnCase(unittest.TestCase):
    """Checks on the recorded runs and logs."""

    def run_of(self, name):
        run = W.runs.get(name)
        if run is None:
            self.fail("run %s never started (%r)" % (name, W.reload_error))
        if run.error is not None:
            raise run.error
        return run

    def allocs(self, daemon, user):
        """daemon's allocations of user ("NAME" or REST "\\d+:NAME")."""
        allocs, _ = allocations(daemon)
        rx = re.compile(r"^(\d+:)?%s$" % re.escape(user))
        return [a for a in allocs if rx.match(a.user)]

    def assert_relayed(self, name, count=COUNT, sessions=SESSIONS):
        """uclient sent count messages per session, got all of them back
        and lost none."""
        run = self.run_of(name)
        self.assertFalse(run.timed_out, run.describe())
        self.assertEqual(run.rc, 0, run.describe())
        totals = run.totals()
        self.assertIsNotNone(totals, "no totals in uclient's output:\n"
                             + run.describe())
        sent, received, sent_bytes, received_bytes, lost = totals
        self.assertEqual(sent, count * sessions, run.describe())
        self.assertEqual(received, sent, run.describe())
        self.assertEqual(sent_bytes, sent * LENGTH, run.describe())
        self.assertEqual(received_bytes, sent_bytes, run.describe())
        self.assertEqual(lost, 0, run.describe())

    def assert_sessions_in_log(self, daemon, user, count=COUNT,
                               sessions=SESSIONS, gone=("deleted",)):
        """The log shows user's sessions: allocations that relayed count
        datagrams of LENGTH bytes each way and went as gone says; its
        other allocations (uclient's probes) relayed nothing."""
        allocs = self.allocs(daemon, user)
        busy = [a for a in allocs if a.to_peers != (0, 0)]
        idle = [a for a in allocs if a.to_peers == (0, 0)]
        self.assertEqual(len(busy), sessions, "%s: %r" % (user, allocs))
        for a in busy:
            self.assertIn(a.gone, gone, a)
            self.assertEqual(a.to_peers, (count, count * LENGTH), a)
            self.assertEqual(a.from_peers, (count, count * LENGTH), a)
        for a in idle:
            self.assertEqual(a.from_peers, (0, 0), a)
        self.assertGreater(len(idle), 0, "no probe allocation: %r"
                           % (allocs,))
        return allocs

    def assert_refused(self, daemon, name, user):
        """uclient could not allocate: non-zero exit, nothing relayed, no
        allocation for user in the daemon's log."""
        run = self.run_of(name)
        self.assertFalse(run.timed_out, run.describe())
        self.assertNotEqual(run.rc, 0, run.describe())
        self.assertIn("Cannot complete Allocation", run.out,
                      run.describe())
        self.assertIsNone(run.totals(), run.describe())
        self.assertEqual(self.allocs(daemon, user), [])


class Relay(CoturnCase):
    """uclient streams through the relay daemon and gets it all back."""

    def test_channel_data_to_peer(self):
        """ChannelData to turnutils_peer and back (uclient's default)."""
        self.assert_relayed("channel")
        allocs = self.assert_sessions_in_log(W.relay, "alice")
        self.assertTrue(all(a.user == "alice" for a in allocs))

    def test_send_indications_to_peer(self):
        """Send indications out, Data indications back (-s)."""
        self.assert_relayed("send")
        self.assert_sessions_in_log(W.relay, "bob")

    def test_client_to_client(self):
        """Client to client, each end on a relay of its own (-y): the
        peer of each relay is the other relay."""
        self.assert_relayed("c2c")
        self.assert_sessions_in_log(W.relay, "carol")

    def test_lifetime_capped(self):
        """uclient asks for 777 s; turn.max_lifetime grants less."""
        allocs, _ = allocations(W.relay)
        self.assertTrue(allocs)
        self.assertEqual({a.lifetime for a in allocs}, {LIFETIME})


class Credentials(CoturnCase):
    """Static users and REST secrets, right and wrong."""

    def test_rest_secret(self):
        """-W north: the REST username "expiry:restuser", with an expiry
        in the future, is accepted and relays."""
        self.assert_relayed("rest")
        allocs = self.assert_sessions_in_log(W.relay, "restuser")
        now = time.time()
        for a in allocs:
            expiry = int(a.user.split(":")[0])
            self.assertGreater(expiry, now, a)
            self.assertLessEqual(expiry, now + 86400 + 60, a)

    def test_wrong_secret(self):
        """-W wrong: refused, nothing allocated."""
        self.assert_refused(W.relay, "wrong-secret", "badrest")

    def test_wrong_password(self):
        """A static user with a wrong password: refused, nothing
        allocated."""
        self.assert_refused(W.relay, "wrong-password", "dave")

    def test_unknown_user(self):
        """A user nobody configured: refused, nothing allocated."""
        self.assert_refused(W.relay, "unknown-user", "mallory")


class Reload(CoturnCase):
    """SIGHUP replaces the REST secret north by south while a run that
    authenticated with north relays."""

    def setUp(self):
        if W.reload_error is not None:
            raise W.reload_error

    def reloaded_at(self):
        lines = [n for n, (_, msg) in enumerate(W.reload.entries())
                 if re.match(RELOADED, msg)]
        self.assertEqual(len(lines), 1, W.reload.log())
        return lines[0]

    def test_live_allocation_survives(self):
        """The run allocated before the reload relays all of its data and
        loses none; the daemon counted it all on those allocations."""
        self.assert_relayed("long", count=LONG_COUNT)
        reloaded = self.reloaded_at()
        # Its last Refresh (lifetime 0) is signed with north's key, which
        # the reload revoked: refused, the allocation stays until the
        # daemon stops.  Either way is fine here.
        allocs = self.assert_sessions_in_log(
            W.reload, "longrun", count=LONG_COUNT,
            gone=("deleted", "expired", "stopped"))
        for a in allocs:
            self.assertLess(a.line, reloaded, a)
            if a.gone:
                self.assertGreater(a.gone_line, reloaded, a)

    def test_old_secret_refused(self):
        """After the reload, north is refused."""
        self.reloaded_at()
        self.assert_refused(W.reload, "north-after", "north-after")

    def test_new_secret_accepted(self):
        """After the reload, south is accepted and relays."""
        self.reloaded_at()
        self.assert_relayed("south-after", count=50)
        self.assert_sessions_in_log(W.reload, "south-after", count=50)


class Accounting(CoturnCase):
    """The log accounts for every allocation exactly once, and nothing
    unexpected was logged."""

    def check_balance(self, daemon):
        allocs, problems = allocations(daemon)
        self.assertEqual(problems, [], daemon.log())
        self.assertTrue(allocs)
        self.assertEqual([a for a in allocs if not a.gone], [],
                         "allocations never logged as gone")
        return allocs

    def test_relay_daemon_balance(self):
        """Relay daemon: each allocation created is gone exactly once,
        before the daemon stopped: the ones that relayed deleted by
        uclient, its unused probes expired after turn.max_lifetime."""
        allocs = self.check_balance(W.relay)
        self.assertTrue(W.expired_in_time, "allocations still live %d s "
                        "after the runs: %r" % (LIFETIME + 5, allocs))
        stopping = [n for n, (_, msg) in enumerate(W.relay.entries())
                    if re.match(STOPPING, msg)]
        self.assertEqual(len(stopping), 1)
        for a in allocs:
            self.assertLess(a.gone_line, stopping[0], a)
            if a.to_peers == (0, 0):
                self.assertEqual(a.gone, "expired", a)
                self.assertGreaterEqual(a.age, LIFETIME - 1, a)
                self.assertLessEqual(a.age, LIFETIME + tp.timeout(2), a)
            else:
                self.assertEqual(a.gone, "deleted", a)
        users = {a.user.split(":")[-1] for a in allocs}
        self.assertEqual(users, {"alice", "bob", "carol", "restuser"})

    def test_reload_daemon_balance(self):
        """SIGHUP daemon: each allocation created is gone exactly once
        (at the latest when the daemon stops)."""
        self.check_balance(W.reload)

    def test_relay_daemon_log(self):
        """Nothing above debug but allocations and routine lines."""
        W.relay.check_log([CREATED.pattern, GONE.pattern])

    def test_reload_daemon_log(self):
        """The same, plus the one reload."""
        W.reload.check_log([CREATED.pattern, GONE.pattern, RELOADED])


if __name__ == "__main__":
    tp.main()
