#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""TURN error answers from the real turnpiked (RFC 8656, RFC 8489).

Each error code the daemon can send comes from a real request of our own
stdlib client (turnclient.py): its class and method, its ERROR-CODE, and
that an answer to an authenticated request carries a valid
MESSAGE-INTEGRITY (or -SHA256) while a refusal of credentials carries
none.  Each refusal has a control that differs in the one thing refused
and succeeds.  Then the quotas (486, 508) and the rate limit on
unauthenticated answers.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
from turncase import SECRET, TurnCase, turn_conf  # noqa: E402

PUBLIC = ["203.0.113.5", "203.0.113.6", "203.0.113.7", "203.0.113.8"]


class Credentials(TurnCase):
    """401, 400 and 438: what long-term authentication refuses."""

    CONF = turn_conf(rest_max_ttl=3600)

    def test_401_challenge(self):
        """No credentials: 401 with our REALM and a NONCE, unsigned."""
        c = self.client()
        req = tc.build(tc.ALLOCATE, attrs=[tc.requested_transport()],
                       fingerprint=True)
        ans = c.transact(req)
        self.assert_error(ans, tc.ALLOCATE, 401, signed=False)
        self.assertEqual(ans.get(tc.REALM), b"turnpike")
        nonce = ans.get(tc.NONCE)
        self.assertIsNotNone(nonce)
        self.assertRegex(nonce.decode(), r"^[A-Za-z0-9_-]{8,763}$")
        self.assertTrue(ans.fingerprint_ok(),
                        "a request with FINGERPRINT gets one back")
        # The same request with those credentials is served.
        c.learn(ans)
        self.assert_success(c.allocate(), tc.ALLOCATE)

    def test_401_wrong_password(self):
        c = self.client("alice", "not-alices-password")
        ans = c.allocate()
        self.assert_error(ans, tc.ALLOCATE, 401, signed=False)
        self.assertEqual(ans.get(tc.REALM), b"turnpike")
        self.assertIsNotNone(ans.get(tc.NONCE))
        c.password = "alice-pw"
        self.assert_success(c.allocate(), tc.ALLOCATE)

    def test_401_unknown_user(self):
        c = self.client("mallory", "alice-pw")
        self.assert_error(c.allocate(), tc.ALLOCATE, 401, signed=False)
        # The same password under a known name: served.
        c.username = "alice"
        self.assert_success(c.allocate(), tc.ALLOCATE)

    def test_401_wrong_realm(self):
        """Credentials for another realm: 401 naming ours."""
        c = self.client()
        c.request(tc.REFRESH)  # learns a nonce (437 here, signed)
        c.realm = "elsewhere"
        ans = c.transact(c.sign(tc.ALLOCATE, [tc.requested_transport()]))
        self.assert_error(ans, tc.ALLOCATE, 401, signed=False)
        self.assertEqual(ans.get(tc.REALM), b"turnpike")

    def test_401_rest_expired(self):
        user, pw = tc.rest_credentials(SECRET, expiry=int(time.time()) - 5)
        c = self.client(user, pw)
        self.assert_error(c.allocate(), tc.ALLOCATE, 401, signed=False)
        user, pw = tc.rest_credentials(SECRET, ttl=600)
        c.username, c.password = user, pw
        self.assert_success(c.allocate(), tc.ALLOCATE)

    def test_401_rest_too_far_ahead(self):
        """An expiry beyond turn.rest_max_ttl (3600 s) from now: 401."""
        user, pw = tc.rest_credentials(SECRET, ttl=3600 + 600)
        c = self.client(user, pw)
        self.assert_error(c.allocate(), tc.ALLOCATE, 401, signed=False)
        user, pw = tc.rest_credentials(SECRET, ttl=3600 - 600)
        c.username, c.password = user, pw
        self.assert_success(c.allocate(), tc.ALLOCATE)

    def test_401_rest_wrong_secret(self):
        user, pw = tc.rest_credentials("not-the-secret", ttl=600)
        c = self.client(user, pw)
        self.assert_error(c.allocate(), tc.ALLOCATE, 401, signed=False)

    def test_rest_credentials_served(self):
        """REST credentials without the ":id" part work too, and the
        allocation belongs to that username."""
        user, pw = tc.rest_credentials(SECRET, ttl=600, user_id=None)
        c = self.client(user, pw)
        self.assert_success(c.allocate(), tc.ALLOCATE)
        self.daemon.wait_log(r'^allocation created: client 127\.0\.0\.1:%d/'
                             r'udp user "%s" ' % (c.addr[1], user))

    def test_400_integrity_without_nonce(self):
        """MESSAGE-INTEGRITY without NONCE (or USERNAME, or REALM): 400,
        without REALM, NONCE or integrity."""
        c = self.client()
        c.request(tc.REFRESH)  # realm and nonce
        key = c.key()
        for creds in ((c.username, c.realm, None),
                      (None, c.realm, c.nonce),
                      (c.username, None, c.nonce)):
            req = tc.build(tc.ALLOCATE, attrs=[tc.requested_transport()],
                           key=key, credentials=creds)
            ans = c.transact(req)
            self.assert_error(ans, tc.ALLOCATE, 400, signed=False)
            self.assertIsNone(ans.get(tc.NONCE))
            self.assertIsNone(ans.get(tc.REALM))
        # All three: served.
        req = tc.build(tc.ALLOCATE, attrs=[tc.requested_transport()],
                       key=key, credentials=(c.username, c.realm, c.nonce))
        self.assert_success(c.transact(req), tc.ALLOCATE)

    def test_438_nonce_of_another_daemon(self):
        """A nonce another turnpiked made (say, before a restart) is
        stale here: 438 with a fresh NONCE, and the retry is served."""
        other = self.start_daemon(self.CONF)
        c_other = self.client(daemon=other)
        c_other.request(tc.REFRESH)
        c = self.client(realm="turnpike", nonce=c_other.nonce)
        ans = c.transact(c.sign(tc.ALLOCATE, [tc.requested_transport()]))
        self.assert_error(ans, tc.ALLOCATE, 438, signed=False)
        self.assertEqual(ans.get(tc.REALM), b"turnpike")
        fresh = ans.get(tc.NONCE)
        self.assertIsNotNone(fresh)
        self.assertNotEqual(fresh.decode(), c_other.nonce)
        c.learn(ans)
        ans = c.transact(c.sign(tc.ALLOCATE, [tc.requested_transport()]))
        self.assert_success(ans, tc.ALLOCATE)
        self.assert_signed_by(ans, c.key())

    def test_438_tampered_nonce(self):
        c = self.client()
        c.request(tc.REFRESH)
        good = c.nonce
        alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_")
        for i in (0, 7, len(good) // 2, len(good) - 1):
            other = alphabet[(alphabet.index(good[i]) + 1) % 64]
            c.nonce = good[:i] + other + good[i + 1:]
            ans = c.transact(c.sign(tc.REFRESH))
            self.assert_error(ans, tc.REFRESH, 438, signed=False)
            self.assertIsNotNone(ans.get(tc.NONCE))
        for bad in (good[:-1], good + "A", "", "x" * 32, good[:-1] + "="):
            c.nonce = bad
            ans = c.transact(c.sign(tc.REFRESH))
            self.assert_error(ans, tc.REFRESH, 438, signed=False)
        c.nonce = good
        # The good one still works (437: no allocation yet, but signed).
        ans = c.transact(c.sign(tc.REFRESH))
        self.assert_error(ans, tc.REFRESH, 437, signed=True)
        self.assert_signed_by(ans, c.key())

    def test_sha256_integrity(self):
        """A request signed with MESSAGE-INTEGRITY-SHA256 gets answers
        signed so, success and error alike."""
        c = self.client(sha256=True)
        ans = c.allocate()
        self.assert_success(ans, tc.ALLOCATE)
        self.assert_signed_by(ans, c.key(), "sha256")
        self.assertNotIn(tc.MESSAGE_INTEGRITY, ans.types())
        ans = c.request(tc.CREATE_PERMISSION)
        self.assert_error(ans, tc.CREATE_PERMISSION, 400)
        self.assert_signed_by(ans, c.key(), "sha256")
        # A wrong SHA-256 MAC is refused like a wrong SHA-1 one.
        c.password = "wrong"
        self.assert_error(c.refresh(), tc.REFRESH, 401, signed=False)

    def test_fingerprint_on_signed_answer(self):
        """FINGERPRINT comes after MESSAGE-INTEGRITY and is right."""
        c = self.client()
        c.request(tc.REFRESH)
        ans = c.transact(c.sign(tc.ALLOCATE, [tc.requested_transport()],
                                fingerprint=True))
        self.assert_success(ans, tc.ALLOCATE)
        self.assertTrue(ans.fingerprint_ok())
        self.assertEqual(ans.types()[-2:],
                         [tc.MESSAGE_INTEGRITY, sc.FINGERPRINT])
        self.assert_signed_by(ans, c.key())


class NonceExpiry(TurnCase):
    """438 for a nonce past turn.nonce_lifetime (10 s, the least)."""

    CONF = turn_conf(nonce_lifetime=10)

    def test_438_expired_nonce(self):
        c = self.client()
        c.request(tc.REFRESH)
        issued = int(time.time())
        # Still good a second later.
        time.sleep(1)
        self.assert_error(c.transact(c.sign(tc.REFRESH)), tc.REFRESH, 437,
                          signed=True)
        # Stale once the wall clock passes issue + 10 s.
        time.sleep(max(0, issued + 11.2 - time.time()))
        ans = c.transact(c.sign(tc.REFRESH))
        self.assert_error(ans, tc.REFRESH, 438, signed=False)
        fresh = ans.get(tc.NONCE)
        self.assertNotEqual(fresh.decode(), c.nonce)
        c.learn(ans)
        self.assert_error(c.transact(c.sign(tc.REFRESH)), tc.REFRESH, 437,
                          signed=True)


class Requests(TurnCase):
    """400, 420, 437, 440-443: what the TURN methods refuse."""

    CONF = turn_conf(max_permissions=3, relay_ip=["127.0.0.1"])

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One nonce for every client: a nonce is bound to the client's
        # IP, not its port (src/auth.c), so 127.0.0.1's serves them all.
        c = tc.Client(cls.daemon.addr(), "alice", "alice-pw")
        try:
            c.request(tc.REFRESH)
        except BaseException:
            cls.daemon.__exit__(*sys.exc_info())
            raise
        finally:
            c.close()
        cls.nonce = c.nonce

    def client(self, user="alice", password=None, daemon=None, **kw):
        if daemon is None:
            kw.setdefault("realm", "turnpike")
            kw.setdefault("nonce", self.nonce)
        return super().client(user, password, daemon, **kw)

    def test_400_allocate_without_requested_transport(self):
        c = self.client()
        ans = c.allocate(transport=None)
        self.assert_error(ans, tc.ALLOCATE, 400, signed=True)
        # REQUESTED-TRANSPORT of the wrong size.
        ans = c.allocate(transport=None,
                         extra=[(tc.REQUESTED_TRANSPORT, b"\x11")])
        self.assert_error(ans, tc.ALLOCATE, 400, signed=True)
        self.assert_success(c.allocate(), tc.ALLOCATE)

    def test_400_malformed_allocate_attributes(self):
        """Attributes of the wrong size or in combinations RFC 8656
        section 7.2 forbids: 400."""
        c = self.client()
        v4, v6 = tc.FAMILY_IPV4, tc.FAMILY_IPV6
        for kw in (dict(additional=v4),
                   dict(family=v4, additional=v6),
                   dict(even=False, additional=v6),
                   dict(extra=[(tc.ADDITIONAL_ADDRESS_FAMILY, b"\x02")]),
                   dict(extra=[(tc.EVEN_PORT, b"\x80\x00\x00\x00")]),
                   dict(extra=[(tc.LIFETIME, b"\x00\x10")])):
            ans = c.allocate(**kw)
            self.assert_error(ans, tc.ALLOCATE, 400, signed=True)
        self.assert_success(c.allocate(even=False, lifetime=700),
                            tc.ALLOCATE)

    def test_400_lifetime_zero_allocate(self):
        """Allocate with LIFETIME 0 is no allocation: 400."""
        c = self.client()
        self.assert_error(c.allocate(lifetime=0), tc.ALLOCATE, 400,
                          signed=True)

    def test_400_create_permission_without_peer(self):
        c = self.allocated()
        ans = c.request(tc.CREATE_PERMISSION, [tc.u32(tc.LIFETIME, 1)])
        self.assert_error(ans, tc.CREATE_PERMISSION, 400, signed=True)
        # A malformed XOR-PEER-ADDRESS (family 3).
        ans = c.request(tc.CREATE_PERMISSION, [
            (tc.XOR_PEER_ADDRESS, b"\x00\x03\x00\x00" + bytes(4))])
        self.assert_error(ans, tc.CREATE_PERMISSION, 400, signed=True)
        self.assert_success(c.create_permission(PUBLIC[0]),
                            tc.CREATE_PERMISSION)

    def test_400_channel_bind(self):
        c = self.allocated()
        peer = (PUBLIC[0], 5000)
        for number in (0x3FFF, 0x5000, 0x7FFF, 0x8000, 0xFFFF, 0x0000):
            ans = c.channel_bind(number, peer)
            self.assert_error(ans, tc.CHANNEL_BIND, 400, signed=True)
        # Missing XOR-PEER-ADDRESS; missing CHANNEL-NUMBER.
        self.assert_error(c.channel_bind(0x4000, None), tc.CHANNEL_BIND,
                          400, signed=True)
        self.assert_error(c.channel_bind(None, peer), tc.CHANNEL_BIND, 400,
                          signed=True)
        # The range's ends are fine.
        self.assert_success(c.channel_bind(0x4000, peer), tc.CHANNEL_BIND)
        self.assert_success(c.channel_bind(0x4FFF, (PUBLIC[1], 5000)),
                            tc.CHANNEL_BIND)

    def test_420_unknown_comprehension_required(self):
        c = self.client()
        attrs = [tc.requested_transport(), (0x0031, b"what"),
                 (0x7FFE, b"")]
        # RFC 5389 section 7.3: the attributes are judged after the
        # authentication checks, so an unsigned request is challenged...
        ans = c.transact(tc.build(tc.ALLOCATE, attrs=attrs))
        self.assert_error(ans, tc.ALLOCATE, 401, signed=False)
        # ...and a signed one gets a signed 420.
        ans = c.transact(c.sign(tc.ALLOCATE, attrs))
        self.assert_error(ans, tc.ALLOCATE, 420)
        self.assertEqual(sorted(ans.unknown_attributes()), [0x0031, 0x7FFE])
        # Unknown comprehension-optional attributes are ignored.
        ans = c.request(tc.ALLOCATE, [tc.requested_transport(),
                                      (0x8031, b"what")])
        self.assert_success(ans, tc.ALLOCATE)

    def test_437_refresh_without_allocation(self):
        c = self.client()
        for method in (tc.REFRESH, tc.CREATE_PERMISSION, tc.CHANNEL_BIND):
            attrs = {tc.REFRESH: [],
                     tc.CREATE_PERMISSION: [tc.XorAddress(PUBLIC[0])],
                     tc.CHANNEL_BIND: [tc.channel_number(0x4000),
                                       tc.XorAddress(PUBLIC[0], 9)]}[method]
            ans = c.request(method, attrs)
            self.assert_error(ans, method, 437, signed=True)

    def test_437_second_allocate(self):
        """A new Allocate transaction on a 5-tuple that has an
        allocation: 437, and the allocation stays."""
        c = self.allocated()
        ans = c.allocate()
        self.assert_error(ans, tc.ALLOCATE, 437, signed=True)
        self.assert_success(c.refresh(), tc.REFRESH)

    def test_440_address_family_not_supported(self):
        c = self.client()
        ans = c.allocate(family=tc.FAMILY_IPV6)
        self.assert_error(ans, tc.ALLOCATE, 440, signed=True)
        ans = c.allocate(family=0x03)
        self.assert_error(ans, tc.ALLOCATE, 440, signed=True)
        self.assert_success(c.allocate(family=tc.FAMILY_IPV4), tc.ALLOCATE)

    def test_additional_family_unavailable(self):
        """ADDITIONAL-ADDRESS-FAMILY IPv6 without IPv6 relays: the IPv4
        relay, and ADDRESS-ERROR-CODE 440 for IPv6 (RFC 8656 7.2)."""
        c = self.client()
        ans = c.allocate(additional=tc.FAMILY_IPV6)
        self.assert_success(ans, tc.ALLOCATE)
        relays = tc.xor_addresses(ans, tc.XOR_RELAYED_ADDRESS)
        self.assertEqual([r[0] for r in relays], ["127.0.0.1"])
        err = ans.get(tc.ADDRESS_ERROR_CODE)
        self.assertIsNotNone(err, "no ADDRESS-ERROR-CODE")
        self.assertEqual(err[0], tc.FAMILY_IPV6)
        self.assertEqual(err[2] * 100 + err[3], 440)

    def test_441_other_user(self):
        """alice's allocation, then requests on its 5-tuple as bob: 441,
        signed with bob's key; alice's allocation is untouched."""
        alice = self.allocated("alice")
        bob = self.client("bob", sock=alice.sock)
        for method, attrs in ((tc.REFRESH, []),
                              (tc.CREATE_PERMISSION,
                               [tc.XorAddress(PUBLIC[0])])):
            ans = bob.request(method, attrs)
            self.assert_error(ans, method, 441, signed=True)
            self.assert_signed_by(ans, bob.key())
        ans = bob.refresh(0)
        self.assert_error(ans, tc.REFRESH, 441, signed=True)
        self.assert_success(alice.refresh(), tc.REFRESH)

    def test_442_unsupported_transport(self):
        c = self.client()
        self.assert_error(c.allocate(transport=tc.TCP), tc.ALLOCATE, 442,
                          signed=True)
        self.assert_error(c.allocate(transport=0), tc.ALLOCATE, 442,
                          signed=True)
        self.assert_success(c.allocate(transport=tc.UDP), tc.ALLOCATE)

    def test_443_peer_address_family_mismatch(self):
        c = self.allocated()
        ans = c.create_permission("2001:db8::1")
        self.assert_error(ans, tc.CREATE_PERMISSION, 443, signed=True)
        ans = c.channel_bind(0x4000, ("2001:db8::1", 5000))
        self.assert_error(ans, tc.CHANNEL_BIND, 443, signed=True)
        ans = c.refresh(extra=[tc.family_attr(tc.REQUESTED_ADDRESS_FAMILY,
                                              tc.FAMILY_IPV6)])
        self.assert_error(ans, tc.REFRESH, 443, signed=True)
        ans = c.refresh(extra=[tc.family_attr(tc.REQUESTED_ADDRESS_FAMILY,
                                              tc.FAMILY_IPV4)])
        self.assert_success(ans, tc.REFRESH)

    def test_508_max_permissions(self):
        """turn.max_permissions = 3: a fourth peer is 508, all or none;
        refreshing the three is not."""
        c = self.allocated()
        ans = c.create_permission(*PUBLIC)
        self.assert_error(ans, tc.CREATE_PERMISSION, 508, signed=True)
        self.assert_success(c.create_permission(*PUBLIC[:3]),
                            tc.CREATE_PERMISSION)
        self.assert_success(c.create_permission(*PUBLIC[:3]),
                            tc.CREATE_PERMISSION)
        ans = c.create_permission(PUBLIC[3])
        self.assert_error(ans, tc.CREATE_PERMISSION, 508, signed=True)
        ans = c.channel_bind(0x4000, (PUBLIC[3], 5000))
        self.assert_error(ans, tc.CHANNEL_BIND, 508, signed=True)
        # A channel to a peer that has a permission needs none more.
        self.assert_success(c.channel_bind(0x4000, (PUBLIC[0], 5000)),
                            tc.CHANNEL_BIND)

    def test_duplicate_peer_counts_once(self):
        c = self.allocated()
        self.assert_success(c.create_permission(*PUBLIC[:2]),
                            tc.CREATE_PERMISSION)
        self.assert_success(c.create_permission(PUBLIC[2], PUBLIC[2]),
                            tc.CREATE_PERMISSION)

    def test_508_max_channels(self):
        """turn.max_channels (64 by default): the 65th is 508."""
        c = self.allocated()
        self.assert_success(c.create_permission(PUBLIC[0]),
                            tc.CREATE_PERMISSION)
        for i in range(64):
            self.assert_success(c.channel_bind(0x4000 + i,
                                               (PUBLIC[0], 1000 + i)),
                                tc.CHANNEL_BIND)
        ans = c.channel_bind(0x4000 + 64, (PUBLIC[0], 1064))
        self.assert_error(ans, tc.CHANNEL_BIND, 508, signed=True)


class Quotas(TurnCase):
    """486 and 508 from turn.max_allocations(_per_user) and the relay
    port range, each on a daemon of its own."""

    CONF = None

    def test_508_max_allocations(self):
        d = self.start_daemon(turn_conf(max_allocations=1))
        alice = self.client("alice", daemon=d)
        self.assert_success(alice.allocate(), tc.ALLOCATE)
        bob = self.client("bob", daemon=d)
        self.assert_error(bob.allocate(), tc.ALLOCATE, 508, signed=True)
        self.assert_success(alice.refresh(0), tc.REFRESH)
        self.assert_success(bob.allocate(), tc.ALLOCATE)

    def test_486_max_allocations_per_user(self):
        d = self.start_daemon(turn_conf(max_allocations_per_user=1))
        first = self.client("alice", daemon=d)
        self.assert_success(first.allocate(), tc.ALLOCATE)
        second = self.client("alice", daemon=d)
        self.assert_error(second.allocate(), tc.ALLOCATE, 486, signed=True)
        bob = self.client("bob", daemon=d)
        self.assert_success(bob.allocate(), tc.ALLOCATE)
        # REST usernames are users of their own.
        rest = self.rest_client(daemon=d)
        self.assert_success(rest.allocate(), tc.ALLOCATE)
        self.assert_success(first.refresh(0), tc.REFRESH)
        self.assert_success(second.allocate(), tc.ALLOCATE)

    def test_508_ports_exhausted(self):
        """Two relay ports: two allocations, the third is 508 until one
        goes; the one freed is the one reused."""
        low = tp.free_port_pair()
        d = self.start_daemon(turn_conf(port_min=low, port_max=low + 1))
        clients = [self.client(daemon=d) for _ in range(3)]
        ports = []
        for c in clients[:2]:
            ans = c.allocate()
            self.assert_success(ans, tc.ALLOCATE)
            ports.append(tc.relayed_address(ans)[1])
        self.assertEqual(sorted(ports), [low, low + 1])
        self.assert_error(clients[2].allocate(), tc.ALLOCATE, 508,
                          signed=True)
        # EVEN-PORT with R needs both; none is left either.
        self.assert_error(clients[2].allocate(even=True), tc.ALLOCATE, 508,
                          signed=True)
        self.assert_success(clients[0].refresh(0), tc.REFRESH)
        ans = clients[2].allocate()
        self.assert_success(ans, tc.ALLOCATE)
        self.assertEqual(tc.relayed_address(ans)[1], ports[0])


class EvenPortAtTop(TurnCase):
    """EVEN-PORT without R needs one even port, not a pair."""

    CONF = None

    def test_even_port_max(self):
        low = tp.free_port_pair()
        low += low % 2
        d = self.start_daemon(turn_conf(port_min=low, port_max=low))
        c = self.client(daemon=d)
        ans = c.allocate(even=False)
        self.assert_success(ans, tc.ALLOCATE)
        self.assertEqual(tc.relayed_address(ans)[1], low)


class RateLimit(TurnCase):
    """turn.unauth_rate: answers without valid credentials are limited
    per source IP (a burst of twice the rate), authenticated ones and
    other IPs are not."""

    CONF = turn_conf(unauth_rate=5)

    def flood(self, sock, n):
        """Send n unauthenticated Allocates from sock; returns how many
        were answered and the time from the first send to the last
        answer, the most the daemon's bucket can have refilled for."""
        started = time.monotonic()
        tids = set()
        for _ in range(n):
            req = tc.build(tc.ALLOCATE, attrs=[tc.requested_transport()])
            tids.add(req[8:20])
            sock.sendto(req, self.daemon.addr())
        answered, last = 0, started
        while True:
            data = sc.recv_datagram(sock, tp.timeout(1))
            if data is None:
                break
            last = time.monotonic()
            ans = sc.parse(data)
            self.assertIn(ans.tid, tids)
            self.assertEqual(tc.code(ans), 401)
            answered += 1
        return answered, last - started

    def unauth_answered(self, host):
        c = self.client(host=host)
        req = tc.build(tc.ALLOCATE, attrs=[tc.requested_transport()])
        return c.transact_raw(req, timeout=tp.timeout(1)) is not None

    def test_rate_limit(self):
        # Credentials first: a nonce is what the flood will deny others.
        c = self.client()
        c.request(tc.REFRESH)
        sock = sc.udp_socket("127.0.0.1")
        self.addCleanup(sock.close)
        answered, took = self.flood(sock, 40)
        # The burst of 10, one already spent above, plus 5/s for as long
        # as the daemon can have been answering, and one for rounding.
        self.assertGreaterEqual(answered, 9)
        self.assertLessEqual(answered, 10 + int(5 * took),
                             "%d of 40 answered in %.2f s" % (answered, took))
        # Valid credentials are still served from the same IP, at once.
        ans = c.allocate()
        self.assert_success(ans, tc.ALLOCATE)
        self.assert_success(c.create_permission("203.0.113.5"),
                            tc.CREATE_PERMISSION)
        # Another source IP has a bucket of its own.  (Buckets are a
        # hash table of 4096: should 127.0.0.2 share 127.0.0.1's, one in
        # 4096 runs, 127.0.0.3 is asked too.)
        self.assertTrue(self.unauth_answered("127.0.0.2")
                        or self.unauth_answered("127.0.0.3"),
                        "other source addresses are limited too")
        # And it is a rate, not a ban: 127.0.0.1 is answered again.
        time.sleep(0.5)
        self.assertTrue(self.unauth_answered("127.0.0.1"))


if __name__ == "__main__":
    tp.main()
