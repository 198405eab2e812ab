"""Operations: certificates re-read on SIGHUP without dropping sessions, whitespace keepalives,
failed-login throttling and the worker thread count (each on a server of its own)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import DOMAIN
from raw_stream import Scram, failure_condition, logged_in, sasl_exchange, secured

DEADLINE = 10.0


def peer_cert(server) -> bytes:
    ctx = ssl.create_default_context(cafile=str(server.ca))
    with socket.create_connection(("127.0.0.1", server.direct_tls_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=DOMAIN) as tls:
            return tls.getpeercert(binary_form=True)


def renew_leaf(folder) -> None:
    """A new key and certificate from the same CA, written as a renewal would."""

    def run(*args: str) -> None:
        subprocess.run(args, cwd=folder, check=True, capture_output=True)

    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "leaf2.key")
    run("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", "leaf2.key", "-out", "privkey2.pem")
    run("openssl", "req", "-new", "-key", "privkey2.pem", "-subj", f"/CN={DOMAIN}", "-out", "leaf2.csr")
    run(
        "openssl", "x509", "-req", "-in", "leaf2.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-sha256", "-extfile", "leaf.ext", "-out", "leaf2.pem",
    )
    chain = (folder / "leaf2.pem").read_text() + (folder / "ca.pem").read_text()
    (folder / "fullchain.tmp").write_text(chain)
    shutil.copy(folder / "privkey2.pem", folder / "privkey.tmp")
    os.replace(folder / "privkey.tmp", folder / "privkey.pem")
    os.replace(folder / "fullchain.tmp", folder / "fullchain.pem")



def ping(stream, ident: str) -> None:
    stream.send(f"<iq type='get' id='{ident}' to='{DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>")
    reply = stream.next()
    while reply.tag == "{jabber:client}message":  # the MOTD sent at login
        reply = stream.next()
    assert reply.get("id") == ident and reply.get("type") == "result", reply.attrib


def test_sighup_serves_the_renewed_certificate_and_keeps_sessions(own_server):
    server = own_server()
    before = peer_cert(server)
    session = logged_in(server, "alice", "kept")
    renew_leaf(server.root / "certs")
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + DEADLINE
    after = before
    while after == before and time.monotonic() < deadline:
        after = peer_cert(server)
    assert after != before, "the renewed certificate was not served after SIGHUP"
    assert after == ssl.PEM_cert_to_DER_cert((server.root / "certs" / "leaf2.pem").read_text())
    # The session opened before the reload still works.
    ping(session, "after-reload")
    session.close()


def test_broken_renewal_keeps_the_old_certificate(own_server):
    server = own_server()
    before = peer_cert(server)
    (server.root / "certs" / "privkey.pem").write_text("not a key\n")
    server.proc.send_signal(signal.SIGHUP)
    # The failed reload is logged; the old certificate stays in use and the server stays up.
    deadline = time.monotonic() + DEADLINE
    while "certificate reload failed" not in server.log_tail(200) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "certificate reload failed" in server.log_tail(200)
    assert "not a key" not in server.log_tail(200)
    assert peer_cert(server) == before
    assert server.proc.poll() is None


def ready_line(server) -> str:
    """xmppd's "ready" log line, written once every listener is up (polled, bounded)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        for line in server.log_tail(200).splitlines():
            if " ready " in line and "workers=" in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no ready line in the log:\n{server.log_tail()}")


@pytest.mark.parametrize("workers", ["1", "3"])
def test_worker_threads_setting_sizes_the_runtime(own_server, workers):
    """`worker_threads` reaches the runtime (the ready line reports it), and the server serves."""
    server = own_server(worker_threads=workers)
    stream = logged_in(server, "bob", "workers")
    ping(stream, "w1")
    stream.close()
    assert f"workers={workers}" in ready_line(server)


def test_idle_session_gets_whitespace_keepalives(own_server):
    server = own_server(keepalive_secs="1")
    stream = logged_in(server, "bob", "idle")
    motd = stream.next()
    assert motd.tag == "{jabber:client}message", motd.tag
    stream.sock.settimeout(5)
    data = stream.sock.recv(16)
    assert data.strip() == b"" and b" " in data, data
    stream.close()


def failed_attempt(server, user: str, password: str) -> str:
    """One SCRAM attempt on a fresh connection; the failure condition, or 'success'."""
    stream, _ = secured(server)
    try:
        ok, answer = sasl_exchange(stream, "SCRAM-SHA-256", Scram("sha256", user, password))
        return "success" if ok else failure_condition(answer)
    finally:
        stream.close()


def test_repeated_failures_throttle_the_account_not_others(own_server):
    server = own_server(failures_per_account_per_minute="3", failures_per_address_per_minute="50")
    conditions = []
    for _ in range(8):
        conditions.append(failed_attempt(server, "carol", "wrong password"))
        if conditions[-1] == "temporary-auth-failure":
            break
    assert conditions[:3] == ["not-authorized"] * 3, conditions
    assert conditions[-1] == "temporary-auth-failure", conditions
    # While throttled even the right password is refused; another account is not affected.
    assert failed_attempt(server, "carol", server.accounts["carol"]) == "temporary-auth-failure"
    assert failed_attempt(server, "dave", server.accounts["dave"]) == "success"


def test_repeated_failures_throttle_the_address(own_server):
    server = own_server(failures_per_account_per_minute="50", failures_per_address_per_minute="3")
    conditions = []
    users = ["erin", "frank", "grace", "heidi", "ivan", "judy"]
    for user in users:
        conditions.append(failed_attempt(server, user, "wrong password"))
        if conditions[-1] == "temporary-auth-failure":
            break
    assert conditions[-1] == "temporary-auth-failure", conditions
    assert failed_attempt(server, "alice", server.accounts["alice"]) == "temporary-auth-failure"


def test_more_offline_messages_than_an_outbox_holds_all_arrive(own_server):
    """More stored messages than a session's outbox takes at once (512) still arrive, in order."""
    count = 1200
    server = own_server(offline_messages_per_account=str(count))
    sender = logged_in(server, "alice", "sender")
    for i in range(count):
        sender.send(f"<message to='bob@example.test' type='chat'><body>offline {i}</body></message>")
    # A round trip after the burst: every message before it has been stored. Storing (and
    # archiving) 1,200 messages one by one takes seconds on a loaded 2-core machine.
    sender.send(f"<iq type='get' id='stored' to='{DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>")
    reply = sender.next(timeout=60)
    while reply.get("id") != "stored":
        reply = sender.next(timeout=60)
    sender.close()

    bob = logged_in(server, "bob", "back")
    bob.send("<presence/>")
    bodies = []
    while len(bodies) < count:
        element = bob.next(timeout=60)
        body = element.findtext("{jabber:client}body")
        if body is not None and body.startswith("offline "):
            bodies.append(body)
    assert bodies == [f"offline {i}" for i in range(count)]
    bob.close()
