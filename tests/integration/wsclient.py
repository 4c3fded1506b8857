# SPDX-License-Identifier: BSD-2-Clause
"""What the HTTP and signaling integration tests share: a turnpiked with
HTTP on, plain HTTP requests, a raw-socket WebSocket client written from
RFC 6455 for what a real client library will not send (malformed frames
and handshakes, a client that never reads), and the /metrics samples.

The well-behaved WebSocket client of the tests is Debian's
python3-websockets, not this one; this one is stdlib only and permissive
when building (any opcode, mask or not, any bytes) and strict when
parsing what the server sends (server frames are never masked).

Not for: the daemon's process (tp.py) or TURN (turnclient.py).
"""

import base64
import hashlib
import http.client
import json
import os
import select
import socket
import struct
import time

import tp

# RFC 6455 section 1.3.
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Opcodes (RFC 6455 section 5.2).
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# Info lines of a daemon with TURN on that a test allocates on (src/turn.c).
ALLOWED_LOG = [
    r'^allocation created: client \S+/udp user "[^"]*" relay \S+'
    r'( and IPv6)? lifetime \d+ s$',
    r'^allocation (expired|deleted|stopped): client \S+/udp user "[^"]*" '
    r'relay \S+, \d+ s, \d+ packets \d+ bytes to peers, \d+ packets \d+ bytes '
    r'from peers$',
]

TURN_SECRET = "s3cret"


def turn_on(**turn):
    """The turn group of a daemon that serves TURN with TURN_SECRET (so
    that ICE configs carry turn: URLs); turn overrides keys."""
    keys = {"enable": True, "secrets": [TURN_SECRET],
            "relay_ip": ["127.0.0.1"], "unauth_rate": 1000000}
    keys.update(turn)
    return keys


class HttpDaemon(tp.Daemon):
    """A tp.Daemon with HTTP on: STUN over UDP on the harness's port P and
    HTTP (and so /ws) over TCP on the same port P, where STUN over TCP
    would otherwise be (listen.tcp = []), so that a port clash is retried
    by tp.Daemon like any other.  The webroot is an empty directory in
    the daemon's temporary directory (self.webroot) unless given.
    """

    def __init__(self, conf=None, webroot=None, **kw):
        super().__init__(conf, **kw)
        self.webroot = webroot or os.path.join(self.dir, "www")
        if webroot is None:
            os.mkdir(self.webroot)
            os.chmod(self.webroot, 0o755)

    def default_conf(self):
        return tp.merge_conf(super().default_conf(), {
            "listen": {"tcp": []},
            "http": {"listen": ["127.0.0.1:%d" % self.port],
                     "webroot": self.webroot},
        })

    @property
    def host(self):
        """The Host a client sends: "127.0.0.1:P"."""
        return "127.0.0.1:%d" % self.port

    @property
    def origin(self):
        """The daemon's own origin, as a browser page it served sends."""
        return "http://%s" % self.host

    @property
    def ws_url(self):
        return "ws://%s/ws" % self.host

    def url(self, path):
        return "http://%s%s" % (self.host, path)


# -- HTTP ----------------------------------------------------------------

