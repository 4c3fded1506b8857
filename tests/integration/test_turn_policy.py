#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The peer policy of turnpiked's TURN relay, through real requests.

With the built-in policy (no turn.allowed_peers), every address that is
not a public peer must be refused with 403, through CreatePermission and
ChannelBind, in each spelling: IPv4, IPv6, and the IPv6 forms that carry
an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo), the
CVE-2020-26262 family of holes.  Public addresses get their permission
(no traffic is ever sent to them).  Then turn.allowed_peers and
turn.denied_peers, and that a reload that closes a peer stops relaying
to it.

Not covered here: the server's own addresses as peers (the "self" list):
on loopback they are either denied by default anyway or opened by
allowed_peers, which beats the self list, so only the unit test
(tests/unit/test_peer.c) can tell them apart.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
from turncase import TurnCase, relay_ips, turn_conf  # noqa: E402

DENIED_V4 = [
    "0.0.0.0", "0.255.255.255", "127.0.0.1", "127.255.255.254",
    "10.1.2.3", "100.64.0.1", "100.127.255.254", "169.254.169.254",
    "172.16.0.1", "172.31.255.255", "192.0.0.1", "192.168.1.1",
    "198.18.0.1", "198.19.255.255", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255",
]

# Teredo (RFC 4380 section 4): 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC with
# the client's IPv4 address inverted; server 8.8.8.8 (public).
TEREDO_LOOPBACK = "2001:0:808:808::80ff:fffe"   # client ~7f000001
TEREDO_PUBLIC = "2001:0:808:808::f7f7:fbfb"     # client 8.8.4.4
TEREDO_PRIVATE_SERVER = "2001:0:a00:1::f7f7:fbfb"  # server 10.0.0.1

DENIED_V6 = [
    "::", "::1", "fe80::1", "febf::1", "fc00::1", "fd12::1", "ff02::1",
    "ff0e::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:0.0.0.0",
    "::ffff:169.254.169.254", "::ffff:0:127.0.0.1", "::127.0.0.1",
    "::10.0.0.1", "::0.0.0.2", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::8.8.8.8", "2002:7f00:1::1", "2002:a9fe:a9fe::1",
    "2002:a00:1::1", TEREDO_LOOPBACK, TEREDO_PRIVATE_SERVER,
]

ALLOWED_V4 = ["203.0.113.5", "8.8.8.8", "1.1.1.1", "100.63.255.255",
              "100.128.0.0", "172.15.255.255", "172.32.0.0", "198.17.0.1",
              "198.20.0.1", "223.255.255.255", "11.0.0.1", "126.255.255.255",
              "128.0.0.1", "169.253.0.1", "192.0.1.1"]
ALLOWED_V6 = ["2001:db8::1", "2606:4700::1111", "64:ff9b::808:808",
              "2002:808:808::1", TEREDO_PUBLIC, "::ffff:8.8.8.8",
              "fbff::1", "fec0::1", "2000::1"]

needs_ipv6 = unittest.skipUnless(tp.have_ipv6(), "no IPv6 loopback (::1)")


