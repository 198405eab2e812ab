"""Harness for end-to-end tests: a real xmppd process and real XMPP clients (slixmpp).

The `server` fixture makes a throwaway CA and certificate, copies examples/xmppd.toml with
free ports, creates accounts with `xmppd adduser`, runs `xmppd run` and stops it with SIGTERM.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "example.test"

# Accounts every server starts with; the passwords are searched for in the data folder.
ACCOUNTS = {
    "alice": "alice-secret-pw-1",
    "bob": "bob-secret-pw-22",
    "carol": "carol-secret-pw-333",
    "dave": "dave-secret-pw-4444",
    "erin": "erin-secret-pw-55555",
    "frank": "frank-secret-pw-6",
    "grace": "grace-secret-pw-77",
    "heidi": "heidi-secret-pw-888",
    "ivan": "ivan-secret-pw-9999",
    "judy": "judy-secret-pw-00000",
    # Only ever fails to log in (bad channel bindings): keeps the per-account failure
    # throttle (5 a minute by default) away from the accounts other tests log in with.
    "mallory": "mallory-secret-pw-1",
}

READY_TIMEOUT = 20.0


def xmppd_bin() -> Path:
    path = Path(os.environ.get("XMPPD_BIN", REPO / "target" / "debug" / "xmppd"))
    if not path.is_absolute():
        path = REPO / path
    if not path.exists():
        pytest.fail(f"xmppd binary not found at {path}: run `cargo build -p xmppd` first")
    return path


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A port that binds now, from below the kernel's ephemeral range: a port the kernel hands
    out as the local end of some outgoing connection (the tests', or a benchmark's beside them)
    could be taken again before the server binds it."""
    low, _ = _ephemeral_range()
    for _ in range(200):
        port = random.randrange(20000, max(20001, min(low, 32768)))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certs(folder: Path) -> Path:
    """A CA and a leaf (EC P-256) for example.test and its subdomains; returns the CA path."""
    folder.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(args, cwd=folder, check=True, capture_output=True)

    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
    run(
        "openssl", "req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "2",
        "-subj", "/CN=xmppd e2e test CA", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "leaf.key")
    # xmppd reads PKCS#8 or SEC1; PKCS#8 is the common form.
    run("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", "leaf.key", "-out", "privkey.pem")
    run("openssl", "req", "-new", "-key", "privkey.pem", "-subj", f"/CN={DOMAIN}", "-out", "leaf.csr")
    (folder / "leaf.ext").write_text(
        f"subjectAltName=DNS:{DOMAIN},DNS:*.{DOMAIN}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth,clientAuth\n"
    )
    run(
        "openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-sha256", "-extfile", "leaf.ext", "-out", "leaf.pem",
    )
    (folder / "fullchain.pem").write_text(
        (folder / "leaf.pem").read_text() + (folder / "ca.pem").read_text()
    )
    os.chmod(folder / "privkey.pem", 0o600)
    return folder / "ca.pem"


