#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""turnpiked's HTTP side, apart from the WebSocket (test_signaling.py):
/api/ice-servers and /api/turn (whose credentials must work on the
daemon's own TURN, driven by turnclient.py), the API key and Origin
checks, /metrics as Prometheus' own parser reads it (python3-prometheus-
client), /healthz, and the static files of http.webroot, which must
never be served from outside it.
"""

import base64
import hashlib
import hmac
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stunclient as sc  # noqa: E402
import tp  # noqa: E402
import turnclient as tc  # noqa: E402
import wsclient as wc  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover
    text_string_to_metric_families = None

CREDENTIAL_TTL = 86400  # signaling.credential_ttl's default
JSON_TYPE = "application/json"


class HttpCase(unittest.TestCase):
    """One daemon per class (CONF over base_conf, wsclient.HttpDaemon's
    listeners); prepare(daemon) may fill the webroot before it starts;
    its log is checked when the class is done."""

    CONF = {}
    daemon = None

    @classmethod
    def prepare(cls, daemon):
        pass

    @classmethod
    def setUpClass(cls):
        d = wc.HttpDaemon(cls.CONF)
        try:
            cls.prepare(d)
        except BaseException:
            d.cleanup()
            raise
        cls.daemon = d.__enter__()

    @classmethod
    def tearDownClass(cls):
        d = cls.daemon
        if d is not None:
            d.__exit__(None, None, None)
            d.check_log(wc.ALLOWED_LOG)

    def get(self, path, headers=None, method="GET"):
        return wc.http_request(self.daemon, path, method, headers)

    def assert_json(self, resp, status):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.header("content-type"), JSON_TYPE)
        self.assertEqual(resp.header("cache-control"), "no-store")
        return resp.json()

    def assert_allocates(self, username, password):
        """The credentials allocate on the daemon's own TURN (UDP)."""
        c = tc.Client(self.daemon.addr(), username, password,
                      timeout=tp.timeout(2))
        try:
            ans = c.allocate()
            self.assertEqual((ans.method, ans.cls),
                             (tc.ALLOCATE, sc.SUCCESS), tc.describe(ans))
            self.assertEqual(tc.relayed_address(ans)[0], "127.0.0.1")
        finally:
            c.close()

    def assert_refused_by_turn(self, username, password):
        c = tc.Client(self.daemon.addr(), username, password,
                      timeout=tp.timeout(2))
        try:
            ans = c.allocate()
            self.assertEqual((ans.cls, tc.code(ans)), (sc.ERROR, 401),
                             tc.describe(ans))
        finally:
            c.close()


def rest_password(secret, username):
    """TURN REST: base64(HMAC-SHA1(secret, username))."""
    return base64.b64encode(hmac.new(secret.encode(), username.encode(),
                                     hashlib.sha1).digest()).decode()


