#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Soak: one real turnpiked churned for $TP_SOAK_SECONDS (120 by default,
1800 for the long run), its memory watched.

Worker threads run at once for the whole time, each in rounds:
allocations over UDP that relay to a loopback peer (Send and Data
indications, then ChannelData) or to a second allocation, are refreshed
and deleted with Refresh 0; allocations that relay once and are
abandoned to expire (turn.default_lifetime = 3 s); allocations over TCP
that relay and end by Refresh 0 or by closing the connection; pairs of
WebSocket clients that join a new room, relay an offer, an answer and a
candidate, chat and set their state, then one leaves politely and the
other drops without a close frame, or the other way round.  Every piece
of data relayed is checked to arrive, byte for byte.

The daemon's VmRSS is sampled every few seconds.  After the warm-up (the
first quarter) it must stay flat: no sample more than RSS_BOUND_KB above
the warm-up's highest, and the least-squares line through the later
samples may not rise by more than half of that over their span.  Then
/metrics must show the churn (allocations created and ended by expiry
and deletion, exactly as many as the clients made; the joins) and
nothing live once every client is gone; SIGTERM must end the daemon
cleanly with no unexpected log line.  Under --enable-sanitizers the
clean exit runs LeakSanitizer, whose report fails the harness's log
check.

ASan's allocator keeps freed memory in a quarantine of 256 MB, which
would look like a leak here: when the binary links ASan (it references
__asan_init, read from the file itself, no option to forget), the daemon
runs with a 4 MB quarantine and the bound is ASAN_BOUND_KB.  Under
$TP_DAEMON_WRAPPER (valgrind) the churn and the leak check at exit run
but the RSS, which is valgrind's, is only reported.

Not for: speed.  Nothing here depends on how many rounds fit in the time.
"""

import collections
import json
import os
import sys
import threading
import time
import traceback
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
import wsclient as wc  # noqa: E402

SOAK_SECONDS = float(os.environ.get("TP_SOAK_SECONDS", "120"))
SAMPLE_SECONDS = min(5.0, max(1.0, SOAK_SECONDS / 40))
WARMUP_FRACTION = 0.25

# How far RSS may rise above the warm-up's highest sample.  The churn's
# live state is bounded (a few dozen allocations, a few rooms): after the
# warm-up malloc has the pages it needs.  Measured on Debian 12 (glibc
# malloc), the later samples of a 120 s run stayed within 20 kB of each
# other at about 80 allocations and 70 rounds a second; the bound leaves
# room for fragmentation over a 30-minute run.  At that rate a leak of
# some 150 bytes per allocation crosses it in 120 s, and one of 2 kB per
# allocation (tried on purpose) went 5 MB over it in 40 s.
RSS_BOUND_KB = 1024
# ASan pads every block with redzones and keeps freed ones in its
# quarantine (4 MB here) before reusing them, so the same churn moves RSS
# by several times more.
ASAN_BOUND_KB = 8192
ASAN_QUARANTINE_MB = 4

# What each round waits for at most: generous, so that a busy machine
# (other tests, sanitizers, valgrind) slows the soak down, not fails it.
WAIT = 10
# Pause between two rounds of a worker, to leave CPU to other tests.
PAUSE = 0.05
# Rounds of the abandoning worker are paced so that at most about 40 of
# its allocations (3 s each, plus the 1 s sweep) live at once, below
# turn.max_allocations_per_user.
ABANDON_PAUSE = 0.1

LIFETIME = 20  # of the allocations that are refreshed and deleted
DEFAULT_LIFETIME = 3  # of the abandoned ones

USERS = {"soak-relay": "pw-relay", "soak-pair": "pw-pair",
         "soak-abandon": "pw-abandon", "soak-tcp": "pw-tcp"}

ALLOWED_LOG = [
    r'^allocation created: client \S+/(udp|tcp) user "[^"]*" relay \S+ '
    r'lifetime \d+ s$',
    r'^allocation (expired|deleted|closed): client \S+/(udp|tcp) '
    r'user "[^"]*" relay \S+, \d+ s, \d+ packets \d+ bytes to peers, '
    r'\d+ packets \d+ bytes from peers$',
]


def links_asan(path):
    """Whether the executable at path was built with AddressSanitizer."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


