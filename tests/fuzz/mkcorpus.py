#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpora of the fuzz targets into tests/fuzz/corpus/, and
the regression inputs made by hand into tests/fuzz/regressions/.

Each seed is a small file in the input format its target's header comment
describes.  STUN and TURN messages are built with the integration tests'
clients (tests/integration/stunclient.py and turnclient.py), which share
no code with turnpiked; the RFC 5769 vectors are copied from the RFC.
The output is deterministic (fixed transaction ids), so running this again
changes nothing unless this file changed.

Usage: tests/fuzz/mkcorpus.py [OUTDIR]   (default: tests/fuzz/corpus;
the regressions go to OUTDIR/../regressions)
Not for: crashes the fuzzers found by themselves, which are copied into
tests/fuzz/regressions/ as they are.
"""

import json
import os
import re
import struct
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import stunclient as sc  # noqa: E402
import turnclient as tc  # noqa: E402
import wsclient as ws  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
REGRESSIONS = os.path.join(os.path.dirname(OUT), "regressions")

# --- fuzz_stun -----------------------------------------------------------

# RFC 5769 section 2 (padding 0x20 in 2.1-2.3, as in the RFC).
RFC5769 = {
    "rfc5769-2.1-request":
        "000100582112a442b7e7a701bc34d686fa87dfae"
        "802200105354554e207465737420636c69656e74"
        "002400046e0001ff"
        "80290008932ff9b151263b36"
        "000600096576746a3a68367659202020"
        "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
        "80280004e57a3bcf",
    "rfc5769-2.2-ipv4-response":
        "0101003c2112a442b7e7a701bc34d686fa87dfae"
        "8022000b7465737420766563746f7220"
        "002000080001a147e112a643"
        "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
        "80280004c07d4c96",
    "rfc5769-2.3-ipv6-response":
        "010100482112a442b7e7a701bc34d686fa87dfae"
        "8022000b7465737420766563746f7220"
        "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
        "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
        "80280004c8fb0b4c",
    "rfc5769-2.4-long-term":
        "000100602112a44278ad3433c6ad72c029da412e"
        "00060012e3839ee38388e383aae38383e382afe382b90000"
        "0015001c662f2f3439396b39353464364f4c33346f4c394653547679363473"
        "41"
        "0014000b6578616d706c652e6f726700"
        "00080014f67024656dd64a3e02b8e0712e85c9a28ca89666",
}

REALM = "turnpike"
NONCE = "N" * 32  # replaced by fuzz_server's nonce fix (ctl bit 4)
ALICE = ("alice", "wonderland")
REST_A = "1700003600:fuzz"  # good for config A's clock and TTL
REST_B = "1700000030:b"  # good for config B's 60 s TTL
SECRET = "rest-secret-one"


def tid(n):
    return struct.pack("!I", 0x66757a7a) + struct.pack("!Q", n)


def key_of(user, password):
    return tc.long_term_key(user, REALM, password)


def rest_key(username, secret=SECRET):
    """The long-term key of a TURN REST username "<expiry>:<id>"."""
    expiry, user_id = username.split(":", 1)
    name, password = tc.rest_credentials(secret, expiry=int(expiry),
                                         user_id=user_id)
    assert name == username
    return key_of(name, password)


def signed(method, n, attrs=(), user=ALICE, sha256=False, fp=False,
           key=None):
    name = user[0]
    if key is None:
        key = key_of(*user)
    return tc.build(method, tid=tid(n), attrs=attrs, key=key, sha256=sha256,
                    fingerprint=fp, credentials=(name, REALM, NONCE))


def peer(ip, port):
    return tc.XorAddress(ip, port)


# --- fuzz_server ---------------------------------------------------------

# ctl bits of a record
UDP, TCP, TLS = 0 << 2, 1 << 2, 2 << 2
FIX_NONCE, FIX_MI, FIX_FP, SECRET2 = 0x10, 0x20, 0x40, 0x80
SIGN = FIX_NONCE | FIX_MI


def rec(ctl, adv, msg):
    return bytes([ctl, adv]) + struct.pack("!H", len(msg)) + msg


def channel_unswept(rebind_to):
    """Bind 0x4001 and 0x4002, wait until 0x4001 has expired but the
    once-a-second sweep has not freed it yet, and bind 0x4001 to
    rebind_to."""
    T = tc
    return bytes([0]) + b"".join([
        rec(SIGN, 7, signed(T.ALLOCATE, 110, [T.requested_transport(),
                                              T.u32(T.LIFETIME, 3600)])),
        rec(SIGN, 0, signed(T.CHANNEL_BIND, 111, [
            T.channel_number(0x4001), peer("203.0.113.20", 9000)])),
        rec(SIGN, 137, signed(T.CHANNEL_BIND, 112, [
            T.channel_number(0x4002), peer("203.0.113.21", 9000)])),
        # From 300.35 s to 600.30 s, then 600.40 s: 0x4001 expired at
        # 600.35 s, and the last sweep ran at 600.30 s.
        rec(0, 136, b""),
        rec(0, 127, b""),
        rec(0, 127, b""),
        rec(0, 127, b""),
        rec(0, 127, b""),
        rec(0, 91, b""),
        rec(SIGN, 2, signed(T.CHANNEL_BIND, 113, [
            T.channel_number(0x4001), peer(rebind_to, 9000)])),
    ])


def server_regressions():
    """Inputs that once broke an invariant; they must run clean."""
    return {
        # src/turn.c turn_channel_bind(): alloc_chan_bind() freed an
        # expired binding and refused the new one (the peer has another
        # number): nchans went down, and channels_created grew by 2^32-1.
        "channel-bind-counter-wrap": channel_unswept("203.0.113.21"),
    }


def server_seeds():
    T = tc
    s = {}
    transport = T.requested_transport()

    # Config A, IPv4 over UDP: the whole life of an allocation.
    s["turn-udp-lifecycle"] = bytes([0]) + b"".join([
        rec(0, 0, T.build(T.ALLOCATE, tid=tid(1), attrs=[transport])),
        rec(SIGN, 1, signed(T.ALLOCATE, 2, [transport,
                                            T.u32(T.LIFETIME, 1200)])),
        rec(SIGN, 1, signed(T.CREATE_PERMISSION, 3,
                            [peer("203.0.113.9", 7000),
                             peer("198.51.100.77", 1)])),
        rec(0, 1, T.build(T.SEND, cls=sc.INDICATION, tid=tid(4),
                          attrs=[peer("203.0.113.9", 7000),
                                 (T.DATA_ATTR, b"hello"),
                                 (T.DONT_FRAGMENT, b"")])),
        rec(SIGN, 1, signed(T.CHANNEL_BIND, 5,
                            [T.channel_number(0x4001),
                             peer("203.0.113.20", 9000)])),
        rec(0, 1, T.channel_data(0x4001, b"media")),
        rec(0, 1, T.channel_data(0x4001, b"abc", pad=True)),
        rec(0, 1, T.channel_data(0x4001, b"ab", length=9)),
        rec(SIGN, 1, signed(T.REFRESH, 6, [T.u32(T.LIFETIME, 600)])),
        rec(0, 140, T.channel_data(0x4001, b"late")),
        rec(SIGN, 1, signed(T.REFRESH, 7, [T.u32(T.LIFETIME, 0)])),
        rec(SIGN, 1, signed(T.REFRESH, 8, [])),
    ])

    # IPv6 client, TURN REST with SHA-256 and FINGERPRINT, dual allocation.
    rest = (REST_A, "")
    k = rest_key(REST_A)
    s["turn-rest-sha256-dual"] = bytes([0]) + b"".join([
        rec(2 | SIGN | FIX_FP, 0, signed(
            T.ALLOCATE, 20, [transport, T.family_attr(
                T.ADDITIONAL_ADDRESS_FAMILY, T.FAMILY_IPV6)],
            user=rest, sha256=True, fp=True, key=k)),
        rec(2 | SIGN | FIX_FP, 1, signed(
            T.CREATE_PERMISSION, 21, [peer("2001:db8:2::9", 7000),
                                      peer("203.0.113.9", 7000)],
            user=rest, sha256=True, fp=True, key=k)),
        rec(2 | SIGN | SECRET2, 1, signed(
            T.CHANNEL_BIND, 22, [T.channel_number(0x4fff),
                                 peer("2001:db8:2::9", 7001)],
            user=rest, key=k)),
        rec(2, 1, T.channel_data(0x4fff, b"six")),
        rec(2, 1, T.build(T.SEND, cls=sc.INDICATION, tid=tid(23),
                          attrs=[peer("203.0.113.9", 7000),
                                 (T.DATA_ATTR, b"four")])),
        rec(2 | SIGN, 1, signed(
            T.REFRESH, 24, [T.family_attr(T.REQUESTED_ADDRESS_FAMILY,
                                          T.FAMILY_IPV6)],
            user=rest, key=k)),
    ])
    # The same with a relay that has no IPv6.
    s["turn-dual-no-v6"] = bytes([2]) + s["turn-rest-sha256-dual"][1:]

    # EVEN-PORT with R, then the reserved port by its token.
    s["turn-even-port-token"] = bytes([0]) + b"".join([
        rec(0 | SIGN, 0, signed(T.ALLOCATE, 30, [transport,
                                                 T.even_port(True)])),
        rec(1 | SIGN, 1, signed(T.ALLOCATE, 31, [
            transport, (T.RESERVATION_TOKEN, bytes(8))])),
        rec(3 | SIGN, 1, signed(T.ALLOCATE, 32, [
            transport, (T.RESERVATION_TOKEN, bytes(8))])),
        rec(3 | SIGN, 1, signed(T.ALLOCATE, 33, [
            transport, T.even_port(False), T.family_attr(
                T.REQUESTED_ADDRESS_FAMILY, T.FAMILY_IPV4)])),
    ])

    # Binding, classic RFC 3489 Binding, and what is dropped.
    s["stun-binding"] = bytes([0]) + b"".join([
        rec(0, 0, sc.binding_request(tid=tid(40))),
        rec(2 | FIX_FP, 1, sc.binding_request(tid=tid(41), fingerprint=True)),
        rec(0, 1, bytes.fromhex("00010000") + tid(42) + tid(43)[:4]),
        rec(0, 1, sc.binding_request(tid=tid(44), attrs=[(0x0030, b"x")])),
        rec(0, 1, sc.build(sc.BINDING, sc.INDICATION, tid=tid(45))),
        rec(0, 1, sc.build(sc.BINDING, sc.SUCCESS, tid=tid(46))),
        rec(0, 1, sc.binding_request(tid=tid(47))[:-1] + b"\x08"),
        rec(0 | TCP, 1, sc.build(sc.BINDING, tid=tid(48), fingerprint=True,
                                 bad_fingerprint=True)),
        rec(0, 1, bytes.fromhex("000100042112a442") + tid(49) +
            bytes.fromhex("0030ffff")),
    ])
    # The classic Binding again, for config B (which drops it).
    s["stun-binding-conf-b"] = bytes([1]) + s["stun-binding"][1:]

    # Config B: quotas, a stale nonce, expiry, old channel numbers.
    rb = (REST_B, "")
    kb = rest_key(REST_B)
    s["turn-conf-b"] = bytes([1]) + b"".join([
        rec(0 | SIGN, 0, signed(T.ALLOCATE, 50, [transport], user=rb,
                                key=kb)),
        rec(1 | SIGN, 1, signed(T.ALLOCATE, 51, [transport])),
        rec(3 | SIGN, 1, signed(T.ALLOCATE, 52, [transport])),
        rec(2 | SIGN, 1, signed(T.ALLOCATE, 53, [transport])),
        rec(0 | SIGN, 1, signed(T.CHANNEL_BIND, 54, [
            T.channel_number(0x7000), peer("203.0.113.30", 1)],
            user=rb, key=kb)),
        rec(0, 1, T.channel_data(0x7000, b"x" * 600)),
        rec(0, 1, T.channel_data(0x7000, b"y" * 100)),
        rec(0 | FIX_MI, 129, signed(T.REFRESH, 55, [], user=rb, key=kb)),
        rec(0 | SIGN, 131, signed(T.REFRESH, 56, [], user=rb, key=kb)),
    ])
    s["turn-conf-b-tight-relay"] = bytes([5]) + s["turn-conf-b"][1:]

    # Config B's small bounds: permissions, bandwidth, a failing send, an
    # allocation that expires between two sweeps.
    s["turn-conf-b-bounds"] = bytes([1]) + b"".join([
        rec(0 | SIGN, 7, signed(T.ALLOCATE, 100, [transport,
                                                  T.u32(T.LIFETIME, 30)])),
        rec(0 | SIGN, 1, signed(T.CREATE_PERMISSION, 101, [
            peer("203.0.113.1", 1), peer("203.0.113.2", 1)])),
        rec(0 | SIGN, 1, signed(T.CREATE_PERMISSION, 102, [
            peer("203.0.113.2", 1), peer("203.0.113.2", 2),
            peer("203.0.113.3", 1)])),
        rec(0 | SIGN, 1, signed(T.CHANNEL_BIND, 103, [
            T.channel_number(0x4001), peer("203.0.113.1", 5)])),
    ] + [rec(0, 1, T.channel_data(0x4001, bytes([i]) * 500))
         for i in (1, 2, 0xFF)] + [
        rec(0, 1, T.build(T.SEND, cls=sc.INDICATION, tid=tid(104), attrs=[
            peer("203.0.113.2", 9), (T.DATA_ATTR, b"\xff" * 20)])),
        # 30.35 s after the Allocate, within the second of the last sweep.
        rec(0, 127, b""),
        rec(0, 127, b""),
        rec(0, 127, b""),
        rec(0, 127, b""),
        rec(0, 80, b""),
        rec(0 | SIGN, 6, signed(T.ALLOCATE, 105, [transport])),
        rec(1 | SIGN, 1, signed(T.ALLOCATE, 106, [
            transport, T.even_port(), T.family_attr(
                T.ADDITIONAL_ADDRESS_FAMILY, T.FAMILY_IPV6)])),
    ])

    # A ChannelBind that finds its number's binding expired but not yet
    # swept (the sweep runs once a second).
    s["turn-channel-expired-unswept"] = channel_unswept("203.0.113.22")

    # Retransmissions and the 5-tuple's owner.
    alloc = signed(T.ALLOCATE, 60, [transport])
    s["turn-retransmit"] = bytes([0]) + b"".join([
        rec(SIGN, 0, alloc),
        rec(SIGN, 1, alloc),
        rec(SIGN, 1, signed(T.ALLOCATE, 61, [transport])),
        rec(SIGN, 1, signed(T.REFRESH, 62, [], user=("bob", "0x"),
                            key=bytes.fromhex(
                                "00112233445566778899aabbccddeeff"))),
        rec(SIGN, 140, alloc),
    ])

    # Requests the TURN handlers refuse.
    s["turn-errors"] = bytes([0]) + b"".join([
        rec(SIGN, 0, signed(T.ALLOCATE, 70, [T.requested_transport(
            T.TCP)])),
        rec(SIGN, 1, signed(T.ALLOCATE, 71, [])),
        rec(SIGN, 1, signed(T.ALLOCATE, 72, [transport,
                                             T.u32(T.LIFETIME, 0)])),
        rec(SIGN, 1, signed(T.ALLOCATE, 73, [transport, T.family_attr(
            T.REQUESTED_ADDRESS_FAMILY, 3)])),
        rec(SIGN, 1, signed(T.ALLOCATE, 74, [
            transport, T.even_port(), (T.RESERVATION_TOKEN, bytes(8))])),
        rec(SIGN, 1, signed(T.ALLOCATE, 75, [transport, (0x0031, b"?")])),
        rec(SIGN, 1, tc.build(T.ALLOCATE, tid=tid(76), attrs=[transport],
                              key=key_of(*ALICE),
                              credentials=("alice", "elsewhere", NONCE))),
        rec(SIGN, 1, tc.build(T.ALLOCATE, tid=tid(77), attrs=[transport],
                              key=key_of(*ALICE),
                              credentials=("alice", REALM, None))),
        rec(SIGN, 1, signed(T.ALLOCATE, 78, [transport],
                            user=("mallory", "x"))),
        rec(0, 1, signed(T.ALLOCATE, 79, [transport])),
        rec(SIGN, 1, signed(T.ALLOCATE, 80, [transport])),
        rec(SIGN, 1, signed(T.CREATE_PERMISSION, 81, [
            peer("127.0.0.1", 1), peer("10.1.2.3", 2),
            peer("::ffff:10.2.0.5", 3)])),
        rec(SIGN, 1, signed(T.CREATE_PERMISSION, 82, [
            peer("169.254.169.254", 80)])),
        rec(SIGN, 1, signed(T.CHANNEL_BIND, 83, [
            T.channel_number(0x3fff), peer("203.0.113.200", 1)])),
        rec(SIGN, 1, signed(T.CHANNEL_BIND, 84, [
            T.channel_number(0x4002), peer("192.0.2.100", 3478)])),
        rec(SIGN, 1, signed(T.CHANNEL_BIND, 85, [
            T.channel_number(0x4003), peer("192.0.2.100", 50000)])),
        rec(SIGN, 1, signed(T.REFRESH, 86, [T.family_attr(
            T.REQUESTED_ADDRESS_FAMILY, T.FAMILY_IPV6)])),
    ])

    # TCP and TLS: other 5-tuples of the same client address.
    s["turn-tcp-tls"] = bytes([0]) + b"".join([
        rec(TCP | SIGN, 0, signed(T.ALLOCATE, 90, [transport])),
        rec(TLS | SIGN, 1, signed(T.ALLOCATE, 91, [transport])),
        rec(TCP | SIGN, 1, signed(T.CREATE_PERMISSION, 92, [
            peer("203.0.113.9", 1)])),
        rec(TCP, 1, T.channel_data(0x4000, b"")),
        rec(TLS | SIGN, 1, signed(T.REFRESH, 93, [T.u32(T.LIFETIME, 0)])),
    ])
    return s


# --- fuzz_sig ------------------------------------------------------------

MSG, CONNECT, DISCONNECT, RECONF = 0, 1 << 3, 2 << 3, 3 << 3
TOKEN, NO_ICE = 0x20, 0x40


def peer_id(n):
    """The id of the n-th peer to join (fuzz_sig's counter random)."""
    return struct.pack("<Q", n).hex() + "a5" * 8


def j(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def sig_seeds():
    s = {}
    a, b = peer_id(1), peer_id(2)
    s["two-peers-call"] = bytes([0]) + b"".join([
        rec(CONNECT | 0, 0, b"turn.example.org"),
        rec(CONNECT | 1, 0, b"[2001:db8::1]:8443"),
        rec(MSG | 0, 1, j({"type": "join", "room": "r1", "name": "Ann"})),
        rec(MSG | 1, 1, j({"type": "join", "room": "r1",
                           "name": "B\u00e9a \U0001F600"})),
        rec(MSG | 0, 1, j({"type": "offer", "to": b, "sdp": "v=0\r\n"})),
        rec(MSG | 1, 1, j({"type": "answer", "to": a, "sdp": "v=0\r\n"})),
        rec(MSG | 0, 1, j({"type": "candidate", "to": b, "candidate": {
            "candidate": "candidate:1 1 udp 1 192.0.2.1 5000 typ host",
            "sdpMid": "0", "sdpMLineIndex": 0}})),
        rec(MSG | 1, 1, j({"type": "candidate", "to": a,
                           "candidate": None})),
        rec(MSG | 0, 1, j({"type": "chat", "text": "hi"})),
        rec(MSG | 1, 1, j({"type": "state", "state": {"mic": False}})),
        rec(MSG | 0, 1, j({"type": "ping"})),
        rec(MSG | 2, 1, j({"type": "join", "room": "r1"})),
        rec(MSG | 0, 1, j({"type": "leave"})),
        rec(MSG | 0, 1, j({"type": "ping"})),
        rec(DISCONNECT | 1, 1, b""),
    ])
    s["tokens"] = bytes([0x40]) + b"".join([
        rec(MSG | TOKEN | 0, 0, j({"type": "join", "room": "r1"})),
        rec(MSG | 1, 1, j({"type": "join", "room": "r1",
                           "token": "1700003600:" + "A" * 43})),
        rec(MSG | TOKEN | NO_ICE | 1, 1, j({"type": "join", "room": "r1"})),
    ])
    s["errors"] = bytes([0]) + b"".join([
        rec(MSG | 0, 0, b"{not json"),
        rec(MSG | 0, 1, b"42"),
        rec(MSG | 0, 1, j({"type": 7})),
        rec(MSG | 0, 1, j({"type": "dance"})),
        rec(MSG | 0, 1, j({"type": "chat", "text": "x"})),
        rec(MSG | 0, 1, j({"type": "join", "room": "bad room!"})),
        rec(MSG | 0, 1, j({"type": "join", "room": "r", "name": ""})),
        rec(MSG | 0, 1, j({"type": "join", "room": "r", "name": "n" * 65})),
        rec(MSG | 0, 1, j({"type": "join", "room": "r"})),
        rec(MSG | 0, 1, j({"type": "join", "room": "r"})),
        rec(MSG | 0, 1, j({"type": "offer", "to": "nobody", "sdp": "x"})),
        rec(MSG | 0, 1, j({"type": "offer", "to": peer_id(1), "sdp": 1})),
        rec(MSG | 0, 1, j({"type": "chat", "text": "x" * 4097})),
        rec(MSG | 0, 1, j({"type": "state", "state": {"k": "v" * 1100}})),
        rec(MSG | 0, 1, j({"type": "state", "state": []})),
        rec(MSG | 0, 1, b'{"type":"chat","text":"a\\u0000b"}'),
        rec(MSG | 1, 1, b'{"type":"ping","x":"\xed\xa0\x80"}'),
        rec(MSG | 2, 1, b'{"type":"ping","x":"\xf4\x90\x80\x80"}'),
    ])
    s["rate-limit"] = bytes([0x10]) + b"".join(
        [rec(MSG | 0, 0, j({"type": "ping"})) for _ in range(8)] +
        [rec(MSG | 0, 200, j({"type": "ping"}))])
    s["room-full"] = bytes([0x00 | 0x00]) + b"".join(
        [rec(MSG | i, 1, j({"type": "join", "room": "r1"}))
         for i in range(3)] +
        [rec(MSG | 3, 1, j({"type": "join", "room": "r2"})),
         rec(RECONF | 0, 1, bytes([0x0f])),
         rec(MSG | 4, 1, j({"type": "join", "room": "r3"}))])
    s["id-collision"] = bytes([0x83]) + b"".join(
        [rec(MSG | i, 1, j({"type": "join", "room": "r1"}))
         for i in range(4)])
    s["hosts"] = bytes([0]) + b"".join([
        rec(CONNECT | 0, 0, b"[::1]"),
        rec(CONNECT | 1, 0, b"::1"),
        rec(CONNECT | 2, 0, b""),
        rec(CONNECT | 3, 0, b"\xff\xfe"),
        rec(CONNECT | 4, 0, b"h" * 300),
    ] + [rec(MSG | i, 1, j({"type": "join", "room": "r1"}))
         for i in range(5)])
    s["slow-consumer"] = bytes([0x33]) + b"".join(
        [rec(MSG | i, 0, j({"type": "join", "room": "big"}))
         for i in range(3)] +
        [rec(MSG | 0, 0, j({"type": "chat", "text": "z" * 1500}))
         for _ in range(4)])
    return s


# --- fuzz_ws -------------------------------------------------------------

# Records [ctl][len16][payload]; ctl bits 0-1 the connection, 2-4 the op.
W_BYTES, W_FRAME, W_OPEN, W_SHUT, W_CLOSE, W_TIMERS, W_STALL = range(7)
WS_KEY = bytes([0x37, 0xFA, 0x21, 0x3D])  # RFC 6455 section 5.7


def wrec(op, conn, payload=b""):
    return struct.pack("!BH", op << 2 | conn, len(payload)) + payload


def wframe(opcode, payload=b"", fin=True, rsv=0):
    """fuzz_ws's frame op: the first byte, then the data (masked there)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return bytes([(0x80 if fin else 0) | rsv << 4 | opcode]) + payload


def masked(opcode, payload=b"", fin=True, key=WS_KEY):
    """A whole client frame, masked with key, as the raw-bytes op sends
    it: wsclient.frame() unmasked, then masked here with a fixed key."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    raw = ws.frame(opcode, payload, fin=fin, mask=False)
    head = raw[:len(raw) - len(payload)]
    head = head[:1] + bytes([head[1] | 0x80]) + head[2:]
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_body(code, reason=b""):
    return struct.pack("!H", code) + reason


def ws_seeds():
    s = {}
    a, b = peer_id(1), peer_id(2)
    join = j({"type": "join", "room": "r1", "name": "Ann"})
    # Big messages and queues; the first frame comes with the handshake.
    s["two-peers-call"] = bytes([0x0F]) + b"".join([
        wrec(W_OPEN, 0, masked(ws.TEXT, join)),
        wrec(W_OPEN, 1),
        wrec(W_FRAME, 1, wframe(ws.TEXT, j({"type": "join", "room": "r1",
                                            "name": "B\u00e9a"}))),
        wrec(W_FRAME, 0, wframe(ws.TEXT, j({"type": "offer", "to": b,
                                            "sdp": "v=0\r\n"}))),
        wrec(W_FRAME, 1, wframe(ws.TEXT, j({"type": "answer", "to": a,
                                            "sdp": "v=0\r\n"}))),
        wrec(W_FRAME, 0, wframe(ws.PING, b"are you there")),
        wrec(W_FRAME, 0, wframe(ws.TEXT, j({"type": "chat",
                                            "text": "hi \U0001F600"}))),
        wrec(W_FRAME, 1, wframe(ws.TEXT, j({"type": "leave"}))),
        wrec(W_FRAME, 0, wframe(ws.CLOSE, close_body(1000, b"bye"))),
        wrec(W_CLOSE, 0),
        wrec(W_TIMERS, 0),
    ])
    # A message in three fragments with a ping between; a frame split
    # across reads; a 16-bit length.
    text = j({"type": "chat", "text": "x" * 200})
    whole = masked(ws.TEXT, join)
    s["fragments"] = bytes([0x0F]) + b"".join([
        wrec(W_FRAME, 0, wframe(ws.TEXT, join[:5], fin=False)),
        wrec(W_FRAME, 0, wframe(ws.PING, b"p")),
        wrec(W_FRAME, 0, wframe(ws.CONT, join[5:9], fin=False)),
        wrec(W_FRAME, 0, wframe(ws.CONT, join[9:])),
        wrec(W_BYTES, 1, whole[:3]),
        wrec(W_BYTES, 1, whole[3:11]),
        wrec(W_BYTES, 1, whole[11:]),
        wrec(W_FRAME, 1, wframe(ws.TEXT, text)),
        wrec(W_FRAME, 1, wframe(ws.PONG, b"unasked")),
    ])
    # What ends a connection, one per connection.
    s["errors"] = bytes([0x0D]) + b"".join([
        wrec(W_FRAME, 0, wframe(ws.TEXT, b'{"type":"ping","x":"\xed\xa0\x80"}')),
        wrec(W_FRAME, 1, wframe(ws.BINARY, b"\x00\x01")),
        wrec(W_FRAME, 2, wframe(ws.TEXT, j({"type": "chat",
                                            "text": "y" * 2000}))),
        wrec(W_BYTES, 3, ws.frame(ws.TEXT, j({"type": "ping"}), mask=False)),
        wrec(W_TIMERS, 0),
        wrec(W_FRAME, 0, wframe(0x3, b"reserved")),
        wrec(W_FRAME, 1, wframe(ws.TEXT, j({"type": "ping"}), rsv=4)),
        wrec(W_FRAME, 2, wframe(ws.CLOSE, b"\x03")),
        wrec(W_FRAME, 3, wframe(ws.CLOSE, close_body(999))),
        wrec(W_TIMERS, 0),
        wrec(W_FRAME, 0, wframe(ws.CONT, b"no start")),
        wrec(W_FRAME, 1, wframe(ws.PING, b"p" * 126)),
        wrec(W_FRAME, 2, wframe(ws.TEXT, b"{}", fin=False) ),
        wrec(W_FRAME, 2, wframe(ws.TEXT, b"{}")),
        wrec(W_FRAME, 3, wframe(ws.CLOSE, close_body(1000, b"\xff"))),
    ])
    # A client that does not read while its room talks: 4096-byte queue.
    s["slow-consumer"] = bytes([0x07]) + b"".join(
        [wrec(W_FRAME, i, wframe(ws.TEXT, j({"type": "join", "room": "big"})))
         for i in range(3)] +
        [wrec(W_STALL, 2)] +
        [wrec(W_FRAME, 0, wframe(ws.TEXT, j({"type": "chat",
                                             "text": "z" * 1500})))
         for _ in range(12)] +
        [wrec(W_STALL, 2), wrec(W_TIMERS, 0)])
    # Ping rounds: one answered, then two missed; a client gone quiet.
    s["pings"] = bytes([0x0F]) + b"".join([
        wrec(W_FRAME, 0, wframe(ws.TEXT, join)),
        wrec(W_FRAME, 1, wframe(ws.TEXT, join)),
        wrec(W_TIMERS, 0),
        wrec(W_FRAME, 0, wframe(ws.PONG)),
        wrec(W_TIMERS, 0),
        wrec(W_TIMERS, 0),
        wrec(W_SHUT, 1),
        wrec(W_TIMERS, 0),
    ])
    # Rate limits (1/s, burst 2, closed after 3) and join tokens.
    s["rate-limit"] = bytes([0x1F]) + b"".join(
        [wrec(W_FRAME, 0, wframe(ws.TEXT, j({"type": "ping"})))
         for _ in range(8)])
    s["tokens"] = bytes([0x3F]) + b"".join([
        wrec(W_FRAME, 0, wframe(ws.TEXT, join)),
        wrec(W_FRAME, 1, wframe(ws.TEXT, j({
            "type": "join", "room": "r1",
            "token": "1700003600:" + "A" * 43}))),
    ])
    return s


# --- fuzz_http -----------------------------------------------------------

H_FIELDS = ("method", "url", "host", "origin", "authorization", "upgrade",
            "connection", "ws_key", "ws_version", "key", "service",
            "username")
RFC6455_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # section 1.3


def hreq(setup, **fields):
    """A fuzz_http input: the setup byte and the fields, NUL-separated
    (0xFF for one that is absent)."""
    out = []
    for name in H_FIELDS:
        v = fields.get(name)
        out.append(b"\xff" if v is None else v.encode("utf-8", "surrogateescape"))
    while out and out[-1] == b"\xff":
        out.pop()
    return bytes([setup]) + b"\0".join(out)


def http_seeds():
    s = {}
    host = "127.0.0.1:8080"
    upgrade = dict(host=host, origin="http://" + host, upgrade="websocket",
                   connection="keep-alive, Upgrade", ws_key=RFC6455_KEY,
                   ws_version="13")
    s["ws-handshake"] = hreq(0, method="GET", url="/ws", **upgrade)
    s["ws-handshake-v8"] = hreq(0, method="GET", url="/ws",
                                **dict(upgrade, ws_version="8"))
    s["ws-handshake-allowed"] = hreq(
        1, method="GET", url="/ws",
        **dict(upgrade, origin="https://app.example.org"))
    s["ws-handshake-ipv6"] = hreq(
        0, method="GET", url="/ws",
        **dict(upgrade, host="[::1]:8080", origin="http://[::1]:8080"))
    s["api-turn"] = hreq(4, method="GET", url="/api/turn", host="turn.example.org",
                         authorization="Bearer s3cret", service="turn",
                         username="alice")
    s["api-turn-key"] = hreq(4, method="GET", url="/api/turn",
                             host="[2001:db8::1]:443", key="s3cret",
                             username="a:b")
    s["api-ice-servers"] = hreq(0x21, method="GET", url="/api/ice-servers",
                                host="a-very-long-host.example.org",
                                origin="http://localhost:8080")
    s["preflight"] = hreq(2, method="OPTIONS", url="/api/turn", host=host,
                          origin="http://localhost:8080")
    s["metrics-loopback"] = hreq(0x08, method="GET", url="/metrics")
    s["metrics-remote"] = hreq(0x1C, method="HEAD", url="/metrics",
                               authorization="bearer s3cret")
    s["post"] = hreq(0, method="POST", url="/healthz")
    # The paths of the HTTP integration tests, decoded as libmicrohttpd
    # hands them over.
    with open(os.path.join(HERE, "..", "integration", "test_http.py")) as f:
        paths = sorted(set(re.findall(r'"(/[A-Za-z0-9_./%-]*)"', f.read())))
    for i, path in enumerate(paths):
        s["path-%02d" % i] = hreq(0, method="GET",
                                  url=urllib.parse.unquote(path))
    return s


# --- fuzz_conf -----------------------------------------------------------

def conf_seeds():
    s = {}
    for name in ("turnpike.conf", "turnpike-dev.conf"):
        with open(os.path.join(HERE, "..", "..", "etc", name), "rb") as f:
            s["etc-" + name] = f.read()
    s["every-type"] = b"""# one key of each type
daemon = { user = "turnpike"; group = ""; };
log = { level = "debug"; target = "syslog"; facility = "local3"; };
listen = { udp = [ "127.0.0.1:3478", "[::1]:3478" ]; tcp = [];
  tls = [ "0.0.0.0:5349" ]; };
stun = { rfc3489 = true; };
tls = { certificate = "/etc/ssl/c.pem"; private_key = "/etc/ssl/k.pem"; };
http = { listen = [ "[::]:8080" ]; public_host = "[2001:db8::1]";
  allowed_origins = [ "https://example.org" ]; };
signaling = { max_rooms = 5; ice_transport_policy = "relay";
  credential_ttl = 600; };
turn = { enable = true; realm = "example.org";
  users = [ "alice:wonderland", "bob:0x00112233445566778899aabbccddeeff" ];
  secrets = [ "s1", "s2" ]; rest_max_ttl = 3600;
  relay_ip = [ "192.0.2.1", "2001:db8::1" ];
  external_ip = [ "198.51.100.1" ];
  allowed_peers = [ "10.0.0.0/8", "::ffff:127.0.0.1/128" ];
  denied_peers = [ "203.0.113.0/24", "fe80::/10" ];
  port_min = 50000; port_max = 50100; max_datagram = 576;
  old_channels = true; };
"""
    s["no-secrets"] = b"""turn = { enable = false; };
stun = { rfc3489 = true; };
listen = { udp = [ "[::]:3478" ]; tcp = [ ]; tls = [ ]; };
http = { listen = [ ]; webroot = "/srv/\\"www\\"\\\\"; };
log = { level = "warning"; };
"""
    s["errors"] = b"""turn = { users = [ "alice" ]; port_min = 70000;
  allowed_peers = [ "10.0.0.1/8" ]; unknown = 1; };
"""
    return s


# --- fuzz_peer -----------------------------------------------------------

def addr_rec(kind, ip, port):
    import socket
    if ":" in ip:
        raw = socket.inet_pton(socket.AF_INET6, ip)
    else:
        raw = socket.inet_pton(socket.AF_INET, ip) + bytes(12)
    return bytes([kind]) + raw + struct.pack("!H", port)


def peer_seeds():
    s = {}
    text = (b"+127.0.0.1/32\n-10.0.0.0/8\n+10.1.0.0/16\n"
            b"-::ffff:192.168.0.0/112\n+2001:db8::/32\n-2001:db8:dead::/48\n"
            b"::ffff:1.2.3.4/128\n192.168.1.1/16\n0.0.0.0/0\n::/0\n"
            b"1.2.3.4/33\nfe80::1%eth0\n")
    binary = struct.pack("!HHB", 49152, 65535, 2)
    binary += addr_rec(0, "192.0.2.100", 3478)
    binary += addr_rec(2, "2001:db8::100", 3478)
    for kind, ip, port in [
            (0, "127.0.0.1", 80), (0, "10.1.2.3", 1), (0, "10.2.0.1", 1),
            (0, "192.0.2.100", 3478), (0, "192.0.2.100", 50000),
            (0, "203.0.113.9", 0), (2, "::ffff:127.0.0.1", 1),
            (2, "64:ff9b::a00:1", 1), (2, "2002:7f00:1::", 1),
            (2, "2001:0:4136:e378:8000:63bf:80ff:fffe", 1),
            (2, "::1", 1), (2, "::", 1), (2, "::7f00:1", 1),
            (2, "2001:db8:dead::1", 1), (3, "0.0.0.0", 0)]:
        binary += addr_rec(kind, ip, port)
    s["policy"] = text + b"\0" + binary
    s["cidrs-only"] = b"\n".join([
        b"10.0.0.0/8", b"2001:db8::/32", b"::ffff:10.0.0.0/104",
        b"255.255.255.255", b"::", b"1.2.3.4/", b"/8", b"1.2.3.4/08",
        b"1:2:3:4:5:6:7:8/128", b"1:2:3:4:5:6:7:8/127"])
    return s


def write(target, seeds, top=OUT):
    d = os.path.join(top, target)
    os.makedirs(d, exist_ok=True)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def main():
    stun = {k: bytes.fromhex(v) for k, v in RFC5769.items()}
    seen = set(stun.values())
    for name, data in sorted(server_seeds().items()):
        # Every STUN message and ChannelData of the server seeds, alone.
        body = data[1:]
        i = 0
        while len(body) >= 4:
            n = struct.unpack("!H", body[2:4])[0]
            if body[4:4 + n] not in seen:
                seen.add(body[4:4 + n])
                stun["%s-%02d" % (name, i)] = body[4:4 + n]
            body = body[4 + n:]
            i += 1
    # Builder programs (first byte 0xFF, see fuzz_stun.c).
    stun["build-all-ops"] = bytes([0xFF, 0x02, 0x00, 0x00, 0x01]) + \
        bytes([0, 0x80, 0x22, 0, 3]) + b"abc" + \
        bytes([1, 0x00, 0x0D, 0, 0, 0x02, 0x58]) + \
        bytes([2, 0x00, 0x20, 0]) + bytes(range(1, 19))[:18] + \
        bytes([3, 0x00, 0x01, 1]) + bytes(range(1, 18)) + \
        bytes([4, 0x01, 0xB5, 0x00, 0x05]) + b"Wrong" + \
        bytes([5, 0x00, 0x03]) + bytes([6, 0, 0]) + bytes([7, 0, 0]) + \
        bytes([8, 0, 0])
    stun["build-overflow"] = bytes([0xFF, 0x00, 0x30, 0x00, 0x01]) + \
        bytes([0, 0x80, 0x22, 0x00, 0x40]) + b"s" * 64
    write("fuzz_stun", stun)
    write("fuzz_server", server_seeds())
    write("fuzz_sig", sig_seeds())
    write("fuzz_ws", ws_seeds())
    write("fuzz_http", http_seeds())
    write("fuzz_conf", conf_seeds())
    write("fuzz_peer", peer_seeds())
    write("fuzz_server", server_regressions(), REGRESSIONS)


if __name__ == "__main__":
    main()
