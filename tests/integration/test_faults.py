#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""turnpiked when things go wrong around it: reloads under load, a bad
file on reload, no relay port left, no file descriptor left, clients that
vanish, peers that do not exist.

Each fault is followed by its recovery: the daemon must keep serving what
it already serves, refuse what it cannot do with the error the RFC names
(508 for a relay it cannot open), and serve again once the resource is
back, without a restart, a crash or a log line nobody expected.

The wall clock is stepped for one daemon only, by an LD_PRELOAD shim
(clockstep.c, built by make check as $TP_CLOCKSTEP_SO) that adds an offset
read from a file to time(), gettimeofday() and the realtime clocks:
lifetimes of allocations, permissions and channels run on CLOCK_MONOTONIC
(src/clock.h), so a step forward or back neither expires nor extends them;
only what is wall clock by nature follows it (TURN REST expiries, nonce
expiries, signaling tokens).

Not here, because it is elsewhere: a WebSocket client that stops reading
(test_signaling.py, signaling.send_queue).
"""

import os
import select
import signal
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
import wsclient as wc  # noqa: E402
from turncase import ALLOWED_LOG, TurnCase, turn_conf  # noqa: E402

RELOAD_FAILED = r"^reload failed, keeping the running configuration: "
RELOADED = r"^configuration reloaded from \S+$"


def loopback_turn(**turn):
    """turn_conf() with loopback peers allowed, as a lab has it."""
    turn.setdefault("allowed_peers", ["127.0.0.1"])
    return turn_conf(**turn)


def closed_udp_port():
    """A UDP port on 127.0.0.1 that nothing listens on (just released),
    out of the ephemeral range: the data sent to it reaches no other
    test's socket."""
    s = tp.low_udp_socket()
    port = s.getsockname()[1]
    s.close()
    return port


def icmp_unreachables_sent():
    """The host's (network namespace's) count of ICMP destination
    unreachables sent, from /proc/net/snmp; None if it cannot be read."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [l.split() for l in f if l.startswith("Icmp:")]
        return int(dict(zip(rows[0], rows[1]))["OutDestUnreachs"])
    except (OSError, IndexError, KeyError, ValueError):
        return None


def nofile_wrapper(limit):
    """argv that starts the daemon with RLIMIT_NOFILE limit:limit (soft
    and hard alike, or raise_nofile() would lift the soft one)."""
    return [sys.executable, "-c",
            "import os, resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (%d, %d))\n"
            "os.execv(sys.argv[1], sys.argv[1:])" % (limit, limit)]


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class FaultCase(TurnCase):
    """TurnCase with daemons of a test's own whose logs may hold more."""

    def start(self, conf, allowed=(), daemon_class=tp.Daemon, **kw):
        """A daemon for this test only, stopped and its log checked
        (ALLOWED_LOG and allowed) when the test ends."""
        d = daemon_class(conf, **kw).__enter__()

        def done():
            d.__exit__(None, None, None)
            d.check_log(ALLOWED_LOG + list(allowed))
        self.addCleanup(done)
        return d



