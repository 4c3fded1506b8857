# SPDX-License-Identifier: BSD-2-Clause
"""A small TURN client for the integration tests, written from RFC 8656.

It builds on stunclient.py (RFC 8489 framing) and adds what a TURN client
needs: long-term credentials (RFC 8489 section 9.2: the 401 challenge, the
retry with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY or -SHA256, a new
NONCE after 438), the TURN attributes, the five TURN requests and the Send
indication, ChannelData, and reading Data indications and ChannelData the
server relays.  Every answer to an authenticated request must carry a
valid MESSAGE-INTEGRITY (or -SHA256), which is checked here.  TURN REST
credentials (draft-uberti-behave-turn-rest) are minted as coturn does.

Python standard library only (hashlib, hmac, struct, socket); it shares
no code with turnpiked, so a bug in the daemon cannot hide behind the
same bug here.  Like stunclient.py it is permissive when building (a test
must be able to send malformed requests) and strict when parsing.

Not for: anything but tests.  UDP, or TCP without ChannelData; no
retransmission timers.
"""

import base64
import hashlib
import hmac
import os
import select
import socket
import struct
import time

import stunclient as sc

# Methods (RFC 8656 section 17).
ALLOCATE = 0x003
REFRESH = 0x004
SEND = 0x006
DATA = 0x007
CREATE_PERMISSION = 0x008
CHANNEL_BIND = 0x009

# Attributes (RFC 8489 section 18.3, RFC 8656 section 18).
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
CHANNEL_NUMBER = 0x000C
LIFETIME = 0x000D
XOR_PEER_ADDRESS = 0x0012
DATA_ATTR = 0x0013
REALM = 0x0014
NONCE = 0x0015
XOR_RELAYED_ADDRESS = 0x0016
REQUESTED_ADDRESS_FAMILY = 0x0017
EVEN_PORT = 0x0018
REQUESTED_TRANSPORT = 0x0019
DONT_FRAGMENT = 0x001A
MESSAGE_INTEGRITY_SHA256 = 0x001C
RESERVATION_TOKEN = 0x0022
ADDITIONAL_ADDRESS_FAMILY = 0x8000
ADDRESS_ERROR_CODE = 0x8001

# REQUESTED-TRANSPORT values (IANA protocol numbers).
UDP = 17
TCP = 6

FAMILY_IPV4 = sc.FAMILY_IPV4
FAMILY_IPV6 = sc.FAMILY_IPV6

COOKIE = struct.pack("!I", sc.MAGIC_COOKIE)


class TurnError(AssertionError):
    """The server's answer is wrong (bad integrity, missing attribute...).

    An AssertionError, so that a test using the client fails rather than
    errors on it.
    """


# -- credentials -------------------------------------------------------

def long_term_key(username, realm, password):
    """RFC 8489 section 9.2.2: MD5(username ":" realm ":" password)."""
    return hashlib.md5(b":".join(_b(x) for x in (username, realm,
                                                 password))).digest()


