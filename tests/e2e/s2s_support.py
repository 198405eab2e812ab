"""Two (or more) federating xmppd processes for the s2s tests: each its own domain, its own
loopback address, its own certificate; static routes between them (`s2s.connect_overrides`)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

from conftest import Server, _launch, stop_server
from raw_stream import STREAM_NS, TIMEOUT, TLS_NS, RawStream, mechanisms, q
from xml.sax.saxutils import quoteattr
import xml.etree.ElementTree as ET

USERS = {"alice": "alice-s2s-pw-1", "bob": "bob-s2s-pw-22"}


def run(folder: Path, *args: str) -> None:
    subprocess.run(args, cwd=folder, check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    run(folder, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
    run(
        folder, "openssl", "req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "2",
        "-subj", f"/CN={name}", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )
    return folder / "ca.pem"


def make_leaf(folder: Path, ca_dir: Path, domain: str) -> None:
    """fullchain.pem + privkey.pem for `domain` and its subdomains, signed by the CA in ca_dir.
    Server and client auth: the same certificate is presented on outgoing s2s (XEP-0178)."""
    folder.mkdir(parents=True, exist_ok=True)
    run(folder, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "leaf.key")
    run(folder, "openssl", "pkcs8", "-topk8", "-nocrypt", "-in", "leaf.key", "-out", "privkey.pem")
    run(folder, "openssl", "req", "-new", "-key", "privkey.pem", "-subj", f"/CN={domain}",
        "-out", "leaf.csr")
    (folder / "leaf.ext").write_text(
        f"subjectAltName=DNS:{domain},DNS:*.{domain}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth,clientAuth\n"
    )
    run(
        folder, "openssl", "x509", "-req", "-in", "leaf.csr", "-CA", str(ca_dir / "ca.pem"),
        "-CAkey", str(ca_dir / "ca.key"), "-CAcreateserial", "-days", "2", "-sha256",
        "-extfile", "leaf.ext", "-out", "leaf.pem",
    )
    (folder / "fullchain.pem").write_text(
        (folder / "leaf.pem").read_text() + (ca_dir / "ca.pem").read_text()
    )
    os.chmod(folder / "privkey.pem", 0o600)


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def start(root: Path, domain: str, host: str, ca_dir: Path, *, s2s_port: int | None = None,
          trust: list[Path] = (), overrides: dict[str, str] | None = None,
          require_valid: bool = True, muc: bool = False,
          s2s_settings: dict[str, int] | None = None) -> Server:
    """An xmppd for `domain` on `host`, with a certificate from the CA in `ca_dir`."""
    make_leaf(root / "certs", ca_dir, domain)
    c2s = free_port(host)
    s2s = s2s_port or free_port(host)
    s2s_direct = free_port(host)
    lines = [
        'data_dir = "data"',
        "",
        "[[vhost]]",
        f"domain = {toml_str(domain)}",
        'certificate = "certs/fullchain.pem"',
        'key = "certs/privkey.pem"',
        "",
        "[listeners]",
        f'c2s_starttls = ["{host}:{c2s}"]',
        f'c2s_direct_tls = ["{host}:{free_port(host)}"]',
        f's2s = ["{host}:{s2s}"]',
        f's2s_direct_tls = ["{host}:{s2s_direct}"]',
        "",
        "[tls]",
        f"s2s_require_valid_certificates = {'true' if require_valid else 'false'}",
        "",
        "[s2s]",
        *[f"{k} = {v}" for k, v in {"connect_timeout_secs": 8, **(s2s_settings or {})}.items()],
    ]
    if muc:
        at = lines.index("[s2s]")
        lines[at:at] = ["[muc]", f"domain = {toml_str('conference.' + domain)}", ""]
    if trust:
        bundle = root / "certs" / "trusted-peers.pem"
        bundle.write_text("".join(p.read_text() for p in trust))
        lines.append('ca_file = "certs/trusted-peers.pem"')
    if overrides:
        lines += ["", "[s2s.connect_overrides]"]
        lines += [f"{toml_str(d)} = {toml_str(t)}" for d, t in overrides.items()]
    config = root / "xmppd.toml"
    config.write_text("\n".join(lines) + "\n")
    server = Server(root, config, ca_dir / "ca.pem", c2s, 0, 0, root / "xmppd.log",
                    accounts=dict(USERS), domain=domain, host=host)
    server.s2s_port = s2s  # type: ignore[attr-defined]
    server.s2s_direct_port = s2s_direct  # type: ignore[attr-defined]
    for user, password in USERS.items():
        out = server.admin("adduser", server.jid(user), stdin=password + "\n")
        assert out.returncode == 0, f"adduser {user} failed: {out.stderr}"
    return _launch(server)


def log_text(server: Server) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", server.log.read_text(errors="replace"))


def wait_log(server: Server, pattern: str, timeout: float = 10.0) -> str:
    """Wait (bounded) until the server's log has a line matching `pattern`; return it."""
    deadline = time.monotonic() + timeout
    while True:
        for line in log_text(server).splitlines():
            if re.search(pattern, line):
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line matching {pattern!r}:\n{server.log_tail()}")
        time.sleep(0.05)