class IceServers(HttpCase):
    """/api/ice-servers and /api/turn with TURN on (turn.secrets =
    [wsclient.TURN_SECRET]) and the default allowed_origins."""

    CONF = {"turn": wc.turn_on()}

    def check_config(self, cfg):
        port = self.daemon.port
        self.assertEqual(set(cfg), {"iceServers", "iceTransportPolicy"})
        self.assertEqual(cfg["iceTransportPolicy"], "all")
        stun, turn = cfg["iceServers"]
        self.assertEqual(stun, {"urls": ["stun:127.0.0.1:%d" % port]})
        self.assertEqual(set(turn), {"urls", "username", "credential"})
        self.assertEqual(turn["urls"], ["turn:127.0.0.1:%d?transport=udp"
                                        % port])
        m = re.match(r"^(\d+):([0-9a-f]{16})$", turn["username"])
        self.assertIsNotNone(m, turn["username"])
        self.assertAlmostEqual(int(m.group(1)), time.time() + CREDENTIAL_TTL,
                               delta=10)
        self.assertEqual(turn["credential"],
                         rest_password(wc.TURN_SECRET, turn["username"]))
        return turn

    def test_ice_servers(self):
        resp = self.get("/api/ice-servers")
        turn = self.check_config(self.assert_json(resp, 200))
        self.assertEqual(resp.header("x-content-type-options"), "nosniff")
        self.assert_allocates(turn["username"], turn["credential"])
        # Each call mints a fresh user.
        again = self.check_config(self.get("/api/ice-servers").json())
        self.assertNotEqual(again["username"], turn["username"])
        # A changed credential is refused by the TURN server: the check
        # above is not vacuous.
        self.assert_refused_by_turn(turn["username"],
                                    rest_password("other", turn["username"]))

    def test_origins(self):
        own = self.get("/api/ice-servers", {"Origin": self.daemon.origin})
        self.check_config(self.assert_json(own, 200))
        for origin in ("http://evil.example", "null",
                       "http://127.0.0.1:1"):
            for path in ("/api/ice-servers", "/api/turn?service=turn"):
                resp = self.get(path, {"Origin": origin})
                self.assertEqual(self.assert_json(resp, 403),
                                 {"error": "origin not allowed"})

    def test_head(self):
        resp = self.get("/api/ice-servers", method="HEAD")
        self.assertEqual((resp.status, resp.body), (200, b""))
        self.assertEqual(resp.header("content-type"), JSON_TYPE)

    def test_bad_host_400(self):
        for host in ("a_b", "ex ample", "[::1", "a/b:80"):
            for path in ("/api/ice-servers", "/api/turn"):
                resp = self.get(path, {"Host": host})
                self.assertEqual(self.assert_json(resp, 400),
                                 {"error": "bad Host header"}, host)
        # An IPv6 literal and a name are fine, and go into the URLs.
        for host, want in (("[::1]:%d" % self.daemon.port, "[::1]"),
                           ("turn.example.net", "turn.example.net")):
            cfg = self.assert_json(self.get("/api/ice-servers",
                                            {"Host": host}), 200)
            self.assertEqual(cfg["iceServers"][0]["urls"],
                             ["stun:%s:%d" % (want, self.daemon.port)])

    def test_turn_rest_api(self):
        port = self.daemon.port
        resp = self.get("/api/turn?service=turn&username=bob")
        body = self.assert_json(resp, 200)
        self.assertEqual(set(body), {"username", "password", "ttl", "uris"})
        expiry, _, user = body["username"].partition(":")
        self.assertEqual(user, "bob")
        self.assertAlmostEqual(int(expiry), time.time() + CREDENTIAL_TTL,
                               delta=10)
        self.assertEqual(body["ttl"], CREDENTIAL_TTL)
        self.assertEqual(body["uris"], ["turn:127.0.0.1:%d?transport=udp"
                                        % port])
        self.assertEqual(body["password"],
                         rest_password(wc.TURN_SECRET, body["username"]))
        self.assert_allocates(body["username"], body["password"])
        # No service and no username: a random user.
        body = self.assert_json(self.get("/api/turn"), 200)
        self.assertRegex(body["username"], r"^\d+:[0-9a-f]{16}$")
        # 64 characters of user name is the most.
        body = self.assert_json(self.get("/api/turn?username=" + "u" * 64),
                                200)
        self.assertTrue(body["username"].endswith(":" + "u" * 64))

    def test_turn_rest_api_refusals(self):
        for query, msg in (("service=other", "service must be turn"),
                           ("service=", "service must be turn"),
                           ("service=TURN", "service must be turn"),
                           ("username=", "bad username"),
                           ("username=" + "u" * 65, "bad username"),
                           ("username=a:b", "bad username"),
                           ("username=a%22b", "bad username"),
                           ("username=a%5cb", "bad username")):
            resp = self.get("/api/turn?" + query)
            self.assertEqual(self.assert_json(resp, 400), {"error": msg},
                             query)


