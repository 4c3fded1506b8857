#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The web client (www/) end to end: Debian's headless Chromium, driven by
npm's playwright-core (tests/e2e/calls.mjs), against real turnpikeds.

Three daemons serve www/ over HTTP on loopback with TURN on (a REST
secret, relays on 127.0.0.1, 127.0.0.1 allowed as a peer).  The second
hands browsers iceTransportPolicy "relay", so its calls go through its
own TURN relay; the third wants join tokens and takes two peers a room.
calls.mjs gets their URLs (TP_E2E_URL, TP_E2E_RELAY_URL,
TP_E2E_GUARDED_URL) and a token minted with `turnpiked --mint-token`, and
does the browser side; this file checks its exit status and the daemons'
logs.

Skipped (77) when Chromium, node or tests/e2e/node_modules is missing,
unless $CI is set: then it fails, so CI cannot pass without running it.
playwright-core is looked for in $TP_E2E_NODE_MODULES, then in
tests/e2e/node_modules of the source and build trees (`npm ci` there).

Not for: the signaling protocol's corner cases (the unit and WebSocket
tests); this is what a person in a browser sees.
"""

import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tp  # noqa: E402

CHROMIUM = os.environ.get("TP_E2E_CHROMIUM", "/usr/bin/chromium")
SECRET = "e2e"
TOKEN_SECRET = "e2e-join-secret"
TOKEN_ROOM = "private-room"

# Info lines the daemons write while browsers come and go; anything else
# above debug fails the test.
ALLOWED_LOG = [
    r"^listening on http \S+$",
    r'^allocation created: client \S+/(udp|tcp) user "[^"]*" relay \S+'
    r"( and IPv6)? lifetime \d+ s$",
    r'^allocation (expired|deleted|stopped|closed): client \S+/(udp|tcp) '
    r'user "[^"]*" relay \S+, \d+ s, \d+ packets \d+ bytes to peers, '
    r"\d+ packets \d+ bytes from peers$",
]


def find_playwright():
    """playwright-core's index.mjs, or None."""
    dirs = []
    if os.environ.get("TP_E2E_NODE_MODULES"):
        dirs.append(os.environ["TP_E2E_NODE_MODULES"])
    for top in (tp.SRCDIR, tp.BUILDDIR):
        if top:
            dirs.append(os.path.join(top, "tests", "e2e", "node_modules"))
    for d in dirs:
        index = os.path.join(d, "playwright-core", "index.mjs")
        if os.path.isfile(index):
            return index
    return None


def missing_tools():
    """What the test needs and this machine lacks, as a list of words."""
    missing = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append("chromium (%s)" % CHROMIUM)
    if shutil.which("node") is None:
        missing.append("node")
    if find_playwright() is None:
        missing.append("playwright-core (npm ci in tests/e2e)")
    return missing


def e2e_conf(http_port, policy, signaling=None):
    """A daemon serving the web client on http_port with TURN on;
    signaling: more signaling.* keys."""
    conf = {
        "http": {
            "listen": ["127.0.0.1:%d" % http_port],
            "webroot": os.path.join(tp.SRCDIR, "www"),
        },
        "turn": {
            "enable": True,
            "secrets": [SECRET],
            "relay_ip": ["127.0.0.1"],
            "allowed_peers": ["127.0.0.1"],
        },
        "signaling": {"ice_transport_policy": policy},
    }
    conf["signaling"].update(signaling or {})
    return conf


class WebClient(unittest.TestCase):
    """Calls between Chromium pages through two daemons."""

    def setUp(self):
        missing = missing_tools()
        if missing:
            why = "missing: " + ", ".join(missing)
            if os.environ.get("CI"):
                self.fail("CI must run the browser tests; " + why)
            raise unittest.SkipTest(why)
        if not os.path.isfile(os.path.join(tp.SRCDIR, "www", "index.html")):
            raise tp.HarnessError("no www/index.html under TP_SRCDIR=%s"
                                  % tp.SRCDIR)

    def start(self, policy, signaling=None):
        """A daemon for policy on a free HTTP port; it and its base URL."""
        port = tp.free_port()
        daemon = tp.Daemon(e2e_conf(port, policy, signaling))
        daemon.__enter__()
        self.addCleanup(self.stop, daemon)
        return daemon, "http://127.0.0.1:%d/" % port

    def stop(self, daemon):
        daemon.__exit__(None, None, None)
        daemon.check_log(ALLOWED_LOG)

    def test_calls(self):
        _, url = self.start("all")
        _, relay_url = self.start("relay")
        guarded, guarded_url = self.start("all", {
            "token_secret": TOKEN_SECRET, "max_peers_per_room": 2})
        minted = tp.run(["-c", guarded.conf_path, "--mint-token", TOKEN_ROOM])
        self.assertEqual(minted.returncode, 0, minted.stderr)
        token = minted.stdout.strip()
        artifacts = os.path.join(tp.BUILDDIR or tp.SRCDIR, "tests", "e2e",
                                 "artifacts")
        env = dict(os.environ,
                   TP_E2E_URL=url,
                   TP_E2E_RELAY_URL=relay_url,
                   TP_E2E_GUARDED_URL=guarded_url,
                   TP_E2E_TOKEN=token,
                   TP_E2E_TOKEN_ROOM=TOKEN_ROOM,
                   TP_E2E_ARTIFACTS=artifacts,
                   TP_E2E_PLAYWRIGHT=find_playwright(),
                   TP_E2E_CHROMIUM=CHROMIUM)
        script = os.path.join(tp.SRCDIR, "tests", "e2e", "calls.mjs")
        try:
            proc = subprocess.run(["node", script], env=env,
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  timeout=tp.timeout(240))
        except subprocess.TimeoutExpired as e:
            out = e.stdout or ""
            if isinstance(out, bytes):
                out = out.decode("utf-8", "replace")
            sys.stderr.write(out)
            self.fail("calls.mjs did not finish within %d s"
                      % tp.timeout(240))
        sys.stderr.write(proc.stdout)
        if proc.returncode == 99:
            raise tp.HarnessError("calls.mjs could not run:\n" + proc.stdout)
        self.assertEqual(proc.returncode, 0,
                         "calls.mjs failed (output above)")
        for name in ("start.png", "grid-2.png", "grid-3.png"):
            self.assertTrue(os.path.isfile(os.path.join(artifacts, name)),
                            "no screenshot %s" % name)
        docs = os.environ.get("TP_E2E_SCREENSHOTS")
        if docs:
            os.makedirs(docs, exist_ok=True)
            for name in ("start.png", "grid-2.png", "grid-3.png"):
                shutil.copyfile(os.path.join(artifacts, name),
                                os.path.join(docs, name))


if __name__ == "__main__":
    tp.main()
