# SPDX-License-Identifier: BSD-2-Clause
"""What the TURN integration tests share: a unittest case around one
turnpiked with TURN on, its config, and assertions on TURN answers.

Not for: the protocol itself (turnclient.py) or the daemon's process
(tp.py).
"""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402
import turnclient as tc  # noqa: E402

# How long a datagram that must not arrive is waited for.
SILENCE = 0.4

USERS = {"alice": "alice-pw", "bob": "bob-pw"}
SECRET = "rest-secret-1"

# Info lines a TURN daemon writes (src/turn.c turn_allocate, src/server.c
# server_alloc_gone, src/main.c reload); nothing else may appear.
ALLOWED_LOG = [
    r'^allocation created: client \S+/udp user "[^"]*" relay \S+'
    r'( and IPv6)? lifetime \d+ s$',
    r'^allocation (expired|deleted|stopped): client \S+/udp user "[^"]*" '
    r'relay \S+, \d+ s, \d+ packets \d+ bytes to peers, \d+ packets \d+ bytes '
    r'from peers$',
    r'^configuration reloaded from \S+$',
    r'^reload: \d+ permissions and channels to peers now denied removed$',
]


def turn_conf(**turn):
    """A config with TURN on: two static users, one REST secret, relays
    on 127.0.0.1 only, and no rate limit to speak of (the tests send many
    unauthenticated requests from 127.0.0.1); turn overrides keys."""
    keys = {
        "enable": True,
        "users": ["%s:%s" % kv for kv in USERS.items()],
        "secrets": [SECRET],
        "relay_ip": ["127.0.0.1"],
        "unauth_rate": 1000000,
    }
    keys.update(turn)
    return {"turn": keys}


def relay_ips(ipv6=True):
    """relay_ip for a test: 127.0.0.1, and ::1 when wanted and usable."""
    return ["127.0.0.1"] + (["::1"] if ipv6 and tp.have_ipv6() else [])