class Reload(FaultCase):
    """SIGHUP while relaying: nothing lost, nothing torn down."""

    CONF = loopback_turn()

    def test_sighup_under_load(self):
        """2,000 datagrams each way over a channel, paced at about 1,000
        a second, while 20 SIGHUPs reload the daemon: every one arrives,
        the channel and its permission survive every reload."""
        d = self.daemon
        count, hups, rate = 2000, 20, 1000.0
        c = self.allocated()
        relay = tc.relayed_address(c.allocation)
        p = self.peer()
        self.assert_success(c.channel_bind(0x4000, p.addr), tc.CHANNEL_BIND)
        mark = d.mark()
        to_peer, to_client = set(), set()
        pad = bytes(60)

        for sock in (p.sock, c.sock):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)

        def drain(timeout):
            """Read what is waiting, waiting up to timeout for the first;
            the peer echoes each datagram back through the relay."""
            while True:
                r, _, _ = select.select([p.sock, c.sock], [], [],
                                        max(0, timeout))
                if not r:
                    return
                timeout = 0
                if p.sock in r:
                    data, _ = p.sock.recvfrom(2048)
                    to_peer.add(struct.unpack("!I", data[:4])[0])
                    p.sock.sendto(data, relay)
                if c.sock in r:
                    kind, number, payload = tc.parse_relayed(
                        c.sock.recv(2048))
                    self.assertEqual((kind, number), ("channel", 0x4000))
                    to_client.add(struct.unpack("!I", payload[:4])[0])

        # A SIGHUP is sent once the one before it is logged: the kernel
        # keeps one pending SIGHUP, and two sent while the daemon waits
        # for a CPU are one.  Until then the due SIGHUP waits, while the
        # datagrams keep their pace.
        sent, due_hups = 0, 0

        def hup():
            nonlocal sent
            if sent < due_hups and \
                    len(d.find_log(RELOADED, mark)) == sent:
                d.signal(signal.SIGHUP)
                sent += 1

        start = time.monotonic()
        for i in range(count):
            due = start + i / rate
            drain(0)
            while time.monotonic() < due:
                drain(due - time.monotonic())
            c.send_channel(0x4000, struct.pack("!I", i) + pad)
            if i % (count // hups) == count // hups // 2:
                due_hups += 1
            if i % 10 == 0:
                hup()
        deadline = time.monotonic() + tp.timeout(5)
        while (len(to_peer) < count or len(to_client) < count) and \
                time.monotonic() < deadline:
            drain(0.05)
        self.wait_for(lambda: (hup(), sent == hups)[1], 10,
                      "%d SIGHUPs sent, each after the last reload" % hups)
        self.wait_for(lambda: len(d.find_log(RELOADED, mark)) == hups, 10,
                      "%d reloads logged" % hups)
        self.assertEqual(count - len(to_peer), 0,
                         "datagrams lost on the way to the peer")
        self.assertEqual(count - len(to_client), 0,
                         "datagrams lost on the way back to the client")
        self.assertEqual(d.find_log(r"^reload: .* removed", mark), [],
                         "a reload removed the channel's permission")
        self.assert_serving()

    def test_bad_file_keeps_serving(self):
        """A file that does not load is refused on SIGHUP; allocations go
        on relaying, new ones are made with the running configuration,
        and the next good file is taken."""
        d = self.start(loopback_turn(), [RELOAD_FAILED])
        c = self.allocated(daemon=d)
        relay = tc.relayed_address(c.allocation)
        p = self.peer()
        self.assert_success(c.create_permission(p.addr), tc.CREATE_PERMISSION)
        good = d.conf_text()
        bad = [
            good + "turn = {\n",                      # syntax
            good.replace("turn = {", "turn = {\n\tnonsense = 1;"),  # key
            # Valid syntax, but TURN without credentials.
            good.replace('"alice:alice-pw", "bob:bob-pw"', "")
                .replace('"rest-secret-1"', ""),
        ]
        for text in bad:
            mark = d.mark()
            tp.write_file(d.conf_path, text)
            d.signal(signal.SIGHUP)
            d.wait_log(RELOAD_FAILED, since=mark, level="error")
            data = tc.random_payload(48)
            c.send(p.addr, data)
            self.assert_to_peer(p, relay, data)
            p.sendto(data[::-1], relay)
            self.assert_from_peer(c, p.addr, data[::-1])
            # alice still exists for new allocations.
            self.assert_serving("alice", daemon=d)
        mark = d.mark()
        tp.write_file(d.conf_path, good)
        d.signal(signal.SIGHUP)
        d.wait_log(RELOADED, since=mark)
        self.assert_serving("bob", daemon=d)


class PortRange(FaultCase):
    """No relay port left: 508, and a freed port is used again."""

    CONF = None

    def test_port_range_exhausted(self):
        low = tp.free_port_pair()
        d = self.start(loopback_turn(port_min=low, port_max=low + 1))
        a = self.allocated(daemon=d)
        b = self.allocated("bob", daemon=d)
        ports = {tc.relayed_address(x.allocation)[1] for x in (a, b)}
        self.assertEqual(ports, {low, low + 1})
        c = self.client("alice", daemon=d)
        self.assert_error(c.allocate(), tc.ALLOCATE, 508, signed=True)
        # Both holders still relay.
        p = self.peer()
        for x in (a, b):
            self.assert_success(x.create_permission(p.addr),
                                tc.CREATE_PERMISSION)
            data = tc.random_payload(20)
            x.send(p.addr, data)
            self.assert_to_peer(p, tc.relayed_address(x.allocation), data)
        # Recovery: a Refresh with lifetime 0 frees a's port for c.
        freed = tc.relayed_address(a.allocation)[1]
        self.assert_success(a.refresh(0), tc.REFRESH)
        ans = c.allocate()
        self.assert_success(ans, tc.ALLOCATE)
        self.assertEqual(tc.relayed_address(ans)[1], freed)
        self.assert_error(self.client("bob", daemon=d).allocate(),
                          tc.ALLOCATE, 508)


@tp.skip_if_wrapped("valgrind keeps descriptors of its own below "
                    "RLIMIT_NOFILE, so the daemon's cannot be counted")
class Descriptors(FaultCase):
    """The daemon out of file descriptors (RLIMIT_NOFILE 64)."""

    CONF = None
    LIMIT = 64

    def start_limited(self, daemon_class=tp.Daemon, conf=None):
        d = self.start(conf or loopback_turn(), [RELOAD_FAILED, RELOADED],
                       daemon_class=daemon_class,
                       wrapper=nofile_wrapper(self.LIMIT))
        with open("/proc/%d/limits" % d.pid) as f:
            self.assertRegex(f.read(), r"Max open files\s+%d\s+%d"
                             % (self.LIMIT, self.LIMIT))
        return d

    def exhaust(self, d, user="alice"):
        """Allocate until the daemon answers 508; returns the clients
        holding allocations."""
        held = []
        for _ in range(self.LIMIT + 1):
            c = self.client(user, daemon=d)
            ans = c.allocate()
            if ans.cls == sc.ERROR:
                self.assert_error(ans, tc.ALLOCATE, 508, signed=True)
                break
            self.assert_success(ans, tc.ALLOCATE)
            c.allocation = ans
            held.append(c)
        else:
            self.fail("no 508 within %d allocations" % self.LIMIT)
        self.assertEqual(open_fds(d.pid), self.LIMIT)
        return held

    def test_allocations(self):
        """Allocate gets 508 when no relay socket can be opened; existing
        allocations relay on, Binding is answered, and freeing one
        allocation lets the next one in."""
        d = self.start_limited()
        held = self.exhaust(d)
        self.assertGreater(len(held), 40)
        # Existing allocations relay both ways.
        first = held[0]
        relay = tc.relayed_address(first.allocation)
        p = self.peer()
        self.assert_success(first.create_permission(p.addr),
                            tc.CREATE_PERMISSION)
        data = tc.random_payload(64)
        first.send(p.addr, data)
        self.assert_to_peer(p, relay, data)
        p.sendto(data[::-1], relay)
        self.assert_from_peer(first, p.addr, data[::-1])
        s = sc.udp_socket("127.0.0.1")
        self.addCleanup(s.close)
        self.assertIsNotNone(sc.udp_transaction(s, d.addr(),
                                                sc.binding_request()))
        # A reload cannot open the file: refused, the running
        # configuration stays.
        mark = d.mark()
        d.signal(signal.SIGHUP)
        self.assertRegex(d.wait_log(RELOAD_FAILED, since=mark,
                                    level="error"),
                         r"Too many open files")
        # Refused again while nothing is freed, then recovered.
        self.assert_error(self.client(daemon=d).allocate(), tc.ALLOCATE, 508)
        self.assert_success(held[-1].refresh(0), tc.REFRESH)
        self.assert_success(held[-2].refresh(0), tc.REFRESH)
        c = self.client("bob", daemon=d)
        self.assert_success(c.allocate(), tc.ALLOCATE)
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log(RELOADED, since=mark)

    def tcp_pending(self, d, connect_and_send):
        """With every descriptor taken, a new connection (made and fed by
        connect_and_send, which returns its socket) waits in the backlog
        unanswered; returns (socket, CPU seconds the daemon burnt in the
        second that follows, clients holding allocations)."""
        held = self.exhaust(d)
        sock = connect_and_send()
        self.addCleanup(sock.close)
        before = wc.cpu_seconds(d.pid)
        time.sleep(1.0)
        burnt = wc.cpu_seconds(d.pid) - before
        # Still serving what needs no descriptor.
        s = sc.udp_socket("127.0.0.1")
        self.addCleanup(s.close)
        self.assertIsNotNone(sc.udp_transaction(s, d.addr(),
                                                sc.binding_request()))
        return sock, burnt, held

    def test_tcp_accept(self):
        """A STUN over TCP connection made while out of descriptors is
        served once a descriptor is free; meanwhile the daemon does not
        spin."""
        d = self.start_limited()

        def connect():
            t = socket.create_connection(d.addr(), timeout=tp.timeout(2))
            t.sendall(sc.binding_request())
            return t
        t, burnt, held = self.tcp_pending(d, connect)
        for c in held[:2]:
            self.assert_success(c.refresh(0), tc.REFRESH)
        t.settimeout(tp.timeout(3))
        msg = sc.StreamReader(t).read_message(tp.timeout(3))
        self.assertIsNotNone(msg, "the pending connection was not served")
        print("\nCPU while a TCP connection waited for a descriptor: "
              "%.2f s in 1 s" % burnt, file=sys.stderr)
        self.assertLess(burnt, 0.2, "the daemon spins while out of "
                        "descriptors")

    def test_http_accept(self):
        """An HTTP connection made while out of descriptors is answered
        once a descriptor is free; meanwhile the daemon does not spin."""
        conf = {"turn": wc.turn_on(users=["alice:alice-pw", "bob:bob-pw"],
                                   allowed_peers=["127.0.0.1"])}
        d = self.start_limited(wc.HttpDaemon, conf)

        def connect():
            t = socket.create_connection(d.addr(), timeout=tp.timeout(2))
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: %s\r\n"
                      b"Connection: close\r\n\r\n" % d.host.encode())
            return t
        t, burnt, held = self.tcp_pending(d, connect)
        for c in held[:2]:
            self.assert_success(c.refresh(0), tc.REFRESH)
        t.settimeout(tp.timeout(3))
        self.assertTrue(t.recv(4096).startswith(b"HTTP/1.1 200 "),
                        "the pending connection was not answered")
        print("\nCPU while an HTTP connection waited for a descriptor: "
              "%.2f s in 1 s" % burnt, file=sys.stderr)
        self.assertLess(burnt, 0.2, "the daemon spins while out of "
                        "descriptors")


