#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The WebSocket signaling service of turnpiked, from the outside.

A standard WebSocket client (Debian's python3-websockets) joins rooms and
talks protocol v1 (src/sig.h): welcome, presence, offer/answer/candidate
relay to the addressed peer only, chat, state, leave, every error code;
join tokens minted by `turnpiked --mint-token`.  A raw-socket client
(wsclient.py) sends what no library will: invalid UTF-8, binary and
unmasked frames, oversized messages, broken handshakes, and a client that
never reads (a slow consumer), a client that vanishes without a close
handshake (Drops).  Then 1000 connections at once, and the server's
keepalive pings.  Tests marked tp.known_bug show the daemon bugs named in
CLOSE_FIRST and LIVELOCK below.

Keepalive: a client that answers pings is watched for 22 s in the
background while the other tests run (Keepalive, last): the server's
ping arrives at 20 s and the connection stays.  A client that does not
answer is only dropped after two missed pongs, at 60 s: not tested here.
"""

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import os
import re
import resource
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
import wsclient as wc  # noqa: E402

try:
    import websockets
    import websockets.exceptions
except ImportError:  # pragma: no cover
    websockets = None

# How long a message that must not arrive is waited for.
SILENCE = 0.3
# The longest one test may take (its own event loop is cancelled then).
TEST_TIMEOUT = 50
ID = re.compile(r"^[0-9a-f]{32}$")
CREDENTIAL_TTL = 86400  # signaling.credential_ttl's default

# Known daemon bugs (tp.known_bug), as the tests that show them name them.
CLOSE_FIRST = ("src/ws.c ws_close_code()/ws_conn_close(): the close frame "
               "goes into wslay's control queue, which is sent before the "
               "text messages queued before it, and nothing is sent after "
               "a close: what sig.c queued last (a rate-limited error, a "
               "chat echo before a leave) is lost, against sig.h's 'close "
               "once what is queued went'")

LIVELOCK = ("src/ws.c ws_update()/ws_conn_end_soon(): a connection to drop "
            "whose socket stays readable or writable re-adds its 0 s end "
            "timer from every read/write callback, which takes the due "
            "timer off libevent's active list: ws_conn_free() never runs, "
            "the daemon spins at 100% CPU, the peer never leaves")

needs_websockets = unittest.skipIf(websockets is None,
                                   "python3-websockets is not installed")


def asynctest(fn):
    """Run an async test method in its own event loop; every connection
    it opened with self.connect() is closed afterwards."""
    @functools.wraps(fn)
    def wrapper(self):
        async def main():
            self.opened = []
            try:
                await asyncio.wait_for(fn(self), tp.timeout(TEST_TIMEOUT))
            finally:
                await close_all(self.opened)
        asyncio.run(main())
    return wrapper


async def close_all(conns):
    """Close websockets connections, aborting those that do not answer."""
    async def one(ws):
        try:
            await asyncio.wait_for(ws.close(), 2)
        except Exception:
            ws.transport.abort()
    await asyncio.gather(*(one(ws) for ws in conns))


class Peer:
    """A websockets connection talking protocol v1."""

    def __init__(self, ws):
        self.ws = ws
        self.id = None
        self.welcome = None

    async def send(self, msg):
        await self.ws.send(msg if isinstance(msg, str) else json.dumps(msg))

    async def recv(self, timeout_s=2):
        """The next message, decoded; fails on timeout."""
        try:
            text = await asyncio.wait_for(self.ws.recv(),
                                          tp.timeout(timeout_s))
        except asyncio.TimeoutError:
            raise AssertionError("no message within %s s" % timeout_s)
        if not isinstance(text, str):
            raise AssertionError("a binary message from the server")
        return json.loads(text)

    async def expect(self, type_, timeout_s=2):
        msg = await self.recv(timeout_s)
        if msg.get("type") != type_:
            raise AssertionError("expected %s, got %r" % (type_, msg))
        return msg

    async def expect_error(self, code):
        """The next message is {"type":"error","code":code,"message":...}."""
        msg = await self.recv()
        if msg.get("type") != "error" or msg.get("code") != code or \
                not isinstance(msg.get("message"), str) or \
                not msg["message"] or set(msg) != {"type", "code",
                                                   "message"}:
            raise AssertionError("expected error %s, got %r" % (code, msg))
        return msg

    async def silent(self, timeout_s=SILENCE):
        """Nothing arrives within timeout_s."""
        try:
            text = await asyncio.wait_for(self.ws.recv(), timeout_s)
        except asyncio.TimeoutError:
            return
        raise AssertionError("a message arrived that must not: %s" % text)

    async def join(self, room, name=None, token=None):
        msg = {"type": "join", "room": room}
        if name is not None:
            msg["name"] = name
        if token is not None:
            msg["token"] = token
        await self.send(msg)
        w = await self.expect("welcome")
        self.id, self.welcome = w["id"], w
        return w

    async def ping(self):
        """A protocol ping gets its pong: the connection is usable."""
        await self.send({"type": "ping"})
        msg = await self.recv()
        if msg != {"type": "pong"}:
            raise AssertionError("expected a pong, got %r" % msg)

    async def closed_with(self, timeout_s=3):
        """The code of the close the server sends next (messages before
        it are skipped)."""
        deadline = time.monotonic() + tp.timeout(timeout_s)
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(),
                                       deadline - time.monotonic())
        except websockets.exceptions.ConnectionClosed as e:
            if e.rcvd is None:
                raise AssertionError("closed without a close frame")
            return e.rcvd.code
        except asyncio.TimeoutError:
            raise AssertionError("not closed within %s s" % timeout_s)


class SigCase(unittest.TestCase):
    """An HTTP daemon (CONF merged over base_conf, with wsclient.HttpDaemon's
    listeners) for the class, or for each test when PER_TEST (tests that
    leave a daemon in a bad state, or need a fresh one); its log is
    checked when it stops."""

    CONF = {"turn": wc.turn_on()}
    PER_TEST = False
    daemon = None

    @classmethod
    def setUpClass(cls):
        if websockets is None:
            raise unittest.SkipTest("python3-websockets is not installed")
        if not cls.PER_TEST:
            cls.daemon = wc.HttpDaemon(cls.CONF).__enter__()

    @classmethod
    def tearDownClass(cls):
        d = cls.daemon
        if d is not None and not cls.PER_TEST:
            d.__exit__(None, None, None)
            d.check_log(wc.ALLOWED_LOG)

    def setUp(self):
        if self.PER_TEST:
            self.daemon = self.start_daemon(self.CONF)

    def start_daemon(self, conf):
        """A daemon for this test only, stopped (and its log checked)
        when the test is done."""
        d = wc.HttpDaemon(conf).__enter__()

        def done():
            d.__exit__(None, None, None)
            d.check_log(wc.ALLOWED_LOG)
        self.addCleanup(done)
        return d

    def ws_connections(self):
        return wc.metric(self.daemon, "turnpike_ws_connections")

    def wait_ws_connections(self, n, timeout_s=3):
        """turnpike_ws_connections comes down to n: the daemon let go of
        every connection that ended."""
        deadline = time.monotonic() + tp.timeout(timeout_s)
        while True:
            got = self.ws_connections()
            if got == n:
                return
            if time.monotonic() > deadline:
                self.fail("turnpike_ws_connections is %s, not %d, %s s "
                          "after the connections ended" % (got, n,
                                                           timeout_s))
            time.sleep(0.05)

    def assert_idle(self, seconds=1.0):
        """The daemon, with nothing to do, uses (almost) no CPU."""
        pid = self.daemon.pid
        before = wc.cpu_seconds(pid)
        time.sleep(seconds)
        used = wc.cpu_seconds(pid) - before
        self.assertLess(used, seconds / 4, "the daemon used %.2f s of CPU "
                        "in %.1f s with nothing to do" % (used, seconds))

    async def connect(self, origin=None, daemon=None, **kw):
        """A websockets connection to /ws (no Origin unless given)."""
        d = daemon or self.daemon
        ws = await websockets.connect(
            d.ws_url, origin=origin, max_size=None, ping_interval=None,
            close_timeout=2, open_timeout=tp.timeout(5), **kw)
        self.opened.append(ws)
        return Peer(ws)

    async def joined(self, room, name=None, **kw):
        p = await self.connect(**kw)
        await p.join(room, name)
        return p

    async def all_silent(self, *peers):
        await asyncio.gather(*(p.silent() for p in peers))

    def raw(self, daemon=None, **kw):
        """A raw-socket client, shut down politely after the test."""
        c = wc.RawWebSocket.connect(daemon or self.daemon, **kw)
        self.addCleanup(c.shutdown)
        return c

    def raw_joined(self, room, name=None, **kw):
        c = self.raw(**kw)
        msg = {"type": "join", "room": room}
        if name:
            msg["name"] = name
        c.send_json(msg)
        w = c.recv_json()
        self.assertEqual(w["type"], "welcome", w)
        c.id = w["id"]
        return c

    def check_welcome(self, w, room, policy="all", turn=True):
        """A welcome as protocol v1 has it, with an ICE config pointing
        at this daemon and fresh TURN credentials for the peer's id."""
        port = self.daemon.port
        self.assertEqual(set(w), {"type", "id", "room", "peers", "iceServers",
                                  "iceTransportPolicy"}, w)
        self.assertEqual(w["type"], "welcome")
        self.assertRegex(w["id"], ID)
        self.assertEqual(w["room"], room)
        self.assertIsInstance(w["peers"], list)
        self.assertEqual(w["iceTransportPolicy"], policy)
        servers = w["iceServers"]
        self.assertIn({"urls": ["stun:127.0.0.1:%d" % port]}, servers)
        turns = [s for s in servers
                 if any(u.startswith("turn") for u in s["urls"])]
        if not turn:
            self.assertEqual(turns, [])
            return None
        self.assertEqual(len(turns), 1, servers)
        t = turns[0]
        self.assertEqual(t["urls"], ["turn:127.0.0.1:%d?transport=udp"
                                     % port])
        expiry, _, user = t["username"].partition(":")
        self.assertEqual(user, w["id"])
        self.assertAlmostEqual(int(expiry), time.time() + CREDENTIAL_TTL,
                               delta=10)
        # Our own TURN REST computation (turnclient.py) agrees.
        self.assertEqual(tc.rest_credentials(wc.TURN_SECRET, user_id=user,
                                             expiry=int(expiry)),
                         (t["username"], t["credential"]))
        return t


@needs_websockets
class Rooms(SigCase):
    """Presence, relay, chat, state and leave in rooms of up to 3."""

    CONF = {"turn": wc.turn_on(), "signaling": {"max_peers_per_room": 3}}

    @asynctest
    async def test_two_peers_welcome_and_peer_joined(self):
        a = await self.connect(origin=self.daemon.origin)
        w = await a.join("room-2", "alice")
        turn = self.check_welcome(w, "room-2")
        self.assertEqual(w["peers"], [])
        b = await self.connect()
        w = await b.join("room-2", "bob")
        self.check_welcome(w, "room-2")
        self.assertNotEqual(a.id, b.id)
        self.assertEqual(w["peers"], [{"id": a.id, "name": "alice",
                                       "state": {}}])
        self.assertEqual(await a.recv(), {"type": "peer-joined",
                                          "id": b.id, "name": "bob"})
        await self.all_silent(a, b)
        # The welcome's TURN credentials allocate on this daemon's TURN.
        c = tc.Client(self.daemon.addr(), turn["username"],
                      turn["credential"], timeout=tp.timeout(2))
        try:
            ans = c.allocate()
            self.assertEqual(ans.cls, tc.sc.SUCCESS, tc.describe(ans))
        finally:
            c.close()

    @asynctest
    async def test_three_peers_and_names(self):
        a = await self.joined("room-3", "alice")
        b = await self.joined("room-3")  # no name
        self.assertEqual(await a.recv(), {"type": "peer-joined",
                                          "id": b.id})
        c = await self.connect()
        w = await c.join("room-3", "carol \u00e9\U0001f30d")
        self.check_welcome(w, "room-3")
        self.assertEqual(w["peers"], [
            {"id": a.id, "name": "alice", "state": {}},
            {"id": b.id, "state": {}}])
        joined = {"type": "peer-joined", "id": c.id,
                  "name": "carol \u00e9\U0001f30d"}
        self.assertEqual(await a.recv(), joined)
        self.assertEqual(await b.recv(), joined)
        self.assertEqual(len({a.id, b.id, c.id}), 3)
        await self.all_silent(a, b, c)

    @asynctest
    async def test_relay_reaches_only_the_addressed_peer(self):
        a = await self.joined("relay", "alice")
        b = await self.joined("relay", "bob")
        c = await self.joined("relay", "carol")
        await a.recv(), await a.recv(), await b.recv()  # peer-joined
        sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
        # A spoofed from is replaced by the sender's id; to goes.
        await a.send({"type": "offer", "to": b.id, "sdp": sdp,
                      "from": c.id})
        self.assertEqual(await b.recv(), {"type": "offer", "sdp": sdp,
                                          "from": a.id})
        await self.all_silent(a, c)
        await b.send({"type": "answer", "to": a.id, "sdp": sdp + "a=x\r\n"})
        self.assertEqual(await a.recv(), {"type": "answer",
                                          "sdp": sdp + "a=x\r\n",
                                          "from": b.id})
        await self.all_silent(b, c)
        cand = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 "
                "50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
        await a.send({"type": "candidate", "to": b.id, "candidate": cand})
        self.assertEqual(await b.recv(), {"type": "candidate",
                                          "candidate": cand, "from": a.id})
        # End of candidates: null.
        await a.send({"type": "candidate", "to": b.id, "candidate": None})
        self.assertEqual(await b.recv(), {"type": "candidate",
                                          "candidate": None, "from": a.id})
        await c.send({"type": "offer", "to": a.id, "sdp": sdp,
                      "from": "server"})
        self.assertEqual(await a.recv(), {"type": "offer", "sdp": sdp,
                                          "from": c.id})
        await self.all_silent(a, b, c)

    @asynctest
    async def test_chat_to_everyone_with_ts_and_name(self):
        a = await self.joined("chat", "alice")
        b = await self.joined("chat")
        c = await self.joined("chat", "carol")
        await a.recv(), await a.recv(), await b.recv()  # peer-joined
        text = "h\u00e9llo \U0001f30d <b>&"
        before = int(time.time() * 1000)
        await a.send({"type": "chat", "text": text, "from": b.id})
        msgs = [await p.recv() for p in (a, b, c)]
        after = int(time.time() * 1000)
        for m in msgs:
            self.assertEqual(set(m), {"type", "from", "name", "text", "ts"})
            self.assertEqual((m["type"], m["from"], m["name"], m["text"]),
                             ("chat", a.id, "alice", text))
            self.assertTrue(before - 1000 <= m["ts"] <= after + 1000, m)
        self.assertEqual(len({m["ts"] for m in msgs}), 1)
        # No name, no name key.
        await b.send({"type": "chat", "text": "x"})
        for p in (a, b, c):
            m = await p.recv()
            self.assertEqual(set(m), {"type", "from", "text", "ts"})
            self.assertEqual(m["from"], b.id)
        # 4096 characters is the most (here 16 KiB of UTF-8).
        await c.send({"type": "chat", "text": "\U0001f30d" * 4096})
        for p in (a, b, c):
            self.assertEqual(len((await p.expect("chat"))["text"]), 4096)
        await self.all_silent(a, b, c)

    @asynctest
    async def test_state_relayed_and_in_later_welcome(self):
        a = await self.joined("state", "alice")
        b = await self.joined("state", "bob")
        await a.recv()
        await a.send({"type": "state", "state": {"mic": True}})
        self.assertEqual(await b.recv(), {"type": "state", "from": a.id,
                                          "state": {"mic": True}})
        await a.silent()
        state = {"mic": False, "cam": True, "label": "\u00e9",
                 "n": [1, 2, {"x": None}]}
        await a.send({"type": "state", "state": state})
        self.assertEqual(await b.recv(), {"type": "state", "from": a.id,
                                          "state": state})
        c = await self.connect()
        w = await c.join("state")
        self.assertEqual(w["peers"], [
            {"id": a.id, "name": "alice", "state": state},
            {"id": b.id, "name": "bob", "state": {}}])
        self.assertEqual((await a.expect("peer-joined"))["id"], c.id)
        self.assertEqual((await b.expect("peer-joined"))["id"], c.id)
        await self.all_silent(a, b, c)

    @asynctest
    async def test_leave_peer_left_and_close_1000(self):
        a = await self.joined("leave", "alice")
        b = await self.joined("leave", "bob")
        c = await self.joined("leave")
        await a.recv(), await a.recv(), await b.recv()
        await b.send({"type": "leave"})
        left = {"type": "peer-left", "id": b.id}
        self.assertEqual(await a.recv(), left)
        self.assertEqual(await c.recv(), left)
        self.assertEqual(await b.closed_with(), 1000)
        # b is gone from the room: a relay to it is unknown-peer, and a
        # newcomer's welcome does not list it.
        await a.send({"type": "offer", "to": b.id, "sdp": "x"})
        await a.expect_error("unknown-peer")
        d = await self.connect()
        w = await d.join("leave")
        self.assertEqual([p["id"] for p in w["peers"]], [a.id, c.id])

    def test_leave_after_chat_gets_its_echo(self):
        c = self.raw_joined("leave-echo")
        c.send_raw(wc.frame(wc.TEXT, json.dumps({"type": "chat",
                                                 "text": "bye all"}))
                   + wc.frame(wc.TEXT, '{"type":"leave"}'))
        m = c.recv_message()
        self.assertEqual(m[0], wc.TEXT, "the close came before the echo "
                         "of the chat sent before the leave: %r" % (m,))
        self.assertEqual(json.loads(m[1])["text"], "bye all")
        self.assertEqual(c.expect_close(), (1000, "bye"))

    # -- errors --

    @asynctest
    async def test_error_bad_json(self):
        p = await self.connect()
        for text in ("{", "", "nul", '{"type":"ping"', "{'type':'ping'}",
                     '{"type":"chat","text":"a\\u0000b"}'):
            await p.send(text)
            await p.expect_error("bad-json")
        await p.ping()

    @asynctest
    async def test_error_bad_message(self):
        p = await self.connect()
        for msg in ("42", "[]", '"join"', "null",
                    {"type": 7}, {"room": "r"}, {"type": None},
                    {"type": "join", "room": "r", "name": ""},
                    {"type": "join", "room": "r", "name": "n" * 65},
                    {"type": "join", "room": "r", "name": 5}):
            await p.send(msg)
            await p.expect_error("bad-message")
        # 64 characters of name is fine, however many bytes.
        await p.join("bad-message", "\U0001f30d" * 64)
        q = await self.joined("bad-message")
        await p.recv()
        for msg in ({"type": "offer", "to": q.id},
                    {"type": "offer", "to": q.id, "sdp": 5},
                    {"type": "answer", "sdp": "x"},
                    {"type": "answer", "to": 5, "sdp": "x"},
                    {"type": "candidate", "to": q.id},
                    {"type": "candidate", "to": q.id, "candidate": "c"},
                    {"type": "chat"}, {"type": "chat", "text": ""},
                    {"type": "chat", "text": 5},
                    {"type": "state"}, {"type": "state", "state": [1]},
                    {"type": "state", "state": "x"}):
            await p.send(msg)
            await p.expect_error("bad-message")
        await self.all_silent(p, q)

    @asynctest
    async def test_error_unknown_type(self):
        p = await self.connect()
        for t in ("dance", "welcome", "JOIN", "error", "peer-left", ""):
            await p.send({"type": t})
            await p.expect_error("unknown-type")
        await p.ping()

    @asynctest
    async def test_error_not_joined(self):
        p = await self.connect()
        for msg in ({"type": "chat", "text": "x"},
                    {"type": "offer", "to": "0" * 32, "sdp": "x"},
                    {"type": "answer", "to": "0" * 32, "sdp": "x"},
                    {"type": "candidate", "to": "0" * 32,
                     "candidate": None},
                    {"type": "state", "state": {}}, {"type": "leave"}):
            await p.send(msg)
            await p.expect_error("not-joined")
        await p.ping()  # allowed before join

    @asynctest
    async def test_error_already_joined(self):
        p = await self.joined("already", "alice")
        for room in ("already", "elsewhere"):
            await p.send({"type": "join", "room": room})
            await p.expect_error("already-joined")
        q = await self.joined("elsewhere")
        self.assertEqual(q.welcome["peers"], [])

    @asynctest
    async def test_error_bad_room(self):
        p = await self.connect()
        for room in ("", "a b", "x" * 65, 5, None, "\u00e4", "a/b", "a:b",
                     "../x", "r\n"):
            msg = {"type": "join"}
            if room is not None:
                msg["room"] = room
            await p.send(msg)
            await p.expect_error("bad-room")
        await p.join("Aa0._-" + "x" * 58)  # 64 characters

    @asynctest
    async def test_error_unknown_peer(self):
        a = await self.joined("unknown-a")
        b = await self.joined("unknown-a")
        other = await self.joined("unknown-b")
        await a.recv()
        for to in ("0" * 32, a.id, other.id, "", b.id.upper(), b.id + "0"):
            await a.send({"type": "offer", "to": to, "sdp": "x"})
            await a.expect_error("unknown-peer")
            await a.send({"type": "candidate", "to": to, "candidate": None})
            await a.expect_error("unknown-peer")
        await self.all_silent(a, b, other)

    @asynctest
    async def test_error_too_large(self):
        p = await self.joined("too-large")
        for text in ("a" * 4097, "\U0001f30d" * 4097):
            await p.send({"type": "chat", "text": text})
            await p.expect_error("too-large")
        # A state is at most 1024 bytes of compact JSON: {"x":"..."}.
        await p.send({"type": "state", "state": {"x": "a" * 1017}})
        await p.expect_error("too-large")
        await p.send({"type": "state", "state": {"x": "a" * 1016}})
        q = await self.connect()
        w = await q.join("too-large")
        self.assertEqual(w["peers"][0]["state"], {"x": "a" * 1016})
        await p.recv()  # q's peer-joined
        await p.ping()


@needs_websockets
class Drops(SigCase):
    """Connections that end without a close handshake: the peer leaves
    (peer-left), the daemon lets go of the connection and goes idle.  A
    daemon for each test: a connection that is never let go of keeps it
    busy."""

    PER_TEST = True
    CONF = {}

    async def check_gone(self, a, raw_id):
        self.assertEqual(await a.recv(), {"type": "peer-left",
                                          "id": raw_id})
        await a.ping()
        await asyncio.to_thread(self.wait_ws_connections, 1)
        await asyncio.to_thread(self.assert_idle)

    @asynctest
    async def test_tcp_fin_without_close_frame(self):
        a = await self.joined("drop", "alice")
        raw = self.raw_joined("drop", "raw")
        self.assertEqual((await a.recv())["id"], raw.id)
        raw.close()  # no close frame, just the TCP FIN
        await self.check_gone(a, raw.id)

    @asynctest
    async def test_tcp_reset(self):
        a = await self.joined("drop", "alice")
        raw = self.raw_joined("drop", "raw")
        self.assertEqual((await a.recv())["id"], raw.id)
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
        raw.close()  # RST
        await self.check_gone(a, raw.id)

    @asynctest
    async def test_fin_instead_of_close_reply(self):
        """The server closes (1003), the client hangs up without
        answering the close frame."""
        a = await self.joined("drop", "alice")
        raw = self.raw_joined("drop", "raw")
        self.assertEqual((await a.recv())["id"], raw.id)
        raw.send_frame(wc.BINARY, b"\x00")
        self.assertEqual(raw.recv_message(),
                         (wc.CLOSE, b"\x03\xebtext messages only"))
        raw.close()
        await self.check_gone(a, raw.id)

    @asynctest
    async def test_frames_after_a_failing_frame(self):
        """A client that sends on after a frame that fails the connection
        (invalid UTF-8, then 8 kB more: more than wslay reads at once)."""
        a = await self.joined("drop", "alice")
        raw = self.raw_joined("drop", "raw")
        self.assertEqual((await a.recv())["id"], raw.id)
        raw.send_raw(wc.frame(wc.TEXT, b"\xc3\x28")
                     + wc.frame(wc.TEXT, json.dumps({"type": "chat",
                                                    "text": "x" * 8000})))
        code, _ = await asyncio.to_thread(raw.expect_close)
        self.assertEqual(code, 1007)
        await self.check_gone(a, raw.id)

    def test_idle_connections_cost_no_cpu(self):
        """The control for the tests above: connections that stay, and
        one that ends with a close handshake, leave the daemon idle."""
        raws = [self.raw_joined("idle") for _ in range(3)]
        raws[0].shutdown()
        self.wait_ws_connections(2)
        self.assert_idle()


@needs_websockets
class RoomFull(SigCase):
    """signaling.max_peers_per_room = 2, and the relay policy."""

    CONF = {"turn": wc.turn_on(),
            "signaling": {"max_peers_per_room": 2,
                          "ice_transport_policy": "relay"}}

    @asynctest
    async def test_room_full(self):
        a = await self.joined("full", "a")
        b = await self.joined("full", "b")
        self.check_welcome(b.welcome, "full", policy="relay")
        await a.recv()
        c = await self.connect()
        await c.send({"type": "join", "room": "full", "name": "c"})
        await c.expect_error("room-full")
        await self.all_silent(a, b, c)
        # Still connected, not in a room: another room takes c.
        w = await c.join("not-full")
        self.check_welcome(w, "not-full", policy="relay")
        # A place freed is a place taken.
        await b.send({"type": "leave"})
        await a.expect("peer-left")
        d = await self.connect()
        w = await d.join("full")
        self.assertEqual([p["id"] for p in w["peers"]], [a.id])


@needs_websockets
class RateLimit(SigCase):
    """signaling.rate = 2, burst = 2, abuse_limit = 3."""

    CONF = {"signaling": {"rate": 2, "burst": 2, "abuse_limit": 3}}

    def pings_one_by_one(self, c, n):
        """Send n protocol pings, each after the answer to the last; the
        answers' types or error codes, then what ended the connection."""
        got = []
        for _ in range(n):
            c.send_json({"type": "ping"})
            m = c.recv_message()
            if m is None or m[0] != wc.TEXT:
                got.append(m)
                break
            msg = json.loads(m[1])
            got.append(msg.get("code", msg["type"]))
        return got

    def test_rate_limited_then_closed_1008(self):
        c = self.raw()
        q = self.raw()
        got = self.pings_one_by_one(c, 4)
        self.assertEqual(got, ["pong", "pong", "rate-limited",
                               "rate-limited"])
        c.send_json({"type": "ping"})  # the third in a row
        code, reason = c.expect_close()
        self.assertEqual((code, reason), (1008, "rate limit"))
        self.wait_ws_connections(1)
        q.send_json({"type": "ping"})
        self.assertEqual(q.recv_json(), {"type": "pong"})

    def test_last_error_sent_before_close(self):
        c = self.raw()
        got = self.pings_one_by_one(c, 5)
        self.assertEqual(got, ["pong", "pong", "rate-limited",
                               "rate-limited", "rate-limited"])
        self.assertEqual(c.expect_close(), (1008, "rate limit"))

    @asynctest
    async def test_rate_recovers_and_only_a_row_closes(self):
        p = await self.connect()
        for _ in range(4):
            await p.send({"type": "ping"})
        await p.expect("pong")
        await p.expect("pong")
        await p.expect_error("rate-limited")
        await p.expect_error("rate-limited")
        await asyncio.sleep(1.1)  # 2 tokens back at 2 a second
        await p.ping()
        await p.ping()
        await p.send({"type": "ping"})
        await p.expect_error("rate-limited")
        await asyncio.sleep(0.6)
        await p.ping()  # three limited, but not in a row: still open
        # Bad messages count too.
        await asyncio.sleep(1.1)
        await p.send("{")
        await p.send("{")
        await p.send("{")
        await p.expect_error("bad-json")
        await p.expect_error("bad-json")
        await p.expect_error("rate-limited")


@needs_websockets
class Tokens(SigCase):
    """signaling.token_secret set: joins need a token for the room."""

    SECRET = "t0ken-secret"
    CONF = {"signaling": {"token_secret": SECRET}}

    def mint_cli(self, room, ttl=60):
        r = tp.run(["-c", self.daemon.conf_path, "--mint-token", room,
                    "--ttl", str(ttl)])
        self.assertEqual(r.returncode, 0, r.stderr)
        token = r.stdout.strip()
        self.assertRegex(token, r"^\d+:[A-Za-z0-9_-]{43}$")
        self.assertAlmostEqual(int(token.split(":")[0]), time.time() + ttl,
                               delta=5)
        return token

    def mint(self, room, expiry, secret=SECRET):
        """A token made here: "<expiry>:" + base64url(HMAC-SHA256(secret,
        "<room>:<expiry>")) without padding (turnpike-signaling(7))."""
        mac = hmac.new(secret.encode(), ("%s:%d" % (room, expiry)).encode(),
                       hashlib.sha256).digest()
        return "%d:%s" % (expiry,
                          base64.urlsafe_b64encode(mac).decode().rstrip("="))

    @asynctest
    async def test_tokens(self):
        p = await self.connect()
        now = int(time.time())
        good = self.mint_cli("tok-room")
        bad = [None, "", 5, "abc", good + "x", good[:-1],
               "%d:%s" % (now + 60, "A" * 43),
               self.mint("tok-room", now - 5),  # expired
               self.mint("tok-room", now + 60, secret="other"),
               self.mint_cli("tok-other"),  # another room's
               self.mint("tok-room", now + 60).replace(":", "x:", 1),
               "-1:" + self.mint("tok-room", now + 60).split(":")[1]]
        for token in bad:
            msg = {"type": "join", "room": "tok-room"}
            if token is not None:
                msg["token"] = token
            await p.send(msg)
            await p.expect_error("forbidden")
        w = await p.join("tok-room", token=good)
        self.assertEqual(w["room"], "tok-room")
        # Ours, made from the documented format, is as good.
        q = await self.connect()
        await q.join("tok-room", token=self.mint("tok-room", now + 30))
        # The same token joins again (it is a capability, not a nonce).
        r = await self.connect()
        await r.join("tok-room", token=good)
        # A bad room name is bad-room before the token is looked at.
        await r.send({"type": "ping"})
        await r.expect("pong")
        s = await self.connect()
        await s.send({"type": "join", "room": "a b", "token": good})
        await s.expect_error("bad-room")

    def test_mint_token_cli_errors(self):
        r = tp.run(["-c", self.daemon.conf_path, "--mint-token", "a b"])
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "")
        # No signaling.token_secret: nothing to mint with.
        path = os.path.join(tp.make_tempdir(), "turnpike.conf")
        self.addCleanup(lambda: os.unlink(path) or os.rmdir(
            os.path.dirname(path)))
        tp.write_file(path, tp.render_conf(tp.base_conf()))
        r = tp.run(["-c", path, "--mint-token", "room"])
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertIn("token_secret", r.stderr)


