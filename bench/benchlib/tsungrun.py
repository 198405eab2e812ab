"""Runs one tsung scenario while sampling server CPU, tsung's own CPU and open connections.

tsung's `fullstats` backend writes every sample (transaction times, xmpp_msg_latency); we read
those to get percentiles, which tsung's own summary (mean/stddev/max/min) does not give.
"""

import glob
import os
import re
import subprocess
import threading
import time

from . import procstat

SAMPLE = re.compile(rb"\{sample,(\w+),(-?[0-9.e+-]+)\}")
ENV = {
    # Keep every Erlang listener on loopback: epmd and the distribution port.
    "ERL_EPMD_ADDRESS": "127.0.0.1",
    "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
}


class Sampler(threading.Thread):
    """Polls /proc every `period` seconds: (t, server cpu s, tsung cpu s, established conns,
    server RSS KiB, bytes tsung has written)."""

    def __init__(self, server, tsung_root, period=0.25):
        super().__init__(daemon=True)
        self.server, self.tsung_root, self.period = server, tsung_root, period
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.samples.append((time.monotonic(), self.server.cpu(),
                                 procstat.cpu_seconds(self.tsung_root),
                                 procstat.established(self.server.port),
                                 self.server.rss(),
                                 procstat.written_bytes(self.tsung_root)))
            self.halt.wait(self.period)


def run(xml, server, workdir, name, timeout):
    """Runs tsung on `xml`; returns (samples, {sample name: [values]}, tsung wall seconds)."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, f"{name}.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(xml)
    logdir = os.path.join(workdir, f"{name}.log")
    os.makedirs(logdir, exist_ok=True)
    out = open(os.path.join(workdir, f"{name}.out"), "wb")
    start = time.monotonic()
    proc = subprocess.Popen(["tsung", "-n", "-f", path, "-l", logdir, "start"],
                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, **ENV), start_new_session=True)
    sampler = Sampler(server, proc.pid)
    sampler.start()
    stopped_early = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        # A few tsung users can hang after its STARTTLS race; the figures are taken by now.
        stopped_early = True
        subprocess.run(["tsung", "stop"], env=dict(os.environ, **ENV), capture_output=True,
                       timeout=60)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
    finally:
        sampler.halt.set()
        sampler.join()
        out.close()
    wall = time.monotonic() - start
    stats = {}
    for full in glob.glob(os.path.join(logdir, "*", "tsung-fullstats.log")):
        with open(full, "rb") as f:
            for m in SAMPLE.finditer(f.read()):
                stats.setdefault(m.group(1).decode(), []).append(float(m.group(2)))
    stats["stopped_early"] = [1.0] if stopped_early else []
    return sampler.samples, stats, wall


def peak(samples):
    """Most connections open at once during the run."""
    return max((s[3] for s in samples), default=0)


def full_window(samples, n):
    """First and last sample index of the longest stretch with (nearly) n connections open.

    A few connections tsung loses under load may be open for a moment and then close, so
    "nearly" allows 2 % (at least 2) fewer than n.
    """
    floor = n - max(2, 0.02 * n)
    best, start = None, None
    for i, s in enumerate(samples + [(0, 0, 0, -1, 0, 0)]):
        if s[3] >= floor and start is None:
            start = i
        elif s[3] < floor and start is not None:
            if best is None or i - 1 - start > best[1] - best[0]:
                best = (start, i - 1)
            start = None
    return best


def delta(samples, t0, t1):
    """Server CPU s, tsung CPU s and wall s between the samples nearest t0 and t1."""
    inside = [s for s in samples if t0 <= s[0] <= t1]
    if len(inside) < 2:
        return None
    a, b = inside[0], inside[-1]
    return b[1] - a[1], b[2] - a[2], b[0] - a[0]
