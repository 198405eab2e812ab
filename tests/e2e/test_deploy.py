"""`deploy` against the real Docker engine: apply examples/quickstart.yaml (a copy with its own
name, free ports and state dir), accounts made with `deploy user add`, slixmpp clients that log
in over c2s STARTTLS with SCRAM and chat, a no-op plan, a port change that replaces only xmppd,
destroy keeping the data volume, and an apply killed mid-way that the next apply repairs.

Needs the deploy binary (`cargo build -p deploy`); XMPPD_STATIC_BINARY names a prebuilt static
xmppd (else deploy builds one with cargo, which takes minutes). Every object is removed at the
end, also when a test fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import ssl
import subprocess
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import slixmpp

from conftest import REPO, free_port
from e2e_client import run, take

DOMAIN = "xmpp.localhost"
LABEL = "org.xmppd.deploy.deployment"
WAIT = 15.0
PORTS = ("c2s", "c2s_direct_tls", "s2s", "s2s_direct_tls", "http", "https", "proxy65")

pytestmark = pytest.mark.skipif(shutil.which("docker") is None, reason="needs a Docker engine")


def deploy_bin() -> Path:
    path = Path(os.environ.get("DEPLOY_BIN", REPO / "target" / "debug" / "deploy"))
    if not path.exists():
        pytest.fail(f"deploy binary not found at {path}: run `cargo build -p deploy` first")
    return path


class Deployment:
    """A copy of the quickstart spec with its own name, ports and state dir."""

    def __init__(self, root: Path):
        self.name = f"t-deploy-{uuid.uuid4().hex[:8]}"
        self.root = root
        self.state = root / "state"
        self.spec = root / "spec.yaml"
        self.ports = {p: free_port() for p in PORTS}
        self.write()

    def write(self) -> None:
        text = (REPO / "examples" / "quickstart.yaml").read_text()
        text = text.replace("name: quickstart", f"name: {self.name}")
        text = text.replace("state_dir: .state/quickstart", f"state_dir: {self.state}")
        assert self.name in text and str(self.state) in text, "quickstart.yaml changed shape"
        text += "ports:\n" + "".join(f"  {k}: {v}\n" for k, v in self.ports.items())
        self.spec.write_text(text)

    def run(self, *args: str, stdin: str | None = None, env: dict | None = None,
            check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [str(deploy_bin()), *args],
            input=stdin, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        if check:
            assert out.returncode == 0, f"deploy {' '.join(args)}: {out.returncode}\n{out.stdout}\n{out.stderr}"
        return out

    def apply(self) -> str:
        return self.run("apply", str(self.spec)).stdout

    def plan(self) -> dict:
        return json.loads(self.run("plan", "--output", "json", str(self.spec)).stdout)

    def add_user(self, user: str, password: str) -> None:
        self.run("user", "add", str(self.spec), f"{user}@{DOMAIN}", stdin=password + "\n")

    def containers(self) -> dict[str, dict]:
        ids = docker("ps", "-aq", "--filter", f"label={LABEL}={self.name}").split()
        if not ids:
            return {}
        return {c["Name"].lstrip("/"): c for c in json.loads(docker("inspect", *ids))}

    def volumes(self) -> list[str]:
        return docker("volume", "ls", "-q", "--filter", f"label={LABEL}={self.name}").split()

    @property
    def ca(self) -> Path:
        return self.state / "ca" / "ca.pem"

    def cleanup(self) -> None:
        self.run("destroy", "--purge", "--yes", str(self.spec), check=False)
        # Whatever destroy missed (it is under test too).
        for kind in ("container", "network", "volume"):
            ls = ["ps", "-aq"] if kind == "container" else [kind, "ls", "-q"]
            ids = docker(*ls, "--filter", f"label={LABEL}={self.name}").split()
            if ids:
                rm = ["rm", "-f"] if kind == "container" else [kind, "rm"]
                docker(*rm, *ids, check=False)


def docker(*args: str, check: bool = True) -> str:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check:
        assert out.returncode == 0, f"docker {' '.join(args)}: {out.stderr}"
    return out.stdout


@pytest.fixture
def deployment(tmp_path):
    d = Deployment(tmp_path)
    try:
        yield d
    finally:
        d.cleanup()


class Chatter(slixmpp.ClientXMPP):
    def __init__(self, d: Deployment, user: str, password: str):
        super().__init__(f"{user}@{DOMAIN}/e2e", password, sasl_mech="SCRAM-SHA-256")
        self.ca_certs = str(d.ca)
        self.enable_plaintext = False
        self.enable_direct_tls = False
        self.enable_starttls = True
        self.port = d.ports["c2s"]
        self.messages: asyncio.Queue = asyncio.Queue()
        self.outcome = asyncio.get_running_loop().create_future()
        self.add_event_handler("message", self.messages.put_nowait)
        self.add_event_handler("session_start", lambda _e: self.outcome.done() or self.outcome.set_result(True))
        self.add_event_handler("failed_auth", lambda _e: self.outcome.done() or self.outcome.set_result(False))

    async def login(self) -> "Chatter":
        self.connect("127.0.0.1", self.port)
        ok = await asyncio.wait_for(asyncio.shield(self.outcome), WAIT)
        assert ok, f"{self.requested_jid} could not log in"
        self.send_presence()
        return self

    async def close(self) -> None:
        await asyncio.wait_for(self.disconnect(wait=1.0), WAIT)


async def chat(d: Deployment, accounts: dict[str, str]) -> None:
    """Both accounts log in over STARTTLS with SCRAM and exchange a message each way."""
    (a, pa), (b, pb) = accounts.items()
    alice = await Chatter(d, a, pa).login()
    bob = await Chatter(d, b, pb).login()
    try:
        for sender, receiver, body in ((alice, bob, "hello bob"), (bob, alice, "hello alice")):
            # To the full JID: delivery to the bare JID would race the receiver's presence.
            sender.send_message(mto=receiver.boundjid.full, mbody=body, mtype="chat")
            msg = await take(receiver.messages, body, WAIT, lambda m, body=body: m["body"] == body)
            assert str(msg["from"].bare) == f"{sender.boundjid.bare}"
    finally:
        await alice.close()
        await bob.close()


def host_meta(d: Deployment) -> str:
    """host-meta through nginx over TLS, verified against the deployment's CA."""
    ctx = ssl.create_default_context(cafile=str(d.ca))
    with socket.create_connection(("127.0.0.1", d.ports["https"]), timeout=WAIT) as raw:
        with ctx.wrap_socket(raw, server_hostname=DOMAIN) as s:
            s.sendall(f"GET /.well-known/host-meta HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    return data.decode()


async def websocket_chat(d: Deployment, accounts: dict[str, str]) -> None:
    """alice logs in over RFC 7395 WebSocket through nginx (wss, the deployment's CA, SCRAM) and
    exchanges a message each way with bob on c2s."""
    import websockets.asyncio.client

    from framed_client import FRAMING_NS, WebSocketClient
    from raw_stream import BIND_NS, STREAM_NS, q

    (a, pa), (b, pb) = accounts.items()
    ctx = ssl.create_default_context(cafile=str(d.ca))
    # The URL names the deployment's domain (Host header and SNI); TCP goes to loopback.
    url = f"wss://{DOMAIN}:{d.ports['https']}/xmpp-websocket"
    ws = await websockets.asyncio.client.connect(url, subprotocols=["xmpp"], ssl=ctx,
                                                 host="127.0.0.1", open_timeout=WAIT)
    client = WebSocketClient(ws)

    async def open_stream() -> ET.Element:
        await client.send(f"<open xmlns='{FRAMING_NS}' to='{DOMAIN}' version='1.0'/>")
        opened = await client.next(WAIT)
        assert opened.tag == q(FRAMING_NS, "open") and opened.get("from") == DOMAIN, opened.attrib
        features = await client.next(WAIT)
        assert features.tag == q(STREAM_NS, "features"), features.tag
        return features

    bob = await Chatter(d, b, pb).login()
    try:
        await open_stream()
        await client.scram(a, pa)
        assert (await open_stream()).find(q(BIND_NS, "bind")) is not None
        await client.send(f"<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='{BIND_NS}'>"
                          "<resource>ws</resource></bind></iq>")
        bound = await client.next(WAIT)
        assert bound.get("type") == "result", ET.tostring(bound)
        await client.send("<presence xmlns='jabber:client'/>")
        await client.send(f"<message xmlns='jabber:client' type='chat' to='{bob.boundjid.full}'>"
                          "<body>hello over websocket</body></message>")
        msg = await take(bob.messages, "the WebSocket message", WAIT,
                         lambda m: m["body"] == "hello over websocket")
        assert str(msg["from"]) == f"{a}@{DOMAIN}/ws"
        bob.send_message(mto=f"{a}@{DOMAIN}/ws", mbody="hello back", mtype="chat")
        while True:
            got = await client.next(WAIT)
            if got.tag == "{jabber:client}message" and got.findtext("{jabber:client}body") == "hello back":
                break
    finally:
        await ws.close()
        await bob.close()


ACCOUNTS = {"alice": "alice-deploy-pw-1", "bob": "bob-deploy-pw-22"}


@run
async def _websocket_chat(d, accounts):
    await websocket_chat(d, accounts)


@run
async def _chat(d, accounts):
    await chat(d, accounts)


def test_quickstart_lifecycle(deployment):
    d = deployment
    first = d.apply()
    assert "+ container " in first, first
    running = d.containers()
    assert sorted(running) == [f"{d.name}-nginx", f"{d.name}-xmppd"]
    for c in running.values():
        assert c["State"]["Health"]["Status"] == "healthy", c["State"]
        assert c["Config"]["User"] == "10000:10000"
        assert c["HostConfig"]["ReadonlyRootfs"] is True
        assert c["HostConfig"]["CapDrop"] == ["ALL"]
        assert c["HostConfig"]["Init"] is True

    # A second apply and a plan find nothing to do.
    assert "no changes" in d.apply()
    assert d.run("plan", "--detailed-exitcode", str(d.spec)).returncode == 0
    assert d.plan()["changes"] == []

    for user, password in ACCOUNTS.items():
        d.add_user(user, password)
    listed = d.run("user", "list", str(d.spec)).stdout
    assert f"alice@{DOMAIN}" in listed and f"bob@{DOMAIN}" in listed, listed
    _chat(d, ACCOUNTS)
    _websocket_chat(d, ACCOUNTS)
    assert "<XRD" in host_meta(d)

    status = json.loads(d.run("status", "--output", "json", str(d.spec)).stdout)
    assert [c["health"] for c in status["containers"]] == ["healthy", "healthy"], status
    assert status["xmppd_version"].startswith("xmppd "), status
    assert status["certificate_days_left"] > 30, status
    assert d.ports["c2s"] in status["containers"][0]["ports"]

    # A port change: the plan says so (exit 2) and replaces only xmppd.
    nginx_id = running[f"{d.name}-nginx"]["Id"]
    xmppd_id = running[f"{d.name}-xmppd"]["Id"]
    d.ports["c2s"] = free_port()
    d.write()
    assert d.run("plan", "--detailed-exitcode", str(d.spec), check=False).returncode == 2
    changes = d.plan()["changes"]
    containers = [(c["action"], c["name"]) for c in changes if c["kind"] == "container"]
    assert containers == [("replace", f"{d.name}-xmppd")], changes
    d.apply()
    after = d.containers()
    assert after[f"{d.name}-nginx"]["Id"] == nginx_id
    assert after[f"{d.name}-xmppd"]["Id"] != xmppd_id
    _chat(d, ACCOUNTS)

    # destroy keeps the data; the next apply brings the same accounts back.
    d.run("destroy", str(d.spec))
    assert d.containers() == {}
    assert f"{d.name}-xmppd-data" in d.volumes()
    d.apply()
    _chat(d, ACCOUNTS)


def test_killed_apply_converges_and_applies_never_interleave(deployment):
    d = deployment
    plan = d.plan()["changes"]
    # Pause right after the xmppd container was created (before nginx exists).
    step = next(i for i, c in enumerate(plan, 1)
                if c["kind"] == "container" and c["name"].endswith("-xmppd"))
    proc = subprocess.Popen(
        [str(deploy_bin()), "apply", str(d.spec)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "DEPLOY_PAUSE_AFTER_STEP": str(step)},
    )
    try:
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if f"paused after step {step}" in line:
                break
        else:
            pytest.fail(f"apply never reached step {step}: {''.join(seen)}")
        # The paused apply holds the lock: a second one refuses instead of interleaving.
        second = d.run("apply", str(d.spec), check=False)
        assert second.returncode == 1 and "holds the lock" in second.stderr, second.stderr
        proc.kill()
        proc.wait(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
    half = d.containers()
    assert list(half) == [f"{d.name}-xmppd"], list(half)
    out = d.apply()
    assert f"+ container {d.name}-nginx" in out, out
    assert d.run("plan", "--detailed-exitcode", str(d.spec)).returncode == 0
    assert sorted(d.containers()) == [f"{d.name}-nginx", f"{d.name}-xmppd"]


def test_xmppd_health_probe_answers_only_for_a_running_server(server, tmp_path):
    """The probe the xmppd container's health check runs: ok against a live server's HTTP
    listener, a failure when nothing listens there."""
    from conftest import write_config, xmppd_bin

    live = subprocess.run([str(xmppd_bin()), "health", "-c", str(server.config)],
                          capture_output=True, text=True, timeout=30)
    assert live.returncode == 0 and live.stdout.strip() == "ok", live
    shutil.copytree(server.root / "certs", tmp_path / "certs")
    idle = write_config(tmp_path, free_port(), free_port(), free_port())
    dead = subprocess.run([str(xmppd_bin()), "health", "-c", str(idle)],
                          capture_output=True, text=True, timeout=30)
    assert dead.returncode != 0, dead
    assert "connecting to 127.0.0.1" in dead.stderr, dead.stderr


def served_leaf(d: Deployment, port: int) -> bytes:
    """The DER leaf certificate a TLS listener serves for the deployment's domain."""
    ctx = ssl.create_default_context(cafile=str(d.ca))
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        with ctx.wrap_socket(raw, server_hostname=DOMAIN) as s:
            return s.getpeercert(binary_form=True)


def served_leaf_s2s(d: Deployment, port: int) -> bytes:
    """The DER leaf certificate the s2s port serves after STARTTLS (RFC 6120 §5), as a peer
    server opening a `jabber:server` stream to the deployment's domain sees it."""
    import time

    ctx = ssl.create_default_context(cafile=str(d.ca))
    deadline = time.monotonic() + WAIT

    def read_until(sock: socket.socket, marker: bytes) -> None:
        seen = b""
        while marker not in seen:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = sock.recv(4096)
            assert chunk, f"the s2s port closed before {marker!r}: {seen!r}"
            seen += chunk

    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        raw.sendall(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
            "xmlns:stream='http://etherx.jabber.org/streams' "
            f"to='{DOMAIN}' from='peer.localhost' version='1.0'>".encode()
        )
        read_until(raw, b"</stream:features>")
        raw.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        read_until(raw, b"<proceed")
        with ctx.wrap_socket(raw, server_hostname=DOMAIN) as s:
            return s.getpeercert(binary_form=True)


def served_soon(d: Deployment, port: int, want: bytes) -> None:
    """Waits (bounded) until a listener serves `want`: nginx's reload lets old workers finish
    the connections they accepted, so the switch is not instant."""
    import time

    deadline = time.monotonic() + WAIT
    while (got := served_leaf(d, port)) != want and time.monotonic() < deadline:
        time.sleep(0.2)
    assert got == want, f"port {port} still serves the old certificate"


def state_leaf(d: Deployment) -> bytes:
    pem = (d.state / "tls" / "fullchain.pem").read_text()
    return ssl.PEM_cert_to_DER_cert(pem[: pem.index("-----END CERTIFICATE-----") + 25])


@run
async def _renewal_reaches_new_clients_and_keeps_old_ones(d: Deployment) -> None:
    (a, pa), (b, pb) = ACCOUNTS.items()
    alice = await Chatter(d, a, pa).login()
    try:
        old = state_leaf(d)
        assert served_leaf(d, d.ports["https"]) == old
        assert served_leaf(d, d.ports["c2s_direct_tls"]) == old
        assert served_leaf_s2s(d, d.ports["s2s"]) == old
        d.run("certs", "renew", "--force", str(d.spec))
        new = state_leaf(d)
        assert new != old, "renew --force kept the old certificate"
        changes = d.plan()["changes"]
        reloads = sorted(c["name"] for c in changes if c["kind"] == "reload")
        assert reloads == ["nginx", "xmppd"], changes
        assert not [c for c in changes if c["kind"] == "container"], changes
        ids = {name: c["Id"] for name, c in d.containers().items()}
        d.apply()
        assert {name: c["Id"] for name, c in d.containers().items()} == ids, "a container was replaced"
        # Both consumers serve the new certificate to new clients...
        served_soon(d, d.ports["https"], new)
        served_soon(d, d.ports["c2s_direct_tls"], new)
        # s2s shares xmppd's certificate store: the reload reaches it too.
        assert served_leaf_s2s(d, d.ports["s2s"]) == new
        # ...and the client connected before the reload is still there.
        bob = await Chatter(d, b, pb).login()
        try:
            bob.send_message(mto=alice.boundjid.full, mbody="after the renewal", mtype="chat")
            await take(alice.messages, "a message after the renewal", WAIT,
                       lambda m: m["body"] == "after the renewal")
        finally:
            await bob.close()
    finally:
        await alice.close()
    assert d.run("plan", "--detailed-exitcode", str(d.spec), check=False).returncode == 0


def test_certificate_renewal_reloads_xmppd_and_nginx_without_restarts(deployment):
    """Issue #4: after a renewal every consumer loads the new certificate without a restart."""
    d = deployment
    d.apply()
    for user, password in ACCOUNTS.items():
        d.add_user(user, password)
    _renewal_reaches_new_clients_and_keeps_old_ones(d)