class Vanishing(FaultCase):
    """Clients that go away without a word: their allocations expire."""

    CONF = loopback_turn(default_lifetime=2, max_lifetime=2)

    def test_client_vanishes_mid_allocation(self):
        """A client that sends its Allocate and closes its socket before
        the answer (which then meets a closed port) holds the allocation
        until its lifetime runs out; then the relay port is free."""
        d = self.daemon
        c = self.client()
        self.assertEqual(c.allocate().cls, sc.SUCCESS)  # learn the nonce
        self.assert_success(c.refresh(0), tc.REFRESH)
        mark = d.mark()
        # Its port is out of the ephemeral range, as the answer and the
        # data that follow it must reach no other test's socket.
        gone = self.client(sock=tp.low_udp_socket())
        gone.realm, gone.nonce = c.realm, c.nonce
        who = "%s:%d" % gone.addr
        gone.send_raw(gone.sign(tc.ALLOCATE, [tc.requested_transport()]))
        gone.close()
        created = d.wait_log(r"^allocation created: client %s/" % who,
                             since=mark)
        relay_port = int(created.split(" relay ")[1].split()[0]
                         .rsplit(":", 1)[1])
        # The answer went to a closed port; others are served meanwhile.
        self.assert_serving("bob")
        d.wait_log(r"^allocation expired: client %s/" % who, since=mark,
                   timeout_s=6)

        def port_free():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", relay_port))
                return True
            except OSError:
                return False
            finally:
                s.close()
        self.wait_for(port_free, 2, "relay port %d released" % relay_port)

    def test_client_vanishes_with_peers_sending(self):
        """A client that vanishes while a peer keeps sending: the data
        goes to a closed port until the allocation expires, then the
        relay port stops taking it; the daemon serves others all along."""
        d = self.daemon
        c = self.allocated(sock=tp.low_udp_socket())
        relay = tc.relayed_address(c.allocation)
        p = self.peer()
        self.assert_success(c.create_permission(p.addr), tc.CREATE_PERMISSION)
        who = "%s:%d" % c.addr
        mark = d.mark()
        c.close()
        deadline = time.monotonic() + tp.timeout(6)
        sent = 0
        while not d.find_log(r"^allocation expired: client %s/" % who,
                             mark) and time.monotonic() < deadline:
            p.sendto(b"x" * 100, relay)
            sent += 1
            time.sleep(0.01)
        self.assertTrue(d.find_log(r"^allocation expired: client %s/" % who,
                                   mark), "no expiry within 6 s")
        self.assertGreater(sent, 50)
        self.assert_serving("bob")


