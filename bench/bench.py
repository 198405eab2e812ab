#!/usr/bin/env python3
"""xmppd, Prosody and ejabberd side by side under the same tsung load (issue 8).

Run through `bench/run` (which installs what is missing); see bench/README.md.
"""

import argparse
import dataclasses
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import certs, extras, phases, probe, report  # noqa: E402
from benchlib.server import password  # noqa: E402
from benchlib.srv_ejabberd import Ejabberd  # noqa: E402
from benchlib.srv_prosody import Prosody  # noqa: E402
from benchlib.srv_xmppd import Xmppd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


@dataclasses.dataclass
class Config:
    rounds: int = 3
    sessions: tuple = (1000, 3000)
    large: int = 0  # a third, larger idle-session count (--large), where the machine allows
    login_rate: float = 150
    hold_margin: float = 5
    chat_users: int = 200
    chat_arrival: float = 100
    chat_rate: float = 2000
    chat_seconds: float = 15
    muc_users: int = 100
    muc_arrival: float = 100
    muc_rate: float = 50
    muc_seconds: float = 16
    dh_bits: int = 2048


QUICK = Config(rounds=1, sessions=(300, 1000), login_rate=100, hold_margin=4, chat_users=100,
               chat_rate=1000, chat_seconds=10, muc_seconds=10)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# Per session, what the hungriest peer needs (ejabberd: 300+ KiB), with room to spare.
LARGE_KIB_PER_SESSION = 600


def machine_refuses(n):
    """Why this machine cannot hold n sessions per server (None when it can): every session is
    a file descriptor in the server and in tsung, and memory for the hungriest server."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 1024:
        return f"the open-file limit is {hard}, {n + 1024} needed"
    if soft != resource.RLIM_INFINITY and soft < n + 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 4096), hard))
    with open("/proc/meminfo", encoding="ascii") as f:
        info = dict(line.split(":", 1) for line in f)
    available_kib = int(info["MemAvailable"].split()[0])
    if available_kib < n * LARGE_KIB_PER_SESSION:
        return f"{available_kib // 1024} MiB available, {n * LARGE_KIB_PER_SESSION // 1024} needed"
    return None


def guarded(fn, *args):
    try:
        return fn(*args)
    except Exception as err:  # one failed phase must not lose the other figures
        traceback.print_exc()
        return {"error": str(err)}


def one_round(server, cfg, base, rnd):
    work = phases.workdir_for(base, server, rnd)
    out = {}
    server.start()
    try:
        found = probe.run(f"user1@{certs.DOMAIN}", password(1), server.port)
        if not found["login"]:
            raise RuntimeError(f"{server.name}: probe login failed")
        out["idle_rss_kib"] = phases.settle(server)
        cpu0 = server.cpu()
        a, b = cfg.sessions[0], cfg.sessions[-1]
        out["sessions_a"] = guarded(phases.sessions, server, cfg, a, out["idle_rss_kib"], work)
        phases.settle(server)
        out["sessions_b"] = guarded(phases.sessions, server, cfg, b, out["idle_rss_kib"], work)
        phases.settle(server)
        if cfg.large:
            out["sessions_large"] = guarded(phases.sessions, server, cfg, cfg.large,
                                            out["idle_rss_kib"], work)
            phases.settle(server)
        out["chat"] = guarded(phases.chat, server, cfg, work)
        phases.settle(server)
        if found["conference"]:
            out["muc"] = guarded(phases.muc, server, cfg, work)
        else:
            out["muc"] = "n/a"  # no conference component in disco: nothing to measure
        out["total_cpu_s"] = server.cpu() - cpu0
    finally:
        server.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="one round, smaller N (a few minutes)")
    ap.add_argument("--rounds", type=int, help="override the number of rounds")
    ap.add_argument("--only", action="append", help="run only this server (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    ap.add_argument("--xmppd", default=os.path.join(ROOT, "target", "release", "xmppd"))
    ap.add_argument("--deploy", default=os.path.join(ROOT, "target", "release", "deploy"))
    ap.add_argument("--dh-bits", type=int, help="bits for the DH timing (default 2048)")
    ap.add_argument("--skip-extras", action="store_true",
                    help="skip the DH and no-op apply timings")
    ap.add_argument("--large", type=int, metavar="N",
                    help="also hold N idle sessions (e.g. 10000) where the machine allows it")
    args = ap.parse_args()
    cfg = dataclasses.replace(QUICK if args.quick else Config())
    if args.rounds:
        cfg.rounds = args.rounds
    if args.dh_bits:
        cfg.dh_bits = args.dh_bits
    if args.large:
        refusal = machine_refuses(args.large)
        if refusal:
            log(f"--large {args.large} skipped: {refusal}")
        else:
            cfg.large = args.large

    base = tempfile.mkdtemp(prefix="xmppd-bench-")
    os.chmod(base, 0o755)  # prosody and ejabberd run as their own users and must reach it
    epmd_was_running = subprocess.run(["epmd", "-names"], capture_output=True).returncode == 0
    servers = [Xmppd(args.xmppd, base, *certs.make(base)), None, None]
    servers[1] = Prosody(base, servers[0].cert, servers[0].key, servers[0].combined)
    servers[2] = Ejabberd(base, servers[0].cert, servers[0].key, servers[0].combined)
    if args.only:
        servers = [s for s in servers if s.name in args.only]
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "config": dataclasses.asdict(cfg), "registration_s": {},
               "rounds": {s.name: [] for s in servers}}
    users = max(max(cfg.sessions), cfg.large, cfg.chat_users, cfg.muc_users)
    try:
        for s in servers:
            s.configure()
            t = time.monotonic()
            s.register(users)
            results["registration_s"][s.name] = time.monotonic() - t
            log(f"{s.name}: {users} users registered in {results['registration_s'][s.name]:.1f}s")
        for rnd in range(cfg.rounds):
            # Interleave servers and rotate their order each round: drift hits all alike.
            order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
            for s in order:
                log(f"round {rnd + 1}/{cfg.rounds}: {s.name}")
                results["rounds"][s.name].append(guarded(one_round, s, cfg, base, rnd))
        if not args.skip_extras:
            log("DH and deploy timings")
            results["extras"] = guarded(extras.run, args.deploy, base, cfg.dh_bits)
    finally:
        for s in servers:
            s.stop()
        if not epmd_was_running:
            subprocess.run(["epmd", "-kill"], capture_output=True)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            log(f"work folder kept: {base}")

    summary = report.summarise(results)
    text = report.table(results, summary)
    stamp = results["date"].replace(":", "").replace("+0000", "Z")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    kind = "quick" if args.quick else "full"
    report.write_json(os.path.join(HERE, "results", f"{stamp}-{kind}.json"), results, summary)
    with open(os.path.join(HERE, "results", f"{stamp}-{kind}.md"), "w", encoding="utf-8") as f:
        f.write(f"Run of {results['date']} ({kind})\n\n{text}\n")
    print(f"\nRun of {results['date']} ({kind})\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
