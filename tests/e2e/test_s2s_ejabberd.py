"""Federation with a real ejabberd (Debian's 23.01), run by the test from its own config as
user `ejabberd` on 127.0.0.24 (e.test), against xmppd on 127.0.0.25 (x.test). xmppd reaches
ejabberd by a static route; ejabberd finds x.test by DNS (no SRV, so the A record, on the port its config names):
it runs in a mount namespace of its own where /etc/hosts is bind-mounted from the test's
folder, so the system's file stays untouched. Chat both ways with dialback (untrusted certificates) and with
SASL EXTERNAL (a CA both trust)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
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

EJABBERD_DOMAIN, XMPPD_DOMAIN = "e.test", "x.test"
EJABBERD_HOST, XMPPD_HOST = "127.0.0.24", "127.0.0.25"
# Not 5269: ejabberd is told xmppd's port (`outgoing_s2s_port`), so a server holding 5269 on
# every address (a local deployment) does not get in the way.
EJABBERD_S2S, XMPPD_S2S = 40669, 40525
C2S_PORT, API_PORT = 40622, 40680
USER = ("eve", "eve-ejabberd-pw-1")

pytestmark = [
    pytest.mark.skipif(not Path("/usr/sbin/ejabberdctl").exists(), reason="ejabberd not installed"),
    # A mount namespace and running as user ejabberd take root, as in CI.
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for unshare and runuser"),
]


def y(value) -> str:
    return json.dumps(value)  # JSON scalars are valid YAML flow scalars


class Ejabberd:
    def __init__(self, ca_dir: Path, *, trust_ca: Path | None):
        self.root = Path(tempfile.mkdtemp(prefix="xmppd-e2e-ejabberd-"))
        os.chmod(self.root, 0o755)
        certs = self.root / "certs"
        make_leaf(certs, ca_dir, EJABBERD_DOMAIN)
        combined = certs / "combined.pem"
        combined.write_text((certs / "fullchain.pem").read_text()
                            + (certs / "privkey.pem").read_text())
        spool, logs = self.root / "spool", self.root / "logs"
        spool.mkdir()
        logs.mkdir()
        yml = [
            f"hosts: [{y(EJABBERD_DOMAIN)}]",
            "loglevel: info",
            f"certfiles: [{y(str(combined))}]",
            "s2s_use_starttls: required",
            "s2s_access: all",
            f"outgoing_s2s_port: {XMPPD_S2S}",
            "listen:",
            f"  - port: {C2S_PORT}",
            f"    ip: {y(EJABBERD_HOST)}",
            "    module: ejabberd_c2s",
            "    starttls_required: true",
            f"  - port: {EJABBERD_S2S}",
            f"    ip: {y(EJABBERD_HOST)}",
            "    module: ejabberd_s2s_in",
            f"  - port: {API_PORT}",
            '    ip: "127.0.0.1"',
            "    module: ejabberd_http",
            "    request_handlers:",
            "      /api: mod_http_api",
            "auth_method: internal",
            "api_permissions:",
            '  "e2e":',
            "    from: [mod_http_api]",
            "    who:",
            '      ip: "127.0.0.1/8"',
            "    what: [register]",
            "modules:",
            "  mod_roster: {}",
            "  mod_disco: {}",
            "  mod_ping: {}",
            "  mod_s2s_dialback: {}",
        ]
        if trust_ca is not None:
            shutil.copy(trust_ca, certs / "trusted.pem")
            yml.insert(3, f"ca_file: {y(str(certs / 'trusted.pem'))}")
        self.config = self.root / "ejabberd.yml"
        self.config.write_text("\n".join(yml) + "\n")
        # ejabberd asks DNS for SRV records (none: NXDOMAIN) and then the system's
        # getaddrinfo, so it gets a mount namespace where /etc/hosts is the test's own.
        hosts = self.root / "hosts"
        hosts.write_text(f"127.0.0.1 localhost\n{XMPPD_HOST} {XMPPD_DOMAIN}\n")
        self.ctl = self.root / "ejabberdctl.cfg"
        self.ctl.write_text("\n".join([
            'ERLANG_NODE="ejabberd_s2s_e2e@localhost"',
            'INET_DIST_INTERFACE="127.0.0.1"',
            'ERL_EPMD_ADDRESS="127.0.0.1"',
            f'EJABBERD_PID_PATH="{self.root / "ejabberd.pid"}"',
        ]) + "\n")
        subprocess.run(["chown", "-R", "ejabberd:ejabberd", str(self.root)], check=True)
        self.log = logs / "ejabberd.log"
        env = dict(os.environ, HOME=str(spool), ERL_EPMD_ADDRESS="127.0.0.1")
        ctl = ["/usr/sbin/ejabberdctl", "--config", str(self.config), "--ctl-config",
               str(self.ctl), "--logs", str(logs), "--spool", str(spool), "foreground"]
        # Root makes the namespace and the bind mount, then becomes `ejabberd` for the server.
        script = ('mount --bind "$0" /etc/hosts && home="$1" && shift && '
                  'exec runuser -u ejabberd -- env HOME="$home" ERL_EPMD_ADDRESS=127.0.0.1 "$@"')
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
             str(hosts), str(spool), *ctl],
            stdout=open(self.root / "console.log", "wb"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(spool),
        )
        deadline = time.monotonic() + 60
        while not self.accepts(C2S_PORT, EJABBERD_HOST) or not self.accepts(API_PORT):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop(keep=True)
                pytest.fail(f"ejabberd did not start:\n{self.tail()}")
            time.sleep(0.1)
        self.register(*USER)
        self.server = Server(self.root, self.config, ca_dir / "ca.pem", C2S_PORT, 0, 0,
                             self.log, accounts=dict([USER]), domain=EJABBERD_DOMAIN,
                             host=EJABBERD_HOST)

    @staticmethod
    def accepts(port: int, host: str = "127.0.0.1") -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    def register(self, user: str, password: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", API_PORT, timeout=30)
        body = json.dumps({"user": user, "host": EJABBERD_DOMAIN, "password": password})
        conn.request("POST", "/api/register", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        text = resp.read()
        conn.close()
        assert resp.status == 200, f"ejabberd register: {resp.status} {text[:200]!r}"

    def tail(self, lines: int = 80) -> str:
        out = []
        for f in (self.root / "console.log", self.log):
            try:
                out += f.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                pass
        return "\n".join(out)

    def stop(self, keep: bool = False) -> None:
        """SIGTERM to the process group we started, then wait (bounded) until every process
        in it is gone: the Erlang node must be unregistered before the next one starts."""
        group = self.proc.pid
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while True:
            self.proc.poll()
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            if time.monotonic() > deadline:
                os.killpg(group, signal.SIGKILL)
                deadline = time.monotonic() + 10
            time.sleep(0.05)
        self.proc.wait()
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def start_pair(tmp_path, *, trusted: bool):
    ca_x = make_ca(tmp_path / "ca-x", "CA of x.test")
    ca_e = ca_x if trusted else make_ca(tmp_path / "ca-e", "CA of e.test")
    ejabberd = Ejabberd(ca_e.parent, trust_ca=ca_x if trusted else None)
    try:
        xmppd = start(tmp_path / "x", XMPPD_DOMAIN, XMPPD_HOST, ca_x.parent,
                      s2s_port=XMPPD_S2S, trust=[ca_e] if trusted else [],
                      overrides={EJABBERD_DOMAIN: f"{EJABBERD_HOST}:{EJABBERD_S2S}"},
                      require_valid=trusted)
    except BaseException:
        ejabberd.stop()
        raise
    return ejabberd, xmppd


async def exercise(tmp_path, *, trusted: bool, mechanism: str) -> None:
    ejabberd, xmppd = start_pair(tmp_path, trusted=trusted)
    try:
        try:
            await chat_both_ways(ejabberd.server, USER[0], xmppd)
            authenticated_both_ways(xmppd, EJABBERD_DOMAIN, mechanism)
        except BaseException:
            print(ejabberd.tail())
            raise
    finally:
        stop(xmppd)
        ejabberd.stop()


@run
async def test_ejabberd_dialback_with_untrusted_certificates(tmp_path):
    await exercise(tmp_path, trusted=False, mechanism="dialback")


@run
async def test_ejabberd_sasl_external_with_a_shared_ca(tmp_path):
    await exercise(tmp_path, trusted=True, mechanism="EXTERNAL")