class SoakDaemon(wc.HttpDaemon):
    """wc.HttpDaemon (STUN and TURN over UDP and HTTP on port P) with
    STUN and TURN over TCP on a second port, picked anew with each P the
    harness picks."""

    def __init__(self, conf=None, **kw):
        super().__init__(conf, **kw)
        self.tcp_port = self.tcp_for = None

    def default_conf(self):
        conf = super().default_conf()
        while self.tcp_for != self.port or self.tcp_port == self.port:
            self.tcp_port, self.tcp_for = tp.free_port(), self.port
        conf["listen"]["tcp"] = ["127.0.0.1:%d" % self.tcp_port]
        return conf

    def tcp_addr(self):
        return ("127.0.0.1", self.tcp_port)


class Tally:
    """Counts of what the workers did, shared between threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, name, n=1):
        """Add n to a count; returns the new count."""
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n
            return self.counts[name]

    def get(self, name):
        with self.lock:
            return self.counts.get(name, 0)

    def text(self):
        with self.lock:
            return ", ".join("%s %d" % kv for kv in sorted(
                self.counts.items()))


def expect_success(ans, method):
    if (ans.method, ans.cls) != (method, sc.SUCCESS):
        raise AssertionError("expected a success, got %s"
                             % tc.describe(ans))
    return ans


def expect_relayed(client, kind, frm, payload):
    """client receives payload from frm as a Data indication ("data") or
    ChannelData ("channel", frm then the channel number)."""
    got = client.recv_relayed(tp.timeout(WAIT))
    if got is None:
        raise AssertionError("nothing relayed to the client")
    if got[0] != kind or not (got[1] == frm if kind == "channel"
                              else tc.same_addr(got[1], frm)) \
            or got[2] != payload:
        raise AssertionError("relayed %r, not %r" % (got, (kind, frm,
                                                           payload)))


def expect_at_peer(peer, relay, payload):
    got = peer.recv(tp.timeout(WAIT))
    if got is None or got[0] != payload or not tc.same_addr(got[1], relay):
        raise AssertionError("the peer got %r, not %r from %r"
                             % (got, payload, relay))


class Soak(unittest.TestCase):

    def setUp(self):
        self.asan = links_asan(tp.TURNPIKED)
        env = {}
        if self.asan:
            opts = os.environ.get("ASAN_OPTIONS", "")
            env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + \
                "quarantine_size_mb=%d" % ASAN_QUARANTINE_MB
        conf = {"turn": wc.turn_on(
            users=["%s:%s" % kv for kv in USERS.items()],
            allowed_peers=["127.0.0.1"], default_lifetime=DEFAULT_LIFETIME,
            max_lifetime=LIFETIME + 10)}
        self.daemon = SoakDaemon(conf, env=env).__enter__()
        self.addCleanup(self.kill_daemon)
        self.tally = Tally()
        self.stop = threading.Event()
        self.failures = []
        self.abandoned = collections.deque()
        self.addCleanup(self.close_abandoned, float("inf"))

    def kill_daemon(self):
        """After a failure: kill the daemon and show its log."""
        self.stop.set()
        if self.daemon is not None:
            d, self.daemon = self.daemon, None
            d.__exit__(AssertionError, None, None)

    # -- workers --

    def client(self, user, stream=False):
        d = self.daemon
        if stream:
            return tc.StreamClient(d.tcp_addr(), user, USERS[user],
                                   timeout=tp.timeout(WAIT))
        return tc.Client(d.addr(), user, USERS[user],
                         timeout=tp.timeout(WAIT))

    def allocate(self, c, lifetime=None):
        ans = expect_success(c.allocate(lifetime=lifetime), tc.ALLOCATE)
        self.tally.add("allocations")
        return tc.relayed_address(ans)

    def relay_to_peer(self):
        """Send and Data indications, then ChannelData, to a peer;
        refreshed, deleted with Refresh 0."""
        c, peer = self.client("soak-relay"), tc.Peer()
        try:
            relay = self.allocate(c, LIFETIME)
            expect_success(c.create_permission(peer.addr),
                           tc.CREATE_PERMISSION)
            for n in (1, 100, 1200):
                data = tc.random_payload(n)
                c.send(peer.addr, data)
                expect_at_peer(peer, relay, data)
                peer.sendto(data[::-1], relay)
                expect_relayed(c, "data", peer.addr, data[::-1])
            expect_success(c.channel_bind(0x4000, peer.addr),
                           tc.CHANNEL_BIND)
            for n in (4, 500):
                data = tc.random_payload(n)
                c.send_channel(0x4000, data)
                expect_at_peer(peer, relay, data)
                peer.sendto(data, relay)
                expect_relayed(c, "channel", 0x4000, data)
            self.tally.add("datagrams", 10)
            self.refresh_and_delete(c)
        finally:
            c.close()
            peer.close()

    def refresh_and_delete(self, c):
        if tc.lifetime(expect_success(c.refresh(LIFETIME),
                                      tc.REFRESH)) != LIFETIME:
            raise AssertionError("Refresh did not grant %d s" % LIFETIME)
        if tc.lifetime(expect_success(c.refresh(0), tc.REFRESH)) != 0:
            raise AssertionError("Refresh 0 did not answer LIFETIME 0")
        self.tally.add("deleted")

    def relay_between_allocations(self):
        """Two allocations of this server talk through their relays."""
        a, b = self.client("soak-pair"), self.client("soak-pair")
        try:
            relay_a, relay_b = self.allocate(a, LIFETIME), \
                self.allocate(b, LIFETIME)
            expect_success(a.create_permission(relay_b[0]),
                           tc.CREATE_PERMISSION)
            expect_success(b.create_permission(relay_a[0]),
                           tc.CREATE_PERMISSION)
            for n in (20, 800):
                data = tc.random_payload(n)
                a.send(relay_b, data)
                expect_relayed(b, "data", relay_a, data)
                b.send(relay_a, data[::-1])
                expect_relayed(a, "data", relay_b, data[::-1])
            self.tally.add("datagrams", 4)
            self.refresh_and_delete(a)
            self.refresh_and_delete(b)
        finally:
            a.close()
            b.close()

    def abandon(self):
        """An allocation that relays once and is left to expire.

        Its client socket stays open (in self.abandoned) until the
        allocation is surely gone: a new client that the kernel gave the
        same port would find the old 5-tuple taken (437).
        """
        self.close_abandoned(time.monotonic())
        c, peer = self.client("soak-abandon"), tc.Peer()
        self.abandoned.append((time.monotonic() + DEFAULT_LIFETIME + 2, c))
        try:
            relay = self.allocate(c)
            expect_success(c.create_permission(peer.addr),
                           tc.CREATE_PERMISSION)
            data = tc.random_payload(60)
            c.send(peer.addr, data)
            expect_at_peer(peer, relay, data)
            self.tally.add("datagrams")
            self.tally.add("abandoned")
        finally:
            peer.close()
        time.sleep(ABANDON_PAUSE)

    def close_abandoned(self, now):
        """Close the sockets of abandoned allocations that ended by now."""
        while self.abandoned and self.abandoned[0][0] <= now:
            self.abandoned.popleft()[1].close()

    def relay_over_tcp(self):
        """An allocation over TCP relays both ways, then ends by Refresh 0
        or by the connection closing, in turn."""
        c, peer = self.client("soak-tcp", stream=True), tc.Peer()
        try:
            relay = self.allocate(c, LIFETIME)
            expect_success(c.create_permission(peer.addr),
                           tc.CREATE_PERMISSION)
            for n in (3, 700):
                data = tc.random_payload(n)
                c.send(peer.addr, data)
                expect_at_peer(peer, relay, data)
                peer.sendto(data[::-1], relay)
                expect_relayed(c, "data", peer.addr, data[::-1])
            self.tally.add("datagrams", 4)
            if self.tally.get("tcp") % 2:
                self.refresh_and_delete(c)
            else:
                self.tally.add("tcp closed")
            self.tally.add("tcp")
        finally:
            c.close()
            peer.close()

    def ws_joined(self, room, name):
        ws = wc.RawWebSocket.connect(self.daemon, timeout_s=WAIT)
        ws.send_json({"type": "join", "room": room, "name": name})
        w = self.ws_expect(ws, "welcome")
        ws.id = w["id"]
        self.tally.add("joins")
        return ws

    def ws_expect(self, ws, type_, **fields):
        msg = ws.recv_json(WAIT)
        if msg.get("type") != type_ or any(msg.get(k) != v
                                           for k, v in fields.items()):
            raise AssertionError("expected %s %r, got %r"
                                 % (type_, fields, msg))
        return msg

    def signaling(self):
        """Two peers meet in a new room, talk, and go: a leave and a drop,
        or a drop and a close without leave, in turn."""
        n = self.tally.add("rooms")
        room = "soak-%d" % n
        a = b = None
        try:
            a = self.ws_joined(room, "a")
            b = self.ws_joined(room, "b")
            self.ws_expect(a, "peer-joined", id=b.id)
            b.send_json({"type": "offer", "to": a.id, "sdp": "v=0 soak"})
            self.ws_expect(a, "offer", sdp="v=0 soak")
            a.send_json({"type": "answer", "to": b.id, "sdp": "v=0 back"})
            self.ws_expect(b, "answer", sdp="v=0 back")
            a.send_json({"type": "candidate", "to": b.id, "candidate": None})
            self.ws_expect(b, "candidate")
            b.send_json({"type": "chat", "text": "hello %d" % n})
            self.ws_expect(a, "chat", text="hello %d" % n)
            self.ws_expect(b, "chat", text="hello %d" % n)
            a.send_json({"type": "state", "state": {"n": n}})
            self.ws_expect(b, "state", state={"n": n})
            self.tally.add("ws messages", 5)
            if n % 2:
                a.send_json({"type": "leave"})
                if a.expect_close(WAIT) != (1000, "bye"):
                    raise AssertionError("leave not closed with 1000 bye")
                self.ws_expect(b, "peer-left", id=a.id)
                b.close()
                self.tally.add("ws leaves")
            else:
                b.close()
                self.ws_expect(a, "peer-left", id=b.id)
                a.shutdown(WAIT)
            self.tally.add("ws drops")
        finally:
            for ws in (a, b):
                if ws is not None:
                    ws.close()

    def worker(self, name, one_round):
        """Run one_round until stopped; the first failure stops them all."""
        try:
            while not self.stop.is_set():
                one_round()
                self.tally.add("rounds")
                time.sleep(PAUSE)
        except BaseException:
            self.failures.append("%s:\n%s" % (name, traceback.format_exc()))
            self.stop.set()

    # -- watching --

    def metrics(self):
        return {(n, tuple(sorted(lab.items()))): v
                for n, lab, v in wc.metric_samples(self.daemon)}

    def wait_idle(self):
        """Wait until nothing is live any more; returns the metrics."""
        live = ("turnpike_allocations", "turnpike_signaling_rooms",
                "turnpike_signaling_peers", "turnpike_signaling_connections",
                "turnpike_ws_connections")
        deadline = time.monotonic() + tp.timeout(DEFAULT_LIFETIME + 15)
        while True:
            m = self.metrics()
            left = {k: m.get((k, ())) for k in live if m.get((k, ())) != 0}
            if not left:
                return m
            if time.monotonic() > deadline:
                self.fail("still live after every client went: %r" % left)
            time.sleep(0.2)

    def check_rss(self, samples):
        """Flat after the warm-up; see the module comment."""
        warm_end = samples[0][0] + WARMUP_FRACTION * SOAK_SECONDS
        warm = [kb for t, kb in samples if t <= warm_end]
        later = [(t, kb) for t, kb in samples if t > warm_end]
        if len(later) < 2:
            print("soak: too short to judge RSS", file=sys.stderr)
            return
        bound = ASAN_BOUND_KB if self.asan else RSS_BOUND_KB
        top = max(kb for _, kb in later)
        rise = slope_kb_per_s(later) * (later[-1][0] - later[0][0])
        summary = ("RSS kB: start %d, warm-up max %d, later min %d max %d "
                   "last %d, fitted rise after warm-up %+.0f; bound %d%s"
                   % (samples[0][1], max(warm), min(kb for _, kb in later),
                      top, later[-1][1], rise, bound,
                      " (ASan)" if self.asan else ""))
        print("soak: " + summary, file=sys.stderr)
        print("soak: RSS samples: " + json.dumps(
            [kb for _, kb in samples]), file=sys.stderr)
        if tp.DAEMON_WRAPPER:
            print("soak: RSS not judged under TP_DAEMON_WRAPPER",
                  file=sys.stderr)
            return
        self.assertLessEqual(top - max(warm), bound,
                             "RSS grew after the warm-up: " + summary)
        self.assertLessEqual(rise, bound / 2,
                             "RSS keeps rising after the warm-up: "
                             + summary)

    def test_soak(self):
        rounds = [("udp relay", self.relay_to_peer),
                  ("udp pair", self.relay_between_allocations),
                  ("udp abandon", self.abandon),
                  ("tcp relay", self.relay_over_tcp),
                  ("signaling 1", self.signaling),
                  ("signaling 2", self.signaling)]
        threads = [threading.Thread(target=self.worker, args=r, daemon=True)
                   for r in rounds]
        start = time.monotonic()
        samples = [(start, self.daemon.rss_kb())]
        for t in threads:
            t.start()
        while not self.stop.is_set():
            left = start + SOAK_SECONDS - time.monotonic()
            if left <= 0:
                break
            self.stop.wait(min(SAMPLE_SECONDS, left))
            samples.append((time.monotonic(), self.daemon.rss_kb()))
        self.stop.set()
        for t in threads:
            t.join(tp.timeout(6 * WAIT))
        if self.failures:
            self.fail("a worker failed after %.0f s (%s):\n%s"
                      % (time.monotonic() - start, self.tally.text(),
                         "\n".join(self.failures)))
        if any(t.is_alive() for t in threads):
            self.fail("a worker did not finish its round")
        print("\nsoak: %.0f s, %d RSS samples; done: %s"
              % (SOAK_SECONDS, len(samples), self.tally.text()),
              file=sys.stderr)

        m = self.wait_idle()
        self.check_metrics(m)
        self.check_rss(samples)
        d, self.daemon = self.daemon, None
        d.__exit__(None, None, None)
        d.check_log(ALLOWED_LOG)

    def check_metrics(self, m):
        def value(name, **labels):
            return m.get((name, tuple(sorted(labels.items()))))
        made = self.tally.get("allocations")
        abandoned = self.tally.get("abandoned")
        seen = {
            "created": value("turnpike_allocations_created_total"),
            "expired": value("turnpike_allocations_ended_total",
                             reason="expired"),
            "deleted": value("turnpike_allocations_ended_total",
                             reason="deleted"),
            "joins": value("turnpike_signaling_messages_total",
                           type="join"),
            "to peers": value("turnpike_relay_packets_total",
                              direction="to_peer"),
        }
        print("soak: /metrics: %s" % ", ".join(
            "%s %d" % kv for kv in seen.items()), file=sys.stderr)
        self.assertGreater(abandoned, 0)
        self.assertGreater(self.tally.get("tcp"), 0)
        self.assertGreater(self.tally.get("joins"), 0)
        self.assertEqual(seen["created"], made)
        self.assertEqual(seen["expired"], abandoned)
        self.assertEqual(seen["deleted"], made - abandoned)
        self.assertEqual(seen["joins"], self.tally.get("joins"))


def slope_kb_per_s(samples):
    """The least-squares slope of (t, kB) samples, in kB per second."""
    n = len(samples)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in samples) / n
    mk = sum(kb for _, kb in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    return sum((t - mt) * (kb - mk) for t, kb in samples) / var


if __name__ == "__main__":
    tp.main()
