# SPDX-License-Identifier: BSD-2-Clause
"""A small STUN client for the integration tests, written from RFC 8489.

It builds and parses STUN messages with the Python standard library only
(struct, socket, zlib.crc32) and shares no code with turnpiked, so that a
codec bug in the daemon cannot hide behind the same bug here.  It is
deliberately permissive when building (a test must be able to send
malformed messages) and strict when parsing what the server sends back.

Not for: anything but tests.  No retransmission, no authentication.
"""

import os
import select
import socket
import struct
import time
import zlib

# RFC 8489 section 5: the fixed header.
HEADER_SIZE = 20
MAGIC_COOKIE = 0x2112A442
TID_SIZE = 12

# Classes (RFC 8489 section 5), as the two class bits C1 C0.
REQUEST = 0b00
INDICATION = 0b01
SUCCESS = 0b10
ERROR = 0b11

# Methods.
BINDING = 0x001

# Attributes (RFC 8489 section 18.3, RFC 3489).
MAPPED_ADDRESS = 0x0001
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
XOR_MAPPED_ADDRESS = 0x0020
SOFTWARE = 0x8022
FINGERPRINT = 0x8028

# RFC 8489 section 14.7.
FINGERPRINT_XOR = 0x5354554E

FAMILY_IPV4 = 0x01
FAMILY_IPV6 = 0x02


class StunError(ValueError):
    """What the server sent is not a well-formed STUN message."""


def message_type(method, cls):
    """Encode method and class into the 14-bit type (RFC 8489 figure 3).

    M11..M7 | C1 | M6..M4 | C0 | M3..M0
    """
    return ((method & 0x000F)
            | ((cls & 0b01) << 4)
            | ((method & 0x0070) << 1)
            | ((cls & 0b10) << 7)
            | ((method & 0x0F80) << 2))


def type_method(msg_type):
    """The method bits of a message type."""
    return ((msg_type & 0x000F)
            | ((msg_type & 0x00E0) >> 1)
            | ((msg_type & 0x3E00) >> 2))


def type_class(msg_type):
    """The class (REQUEST, INDICATION, SUCCESS, ERROR) of a message type."""
    return ((msg_type >> 4) & 0b01) | ((msg_type >> 7) & 0b10)


def new_tid():
    """A fresh random 96-bit transaction id."""
    return os.urandom(TID_SIZE)


def pad4(n):
    """n rounded up to a multiple of 4."""
    return (n + 3) & ~3


def attr(attr_type, value, pad=b"\0"):
    """One attribute TLV with its value padded to 4 bytes."""
    padding = (pad * 4)[: pad4(len(value)) - len(value)]
    return struct.pack("!HH", attr_type, len(value)) + value + padding


def fingerprint_value(message_so_far):
    """The FINGERPRINT value for a message whose header already counts it.

    RFC 8489 section 14.7: CRC-32 of the message up to the attribute,
    XOR 0x5354554e.
    """
    return (zlib.crc32(message_so_far) & 0xFFFFFFFF) ^ FINGERPRINT_XOR


def build(method=BINDING, cls=REQUEST, tid=None, attrs=(), fingerprint=False,
          cookie=MAGIC_COOKIE, msg_type=None, bad_fingerprint=False):
    """Build a message.

    attrs is a sequence of (type, value) pairs or of ready-made TLV bytes.
    fingerprint appends FINGERPRINT (a wrong one with bad_fingerprint).
    msg_type overrides the type computed from method and cls.
    Returns the message bytes.
    """
    if tid is None:
        tid = new_tid()
    body = b""
    for a in attrs:
        body += a if isinstance(a, (bytes, bytearray)) else attr(*a)
    if msg_type is None:
        msg_type = message_type(method, cls)
    length = len(body) + (8 if fingerprint else 0)
    msg = struct.pack("!HHI", msg_type, length, cookie) + tid + body
    if fingerprint:
        value = fingerprint_value(msg)
        if bad_fingerprint:
            value ^= 1
        msg += struct.pack("!HHI", FINGERPRINT, 4, value)
    return msg


def binding_request(tid=None, attrs=(), fingerprint=False):
    """A Binding request."""
    return build(BINDING, REQUEST, tid, attrs, fingerprint)