class Response:
    """status, headers (lower-case names), body (bytes), reason."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %s %r %r>" % (self.status, self.reason, self.headers,
                                  self.body[:200])


def http_request(daemon, path, method="GET", headers=None, body=None,
                 timeout_s=5):
    """One request with http.client; the path is sent as given (no
    normalisation).  A Host in headers replaces the default one."""
    headers = dict(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port,
                                      timeout=tp.timeout(timeout_s))
    try:
        conn.putrequest(method, path, skip_host="Host" in headers,
                        skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.reason,
                        {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def raw_http(daemon, request, timeout_s=5):
    """Send request (bytes, a whole HTTP/1.1 request) on a new connection
    and return the Response of what comes back until the server closes
    (or the answer's Content-Length is read)."""
    with socket.create_connection(daemon.addr(),
                                  timeout=tp.timeout(timeout_s)) as s:
        s.sendall(request)
        data = b""
        while True:
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                resp = parse_head(head, rest)
                n = resp.header("content-length")
                if n is not None and len(rest) >= int(n):
                    resp.body = rest[:int(n)]
                    return resp
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                chunk = b""
            if not chunk:
                if not sep:
                    raise AssertionError("no complete HTTP answer: %r"
                                         % data)
                return resp
            data += chunk


def parse_head(head, rest=b""):
    """A Response from a status line and headers (bytes, no CRLFCRLF)."""
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise AssertionError("not an HTTP status line: %r" % lines[0])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(int(parts[1]), parts[2] if len(parts) > 2 else "",
                    headers, rest)


# -- WebSocket, raw --------------------------------------------------------

def ws_key():
    """A fresh Sec-WebSocket-Key: base64 of 16 random bytes."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def ws_accept(key):
    """RFC 6455 section 4.2.2: base64(SHA-1(key + GUID))."""
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode())
                            .digest()).decode("ascii")


def handshake_headers(daemon, key=None, origin=None, version="13",
                      extra=None):
    """The headers of a good upgrade request; None values are left out,
    so a test removes a header by setting it to None in extra."""
    headers = {
        "Host": daemon.host,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key or ws_key(),
        "Sec-WebSocket-Version": version,
        "Origin": origin,
    }
    headers.update(extra or {})
    return {k: v for k, v in headers.items() if v is not None}


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0, length=None):
    """One frame as bytes.  mask=True masks with a random key (as a client
    must); length overrides the length field (the payload is sent as is)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 1 << 16:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


class HandshakeRefused(AssertionError):
    """The server did not answer the upgrade with 101."""

    def __init__(self, resp):
        super().__init__("upgrade refused: %d %s %r"
                         % (resp.status, resp.reason, resp.body))
        self.resp = resp


class Closed(AssertionError):
    """The TCP connection ended (EOF or reset) where a frame was wanted."""


class RawWebSocket:
    """One client connection on a plain socket after a manual handshake.

    Reads are buffered; recv_frame() returns whole frames.  With
    auto_pong, pings from the server are answered as they are read and
    counted in self.pings.
    """

    def __init__(self, sock, leftover=b"", auto_pong=True):
        self.sock = sock
        self.buf = bytearray(leftover)
        self.auto_pong = auto_pong
        self.pings = []  # monotonic times of server pings read

    @classmethod
    def connect(cls, daemon, path="/ws", headers=None, rcvbuf=None,
                timeout_s=5, **kw):
        """Connect and upgrade; HandshakeRefused unless 101 with the right
        Sec-WebSocket-Accept.  headers: handshake_headers() by default."""
        resp, sock, leftover = upgrade(daemon, path, headers, rcvbuf,
                                       timeout_s)
        if resp.status != 101:
            sock.close()
            raise HandshakeRefused(resp)
        key = (headers or {}).get("Sec-WebSocket-Key")
        if key is not None and resp.header("sec-websocket-accept") != \
                ws_accept(key):
            sock.close()
            raise AssertionError("wrong Sec-WebSocket-Accept in %r" % resp)
        return cls(sock, leftover, **kw)

    def close(self):
        """Close the socket at once: no close frame (an abrupt drop)."""
        self.sock.close()

    def shutdown(self, timeout_s=1):
        """End politely: a close frame, the server's close frame, its end
        of the TCP connection, as far as each comes within timeout_s;
        then close the socket."""
        if self.sock.fileno() == -1:
            return
        try:
            self.send_close(1000)
            deadline = time.monotonic() + tp.timeout(timeout_s)
            while True:
                left = (deadline - time.monotonic()) / tp.TIMEOUT_SCALE
                m = self.recv_message(max(left, 0))
                if m is None or m[0] == CLOSE:
                    break
            self.expect_eof(timeout_s)
        except (OSError, AssertionError):
            pass
        finally:
            self.sock.close()

    def fileno(self):
        return self.sock.fileno()

    # -- sending --

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", **kw):
        self.sock.sendall(frame(opcode, payload, **kw))

    def send_text(self, text):
        self.send_frame(TEXT, text)

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def send_close(self, code=1000, reason=b""):
        self.send_frame(CLOSE, struct.pack("!H", code) + reason)

    # -- receiving --

    def _fill(self, deadline):
        """Read more into the buffer; False on timeout, Closed on EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Closed("connection reset: %s" % e)
        if not data:
            raise Closed("the server closed the TCP connection")
        self.buf += data
        return True

    def _take(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                return None
        return True

    def recv_frame(self, timeout_s=2):
        """(fin, opcode, payload) of the next frame, or None on timeout.
        A timeout in the middle of a frame leaves it buffered."""
        deadline = time.monotonic() + tp.timeout(timeout_s)
        if self._take(2, deadline) is None:
            return None
        b0, b1 = self.buf[0], self.buf[1]
        if b1 & 0x80:
            raise AssertionError("a masked frame from the server")
        if b0 & 0x70:
            raise AssertionError("RSV bits set by the server: %#x" % b0)
        n, off = b1 & 0x7F, 2
        if n == 126:
            if self._take(4, deadline) is None:
                return None
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            if self._take(10, deadline) is None:
                return None
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        if self._take(off + n, deadline) is None:
            return None
        payload = bytes(self.buf[off:off + n])
        del self.buf[:off + n]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv_message(self, timeout_s=2):
        """(opcode, payload) of the next data or close frame (pings are
        answered when auto_pong, pongs skipped), or None on timeout."""
        deadline = time.monotonic() + tp.timeout(timeout_s)
        while True:
            left = (deadline - time.monotonic()) / tp.TIMEOUT_SCALE
            f = self.recv_frame(max(left, 0))
            if f is None:
                return None
            fin, op, payload = f
            if op == PING:
                self.pings.append(time.monotonic())
                if self.auto_pong:
                    self.send_frame(PONG, payload)
                continue
            if op == PONG:
                continue
            if not fin:
                raise AssertionError("a fragmented message from the server")
            return op, payload

    def recv_json(self, timeout_s=2):
        """The next text message as JSON; fails on timeout or close."""
        m = self.recv_message(timeout_s)
        if m is None:
            raise AssertionError("no message within %s s" % timeout_s)
        op, payload = m
        if op != TEXT:
            raise AssertionError("expected a text message, got opcode %d "
                                 "%r" % (op, payload[:100]))
        return json.loads(payload.decode("utf-8"))

    def expect_close(self, timeout_s=3, reply_after=0.5):
        """Read until a close frame (text messages before it are skipped);
        then wait up to reply_after for the server to end the TCP
        connection (a server failing the connection may, RFC 6455 section
        7.1.1), else answer with a close frame and wait for the end.
        Returns (code, reason); code None when the frame had none."""
        deadline = time.monotonic() + tp.timeout(timeout_s)
        while True:
            left = (deadline - time.monotonic()) / tp.TIMEOUT_SCALE
            m = self.recv_message(max(left, 0))
            if m is None:
                raise AssertionError("no close frame within %s s"
                                     % timeout_s)
            op, payload = m
            if op == CLOSE:
                break
        code = struct.unpack("!H", payload[:2])[0] if payload else None
        reason = payload[2:].decode("utf-8")
        try:
            self.expect_eof(reply_after)
            return code, reason
        except Closed:
            return code, reason
        except AssertionError:
            pass
        try:
            self.send_close(code or 1000)
        except OSError:
            pass
        self.expect_eof(timeout_s)
        return code, reason

    def expect_eof(self, timeout_s=3):
        """Wait until the server ends the TCP connection (frames before
        are dropped); fails on timeout."""
        deadline = time.monotonic() + tp.timeout(timeout_s)
        try:
            while True:
                if not self._fill(deadline):
                    raise AssertionError("the server did not close the "
                                         "connection within %s s"
                                         % timeout_s)
                self.buf.clear()
        except Closed:
            return


def upgrade(daemon, path="/ws", headers=None, rcvbuf=None, timeout_s=5):
    """Send an upgrade request; returns (Response, socket, bytes read past
    the answer's head).  The socket is the caller's."""
    if headers is None:
        headers = handshake_headers(daemon)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(tp.timeout(timeout_s))
    try:
        sock.connect(daemon.addr())
        req = "GET %s HTTP/1.1\r\n" % path
        req += "".join("%s: %s\r\n" % kv for kv in headers.items())
        sock.sendall((req + "\r\n").encode("iso-8859-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("no HTTP answer to the upgrade: %r" % data)
        resp = parse_head(head)
        if resp.status != 101:
            # The body of a refusal, as far as Content-Length says.
            n = int(resp.header("content-length") or 0)
            while len(rest) < n:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                rest += chunk
            resp.body = rest[:n]
            rest = b""
        sock.settimeout(None)
        return resp, sock, rest
    except BaseException:
        sock.close()
        raise


# -- /metrics -------------------------------------------------------------

def metric_samples(daemon):
    """Every sample of /metrics, parsed by prometheus_client's parser, as
    a list of (name, labels dict, value); the parser raises on text it
    cannot read."""
    from prometheus_client.parser import text_string_to_metric_families
    resp = http_request(daemon, "/metrics")
    if resp.status != 200:
        raise AssertionError("/metrics: %r" % resp)
    out = []
    for fam in text_string_to_metric_families(resp.body.decode("utf-8")):
        for s in fam.samples:
            out.append((s.name, dict(s.labels), s.value))
    return out


def cpu_seconds(pid):
    """User plus system CPU time of pid so far, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(daemon, name, **labels):
    """The value of one sample of /metrics (None when absent)."""
    for n, lab, v in metric_samples(daemon):
        if n == name and lab == labels:
            return v
    return None
