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


def test_connections_per_address_are_limited(own_server):
    server = own_server(connections_per_ip="3")
    held = [socket.create_connection(("127.0.0.1", server.c2s_port), timeout=5) for _ in range(3)]
    try:
        extra = socket.create_connection(("127.0.0.1", server.c2s_port), timeout=5)
        extra.settimeout(5)
        # The fourth connection is closed at once, before a byte is exchanged.
        assert extra.recv(1) == b""
        extra.close()
        held.pop().close()
        # A slot is free again once one closes: the server answers a stream header.
        # The server frees the slot when it notices the close: try a bounded number of times.
        for _ in range(50):
            again = socket.create_connection(("127.0.0.1", server.c2s_port), timeout=5)
            again.settimeout(5)
            again.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                          b"xmlns:stream='http://etherx.jabber.org/streams' to='example.test' version='1.0'>")
            reply = again.recv(100)
            again.close()
            if reply:
                break
        assert reply.startswith(b"<?xml"), reply
    finally:
        for sock in held:
            sock.close()