def rest_credentials(secret, ttl=3600, user_id="test", now=None,
                     expiry=None):
    """TURN REST credentials: username "<expiry>:<user_id>" (or just the
    expiry when user_id is None), password base64(HMAC-SHA1(secret,
    username)).  Returns (username, password) as str."""
    if expiry is None:
        expiry = int(now if now is not None else time.time()) + ttl
    username = str(expiry) if user_id is None else "%d:%s" % (expiry,
                                                              user_id)
    mac = hmac.new(_b(secret), _b(username), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode("ascii")


def _b(x):
    return x if isinstance(x, (bytes, bytearray)) else str(x).encode()


# -- attribute values --------------------------------------------------

def encode_address(ip, port, tid=None):
    """An address attribute value; XORed with cookie || tid when tid is
    given (RFC 8489 section 14.2).  ip is an IPv4 or IPv6 literal."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    raw = socket.inet_pton(family, ip)
    if tid is not None:
        mask = COOKIE + tid
        raw = bytes(a ^ b for a, b in zip(raw, mask))
        port ^= sc.MAGIC_COOKIE >> 16
    fam = FAMILY_IPV6 if family == socket.AF_INET6 else FAMILY_IPV4
    return struct.pack("!BBH", 0, fam, port) + raw


class XorAddress:
    """An XOR-PEER-ADDRESS (or other XOR address attribute) to encode
    once the transaction id is known (IPv6 XORs with it)."""

    def __init__(self, ip, port=0, attr_type=XOR_PEER_ADDRESS):
        self.ip, self.port, self.type = ip, port, attr_type

    def encode(self, tid):
        return sc.attr(self.type, encode_address(self.ip, self.port, tid))


def u32(attr_type, value):
    return (attr_type, struct.pack("!I", value))


def requested_transport(proto=UDP):
    """RFC 8656 section 14.7: protocol, then 3 bytes RFFU."""
    return (REQUESTED_TRANSPORT, struct.pack("!B3x", proto))


def family_attr(attr_type, family):
    """REQUESTED- or ADDITIONAL-ADDRESS-FAMILY (RFC 8656 sections 14.1,
    14.8): family, then 3 bytes RFFU."""
    return (attr_type, struct.pack("!B3x", family))


def even_port(reserve=False):
    """RFC 8656 section 14.6: one byte, R in the top bit."""
    return (EVEN_PORT, bytes([0x80 if reserve else 0]))


def channel_number(number):
    """RFC 8656 section 14.1: the number, then 2 bytes RFFU."""
    return (CHANNEL_NUMBER, struct.pack("!H2x", number))


def channel_data(number, payload, length=None, pad=False):
    """A ChannelData message (RFC 8656 section 12.4); length overrides the
    length field, pad appends zeros to a multiple of 4."""
    if length is None:
        length = len(payload)
    msg = struct.pack("!HH", number, length) + payload
    if pad:
        msg += bytes(sc.pad4(len(msg)) - len(msg))
    return msg


# -- integrity ---------------------------------------------------------

def _walk(raw):
    """(type, value offset, length) of each attribute of raw."""
    out = []
    off = sc.HEADER_SIZE
    while off + 4 <= len(raw):
        t, n = struct.unpack("!HH", raw[off:off + 4])
        out.append((t, off + 4, n))
        off += 4 + sc.pad4(n)
    return out


def integrity_value(raw_upto, end_len, key, sha256=False):
    """The HMAC over raw_upto (header and attributes before the integrity
    attribute) with the header's length set to end_len (RFC 8489 sections
    14.5, 14.6)."""
    head = raw_upto[:2] + struct.pack("!H", end_len) + raw_upto[4:20]
    digest = hashlib.sha256 if sha256 else hashlib.sha1
    return hmac.new(key, head + raw_upto[20:], digest).digest()


def check_integrity(raw, key):
    """Which integrity raw carries and whether it is right.

    Returns "sha1" or "sha256" for a valid MESSAGE-INTEGRITY (-SHA256),
    raises TurnError for a wrong one or none.  Only the first integrity
    attribute counts; after it only -SHA256 and FINGERPRINT may follow.
    """
    attrs = _walk(raw)
    for i, (t, voff, n) in enumerate(attrs):
        if t not in (MESSAGE_INTEGRITY, MESSAGE_INTEGRITY_SHA256):
            continue
        sha256 = t == MESSAGE_INTEGRITY_SHA256
        want = integrity_value(raw[:voff - 4], voff + n - sc.HEADER_SIZE,
                               key, sha256)
        if sha256:
            if n < 16 or n % 4 or n > 32 or raw[voff:voff + n] != want[:n]:
                raise TurnError("bad MESSAGE-INTEGRITY-SHA256")
        elif n != 20 or raw[voff:voff + n] != want:
            raise TurnError("bad MESSAGE-INTEGRITY")
        for t2, _, _ in attrs[i + 1:]:
            if t2 not in (MESSAGE_INTEGRITY_SHA256, sc.FINGERPRINT):
                raise TurnError("attribute 0x%04x after the integrity" % t2)
        return "sha256" if sha256 else "sha1"
    raise TurnError("no MESSAGE-INTEGRITY in an answer to an "
                    "authenticated request")


def has_integrity(msg):
    """Whether a parsed message carries either integrity attribute."""
    return any(t in (MESSAGE_INTEGRITY, MESSAGE_INTEGRITY_SHA256)
               for t in msg.types())


# -- building ----------------------------------------------------------

def build(method, cls=sc.REQUEST, tid=None, attrs=(), key=None,
          sha256=False, fingerprint=False, credentials=None):
    """Build a STUN message with TURN attributes and, with key, integrity.

    attrs items are (type, value) pairs, ready TLV bytes, or XorAddress.
    credentials = (username, realm, nonce) appends those attributes (any
    may be None to leave it out).  key appends MESSAGE-INTEGRITY (or
    -SHA256) over everything before it.  Returns the bytes.
    """
    if tid is None:
        tid = sc.new_tid()
    body = b""
    for a in attrs:
        if isinstance(a, XorAddress):
            body += a.encode(tid)
        elif isinstance(a, (bytes, bytearray)):
            body += a
        else:
            body += sc.attr(*a)
    if credentials is not None:
        username, realm, nonce = credentials
        for t, v in ((USERNAME, username), (REALM, realm), (NONCE, nonce)):
            if v is not None:
                body += sc.attr(t, _b(v))
    msg_type = sc.message_type(method, cls)
    if key is not None:
        size = 32 if sha256 else 20
        head = struct.pack("!HHI", msg_type, len(body) + 4 + size,
                           sc.MAGIC_COOKIE) + tid
        mac = integrity_value(head + body, len(body) + 4 + size, key,
                              sha256)
        body += sc.attr(MESSAGE_INTEGRITY_SHA256 if sha256
                        else MESSAGE_INTEGRITY, mac[:size])
    length = len(body) + (8 if fingerprint else 0)
    msg = struct.pack("!HHI", msg_type, length, sc.MAGIC_COOKIE) + tid + body
    if fingerprint:
        msg += struct.pack("!HHI", sc.FINGERPRINT, 4,
                           sc.fingerprint_value(msg))
    return msg


# -- what the server relays --------------------------------------------

def parse_relayed(data):
    """A datagram from the server that is not an answer: a Data
    indication as ("data", (ip, port), payload) or ChannelData as
    ("channel", number, payload).  Raises TurnError otherwise."""
    if len(data) >= 4 and 0x40 <= data[0] <= 0x7F:
        number, length = struct.unpack("!HH", data[:4])
        if 4 + length > len(data) or len(data) - 4 - length > 3:
            raise TurnError("ChannelData length %d in %d bytes"
                            % (length, len(data)))
        return ("channel", number, data[4:4 + length])
    msg = sc.parse(data)
    if msg.method != DATA or msg.cls != sc.INDICATION:
        raise TurnError("expected a Data indication, got type 0x%04x"
                        % msg.type)
    peer = msg.get(XOR_PEER_ADDRESS)
    payload = msg.get(DATA_ATTR)
    if peer is None or payload is None:
        raise TurnError("Data indication without XOR-PEER-ADDRESS or DATA")
    if has_integrity(msg):
        raise TurnError("Data indication with integrity")
    return ("data", sc.decode_address(peer, COOKIE + msg.tid), payload)


def xor_addresses(msg, attr_type):
    """Every attribute of attr_type in msg, decoded as (ip, port)."""
    return [sc.decode_address(v, COOKIE + msg.tid)
            for t, v in msg.attrs if t == attr_type]


def same_addr(a, b):
    """Whether (ip, port) pairs a and b name the same address."""
    def norm(x):
        fam = socket.AF_INET6 if ":" in x[0] else socket.AF_INET
        return socket.inet_pton(fam, x[0]), x[1]
    return norm(a) == norm(b)


# -- the client --------------------------------------------------------

class Client:
    """One TURN client on one UDP socket: one 5-tuple, one allocation.

    server is the daemon's (host, port).  username and password are the
    long-term credentials; realm and nonce are learnt from the first 401
    unless given.  sha256 signs with MESSAGE-INTEGRITY-SHA256.  Datagrams
    that arrive while waiting for an answer and are not it go to
    self.inbox, where recv_relayed() finds them.
    """

    def __init__(self, server, username=None, password=None, host=None,
                 sock=None, realm=None, nonce=None, sha256=False,
                 timeout=2.0):
        self.server = server
        if sock is None:
            if host is None:
                host = "::1" if ":" in server[0] else "127.0.0.1"
            sock = sc.udp_socket(host)
        self.sock = sock
        self.username = username
        self.password = password
        self.realm = realm
        self.nonce = nonce
        self.sha256 = sha256
        self.timeout = timeout
        self.inbox = []
        self.last_request = None

    def close(self):
        self.sock.close()

    @property
    def addr(self):
        """The client's own (ip, port)."""
        return self.sock.getsockname()[:2]

    def key(self):
        """The long-term key for the current realm."""
        return long_term_key(self.username, self.realm, self.password)

    # -- raw transactions --

    def send_raw(self, data):
        self.sock.sendto(data, self.server)

    def transact_raw(self, msg, timeout=None):
        """Send msg, return the raw answer with its tid, or None.

        Other datagrams are kept in self.inbox."""
        timeout = self.timeout if timeout is None else timeout
        tid = msg[8:20]
        self.send_raw(msg)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            data = self.recv_message(left)
            if data is None:
                return None
            if len(data) >= 20 and data[0] < 4 and data[8:20] == tid and \
                    data[4:8] == COOKIE and sc.type_class(
                        struct.unpack("!H", data[:2])[0]) in (sc.SUCCESS,
                                                              sc.ERROR):
                return data
            self.inbox.append(data)

    def transact(self, msg, timeout=None):
        """Send msg and return its parsed answer; TurnError if none."""
        data = self.transact_raw(msg, timeout)
        if data is None:
            raise TurnError("no answer from the server")
        return sc.parse(data)

    # -- authenticated requests --

    def sign(self, method, attrs=(), tid=None, fingerprint=False,
             sha256=None):
        """A request signed with the current credentials and nonce."""
        return build(method, sc.REQUEST, tid, attrs, key=self.key(),
                     sha256=self.sha256 if sha256 is None else sha256,
                     fingerprint=fingerprint,
                     credentials=(self.username, self.realm, self.nonce))

    def learn(self, answer):
        """Take REALM and NONCE from a 401 or 438."""
        realm, nonce = answer.get(REALM), answer.get(NONCE)
        if realm is None or nonce is None:
            raise TurnError("%d without REALM and NONCE" % code(answer))
        self.realm, self.nonce = realm.decode(), nonce.decode()

    def request(self, method, attrs=(), fingerprint=False, retries=2):
        """An authenticated request, as RFC 8489 section 9.2.3 does it.

        Without a nonce yet, the request first goes unauthenticated and
        the 401 teaches REALM and NONCE; a 438 (or a 401 with a new
        nonce) is retried with the new nonce.  Each retry is a new
        transaction.  The final answer must be the request's method and
        carry valid integrity; it is returned parsed.  The last request
        sent is in self.last_request.
        """
        if self.nonce is None:
            req = build(method, sc.REQUEST, attrs=attrs,
                        fingerprint=fingerprint)
            ans = self.transact(req)
            if ans.cls != sc.ERROR or code(ans) != 401:
                raise TurnError("an unauthenticated request got %r, not "
                                "401" % (describe(ans),))
            if has_integrity(ans):
                raise TurnError("401 challenge with integrity")
            self.learn(ans)
        for attempt in range(retries + 1):
            req = self.sign(method, attrs, fingerprint=fingerprint)
            self.last_request = req
            ans = self.transact(req)
            if ans.method != method:
                raise TurnError("answer of method 0x%03x to 0x%03x"
                                % (ans.method, method))
            if ans.cls == sc.ERROR and code(ans) in (401, 438):
                # Refused credentials: no integrity is possible (RFC
                # 8489 section 9.2.4); a stale nonce is replaced.
                if code(ans) == 438 and attempt < retries:
                    self.learn(ans)
                    continue
                return ans
            kind = check_integrity(ans.raw, self.key())
            if kind != ("sha256" if self.sha256 else "sha1"):
                raise TurnError("answer signed with %s" % kind)
            return ans
        raise AssertionError("unreachable")

    # -- TURN --

    def allocate(self, transport=UDP, lifetime=None, family=None,
                 additional=None, even=None, token=None,
                 dont_fragment=False, extra=()):
        """Allocate (RFC 8656 section 7.1); returns the parsed answer.

        family/additional are FAMILY_IPV4/IPV6 values for REQUESTED- and
        ADDITIONAL-ADDRESS-FAMILY; even is None, False (EVEN-PORT without
        R) or True (with R); token is 8 bytes of RESERVATION-TOKEN.
        """
        attrs = []
        if transport is not None:
            attrs.append(requested_transport(transport))
        if lifetime is not None:
            attrs.append(u32(LIFETIME, lifetime))
        if family is not None:
            attrs.append(family_attr(REQUESTED_ADDRESS_FAMILY, family))
        if additional is not None:
            attrs.append(family_attr(ADDITIONAL_ADDRESS_FAMILY, additional))
        if even is not None:
            attrs.append(even_port(even))
        if token is not None:
            attrs.append((RESERVATION_TOKEN, token))
        if dont_fragment:
            attrs.append((DONT_FRAGMENT, b""))
        attrs.extend(extra)
        return self.request(ALLOCATE, attrs)

    def refresh(self, lifetime=None, extra=()):
        attrs = [] if lifetime is None else [u32(LIFETIME, lifetime)]
        return self.request(REFRESH, attrs + list(extra))

    def create_permission(self, *peers):
        """CreatePermission for each peer, an ip or an (ip, port)."""
        attrs = []
        for p in peers:
            ip, port = (p, 0) if isinstance(p, str) else p
            attrs.append(XorAddress(ip, port))
        return self.request(CREATE_PERMISSION, attrs)

    def channel_bind(self, number, peer):
        attrs = []
        if number is not None:
            attrs.append(channel_number(number))
        if peer is not None:
            attrs.append(XorAddress(*peer))
        return self.request(CHANNEL_BIND, attrs)

    def send(self, peer, payload, dont_fragment=False, fingerprint=False):
        """A Send indication (RFC 8656 section 10.1); no answer."""
        attrs = [XorAddress(*peer), (DATA_ATTR, payload)]
        if dont_fragment:
            attrs.append((DONT_FRAGMENT, b""))
        self.send_raw(build(SEND, sc.INDICATION, attrs=attrs,
                            fingerprint=fingerprint))

    def send_channel(self, number, payload, **kw):
        self.send_raw(channel_data(number, payload, **kw))

    def recv_relayed(self, timeout=None):
        """The next Data indication or ChannelData, parsed (see
        parse_relayed), or None within timeout."""
        timeout = self.timeout if timeout is None else timeout
        if self.inbox:
            return parse_relayed(self.inbox.pop(0))
        data = self.recv_message(timeout)
        return None if data is None else parse_relayed(data)

    def recv_message(self, timeout):
        """The next message from the server (a datagram), or None."""
        return sc.recv_datagram(self.sock, timeout)


