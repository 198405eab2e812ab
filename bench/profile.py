#!/usr/bin/env python3
"""Profiles xmppd during one bench phase with `perf record`: the bench's own scenario and
config, xmppd alone, on a build with symbols. Where the CPU of a figure goes, not the figure.

    cargo build --profile profiling -p xmppd
    bench/profile.py muc            # or chat
    bench/profile.py chat --quick   # the quick run's sizes; not for muc: its quick phase is
                                    # too short to keep a steady window with perf attached

Prints the phase's figures, then perf's top symbols (the users' PLAIN logins are part of every
phase: their PBKDF2 shows as sha2 compress). The recording stays in the work folder printed.
"""

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench import QUICK, Config  # noqa: E402
from benchlib import certs, phases  # noqa: E402
from benchlib.srv_xmppd import Xmppd  # noqa: E402

PHASES = {"chat": (phases.chat, "chat_users"), "muc": (phases.muc, "muc_users")}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phase", choices=sorted(PHASES))
    ap.add_argument("--quick", action="store_true", help="the quick run's sizes")
    ap.add_argument("--xmppd", default=os.path.join(os.path.dirname(HERE), "target", "profiling",
                                                    "xmppd"))
    ap.add_argument("--frequency", type=int, default=1999, help="perf samples per second")
    ap.add_argument("--top", type=int, default=50, help="symbols to print")
    args = ap.parse_args()
    if not os.path.exists(args.xmppd):
        sys.exit(f"{args.xmppd} is missing: cargo build --profile profiling -p xmppd")
    cfg = dataclasses.replace(QUICK if args.quick else Config())
    run, users_field = PHASES[args.phase]

    work = tempfile.mkdtemp(prefix="xmppd-profile-")
    os.chmod(work, 0o755)
    server = Xmppd(args.xmppd, work, *certs.make(work))
    server.configure()
    server.register(getattr(cfg, users_field))
    server.start()
    data = os.path.join(work, "perf.data")
    perf = subprocess.Popen(["perf", "record", "-F", str(args.frequency), "-p", str(server.pid),
                             "-o", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        figures = run(server, cfg, os.path.join(work, args.phase))
    finally:
        perf.send_signal(signal.SIGINT)
        perf.wait()
        server.stop()
    for key, value in figures.items():
        print(f"{key}: {value:.2f}" if isinstance(value, float) else f"{key}: {value}")
    report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", "dso,sym",
                             "--percentage", "relative"], capture_output=True, text=True)
    lines = [line for line in report.stdout.splitlines() if line.strip() and line[0] != "#"]
    print("\n".join(lines[:args.top]))
    print(f"\nrecording: {data}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
