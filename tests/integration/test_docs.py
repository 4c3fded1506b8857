#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The documentation agrees with the daemon.

The key table in src/conf.c is the truth; `turnpiked -t -v` prints it.
This test holds man/turnpike.conf.5, etc/turnpike.conf, the development
config, man/turnpiked.8, man/turnpike-signaling.7 and README.md to it:

  - every key the daemon knows is documented in the man page, as
    ".It Ic group.key Ar type" under ".Ss group", with its default and
    "Reload." or "Restart.", and the man page documents no other key;
  - etc/turnpike.conf sets every key, to exactly its default, under a
    comment that gives the same default and the same reload rule, and
    holds the one line "\tsecrets = [ ];" that "make install" replaces
    with a fresh secret;
  - etc/turnpike-dev.conf is valid, and on loopback;
  - the man pages are mandoc -Tlint clean;
  - every option of "turnpiked -h", short and long, is in turnpiked(8)'s
    OPTIONS;
  - turnpike-signaling(7) documents every error code (SIG_ERRORS) and
    every client message type (SIG_TYPES) of src/sig.h, and nothing else
    as such;
  - turnpiked(8) names every metric family of src/metrics.c;
  - README.md shows the two quick-start commands.

http.webroot is the one key whose default depends on the build: it is
$(pkgdatadir)/www, compiled in from configure's prefix.  The sample
cannot hold that path, so it leaves the key commented out
(BUILD_DEPENDENT), which makes the daemon use the compiled-in default;
the man page gives the default with the usual prefix.  The tests check
those two places against the pattern of the path instead of the path.

A file with no TURN credentials is refused, so "the defaults" are those
of MINIMAL, which sets one REST secret and nothing else: every key but
turn.secrets prints its default value, and the "(default: ...)" text of
every key, turn.secrets included, is the built-in one.

Run by automake as "python3 test_docs.py" with TURNPIKED (the daemon) and
TP_SRCDIR (the source tree) in the environment.  Exit status: 0 pass,
1 fail, 77 skip, 99 harness error.  Standard library only.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("TP_SRCDIR") or os.path.normpath(
    os.path.join(HERE, "..", ".."))
BUILDDIR = os.environ.get("TP_BUILDDIR") or SRCDIR
TURNPIKED = os.environ.get("TURNPIKED") or os.path.join(
    BUILDDIR, "src", "turnpiked")

CONF_MAN = os.path.join(SRCDIR, "man", "turnpike.conf.5")
DAEMON_MAN = os.path.join(SRCDIR, "man", "turnpiked.8")
SIG_MAN = os.path.join(SRCDIR, "man", "turnpike-signaling.7")
SIG_H = os.path.join(SRCDIR, "src", "sig.h")
METRICS_C = os.path.join(SRCDIR, "src", "metrics.c")
SAMPLE = os.path.join(SRCDIR, "etc", "turnpike.conf")
DEV = os.path.join(SRCDIR, "etc", "turnpike-dev.conf")
README = os.path.join(SRCDIR, "README.md")

EXIT_PASS, EXIT_FAIL, EXIT_SKIP, EXIT_HARNESS = 0, 1, 77, 99

# The smallest valid config: TURN refuses to start without credentials.
MINIMAL = 'turn = { secrets = [ "x" ]; };\n'

# The line of etc/turnpike.conf that "make install" (Makefile.am,
# SECRETS_EMPTY) replaces with a random secret, and what the tests put in
# its place to compare the sample with MINIMAL.
SAMPLE_SECRETS_LINE = "\tsecrets = [ ];"
SAMPLE_SECRETS_TEST = '\tsecrets = [ "x" ];'

# Keys whose default is a path configure decides, with the pattern that
# path follows ($(pkgdatadir) is $(datadir)/turnpike).  The sample leaves
# each commented out, as "\t#key = ...;" under its comment, and the man
# page's "Default:" text names the path with the usual prefix.
BUILD_DEPENDENT = {
    "http.webroot": r'"/[^"]*/turnpike/www"',
}

