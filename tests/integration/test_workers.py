#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""daemon.workers: STUN and TURN served by several event loops at once.

With daemon.workers = N every worker binds its own listeners on the same
addresses (SO_REUSEPORT), the kernel spreads the clients' 5-tuples over
them, and an allocation lives on the worker its 5-tuple reached.  Through
real clients on many sockets, and /metrics to tell which worker got what
(turnpike_worker_received_total and turnpike_worker_allocations, read
before and after each client), this checks: N threads and a spread of
allocations; relaying between two allocations on one worker and on two,
in memory either way (turnpike_relay_between_allocations_total), both ways, as
Send/Data indications and ChannelData, also with both workers relaying
at the same time (bursts
queued while the daemon is stopped with SIGSTOP), where no datagram may
reach another client or arrive damaged; the quotas, RESERVATION-TOKENs
and nonces that must hold across workers; the families of /metrics
summed over workers; a SIGHUP that must reach every worker (users, peer
policy, pruned permissions, and daemon.workers itself being
restart-only); TCP allocations; "auto" and the config checks of -t; a
clean stop; and systemd's watchdog held back while one worker thread is
stopped (ptrace), and pinged again once it runs.

Not covered here: how evenly the kernel spreads clients (only that both
workers get some), TLS listeners (they share the TCP code path), more
than two workers at run time ("auto" may give more on a bigger host),
and data races that do not show in what clients receive (a TSan build
is the place for those).
"""

import contextlib
import ctypes
import errno
import http.client
import itertools
import os
import re
import select
import shutil
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402
import turncase  # noqa: E402
import turnclient as tc  # noqa: E402
from turncase import TurnCase, turn_conf  # noqa: E402

WORKERS_LINE = (r"^\d+ workers, each with its own listeners \(SO_REUSEPORT\) "
                r"and allocations$")

# turncase's lines, for TCP clients too, and the workers line.
ALLOWED_LOG = [p.replace("/udp", "/(?:udp|tcp)")
               .replace("(expired|deleted|stopped)",
                        "(expired|deleted|stopped|closed)")
               for p in turncase.ALLOWED_LOG] + [WORKERS_LINE]

RESTART_ONLY = (r"^reload: daemon\.workers changed; it takes effect after a "
                r"restart$")

# test_relay_on_both_workers_at_once: datagrams per flow, in bursts.
BLAST_ROUNDS, BLAST_BURST = 5, 150

# More clients than this without reaching what a test needs on every
# worker means the kernel does not spread them at all.
MAX_CLIENTS = 64

SAMPLE = re.compile(r"^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def workers_conf(workers=2, **turn):
    """turn_conf(**turn) with loopback peers allowed unless turn says
    otherwise, and daemon.workers."""
    turn.setdefault("allowed_peers", ["127.0.0.1"])
    conf = turn_conf(**turn)
    conf["daemon"] = {"workers": workers}
    return conf


class WorkersDaemon(tp.Daemon):
    """A tp.Daemon with HTTP (/metrics) on a second free port,
    self.http_port, picked anew with each port the harness tries and
    kept over write_conf() for reloads."""

    def __init__(self, conf=None, **kw):
        super().__init__(conf, **kw)
        self.http_port = None
        self.http_for = None

    def default_conf(self):
        if self.http_for != self.port:
            port = self.port
            while port == self.port:
                port = tp.free_port()
            self.http_port, self.http_for = port, self.port
        return tp.merge_conf(super().default_conf(), {
            "http": {"listen": ["127.0.0.1:%d" % self.http_port]}})


def http_get(d, path):
    """(status, body) of GET path on d's HTTP listener."""
    conn = http.client.HTTPConnection("127.0.0.1", d.http_port,
                                      timeout=tp.timeout(5))
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8")
    finally:
        conn.close()


def metrics(d):
    """/metrics of d as {(name, ((label, value), ...)): value}."""
    status, body = http_get(d, "/metrics")
    if status != 200:
        raise AssertionError("/metrics: status %d" % status)
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m is None:
            raise AssertionError("/metrics line %r" % line)
        labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(m, name, **labels):
    """One sample of metrics m; fails when it is missing."""
    key = (name, tuple(sorted(labels.items())))
    if key not in m:
        raise AssertionError("no %s%r in /metrics" % key)
    return m[key]


def by_worker(m, name):
    """The samples of name labelled worker="0".."N-1", as a list; fails
    unless they are exactly those N."""
    found = {dict(labels)["worker"]: v for (n, labels), v in m.items()
             if n == name}
    workers = int(value(m, "turnpike_workers"))
    if sorted(found) != sorted(str(i) for i in range(workers)):
        raise AssertionError("%s for workers %s, turnpike_workers %d"
                             % (name, sorted(found), workers))
    return [found[str(i)] for i in range(workers)]


