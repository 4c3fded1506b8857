#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The TURN relay of the real turnpiked, end to end on loopback.

Our stdlib client (turnclient.py) allocates, and Python UDP sockets play
the peers (127.0.0.0/8 and ::1 are opened with turn.allowed_peers): data
goes both ways as Send and Data indications and as ChannelData, byte for
byte and from the right addresses; what has no permission, no channel or
no sense is not relayed and leaves the daemon serving.  Then the state:
lifetimes granted, refreshed, deleted and expired; retransmissions
answered from the cache without doing the work twice; the channel
binding rules; EVEN-PORT and RESERVATION-TOKEN; IPv6 and dual
allocations.
"""

import os
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
from turncase import TurnCase, relay_ips, turn_conf  # noqa: E402

SILENCE_SHORT = 0.3

needs_ipv6 = unittest.skipUnless(tp.have_ipv6(), "no IPv6 loopback (::1)")

LOOPBACK_PEERS = ["127.0.0.0/8"] + (["::1"] if tp.have_ipv6() else [])

# Payload sizes: tiny, unpadded, padded by 1-3, a typical media packet.
SIZES = [1, 2, 3, 4, 5, 100, 1199, 1200]


def created_for(daemon, client, since=0):
    """The 'allocation created' lines for client's address."""
    return daemon.find_log(r"^allocation created: client 127\.0\.0\.1:%d/udp "
                           % client.addr[1], since)