class ClockStep(FaultCase):
    """The system clock stepped a day forward, then two days back."""

    CONF = None

    def stepped_daemon(self):
        """A daemon whose wall clock is real time plus the seconds written
        with the returned function."""
        shim = os.environ.get("TP_CLOCKSTEP_SO", "")
        if not os.path.isfile(shim):
            raise tp.HarnessError("TP_CLOCKSTEP_SO=%r is not the built "
                                  "clockstep.so (run through make check)"
                                  % shim)
        tmp = tempfile.mkdtemp(prefix="tp-clock-")
        os.chmod(tmp, 0o755)  # read by the daemon after it drops root
        path = os.path.join(tmp, "offset")
        self.addCleanup(lambda: (os.unlink(path), os.rmdir(tmp)))

        def step(seconds):
            with open(path + ".new", "w") as f:
                f.write("%d\n" % seconds)
            os.chmod(path + ".new", 0o644)
            os.rename(path + ".new", path)
        step(0)
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = {"LD_PRELOAD": shim, "TP_CLOCKSTEP_FILE": path,
               # A sanitized daemon wants its runtime first; ours is not
               # an allocator, so the order does not matter.
               "ASAN_OPTIONS": (asan + ":" if asan else "") +
               "verify_asan_link_order=0"}
        d = self.start(loopback_turn(default_lifetime=3, max_lifetime=3600),
                       env=env)
        return d, step

    def assert_relays(self, c, p, number):
        relay = tc.relayed_address(c.allocation)
        data = tc.random_payload(48)
        c.send_channel(number, data)
        self.assert_to_peer(p, relay, data)
        p.sendto(data[::-1], relay)
        self.assert_from_peer(c, p.addr, data[::-1], channel=number)

    def test_wall_clock_steps(self):
        """An allocation of 600 s with a permission and a channel keeps
        relaying across a step of +1 day and one of -2 days; one of 3 s
        expires on time although the clock went back two days; a nonce
        made stale by the step forward is replaced (438) and the refresh
        succeeds."""
        d, step = self.stepped_daemon()
        a = self.allocated(daemon=d, lifetime=600)
        p = self.peer()
        self.assert_success(a.create_permission(p.addr), tc.CREATE_PERMISSION)
        self.assert_success(a.channel_bind(0x4000, p.addr), tc.CHANNEL_BIND)
        self.assert_relays(a, p, 0x4000)

        step(86400)
        time.sleep(1.5)  # at least one sweep of the tables
        self.assert_relays(a, p, 0x4000)
        old_nonce = a.nonce
        self.assert_success(a.refresh(600), tc.REFRESH)
        self.assertNotEqual(a.nonce, old_nonce, "a nonce issued a day "
                            "earlier was still accepted")

        mark = d.mark()
        b = self.allocated("bob", daemon=d)  # the default lifetime, 3 s
        self.assertEqual(tc.lifetime(b.allocation), 3)
        step(-86400)
        who = "%s:%d" % b.addr
        d.wait_log(r"^allocation expired: client %s/" % who, since=mark,
                   timeout_s=tp.timeout(6))
        self.assertEqual(tc.code(b.refresh(600)), 437)
        self.assert_relays(a, p, 0x4000)
        self.assert_success(a.refresh(0), tc.REFRESH)