class CloseCodes(SigCase):
    """Frames that end a connection, with signaling.max_message_size =
    4096: the right close code, the connection let go of, and the daemon
    serving a bystander and newcomers after each.  A daemon per test, so
    that one that keeps a connection does not spoil the next test."""

    PER_TEST = True
    CONF = {"signaling": {"max_message_size": 4096}}

    @classmethod
    def setUpClass(cls):
        pass  # no websockets needed

    def setUp(self):
        super().setUp()
        self.bystander = self.raw_joined("by")

    def assert_serving(self):
        """The long-lived bystander and a newcomer both still talk."""
        self.bystander.send_json({"type": "ping"})
        self.assertEqual(self.bystander.recv_json(), {"type": "pong"})
        c = self.raw_joined("fresh")
        c.send_json({"type": "chat", "text": "still here"})
        self.assertEqual(c.recv_json()["text"], "still here")
        c.shutdown()

    def closed_with(self, c, code):
        got, _ = c.expect_close()
        self.assertEqual(got, code)
        self.assert_serving()
        self.wait_ws_connections(1)  # the bystander only

    def test_too_big_1009(self):
        c = self.raw_joined("big")
        # 4096 bytes is the most: a chat padded to exactly that passes.
        head = '{"type":"chat","text":"'
        text = "a" * (4096 - len(head) - 2)
        c.send_text(head + text + '"}')
        self.assertEqual(c.recv_json()["text"], text)
        c.send_text(head + text + 'a"}')
        self.closed_with(c, 1009)

    def test_too_big_in_fragments_1009(self):
        c = self.raw()
        c.send_frame(wc.TEXT, '{"type":"ping","x":"' + "a" * 3000, fin=False)
        c.send_frame(wc.CONT, "a" * 3000 + '"}')
        self.closed_with(c, 1009)

    def test_too_big_by_length_field_1009(self):
        """A frame that announces 1 TiB is refused on its first bytes: no
        waiting for (or buffering of) the rest."""
        c = self.raw()
        c.send_raw(wc.frame(wc.TEXT, b"", length=1 << 40)[:14] + b"abcd")
        self.closed_with(c, 1009)

    def test_invalid_utf8_1007(self):
        c = self.raw()
        c.send_frame(wc.TEXT, b"\xc3\x28")
        self.closed_with(c, 1007)

    def test_invalid_utf8_variants_1007(self):
        for bad in (b'{"type":"ping","x":"\xed\xa0\x80"}',  # surrogate
                    b'{"type":"ping","x":"\xc0\xaf"}',  # overlong
                    b'{"type":"ping","x":"\xf4\x90\x80\x80"}',  # > U+10FFFF
                    b'{"type":"ping"}\xe2\x82'):  # truncated at the end
            c = self.raw()
            c.send_frame(wc.TEXT, bad)
            got, _ = c.expect_close()
            self.assertEqual(got, 1007, bad)
        self.assert_serving()

    def test_utf8_split_across_fragments_is_fine(self):
        c = self.raw()
        c.send_frame(wc.TEXT, b'{"type":"ping","x":"\xc3', fin=False)
        c.send_frame(wc.CONT, b'\xa9\xf0\x9f', fin=False)
        c.send_frame(wc.CONT, b'\x8c\x8d"}')
        self.assertEqual(c.recv_json(), {"type": "pong"})
        # A ping between fragments is answered (RFC 6455 section 5.4).
        c.send_frame(wc.TEXT, b'{"type":', fin=False)
        c.send_frame(wc.PING, b"mid")
        self.assertEqual(c.recv_frame(), (True, wc.PONG, b"mid"))
        c.send_frame(wc.CONT, b'"ping"}')
        self.assertEqual(c.recv_json(), {"type": "pong"})

    def test_binary_1003(self):
        c = self.raw_joined("bin")
        c.send_frame(wc.BINARY, json.dumps({"type": "ping"}).encode())
        self.closed_with(c, 1003)

    def test_unmasked_1002(self):
        c = self.raw()
        c.send_frame(wc.TEXT, '{"type":"ping"}', mask=False)
        self.closed_with(c, 1002)

    def test_protocol_errors_1002(self):
        cases = [
            wc.frame(wc.TEXT, '{"type":"ping"}', rsv=4),  # RSV1, no ext
            wc.frame(0x3, b"x"),  # reserved data opcode
            wc.frame(0xB, b"x"),  # reserved control opcode
            wc.frame(wc.CONT, b"x"),  # continuation of nothing
            wc.frame(wc.TEXT, b"{", fin=False) + wc.frame(wc.TEXT, b"}"),
            wc.frame(wc.CLOSE, b"\x03\xed"),  # 1005 may not be sent
            wc.frame(wc.CLOSE, b"\x03\xe7"),  # 999 is no close code
        ]
        for data in cases:
            c = self.raw()
            c.send_raw(data)
            got, _ = c.expect_close()
            self.assertEqual(got, 1002, data[:20])
        self.assert_serving()
        self.wait_ws_connections(1)

    def test_bad_control_frames_fail_the_connection(self):
        """wslay's frame layer refuses these before the event layer sees
        them: the connection ends without a close frame (RFC 6455 section
        7.1.7 says SHOULD send 1002; accepted here as it stands)."""
        for data in (wc.frame(wc.PING, b"x", fin=False),  # fragmented
                     wc.frame(wc.PING, b"x" * 126)):  # payload > 125
            c = self.raw()
            c.send_raw(data)
            try:
                m = c.recv_message()
            except wc.Closed:
                m = None
            if m is not None:
                self.assertEqual(m[0], wc.CLOSE, m)
                self.assertEqual(m[1][:2], b"\x03\xea")
            c.expect_eof()
        self.assert_serving()
        self.wait_ws_connections(1)

    def test_close_reason_invalid_utf8_1007(self):
        c = self.raw()
        c.send_frame(wc.CLOSE, b"\x03\xe8\xc3\x28")
        self.closed_with(c, 1007)

    def test_close_handshake_echoed(self):
        c = self.raw()
        c.send_close(4000, b"done")
        got, reason = c.expect_close()
        self.assertEqual(got, 4000)
        self.assert_serving()

    def test_ping_answered_with_same_payload(self):
        c = self.raw()
        c.send_frame(wc.PING, b"\x00payload\xff")
        self.assertEqual(c.recv_frame(), (True, wc.PONG, b"\x00payload\xff"))
        # An unsolicited pong is ignored.
        c.send_frame(wc.PONG, b"x")
        c.send_json({"type": "ping"})
        self.assertEqual(c.recv_json(), {"type": "pong"})