class ApiKey(HttpCase):
    """http.api_key set: /api/* needs it; http.public_host goes into the
    URLs."""

    KEY = "k3y-0f-the-api"
    CONF = {"turn": wc.turn_on(),
            "http": {"api_key": KEY, "public_host": "turn.example.net"}}

    def test_key_required(self):
        for path in ("/api/ice-servers", "/api/turn?service=turn"):
            sep = "&" if "?" in path else "?"
            for headers, query in (({}, ""),
                                   ({}, sep + "key="),
                                   ({}, sep + "key=" + self.KEY + "x"),
                                   ({}, sep + "key=" + self.KEY[:-1]),
                                   ({"Authorization": "Bearer"}, ""),
                                   ({"Authorization": "Bearer "}, ""),
                                   ({"Authorization": "Basic " + self.KEY},
                                    ""),
                                   ({"Authorization": self.KEY}, ""),
                                   ({"Authorization": "Bearer  " + self.KEY},
                                    "")):
                resp = self.get(path + query, headers)
                self.assertEqual(self.assert_json(resp, 401),
                                 {"error": "api key required"},
                                 (path, headers, query))
            for headers, query in (({}, sep + "key=" + self.KEY),
                                   ({"Authorization": "Bearer " + self.KEY},
                                    ""),
                                   ({"Authorization": "bearer " + self.KEY},
                                    "")):
                resp = self.get(path + query, headers)
                self.assert_json(resp, 200)
            # The Origin is checked first.
            resp = self.get(path + sep + "key=" + self.KEY,
                            {"Origin": "http://evil.example"})
            self.assert_json(resp, 403)
        # The rest of the server needs no key.
        self.assertEqual(self.get("/healthz").status, 200)
        self.assertEqual(self.get("/metrics").status, 200)

    def test_public_host_and_credentials(self):
        cfg = self.assert_json(self.get("/api/ice-servers?key=" + self.KEY),
                               200)
        port = self.daemon.port
        self.assertEqual(cfg["iceServers"][0]["urls"],
                         ["stun:turn.example.net:%d" % port])
        turn = cfg["iceServers"][1]
        self.assertEqual(turn["urls"],
                         ["turn:turn.example.net:%d?transport=udp" % port])
        self.assert_allocates(turn["username"], turn["credential"])
        body = self.assert_json(self.get(
            "/api/turn?service=turn&username=bob",
            {"Authorization": "Bearer " + self.KEY}), 200)
        self.assertEqual(body["uris"], turn["urls"])
        self.assert_allocates(body["username"], body["password"])


class AllowedOrigins(HttpCase):
    """http.allowed_origins = ["http://app.example"]: that origin only."""

    CONF = {"http": {"allowed_origins": ["http://app.example"]}}

    def test_listed_origin_only(self):
        for origin, status in (("http://app.example", 200),
                               ("HTTP://APP.EXAMPLE", 200),
                               (None, 200),
                               (self.daemon.origin, 403),
                               ("https://app.example", 403),
                               ("http://app.example:80", 403),
                               ("http://app.example.evil", 403)):
            headers = {"Origin": origin} if origin else {}
            for path in ("/api/ice-servers", "/api/turn"):
                resp = self.get(path, headers)
                want = status if path != "/api/turn" or status != 200 \
                    else 503  # no TURN secret here
                self.assertEqual(resp.status, want, (origin, path, resp))


    def test_cors(self):
        """A page of an allowed origin may read /api answers (CORS) and
        send the preflight its Authorization header needs."""
        resp = self.get("/api/ice-servers", {"Origin": "http://app.example"})
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.header("access-control-allow-origin"),
                         "http://app.example")
        self.assertEqual(resp.header("vary"), "Origin")
        resp = self.get("/api/ice-servers")
        self.assertIsNone(resp.header("access-control-allow-origin"))
        pre = wc.http_request(self.daemon, "/api/ice-servers", "OPTIONS",
                              {"Origin": "http://app.example",
                               "Access-Control-Request-Method": "GET",
                               "Access-Control-Request-Headers":
                                   "authorization"})
        self.assertEqual(pre.status, 204, pre)
        self.assertEqual(pre.header("access-control-allow-origin"),
                         "http://app.example")
        self.assertIn("Authorization",
                      pre.header("access-control-allow-headers"))
        bad = wc.http_request(self.daemon, "/api/ice-servers", "OPTIONS",
                              {"Origin": "http://evil.example"})
        self.assertEqual(bad.status, 403)


class NoTurnSecret(HttpCase):
    """TURN off: no secret to mint with."""

    CONF = {}

    def test_turn_api_503(self):
        resp = self.get("/api/turn?service=turn&username=bob")
        self.assertEqual(self.assert_json(resp, 503),
                         {"error": "no TURN secret configured"})

    def test_ice_servers_stun_only(self):
        cfg = self.assert_json(self.get("/api/ice-servers"), 200)
        self.assertEqual(cfg, {"iceServers": [
            {"urls": ["stun:127.0.0.1:%d" % self.daemon.port]}],
            "iceTransportPolicy": "all"})


@unittest.skipIf(text_string_to_metric_families is None,
                 "python3-prometheus-client is not installed")