class DefaultPolicy(TurnCase):
    """The built-in policy: no allowed_peers, no denied_peers."""

    CONF = turn_conf(relay_ip=relay_ips())

    def alloc(self, ipv6=False):
        c = self.allocated(family=tc.FAMILY_IPV6 if ipv6 else None)
        want = "::1" if ipv6 else "127.0.0.1"
        self.assertEqual(tc.relayed_address(c.allocation)[0], want)
        return c

    def check_denied(self, addrs, ipv6):
        c = self.alloc(ipv6)
        for ip in addrs:
            ans = c.create_permission(ip)
            self.assert_error(ans, tc.CREATE_PERMISSION, 403, signed=True)
            ans = c.create_permission((ip, 3478))
            self.assert_error(ans, tc.CREATE_PERMISSION, 403, signed=True)
            ans = c.channel_bind(0x4000, (ip, 3478))
            self.assert_error(ans, tc.CHANNEL_BIND, 403, signed=True)
        # All or none: one denied peer among allowed ones refuses all.
        ans = c.create_permission(*(ALLOWED_V6[:2] if ipv6
                                    else ALLOWED_V4[:2]), addrs[0])
        self.assert_error(ans, tc.CREATE_PERMISSION, 403, signed=True)
        # The channel number was never taken.
        peer = (ALLOWED_V6[0] if ipv6 else ALLOWED_V4[0], 3478)
        self.assert_success(c.channel_bind(0x4000, peer), tc.CHANNEL_BIND)

    def check_allowed(self, addrs, ipv6):
        c = self.alloc(ipv6)
        for i, ip in enumerate(addrs):
            self.assert_success(c.create_permission(ip),
                                tc.CREATE_PERMISSION)
            self.assert_success(c.channel_bind(0x4000 + i, (ip, 3478)),
                                tc.CHANNEL_BIND)

    def test_ipv4_denied(self):
        self.check_denied(DENIED_V4, ipv6=False)

    @needs_ipv6
    def test_ipv6_denied(self):
        self.check_denied(DENIED_V6, ipv6=True)

    def test_ipv4_public_allowed(self):
        self.check_allowed(ALLOWED_V4, ipv6=False)

    @needs_ipv6
    def test_ipv6_public_allowed(self):
        self.check_allowed(ALLOWED_V6, ipv6=True)

    def test_port_zero_denied_for_channels(self):
        """ChannelBind names a transport address: port 0 is none."""
        c = self.alloc()
        ans = c.channel_bind(0x4000, (ALLOWED_V4[0], 0))
        self.assert_error(ans, tc.CHANNEL_BIND, 403, signed=True)

    def test_send_to_loopback_not_delivered(self):
        """Send indications to loopback peers, in every spelling that
        reaches a socket here, relay nothing."""
        v4 = self.alloc()
        peer = self.peer()
        port = peer.addr[1]
        for ip in ("127.0.0.1", "0.0.0.0", "127.0.0.2"):
            v4.send((ip, port), b"to %s" % ip.encode())
        receivers = [peer]
        if tp.have_ipv6():
            v6 = self.alloc(ipv6=True)
            peer6 = self.peer("::1")
            for ip in ("::1", "::", "::ffff:127.0.0.1", "::127.0.0.1"):
                v6.send((ip, peer6.addr[1]), b"to %s" % ip.encode())
                v6.send((ip, port), b"to %s" % ip.encode())
            receivers.append(peer6)
        self.assert_nothing(*receivers)
        # Nor does the peer reach the client through the relay.
        peer.sendto(b"in", tc.relayed_address(v4.allocation))
        self.assert_nothing(v4)


class AllowedPeers(TurnCase):
    """turn.allowed_peers opens what the defaults close, nothing more."""

    CONF = turn_conf(relay_ip=relay_ips(), allowed_peers=["127.0.0.1"])

    def test_allowed_exactly(self):
        c = self.allocated()
        self.assert_success(c.create_permission("127.0.0.1"),
                            tc.CREATE_PERMISSION)
        self.assert_success(c.channel_bind(0x4000, ("127.0.0.1", 3478)),
                            tc.CHANNEL_BIND)
        for ip in ("127.0.0.2", "127.0.0.0", "10.0.0.1", "0.0.0.0"):
            self.assert_error(c.create_permission(ip),
                              tc.CREATE_PERMISSION, 403, signed=True)

    @needs_ipv6
    def test_mapped_forms(self):
        """::ffff:127.0.0.1 is 127.0.0.1; its neighbours and other
        loopback spellings stay closed."""
        c = self.allocated(family=tc.FAMILY_IPV6)
        self.assert_success(c.create_permission("::ffff:127.0.0.1"),
                            tc.CREATE_PERMISSION)
        for ip in ("::ffff:127.0.0.2", "::1", "::127.0.0.2",
                   "64:ff9b::7f00:2"):
            self.assert_error(c.create_permission(ip),
                              tc.CREATE_PERMISSION, 403, signed=True)

    def test_relays_to_allowed_peer(self):
        self.assert_serving()


class AllowedAsMapped(TurnCase):
    """An allowed range written as IPv4-mapped IPv6 is the IPv4 range."""

    CONF = turn_conf(allowed_peers=["::ffff:127.0.0.0/104"])

    def test_mapped_range_allows_ipv4(self):
        c = self.allocated()
        for ip in ("127.0.0.1", "127.1.2.3"):
            self.assert_success(c.create_permission(ip),
                                tc.CREATE_PERMISSION)
        self.assert_error(c.create_permission("10.0.0.1"),
                          tc.CREATE_PERMISSION, 403, signed=True)


