#!/usr/bin/env python3
"""Quick probe of xmppd's memory per idle session, without the peers or tsung: N raw clients
log in (STARTTLS, SCRAM-SHA-256, bind) against a throwaway xmppd, and the server's RSS is read
before and after. For comparing builds while working on memory; `bench/run` is the real
measurement. Usage: bench/idle_probe.py [N]   (XMPPD_BIN picks the binary, default debug)."""

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import conftest  # noqa: E402
from raw_stream import logged_in  # noqa: E402

PER_ACCOUNT = 9  # below the default resources_per_account (10)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    root = Path(tempfile.mkdtemp(prefix="xmppd-idle-probe-"))
    server = conftest.start_server(root, scram_iterations="4096", connections_per_ip="100000")
    try:
        users = [server.new_account(f"m{k}").split("@")[0] for k in range(n // PER_ACCOUNT + 2)]
        warm = logged_in(server, users[0], "warm")
        before = rss_kib(server.proc.pid)
        streams = [logged_in(server, users[i // PER_ACCOUNT + 1], f"r{i}") for i in range(n)]
        after = rss_kib(server.proc.pid)
        print(f"{n} idle sessions: RSS {before} -> {after} KiB, "
              f"{(after - before) / n:.1f} KiB per session")
        for stream in streams + [warm]:
            stream.close()
    finally:
        conftest.stop_server(server)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