async def chat_both_ways(peer: Server, peer_user: str, xmppd: Server) -> None:
    """alice on xmppd and `peer_user` on the peer server exchange one message each way."""
    from e2e_client import online

    them = await online(peer, peer_user, "laptop")
    alice = await online(xmppd, "alice", "desk")
    try:
        them_jid, alice_jid = peer.jid(peer_user), xmppd.jid("alice")
        alice.send_message(mto=them_jid, mbody=f"hello {peer.domain}, this is xmppd", mtype="chat")
        got = await them.chat(f"hello {peer.domain}, this is xmppd", timeout=25)
        assert got["from"].full == f"{alice_jid}/desk"
        them.send_message(mto=f"{alice_jid}/desk", mbody=f"hello xmppd, {peer.domain} here",
                          mtype="chat")
        back = await alice.chat(f"hello xmppd, {peer.domain} here", timeout=25)
        assert back["from"].full == f"{them_jid}/laptop"
    finally:
        await alice.close()
        await them.close()


def authenticated_both_ways(xmppd: Server, remote: str, mechanism: str) -> None:
    """xmppd's log shows both links to `remote` authenticated with `mechanism`."""
    wait_log(xmppd, rf"s2s incoming stream authenticated remote={re.escape(remote)} "
                    rf'mechanism="{mechanism}"')
    wait_log(xmppd, rf's2s outgoing stream authenticated .*mechanism="{mechanism}"')


def stop(*servers: Server) -> None:
    for server in servers:
        stop_server(server)


class RawS2s(RawStream):
    """A hand-driven server stream to `server`'s s2s port, as a peer claiming `from_domain`,
    optionally presenting the certificate in `client_cert` (a folder made by make_leaf)."""

    def __init__(self, server: Server, from_domain: str, *, to_domain: str | None = None,
                 client_cert: Path | None = None, direct_tls: bool = False):
        self.server = server
        self.from_domain = from_domain
        self.to_domain = to_domain or server.domain
        self.client_cert = client_cert
        port = server.s2s_direct_port if direct_tls else server.s2s_port  # type: ignore[attr-defined]
        self.sock = socket.create_connection((server.host, port), timeout=TIMEOUT)
        self.closed = False
        if direct_tls:
            self._wrap_tls(["xmpp-server"])

    def _wrap_tls(self, alpn: list[str] | None = None) -> None:
        ctx = self.tls_context(alpn)
        if self.client_cert is not None:
            ctx.load_cert_chain(self.client_cert / "fullchain.pem", self.client_cert / "privkey.pem")
        self.sock = ctx.wrap_socket(self.sock, server_hostname=self.server.domain)

    def begin(self) -> None:
        """Send our stream header (the answer is read by `next`)."""
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._pending = []
        self.stream_attrs = None
        self.send(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
            f"xmlns:stream='{STREAM_NS}' to={quoteattr(self.to_domain)} "
            f"from={quoteattr(self.from_domain)} version='1.0'>"
        )

    def open(self) -> ET.Element:
        """Send our stream header; return the server's features."""
        self.begin()
        return self.next()


def features_of(features: ET.Element) -> set[str]:
    """Short names of what `<stream:features/>` offers: starttls, EXTERNAL, dialback."""
    out = set()
    if features.find(q(TLS_NS, "starttls")) is not None:
        out.add("starttls")
    out.update(mechanisms(features))
    if features.find("{urn:xmpp:features:dialback}dialback") is not None:
        out.add("dialback")
    return out