class DeniedPeers(TurnCase):
    """turn.denied_peers beats turn.allowed_peers, and closes public
    addresses too."""

    CONF = turn_conf(relay_ip=relay_ips(),
                     allowed_peers=["127.0.0.0/8", "10.0.0.0/8"],
                     denied_peers=["127.0.0.2", "10.1.0.0/16",
                                   "203.0.113.0/24", "2001:db8::/32"])

    def test_denied_beats_allowed(self):
        c = self.allocated()
        for ip in ("127.0.0.1", "127.0.0.3", "10.0.0.1", "10.2.0.1",
                   "198.51.100.1"):
            self.assert_success(c.create_permission(ip),
                                tc.CREATE_PERMISSION)
        for ip in ("127.0.0.2", "10.1.0.1", "10.1.255.255",
                   "203.0.113.5"):
            self.assert_error(c.create_permission(ip),
                              tc.CREATE_PERMISSION, 403, signed=True)
            self.assert_error(c.channel_bind(0x4000, (ip, 3478)),
                              tc.CHANNEL_BIND, 403, signed=True)

    @needs_ipv6
    def test_denied_in_every_spelling(self):
        c = self.allocated(family=tc.FAMILY_IPV6)
        for ip in ("::ffff:127.0.0.2", "::127.0.0.2", "64:ff9b::7f00:2",
                   "2002:7f00:2::1", "2001:db8::1",
                   "::ffff:10.1.0.1", "2002:a01:1::1"):
            self.assert_error(c.create_permission(ip),
                              tc.CREATE_PERMISSION, 403, signed=True)
        for ip in ("::ffff:127.0.0.1", "2001:db9::1"):
            self.assert_success(c.create_permission(ip),
                                tc.CREATE_PERMISSION)


class Reload(TurnCase):
    """What a SIGHUP changes in turn.*: users, limits, and the peer
    policy, which must also stop relaying to a peer it closes, though
    its permission and channel were made before (the comment in
    src/turn.c turn_send says so)."""

    CONF = turn_conf(allowed_peers=["127.0.0.1"])

    def closed_after_reload(self):
        """A client whose channel 0x4000 and permission reach a loopback
        peer, then a reload to the built-in policy that denies it."""
        c = self.allocated()
        relay = tc.relayed_address(c.allocation)
        peer = self.peer()
        self.assert_success(c.channel_bind(0x4000, peer.addr),
                            tc.CHANNEL_BIND)
        c.send(peer.addr, b"before")
        self.assert_to_peer(peer, relay, b"before")
        self.addCleanup(self.reload, self.CONF)
        self.reload(turn_conf())
        return c, peer, relay

    def test_reload_policy(self):
        """After the reload, new permissions to the peer are refused and
        Send indications to it are dropped."""
        c, peer, relay = self.closed_after_reload()
        fresh = self.allocated()
        self.assert_error(fresh.create_permission("127.0.0.1"),
                          tc.CREATE_PERMISSION, 403, signed=True)
        self.assert_error(c.create_permission("127.0.0.1"),
                          tc.CREATE_PERMISSION, 403, signed=True)
        c.send(peer.addr, b"after, send")
        self.assert_nothing(peer)

    def test_reload_closes_channel(self):
        c, peer, relay = self.closed_after_reload()
        c.send_channel(0x4000, b"after, channel")
        self.assert_nothing(peer)
        peer.sendto(b"after, from the peer", relay)
        self.assert_nothing(c)

    def test_reload_users(self):
        """A user added by a reload can allocate; one removed cannot."""
        self.addCleanup(self.reload, self.CONF)
        self.reload(turn_conf(users=["carol:carol-pw"],
                              allowed_peers=["127.0.0.1"]))
        carol = self.client("carol", "carol-pw")
        self.assert_success(carol.allocate(), tc.ALLOCATE)
        alice = self.client("alice")
        self.assert_error(alice.allocate(), tc.ALLOCATE, 401, signed=False)

    def test_reload_limits(self):
        """A limit lowered by a reload holds for new allocations."""
        self.addCleanup(self.reload, self.CONF)
        self.reload(turn_conf(allowed_peers=["127.0.0.1"],
                              max_allocations_per_user=1))
        self.allocated("bob")
        self.assert_error(self.client("bob").allocate(), tc.ALLOCATE, 486,
                          signed=True)


if __name__ == "__main__":
    tp.main()
