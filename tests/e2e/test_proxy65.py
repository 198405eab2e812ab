"""XEP-0065 SOCKS5 bytestream proxy: discovery, streamhost, two raw SOCKS5 clients paired and
activated through the proxy, bytes relayed both ways, bandwidth limit, refusals."""

import asyncio
import hashlib
import socket
import time
import xml.etree.ElementTree as ET

from slixmpp.exceptions import IqError

from e2e_client import online, run

DOMAIN = "example.test"
PROXY = "proxy.example.test"
NS = "http://jabber.org/protocol/bytestreams"


def socks5(host: str, port: int, digest: str) -> socket.socket:
    """A SOCKS5 client that connected to the hash (XEP-0065 §6.3.2), or an assertion error."""
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(b"\x05\x01\x00")
    assert recv_exact(sock, 2) == b"\x05\x00"
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(digest)]) + digest.encode() + b"\x00\x00")
    reply = recv_exact(sock, 5 + len(digest) + 2)
    assert reply[:2] == b"\x05\x00", reply
    assert reply[5:5 + len(digest)] == digest.encode()
    return sock


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, f"connection closed after {len(data)} of {n} bytes"
        data += chunk
    return data


async def streamhost(client) -> tuple[str, int]:
    iq = client.make_iq_get(queryxmlns=NS, ito=PROXY)
    reply = await iq.send(timeout=10)
    host = reply.xml.find(f"{{{NS}}}query/{{{NS}}}streamhost")
    assert host is not None and host.get("jid") == PROXY, reply
    return host.get("host"), int(host.get("port"))


async def activate(client, sid: str, target: str):
    iq = client.make_iq_set(ito=PROXY)
    query = ET.Element(f"{{{NS}}}query", sid=sid)
    ET.SubElement(query, f"{{{NS}}}activate").text = target
    iq.append(query)
    return await iq.send(timeout=10)


async def pair(alice, bob, sid: str):
    host, port = await streamhost(alice)
    digest = hashlib.sha1(f"{sid}{alice.boundjid.full}{bob.boundjid.full}".encode()).hexdigest()
    target = await asyncio.to_thread(socks5, host, port, digest)
    initiator = await asyncio.to_thread(socks5, host, port, digest)
    await activate(alice, sid, bob.boundjid.full)
    return initiator, target


@run
async def test_proxy_is_discoverable(server):
    alice = await online(server, "alice", "s5b-disco")
    try:
        items = await alice.plugin["xep_0030"].get_items(jid=DOMAIN, timeout=10)
        assert PROXY in {item[0] for item in items["disco_items"]["items"]}
        info = await alice.plugin["xep_0030"].get_info(jid=PROXY, timeout=10)
        assert ("proxy", "bytestreams") in {i[:2] for i in info["disco_info"]["identities"]}
        assert NS in info["disco_info"]["features"]
        host, port = await streamhost(alice)
        assert host == "127.0.0.1" and port > 0
    finally:
        await alice.close()


@run
async def test_bytes_are_relayed_both_ways_after_activation(server):
    alice = await online(server, "alice", "s5b-i")
    bob = await online(server, "bob", "s5b-t")
    try:
        host, port = await streamhost(alice)
        sid = "transfer-1"
        digest = hashlib.sha1(f"{sid}{alice.boundjid.full}{bob.boundjid.full}".encode()).hexdigest()
        target = await asyncio.to_thread(socks5, host, port, digest)
        initiator = await asyncio.to_thread(socks5, host, port, digest)
        # A third party with the same hash is refused.
        with socket.create_connection((host, port), timeout=10) as third:
            third.sendall(b"\x05\x01\x00")
            assert recv_exact(third, 2) == b"\x05\x00"
            third.sendall(b"\x05\x01\x00\x03\x28" + digest.encode() + b"\x00\x00")
            reply = recv_exact(third, 2)
            assert reply[0] == 5 and reply[1] != 0, reply
        # Activation naming another target finds nothing.
        try:
            await activate(alice, sid, f"carol@{DOMAIN}/x")
            raise AssertionError("activation of an unknown pair succeeded")
        except IqError as err:
            assert err.iq["error"]["condition"] == "item-not-found"
        await activate(alice, sid, bob.boundjid.full)
        with initiator, target:
            payload = bytes(range(256)) * 400
            await asyncio.to_thread(initiator.sendall, payload)
            assert await asyncio.to_thread(recv_exact, target, len(payload)) == payload
            await asyncio.to_thread(target.sendall, b"thanks, got it")
            assert await asyncio.to_thread(recv_exact, initiator, 14) == b"thanks, got it"
            # Closing one side ends the other.
            initiator.shutdown(socket.SHUT_WR)
            assert await asyncio.to_thread(target.recv, 16) == b""
    finally:
        await alice.close()
        await bob.close()


@run
async def test_refusals(server):
    alice = await online(server, "alice", "s5b-r")
    try:
        host, port = await streamhost(alice)
        # Only "username/password" offered: the proxy wants no authentication.
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"\x05\x01\x02")
            assert recv_exact(sock, 2) == b"\x05\xff"
        # CONNECT to an IPv4 address instead of the hash.
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"\x05\x01\x00")
            assert recv_exact(sock, 2) == b"\x05\x00"
            sock.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50")
            assert recv_exact(sock, 2)[1] != 0
        # Activating a pair that never connected.
        try:
            await activate(alice, "nothing", f"bob@{DOMAIN}/none")
            raise AssertionError("activation without connections succeeded")
        except IqError as err:
            assert err.iq["error"]["condition"] == "item-not-found"
    finally:
        await alice.close()


@run
async def test_bandwidth_limit(own_server):
    server = own_server(bandwidth_bytes_per_sec="20000")
    alice = await online(server, "alice", "s5b-bw")
    bob = await online(server, "bob", "s5b-bw")
    try:
        initiator, target = await pair(alice, bob, "slow")
        with initiator, target:
            payload = b"x" * 60_000
            started = time.monotonic()
            await asyncio.to_thread(initiator.sendall, payload)
            assert await asyncio.to_thread(recv_exact, target, len(payload)) == payload
            # 60 kB at 20 kB/s cannot arrive in much under 3 s (the first chunk goes at once).
            assert time.monotonic() - started >= 2.0
    finally:
        await alice.close()
        await bob.close()