class TurnCase(unittest.TestCase):
    """One daemon per class (CONF, made by turn_conf()), checked for
    unexpected log lines when the class is done; tests may start more
    with start_daemon()."""

    CONF = turn_conf()  # None: no daemon for the class
    IPV6 = False  # listen on ::1 too
    daemon = None

    @classmethod
    def setUpClass(cls):
        if cls.CONF is not None:
            cls.daemon = tp.Daemon(cls.CONF, ipv6=cls.IPV6).__enter__()

    @classmethod
    def tearDownClass(cls):
        d = cls.daemon
        if d is not None:
            d.__exit__(None, None, None)
            d.check_log(ALLOWED_LOG)

    def start_daemon(self, conf):
        """Another daemon for this test only, stopped and its log checked
        when the test ends."""
        d = tp.Daemon(conf).__enter__()

        def done():
            d.__exit__(None, None, None)
            d.check_log(ALLOWED_LOG)
        self.addCleanup(done)
        return d

    # -- clients and peers --

    def client(self, user="alice", password=None, daemon=None, **kw):
        """A client of daemon (self.daemon), closed after the test; over
        IPv6 when host (its address) is IPv6."""
        d = daemon or self.daemon
        if password is None:
            password = USERS.get(user)
        server = d.addr("::1" if ":" in kw.get("host", "") else
                        "127.0.0.1")
        c = tc.Client(server, user, password, timeout=tp.timeout(2), **kw)
        self.addCleanup(c.close)
        return c

    def rest_client(self, ttl=3600, user_id="rest", secret=SECRET, **kw):
        user, password = tc.rest_credentials(secret, ttl, user_id)
        return self.client(user, password, **kw)

    def allocated(self, user="alice", **kw):
        """A client with an allocation made with allocate(**kw)."""
        alloc_kw = {k: kw.pop(k) for k in list(kw)
                    if k in ("lifetime", "family", "additional", "even",
                             "token", "dont_fragment")}
        c = self.client(user, **kw)
        ans = c.allocate(**alloc_kw)
        self.assert_success(ans, tc.ALLOCATE)
        c.allocation = ans
        return c

    def peer(self, host="127.0.0.1"):
        p = tc.Peer(host)
        self.addCleanup(p.close)
        return p

    # -- assertions --

    def assert_success(self, ans, method):
        self.assertEqual((ans.method, ans.cls), (method, sc.SUCCESS),
                         "expected a success, got %s" % tc.describe(ans))

    def assert_error(self, ans, method, code, signed=None):
        """ans is an error answer to method with code.  signed=True:
        it carries integrity (checked valid by the client already);
        False: it carries none."""
        self.assertEqual(ans.method, method, tc.describe(ans))
        self.assertEqual(ans.cls, sc.ERROR,
                         "expected error %d, got %s" % (code,
                                                        tc.describe(ans)))
        self.assertEqual(tc.code(ans), code, tc.describe(ans))
        if signed is not None:
            self.assertEqual(tc.has_integrity(ans), signed,
                             "integrity in %s" % tc.describe(ans))

    def assert_signed_by(self, ans, key, kind="sha1"):
        """ans carries valid integrity of kind ("sha1", "sha256")."""
        self.assertEqual(tc.check_integrity(ans.raw, key), kind)

    def assert_nothing(self, *receivers, timeout=SILENCE):
        """No datagram reaches any receiver (Peer or Client) within
        timeout, shared among them."""
        deadline = time.monotonic() + timeout
        for r in receivers:
            left = max(0, deadline - time.monotonic())
            if isinstance(r, tc.Client):
                got = r.recv_relayed(left)
            else:
                got = r.recv(left)
            self.assertIsNone(got, "a datagram arrived that must not: %r"
                              % (got,))

    def assert_from_peer(self, client, peer_addr, payload, channel=None):
        """client receives payload from peer_addr: as a Data indication
        naming the peer, or as ChannelData on channel."""
        got = client.recv_relayed(tp.timeout(2))
        self.assertIsNotNone(got, "nothing relayed to the client")
        if channel is None:
            self.assertEqual(got[0], "data", got)
            self.assertTrue(tc.same_addr(got[1], peer_addr),
                            "XOR-PEER-ADDRESS %r, not %r"
                            % (got[1], peer_addr))
        else:
            self.assertEqual(got[:2], ("channel", channel), got)
        self.assertEqual(got[2], payload)

    def assert_to_peer(self, peer, relay_addr, payload):
        """peer receives exactly payload from relay_addr."""
        got = peer.recv(tp.timeout(2))
        self.assertIsNotNone(got, "nothing relayed to the peer")
        self.assertEqual(got[0], payload)
        self.assertTrue(tc.same_addr(got[1], relay_addr),
                        "from %r, not the relayed address %r"
                        % (got[1], relay_addr))

    def assert_serving(self, user="alice", daemon=None, host=None):
        """The daemon (self.daemon) still allocates for user (from host)
        and relays both ways with a loopback peer (needs 127.0.0.1 in
        turn.allowed_peers)."""
        kw = {"host": host} if host else {}
        c = self.allocated(user, daemon=daemon, **kw)
        relay = tc.relayed_address(c.allocation)
        p = self.peer()
        self.assert_success(c.create_permission(p.addr),
                            tc.CREATE_PERMISSION)
        data = tc.random_payload(40)
        c.send(p.addr, data)
        self.assert_to_peer(p, relay, data)
        p.sendto(data[::-1], relay)
        self.assert_from_peer(c, p.addr, data[::-1])

    def reload(self, conf, daemon=None):
        """Write conf for daemon (self.daemon), SIGHUP it and wait for the
        reload to be logged; returns the log mark from before it."""
        d = daemon or self.daemon
        mark = d.mark()
        d.write_conf(conf)
        d.signal(signal.SIGHUP)
        d.wait_log(r"^configuration reloaded from ", since=mark)
        return mark

    def wait_for(self, predicate, timeout_s, what):
        """Poll predicate until it is true or fail after timeout_s."""
        deadline = time.monotonic() + tp.timeout(timeout_s)
        while not predicate():
            if time.monotonic() > deadline:
                self.fail("%s: not within %s s" % (what, timeout_s))
            time.sleep(0.05)