@dataclass
class Server:
    """A running xmppd and what a test needs to talk to it."""

    root: Path
    config: Path
    ca: Path
    c2s_port: int
    direct_tls_port: int
    http_port: int
    log: Path
    proc: subprocess.Popen | None = None
    accounts: dict[str, str] = field(default_factory=lambda: dict(ACCOUNTS))
    # Other domains and addresses are used by the federation tests (test_s2s*.py).
    domain: str = DOMAIN
    host: str = "127.0.0.1"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def leaf_der(self) -> bytes:
        pem = (self.root / "certs" / "leaf.pem").read_text()
        import ssl

        return ssl.PEM_cert_to_DER_cert(pem)

    def jid(self, user: str) -> str:
        return f"{user}@{self.domain}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = re.sub(r"\x1b\[[0-9;]*m", "", self.log.read_text(errors="replace"))
            return "\n".join(text.splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def new_account(self, user: str) -> str:
        """Create an account on the running server (a test's own, so tests stay independent)."""
        password = f"{user}-secret-pw-{len(self.accounts)}"
        out = self.admin("adduser", self.jid(user), stdin=password + "\n")
        assert out.returncode == 0, f"adduser {user} failed: {out.stderr}"
        self.accounts[user] = password
        return self.jid(user)

    def admin(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(xmppd_bin()), *args, "-c", str(self.config)],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=30,
        )


def write_config(root: Path, c2s: int, direct: int, http: int, **overrides: str) -> Path:
    """Copy the example config, changing only the listener ports (and given top-level keys)."""
    text = (REPO / "examples" / "xmppd.toml").read_text()
    text, n1 = re.subn(r'(?m)^c2s_starttls = .*$', f'c2s_starttls = ["127.0.0.1:{c2s}"]', text)
    text, n2 = re.subn(r'(?m)^c2s_direct_tls = .*$', f'c2s_direct_tls = ["127.0.0.1:{direct}"]', text)
    text, n3 = re.subn(r'(?m)^http = .*$', f'http = ["127.0.0.1:{http}"]', text)
    assert (n1, n2, n3) == (1, 1, 1), "examples/xmppd.toml changed shape: update write_config"
    # URLs the server hands out (upload slots) must name the test's HTTP port.
    text = text.replace("http://127.0.0.1:5280", f"http://127.0.0.1:{http}")
    text = text.replace('listen = "127.0.0.1:7777"', f'listen = "127.0.0.1:{free_port()}"')
    for key, value in overrides.items():
        text, n = re.subn(rf'(?m)^{re.escape(key)} = .*$', f"{key} = {value}", text)
        assert n == 1, f"no key {key} in examples/xmppd.toml"
    path = root / "xmppd.toml"
    path.write_text(text)
    return path


def wait_ready(server: Server) -> None:
    """Poll until the c2s port accepts TCP, with a bounded deadline (readiness, not a sleep)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"xmppd exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            with socket.create_connection((server.host, server.c2s_port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"xmppd not ready after {READY_TIMEOUT}s:\n{server.log_tail()}")


def start_server(root: Path, **overrides: str) -> Server:
    ca = make_certs(root / "certs")
    for attempt in range(3):
        c2s, direct, http = free_port(), free_port(), free_port()
        config = write_config(root, c2s, direct, http, **overrides)
        server = Server(root, config, ca, c2s, direct, http, root / "xmppd.log")
        if attempt == 0:
            for user, password in server.accounts.items():
                out = server.admin("adduser", server.jid(user), stdin=password + "\n")
                assert out.returncode == 0, f"adduser {user} failed: {out.stderr}"
        try:
            return _launch(server)
        except pytest.fail.Exception:
            # Another process took a port between free_port() and the bind: new ports.
            if "Address already in use" not in server.log_tail() or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _launch(server: Server) -> Server:
    config = server.config
    log = open(server.log, "wb")
    server.proc = subprocess.Popen(
        [str(xmppd_bin()), "run", "-c", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "XMPPD_LOG": os.environ.get("XMPPD_LOG", "info")},
    )
    log.close()
    try:
        wait_ready(server)
    except BaseException:
        # Never leave a half-started server behind.
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        raise
    return server


def stop_server(server: Server) -> None:
    proc = server.proc
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"xmppd did not stop on SIGTERM:\n{server.log_tail()}")
    assert code == 0, f"xmppd exited with {code} on SIGTERM:\n{server.log_tail()}"


def _server_fixture(tmp_path_factory, name: str):
    root = tmp_path_factory.mktemp(name)
    server = start_server(root)
    failed_before = _failures()
    yield server
    stop_server(server)
    if _failures() > failed_before:
        sys.stderr.write(f"\n--- xmppd log tail ({name}) ---\n{server.log_tail()}\n")
    else:
        shutil.rmtree(root, ignore_errors=True)


_FAILED = {"n": 0}


def _failures() -> int:
    return _FAILED["n"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        _FAILED["n"] += 1
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, Server):
                report.sections.append(("xmppd log tail", value.log_tail()))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One server shared by the tests that do not change global state."""
    yield from _server_fixture(tmp_path_factory, "xmppd")


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory):
    """A server of the test module's own, for tests that change accounts or stored data."""
    yield from _server_fixture(tmp_path_factory, "xmppd-fresh")


@pytest.fixture
def own_server(tmp_path):
    """Starts servers of the test's own, with config overrides (`own_server(keepalive_secs="1")`)."""
    servers = []

    def start(**overrides):
        server = start_server(tmp_path, **overrides)
        servers.append(server)
        return server

    yield start
    for server in servers:
        stop_server(server)