class Metrics(HttpCase):
    """/metrics in the Prometheus text format, read by its own parser."""

    CONF = {"turn": wc.turn_on()}

    def scrape(self):
        """(families by name, {(sample name, labels tuple): value}, text)."""
        resp = self.get("/metrics")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.header("content-type"),
                         "text/plain; version=0.0.4; charset=utf-8")
        text = resp.body.decode("utf-8")
        families, samples = {}, {}
        for fam in text_string_to_metric_families(text):
            self.assertNotIn(fam.name, families, "family twice")
            families[fam.name] = fam
            for s in fam.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                self.assertNotIn(key, samples, "sample twice")
                samples[key] = s.value
        return families, samples, text

    def test_parses(self):
        families, samples, text = self.scrape()
        self.assertGreater(len(families), 20)
        for name, fam in families.items():
            self.assertTrue(name.startswith("turnpike_"), name)
            self.assertIn(fam.type, ("counter", "gauge"), name)
            self.assertTrue(fam.documentation, name)
            self.assertTrue(fam.samples, name)
            for s in fam.samples:
                self.assertGreaterEqual(s.value, 0, s)
        # Every sample line belongs to a family with # HELP and # TYPE.
        typed = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        helped = set(re.findall(r"^# HELP (\S+) ", text, re.M))
        self.assertEqual(typed, helped)
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
                self.assertIn(name.group(1), typed, line)
        self.assertTrue(text.endswith("\n"))
        info = families["turnpike_build_info"]
        self.assertEqual(info.type, "gauge")
        [s] = info.samples
        self.assertEqual(s.value, 1)
        version = tp.run(["-V"]).stdout.split()[1]
        self.assertEqual(s.labels, {"version": version})

    def binding(self):
        with sc.udp_socket("127.0.0.1") as s:
            req = sc.binding_request()
            data = sc.udp_transaction(s, self.daemon.addr(), req,
                                      tp.timeout(2))
        self.assertIsNotNone(data, "no Binding answer")

    def test_counters_move_and_labels_leak_nothing(self):
        _, before, _ = self.scrape()
        for _ in range(3):
            self.binding()
        room = "metrics-room-%d" % os.getpid()
        c = wc.RawWebSocket.connect(self.daemon)
        self.addCleanup(c.shutdown)
        c.send_json({"type": "join", "room": room, "name": "Mallory"})
        peer_id = c.recv_json()["id"]
        for text in ("one", "two"):
            c.send_json({"type": "chat", "text": text})
            self.assertEqual(c.recv_json()["text"], text)
        c.send_text("{")
        self.assertEqual(c.recv_json()["code"], "bad-json")
        families, after, text = self.scrape()

        def delta(name, **labels):
            key = (name, tuple(sorted(labels.items())))
            self.assertIn(key, after)
            return after[key] - before.get(key, 0)
        self.assertEqual(delta("turnpike_stun_requests_total",
                               method="binding"), 3)
        self.assertEqual(delta("turnpike_stun_binding_responses_total"), 3)
        self.assertEqual(delta("turnpike_signaling_messages_total",
                               type="chat"), 2)
        self.assertEqual(delta("turnpike_signaling_messages_total",
                               type="join"), 1)
        self.assertEqual(delta("turnpike_signaling_chat_deliveries_total"),
                         2)
        self.assertEqual(delta("turnpike_signaling_errors_total",
                               code="bad-json"), 1)
        self.assertEqual(delta("turnpike_transport_packets_total",
                               transport="udp", direction="rx"), 3)
        for name in ("turnpike_signaling_connections",
                     "turnpike_signaling_peers", "turnpike_signaling_rooms",
                     "turnpike_ws_connections"):
            self.assertEqual(after[(name, ())], 1, name)
        # Counters never go down.
        for key, value in before.items():
            if key[0].endswith("_total"):
                self.assertGreaterEqual(after[key], value, key)
        # Labels come from bounded sets: no room, peer, name or address.
        for (name, labels), _ in after.items():
            for k, v in labels:
                self.assertNotIn(room, v)
                self.assertNotIn(peer_id, v)
                self.assertNotIn("Mallory", v)
                self.assertNotRegex(v, r"[0-9a-f]{16}|127\.0\.0\.1|:\d+$",
                                    (name, k, v))
        for needle in (room, peer_id, "Mallory", "127.0.0.1"):
            self.assertNotIn(needle, text)
        # Error codes and message types are all there, at 0 or more.
        codes = {dict(k[1])["code"] for k in after
                 if k[0] == "turnpike_signaling_errors_total"}
        self.assertEqual(codes, {
            "bad-json", "bad-message", "unknown-type", "not-joined",
            "already-joined", "bad-room", "room-full", "unknown-peer",
            "too-large", "rate-limited", "forbidden"})

    def test_head(self):
        resp = self.get("/metrics", method="HEAD")
        self.assertEqual((resp.status, resp.body), (200, b""))


