#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""make install into a temporary DESTDIR: the sample config gets a TURN
REST secret of its own (TURN refuses to run without credentials), is
readable by root and the service's group only, passes turnpiked -t; the
unit, the sysusers.d file, the man pages and the web client are there;
make uninstall leaves nothing behind."""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tp  # noqa: E402

BUILDDIR = os.environ.get("TP_BUILDDIR", "")


class Install(unittest.TestCase):
    def setUp(self):
        if not BUILDDIR or shutil.which("make") is None:
            self.skipTest("no build directory")
        self.dest = tempfile.mkdtemp(prefix="tp-install-")
        self.addCleanup(shutil.rmtree, self.dest, True)

    def make(self, target):
        return subprocess.run(["make", "-s", "-C", BUILDDIR, target,
                               "DESTDIR=" + self.dest],
                              capture_output=True, text=True,
                              timeout=tp.timeout(300))

    def files(self):
        found = []
        for root, _, names in os.walk(self.dest):
            found += [os.path.join(root, n) for n in names]
        return found

    def test_install_and_uninstall(self):
        r = self.make("install")
        self.assertEqual(r.returncode, 0, r.stderr)
        files = self.files()
        confs = [f for f in files if f.endswith("/turnpike/turnpike.conf")]
        self.assertEqual(len(confs), 1, files)
        conf = confs[0]
        text = open(conf).read()
        secrets = re.findall(r'(?m)^\tsecrets = \[ "([0-9a-f]{64})" \];$',
                             text)
        self.assertEqual(len(secrets), 1, "no generated secret in %s" % conf)
        self.assertEqual(stat.S_IMODE(os.stat(conf).st_mode), 0o640)
        r = tp.run(["-t", "-c", conf])
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, "configuration OK\n", ""))
        for suffix in ("/turnpike.service", "/sysusers.d/turnpike.conf",
                       "/man8/turnpiked.8", "/man5/turnpike.conf.5",
                       "/man7/turnpike-signaling.7", "/www/index.html",
                       "/www/app.js", "/sbin/turnpiked"):
            self.assertTrue(any(f.endswith(suffix) for f in files), suffix)
        # A second install keeps the operator's file (and its secret).
        r = self.make("install")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(open(conf).read(), text)
        r = self.make("uninstall")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.files(), [])


if __name__ == "__main__":
    tp.main()
