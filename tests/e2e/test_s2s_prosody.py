"""Federation with a real Prosody (Debian's 0.12), run by the test from its own config as user
`prosody` on 127.0.0.22 (p.test), against xmppd on 127.0.0.23 (x.test). xmppd reaches Prosody
by a static route; Prosody finds x.test by DNS like any server: no SRV record, so the A record
on port 5269. Prosody resolves with lua-unbound, whose `hoststxt` Prosody switches off by
default: the config points it at a hosts file of the test's own (the system's is untouched,
and the packaged Prosody service is not involved: own config, pid file, data and ports)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import Server
from e2e_client import run
from s2s_support import (authenticated_both_ways, chat_both_ways, make_ca, make_leaf, start,
                         stop)

PROSODY_DOMAIN, XMPPD_DOMAIN = "p.test", "x.test"
PROSODY_HOST, XMPPD_HOST = "127.0.0.22", "127.0.0.23"
S2S_PORT = 5269
PROSODY_C2S = 40522
PROSODY_USER = ("pat", "pat-prosody-pw-1")

pytestmark = [
    pytest.mark.skipif(shutil.which("prosody") is None, reason="prosody not installed"),
    # It runs as user prosody (runuser, chown): that takes root, as in CI.
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run prosody as its user"),
]


def lua(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Prosody:
    def __init__(self, ca_dir: Path, *, trust_xmppd_ca: Path | None):
        # Prosody runs as its own user: a folder it can read, outside pytest's 0700 tree.
        self.root = Path(tempfile.mkdtemp(prefix="xmppd-e2e-prosody-"))
        os.chmod(self.root, 0o755)
        certs = self.root / "certs"
        make_leaf(certs, ca_dir, PROSODY_DOMAIN)
        data = self.root / "data"
        data.mkdir()
        (self.root / "hosts").write_text(f"{XMPPD_HOST} {XMPPD_DOMAIN}\n")
        ssl = [f"certificate = {lua(str(certs / 'fullchain.pem'))}",
               f"key = {lua(str(certs / 'privkey.pem'))}"]
        if trust_xmppd_ca is not None:
            shutil.copy(trust_xmppd_ca, certs / "trusted.pem")
            ssl.append(f"cafile = {lua(str(certs / 'trusted.pem'))}")
        self.log = self.root / "prosody.log"
        self.config = self.root / "prosody.cfg.lua"
        self.config.write_text("\n".join([
            f"pidfile = {lua(str(self.root / 'prosody.pid'))}",
            f"data_path = {lua(str(data))}",
            f"log = {{ {{ levels = {{ min = \"debug\" }}, to = \"file\", "
            f"filename = {lua(str(self.log))} }} }}",
            'modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco", "ping" }',
            'modules_disabled = { "posix" }',
            f'interfaces = {{ "{PROSODY_HOST}" }}',
            f"c2s_ports = {{ {PROSODY_C2S} }}",
            f"s2s_ports = {{ {S2S_PORT} }}",
            "c2s_direct_tls_ports = { }",
            "http_ports = { }",
            "https_ports = { }",
            "c2s_require_encryption = true",
            "s2s_require_encryption = true",
            f"s2s_secure_auth = {'true' if trust_xmppd_ca else 'false'}",
            'authentication = "internal_hashed"',
            f"ssl = {{ {', '.join(ssl)} }}",
            f"unbound = {{ hoststxt = {lua(str(self.root / 'hosts'))} }}",
            f"VirtualHost {lua(PROSODY_DOMAIN)}",
            "",
        ]))
        subprocess.run(["chown", "-R", "prosody:prosody", str(self.root)], check=True)
        user, password = PROSODY_USER
        out = self.as_prosody("prosodyctl", "--config", str(self.config), "register",
                              user, PROSODY_DOMAIN, password)
        assert out.returncode == 0, f"prosodyctl register failed: {out.stdout}{out.stderr}"
        self.proc = subprocess.Popen(
            ["runuser", "-u", "prosody", "--", "prosody", "--config", str(self.config), "-F"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"prosody exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with socket.create_connection((PROSODY_HOST, PROSODY_C2S), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"prosody not ready:\n{self.tail()}")
                time.sleep(0.05)
        self.server = Server(self.root, self.config, ca_dir / "ca.pem", PROSODY_C2S, 0, 0,
                             self.log, accounts={user: password}, domain=PROSODY_DOMAIN,
                             host=PROSODY_HOST)

    @staticmethod
    def as_prosody(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "prosody", "--", *args],
                              capture_output=True, text=True, timeout=30)

    def tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_pair(tmp_path, *, trusted: bool):
    """xmppd and Prosody; `trusted`: one CA both trust, else each its own and neither trusts."""
    ca_x = make_ca(tmp_path / "ca-x", "CA of x.test")
    ca_p = ca_x if trusted else make_ca(tmp_path / "ca-p", "CA of p.test")
    prosody = Prosody(ca_p.parent, trust_xmppd_ca=ca_x if trusted else None)
    try:
        xmppd = start(tmp_path / "x", XMPPD_DOMAIN, XMPPD_HOST, ca_x.parent, s2s_port=S2S_PORT,
                      trust=[ca_p] if trusted else [],
                      overrides={PROSODY_DOMAIN: f"{PROSODY_HOST}:{S2S_PORT}"},
                      require_valid=trusted)
    except BaseException:
        prosody.stop()
        raise
    return prosody, xmppd


async def exercise(tmp_path, *, trusted: bool, mechanism: str) -> None:
    prosody, xmppd = start_pair(tmp_path, trusted=trusted)
    try:
        try:
            await chat_both_ways(prosody.server, PROSODY_USER[0], xmppd)
            authenticated_both_ways(xmppd, PROSODY_DOMAIN, mechanism)
        except BaseException:
            print(prosody.tail())
            raise
    finally:
        stop(xmppd)
        prosody.stop()


@run
async def test_prosody_dialback_with_untrusted_certificates(tmp_path):
    await exercise(tmp_path, trusted=False, mechanism="dialback")


@run
async def test_prosody_sasl_external_with_a_shared_ca(tmp_path):
    await exercise(tmp_path, trusted=True, mechanism="EXTERNAL")