class Relay(TurnCase):
    """Data both ways through one daemon with loopback peers allowed."""

    CONF = turn_conf(relay_ip=relay_ips(), allowed_peers=LOOPBACK_PEERS)
    IPV6 = True

    def setup_pair(self, channel=None, family=None, peer_host="127.0.0.1"):
        """An allocation, a peer with a permission (and channel), and the
        relayed address toward the peer's family."""
        c = self.allocated(family=family)
        peer = self.peer(peer_host)
        relay = tc.relayed_address(c.allocation)
        if channel is None:
            self.assert_success(c.create_permission(peer.addr[0]),
                                tc.CREATE_PERMISSION)
        else:
            self.assert_success(c.channel_bind(channel, peer.addr),
                                tc.CHANNEL_BIND)
        return c, peer, relay

    # -- the data path --

    def test_send_and_data_indication(self):
        c, peer, relay = self.setup_pair()
        for n in SIZES:
            data = tc.random_payload(n)
            c.send(peer.addr, data)
            self.assert_to_peer(peer, relay, data)
            peer.sendto(data[::-1], relay)
            self.assert_from_peer(c, peer.addr, data[::-1])
        # DONT-FRAGMENT and FINGERPRINT on a Send change nothing here.
        c.send(peer.addr, b"df", dont_fragment=True, fingerprint=True)
        self.assert_to_peer(peer, relay, b"df")

    def test_permission_is_per_ip(self):
        """RFC 8656 section 9: a permission is for an IP, any port."""
        c, peer, relay = self.setup_pair()
        other = self.peer()
        c.send(other.addr, b"x")
        self.assert_to_peer(other, relay, b"x")
        other.sendto(b"y", relay)
        self.assert_from_peer(c, other.addr, b"y")

    def test_channel_data_both_ways(self):
        c, peer, relay = self.setup_pair(channel=0x4000)
        for n in SIZES:
            data = tc.random_payload(n)
            c.send_channel(0x4000, data)
            self.assert_to_peer(peer, relay, data)
            # Padding after the length is not data.
            c.send_channel(0x4000, data, pad=True)
            self.assert_to_peer(peer, relay, data)
            peer.sendto(data[::-1], relay)
            self.assert_from_peer(c, peer.addr, data[::-1], channel=0x4000)
        # With a channel bound, peer data comes as ChannelData even when
        # the client used a Send indication.
        c.send(peer.addr, b"send")
        self.assert_to_peer(peer, relay, b"send")
        peer.sendto(b"back", relay)
        self.assert_from_peer(c, peer.addr, b"back", channel=0x4000)

    def test_channels_keep_peers_apart(self):
        """Two channels to two ports of one IP: each to its own peer."""
        c = self.allocated()
        relay = tc.relayed_address(c.allocation)
        a, b = self.peer(), self.peer()
        self.assert_success(c.channel_bind(0x4000, a.addr), tc.CHANNEL_BIND)
        self.assert_success(c.channel_bind(0x4FFF, b.addr), tc.CHANNEL_BIND)
        c.send_channel(0x4FFF, b"to b")
        c.send_channel(0x4000, b"to a")
        self.assert_to_peer(a, relay, b"to a")
        self.assert_to_peer(b, relay, b"to b")
        b.sendto(b"from b", relay)
        self.assert_from_peer(c, b.addr, b"from b", channel=0x4FFF)
        a.sendto(b"from a", relay)
        self.assert_from_peer(c, a.addr, b"from a", channel=0x4000)
        self.assert_nothing(a, b, c)

    def test_no_permission_not_delivered(self):
        """A peer without a permission neither gets nor sends data, until
        it has one."""
        c, peer, relay = self.setup_pair()
        stranger = self.peer("127.0.0.2")
        stranger.sendto(b"let me in", relay)
        c.send(stranger.addr, b"hello stranger")
        self.assert_nothing(c, stranger)
        self.assert_success(c.create_permission("127.0.0.2"),
                            tc.CREATE_PERMISSION)
        stranger.sendto(b"let me in", relay)
        self.assert_from_peer(c, stranger.addr, b"let me in")
        c.send(stranger.addr, b"hello stranger")
        self.assert_to_peer(stranger, relay, b"hello stranger")

    def test_bad_channel_data(self):
        """ChannelData on an unbound channel, with a length beyond the
        datagram, a number out of range, or too short: not relayed."""
        c, peer, relay = self.setup_pair(channel=0x4000)
        for bad in (tc.channel_data(0x4001, b"unbound"),
                    tc.channel_data(0x4FFF, b"unbound"),
                    tc.channel_data(0x4000, b"abcd", length=5),
                    tc.channel_data(0x4000, b"abcd", length=0xFFFF),
                    tc.channel_data(0x5000, b"old range"),
                    tc.channel_data(0x7FFF, b"old range"),
                    tc.channel_data(0x3FFF, b"below"),
                    tc.channel_data(0x8000, b"above"),
                    b"\x40", b"\x40\x00", b"\x40\x00\x00"):
            c.send_raw(bad)
        # ChannelData from a 5-tuple without an allocation.
        other = self.client()
        other.send_channel(0x4000, b"no allocation")
        self.assert_nothing(peer)
        c.send_channel(0x4000, b"good")
        self.assert_to_peer(peer, relay, b"good")
        # A length of 0 is an empty datagram, not garbage.
        c.send_channel(0x4000, b"")
        self.assert_to_peer(peer, relay, b"")
        self.assert_nothing(peer)
        self.assert_serving()

    def test_bad_send_indications(self):
        """Send indications without DATA or XOR-PEER-ADDRESS, with a
        peer of another family or a broken address, without an
        allocation or with a bad FINGERPRINT: dropped silently."""
        c, peer, relay = self.setup_pair()
        xpa = tc.XorAddress(*peer.addr)
        bad = [
            tc.build(tc.SEND, sc.INDICATION, attrs=[xpa]),
            tc.build(tc.SEND, sc.INDICATION,
                     attrs=[(tc.DATA_ATTR, b"no peer")]),
            tc.build(tc.SEND, sc.INDICATION,
                     attrs=[tc.XorAddress("::1", peer.addr[1]),
                            (tc.DATA_ATTR, b"v6 peer on v4 relay")]),
            tc.build(tc.SEND, sc.INDICATION,
                     attrs=[(tc.XOR_PEER_ADDRESS, b"\x00\x03" + bytes(6)),
                            (tc.DATA_ATTR, b"family 3")]),
            tc.build(tc.SEND, sc.INDICATION,
                     attrs=[(tc.XOR_PEER_ADDRESS, b"\x00\x01\x00"),
                            (tc.DATA_ATTR, b"short address")]),
        ]
        good = tc.build(tc.SEND, sc.INDICATION,
                        attrs=[xpa, (tc.DATA_ATTR, b"bad fingerprint")])
        bad.append(sc.build(tc.SEND, sc.INDICATION, tid=good[8:20],
                            attrs=[good[20:]], fingerprint=True,
                            bad_fingerprint=True))
        # A Send indication whose length field overruns the datagram.
        bad.append(good[:2] + struct.pack("!H", len(good) - 20 + 4)
                   + good[4:])
        for msg in bad:
            c.send_raw(msg)
        other = self.client()
        other.send(peer.addr, b"no allocation")
        self.assert_nothing(peer, c)
        c.send(peer.addr, b"good")
        self.assert_to_peer(peer, relay, b"good")
        self.assert_serving()

    def test_data_not_stun_from_client(self):
        """Datagrams that are neither STUN nor ChannelData: dropped, no
        answer, nothing relayed."""
        c, peer, relay = self.setup_pair(channel=0x4000)
        for junk in (b"\x80" * 20, b"\xff", b"GET / HTTP/1.1\r\n\r\n",
                     b"\x16\x03\x01\x00\x05hello"):
            c.send_raw(junk)
        self.assert_nothing(peer, c)
        c.send_channel(0x4000, b"fine")
        self.assert_to_peer(peer, relay, b"fine")

    def test_max_datagram(self):
        """turn.max_datagram (1600 by default) bounds what is relayed,
        both ways; the largest is relayed whole."""
        c, peer, relay = self.setup_pair()
        big, too_big = tc.random_payload(1600), tc.random_payload(1601)
        c.send(peer.addr, too_big)
        peer.sendto(too_big, relay)
        self.assert_nothing(peer, c)
        c.send(peer.addr, big)
        self.assert_to_peer(peer, relay, big)
        peer.sendto(big, relay)
        self.assert_from_peer(c, peer.addr, big)
        self.assert_success(c.channel_bind(0x4000, peer.addr),
                            tc.CHANNEL_BIND)
        c.send_channel(0x4000, too_big)
        peer.sendto(too_big, relay)
        self.assert_nothing(peer, c)
        c.send_channel(0x4000, big)
        self.assert_to_peer(peer, relay, big)
        peer.sendto(big, relay)
        self.assert_from_peer(c, peer.addr, big, channel=0x4000)

    def test_allocation_to_allocation(self):
        """Two clients relay to each other's relayed addresses (two
        browsers behind one TURN server)."""
        a, b = self.allocated("alice"), self.allocated("bob")
        ra = tc.relayed_address(a.allocation)
        rb = tc.relayed_address(b.allocation)
        self.assert_success(a.create_permission(rb[0]), tc.CREATE_PERMISSION)
        self.assert_success(b.channel_bind(0x4000, ra), tc.CHANNEL_BIND)
        a.send(rb, b"a to b")
        self.assert_from_peer(b, ra, b"a to b", channel=0x4000)
        b.send_channel(0x4000, b"b to a")
        self.assert_from_peer(a, rb, b"b to a")

    # -- channel rules --

    def test_channel_rules(self):
        """RFC 8656 section 11.2: a channel is bound to one peer and a
        peer to one channel; binding the same pair again refreshes."""
        c = self.allocated()
        relay = tc.relayed_address(c.allocation)
        a, b = self.peer(), self.peer()
        self.assert_success(c.channel_bind(0x4000, a.addr), tc.CHANNEL_BIND)
        self.assert_error(c.channel_bind(0x4000, b.addr), tc.CHANNEL_BIND,
                          400, signed=True)
        self.assert_error(c.channel_bind(0x4001, a.addr), tc.CHANNEL_BIND,
                          400, signed=True)
        self.assert_success(c.channel_bind(0x4000, a.addr), tc.CHANNEL_BIND)
        self.assert_success(c.channel_bind(0x4001, b.addr), tc.CHANNEL_BIND)
        # The refused binds changed nothing.
        c.send_channel(0x4000, b"a")
        self.assert_to_peer(a, relay, b"a")
        c.send_channel(0x4001, b"b")
        self.assert_to_peer(b, relay, b"b")
        self.assert_nothing(a, b)

    def test_old_channels(self):
        """turn.old_channels = true: RFC 5766's 0x5000-0x7FFF work."""
        d = self.start_daemon(turn_conf(allowed_peers=LOOPBACK_PEERS,
                                        old_channels=True))
        c = self.client(daemon=d)
        ans = c.allocate()
        self.assert_success(ans, tc.ALLOCATE)
        relay = tc.relayed_address(ans)
        peer = self.peer()
        self.assert_success(c.channel_bind(0x5000, ("127.0.0.1", 9)),
                            tc.CHANNEL_BIND)
        self.assert_success(c.channel_bind(0x7FFF, peer.addr),
                            tc.CHANNEL_BIND)
        c.send_channel(0x7FFF, b"old")
        self.assert_to_peer(peer, relay, b"old")
        peer.sendto(b"back", relay)
        self.assert_from_peer(c, peer.addr, b"back", channel=0x7FFF)
        self.assert_error(c.channel_bind(0x8000, peer.addr),
                          tc.CHANNEL_BIND, 400, signed=True)

    # -- retransmissions --

    def test_allocate_retransmission(self):
        """The same Allocate twice: byte-identical answers, one
        allocation."""
        c = self.client()
        c.request(tc.REFRESH)  # credentials
        mark = self.daemon.mark()
        req = c.sign(tc.ALLOCATE, [tc.requested_transport()])
        first = c.transact_raw(req)
        second = c.transact_raw(req)
        self.assertIsNotNone(first)
        self.assert_success(sc.parse(first), tc.ALLOCATE)
        self.assertEqual(first, second)
        time.sleep(0.1)
        self.assertEqual(len(created_for(self.daemon, c, mark)), 1,
                         self.daemon.log())
        # A new transaction is another Allocate: 437.
        self.assert_error(c.allocate(), tc.ALLOCATE, 437, signed=True)

    def evict_answers(self, n=30000):
        """Push n signed answers through the daemon's cache of recent
        answers (1024 slots, src/main.c), from a client of its own: any
        one earlier answer survives with a chance of (1 - 1/1024)^n."""
        f = self.client("bob")
        f.request(tc.REFRESH)
        key = f.key()
        creds = (f.username, f.realm, f.nonce)
        for _ in range(n // 100):
            for _ in range(100):
                f.send_raw(tc.build(tc.REFRESH, key=key, credentials=creds))
            for _ in range(100):
                if sc.recv_datagram(f.sock, tp.timeout(2)) is None:
                    break

    def test_allocate_retransmission_after_eviction(self):
        """RFC 8656 section 7.2: a retransmitted Allocate gets the
        success it got the first time, even when the answer cache no
        longer holds it."""
        c = self.client()
        c.request(tc.REFRESH)
        req = c.sign(tc.ALLOCATE, [tc.requested_transport(),
                                   tc.even_port(True)])
        first = sc.parse(c.transact_raw(req))
        self.assert_success(first, tc.ALLOCATE)
        self.evict_answers()
        second = c.transact(req)
        self.assert_success(second, tc.ALLOCATE)
        self.assert_signed_by(second, c.key())
        self.assertEqual(tc.relayed_address(second),
                         tc.relayed_address(first))
        self.assertEqual(second.get(tc.RESERVATION_TOKEN),
                         first.get(tc.RESERVATION_TOKEN))

    def test_refresh_delete_retransmission(self):
        """Refresh LIFETIME 0 twice: the second copy gets the first's
        success, not 437; a new Refresh gets 437."""
        c = self.allocated()
        req = c.sign(tc.REFRESH, [tc.u32(tc.LIFETIME, 0)])
        first = c.transact_raw(req)
        second = c.transact_raw(req)
        self.assertIsNotNone(first)
        ans = sc.parse(first)
        self.assert_success(ans, tc.REFRESH)
        self.assertEqual(tc.lifetime(ans), 0)
        self.assertEqual(first, second)
        self.assert_error(c.refresh(), tc.REFRESH, 437, signed=True)
        self.daemon.wait_log(r"^allocation deleted: client 127\.0\.0\.1:%d/"
                             % c.addr[1])
        self.assertEqual(len(self.daemon.find_log(
            r"^allocation deleted: client 127\.0\.0\.1:%d/" % c.addr[1])),
            1)

    def test_permission_retransmission(self):
        c = self.allocated()
        req = c.sign(tc.CREATE_PERMISSION, [tc.XorAddress("127.0.0.1")])
        first = c.transact_raw(req)
        self.assertIsNotNone(first)
        self.assert_success(sc.parse(first), tc.CREATE_PERMISSION)
        self.assertEqual(c.transact_raw(req), first)

    # -- EVEN-PORT and RESERVATION-TOKEN --

    def test_even_port(self):
        c = self.allocated(even=False)
        port = tc.relayed_address(c.allocation)[1]
        self.assertEqual(port % 2, 0, "EVEN-PORT gave port %d" % port)
        self.assertIsNone(c.allocation.get(tc.RESERVATION_TOKEN))

    def test_reservation_token(self):
        """EVEN-PORT with R: an even port and a token; the token gets
        port+1 to another 5-tuple, once; data flows through it."""
        first = self.allocated(even=True)
        ip, port = tc.relayed_address(first.allocation)
        self.assertEqual(port % 2, 0)
        token = first.allocation.get(tc.RESERVATION_TOKEN)
        self.assertIsNotNone(token, "no RESERVATION-TOKEN")
        self.assertEqual(len(token), 8)

        second = self.allocated(token=token)
        self.assertEqual(tc.relayed_address(second.allocation),
                         (ip, port + 1))
        self.assertIsNone(second.allocation.get(tc.RESERVATION_TOKEN))
        # Spent.
        third = self.client()
        self.assert_error(third.allocate(token=token), tc.ALLOCATE, 508,
                          signed=True)
        # The reserved port relays.
        peer = self.peer()
        self.assert_success(second.create_permission("127.0.0.1"),
                            tc.CREATE_PERMISSION)
        second.send(peer.addr, b"odd port")
        self.assert_to_peer(peer, (ip, port + 1), b"odd port")
        peer.sendto(b"back", (ip, port + 1))
        self.assert_from_peer(second, peer.addr, b"back")

    def test_reservation_token_errors(self):
        c = self.client()
        token = b"\x01\x02\x03\x04\x05\x06\x07\x08"
        self.assert_error(c.allocate(token=token, even=False), tc.ALLOCATE,
                          400, signed=True)
        self.assert_error(c.allocate(token=token, family=tc.FAMILY_IPV4),
                          tc.ALLOCATE, 400, signed=True)
        self.assert_error(c.allocate(token=b"1234"), tc.ALLOCATE, 400,
                          signed=True)
        self.assert_error(c.allocate(token=token), tc.ALLOCATE, 508,
                          signed=True)
        self.assert_success(c.allocate(), tc.ALLOCATE)

    def test_dont_fragment_allocate(self):
        """DONT-FRAGMENT in an Allocate is supported (no 420)."""
        c = self.allocated(dont_fragment=True)
        self.assertTrue(tc.relayed_address(c.allocation))

    # -- IPv6 --

    @needs_ipv6
    def test_ipv6_relay(self):
        c, peer, relay = self.setup_pair(family=tc.FAMILY_IPV6,
                                         peer_host="::1")
        self.assertEqual(relay[0], "::1")
        self.assertEqual(len(tc.xor_addresses(c.allocation,
                                              tc.XOR_RELAYED_ADDRESS)), 1)
        for n in (3, 100):
            data = tc.random_payload(n)
            c.send(peer.addr, data)
            self.assert_to_peer(peer, relay, data)
            peer.sendto(data[::-1], relay)
            self.assert_from_peer(c, peer.addr, data[::-1])
        self.assert_success(c.channel_bind(0x4321, peer.addr),
                            tc.CHANNEL_BIND)
        c.send_channel(0x4321, b"six")
        self.assert_to_peer(peer, relay, b"six")
        peer.sendto(b"xis", relay)
        self.assert_from_peer(c, peer.addr, b"xis", channel=0x4321)
        # An IPv4 peer on an IPv6 relay: 443.
        self.assert_error(c.create_permission("127.0.0.1"),
                          tc.CREATE_PERMISSION, 443, signed=True)

    @needs_ipv6
    def test_dual_allocation(self):
        """ADDITIONAL-ADDRESS-FAMILY IPv6: an IPv4 and an IPv6 relayed
        address, each relaying to peers of its family."""
        c = self.allocated(additional=tc.FAMILY_IPV6)
        relays = tc.xor_addresses(c.allocation, tc.XOR_RELAYED_ADDRESS)
        self.assertEqual(sorted(r[0] for r in relays), ["127.0.0.1", "::1"])
        self.assertIsNone(c.allocation.get(tc.ADDRESS_ERROR_CODE))
        relay4 = [r for r in relays if r[0] == "127.0.0.1"][0]
        relay6 = [r for r in relays if r[0] == "::1"][0]
        p4, p6 = self.peer(), self.peer("::1")
        self.assert_success(c.create_permission("127.0.0.1", "::1"),
                            tc.CREATE_PERMISSION)
        c.send(p4.addr, b"four")
        c.send(p6.addr, b"six")
        self.assert_to_peer(p4, relay4, b"four")
        self.assert_to_peer(p6, relay6, b"six")
        p6.sendto(b"from six", relay6)
        self.assert_from_peer(c, p6.addr, b"from six")
        p4.sendto(b"from four", relay4)
        self.assert_from_peer(c, p4.addr, b"from four")
        # Refresh may name either family now.
        for fam in (tc.FAMILY_IPV4, tc.FAMILY_IPV6):
            self.assert_success(c.refresh(extra=[tc.family_attr(
                tc.REQUESTED_ADDRESS_FAMILY, fam)]), tc.REFRESH)
        self.daemon.wait_log(r"^allocation created: client 127\.0\.0\.1:%d/"
                             r"udp .* and IPv6 lifetime" % c.addr[1])

    @needs_ipv6
    def test_client_over_ipv6(self):
        """A client reaching the server over ::1 gets an IPv4 relay by
        default (RFC 8656 section 7.2) and data flows."""
        c = self.allocated(host="::1")
        relay = tc.relayed_address(c.allocation)
        self.assertEqual(relay[0], "127.0.0.1")
        mapped = tc.xor_addresses(c.allocation, sc.XOR_MAPPED_ADDRESS)
        self.assertTrue(tc.same_addr(mapped[0], c.addr))
        peer = self.peer()
        self.assert_success(c.create_permission("127.0.0.1"),
                            tc.CREATE_PERMISSION)
        c.send(peer.addr, b"over six")
        self.assert_to_peer(peer, relay, b"over six")
        peer.sendto(b"back over six", relay)
        self.assert_from_peer(c, peer.addr, b"back over six")


class Bandwidth(TurnCase):
    """turn.max_bandwidth: bytes per second per allocation, both ways
    together, a burst of one second; the excess is dropped."""

    CONF = turn_conf(max_bandwidth=10000, allowed_peers=["127.0.0.1"])

    def count(self, receive, started):
        """How many datagrams receive() returns before a silence, and the
        time from started to the last: the most the bucket can have
        refilled for while they passed.  The excess is dropped, not
        queued, so a longer wait cannot let more through: the first
        datagram gets the usual wait, and a slow build's stall between
        two is not taken for the end (both scaled)."""
        got, last = 0, started
        wait = tp.timeout(2)
        while receive(wait) is not None:
            got += 1
            last = time.monotonic()
            wait = tp.timeout(SILENCE_SHORT)
        return got, last - started

    def test_bandwidth(self):
        c = self.allocated()
        relay = tc.relayed_address(c.allocation)
        peer = self.peer()
        self.assert_success(c.channel_bind(0x4000, peer.addr),
                            tc.CHANNEL_BIND)
        # A full bucket holds 10 datagrams of 1000 bytes, and refills
        # with 10 a second; one more for rounding.
        started = time.monotonic()
        for i in range(30):
            c.send_channel(0x4000, bytes([i]) * 1000)
        got, took = self.count(peer.recv, started)
        self.assertGreaterEqual(got, 10)
        self.assertLessEqual(got, 11 + int(10 * took),
                             "%d of 30 passed in %.2f s" % (got, took))
        # The other way is limited too; a second later the bucket is
        # full again.
        time.sleep(1.2)
        started = time.monotonic()
        for i in range(20):
            peer.sendto(bytes([i]) * 1000, relay)
        got, took = self.count(c.recv_relayed, started)
        self.assertGreaterEqual(got, 10)
        self.assertLessEqual(got, 11 + int(10 * took),
                             "%d of 20 passed in %.2f s" % (got, took))


class Lifetimes(TurnCase):
    """turn.default_lifetime = 2, turn.max_lifetime = 10."""

    CONF = turn_conf(default_lifetime=2, max_lifetime=10,
                     allowed_peers=["127.0.0.1"])

    def test_allocate_lifetime(self):
        """LIFETIME in the answer: the default without one, never less
        than the default, never more than the maximum."""
        for asked, granted in ((None, 2), (1, 2), (2, 2), (4, 4), (10, 10),
                               (11, 10), (3600, 10), (0xFFFFFFFF, 10)):
            c = self.client()
            ans = c.allocate(lifetime=asked)
            self.assert_success(ans, tc.ALLOCATE)
            self.assertEqual(tc.lifetime(ans), granted,
                             "asked %s" % asked)

    def test_refresh_lifetime(self):
        c = self.allocated()
        for asked, granted in ((4, 4), (None, 2), (100, 10), (1, 2)):
            ans = c.refresh(asked)
            self.assert_success(ans, tc.REFRESH)
            self.assertEqual(tc.lifetime(ans), granted, "asked %s" % asked)

    def test_refresh_extends(self):
        """An allocation of 2 s refreshed to 10 s lives past 2 s; LIFETIME
        0 then deletes it, its relay port closes."""
        c = self.allocated(lifetime=2)
        started = time.monotonic()
        relay = tc.relayed_address(c.allocation)
        peer = self.peer()
        self.assert_success(c.create_permission("127.0.0.1"),
                            tc.CREATE_PERMISSION)
        self.assertEqual(tc.lifetime(c.refresh(10)), 10)
        time.sleep(max(0, started + 3.2 - time.monotonic()))
        ans = c.refresh(10)
        self.assert_success(ans, tc.REFRESH)
        peer.sendto(b"still here", relay)
        self.assert_from_peer(c, peer.addr, b"still here")

        mark = self.daemon.mark()
        ans = c.refresh(0)
        self.assert_success(ans, tc.REFRESH)
        self.assertEqual(tc.lifetime(ans), 0)
        self.daemon.wait_log(r"^allocation deleted: client 127\.0\.0\.1:%d/"
                             r"udp user \"alice\" relay 127\.0\.0\.1:%d, "
                             % (c.addr[1], relay[1]), since=mark)
        self.assert_error(c.refresh(), tc.REFRESH, 437, signed=True)
        peer.sendto(b"gone", relay)
        c.send(peer.addr, b"gone")
        self.assert_nothing(c, peer)
        self.assertFalse(self.daemon.find_log(r"^allocation expired: client "
                                              r"127\.0\.0\.1:%d/" % c.addr[1]))

    def test_expiry(self):
        """Unrefreshed, a 2 s allocation expires: logged, its port stops
        relaying, its 5-tuple is free for a new one."""
        c = self.allocated()
        self.assertEqual(tc.lifetime(c.allocation), 2)
        relay = tc.relayed_address(c.allocation)
        peer = self.peer()
        self.assert_success(c.create_permission("127.0.0.1"),
                            tc.CREATE_PERMISSION)
        peer.sendto(b"alive", relay)
        self.assert_from_peer(c, peer.addr, b"alive")
        self.daemon.wait_log(r"^allocation expired: client 127\.0\.0\.1:%d/"
                             r"udp user \"alice\" relay 127\.0\.0\.1:%d, "
                             r"\d+ s, 0 packets 0 bytes to peers, 1 packets "
                             r"5 bytes from peers$" % (c.addr[1], relay[1]),
                             timeout_s=6)
        peer.sendto(b"dead", relay)
        c.send(peer.addr, b"dead")
        self.assert_nothing(c, peer)
        self.assert_error(c.refresh(), tc.REFRESH, 437, signed=True)
        self.assert_success(c.allocate(), tc.ALLOCATE)


if __name__ == "__main__":
    tp.main()
