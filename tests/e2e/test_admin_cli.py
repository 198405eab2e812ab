"""The admin command line against a running server (`passwd`, `deluser`, `users`), and the
per-address connection limit."""

from __future__ import annotations

import socket


from e2e_client import Client, run



async def can_log_in(server, user: str, password: str) -> bool:
    client = Client(server, user, "cli", password=password)
    try:
        return await client.login()
    finally:
        await client.close()


@run
async def test_passwd_deluser_and_users(server):
    jid = server.new_account("olivia")
    old = server.accounts["olivia"]
    listed = server.admin("users")
    assert listed.returncode == 0 and jid in listed.stdout.split(), listed

    changed = server.admin("passwd", jid, stdin="a-new-password-1\n")
    assert changed.returncode == 0, changed.stderr
    assert "a-new-password-1" not in changed.stdout + changed.stderr
    assert not await can_log_in(server, "olivia", old)
    assert await can_log_in(server, "olivia", "a-new-password-1")

    too_short = server.admin("passwd", jid, stdin="short\n")
    assert too_short.returncode != 0 and "at least" in too_short.stderr

    deleted = server.admin("deluser", jid)
    assert deleted.returncode == 0, deleted.stderr
    assert jid not in server.admin("users").stdout.split()
    assert not await can_log_in(server, "olivia", "a-new-password-1")

    again = server.admin("deluser", jid)
    assert again.returncode != 0, again


def test_adduser_refuses_foreign_domains_and_duplicates(server):
    foreign = server.admin("adduser", "eve@elsewhere.test", stdin="long-enough-pw\n")
    assert foreign.returncode != 0 and "not a domain of this server" in foreign.stderr
    duplicate = server.admin("adduser", server.jid("alice"), stdin="long-enough-pw\n")
    assert duplicate.returncode != 0 and "exists" in duplicate.stderr


HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='example.test' version='1.0'>")


def open_stream(server) -> tuple[socket.socket, bytes]:
    """A connection that sent a stream header; what the server answered (b"" if it closed)."""
    sock = socket.create_connection(("127.0.0.1", server.c2s_port), timeout=5)
    sock.settimeout(5)
    try:
        sock.sendall(HEADER)
        return sock, sock.recv(100)
    except (ConnectionResetError, BrokenPipeError):
        return sock, b""


def test_connections_per_address_are_limited(own_server):
    server = own_server(connections_per_ip="3")
    held = []
    try:
        # Three connections the server answered: each holds a slot. (The readiness probe's
        # slot may still be in use for a moment, so a refused one is simply retried.)
        for _ in range(50):
            if len(held) == 3:
                break
            sock, reply = open_stream(server)
            if reply.startswith(b"<?xml"):
                held.append(sock)
            else:
                sock.close()
        assert len(held) == 3, "the server did not accept three connections"
        # The fourth is closed at once, without an answer.
        extra, reply = open_stream(server)
        extra.close()
        assert reply == b"", reply
        # Once one closes, its slot is free again; the server frees it when it notices the
        # close, so try a bounded number of times.
        held.pop().close()
        for _ in range(50):
            sock, reply = open_stream(server)
            sock.close()
            if reply:
                break
        assert reply.startswith(b"<?xml"), reply
    finally:
        for sock in held:
            sock.close()


@run
async def test_passwords_are_saslprepped(server):
    """RFC 5802/4013: a password set with a soft hyphen and a compatibility character logs in
    typed in its normalised form, and SASLprep-prohibited passwords are refused."""
    jid = server.jid("prepped")
    stored = server.admin("adduser", jid, stdin="pass\u00adword-\u2168-long\n")
    assert stored.returncode == 0, stored.stderr
    client = Client(server, "prepped", password="password-IX-long", mech="SCRAM-SHA-256")
    try:
        assert await client.login(), "the normalised spelling of the password was refused"
    finally:
        await client.close()
    bidi = server.admin("adduser", server.jid("prepped2"), stdin="\u0627\u0031-long-enough\n")
    assert bidi.returncode != 0, "a password SASLprep prohibits was accepted"
    assert "RFC 4013" in bidi.stderr