def blast_payload(flow, r, i, size=1000):
    """size bytes that say which flow, round and datagram they are."""
    head = b"%d-%d-%d|" % (flow, r, i)
    return (head * (size // len(head) + 1))[:size]


def proc_state(pid):
    """The state letter of pid in /proc (R, S, T...)."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def udp_queued(port):
    """Bytes waiting in the receive queues of the UDP sockets bound to
    127.0.0.1:port, from /proc/net/udp."""
    total = 0
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "0100007F:%04X" % port:
                total += int(fields[4].split(":")[1], 16)
    return total


def tasks(pid):
    """How many threads serve in pid: the main thread and those named
    "worker N" (not counting threads a sanitizer may add)."""
    n = 1
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                n += re.fullmatch(r"worker \d+\n?", f.read()) is not None
        except FileNotFoundError:
            pass
    return n


PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000  # waitpid's __WALL: a thread of another process too


def thread_id(pid, name):
    """The id of pid's thread called name (its comm)."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() == name:
                return int(tid)
    raise AssertionError("no thread %r in process %d" % (name, pid))


@contextlib.contextmanager
def thread_stopped(test, pid, name):
    """Stop the thread called name of process pid alone, as one stuck in
    a loop would be, with ptrace (PTRACE_SEIZE, PTRACE_INTERRUPT); it
    runs again when the block ends.  Skips the test where ptrace is not
    allowed."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long,
                            ctypes.c_void_p, ctypes.c_void_p]
    libc.ptrace.restype = ctypes.c_long
    tid = thread_id(pid, name)
    if libc.ptrace(PTRACE_SEIZE, tid, None, None) == -1:
        err = ctypes.get_errno()
        if err == errno.EPERM:
            test.skipTest("ptrace is not allowed here")
        raise OSError(err, os.strerror(err))
    try:
        if libc.ptrace(PTRACE_INTERRUPT, tid, None, None) == -1:
            raise OSError(ctypes.get_errno(), "PTRACE_INTERRUPT")
        test.assertEqual(os.waitpid(tid, WALL)[0], tid)
        yield tid
    finally:
        if libc.ptrace(PTRACE_DETACH, tid, None, None) == -1:
            raise OSError(ctypes.get_errno(), "PTRACE_DETACH")


class WorkersCase(TurnCase):
    """Each test starts its own daemon (start_daemon) so that it can count
    what the workers hold."""

    CONF = None

    def start_daemon(self, conf, allowed=(), **kw):
        d = WorkersDaemon(conf, **kw).__enter__()

        def done():
            d.__exit__(None, None, None)
            d.check_log(ALLOWED_LOG + list(allowed))
        self.addCleanup(done)
        return d

    def stream_client(self, d, user="alice"):
        c = tc.StreamClient(d.addr(), user, turncase.USERS.get(user),
                            timeout=tp.timeout(2))
        self.addCleanup(c.close)
        return c

    # -- telling the workers apart --

    def on_worker(self, d, fn):
        """Run fn() (requests from one client); returns (its result, the
        worker whose turnpike_worker_received_total rose)."""
        before = by_worker(metrics(d), "turnpike_worker_received_total")
        out = fn()
        after = by_worker(metrics(d), "turnpike_worker_received_total")
        rose = [i for i, (a, b) in enumerate(zip(before, after)) if b > a]
        self.assertEqual(len(rose), 1, "received by workers %r -> %r"
                         % (before, after))
        return out, rose[0]

    def allocated_on(self, d, user="alice", stream=False, **kw):
        """A client with an allocation (allocated(), or over TCP); its
        worker in c.worker, checked by turnpike_worker_allocations."""
        before = by_worker(metrics(d), "turnpike_worker_allocations")
        if stream:
            c = self.stream_client(d, user)

            def alloc():
                c.allocation = c.allocate(**kw)
                self.assert_success(c.allocation, tc.ALLOCATE)
                return c
            c, c.worker = self.on_worker(d, alloc)
        else:
            c, c.worker = self.on_worker(
                d, lambda: self.allocated(user, daemon=d, **kw))
        after = by_worker(metrics(d), "turnpike_worker_allocations")
        before[c.worker] += 1
        self.assertEqual(after, before, "allocations by worker after one "
                         "more on worker %d" % c.worker)
        return c

    def spread(self, d, enough, make):
        """make(i) clients (with .worker) until enough(clients) says the
        workers have what the test needs; returns the clients."""
        clients = []
        while not enough(clients):
            self.assertLess(len(clients), MAX_CLIENTS,
                            "the clients do not reach every worker: %r"
                            % [c.worker for c in clients])
            clients.append(make(len(clients)))
        return clients

    def per_worker(self, clients, n=2, least=0, workers=2):
        """Whether clients has n on each worker and least in all."""
        return len(clients) >= least and all(
            sum(c.worker == w for c in clients) >= n
            for w in range(workers))

    def relay_with_peer(self, c, peer):
        """c (with a permission for the peer's IP) and peer exchange a
        datagram each way through c's allocation."""
        relay = tc.relayed_address(c.allocation)
        data = tc.random_payload(60)
        c.send(peer.addr, data)
        self.assert_to_peer(peer, relay, data)
        peer.sendto(data[::-1], relay)
        self.assert_from_peer(c, peer.addr, data[::-1])


class Workers(WorkersCase):
    """Two workers serving one set of clients."""

    def test_threads_and_spread(self):
        """Two workers are two threads; 32 clients land on both, and the
        per-worker gauge adds up to turnpike_allocations."""
        d = self.start_daemon(workers_conf(2))
        self.wait_for(lambda: tasks(d.pid) == 2, 2, "2 threads")
        self.assertEqual(len(d.find_log(r"^2 workers, each with its own "
                                        r"listeners", level="info")), 1)
        clients = [self.allocated(daemon=d) for _ in range(32)]
        relays = {tc.relayed_address(c.allocation) for c in clients}
        self.assertEqual(len(relays), 32, "relayed addresses shared")
        m = metrics(d)
        self.assertEqual(value(m, "turnpike_workers"), 2)
        per = by_worker(m, "turnpike_worker_allocations")
        self.assertTrue(all(n > 0 for n in per), per)
        self.assertEqual(sum(per), 32)
        self.assertEqual(value(m, "turnpike_allocations"), 32)
        self.assertEqual(value(m, "turnpike_allocations_created_total"), 32)
        # Each 5-tuple keeps reaching the worker that holds its
        # allocation.
        for c in clients:
            self.assert_success(c.refresh(), tc.REFRESH)
        self.assertEqual(tasks(d.pid), 2)

    def test_relay_across_and_within_workers(self):
        """Every pair of allocations, on one worker or on two, relays to
        each other's relayed addresses both ways: Send indications to
        Data indications, then ChannelData to ChannelData."""
        d = self.start_daemon(workers_conf(2))
        clients = self.spread(d, lambda cs: self.per_worker(cs, 2, 6),
                              lambda i: self.allocated_on(d))
        relays = [tc.relayed_address(c.allocation) for c in clients]
        pairs = list(itertools.combinations(range(len(clients)), 2))
        self.assertEqual({clients[i].worker == clients[j].worker
                          for i, j in pairs}, {True, False})
        for c in clients:
            self.assert_success(c.create_permission("127.0.0.1"),
                                tc.CREATE_PERMISSION)
        before = metrics(d)
        for i, j in pairs:
            a, b = clients[i], clients[j]
            data = tc.random_payload(100 + i)
            a.send(relays[j], data)
            self.assert_from_peer(b, relays[i], data)
            b.send(relays[i], data[::-1])
            self.assert_from_peer(a, relays[j], data[::-1])
        for i, c in enumerate(clients):
            for j, relay in enumerate(relays):
                if i != j:
                    self.assert_success(c.channel_bind(0x4000 + j, relay),
                                        tc.CHANNEL_BIND)
        for i, j in pairs:
            a, b = clients[i], clients[j]
            data = tc.random_payload(200 + j)
            a.send_channel(0x4000 + j, data)
            self.assert_from_peer(b, relays[i], data, channel=0x4000 + i)
            b.send_channel(0x4000 + i, data[::-1])
            self.assert_from_peer(a, relays[j], data[::-1],
                                  channel=0x4000 + j)
        self.assert_nothing(*clients)
        # Each datagram counted once leaving a relay, once arriving.
        after = metrics(d)
        for direction in ("to_peer", "to_client"):
            n = (value(after, "turnpike_relay_packets_total",
                       direction=direction)
                 - value(before, "turnpike_relay_packets_total",
                         direction=direction))
            self.assertEqual(n, 4 * len(pairs), direction)
        # None of them through the kernel: in memory on one worker, and
        # handed over between two.
        for path, same in (("within_worker", True),
                           ("across_workers", False)):
            n = (value(after, "turnpike_relay_between_allocations_total", path=path)
                 - value(before, "turnpike_relay_between_allocations_total",
                         path=path))
            self.assertEqual(n, 4 * sum(
                (clients[i].worker == clients[j].worker) == same
                for i, j in pairs), path)
        # And with a peer outside, from each worker.
        peer = self.peer()
        for w in (0, 1):
            self.relay_with_peer(next(c for c in clients if c.worker == w),
                                 peer)

    def test_relay_on_both_workers_at_once(self):
        """Both workers relay at the same time, each within itself and
        to the other (both in memory): every datagram reaches its own
        receiver only, intact and from its own sender's relayed
        address."""
        d = self.start_daemon(workers_conf(2, max_bandwidth=0))
        clients = self.spread(d, lambda cs: self.per_worker(cs, 2),
                              lambda i: self.allocated_on(d))
        x0, y0 = [c for c in clients if c.worker == 0][:2]
        x1, y1 = [c for c in clients if c.worker == 1][:2]
        # (sender, receiver): each client sends one flow and gets one.
        flows = [(x0, y0), (x1, y1), (y0, x1), (y1, x0)]
        for c in (x0, y0, x1, y1):
            self.assert_success(c.create_permission("127.0.0.1"),
                                tc.CREATE_PERMISSION)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        for src, dst in flows:
            self.assert_success(
                src.channel_bind(0x4000, tc.relayed_address(dst.allocation)),
                tc.CHANNEL_BIND)
        flow_of = {dst.sock: (k, src, dst)
                   for k, (src, dst) in enumerate(flows)}
        got = [0] * len(flows)
        for r in range(BLAST_ROUNDS):
            # Queued while the daemon is stopped, the bursts keep both
            # workers busy at the same time once it goes on.
            d.signal(signal.SIGSTOP)
            try:
                self.wait_for(lambda: proc_state(d.pid) == "T", 2,
                              "SIGSTOP")
                for i in range(BLAST_BURST):
                    for k, (src, dst) in enumerate(flows):
                        src.send_channel(0x4000, blast_payload(k, r, i))
            finally:
                d.signal(signal.SIGCONT)
            while True:
                ready, _, _ = select.select(list(flow_of), [], [], 0.05)
                if not ready:
                    break
                for sock in ready:
                    k, src, dst = flow_of[sock]
                    data = sock.recv(65536)
                    what = "flow %d (worker %d to %d)" % (k, src.worker,
                                                          dst.worker)
                    try:
                        kind, peer, payload = tc.parse_relayed(data)
                    except ValueError as e:
                        self.fail("%s: %s in %r" % (what, e, data[:60]))
                    sender = tc.relayed_address(src.allocation)
                    what += " delivered %s from %r (not %r): %r..." % (
                        kind, peer, sender, payload[:24])
                    self.assertEqual(kind, "data", what)
                    self.assertTrue(tc.same_addr(peer, sender), what)
                    head = payload.partition(b"|")[0].split(b"-")
                    self.assertEqual(head[0], b"%d" % k, what)
                    self.assertEqual(payload, blast_payload(
                        k, int(head[1]), int(head[2])), what)
                    got[k] += 1
        self.assertTrue(all(got), "nothing relayed: %r" % got)

    @tp.skip_if_wrapped("the daemon's threads are stopped with ptrace, "
                        "which the wrapper holds")
    def test_full_inbox_goes_through_kernel(self):
        """While worker 1 is stopped, a client on worker 0 sends 400
        datagrams to the relayed address of a client on worker 1: the
        first 256 fill worker 1's inbox, the other 144 go through the
        kernel into the receiving relay socket, and once worker 1 runs
        again its client gets all 400."""
        count, inbox = 400, 256
        d = self.start_daemon(workers_conf(2, max_bandwidth=0))
        clients = self.spread(d, lambda cs: self.per_worker(cs, 1),
                              lambda i: self.allocated_on(d))
        a = next(c for c in clients if c.worker == 0)
        b = next(c for c in clients if c.worker == 1)
        for c in (a, b):
            self.assert_success(c.create_permission("127.0.0.1"),
                                tc.CREATE_PERMISSION)
        b.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        to_b = tc.relayed_address(b.allocation)
        before = metrics(d)
        with thread_stopped(self, d.pid, "worker 1"):
            for i in range(count):
                a.send(to_b, struct.pack("!I", i) + bytes(60))
            # Worker 0 has read them all once its listener is empty.
            self.wait_for(lambda: not udp_queued(d.addr()[1]), 2,
                          "worker 0 read every datagram")
            self.assertIsNone(b.recv_relayed(0.2), "delivered by a "
                              "stopped worker")
        got = set()
        while len(got) < count:
            r = b.recv_relayed(tp.timeout(2))
            if r is None:
                break
            self.assertEqual(r[0], "data")
            self.assertTrue(tc.same_addr(r[1], tc.relayed_address(
                a.allocation)), r[1])
            got.add(struct.unpack("!I", r[2][:4])[0])
        self.assertEqual(sorted(set(range(count)) - got), [],
                         "datagrams lost")
        after = metrics(d)

        def delta(path):
            return (value(after, "turnpike_relay_between_allocations_total",
                          path=path)
                    - value(before,
                            "turnpike_relay_between_allocations_total",
                            path=path))
        self.assertEqual(delta("across_workers"), inbox)
        self.assertEqual(delta("inbox_full"), count - inbox)

    def test_quota_per_user_across_workers(self):
        """turn.max_allocations_per_user = 3 holds over both workers,
        each tried by 4 or more clients of one user; a deleted
        allocation frees its place for a client of either worker."""
        d = self.start_daemon(workers_conf(2, max_allocations_per_user=3))

        def attempt(i):
            c = self.client(daemon=d)
            c.answer, c.worker = self.on_worker(d, c.allocate)
            return c

        clients = self.spread(d, lambda cs: self.per_worker(cs, 4), attempt)
        ok = [c for c in clients if c.answer.cls == sc.SUCCESS]
        self.assertEqual(len(ok), 3, [tc.describe(c.answer)
                                      for c in clients])
        for c in clients:
            if c not in ok:
                self.assert_error(c.answer, tc.ALLOCATE, 486, signed=True)
        self.assert_success(ok[0].refresh(lifetime=0), tc.REFRESH)
        self.assert_success(self.client(daemon=d).allocate(), tc.ALLOCATE)
        self.assert_error(self.client(daemon=d).allocate(), tc.ALLOCATE, 486,
                          signed=True)
        self.assertEqual(value(metrics(d), "turnpike_allocations"), 3)

    def test_quota_total_across_workers(self):
        """turn.max_allocations = 4 for two users holds over both
        workers, each tried by 5 or more clients."""
        d = self.start_daemon(workers_conf(2, max_allocations=4))

        def attempt(i):
            c = self.client(("alice", "bob")[i % 2], daemon=d)
            c.answer, c.worker = self.on_worker(d, c.allocate)
            return c

        clients = self.spread(d, lambda cs: self.per_worker(cs, 5), attempt)
        for i, c in enumerate(clients):
            if i < 4:
                self.assert_success(c.answer, tc.ALLOCATE)
            else:
                self.assert_error(c.answer, tc.ALLOCATE, 508, signed=True)
        self.assertEqual(sum(by_worker(metrics(d),
                                       "turnpike_worker_allocations")), 4)

    def test_reservation_token_across_workers(self):
        """A RESERVATION-TOKEN made on one worker gets port + 1 on either,
        once; the reserved port relays for the worker that took it."""
        d = self.start_daemon(workers_conf(2))
        peer = self.peer()
        seen = set()
        token = None
        for n in itertools.count():
            if n >= 6 and seen == {True, False}:
                break
            self.assertLess(n, MAX_CLIENTS // 2,
                            "never both on one worker and on two")
            first = self.allocated_on(d, even=True)
            ip, port = tc.relayed_address(first.allocation)
            self.assertEqual(port % 2, 0)
            token = first.allocation.get(tc.RESERVATION_TOKEN)
            self.assertIsNotNone(token, "no RESERVATION-TOKEN")
            second = self.allocated_on(d, token=token)
            self.assertEqual(tc.relayed_address(second.allocation),
                             (ip, port + 1),
                             "token of worker %d used on worker %d"
                             % (first.worker, second.worker))
            seen.add(first.worker == second.worker)
            self.assert_success(second.create_permission("127.0.0.1"),
                                tc.CREATE_PERMISSION)
            self.relay_with_peer(second, peer)
        # Spent, on every worker.
        refused = set()
        for _ in range(MAX_CLIENTS):
            c = self.client(daemon=d)
            ans, w = self.on_worker(d, lambda: c.allocate(token=token))
            self.assert_error(ans, tc.ALLOCATE, 508, signed=True)
            refused.add(w)
            if refused == {0, 1}:
                break
        self.assertEqual(refused, {0, 1})

    def test_nonce_on_every_worker(self):
        """A nonce one worker gave is good on the other."""
        d = self.start_daemon(workers_conf(2))
        first, w0 = self.on_worker(
            d, lambda: self.allocated(daemon=d))
        for _ in range(MAX_CLIENTS):
            c = self.client(daemon=d, realm=first.realm, nonce=first.nonce)
            req = c.sign(tc.ALLOCATE, [tc.requested_transport()])
            ans, w = self.on_worker(d, lambda: c.transact(req))
            self.assert_success(ans, tc.ALLOCATE)
            if w != w0:
                break
        else:
            self.fail("no client reached the other worker")

    def test_metrics_summed(self):
        """Binding requests from 32 sockets: the summed families count
        each once, and both workers received some."""
        d = self.start_daemon(workers_conf(2))
        before = metrics(d)
        k = 32
        for _ in range(k):
            s = sc.udp_socket("127.0.0.1")
            self.addCleanup(s.close)
            ans = sc.udp_transaction(s, d.addr(), sc.binding_request(),
                                     tp.timeout(2))
            self.assertIsNotNone(ans, "no Binding answer")
            self.assertEqual(sc.parse(ans).cls, sc.SUCCESS)
        after = metrics(d)

        def rose(name, **labels):
            return (value(after, name, **labels)
                    - value(before, name, **labels))
        self.assertEqual(rose("turnpike_stun_requests_total",
                              method="binding"), k)
        self.assertEqual(rose("turnpike_stun_binding_responses_total"), k)
        per = [a - b for a, b in zip(
            by_worker(after, "turnpike_worker_received_total"),
            by_worker(before, "turnpike_worker_received_total"))]
        self.assertTrue(all(n > 0 for n in per), per)
        self.assertGreaterEqual(sum(per), k)
        self.assertEqual(sum(per), rose("turnpike_transport_packets_total",
                                        transport="udp", direction="rx"))

    def test_tcp_allocations(self):
        """Allocations over TCP connections, on both workers, relay to a
        UDP peer both ways."""
        d = self.start_daemon(workers_conf(2))
        clients = self.spread(d, lambda cs: self.per_worker(cs, 2, 6),
                              lambda i: self.allocated_on(d, stream=True))
        peer = self.peer()
        for c in clients:
            self.assert_success(c.create_permission("127.0.0.1"),
                                tc.CREATE_PERMISSION)
            self.relay_with_peer(c, peer)
        self.assertEqual(value(metrics(d), "turnpike_connections_open",
                               transport="tcp"), len(clients))
        # A closed connection takes its allocation along, on its worker.
        for c in clients:
            c.close()
        self.wait_for(lambda: by_worker(metrics(d),
                                        "turnpike_worker_allocations")
                      == [0, 0], 2, "allocations closed with connections")

    def test_connection_limit_over_workers(self):
        """stream.max_connections counts the connections of every worker:
        with 4 held, on both workers, each further one is closed at once,
        whichever worker the kernel hands it to."""
        conf = workers_conf(2)
        conf["stream"] = {"max_connections": 4}
        d = self.start_daemon(conf, allowed=[
            r"^tcp: 4 connections open, the limit "
            r"\(stream\.max_connections\); refusing new ones$",
            r"^tcp: below the connection limit again$"])
        held, tries = [], 0
        while len(held) < 4 or len({c.worker for c in held}) < 2:
            tries += 1
            self.assertLess(tries, MAX_CLIENTS, "all connections on one "
                            "worker: %r" % [c.worker for c in held])
            if len(held) == 4:  # all on one worker: make room
                held.pop(0).close()
                self.wait_for(lambda: value(
                    metrics(d), "turnpike_connections_open",
                    transport="tcp") == 3, 2, "a connection closed")
            held.append(self.allocated_on(d, stream=True))
        for _ in range(8):
            s = socket.create_connection(d.addr(), tp.timeout(2))
            self.addCleanup(s.close)
            ready, _, _ = select.select([s], [], [], tp.timeout(1))
            self.assertTrue(ready and s.recv(1) == b"",
                            "a 5th connection was kept open")
        m = metrics(d)
        self.assertEqual(value(m, "turnpike_connections_open",
                               transport="tcp"), 4)
        peer = self.peer()
        for c in held:
            self.assert_success(c.create_permission("127.0.0.1"),
                                tc.CREATE_PERMISSION)
            self.relay_with_peer(c, peer)

    def test_clean_stop(self):
        """SIGTERM with allocations (UDP and TCP) on both workers: exit
        status 0, one "allocation stopped" per allocation, then
        "stopped"."""
        d = self.start_daemon(workers_conf(2))
        clients = self.spread(
            d, lambda cs: self.per_worker(cs, 2, 6),
            lambda i: self.allocated_on(d, stream=i % 3 == 2))
        mark = d.mark()
        self.assertEqual(d.stop(), 0)
        stopped = d.find_log(r"^allocation stopped: ", since=mark)
        self.assertEqual(len(stopped), len(clients), "\n".join(stopped))
        for c in clients:
            kind = "tcp" if isinstance(c, tc.StreamClient) else "udp"
            self.assertEqual(len(d.find_log(
                r"^allocation stopped: client 127\.0\.0\.1:%d/%s "
                % (c.addr[1], kind), since=mark)), 1)
        self.assertEqual(d.entries()[-1], ("info", "stopped"))


class Reload(WorkersCase):
    """A SIGHUP reaches every worker."""

    def test_reload_reaches_every_worker(self):
        """A reload that denies a peer and removes a user: the
        permissions and channels to the peer go on both workers (counted
        once in the log), relaying to it stops, the user gets 401, a new
        user allocates, and the peer still allowed keeps working."""
        d = self.start_daemon(workers_conf(
            2, allowed_peers=["127.0.0.1", "127.0.0.2"]))
        near, far = self.peer(), self.peer("127.0.0.2")

        def enough(cs):
            return all(any(c.worker == w and c.username == u for c in cs)
                       for w in (0, 1) for u in ("alice", "bob"))
        clients = self.spread(d, enough, lambda i: self.allocated_on(
            d, ("alice", "bob")[i % 2]))
        for c in clients:
            self.assert_success(c.create_permission("127.0.0.1"),
                                tc.CREATE_PERMISSION)
            self.assert_success(c.channel_bind(0x4000, far.addr),
                                tc.CHANNEL_BIND)
            c.send_channel(0x4000, b"before")
            self.assert_to_peer(far, tc.relayed_address(c.allocation),
                                b"before")

        mark = self.reload(workers_conf(
            2, users=["alice:alice-pw", "carol:carol-pw"]), d)
        removed = d.find_log(r"^reload: \d+ permissions and channels",
                             since=mark)
        # One permission and one channel per allocation.
        self.assertEqual(removed, ["reload: %d permissions and channels to "
                                   "peers now denied removed"
                                   % (2 * len(clients))])

        for c in clients:
            relay = tc.relayed_address(c.allocation)
            c.send_channel(0x4000, b"after, channel")
            c.send(far.addr, b"after, send")
            far.sendto(b"after, from the peer", relay)
        self.assert_nothing(far, *clients)
        for c in clients:
            self.relay_with_peer(c, near)
            if c.username == "alice":
                self.assert_error(c.create_permission("127.0.0.2"),
                                  tc.CREATE_PERMISSION, 403, signed=True)
            else:
                self.assert_error(c.refresh(), tc.REFRESH, 401,
                                  signed=False)
        self.spread(d, lambda cs: self.per_worker(cs, 1),
                    lambda i: self.allocated_on(d, "carol",
                                                password="carol-pw"))
        refused = set()
        for _ in range(MAX_CLIENTS):
            c = self.client("bob", daemon=d)
            ans, w = self.on_worker(d, c.allocate)
            self.assert_error(ans, tc.ALLOCATE, 401, signed=False)
            refused.add(w)
            if refused == {0, 1}:
                break
        self.assertEqual(refused, {0, 1})

    def test_workers_restart_only(self):
        """A reload that changes daemon.workers warns and keeps the
        workers running; the reloaded rest applies."""
        d = self.start_daemon(workers_conf(2), allowed=[RESTART_ONLY])
        mark = self.reload(workers_conf(3, users=["carol:carol-pw"]), d)
        self.assertEqual(len(d.find_log(RESTART_ONLY, since=mark,
                                        level="warning")), 1)
        self.assertEqual(tasks(d.pid), 2)
        self.assertEqual(value(metrics(d), "turnpike_workers"), 2)
        self.spread(d, lambda cs: self.per_worker(cs, 1),
                    lambda i: self.allocated_on(d, "carol",
                                                password="carol-pw"))


LATE_LINE = (r"^worker 1 has not run for \d+ ms; /healthz fails, and "
             r"systemd is not told all is well$")
LATE_LINE_NO_SYSTEMD = r"^worker 1 has not run for \d+ ms; /healthz fails$"
AGAIN_LINE = r"^worker 1 runs again$"


class Watchdog(WorkersCase):
    """Every worker's loop must turn: one thread of the daemon is stopped
    alone (ptrace), as a worker stuck in a loop would be.  systemd's
    watchdog is then not told all is well, /healthz fails, and /metrics
    still answers, showing the stuck worker as it last was."""

    def assert_stuck_shown(self, d, alloc_by_worker):
        """While worker 1 is stuck: /healthz 503 naming it, and /metrics
        answers with turnpike_worker_stuck 1 for it and its last
        figures."""
        status, body = http_get(d, "/healthz")
        self.assertEqual(status, 503, body)
        self.assertRegex(body, r"^worker 1 has not run for \d+ ms\n$")
        m = metrics(d)
        self.assertEqual(by_worker(m, "turnpike_worker_stuck"), [0, 1])
        self.assertEqual(by_worker(m, "turnpike_worker_allocations"),
                         alloc_by_worker)

    def assert_runs_again(self, d):
        status, body = http_get(d, "/healthz")
        self.assertEqual((status, body), (200, "ok\n"))
        self.assertEqual(by_worker(metrics(d), "turnpike_worker_stuck"),
                         [0, 0])
        self.assert_serving(daemon=d)

    def one_on_each(self, d):
        """An allocation on each worker; their counts by worker."""
        self.spread(d, lambda cs: self.per_worker(cs, 1),
                    lambda i: self.allocated_on(d))
        return by_worker(metrics(d), "turnpike_worker_allocations")

    @tp.skip_if_wrapped("the daemon's threads are stopped with ptrace, "
                        "which the wrapper holds")
    def test_stuck_worker_withholds_pings(self):
        """With WATCHDOG_USEC=400000 (times TP_TIMEOUT_SCALE): WATCHDOG=1
        comes while both workers run; none once worker 1 has been stopped
        for half of that, with one warning naming it; pings again once it
        runs, with one line."""
        if "systemd" not in tp.run(["-V"]).stdout:
            self.skipTest("built without libsystemd: no sd_notify")
        usec = int(tp.timeout(0.4) * 1e6)
        tmp = tp.make_tempdir("tp-watchdog-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(notify.close)
        notify.bind(path)
        os.chmod(tmp, 0o711)  # the daemon runs as nobody when we are root
        os.chmod(path, 0o777)

        def pings(wait):
            """The WATCHDOG=1 messages that came, waiting up to wait
            seconds for the first."""
            got, deadline = 0, time.monotonic() + wait
            while select.select([notify], [], [], 0 if got else max(
                    0, deadline - time.monotonic()))[0]:
                got += notify.recv(4096).decode().split("\n").count(
                    "WATCHDOG=1")
            return got

        d = self.start_daemon(workers_conf(2), [LATE_LINE, AGAIN_LINE],
                              env={"NOTIFY_SOCKET": path,
                                   "WATCHDOG_USEC": str(usec)})
        self.wait_for(lambda: tasks(d.pid) == 2, 2, "2 threads")
        self.assertGreater(pings(tp.timeout(2)), 0, "no WATCHDOG=1")
        alloc_by_worker = self.one_on_each(d)
        mark = d.mark()
        with thread_stopped(self, d.pid, "worker 1"):
            d.wait_log(LATE_LINE, since=mark, timeout_s=2, level="warning")
            pings(0)  # any sent before the warning
            # Four times the ping interval: none.
            self.assertEqual(pings(usec / 1e6) + pings(0), 0,
                             "WATCHDOG=1 with worker 1 stopped")
            # The main loop still serves HTTP; the warning is said once.
            self.assert_stuck_shown(d, alloc_by_worker)
            self.assertEqual(len(d.find_log(LATE_LINE, mark)), 1)
        d.wait_log(AGAIN_LINE, since=mark, timeout_s=2, level="info")
        self.assertGreater(pings(tp.timeout(2)), 0,
                           "no WATCHDOG=1 after worker 1 runs again")
        self.assertEqual(len(d.find_log(LATE_LINE, mark)), 1)
        self.assert_runs_again(d)

    @tp.skip_if_wrapped("the daemon's threads are stopped with ptrace, "
                        "which the wrapper holds")
    def test_stuck_worker_without_systemd(self):
        """Without systemd's watchdog a worker is stuck after 10 s
        (WORKERS_STUCK_MS).  Before that, /metrics waits for it only
        briefly (WORKER_READ_MS, 0.5 s) and still shows it as it was."""
        d = self.start_daemon(workers_conf(2),
                              [LATE_LINE_NO_SYSTEMD, AGAIN_LINE])
        self.wait_for(lambda: tasks(d.pid) == 2, 2, "2 threads")
        alloc_by_worker = self.one_on_each(d)
        mark = d.mark()
        with thread_stopped(self, d.pid, "worker 1"):
            started = time.monotonic()
            m = metrics(d)
            self.assertLess(time.monotonic() - started, tp.timeout(3),
                            "/metrics waited for the stopped worker")
            self.assertEqual(by_worker(m, "turnpike_worker_allocations"),
                             alloc_by_worker)
            if time.monotonic() - started < 9:
                self.assertEqual(http_get(d, "/healthz"), (200, "ok\n"))
            d.wait_log(LATE_LINE_NO_SYSTEMD, since=mark, timeout_s=15,
                       level="warning")
            self.assertGreaterEqual(time.monotonic() - started, 9.5)
            self.assert_stuck_shown(d, alloc_by_worker)
            self.assertEqual(len(d.find_log(LATE_LINE_NO_SYSTEMD, mark)),
                             1)
        d.wait_log(AGAIN_LINE, since=mark, timeout_s=3, level="info")
        self.assert_runs_again(d)


class Config(WorkersCase):
    """"auto", the default, and what -t says about daemon.workers."""

    def check_workers(self, d, n):
        self.wait_for(lambda: tasks(d.pid) == n, 2, "%d threads" % n)
        m = metrics(d)
        self.assertEqual(value(m, "turnpike_workers"), n)
        self.assertEqual(len(by_worker(m, "turnpike_worker_allocations")),
                         n)
        lines = d.find_log(WORKERS_LINE)
        self.assertEqual(lines, [] if n == 1 else [
            "%d workers, each with its own listeners (SO_REUSEPORT) and "
            "allocations" % n])
        self.assert_serving(daemon=d)

    def test_auto(self):
        d = self.start_daemon(workers_conf("auto"))
        self.check_workers(d, min(len(os.sched_getaffinity(0)), 64))

    def test_default_is_one(self):
        if tp.WORKERS:
            self.skipTest("TP_WORKERS sets daemon.workers in every config")
        conf = workers_conf()
        del conf["daemon"]
        self.check_workers(self.start_daemon(conf), 1)

    def write(self, workers):
        """A config file with daemon.workers on line 1."""
        tmp = tp.make_tempdir("tp-workers-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "w.conf")
        rest = {g: k for g, k in tp.base_conf().items() if g != "daemon"}
        tp.write_file(path, "daemon = { workers = %s; user = %s; };\n%s"
                      % (tp.conf_value(workers),
                         tp.conf_value(tp.default_user()),
                         tp.render_conf(rest)))
        return path

    def test_check_errors(self):
        for workers, message in (
                (0, "daemon.workers: 0 is out of range 1..64"),
                (65, "daemon.workers: 65 is out of range 1..64"),
                ("many", 'daemon.workers: expected an integer or "auto"'),
                ("Auto", 'daemon.workers: expected an integer or "auto"')):
            path = self.write(workers)
            r = tp.run(["-t", "-c", path])
            self.assertEqual((r.returncode, r.stdout, r.stderr),
                             (1, "", "%s:1: %s\n" % (path, message)))

    def test_check_prints(self):
        for workers, shown in (("auto", '"auto"'), (64, "64"), (1, "1")):
            r = tp.run(["-t", "-v", "-c", self.write(workers)])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"(?m)^\s*workers = %s;$"
                             % re.escape(shown))


if __name__ == "__main__":
    tp.main()