class Static(HttpCase):
    """Static files from http.webroot, and nothing from outside it."""

    CONF = {}
    FILES = {
        "index.html": b"<!doctype html><title>turnpike</title>\n",
        "app.js": b"console.log('app');\n",
        "app.mjs": b"export {};\n",
        "style.css": b"body { margin: 0 }\n",
        "data.bin": bytes(range(256)) * 4,
        "noext": b"no extension\n",
        "manifest.webmanifest": b"{}\n",
        "sub/page.html": b"<p>sub</p>\n",
        "sub/deeper/x.txt": b"deep\n",
        "big.json": b"[" + b"0," * 400000 + b"0]",
        ".env": b"SECRET=1\n",
        ".git/config": b"[core]\n",
    }
    SECRET = b"outside the webroot: must never be served\n"

    @classmethod
    def prepare(cls, d):
        for name, data in cls.FILES.items():
            path = os.path.join(d.webroot, name)
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o644)
        # Outside: the daemon's own temporary directory, next to www.
        outside = os.path.join(d.dir, "outside")
        os.mkdir(outside)
        os.chmod(outside, 0o755)
        secret = os.path.join(outside, "secret.txt")
        with open(secret, "wb") as f:
            f.write(cls.SECRET)
        os.chmod(secret, 0o644)
        os.symlink(secret, os.path.join(d.webroot, "link.txt"))
        os.symlink(outside, os.path.join(d.webroot, "linkdir"))
        os.symlink("index.html", os.path.join(d.webroot, "inside.html"))

    def assert_file(self, path, name, ctype, cache):
        resp = self.get(path)
        self.assertEqual(resp.status, 200, (path, resp))
        self.assertEqual(resp.body, self.FILES[name])
        self.assertEqual(resp.header("content-type"), ctype, path)
        self.assertEqual(resp.header("cache-control"), cache, path)
        self.assertEqual(resp.header("x-content-type-options"), "nosniff")
        self.assertEqual(int(resp.header("content-length")),
                         len(self.FILES[name]))

    def assert_404(self, path):
        resp = self.get(path)
        self.assertEqual(resp.status, 404, (path, resp))
        self.assertNotIn(self.SECRET, resp.body)
        self.assertNotIn(b"root:", resp.body)

    def test_healthz(self):
        resp = self.get("/healthz")
        self.assertEqual((resp.status, resp.body), (200, b"ok\n"))
        self.assertEqual(resp.header("content-type"),
                         "text/plain; charset=utf-8")
        resp = self.get("/healthz", method="HEAD")
        self.assertEqual((resp.status, resp.body), (200, b""))

    def test_types_and_caching(self):
        page, asset = "no-cache", "public, max-age=3600"
        html = "text/html; charset=utf-8"
        js = "text/javascript; charset=utf-8"
        self.assert_file("/", "index.html", html, page)
        self.assert_file("/index.html", "index.html", html, page)
        self.assert_file("/sub/page.html", "sub/page.html", html, page)
        self.assert_file("/app.js", "app.js", js, asset)
        self.assert_file("/app.mjs", "app.mjs", js, asset)
        self.assert_file("/style.css", "style.css",
                         "text/css; charset=utf-8", asset)
        self.assert_file("/data.bin", "data.bin",
                         "application/octet-stream", asset)
        self.assert_file("/noext", "noext", "application/octet-stream",
                         asset)
        self.assert_file("/manifest.webmanifest", "manifest.webmanifest",
                         "application/manifest+json", asset)
        self.assert_file("/sub/deeper/x.txt", "sub/deeper/x.txt",
                         "text/plain; charset=utf-8", asset)
        self.assert_file("/big.json", "big.json", "application/json", asset)
        # A query string does not change the file.
        self.assert_file("/app.js?v=3", "app.js", js, asset)

    def test_missing_404(self):
        for path in ("/missing.html", "/sub/missing", "/sub", "/sub/",
                     "/sub/deeper/", "/index.html/", "/api/other",
                     "/wsx", "/healthz/x", "/.", "/etc/passwd"):
            self.assert_404(path)

    def test_traversal_404(self):
        for path in ("/../outside/secret.txt", "/%2e%2e/outside/secret.txt",
                     "/%2E%2E/outside/secret.txt",
                     "/.%2e/outside/secret.txt",
                     "/..%2foutside%2fsecret.txt",
                     "/%2e%2e%2foutside%2fsecret.txt",
                     "/a/../../outside/secret.txt",
                     "/sub/../../outside/secret.txt",
                     "/sub/../index.html", "/./index.html",
                     "//etc/passwd", "///etc/passwd", "/../../../etc/passwd",
                     "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                     "/..\\outside\\secret.txt", "/sub\\..\\index.html",
                     "/%5c..%5coutside%5csecret.txt"):
            self.assert_404(path)
        # Request targets that are not origin-form.
        for target in ("../outside/secret.txt", "*",
                       "http://%s/../outside/secret.txt" % self.daemon.host):
            resp = wc.raw_http(self.daemon, (
                "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                % (target, self.daemon.host)).encode())
            self.assertIn(resp.status, (400, 404), (target, resp))
            self.assertNotIn(self.SECRET, resp.body)

    def test_symlink_to_file_outside_404(self):
        self.assert_404("/link.txt")

    def test_symlink_to_directory_outside_404(self):
        self.assert_404("/linkdir/secret.txt")

    def test_methods(self):
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            for path in ("/", "/index.html", "/api/ice-servers", "/healthz",
                         "/missing"):
                resp = wc.http_request(self.daemon, path, method,
                                       body=b"x=1" if method != "OPTIONS"
                                       else None)
                self.assertEqual(resp.status, 405, (method, path, resp))
        resp = self.get("/index.html", method="HEAD")
        self.assertEqual((resp.status, resp.body), (200, b""))
        self.assertEqual(int(resp.header("content-length")),
                         len(self.FILES["index.html"]))
        self.assertEqual(resp.header("content-type"),
                         "text/html; charset=utf-8")
        self.assertEqual(self.get("/missing", method="HEAD").status, 404)
        # A POST body is read and dropped: the connection goes on.
        resp = wc.raw_http(self.daemon, (
            "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\n\r\nx=1&y"
            "GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
            % (self.daemon.host, self.daemon.host)).encode())
        self.assertEqual(resp.status, 405)

    def test_hidden_files_404(self):
        """Names starting with a dot (.env, .git/) are never served."""
        for path in ("/.env", "/.git/config", "/sub/../.env"):
            self.assertEqual(self.get(path).status, 404, path)

    def test_405_names_the_allowed_methods(self):
        resp = wc.http_request(self.daemon, "/", "POST", body=b"")
        self.assertEqual(resp.status, 405)
        allow = resp.header("allow")
        self.assertIsNotNone(allow, "no Allow header in a 405")
        self.assertEqual({m.strip() for m in allow.split(",")},
                         {"GET", "HEAD"})



class Https(unittest.TestCase):
    """http.tls_certificate: libmicrohttpd's own TLS serves the routes
    and the WebSocket upgrade (wss:), inside the same event loop."""

    def test_https_and_wss(self):
        import asyncio
        import http.client
        import json
        import shutil
        import ssl
        import subprocess

        openssl = shutil.which("openssl")
        if openssl is None:
            self.skipTest("openssl is not installed")
        d = wc.HttpDaemon()
        crt = os.path.join(d.dir, "https.crt")
        key = os.path.join(d.dir, "https.key")
        p = subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
             "-subj", "/CN=turnpike-https", "-keyout", key, "-out", crt],
            capture_output=True, text=True, timeout=tp.timeout(20))
        self.assertEqual(p.returncode, 0, p.stderr)
        os.chmod(crt, 0o644)
        os.chmod(key, 0o644)  # a throwaway key, read again as nobody
        d.conf = {"http": {"tls_certificate": crt, "tls_private_key": key}}
        ctx = ssl.create_default_context(cafile=crt)
        ctx.check_hostname = False
        with d:
            d.wait_log(r"^listening on https 127\.0\.0\.1:\d+$")
            conn = http.client.HTTPSConnection("127.0.0.1", d.port,
                                               context=ctx, timeout=5)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            self.assertEqual((resp.status, resp.read()), (200, b"ok\n"))
            conn.close()

            async def join():
                import websockets
                async with websockets.connect(
                        "wss://127.0.0.1:%d/ws" % d.port, ssl=ctx) as ws:
                    await ws.send(json.dumps({"type": "join",
                                              "room": "secure"}))
                    return json.loads(await asyncio.wait_for(ws.recv(), 5))
            self.assertEqual(asyncio.run(join())["type"], "welcome")
        d.check_log(wc.ALLOWED_LOG)


if __name__ == "__main__":
    tp.main()