@needs_websockets
class Handshake(SigCase):
    """RFC 6455 section 4.2.1 checks, with the default allowed_origins
    (the server's own host only)."""

    CONF = {}

    def upgrade(self, **kw):
        resp, sock, rest = wc.upgrade(self.daemon,
                                      headers=wc.handshake_headers(
                                          self.daemon, **kw))
        if resp.status == 101:
            wc.RawWebSocket(sock, rest).shutdown()
        else:
            sock.close()
        return resp

    def test_version_426(self):
        for version in ("8", "14", "13, 8", "", None):
            resp = self.upgrade(version=version)
            self.assertEqual(resp.status, 426, (version, resp))
            self.assertEqual(resp.header("sec-websocket-version"), "13")

    def test_bad_key_400(self):
        for key in ("abc", "A" * 24, base64.b64encode(b"x" * 15).decode(),
                    base64.b64encode(b"x" * 17).decode(),
                    base64.b64encode(b"x" * 16).decode()[:-2] + "!="):
            resp = self.upgrade(key=key)
            self.assertEqual(resp.status, 400, (key, resp))
        resp = self.upgrade(extra={"Sec-WebSocket-Key": None})
        self.assertEqual(resp.status, 400, resp)

    def test_not_an_upgrade_400(self):
        for extra in ({"Upgrade": None}, {"Upgrade": "h2c"},
                      {"Connection": "keep-alive"},
                      {"Connection": None}):
            resp = self.upgrade(extra=extra)
            self.assertEqual(resp.status, 400, (extra, resp))
        # Tokens in lists and in any case are understood.
        c = wc.RawWebSocket.connect(self.daemon, headers=wc.handshake_headers(
            self.daemon, extra={"Upgrade": "WebSocket",
                                "Connection": "keep-alive, Upgrade"}))
        c.send_json({"type": "ping"})
        self.assertEqual(c.recv_json(), {"type": "pong"})
        c.shutdown()

    def test_accept_header(self):
        key = wc.ws_key()
        resp = self.upgrade(key=key)
        self.assertEqual(resp.status, 101, resp)
        self.assertEqual(resp.header("sec-websocket-accept"),
                         wc.ws_accept(key))
        self.assertEqual(resp.header("upgrade").lower(), "websocket")
        self.assertIn("upgrade", resp.header("connection").lower())
        # RFC 6455 section 1.3's own example.
        self.assertEqual(wc.ws_accept("dGhlIHNhbXBsZSBub25jZQ=="),
                         "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    def test_bad_origin_403(self):
        for origin in ("http://evil.example", "null",
                       "http://127.0.0.1:1", "http://127.0.0.1",
                       "http://%s.evil.example" % self.daemon.host,
                       "http://127.0.0.1:%d.evil" % self.daemon.port):
            resp = self.upgrade(origin=origin)
            self.assertEqual(resp.status, 403, (origin, resp))

    @asynctest
    async def test_own_origin_and_no_origin_work(self):
        a = await self.connect(origin=self.daemon.origin)
        await a.join("origin", "a")
        b = await self.connect()  # not a browser: no Origin at all
        await b.join("origin", "b")
        await a.expect("peer-joined")
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            await self.connect(origin="http://evil.example")
        self.assertEqual(cm.exception.status_code, 403)

    def test_bad_host_400(self):
        for host in ("a_b", "ex ample", "[::1", "evil\"x", "a/b"):
            resp = self.upgrade(extra={"Host": host})
            self.assertEqual(resp.status, 400, (host, resp))

    def test_only_get(self):
        resp = wc.http_request(self.daemon, "/ws", "POST",
                               wc.handshake_headers(self.daemon))
        self.assertEqual(resp.status, 405)
        resp = wc.http_request(self.daemon, "/ws", "HEAD",
                               wc.handshake_headers(self.daemon))
        self.assertEqual(resp.status, 400)


@needs_websockets
class AllowedOrigins(SigCase):
    """http.allowed_origins = ["http://app.example"]."""

    CONF = {"http": {"allowed_origins": ["http://app.example"]}}

    @asynctest
    async def test_listed_origin_only(self):
        a = await self.connect(origin="http://app.example")
        await a.join("o")
        b = await self.connect()
        await b.join("o")
        for origin in (self.daemon.origin, "http://evil.example",
                       "https://app.example", "http://app.example:80"):
            with self.assertRaises(
                    websockets.exceptions.InvalidStatusCode) as cm:
                await self.connect(origin=origin)
            self.assertEqual(cm.exception.status_code, 403, origin)
        await a.expect("peer-joined")


@needs_websockets
class MaxConnections(SigCase):
    """signaling.max_connections = 3: the 4th upgrade gets 503."""

    CONF = {"signaling": {"max_connections": 3}}

    @asynctest
    async def test_fourth_gets_503(self):
        peers = [await self.connect() for _ in range(3)]
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            await self.connect()
        self.assertEqual(cm.exception.status_code, 503)
        # Plain HTTP is not a WebSocket: still served.
        resp = await asyncio.to_thread(wc.http_request, self.daemon,
                                       "/healthz")
        self.assertEqual(resp.status, 200)
        await peers[0].ws.close()
        deadline = time.monotonic() + tp.timeout(3)
        while True:
            try:
                p = await self.connect()
                break
            except websockets.exceptions.InvalidStatusCode as e:
                self.assertEqual(e.status_code, 503)
                if time.monotonic() > deadline:
                    self.fail("a closed connection's place was not freed")
                await asyncio.sleep(0.05)
        await p.ping()
        for q in peers[1:]:
            await q.ping()


@needs_websockets
class Pings(SigCase):
    """The server answers WebSocket pings, as RFC 6455 section 5.5.2
    wants, and protocol pings."""

    CONF = {}

    @asynctest
    async def test_ping_pong(self):
        p = await self.connect()
        for payload in (b"", b"abc", bytes(range(125))):
            waiter = await p.ws.ping(payload)
            await asyncio.wait_for(waiter, tp.timeout(2))
        await p.ping()
        await p.silent()


@needs_websockets
class SlowConsumer(SigCase):
    """signaling.send_queue = 64 KiB: a client that never reads is
    dropped while a flooder keeps working, and memory stays bounded.

    The flooder sends chats in bursts of BURST and waits for its own
    echoes, and for the watcher to get them, before the next: both read
    as fast as the flooder writes, so their queues stay under the bound
    (a client that sends 16 chats of 4 kB in one burst is over 64 KiB of
    echoes before the daemon writes any, and is dropped itself; so is a
    watcher left to fall behind on a busy machine).
    """

    CONF = {"signaling": {"send_queue": 65536, "rate": 100000,
                          "burst": 100000}}
    BURST = 8
    TEXT = "x" * 4000
    # The most chats toward the slow one before it must be gone: the
    # kernel's socket buffers (a few MB on loopback) plus 64 KiB.
    MAX_CHATS = 4000

    async def flood(self, d, a, b, slow, got, left, echoes, tasks):
        """a floods until b (and a) see slow leave; then a and b still
        talk."""
        rss0 = d.rss_kb()
        sent = 0
        while not left[b].is_set():
            self.assertLess(sent, self.MAX_CHATS, "the slow consumer is "
                            "still there after %d chats of 4 kB" % sent)
            for _ in range(self.BURST):
                await a.send({"type": "chat", "text": self.TEXT})
            sent += self.BURST
            deadline = time.monotonic() + tp.timeout(5)
            while echoes() < sent and not any(t.done() for t in tasks):
                self.assertLess(time.monotonic(), deadline,
                                "the flooder's chats stopped reaching it "
                                "or the watcher (%d of %d)"
                                % (echoes(), sent))
                await asyncio.sleep(0.001)
            for t in tasks:
                if t.done():
                    t.result()  # the flooder or watcher was closed: raise
        rss1 = d.rss_kb()
        await asyncio.wait_for(left[a].wait(), tp.timeout(2))
        print("\nslow consumer: dropped after %d chats of 4 kB; daemon "
              "RSS %d -> %d kB" % (sent, rss0, rss1), file=sys.stderr)
        self.assertLess(rss1 - rss0, 16 * 1024)
        # Its connection is gone: what it did not read, then the end.
        await asyncio.to_thread(slow.expect_eof, 10)
        # The flooder and the watcher keep working.
        n = len(got[b])
        await a.send({"type": "chat", "text": "after"})
        deadline = time.monotonic() + tp.timeout(5)
        while not any(m.get("text") == "after" for m in got[b][n:]):
            self.assertLess(time.monotonic(), deadline)
            await asyncio.sleep(0.01)

    @tp.skip_if_wrapped("bounds on the chats sent and the daemon's memory")
    @asynctest
    async def test_slow_consumer_dropped(self):
        d = self.daemon
        slow = self.raw_joined("flood", "slow", rcvbuf=4096)
        a = await self.joined("flood", "flooder")
        b = await self.joined("flood", "watcher")
        got = {a: [], b: []}
        left = {a: asyncio.Event(), b: asyncio.Event()}
        chats = {a: 0, b: 0}

        async def reader(p):
            while True:
                m = json.loads(await p.ws.recv())
                got[p].append(m)
                if m == {"type": "peer-left", "id": slow.id}:
                    left[p].set()
                if m.get("type") == "chat":
                    chats[p] += 1
        tasks = [asyncio.create_task(reader(p)) for p in (a, b)]
        try:
            await self.flood(d, a, b, slow, got, left,
                             lambda: min(chats.values()), tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await a.ping()
        await b.ping()
        c = await self.connect()
        w = await c.join("flood")
        self.assertEqual([p["name"] for p in w["peers"]],
                         ["flooder", "watcher"])
        await asyncio.to_thread(self.wait_ws_connections, 3)
        await asyncio.to_thread(self.assert_idle)


@needs_websockets
class Scale(SigCase):
    """1000 WebSocket connections in 100 rooms of 10, held at once."""

    CONF = {"signaling": {"max_peers_per_room": 10}}
    N, PER_ROOM = 1000, 10

    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 2200:
            self.skipTest("RLIMIT_NOFILE hard limit %d < 2200" % hard)
        if soft != resource.RLIM_INFINITY and soft < 2200:
            want = 65536 if hard == resource.RLIM_INFINITY else hard
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    def gauges(self):
        want = ("turnpike_signaling_connections", "turnpike_signaling_peers",
                "turnpike_signaling_rooms", "turnpike_ws_connections")
        return {n: v for n, lab, v in wc.metric_samples(self.daemon)
                if n in want}

    @asynctest
    async def test_thousand_connections(self):
        d = self.daemon
        rss0 = d.rss_kb()
        started = time.monotonic()
        sem = asyncio.Semaphore(100)

        async def one(i):
            async with sem:
                p = await self.connect()
                w = await p.join("scale-%03d" % (i // self.PER_ROOM),
                                 "peer %d" % i)
                return p, w
        results = await asyncio.gather(*(one(i) for i in range(self.N)))
        took = time.monotonic() - started
        rss1 = d.rss_kb()
        ids = {w["id"] for _, w in results}
        self.assertEqual(len(ids), self.N)
        # The daemon serialises the joins of a room: the welcomes list 0,
        # 1, ... 9 peers already there.
        for r in range(self.N // self.PER_ROOM):
            counts = sorted(len(w["peers"]) for _, w in
                            results[r * self.PER_ROOM:(r + 1) *
                                    self.PER_ROOM])
            self.assertEqual(counts, list(range(self.PER_ROOM)))
        resp = await asyncio.to_thread(wc.http_request, d, "/healthz")
        self.assertEqual((resp.status, resp.body), (200, b"ok\n"))
        g = await asyncio.to_thread(self.gauges)
        self.assertEqual(g, {"turnpike_signaling_connections": self.N,
                             "turnpike_signaling_peers": self.N,
                             "turnpike_signaling_rooms": self.N //
                             self.PER_ROOM,
                             "turnpike_ws_connections": self.N})
        # Everyone still talks: the last of each room chats.
        for r in range(0, self.N, self.PER_ROOM * 10):
            p = results[r + self.PER_ROOM - 1][0]
            await p.send({"type": "chat", "text": "hi"})
            self.assertEqual((await p.expect("chat"))["text"], "hi")
        print("\nscale: %d connections joined in %.1f s; daemon RSS %d -> "
              "%d kB, %.1f kB per connection"
              % (self.N, took, rss0, rss1, (rss1 - rss0) / self.N),
              file=sys.stderr)
        await close_all([p.ws for p, _ in results])
        self.opened = []
        deadline = time.monotonic() + tp.timeout(10)
        while True:
            g = await asyncio.to_thread(self.gauges)
            if not any(g.values()):
                break
            self.assertLess(time.monotonic(), deadline,
                            "gauges after closing everything: %r" % g)
            await asyncio.sleep(0.1)


# -- keepalive, watched in the background during the other tests --------

KEEPALIVE = {}


def keepalive_watch(state):
    c, stop = state["client"], state["stop"]
    try:
        while not stop.is_set():
            m = c.recv_message(0.2)
            if m is not None:
                state["messages"].append(m)
    except Exception as e:  # noqa: B902 (reported by the test)
        state["error"] = e


def setUpModule():
    if websockets is None:
        return
    d = wc.HttpDaemon({}).__enter__()
    KEEPALIVE["daemon"] = d
    KEEPALIVE["started"] = time.monotonic()
    try:
        c = wc.RawWebSocket.connect(d)
        c.send_json({"type": "join", "room": "keepalive"})
        assert c.recv_json()["type"] == "welcome"
    except BaseException:
        tearDownModule()
        raise
    KEEPALIVE.update(client=c, stop=threading.Event(), messages=[],
                     error=None)
    KEEPALIVE["thread"] = threading.Thread(target=keepalive_watch,
                                           args=(KEEPALIVE,), daemon=True)
    KEEPALIVE["thread"].start()


def tearDownModule():
    if "thread" in KEEPALIVE:
        KEEPALIVE["stop"].set()
        KEEPALIVE["thread"].join()
    if "client" in KEEPALIVE:
        KEEPALIVE["client"].shutdown()
    d = KEEPALIVE.pop("daemon", None)
    if d is not None:
        d.__exit__(None, None, None)
        d.check_log()


@needs_websockets
class Keepalive(unittest.TestCase):
    """Run last: a client that answers pings, connected since the module
    started, got the server's ping at 20 s and is still connected."""

    @tp.skip_if_wrapped("the 20 s keepalive is not slowed down with "
                        "TP_TIMEOUT_SCALE")
    def test_ping_at_20s_and_still_connected(self):
        st = KEEPALIVE
        # The daemon pings at 20 s whatever TP_TIMEOUT_SCALE is; only
        # the slack after it grows, and stays under the next at 40 s.
        wait = (st["started"] + 20 + min(tp.timeout(2), 15)
                - time.monotonic())
        if wait > 0:
            time.sleep(wait)
        st["stop"].set()
        st["thread"].join()
        self.assertIsNone(st["error"])
        self.assertEqual(st["messages"], [])
        c = st["client"]
        self.assertTrue(c.pings, "no ping from the server in 22 s")
        first = c.pings[0] - st["started"]
        self.assertTrue(19 <= first <= 20 + min(tp.timeout(1.5), 14),
                        "first ping after %.1f s, not 20" % first)
        self.assertEqual(len(c.pings), 1)
        c.send_json({"type": "ping"})
        self.assertEqual(c.recv_json(), {"type": "pong"})


def load_tests(loader, tests, pattern):
    """Keepalive last, so that its wait overlaps the other tests."""
    suite = unittest.TestSuite()
    last = unittest.TestSuite()
    for group in tests:
        for case in group:
            (last if isinstance(case, Keepalive) else suite).addTest(case)
    suite.addTests(last)
    return suite


if __name__ == "__main__":
    tp.main()