class StreamClient(Client):
    """Client on a TCP connection to server (RFC 8656 section 3.1): the
    same requests and Send indications, cut from the byte stream by their
    own length (sc.StreamReader).  Relayed data comes back as Data
    indications only: ChannelData (padded on a stream) is not read."""

    def __init__(self, server, username=None, password=None, timeout=2.0,
                 **kw):
        sock = sc.tcp_connect(server, timeout)
        super().__init__(server, username, password, sock=sock,
                         timeout=timeout, **kw)
        self.reader = sc.StreamReader(sock)

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv_message(self, timeout):
        """The next whole message, or None on timeout or end of stream
        (then self.reader.eof)."""
        return self.reader.read_message(timeout)


def code(msg):
    """The ERROR-CODE number of msg."""
    return msg.error_code()[0]


def describe(msg):
    """A short text for a message, for failure messages."""
    kind = {sc.REQUEST: "request", sc.INDICATION: "indication",
            sc.SUCCESS: "success", sc.ERROR: "error"}[msg.cls]
    text = "method 0x%03x %s" % (msg.method, kind)
    if msg.cls == sc.ERROR:
        try:
            text += " %d %s" % msg.error_code()
        except sc.StunError as e:
            text += " (%s)" % e
    return text


def relayed_address(msg):
    """The first XOR-RELAYED-ADDRESS of an Allocate success."""
    found = xor_addresses(msg, XOR_RELAYED_ADDRESS)
    if not found:
        raise TurnError("no XOR-RELAYED-ADDRESS")
    return found[0]


def lifetime(msg):
    """LIFETIME of msg in seconds."""
    v = msg.get(LIFETIME)
    if v is None or len(v) != 4:
        raise TurnError("no LIFETIME")
    return struct.unpack("!I", v)[0]


class Peer:
    """A UDP peer on loopback that records what it receives."""

    def __init__(self, host="127.0.0.1"):
        self.sock = sc.udp_socket(host)

    @property
    def addr(self):
        return self.sock.getsockname()[:2]

    def recv(self, timeout=2.0):
        """(payload, (ip, port)) of the next datagram, or None."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None
        data, addr = self.sock.recvfrom(65536)
        return data, addr[:2]

    def sendto(self, payload, addr):
        self.sock.sendto(payload, addr)

    def close(self):
        self.sock.close()


def random_payload(n=32):
    return os.urandom(n)