# mandoc -Tlint messages that describe the machine, not the page: whether
# the pages named by .Xr are installed here (turnpiked(8) and
# turnpike.conf(5) are not, in a build tree) and whether mandoc's own
# database is up to date.  Everything else must be absent.
MANDOC_HOST_NOISE = re.compile(
    r"STYLE: referenced manual not found|outdated mandoc\.db")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def turnpiked(*args):
    """Run the daemon with args; return (exit status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC",
                        "WATCHDOG_PID")}
    p = subprocess.run([TURNPIKED] + list(args), capture_output=True,
                       text=True, timeout=20, env=env)
    return p.returncode, p.stdout, p.stderr


def parse_printed(text):
    """
    Parse "turnpiked -t -v" output into {"group.key": (value, default)}.
    The output is "group = {", then per key "\t# help (default: D)" and
    "\tkey = value;", then "};", and "configuration OK" last.
    """
    keys = {}
    group = None
    default = None
    for line in text.splitlines():
        m = re.fullmatch(r"(\w+) = \{", line)
        if m:
            group = m.group(1)
            continue
        m = re.fullmatch(r"\t# .*\(default: (.*)\)", line)
        if m:
            default = m.group(1)
            continue
        m = re.fullmatch(r"\t(\w+) = (.*);", line)
        if m:
            if group is None or default is None:
                raise AssertionError("unparseable -t -v output: %r" % line)
            keys["%s.%s" % (group, m.group(1))] = (m.group(2), default)
            default = None
            continue
        if line in ("};", "configuration OK"):
            if line == "};":
                group = None
            continue
        raise AssertionError("unparseable -t -v output: %r" % line)
    return keys


def man_keys(text):
    """
    The keys documented in turnpike.conf(5): {"group.key": (subsection,
    type, body)} from each ".It Ic group.key Ar type" line, the ".Ss"
    it sits under, and the source lines up to the next ".It" or ".El".
    """
    keys = {}
    section = subsection = None
    current = None
    for line in text.splitlines():
        if line.startswith(".Sh "):
            section, subsection, current = line[4:], None, None
            continue
        if line.startswith(".Ss "):
            subsection, current = line[4:], None
            continue
        m = re.match(r"\.It Ic (\S+)(?: Ar (\S+))?\s*$", line)
        if m:
            if m.group(1) in keys:
                raise AssertionError("%s documented twice" % m.group(1))
            keys[m.group(1)] = (subsection, m.group(2), [], section)
            current = m.group(1)
            continue
        if line.startswith(".It") or line.startswith(".El"):
            current = None
            continue
        if current is not None:
            keys[current][2].append(line)
    return {k: (ss, ty, "\n".join(body), sh)
            for k, (ss, ty, body, sh) in keys.items()}


def reload_rule(text):
    """The last "Reload." or "Restart." in text, or None."""
    rules = re.findall(r"\b(Reload|Restart)\.", text)
    return rules[-1] if rules else None


def sig_h_names(macro):
    """The names of the X(NAME, "name") rows of a macro in src/sig.h."""
    text = read(SIG_H)
    m = re.search(r"(?ms)^#define %s\b(.*?)(?<!\\)$" % macro, text)
    if m is None:
        raise AssertionError("no #define %s in %s" % (macro, SIG_H))
    names = re.findall(r'X\(\w+, "([^"]+)"\)', m.group(1))
    if not names:
        raise AssertionError("%s in %s has no rows" % (macro, SIG_H))
    return names


def man_section(text, name):
    """The source lines of section ".Sh name", up to the next ".Sh"."""
    m = re.search(r"(?ms)^\.Sh %s$(.*?)(?=^\.Sh |\Z)" % re.escape(name),
                  text)
    if m is None:
        raise AssertionError("no section %s" % name)
    return m.group(1)


def sample_keys(text):
    """
    The keys of etc/turnpike.conf: {"group.key": comment} where comment
    is the block of "#" lines just above the setting.
    """
    keys = {}
    group = None
    comment = []
    for line in text.splitlines():
        s = line.strip()
        m = re.fullmatch(r"(\w+)\s*[=:]\s*\{", s)
        if m and not line[0].isspace():
            group, comment = m.group(1), []
            continue
        if s.startswith("#"):
            comment.append(s.lstrip("#").strip())
            continue
        if s == "":
            comment = []
            continue
        if s in ("};", "}"):
            group, comment = None, []
            continue
        m = re.match(r"(\w+)\s*[=:]", s)
        if m and group is not None:
            keys["%s.%s" % (group, m.group(1))] = " ".join(comment)
            comment = []
            continue
        raise AssertionError("unexpected line in %s: %r" % (SAMPLE, line))
    return keys


class Docs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tp-docs-")
        cls.minimal = os.path.join(cls.tmp, "minimal.conf")
        with open(cls.minimal, "w") as f:
            f.write(MINIMAL)
        rc, out, err = turnpiked("-t", "-v", "-c", cls.minimal)
        if rc != 0:
            raise AssertionError("turnpiked -t -v on %r: exit %d: %s"
                                 % (MINIMAL, rc, err))
        cls.defaults_text = out
        cls.defaults = parse_printed(out)
        if not cls.defaults:
            raise AssertionError("turnpiked -t -v printed no keys")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # (a) turnpike.conf(5)

    def test_man_documents_every_key(self):
        doc = man_keys(read(CONF_MAN))
        missing = sorted(set(self.defaults) - set(doc))
        self.assertEqual(missing, [], "keys missing from turnpike.conf.5")

    def test_man_documents_no_unknown_key(self):
        doc = man_keys(read(CONF_MAN))
        unknown = sorted(set(doc) - set(self.defaults))
        self.assertEqual(unknown, [],
                         "turnpike.conf.5 documents keys turnpiked lacks")

    def test_man_key_layout(self):
        """Each key sits under KEYS, in ".Ss group", with a type."""
        for key, (ss, ty, body, sh) in man_keys(read(CONF_MAN)).items():
            with self.subTest(key=key):
                self.assertEqual(sh, "KEYS")
                self.assertEqual(ss, key.split(".")[0])
                self.assertIn(ty, ("string", "integer", "boolean", "list"))
                self.assertIsNotNone(reload_rule(body),
                                     "no Reload. or Restart.")
                self.assertRegex(body, r"(?m)^Default:",
                                 "no Default: line")

    def test_man_defaults(self):
        """The rendered page gives each key the daemon's own default."""
        if shutil.which("mandoc") is None:
            self.skipTest("mandoc is not installed")
        p = subprocess.run(["mandoc", "-Tascii", CONF_MAN],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        text = re.sub(r".\x08", "", p.stdout)
        # Cut the rendered KEYS section into one entry per key.
        entries, key = {}, None
        for line in text.splitlines():
            m = re.fullmatch(r" {5}([a-z_0-9]+\.[a-z_0-9]+) \w+", line)
            if m:
                key = m.group(1)
                entries[key] = []
            elif re.match(r"\S| {3}\S", line):
                key = None
            elif key is not None:
                entries[key].append(line.strip())
        for name, (_, default) in self.defaults.items():
            with self.subTest(key=name):
                self.assertIn(name, entries)
                body = " ".join(" ".join(entries[name]).split())
                if name in BUILD_DEPENDENT:
                    # The path with the usual prefix, after "Default:".
                    path = BUILD_DEPENDENT[name].strip('"')
                    self.assertRegex(body, "Default: .*" + path)
                    continue
                self.assertRegex(body, r"Default: ['`\"]?" +
                                 re.escape(default) + r"[\s'\";.,]")

    # (a) and (b) etc/turnpike.conf

    def test_sample_sets_every_key(self):
        """Every key but the BUILD_DEPENDENT ones, which the sample
        gives commented out."""
        keys = sample_keys(read(SAMPLE))
        self.assertEqual(sorted(keys),
                         sorted(set(self.defaults) - set(BUILD_DEPENDENT)))

    def test_sample_build_dependent_keys(self):
        """Each BUILD_DEPENDENT key is in the sample as "\t#key = path;"
        under a comment with a default and the man page's reload rule,
        and the daemon's default has the expected form."""
        doc = man_keys(read(CONF_MAN))
        lines = read(SAMPLE).split("\n")
        for key, pattern in BUILD_DEPENDENT.items():
            with self.subTest(key=key):
                self.assertRegex(self.defaults[key][1],
                                 r"^%s$" % pattern)
                group, name = key.split(".")
                line = "\t#%s = " % name
                found = [i for i, ln in enumerate(lines)
                         if ln.startswith(line)]
                self.assertEqual(len(found), 1,
                                 "%r not in the sample once" % line)
                i = found[0]
                self.assertRegex(lines[i][len(line):],
                                 r"^%s;$" % pattern)
                groups = [ln for ln in lines[:i]
                          if re.match(r"\w+\s*=\s*\{", ln)]
                self.assertTrue(groups and groups[-1].startswith(group))
                comment = []
                for ln in reversed(lines[:i]):
                    if not ln.strip().startswith("#"):
                        break
                    comment.insert(0, ln.strip().lstrip("#").strip())
                comment = " ".join(comment)
                self.assertIn("Default:", comment)
                self.assertEqual(reload_rule(comment),
                                 reload_rule(doc[key][2]))

    def test_sample_holds_the_defaults(self):
        """The sample, with the secret make install would write, is
        MINIMAL: every other key at its default."""
        lines = read(SAMPLE).split("\n")
        copy = os.path.join(self.tmp, "sample.conf")
        with open(copy, "w", encoding="utf-8") as f:
            f.write("\n".join(SAMPLE_SECRETS_TEST
                              if ln == SAMPLE_SECRETS_LINE else ln
                              for ln in lines))
        rc, out, err = turnpiked("-t", "-v", "-c", copy)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, self.defaults_text)

    def test_sample_secrets_line(self):
        """make install finds the line it fills with a secret."""
        lines = read(SAMPLE).split("\n")
        self.assertEqual(lines.count(SAMPLE_SECRETS_LINE), 1,
                         "etc/turnpike.conf must hold %r exactly once"
                         % SAMPLE_SECRETS_LINE)

    def test_empty_config_refused(self):
        """No TURN credentials: refused, as turnpike.conf(5) says."""
        empty = os.path.join(self.tmp, "empty.conf")
        with open(empty, "w"):
            pass
        rc, out, err = turnpiked("-t", "-c", empty)
        self.assertEqual(rc, 1, out)
        self.assertIn("turn.users and turn.secrets are both empty", err)

    def test_sample_comments(self):
        """Each key's comment gives its default and its reload rule, and
        the rule is the one turnpike.conf(5) gives."""
        doc = man_keys(read(CONF_MAN))
        for key, comment in sample_keys(read(SAMPLE)).items():
            with self.subTest(key=key):
                self.assertTrue(comment, "no comment above the key")
                self.assertIn("Default: %s." % self.defaults[key][1],
                              comment)
                self.assertIn(key, doc, "not in turnpike.conf.5")
                self.assertEqual(reload_rule(comment),
                                 reload_rule(doc[key][2]))

    # (c) etc/turnpike-dev.conf

    def test_dev_config_is_valid(self):
        rc, out, err = turnpiked("-t", "-c", DEV)
        self.assertEqual((rc, out, err), (0, "configuration OK\n", ""))

    def test_dev_config_is_loopback(self):
        rc, out, err = turnpiked("-t", "-v", "-c", DEV)
        self.assertEqual(rc, 0, err)
        keys = parse_printed(out)
        loopback = '[ "127.0.0.1:3478", "[::1]:3478" ]'
        self.assertEqual(keys["listen.udp"][0], loopback)
        self.assertEqual(keys["listen.tcp"][0], loopback)
        self.assertEqual(keys["daemon.user"][0], '""')
        self.assertEqual(keys["log.level"][0], '"debug"')
        self.assertEqual(keys["http.listen"][0], '[ "127.0.0.1:8080" ]')
        # tools/run-dev runs turnpiked from the top of the source tree.
        self.assertEqual(keys["http.webroot"][0], '"www"')
        self.assertTrue(os.path.isfile(os.path.join(SRCDIR, "www",
                                                    "index.html")))

    # (d) mandoc -Tlint

    def test_mandoc_lint(self):
        if shutil.which("mandoc") is None:
            self.skipTest("mandoc is not installed")
        p = subprocess.run(["mandoc", "-Tlint", DAEMON_MAN, CONF_MAN,
                            SIG_MAN],
                           capture_output=True, text=True, timeout=20)
        lines = [ln for ln in (p.stdout + p.stderr).splitlines()
                 if ln.strip() and not MANDOC_HOST_NOISE.search(ln)]
        self.assertEqual(lines, [])

    # (e) turnpiked(8) OPTIONS

    def test_every_option_documented(self):
        rc, out, err = turnpiked("-h")
        self.assertEqual(rc, 0, err)
        usage = re.search(r"usage: turnpiked (.*)", out)
        self.assertIsNotNone(usage, out)
        letters = set(re.findall(r"\[-(\w+)", usage.group(1)))
        letters = set("".join(letters))
        letters |= set(re.findall(r"(?m)^\s+-(\w)\b", out))
        self.assertTrue(letters, out)

        man = read(DAEMON_MAN)
        m = re.search(r"(?ms)^\.Sh OPTIONS$(.*?)^\.Sh ", man)
        self.assertIsNotNone(m, "turnpiked.8 has no OPTIONS section")
        documented = set(re.findall(r"(?m)^\.It Fl (\w)\b", m.group(1)))
        self.assertEqual(sorted(letters - documented), [],
                         "options missing from turnpiked.8")
        self.assertEqual(sorted(documented - letters), [],
                         "turnpiked.8 documents options turnpiked lacks")

        # Long options, "--mint-token", are ".It Fl \-mint-token".
        longs = set(re.findall(r"(?<![\w-])--([a-z][a-z-]*)", out))
        self.assertTrue(longs, out)
        documented = set(re.findall(r"(?m)^\.It Fl \\-([a-z][a-z-]*)",
                                    m.group(1)))
        self.assertEqual(sorted(longs - documented), [],
                         "long options missing from turnpiked.8")
        self.assertEqual(sorted(documented - longs), [],
                         "turnpiked.8 documents long options turnpiked "
                         "lacks")

    # (f) turnpike-signaling(7) and the metrics of turnpiked(8)

    def test_signaling_error_codes(self):
        """Every code of SIG_ERRORS is an ".It Cm code" of ERROR CODES,
        and that list holds no other."""
        codes = sig_h_names("SIG_ERRORS")
        section = man_section(read(SIG_MAN), "ERROR CODES")
        documented = re.findall(r"(?m)^\.It Cm (\S+)$", section)
        self.assertEqual(len(documented), len(set(documented)),
                         "an error code documented twice")
        self.assertEqual(sorted(documented), sorted(codes))

    def test_signaling_client_types(self):
        """Every type of SIG_TYPES is a ".Ss type" of CLIENT MESSAGES,
        and that section has no other subsection."""
        types = sig_h_names("SIG_TYPES")
        section = man_section(read(SIG_MAN), "CLIENT MESSAGES")
        documented = re.findall(r"(?m)^\.Ss (.+)$", section)
        self.assertEqual(sorted(documented), sorted(types))

    def test_metric_families_documented(self):
        """Every family name of src/metrics.c (a string outside comments)
        is on an ".It Li" line of turnpiked(8)'s METRICS section, and those
        lines name no other."""
        code = re.sub(r"(?s)/\*.*?\*/", "", read(METRICS_C))
        families = set(re.findall(r'"(turnpike_[a-z_]+)"', code))
        self.assertTrue(families)
        section = man_section(read(DAEMON_MAN), "METRICS")
        documented = set()
        for line in re.findall(r"(?m)^\.It Li (.*)$", section):
            documented |= set(re.findall(r"\bturnpike_[a-z_]+", line))
        self.assertEqual(sorted(families - documented), [],
                         "metric families missing from turnpiked.8")
        self.assertEqual(sorted(documented - families), [],
                         "turnpiked.8 documents metrics turnpiked lacks")

    # (g) README.md

    def test_readme_quick_start(self):
        text = read(README)
        blocks = re.findall(r"(?ms)^```[a-z]*\n(.*?)^```", text)
        commands = {b.strip() for b in blocks}
        for command in ("tools/run-dev", "tools/run-tests"):
            with self.subTest(command=command):
                self.assertIn(command, commands,
                              "README.md has no code block holding just "
                              "%s" % command)


def main():
    if not (os.path.isfile(TURNPIKED) and os.access(TURNPIKED, os.X_OK)):
        print("harness error: TURNPIKED=%r is not an executable"
              % TURNPIKED, file=sys.stderr)
        sys.exit(EXIT_HARNESS)
    for path in (CONF_MAN, DAEMON_MAN, SIG_MAN, SIG_H, METRICS_C, SAMPLE,
                 DEV, README):
        if not os.path.isfile(path):
            print("%s is missing (TP_SRCDIR=%r)" % (path, SRCDIR),
                  file=sys.stderr)
            sys.exit(EXIT_FAIL)
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    result = prog.result
    if result.failures or result.errors or result.unexpectedSuccesses:
        sys.exit(EXIT_FAIL)
    if result.testsRun == 0 or len(result.skipped) == result.testsRun:
        sys.exit(EXIT_SKIP)
    sys.exit(EXIT_PASS)


if __name__ == "__main__":
    main()
