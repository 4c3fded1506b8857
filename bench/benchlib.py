# SPDX-License-Identifier: BSD-2-Clause
"""bench/benchlib.py: what the side-by-side drivers of bench/ share.

bench/sigcompare uses it; bench/compare has the same helpers inline and
can import them from here instead.  It starts and watches server processes
(their CPU time and resident memory from /proc), finds free loopback
ports, measures how much CPU other processes take during a run so that a
disturbed run can be done again, and turns medians into a text or
Markdown table with ratios, written between generated-section markers of
BENCHMARKS.md.  Nothing here sends traffic.
"""

import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time

NOFILE = 65536
OTHERS_MAX = 0.15  # CPUs other processes may take during a run


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=False, capture_output=True, text=True,
                          **kw)


def uptime():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_idle(seconds=2.0):
    """The share of CPU time idle over the next few seconds, from
    /proc/stat."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)  # idle + iowait, total
    i0, t0 = sample()
    time.sleep(seconds)
    i1, t1 = sample()
    return (i1 - i0) / max(t1 - t0, 1)


def wait_idle(limit, who):
    """Wait up to limit seconds for the machine to be 90 % idle."""
    end = time.time() + limit
    while True:
        idle = cpu_idle()
        if idle >= 0.9:
            return True
        if time.time() >= end:
            log(f"{who}: still busy ({100 * (1 - idle):.0f} % CPU in "
                f"use) after {limit} s; running anyway")
            return False
        log(f"{who}: waiting for an idle machine ({100 * (1 - idle):.0f} "
            f"% CPU in use)")
        time.sleep(8)


def free_port(taken, kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM)):
    """A port in 61000-64999 free for each of kinds on 127.0.0.1: above
    the kernel's ephemeral range and TURN relay ranges."""
    for port in range(61000 + secrets.randbelow(3000), 65000):
        if port in taken:
            continue
        ok = True
        for kind in kinds:
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            taken.add(port)
            return port
    sys.exit("no free port in 61000-64999")


def raise_nofile():
    """In a child: as many descriptors as it may have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (max(NOFILE, hard), max(NOFILE, hard)))
    except (ValueError, OSError):
        # No CAP_SYS_RESOURCE (a container): as far as the hard limit.
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def nofile_hard():
    """The descriptors a child of ours can have at most."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, max(NOFILE, hard)))
        return max(NOFILE, hard)
    except (ValueError, OSError):
        return hard


def machine_cpu():
    """Seconds of CPU time the machine has spent busy so far (every CPU,
    idle and iowait left out), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


class Watch:
    """How much CPU processes other than ours (the servers, the load
    generator, this script) took between its creation and others(), in
    CPUs: other test runs on a shared machine skew a run, and it is then
    run again.  Our children's CPU comes from getrusage once they have
    been waited for."""

    def __init__(self, procs):
        self.procs = [p for p in procs if p.alive()]
        self.t0 = time.time()
        self.busy0 = machine_cpu()
        self.ours0 = self.ours()

    def ours(self):
        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            ru = resource.getrusage(who)
            total += ru.ru_utime + ru.ru_stime
        for p in self.procs:
            try:
                total += p.cpu()
            except OSError:
                pass
        return total

    def others(self):
        wall = max(time.time() - self.t0, 0.1)
        busy = machine_cpu() - self.busy0
        return max(busy - (self.ours() - self.ours0), 0.0) / wall


class Proc:
    """A process we started: its CPU time and memory from /proc."""

    def __init__(self, name, argv, logfile, port, cwd=None):
        self.name, self.argv, self.logfile, self.port = name, argv, logfile, port
        self.cwd = cwd
        self.p = None

    def start(self):
        out = open(self.logfile, "ab")
        self.p = subprocess.Popen(self.argv, stdout=out, stderr=out,
                                  stdin=subprocess.DEVNULL, cwd=self.cwd,
                                  preexec_fn=raise_nofile,
                                  start_new_session=True)
        out.close()

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stop(self):
        if not self.alive():
            return
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)

    def cpu(self):
        """Seconds of user and system CPU of every thread so far."""
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss(self):
        """Resident memory, bytes."""
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


class Results:
    """Values by (metric, server), their medians, and the table of rows
    (key, label, format, higher is better) with server a / server b
    ratios."""

    def __init__(self, a, b, rounds):
        self.a, self.b, self.rounds = a, b, rounds
        self.values = {}

    def add(self, metric, name, value):
        if value is not None:
            self.values.setdefault((metric, name), []).append(value)

    def median(self, key, name):
        v = self.values.get((key, name))
        return statistics.median(v) if v else None

    def table(self, rows):
        head = [f"Metric (median of {self.rounds})", self.a, self.b,
                "ratio", "better"]
        out = []
        for key, label, fmt, higher in rows:
            a, b = self.median(key, self.a), self.median(key, self.b)
            cells = [label, "n/a" if a is None else fmt.format(a),
                     "n/a" if b is None else fmt.format(b),
                     f"{a / b:.2f}x" if a is not None and b else "n/a",
                     "higher" if higher else "lower"]
            out.append(cells)
        return head, out

    def rounds_markdown(self):
        out = ["| Metric | Server | Rounds |", "|---|---|---|"]
        for (key, name), vals in sorted(self.values.items()):
            out.append(f"| {key} | {name} | " +
                       ", ".join(f"{v:,.1f}" for v in vals) + " |")
        return "\n".join(out)


def text_table(head, rows):
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = []
    for r in [head] + rows:
        lines.append("  ".join(c.ljust(widths[0]) if i == 0
                               else c.rjust(widths[i])
                               for i, c in enumerate(r)).rstrip())
        if r is head:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def write_section(path, begin, end, text, who):
    """Put text (which starts with begin and ends with end) into the file
    at path in place of what is between those markers, or at its end when
    they are not there, keeping the rest."""
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if begin in old and end in old.split(begin, 1)[1]:
        head, rest = old.split(begin, 1)
        new = head + text + rest.split(end, 1)[1]
    elif old:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    else:
        new = "# Benchmarks\n\n" + text + "\n"
    with open(path, "w") as f:
        f.write(new)
    log(f"{who}: wrote {path}")
