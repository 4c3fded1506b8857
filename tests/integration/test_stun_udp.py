#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""STUN over UDP against the real turnpiked (RFC 8489, RFC 3489).

coturn's turnutils_stunclient, a client we did not write, must get its
address back; then our own stdlib client (stunclient.py) checks every
byte of the answers, the error answers, and that malformed or unexpected
datagrams are dropped without an answer and without a log line.
"""

import os
import random
import signal
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402

# How long a dropped datagram is given to be answered anyway.
SILENCE = 0.3

COTURN_CLIENT = shutil.which("turnutils_stunclient")


def hosts():
    """The loopback addresses to test: 127.0.0.1, and ::1 if usable."""
    return ["127.0.0.1"] + (["::1"] if tp.have_ipv6() else [])


class StunCase(unittest.TestCase):
    """A test case with helpers to talk to self.daemon over UDP."""

    daemon = None

    def socket(self, host="127.0.0.1"):
        s = sc.udp_socket(host)
        self.addCleanup(s.close)
        return s

    def transact(self, msg, host="127.0.0.1", sock=None):
        """Send msg from sock (a new one on host), return the parsed answer,
        failing if there is none."""
        if sock is None:
            sock = self.socket(host)
        host = sock.getsockname()[0]
        data = sc.udp_transaction(sock, self.daemon.addr(host), msg,
                                  tp.timeout(2))
        self.assertIsNotNone(data, "no answer from turnpiked")
        return sc.parse(data)

    def assert_mapped_to(self, answer, sock):
        """answer's XOR-MAPPED-ADDRESS is sock's own address."""
        ip, port = answer.xor_mapped_address()
        want = sock.getsockname()
        self.assertEqual((socket.inet_pton(sock.family, ip), port),
                         (socket.inet_pton(sock.family, want[0]), want[1]))

    def assert_dropped(self, *payloads, host="127.0.0.1"):
        """Each payload gets no answer, and a good request after it does.

        Each payload goes from a socket of its own and they share one
        SILENCE wait.  The good request goes from the same socket as the
        bad one, so it also proves that the daemon is still serving and
        that nothing answered the bad datagram before it.
        """
        socks = [self.socket(host) for _ in payloads]
        for sock, payload in zip(socks, payloads):
            sock.sendto(payload, self.daemon.addr(host))
        deadline = time.monotonic() + SILENCE
        for sock, payload in zip(socks, payloads):
            got = sc.recv_datagram(sock, max(0, deadline - time.monotonic()))
            self.assertIsNone(got, "turnpiked answered a datagram it should "
                              "drop: %r" % (payload[:64],))
        for sock in socks:
            req = sc.binding_request()
            sock.sendto(req, self.daemon.addr(host))
            data = sc.recv_datagram(sock, tp.timeout(2))
            self.assertIsNotNone(data, "no answer to a good request after "
                                 "a dropped one")
            self.assertEqual(sc.parse(data).tid, req[8:20])


@unittest.skipUnless(COTURN_CLIENT, "turnutils_stunclient (coturn) is not "
                     "installed; CI installs it")
class CoturnClient(StunCase):
    """coturn's turnutils_stunclient gets its reflexive address from us."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = tp.Daemon(ipv6=True).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)
        cls.daemon.check_log()

    def stunclient(self, host):
        # It waits forever for an answer that does not come.
        try:
            r = subprocess.run([COTURN_CLIENT, "-p", str(self.daemon.port),
                                host], capture_output=True, text=True,
                               timeout=tp.timeout(5),
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self.fail("turnutils_stunclient got no answer within 5 s")
        found = re.findall(r"UDP reflexive addr: (\S+):(\d+)$", r.stdout,
                           re.MULTILINE)
        self.assertTrue(found, "no reflexive address in turnutils_stunclient "
                        "output:\n%s%s" % (r.stdout, r.stderr))
        return found

    def test_ipv4(self):
        """turnutils_stunclient 127.0.0.1 reads 127.0.0.1:port back."""
        for ip, port in self.stunclient("127.0.0.1"):
            self.assertEqual(ip, "127.0.0.1")
            self.assertTrue(1 <= int(port) <= 65535)

    @unittest.skipUnless(tp.have_ipv6(), "no IPv6 loopback")
    def test_ipv6(self):
        """turnutils_stunclient ::1 reads ::1:port back."""
        for ip, port in self.stunclient("::1"):
            self.assertEqual(socket.inet_pton(socket.AF_INET6, ip),
                             socket.inet_pton(socket.AF_INET6, "::1"))
            self.assertTrue(1 <= int(port) <= 65535)


class Binding(StunCase):
    """Binding requests and the answers' exact contents."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = tp.Daemon(ipv6=True).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)
        cls.daemon.check_log()

    def check_success(self, host, fingerprint):
        sock = self.socket(host)
        req = sc.binding_request(fingerprint=fingerprint)
        ans = self.transact(req, sock=sock)
        self.assertEqual(ans.type, 0x0101)
        self.assertEqual(ans.cookie, sc.MAGIC_COOKIE)
        self.assertEqual(ans.tid, req[8:20])
        self.assert_mapped_to(ans, sock)
        return ans

    def test_binding(self):
        """A Binding success carries XOR-MAPPED-ADDRESS and nothing else.

        RFC 8489 section 7.3.1; IPv4 and, where available, IPv6.
        """
        for host in hosts():
            with self.subTest(host=host):
                ans = self.check_success(host, fingerprint=False)
                self.assertEqual(ans.types(), [sc.XOR_MAPPED_ADDRESS])
                self.assertEqual(len(ans.get(sc.XOR_MAPPED_ADDRESS)),
                                 8 if host == "127.0.0.1" else 20)

    def test_fingerprint_when_asked(self):
        """A request with FINGERPRINT gets a valid FINGERPRINT, last."""
        for host in hosts():
            with self.subTest(host=host):
                ans = self.check_success(host, fingerprint=True)
                self.assertEqual(ans.types(),
                                 [sc.XOR_MAPPED_ADDRESS, sc.FINGERPRINT])
                self.assertTrue(ans.fingerprint_ok())

    def test_known_attributes_accepted(self):
        """Known attributes, required (PRIORITY) or not (SOFTWARE), are
        accepted: success."""
        sock = self.socket()
        req = sc.binding_request(attrs=[(0x8022, b"test client"),
                                        (0x0024, b"\x6e\x00\x01\xff"),
                                        (0x8029, bytes(8))])
        ans = self.transact(req, sock=sock)
        self.assertEqual(ans.type, 0x0101)
        self.assert_mapped_to(ans, sock)

    def test_unknown_optional_ignored(self):
        """An unknown comprehension-optional attribute (0x8031) is ignored."""
        sock = self.socket()
        ans = self.transact(sc.binding_request(attrs=[(0x8031, b"abc")]),
                            sock=sock)
        self.assertEqual(ans.type, 0x0101)
        self.assert_mapped_to(ans, sock)

    def test_unknown_required_420(self):
        """An unknown comprehension-required attribute gets 420 listing it.

        RFC 8489 section 6.3.1.1: the error carries UNKNOWN-ATTRIBUTES
        and, since the request had FINGERPRINT, FINGERPRINT.
        """
        req = sc.binding_request(attrs=[(0x0031, b"\x01\x02\x03\x04")],
                                 fingerprint=True)
        ans = self.transact(req)
        self.assertEqual(ans.type, 0x0111)
        self.assertEqual(ans.tid, req[8:20])
        code, reason = ans.error_code()
        self.assertEqual(code, 420)
        self.assertTrue(reason)
        self.assertEqual(ans.unknown_attributes(), [0x0031])
        self.assertEqual(ans.types(), [sc.ERROR_CODE, sc.UNKNOWN_ATTRIBUTES,
                                       sc.FINGERPRINT])
        self.assertTrue(ans.fingerprint_ok())

    def test_unknown_required_listed_once(self):
        """Each unknown type is listed once; optional ones not at all."""
        req = sc.binding_request(attrs=[(0x0031, b""), (0x0032, b"x"),
                                        (0x0031, b"yy"), (0x8031, b"z")])
        ans = self.transact(req)
        self.assertEqual(ans.error_code()[0], 420)
        self.assertEqual(ans.unknown_attributes(), [0x0031, 0x0032])
        self.assertNotIn(sc.FINGERPRINT, ans.types())

    def test_unknown_method_400(self):
        """A request of a method the server lacks gets 400, same method.

        RFC 8489 section 6.3.1.
        """
        req = sc.build(method=0x0FF, cls=sc.REQUEST)
        ans = self.transact(req)
        self.assertEqual(ans.type, sc.message_type(0x0FF, sc.ERROR))
        self.assertEqual((ans.method, ans.cls), (0x0FF, sc.ERROR))
        self.assertEqual(ans.tid, req[8:20])
        self.assertEqual(ans.error_code()[0], 400)
        self.assertEqual(ans.types(), [sc.ERROR_CODE])

    def test_malformed_attributes_400(self):
        """A sound header whose attribute overruns the message gets 400."""
        tid = sc.new_tid()
        body = struct.pack("!HH", 0x8022, 8) + b"abcd"  # says 8, has 4
        req = struct.pack("!HHI", 0x0001, len(body), sc.MAGIC_COOKIE) + tid \
            + body
        ans = self.transact(req)
        self.assertEqual(ans.type, 0x0111)
        self.assertEqual(ans.tid, tid)
        self.assertEqual(ans.error_code()[0], 400)
        self.assertEqual(ans.types(), [sc.ERROR_CODE])

    def test_last_attribute_overruns_400(self):
        """A last attribute header whose value is missing also gets 400."""
        tid = sc.new_tid()
        body = sc.attr(0x8022, b"abcd") + struct.pack("!HH", 0x8023, 4)
        req = struct.pack("!HHI", 0x0001, len(body), sc.MAGIC_COOKIE) + tid \
            + body
        ans = self.transact(req)
        self.assertEqual(ans.error_code()[0], 400)
        self.assertEqual(ans.tid, tid)

    def test_fingerprint_not_last_400(self):
        """Attributes after FINGERPRINT make the request malformed: 400.

        RFC 8489 section 14.7: FINGERPRINT MUST be the last attribute.
        """
        good = sc.binding_request(fingerprint=True)
        extra = sc.attr(0x8022, b"late")
        req = good[:2] + struct.pack("!H", len(good) - 20 + len(extra)) \
            + good[4:] + extra
        ans = self.transact(req)
        self.assertEqual(ans.type, 0x0111)
        self.assertEqual(ans.error_code()[0], 400)

    def test_largest_message(self):
        """A 4096-byte request, the largest accepted, is answered."""
        req = sc.binding_request(attrs=[(0x8031, b"x" * 4072)])
        self.assertEqual(len(req), 4096)
        sock = self.socket()
        ans = self.transact(req, sock=sock)
        self.assertEqual(ans.type, 0x0101)
        self.assert_mapped_to(ans, sock)

    def test_many_clients(self):
        """Answers go to whichever socket asked: 20 sockets, 20 addresses."""
        socks = [self.socket(h) for h in hosts() for _ in range(10)]
        reqs = [sc.binding_request() for _ in socks]
        for s, r in zip(socks, reqs):
            s.sendto(r, self.daemon.addr(s.getsockname()[0]))
        for s, r in zip(socks, reqs):
            data = sc.recv_datagram(s, tp.timeout(2))
            self.assertIsNotNone(data)
            ans = sc.parse(data)
            self.assertEqual(ans.tid, r[8:20])
            self.assert_mapped_to(ans, s)

    def test_burst(self):
        """2000 requests from one socket: at least 95% answered, all right.

        At most 128 requests are outstanding at once, so the test measures
        the daemon and not the size of the kernel's receive buffers.  Every
        answer must carry the tid of a request sent, and only once.
        """
        total, window = 2000, 128
        sock = self.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        tids = [sc.new_tid() for _ in range(total)]
        answers = []

        def receive():
            while len(answers) < total:
                data = sc.recv_datagram(sock, tp.timeout(1))
                if data is None:
                    return
                answers.append(data)

        reader = threading.Thread(target=receive, daemon=True)
        reader.start()
        deadline = time.monotonic() + tp.timeout(10)
        for i, tid in enumerate(tids):
            while i - len(answers) >= window and \
                    time.monotonic() < deadline and reader.is_alive():
                time.sleep(0.0005)
            sock.sendto(sc.binding_request(tid), self.daemon.addr())
        reader.join(tp.timeout(15))
        self.assertFalse(reader.is_alive())
        self.assertGreaterEqual(len(answers), total * 95 // 100,
                                "only %d of %d answered"
                                % (len(answers), total))
        got = [sc.parse(a).tid for a in answers]
        self.assertEqual(len(set(got)), len(got), "a tid answered twice")
        self.assertTrue(set(got) <= set(tids), "an answer with a tid "
                        "that was never sent")
        own = sock.getsockname()
        for a in answers[:50]:
            self.assertEqual(sc.parse(a).xor_mapped_address(), own)


class Coalesced(StunCase):
    """Answers to one client that leave in one batch go as UDP GSO runs
    (one message with UDP_SEGMENT, cut by the kernel): each datagram must
    still arrive whole, to its own socket, in the order asked; where the
    kernel refuses GSO the daemon falls back to one datagram each.  The
    shim gsoshim.so ($TP_GSOSHIM_SO, built by make check) logs or refuses
    UDP_SEGMENT."""

    def start(self, **env):
        shim = os.environ.get("TP_GSOSHIM_SO", "")
        if not os.path.isfile(shim):
            raise tp.HarnessError("TP_GSOSHIM_SO=%r is not the built "
                                  "gsoshim.so (run through make check)"
                                  % shim)
        asan = os.environ.get("ASAN_OPTIONS", "")
        env.update({"LD_PRELOAD": shim,
                    # A sanitized daemon wants its runtime first; the
                    # shim is no allocator, so the order does not matter.
                    "ASAN_OPTIONS": (asan + ":" if asan else "") +
                    "verify_asan_link_order=0"})
        self.daemon = tp.Daemon(env=env).__enter__()

        def done():
            self.daemon.__exit__(None, None, None)
            self.daemon.check_log()
        self.addCleanup(done)

    def burst(self, count=40):
        """Two sockets each queue count requests, one after the other,
        while the daemon is stopped; every 5th asks for FINGERPRINT, so
        its answer is longer and ends a run.  Then every answer must come
        back to its socket, whole and in the order asked."""
        socks = [self.socket() for _ in range(2)]
        sent = {s: [] for s in socks}
        self.daemon.signal(signal.SIGSTOP)
        try:
            for s in socks:
                for i in range(count):
                    req = sc.binding_request(fingerprint=i % 5 == 4)
                    s.sendto(req, self.daemon.addr())
                    sent[s].append(req[8:20])
        finally:
            self.daemon.signal(signal.SIGCONT)
        for s in socks:
            got = []
            while len(got) < count:
                data = sc.recv_datagram(s, tp.timeout(2))
                self.assertIsNotNone(data, "only %d of %d answers"
                                     % (len(got), count))
                ans = sc.parse(data)
                self.assertEqual(ans.type, 0x0101)
                self.assert_mapped_to(ans, s)
                got.append(ans.tid)
            self.assertEqual(got, sent[s], "answers out of order")
            self.assertIsNone(sc.recv_datagram(s, SILENCE))

    @tp.skip_if_wrapped("SIGSTOP and LD_PRELOAD of the daemon itself")
    def test_runs_sent_with_gso(self):
        tmp = tp.make_tempdir()
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o777)  # written by the daemon after it drops root
        log = os.path.join(tmp, "gso.log")
        self.start(TP_GSOSHIM_LOG=log)
        self.burst()
        with open(log) as f:
            runs = [int(line.split()[1]) for line in f]
        self.assertTrue(runs, "no answer went as UDP GSO")
        self.assertTrue(all(2 <= n <= 4 for n in runs), runs)

    @tp.skip_if_wrapped("SIGSTOP and LD_PRELOAD of the daemon itself")
    def test_refused_gso(self):
        self.start(TP_GSOSHIM_REFUSE="1")
        self.burst()
        self.burst()  # GSO is off for the listener now


class Drops(StunCase):
    """Datagrams that must be dropped silently, and leave no log line.

    The daemon logs at debug level here, so anything it writes about
    remote input at info or above fails the final log check.
    """

    @classmethod
    def setUpClass(cls):
        cls.daemon = tp.Daemon({"log": {"level": "debug"}},
                               ipv6=True).__enter__()

    @classmethod
    def tearDownClass(cls):
        # After all the bad input the daemon still answers, and has
        # logged nothing but its start and stop.
        sock = sc.udp_socket("127.0.0.1")
        try:
            req = sc.binding_request()
            data = sc.udp_transaction(sock, cls.daemon.addr(), req)
        finally:
            sock.close()
        cls.daemon.__exit__(None, None, None)
        if data is None or sc.parse(data).tid != req[8:20]:
            raise AssertionError("turnpiked stopped answering after the "
                                 "bad input")
        cls.daemon.check_log()

    def test_bad_fingerprint(self):
        """RFC 8489 section 7.3: a wrong FINGERPRINT means "not STUN"."""
        self.assert_dropped(sc.build(fingerprint=True, bad_fingerprint=True))

    def test_length_not_multiple_of_4(self):
        """A length field that is not a multiple of 4 is malformed."""
        req = sc.binding_request() + b"ab"
        self.assert_dropped(req[:2] + struct.pack("!H", 2) + req[4:])

    def test_length_longer_than_datagram(self):
        """A length field beyond the datagram's end."""
        req = sc.binding_request()
        self.assert_dropped(req[:2] + struct.pack("!H", 8) + req[4:])

    def test_length_shorter_than_datagram(self):
        """Trailing bytes after the message the length field describes."""
        self.assert_dropped(sc.binding_request() + bytes(8))

    def test_wrong_cookie(self):
        """Without stun.rfc3489, a message without the cookie is dropped."""
        self.assert_dropped(sc.build(cookie=0x2112A443),
                            sc.classic_binding_request())

    def test_indication(self):
        """A Binding indication needs no answer (RFC 8489 section 6.3.2)."""
        self.assert_dropped(sc.build(cls=sc.INDICATION))

    def test_malformed_indication(self):
        """A malformed indication gets no 400: only requests are answered."""
        body = struct.pack("!HH", 0x8022, 8) + b"abcd"
        self.assert_dropped(struct.pack("!HHI", sc.message_type(
            sc.BINDING, sc.INDICATION), len(body), sc.MAGIC_COOKIE)
            + sc.new_tid() + body)

    def test_responses(self):
        """A server sends no requests, so responses are dropped."""
        self.assert_dropped(
            sc.build(cls=sc.SUCCESS, attrs=[(sc.XOR_MAPPED_ADDRESS,
                                             bytes(8))]),
            sc.build(cls=sc.ERROR, attrs=[(sc.ERROR_CODE,
                                           b"\x00\x00\x04\x00Bad Request")]))

    def test_garbage(self):
        """Bytes that are not STUN (first byte above 3) are dropped."""
        self.assert_dropped(b"\xff" + os.urandom(63),
                            b"GET / HTTP/1.1\r\n\r\n")

    def test_stun_shaped_but_first_byte_above_3(self):
        """RFC 7983: 0x04-0x3F is not STUN even if the rest looks like it."""
        req = sc.binding_request()
        self.assert_dropped(b"\x10" + req[1:])

    def test_channel_data(self):
        """ChannelData (0x40-0x7F) without an allocation is dropped."""
        self.assert_dropped(b"\x40\x00\x00\x04abcd", b"\x4f\xff\x00\x00",
                            b"\x7f\xff\x00\x01x")

    def test_oversized(self):
        """A well-formed 5000-byte request is over the 4096-byte limit."""
        req = sc.binding_request(attrs=[(0x8031, b"x" * 4976)])
        self.assertEqual(len(req), 5000)
        self.assert_dropped(req)

    def test_just_oversized(self):
        """4100 bytes: one attribute word over the limit."""
        req = sc.binding_request(attrs=[(0x8031, b"x" * 4076)])
        self.assertEqual(len(req), 4100)
        self.assert_dropped(req)

    def test_empty(self):
        self.assert_dropped(b"")

    def test_truncated_header(self):
        """19 bytes cannot hold the 20-byte header."""
        self.assert_dropped(sc.binding_request()[:19], b"\x00")

    def test_ipv6(self):
        """The same drops on the IPv6 listener."""
        if not tp.have_ipv6():
            self.skipTest("no IPv6 loopback")
        self.assert_dropped(b"", b"\xff" * 20, sc.binding_request()[:19],
                            sc.build(cls=sc.INDICATION),
                            sc.build(fingerprint=True, bad_fingerprint=True),
                            host="::1")


class Damaged(StunCase):
    """Randomly damaged requests (seeded, so a failure can be replayed)."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = tp.Daemon({"log": {"level": "debug"}}).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)
        cls.daemon.check_log()

    def test_damaged_requests(self):
        """2000 damaged requests: whatever is answered is well-formed STUN
        for a message that was sent, and the daemon keeps serving.

        Run under --enable-sanitizers this is also a memory-safety test of
        the whole receive path.
        """
        seed = int(os.environ.get("TP_SEED", "8489"))
        rng = random.Random(seed)
        base = sc.binding_request(attrs=[(0x8022, b"damage"),
                                         (0x0024, b"\0\0\0\1"),
                                         (0x8031, b"xyz")],
                                  fingerprint=True)
        sock = self.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        sent_tids, answers = set(), []
        for i in range(2000):
            msg = sc.damage(rng, base[:8] + sc.new_tid() + base[20:])
            sent_tids.add(msg[8:20])
            sock.sendto(msg, self.daemon.addr())
            if i % 64 == 63:
                while True:
                    data = sc.recv_datagram(sock, 0.002)
                    if data is None:
                        break
                    answers.append(data)
        while True:
            data = sc.recv_datagram(sock, SILENCE)
            if data is None:
                break
            answers.append(data)
        own = sock.getsockname()
        for data in answers:
            ans = sc.parse(data)   # strict: raises on anything malformed
            self.assertIn(ans.tid, sent_tids, "seed %d" % seed)
            self.assertIn(ans.cls, (sc.SUCCESS, sc.ERROR))
            if ans.cls == sc.SUCCESS:
                self.assertEqual(ans.xor_mapped_address(), own)
            else:
                self.assertIn(ans.error_code()[0], (400, 420))
            if sc.FINGERPRINT in ans.types():
                self.assertTrue(ans.fingerprint_ok())
        # Some damage leaves a valid request (e.g. junk in SOFTWARE).
        self.assertGreater(len(answers), 0)
        # And afterwards it serves a fresh client.
        fresh = self.socket()
        self.assert_mapped_to(self.transact(sc.binding_request(),
                                            sock=fresh), fresh)


class Classic(StunCase):
    """RFC 3489 clients: a 16-byte transaction id and no magic cookie."""

    def test_off_by_default(self):
        """With stun.rfc3489 false (the default) they get no answer."""
        with tp.Daemon() as self.daemon:
            self.assert_dropped(sc.classic_binding_request())
        self.daemon.check_log()

    def test_on(self):
        """With stun.rfc3489 true: MAPPED-ADDRESS, the whole tid echoed.

        RFC 3489 section 11.1; RFC 5389 clients are still served with
        XOR-MAPPED-ADDRESS.
        """
        with tp.Daemon({"stun": {"rfc3489": True}}, ipv6=True) as \
                self.daemon:
            for host in hosts():
                with self.subTest(host=host):
                    sock = self.socket(host)
                    req = sc.classic_binding_request()
                    data = sc.udp_transaction(sock, self.daemon.addr(host),
                                              req, tp.timeout(2))
                    self.assertIsNotNone(data, "no answer to an RFC 3489 "
                                         "Binding request")
                    ans = sc.parse(data, classic=True)
                    self.assertEqual(ans.type, 0x0101)
                    self.assertEqual(ans.tid, req[4:20])
                    self.assertEqual(ans.types(), [sc.MAPPED_ADDRESS])
                    ip, port = ans.mapped_address()
                    own = sock.getsockname()
                    self.assertEqual(
                        (socket.inet_pton(sock.family, ip), port),
                        (socket.inet_pton(sock.family, own[0]), own[1]))
                    # A modern client on the same daemon is unaffected.
                    self.assert_mapped_to(self.transact(
                        sc.binding_request(), sock=sock), sock)
            # Only a Binding request of the right length is answered.
            classic = sc.classic_binding_request()
            self.assert_dropped(classic + bytes(4), b"\x01\x01" + classic[2:])
        self.daemon.check_log()


if __name__ == "__main__":
    tp.main()
