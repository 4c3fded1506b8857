#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""turnpiked against clients that mean harm.

Floods of unauthenticated requests, from one source address and from
many, held to turn.unauth_rate answers a second per address, with the
daemon's memory flat and a legitimate client served throughout; the
bytes a spoofed request can make the server send (amplification), against
coturn's figures in shared/PERFORMANCE.md; nonces replayed from another
address; MESSAGE-INTEGRITY and FINGERPRINT tampered with; usernames,
realms, nonces and room names made of control characters, format
directives and too many bytes, which must neither crash the daemon nor
reach its log unescaped, and no secret may reach it at all; and one
user's quotas spent while the others are served.

Every flood is bounded in packets and time.  Numbers are printed to
stderr, where "make check" keeps them in the test's .log.
"""

import base64
import hashlib
import hmac
import os
import re
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
import wsclient as wc  # noqa: E402
from turncase import ALLOWED_LOG, SECRET, USERS, TurnCase, turn_conf  # noqa

# The default of turn.unauth_rate, and its burst (src/ratelimit.c: twice
# the rate).
UNAUTH_RATE = 20
UNAUTH_BURST = 2 * UNAUTH_RATE


def asan_build():
    """Whether the daemon under test is built with AddressSanitizer."""
    try:
        with open(tp.TURNPIKED, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False  # tp.main() reports the harness error


# AddressSanitizer keeps freed memory in quarantine (256 MB by default),
# which a flood's many small allocations inside OpenSSL fill: that is not
# the daemon's growth, so the floods run with a small quarantine.
FLOOD_ENV = ({"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")
              + ":quarantine_size_mb=1"} if asan_build() else {})

# Packets in each flood, and the most time it may take to send them.
FLOOD_PACKETS = 20000
FLOOD_SECONDS = 20

# The daemon's resident memory may grow by less than this in a flood.
MAX_RSS_GROWTH_KB = 10 * 1024

# coturn 4.6.1's answers, from shared/PERFORMANCE.md: a 20-byte Binding
# request gets 100 bytes, a 28-byte unauthenticated Allocate a 112-byte
# 401; coturn challenges before it reads REQUESTED-TRANSPORT, so the
# same 112 bytes answer a 20-byte Allocate.
COTURN_BYTES = {"Binding": (20, 100), "Allocate": (28, 112),
                "Allocate, no attributes": (20, 112)}

# Sources of the many-source flood: 127.0.0.2 to 127.0.0.50.
FLOOD_SOURCES = ["127.0.0.%d" % i for i in range(2, 51)]

# A client that is not flooding, on an address of its own.
BYSTANDER = "127.0.0.77"


def loopback_turn(**turn):
    """turn_conf() with loopback peers allowed and, unless told, the
    default rate limit on unauthenticated answers."""
    turn.setdefault("allowed_peers", ["127.0.0.0/8"])
    turn.setdefault("unauth_rate", UNAUTH_RATE)
    return turn_conf(**turn)


def unauth_allocate():
    """A minimal unauthenticated Allocate: REQUESTED-TRANSPORT only."""
    return tc.build(tc.ALLOCATE, attrs=[tc.requested_transport()])


def bad_attribute_request():
    """A Binding request whose one attribute claims 8 bytes of value but
    has 4: the header is sound, so it is answered with 400."""
    body = struct.pack("!HH", 0x0020, 8) + bytes(4)
    return struct.pack("!HHI", 0x0001, len(body), sc.MAGIC_COOKIE) + \
        sc.new_tid() + body


def drain(sock, timeout=0.0):
    """Read every datagram waiting on sock (and what arrives within
    timeout); returns how many."""
    n = 0
    while True:
        r, _, _ = select.select([sock], [], [], timeout)
        if not r:
            return n
        try:
            sock.recv(65536)
        except (BlockingIOError, ConnectionRefusedError):
            continue
        n += 1


def retry_transaction(client, method, attrs=(), tries=4, wait=1.0):
    """An authenticated request of client, retransmitted (same
    transaction) as RFC 8489 section 6.2.1 has a client do when the
    network, here a flooded socket buffer, loses it.  Returns the answer,
    parsed, or None."""
    req = client.sign(method, attrs)
    for _ in range(tries):
        raw = client.transact_raw(req, timeout=tp.timeout(wait))
        if raw is not None:
            return sc.parse(raw)
    return None


def rest_user(secret, payload, ttl=600, expiry=None):
    """REST credentials whose user part is payload (bytes, anything):
    (username bytes, password str)."""
    if expiry is None:
        expiry = int(time.time()) + ttl
    username = b"%d:" % expiry + payload
    mac = hmac.new(secret.encode(), username, hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode()


# Strings a remote party controls, made to hurt a C daemon and its log.
NASTY = [
    b"%n%s%x%p%s%s%s%n%n",
    b"\x01\x02\x07\x08\x1b[31mred\x1b[0m",
    b"line\nforged 2026-01-01T00:00:00.000Z error: pwned",
    b"carriage\rreturn\ttab\x0b\x0c\x7fdel",
    b"\xff\xfe\xc0\xaf not utf-8",
]


class AbuseCase(TurnCase):
    """A daemon per test, its log checked for unexpected lines, raw
    control characters and secrets when the test ends."""

    CONF = None
    ALLOWED = ()
    SECRETS = [SECRET] + list(USERS.values())

    def start(self, conf, daemon_class=tp.Daemon, allowed=(), **kw):
        d = daemon_class(conf, **kw).__enter__()

        def done():
            d.__exit__(None, None, None)
            d.check_log(ALLOWED_LOG + list(self.ALLOWED) + list(allowed))
            self.assert_clean_log(d)
        self.addCleanup(done)
        return d

    def assert_clean_log(self, d):
        """No byte of d's log is a control character but the newline
        that ends a line, and no secret is in it."""
        text = d.log()
        bad = sorted({"0x%02x" % ord(ch) for ch in text
                      if (ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F})
        self.assertEqual(bad, [], "raw control characters in the log")
        for s in self.SECRETS:
            self.assertNotIn(s, text, "a secret in the log")



@tp.skip_if_wrapped("bounds on the flood's time and the daemon's memory")
class Flood(AbuseCase):
    """Unauthenticated floods: the rate limit holds, memory stays flat,
    others are served."""

    def flood(self, d, sources, legit):
        """Send FLOOD_PACKETS unauthenticated Allocates round-robin from
        sockets bound to sources, calling legit() every 2,000 packets.
        Returns {source: answers}, elapsed seconds, RSS growth in kB."""
        socks = []
        for host in sources:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.addCleanup(s.close)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind((host, 0))
            s.setblocking(False)
            socks.append(s)
        # Transaction ids differ from packet to packet, as a real flood's.
        head = unauth_allocate()
        answers = {h: 0 for h in sources}
        rss0 = d.rss_kb()
        start = time.monotonic()
        deadline = start + tp.timeout(FLOOD_SECONDS)
        for i in range(FLOOD_PACKETS):
            s = socks[i % len(socks)]
            msg = head[:8] + struct.pack("!III", i, len(socks), 0x54504B) + \
                head[20:]
            try:
                s.sendto(msg, d.addr())
            except BlockingIOError:
                pass
            if i % 2000 == 1999:
                for h, s2 in zip(sources, socks):
                    answers[h] += drain(s2)
                legit()
                self.assertLess(time.monotonic(), deadline,
                                "the flood took too long to send")
        # Let the daemon work through what is queued, then count.
        time.sleep(0.3)
        for h, s in zip(sources, socks):
            answers[h] += drain(s, 0.05)
        elapsed = time.monotonic() - start
        growth = d.rss_kb() - rss0
        return answers, elapsed, growth

    def check_flood(self, d, answers, elapsed, growth, label):
        bound = UNAUTH_BURST + UNAUTH_RATE * elapsed + 2
        total = sum(answers.values())
        print("\n%s: %d packets in %.2f s from %d sources: %d answered "
              "(at most %.0f per source), RSS %+d kB"
              % (label, FLOOD_PACKETS, elapsed, len(answers), total, bound,
                 growth), file=sys.stderr)
        over = {h: n for h, n in answers.items() if n > bound}
        self.assertEqual(over, {}, "sources answered beyond the rate limit")
        self.assertGreater(total, 0, "nothing was answered at all")
        self.assertLess(growth, MAX_RSS_GROWTH_KB, "memory grew in a flood")
        self.assertTrue(d.alive())

    def legit_clients(self, d):
        """An allocated client on 127.0.0.1, the flood's own address, and
        a function that checks it, and once a newcomer from BYSTANDER,
        are served; the function counts its calls in .calls.  They
        retransmit as real clients do: the flood fills the daemon's
        socket buffer, and the kernel drops what does not fit."""
        c = self.allocated(daemon=d)
        relay = tc.relayed_address(c.allocation)
        p = self.peer()
        self.assert_success(c.create_permission(p.addr),
                            tc.CREATE_PERMISSION)

        def legit():
            legit.calls += 1
            # Authenticated requests are not rate limited, even from the
            # flooding address.
            ans = retry_transaction(c, tc.REFRESH, [tc.u32(tc.LIFETIME,
                                                           600)])
            self.assertIsNotNone(ans, "an authenticated Refresh went "
                                 "unanswered during the flood")
            self.assert_success(ans, tc.REFRESH)
            self.assert_relays(c, p, relay)
            if legit.calls == 5:
                # A newcomer from another address gets its 401 and
                # allocates, flood or not.
                self.patient_newcomer(d, "bob", BYSTANDER)
        legit.calls = 0
        return legit

    def assert_relays(self, c, p, relay, tries=5):
        """One of up to tries datagrams from c reaches peer p."""
        sent = set()
        for _ in range(tries):
            data = tc.random_payload(32)
            sent.add(data)
            c.send(p.addr, data)
            got = p.recv(tp.timeout(0.5))
            if got is not None:
                self.assertIn(got[0], sent)
                self.assertTrue(tc.same_addr(got[1], relay))
                return
        self.fail("%d datagrams to the peer all lost" % tries)

    def patient_newcomer(self, d, user, host):
        """A client of user on host that allocates, retransmitting, and
        relays to a peer."""
        c = self.client(user, daemon=d, host=host)
        req = unauth_allocate()
        raw = None
        for _ in range(4):
            raw = c.transact_raw(req, timeout=tp.timeout(1))
            if raw is not None:
                break
        self.assertIsNotNone(raw, "a newcomer's Allocate went unanswered")
        ans = sc.parse(raw)
        self.assert_error(ans, tc.ALLOCATE, 401, signed=False)
        c.learn(ans)
        alloc = retry_transaction(c, tc.ALLOCATE,
                                  [tc.requested_transport()])
        self.assertIsNotNone(alloc, "a newcomer's signed Allocate went "
                             "unanswered")
        self.assert_success(alloc, tc.ALLOCATE)
        tc.check_integrity(alloc.raw, c.key())
        p = self.peer()
        ans = retry_transaction(c, tc.CREATE_PERMISSION,
                                [tc.XorAddress(*p.addr)])
        self.assertIsNotNone(ans, "a newcomer's CreatePermission went "
                             "unanswered")
        self.assert_success(ans, tc.CREATE_PERMISSION)
        self.assert_relays(c, p, tc.relayed_address(alloc))

    def test_one_source(self):
        d = self.start(loopback_turn(), env=FLOOD_ENV)
        legit = self.legit_clients(d)
        answers, elapsed, growth = self.flood(d, ["127.0.0.1"], legit)
        self.check_flood(d, answers, elapsed, growth, "one-source flood")
        self.assertEqual(legit.calls, FLOOD_PACKETS // 2000)
        # The flooding address itself is answered again as its bucket
        # refills.
        self.patient_newcomer(d, "bob", "127.0.0.1")

    def test_many_sources(self):
        d = self.start(loopback_turn(), env=FLOOD_ENV)
        legit = self.legit_clients(d)
        answers, elapsed, growth = self.flood(d, FLOOD_SOURCES, legit)
        self.check_flood(d, answers, elapsed, growth,
                         "%d-source flood" % len(FLOOD_SOURCES))
        self.assertEqual(legit.calls, FLOOD_PACKETS // 2000)
        self.patient_newcomer(d, "alice", FLOOD_SOURCES[0])

    def test_binding_flood_memory(self):
        """Binding is not rate limited (its answer is small): 20,000 of
        them cost no memory."""
        d = self.start(loopback_turn(), env=FLOOD_ENV)
        s = sc.udp_socket("127.0.0.1")
        self.addCleanup(s.close)
        s.setblocking(False)
        rss0 = d.rss_kb()
        for i in range(FLOOD_PACKETS):
            try:
                s.sendto(sc.binding_request(), d.addr())
            except BlockingIOError:
                pass
            if i % 500 == 499:
                drain(s)
        drain(s, 0.3)
        growth = d.rss_kb() - rss0
        print("\nBinding flood: RSS %+d kB" % growth, file=sys.stderr)
        self.assertLess(growth, MAX_RSS_GROWTH_KB)
        self.assert_serving(daemon=d)


class Amplification(AbuseCase):
    """What a spoofed request makes the server send, in bytes."""

    def test_ratios(self):
        d = self.start(loopback_turn(unauth_rate=1000))
        s = sc.udp_socket("127.0.0.1")
        self.addCleanup(s.close)
        requests = {
            "Binding": sc.binding_request(),
            "Allocate": unauth_allocate(),
            "Allocate, no attributes": tc.build(tc.ALLOCATE),
            # Not in coturn's figures: the other requests a spoofer might
            # send, and their worst answers.
            "Binding with FINGERPRINT": sc.binding_request(fingerprint=True),
            "Refresh, no attributes": tc.build(tc.REFRESH),
            "CreatePermission, no attributes": tc.build(
                tc.CREATE_PERMISSION),
            "ChannelBind, no attributes": tc.build(tc.CHANNEL_BIND),
            "unknown method": sc.build(method=0x0FF),
            "attribute past the end (400)": bad_attribute_request(),
        }
        ratios = {}
        lines = []
        for name, req in requests.items():
            ans = sc.udp_transaction(s, d.addr(), req, timeout=tp.timeout(2))
            self.assertIsNotNone(ans, "%s: no answer" % name)
            ratios[name] = len(ans) / len(req)
            line = "  %-32s %3d -> %3d bytes: %.2fx" % (name, len(req),
                                                         len(ans),
                                                         ratios[name])
            if name in COTURN_BYTES:
                q, a = COTURN_BYTES[name]
                line += " (coturn %d -> %d: %.2fx)" % (q, a, a / q)
            lines.append(line)
        print("\namplification, answer bytes per request byte:\n"
              + "\n".join(lines), file=sys.stderr)
        for name, (q, a) in COTURN_BYTES.items():
            self.assertLessEqual(ratios[name], a / q,
                                 "%s amplifies more than coturn's" % name)
        worst = max(ratios.values())
        self.assertLessEqual(worst, COTURN_BYTES["Binding"][1] /
                             COTURN_BYTES["Binding"][0])


class Credentials(AbuseCase):
    """Nonces and integrity that are not what the server made."""

    def test_nonce_from_another_address(self):
        """A nonce made for 127.0.0.1 is stale on 127.0.0.2 (438, with a
        new nonce), even with the right password; the new one works."""
        d = self.start(loopback_turn())
        a = self.client(daemon=d)
        self.assert_success(a.allocate(), tc.ALLOCATE)
        b = self.client(daemon=d, host="127.0.0.2")
        b.realm, b.nonce = a.realm, a.nonce
        ans = b.request(tc.ALLOCATE, [tc.requested_transport()], retries=0)
        self.assert_error(ans, tc.ALLOCATE, 438, signed=False)
        self.assertNotEqual(ans.get(tc.NONCE).decode(), a.nonce)
        b.learn(ans)
        self.assert_success(b.allocate(), tc.ALLOCATE)
        # And the stolen nonce stays useless for another request.
        c = self.client("bob", daemon=d, host="127.0.0.3")
        c.realm, c.nonce = a.realm, a.nonce
        self.assert_error(c.request(tc.ALLOCATE, [tc.requested_transport()],
                                    retries=0), tc.ALLOCATE, 438)

    def flip(self, msg, offset):
        """msg with one bit flipped at offset (negative from the end)."""
        b = bytearray(msg)
        b[offset] ^= 0x01
        return bytes(b)

    def test_integrity_tampered(self):
        """A bit flipped in MESSAGE-INTEGRITY, or in an attribute it
        covers, gets 401 without integrity; the intact request works."""
        d = self.start(loopback_turn())
        c = self.client(daemon=d)
        self.assert_success(c.allocate(), tc.ALLOCATE)
        for sha256 in (False, True):
            req = c.sign(tc.CREATE_PERMISSION, [tc.XorAddress("127.0.0.1")],
                         sha256=sha256)
            # The MAC's last byte; then the XOR-PEER-ADDRESS port.
            for off in (-1, 20 + 4 + 2):
                ans = c.transact(self.flip(req, off))
                self.assert_error(ans, tc.CREATE_PERMISSION, 401,
                                  signed=False)
            self.assert_success(c.transact(req), tc.CREATE_PERMISSION)

    def test_fingerprint_tampered(self):
        """A bit flipped in FINGERPRINT, or in what it covers, and the
        message is dropped without an answer, signed or not."""
        d = self.start(loopback_turn())
        c = self.client(daemon=d)
        self.assert_success(c.allocate(), tc.ALLOCATE)
        requests = [
            sc.binding_request(fingerprint=True),
            tc.build(tc.ALLOCATE, attrs=[tc.requested_transport()],
                     fingerprint=True),
            c.sign(tc.CREATE_PERMISSION, [tc.XorAddress("127.0.0.1")],
                   fingerprint=True),
        ]
        for req in requests:
            for off in (-1, 8):  # the CRC; the transaction id
                self.assertIsNone(c.transact_raw(self.flip(req, off),
                                                 timeout=0.3),
                                  "an answer to a bad FINGERPRINT")
            self.assertIsNotNone(c.transact_raw(req), "no answer to the "
                                 "intact request")


class NastyStrings(AbuseCase):
    """Control characters, format directives and huge lengths wherever a
    client puts text: no crash, and the log stays clean."""

    TOKEN_SECRET = "token-secret-not-for-logs"
    API_KEY = "api-key-not-for-logs"
    SECRETS = AbuseCase.SECRETS + [wc.TURN_SECRET, TOKEN_SECRET, API_KEY]
    ALLOWED = wc.ALLOWED_LOG

    def start_http(self):
        conf = {"log": {"level": "debug"},
                "turn": wc.turn_on(users=["%s:%s" % kv for kv in
                                          USERS.items()],
                                   secrets=[wc.TURN_SECRET, SECRET],
                                   allowed_peers=["127.0.0.1"],
                                   unauth_rate=1000000),
                "signaling": {"token_secret": self.TOKEN_SECRET},
                "http": {"api_key": self.API_KEY}}
        # HTTP (and signaling) on the port, STUN/TURN on its UDP side.
        return self.start(conf, daemon_class=wc.HttpDaemon)

    def test_turn_strings(self):
        d = self.start_http()
        probe = self.client(daemon=d)
        self.assert_success(probe.allocate(), tc.ALLOCATE)
        realm, nonce = probe.realm, probe.nonce
        for payload in NASTY + [b"A" * 480, b"%s" * 240]:
            # A REST user whose free part is the payload: refused when it
            # holds a control character, a quote or a backslash (no real
            # credential needs them; they would cut or forge a log line),
            # else accepted and logged with the allocation.
            user, password = rest_user(SECRET, payload)
            if len(user) <= 513:
                c = self.client(user, password, daemon=d)
                ans = c.allocate()
                if any(b < 0x20 or b == 0x7f or b in b'"\\'
                       for b in payload):
                    self.assertEqual((ans.cls, tc.code(ans)),
                                     (sc.ERROR, 401), payload)
                else:
                    self.assert_success(ans, tc.ALLOCATE)
                    self.assert_success(c.refresh(0), tc.REFRESH)
            # The same in USERNAME, REALM and NONCE of a request that
            # fails: refused, not logged above debug.
            c = self.client(daemon=d)
            for creds in ((payload, realm, nonce),
                          ("alice", payload, nonce),
                          ("alice", realm, payload)):
                req = tc.build(tc.ALLOCATE, attrs=[tc.requested_transport()],
                               key=b"k" * 16, credentials=creds)
                ans = c.transact(req)
                self.assertEqual(ans.cls, sc.ERROR)
                self.assertIn(tc.code(ans), (400, 401, 438))
        # Too long: USERNAME past 513 bytes, REALM past 763, NONCE and
        # SOFTWARE near the message's 4096-byte bound.
        c = self.client(daemon=d)
        for creds in ((b"u" * 514, realm, nonce), (b"u" * 3000, realm, nonce),
                      ("alice", b"r" * 764, nonce), ("alice", realm,
                                                      b"n" * 3000)):
            ans = c.transact(tc.build(tc.ALLOCATE,
                                      attrs=[tc.requested_transport()],
                                      key=b"k" * 16, credentials=creds))
            self.assertEqual(ans.cls, sc.ERROR)
            self.assertIn(tc.code(ans), (400, 401, 438))
        ans = sc.udp_transaction(c.sock, d.addr(), sc.binding_request(
            attrs=[(0x8022, b"%n\x1b\n" * 1000)]))
        self.assertIsNotNone(ans)
        # A REST username with the payload in its user part made it to
        # the log, escaped.
        log = d.log()
        self.assertIn("%n%s%x%p", log)
        # The usernames with control characters were refused, so they
        # never reached the log; the others are there, escaped or as is.
        self.assertIn("%n%s%x%p", log)
        self.assert_serving("bob", daemon=d)

    def test_username_with_nul(self):
        """Two REST usernames that differ after a NUL byte are refused
        (RFC 8265 OpaqueString has no control characters) or are two
        users; not one user with one quota."""
        d = self.start(loopback_turn(max_allocations_per_user=1))
        expiry = int(time.time()) + 600
        for payload in (b"alice\x00one", b"alice\x00two"):
            user, password = rest_user(SECRET, payload, expiry=expiry)
            ans = self.client(user, password, daemon=d).allocate()
            if ans.cls == sc.ERROR and tc.code(ans) in (400, 401):
                continue
            self.assert_success(ans, tc.ALLOCATE)

    def test_username_quote_in_log(self):
        """A double quote in a username cannot end the log's user field:
        the relay address read from the line is the allocation's."""
        d = self.start(loopback_turn(),
                       allowed=[r"^allocation (created|deleted|stopped): "])
        user, password = rest_user(
            SECRET, b'mallory" relay 203.0.113.9:5000 lifetime 1 s')
        c = self.client(user, password, daemon=d)
        ans = c.allocate()
        if ans.cls == sc.ERROR and tc.code(ans) == 401:
            # Refused outright (quotes are not valid in a username):
            # nothing is logged for it to forge.
            self.assertEqual(d.find_log(r"^allocation created: "), [])
            return
        self.assert_success(ans, tc.ALLOCATE)
        line = d.wait_log(r"^allocation created: ")
        m = re.match(r'^allocation created: client \S+ user '
                     r'"((?:[^"\\]|\\.)*)" relay (\S+) lifetime', line)
        self.assertIsNotNone(m, line)
        self.assertEqual(m.group(2), "%s:%d" % tc.relayed_address(ans),
                         "the log line names another relay: %s" % line)

    def test_signaling_strings(self):
        d = self.start_http()
        for payload in [p.decode("utf-8", "replace") for p in NASTY] + \
                ["r" * 65, "r" * 5000]:
            ws = wc.RawWebSocket.connect(d)
            self.addCleanup(ws.close)
            ws.send_json({"type": "join", "room": payload, "name": payload,
                          "token": payload})
            ans = ws.recv_json(timeout_s=5)
            self.assertEqual(ans.get("type"), "error", ans)
            ws.send_json({"type": payload, "room": "ok"})
            self.assertEqual(ws.recv_json(timeout_s=5).get("type"), "error")
            ws.close()
        # Invalid UTF-8 in a text frame: closed with 1007.
        ws = wc.RawWebSocket.connect(d)
        self.addCleanup(ws.close)
        ws.send_frame(wc.TEXT, b'{"type":"join","room":"\xff\xfe"}')
        ws.expect_close()
        # HTTP paths, headers and queries with the same.
        for payload in NASTY:
            path = b"/api/turn?username=" + payload.replace(b"\n", b"%0a")
            req = (b"GET " + path.replace(b" ", b"%20") + b" HTTP/1.1\r\n"
                   b"Host: 127.0.0.1\r\nX-Evil: " +
                   payload.replace(b"\n", b"").replace(b"\r", b"") +
                   b"\r\nConnection: close\r\n\r\n")
            with socket.create_connection(d.addr(),
                                          timeout=tp.timeout(3)) as s:
                s.sendall(req)
                self.assertTrue(s.recv(64).startswith(b"HTTP/1.1 "))
        self.assertEqual(wc.http_request(d, "/healthz").status, 200)
        self.assert_serving("alice", daemon=d)