class UnreachablePeers(FaultCase):
    """ICMP errors from peers that are not there do not stop relaying."""

    CONF = loopback_turn()

    def test_closed_port_peer(self):
        """Send indications and ChannelData to a closed UDP port on
        127.0.0.1 (each answered by ICMP port unreachable), interleaved
        with data to a live peer on the same relay: all of the live
        peer's data arrives, both ways."""
        c = self.allocated()
        relay = tc.relayed_address(c.allocation)
        live = self.peer()
        dead = ("127.0.0.1", closed_udp_port())
        self.assert_success(c.create_permission("127.0.0.1"),
                            tc.CREATE_PERMISSION)
        self.assert_success(c.channel_bind(0x4001, dead), tc.CHANNEL_BIND)
        self.assert_success(c.channel_bind(0x4002, live.addr),
                            tc.CHANNEL_BIND)
        n = 200
        got = []
        icmp_before = icmp_unreachables_sent()
        for i in range(n):
            c.send(dead, b"nobody home %d" % i)
            c.send_channel(0x4001, b"nobody home either %d" % i)
            payload = struct.pack("!I", i) + bytes(28)
            if i % 2:
                c.send(live.addr, payload)
            else:
                c.send_channel(0x4002, payload)
            r = live.recv(tp.timeout(2))
            self.assertIsNotNone(r, "datagram %d to the live peer lost" % i)
            got.append(struct.unpack("!I", r[0][:4])[0])
            live.sendto(r[0], relay)
            back = c.recv_relayed(tp.timeout(2))
            self.assertIsNotNone(back, "datagram %d from the live peer "
                                 "lost" % i)
            self.assertEqual(back[0], "channel")
            self.assertEqual(back[2], r[0])
        self.assertEqual(got, list(range(n)))
        if icmp_before is not None:
            icmp = icmp_unreachables_sent() - icmp_before
            print("\nICMP destination unreachables sent meanwhile: %d"
                  % icmp, file=sys.stderr)
            self.assertGreater(icmp, 0, "the dead peer drew no ICMP error")
        self.assert_serving("bob")

    def test_client_port_closed_under_answers(self):
        """Answers and relayed data sent to a client port that has closed
        (ICMP back to the listener) do not upset the listener."""
        d = self.daemon
        for _ in range(20):
            s = tp.low_udp_socket()
            for _ in range(5):
                s.sendto(sc.binding_request(), d.addr())
            s.close()
        self.assert_serving()


if __name__ == "__main__":
    tp.main()