def classic_binding_request(tid16=None):
    """An RFC 3489 Binding request: a 16-byte transaction id, no cookie."""
    if tid16 is None:
        tid16 = os.urandom(16)
        while tid16[:4] == struct.pack("!I", MAGIC_COOKIE):
            tid16 = os.urandom(16)
    return struct.pack("!HH", 0x0001, 0) + tid16


def damage(rng, msg):
    """msg with one random kind of damage: flipped bytes, a cut, a
    rewritten 16-bit field (type, length, attribute header) or junk
    appended."""
    m = bytearray(msg)
    kind = rng.randrange(4)
    if kind == 0:
        for _ in range(rng.randint(1, 4)):
            m[rng.randrange(len(m))] = rng.randrange(256)
    elif kind == 1:
        del m[rng.randrange(len(m)):]
    elif kind == 2:
        at = rng.randrange(0, len(m) - 1, 2)
        m[at:at + 2] = struct.pack("!H", rng.choice(
            [0, 1, 3, 4, 0x7FFF, 0x8000, 0xFFFF, rng.randrange(65536)]))
    else:
        m += bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
    return bytes(m)


class Message:
    """A parsed STUN message: type, transaction id and attributes."""

    def __init__(self, raw, msg_type, cookie, tid, attrs):
        self.raw = raw
        self.type = msg_type
        self.cookie = cookie
        self.tid = tid
        self.attrs = attrs  # list of (type, value), wire order

    @property
    def method(self):
        return type_method(self.type)

    @property
    def cls(self):
        return type_class(self.type)

    def types(self):
        """Attribute types in wire order."""
        return [t for t, _ in self.attrs]

    def get(self, attr_type):
        """Value of the first attribute of that type, or None."""
        for t, v in self.attrs:
            if t == attr_type:
                return v
        return None

    def xor_mapped_address(self):
        """XOR-MAPPED-ADDRESS as (ip, port)."""
        value = self.get(XOR_MAPPED_ADDRESS)
        if value is None:
            raise StunError("no XOR-MAPPED-ADDRESS")
        return decode_address(value, xor_with=struct.pack(
            "!I", MAGIC_COOKIE) + self.tid)

    def mapped_address(self):
        """MAPPED-ADDRESS as (ip, port)."""
        value = self.get(MAPPED_ADDRESS)
        if value is None:
            raise StunError("no MAPPED-ADDRESS")
        return decode_address(value)

    def error_code(self):
        """ERROR-CODE as (code, reason)."""
        value = self.get(ERROR_CODE)
        if value is None:
            raise StunError("no ERROR-CODE")
        if len(value) < 4:
            raise StunError("ERROR-CODE too short")
        cls, number = value[2] & 0x07, value[3]
        if not 3 <= cls <= 6 or number > 99:
            raise StunError("ERROR-CODE out of range")
        return cls * 100 + number, value[4:].decode("utf-8")

    def unknown_attributes(self):
        """UNKNOWN-ATTRIBUTES as a list of types."""
        value = self.get(UNKNOWN_ATTRIBUTES)
        if value is None:
            raise StunError("no UNKNOWN-ATTRIBUTES")
        if len(value) % 2:
            raise StunError("UNKNOWN-ATTRIBUTES of odd length")
        return list(struct.unpack("!%dH" % (len(value) // 2), value))

    def fingerprint_ok(self):
        """Whether the message ends with a correct FINGERPRINT."""
        if not self.attrs or self.attrs[-1][0] != FINGERPRINT:
            return False
        value = self.attrs[-1][1]
        return (len(value) == 4 and struct.unpack("!I", value)[0]
                == fingerprint_value(self.raw[:-8]))


def decode_address(value, xor_with=None):
    """Decode a (XOR-)MAPPED-ADDRESS value (RFC 8489 sections 14.1, 14.2).

    xor_with is cookie || tid for XOR-MAPPED-ADDRESS.  Returns (ip, port).
    """
    if len(value) < 4 or value[0] != 0:
        raise StunError("bad address attribute")
    family = value[1]
    mask = xor_with if xor_with is not None else bytes(16)
    port = struct.unpack("!H", value[2:4])[0] ^ struct.unpack(
        "!H", mask[:2])[0]
    if family == FAMILY_IPV4 and len(value) == 8:
        raw = bytes(a ^ b for a, b in zip(value[4:8], mask[:4]))
        return socket.inet_ntop(socket.AF_INET, raw), port
    if family == FAMILY_IPV6 and len(value) == 20:
        raw = bytes(a ^ b for a, b in zip(value[4:20], mask[:16]))
        return socket.inet_ntop(socket.AF_INET6, raw), port
    raise StunError("bad address family %d / length %d"
                    % (family, len(value)))


def parse(data, classic=False):
    """Parse one whole message strictly.

    classic=True parses an RFC 3489 message (no cookie, 16-byte tid: tid
    then holds all 16 bytes and cookie is None).  Raises StunError.
    """
    if len(data) < HEADER_SIZE:
        raise StunError("shorter than a header")
    msg_type, length = struct.unpack("!HH", data[:4])
    if msg_type & 0xC000:
        raise StunError("top two bits set")
    if length % 4 or HEADER_SIZE + length != len(data):
        raise StunError("length %d does not match %d bytes"
                        % (length, len(data)))
    if classic:
        cookie, tid = None, bytes(data[4:20])
    else:
        cookie = struct.unpack("!I", data[4:8])[0]
        if cookie != MAGIC_COOKIE:
            raise StunError("no magic cookie")
        tid = bytes(data[8:20])
    attrs = []
    off = HEADER_SIZE
    while off < len(data):
        if len(data) - off < 4:
            raise StunError("truncated attribute header")
        t, alen = struct.unpack("!HH", data[off:off + 4])
        if off + 4 + pad4(alen) > len(data):
            raise StunError("attribute 0x%04x overruns the message" % t)
        attrs.append((t, bytes(data[off + 4:off + 4 + alen])))
        off += 4 + pad4(alen)
    return Message(bytes(data), msg_type, cookie, tid, attrs)


def sockaddr_family(host):
    """AF_INET6 for an IPv6 literal, else AF_INET."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


# (host, port) of every socket udp_socket() has given this process.  A
# daemon keeps a TURN allocation for its 5-tuple after the client that
# made it has gone, and the kernel hands out ephemeral ports at random:
# among the few dozen clients of one test class, a later client on an
# earlier one's port would meet that allocation (437, Allocation
# Mismatch) a few times in a hundred runs.
_ports_given = set()


def udp_socket(host):
    """A UDP socket bound to an ephemeral port on host that this process
    has not had before."""
    refused = []
    try:
        for _ in range(100):
            s = socket.socket(sockaddr_family(host), socket.SOCK_DGRAM)
            s.bind((host, 0))
            key = (host, s.getsockname()[1])
            if key not in _ports_given:
                _ports_given.add(key)
                return s
            refused.append(s)  # held, so that the next bind differs
        raise OSError("no UDP port on %s not had before" % host)
    finally:
        for s in refused:
            s.close()


def recv_datagram(sock, timeout):
    """The next datagram on sock, or None if none arrives within timeout."""
    r, _, _ = select.select([sock], [], [], timeout)
    if not r:
        return None
    return sock.recv(65536)


def udp_transaction(sock, server, msg, timeout=2.0):
    """Send msg to server and return the first datagram back, or None.

    Datagrams with another transaction id are skipped.
    """
    tid = msg[8:20]
    sock.sendto(msg, server)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        data = recv_datagram(sock, left)
        if data is None:
            return None
        if data[8:20] == tid:
            return data


def tcp_connect(server, timeout=2.0):
    """A TCP connection to server (host, port)."""
    s = socket.create_connection(server, timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class StreamReader:
    """Cuts STUN messages out of a TCP byte stream (RFC 8489 section 6.2)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def read_message(self, timeout=2.0):
        """The next whole message, or None on timeout or EOF (see .eof)."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                need = HEADER_SIZE + struct.unpack("!H", self.buf[2:4])[0]
                if len(self.buf) >= need:
                    msg, self.buf = self.buf[:need], self.buf[need:]
                    return msg
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.eof = True
            self.buf += chunk