class Quotas(AbuseCase):
    """One user's limits spent: that user is refused, the others are
    served."""

    def test_per_user_exhaustion(self):
        d = self.start(loopback_turn(max_allocations=4,
                                     max_allocations_per_user=2,
                                     max_permissions=3, max_channels=2))
        a1 = self.allocated("alice", daemon=d)
        self.allocated("alice", daemon=d)
        self.assert_error(self.client("alice", daemon=d).allocate(),
                          tc.ALLOCATE, 486, signed=True)
        # Permissions: three peers, then 508; refreshing one still works.
        peers = ["127.0.0.%d" % i for i in (1, 2, 3)]
        self.assert_success(a1.create_permission(*peers),
                            tc.CREATE_PERMISSION)
        self.assert_error(a1.create_permission("127.0.0.4"),
                          tc.CREATE_PERMISSION, 508, signed=True)
        self.assert_success(a1.create_permission("127.0.0.2"),
                            tc.CREATE_PERMISSION)
        # Channels: two, then 508.
        live = self.peer()
        self.assert_success(a1.channel_bind(0x4000, live.addr),
                            tc.CHANNEL_BIND)
        self.assert_success(a1.channel_bind(0x4001, ("127.0.0.1", 9)),
                            tc.CHANNEL_BIND)
        self.assert_error(a1.channel_bind(0x4002, ("127.0.0.1", 10)),
                          tc.CHANNEL_BIND, 508, signed=True)
        # alice's full allocation still relays on its channel.
        a1.send_channel(0x4000, b"still here")
        self.assert_to_peer(live, tc.relayed_address(a1.allocation),
                            b"still here")
        # bob is served while alice is at her quota.
        self.assert_serving("bob", daemon=d)
        # The server's total: alice 2 + bob 1 + one REST user = 4, then
        # 508 for anyone.
        self.assert_success(self.rest_client(daemon=d).allocate(),
                            tc.ALLOCATE)
        self.assert_error(self.client("bob", daemon=d).allocate(),
                          tc.ALLOCATE, 508, signed=True)
        # alice frees one: bob gets it.
        self.assert_success(a1.refresh(0), tc.REFRESH)
        self.assert_serving("bob", daemon=d)


if __name__ == "__main__":
    tp.main()
