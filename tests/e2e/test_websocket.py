"""XMPP over WebSocket (RFC 7395) on xmppd's HTTP port: the same session core as TCP clients,
framed as <open/>, one element per message, <close/>."""

from __future__ import annotations

import asyncio
import base64
import xml.etree.ElementTree as ET

import pytest
import re

import conftest
import websockets.asyncio.client
import websockets.exceptions

from e2e_client import online, run
from framed_client import CLOSE, FRAMING_NS, OPEN, WebSocketClient, b64, mechanisms
from raw_stream import SASL_NS, STREAM_NS, STREAMS_ERR_NS, q


@run
async def test_scram_login_bind_and_messages_with_a_tcp_client(server):
    ws_jid = server.new_account("wsuser")
    server.new_account("wspeer")
    ws = await WebSocketClient.connect(server)
    features = await ws.open()
    # Secure transport, but no channel binding: SCRAM without -PLUS, and no STARTTLS.
    mechs = mechanisms(features)
    assert "SCRAM-SHA-256" in mechs and not any(m.endswith("-PLUS") for m in mechs), mechs
    assert features.find("{urn:ietf:params:xml:ns:xmpp-tls}starttls") is None
    # Standalone messages: the stream prefix is declared on the features element itself.
    assert ws.raw[-1].startswith(f"<stream:features xmlns:stream='{STREAM_NS}'>"), ws.raw[-1]
    await ws.scram("wsuser", server.accounts["wsuser"])
    full = await ws.bind("browser")
    assert full == f"{ws_jid}/browser"

    peer = await online(server, "wspeer")
    try:
        # To the full JID: the peer's initial presence may still be on its way.
        await ws.send(f"<message xmlns='jabber:client' to='{peer.boundjid.full}' type='chat'>"
                      "<body>hello from websocket</body></message>")
        got = await peer.chat("hello from websocket")
        assert got["from"] == full
        peer.send_message(mto=full, mbody="hello back over tcp", mtype="chat")
        while True:
            stanza = await ws.next()
            if stanza.tag == "{jabber:client}message" and stanza.findtext("{jabber:client}body") == "hello back over tcp":
                break
        assert "xmlns='jabber:client'" in ws.raw[-1], ws.raw[-1]
    finally:
        await peer.close()
    await ws.send(CLOSE)
    closing = await ws.next()
    assert closing.tag == q(FRAMING_NS, "close")
    await ws.close()


def with_plain(monkeypatch) -> None:
    """Servers started from now on list PLAIN among their mechanisms (and allow it)."""
    original = conftest.write_config

    def write_config(*args, **kwargs):
        path = original(*args, **kwargs)
        text = re.sub(r"(?m)^mechanisms = \[[^\]]*\]", 'mechanisms = ["SCRAM-SHA-256", "PLAIN"]',
                      path.read_text())
        path.write_text(text.replace("allow_plain = false", "allow_plain = true"))
        return path

    monkeypatch.setattr(conftest, "write_config", write_config)


def test_plain_login_when_allowed(own_server, monkeypatch):
    with_plain(monkeypatch)
    server = own_server()
    plain_login(server)


@run
async def plain_login(server):
    ws = await WebSocketClient.connect(server)
    features = await ws.open()
    assert "PLAIN" in mechanisms(features)
    creds = b64(f"\0bob\0{server.accounts['bob']}".encode())
    await ws.send(f"<auth xmlns='{SASL_NS}' mechanism='PLAIN'>{creds}</auth>")
    success = await ws.next()
    assert success.tag == q(SASL_NS, "success")
    assert await ws.bind("plain") == "bob@example.test/plain"
    await ws.close()


@run
async def test_wrong_password_fails(server):
    ws = await WebSocketClient.connect(server)
    await ws.open()
    creds = base64.b64encode(b"\0frank\0not-the-password").decode()
    # PLAIN is not offered by the default config: the attempt itself is refused.
    await ws.send(f"<auth xmlns='{SASL_NS}' mechanism='PLAIN'>{creds}</auth>")
    failure = await ws.next()
    assert failure.tag == q(SASL_NS, "failure")
    await ws.close()


@run
async def test_subprotocol_xmpp_is_required(server):
    url = f"ws://127.0.0.1:{server.http_port}/xmpp-websocket"
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await websockets.asyncio.client.connect(url, open_timeout=10)
    assert refused.value.response.status_code == 400


@run
async def test_stanza_before_open_is_a_stream_error(server):
    ws = await WebSocketClient.connect(server)
    await ws.send("<message xmlns='jabber:client' to='alice@example.test'><body>x</body></message>")
    seen = [await ws.next(), await ws.next(), await ws.next()]
    tags = [el.tag for el in seen]
    assert q(STREAM_NS, "error") in tags and tags[-1] == q(FRAMING_NS, "close"), tags
    await ws.close()


@run
async def test_broken_xml_is_not_well_formed(server):
    ws = await WebSocketClient.connect(server)
    await ws.send(OPEN)
    await ws.next()
    await ws.next()
    await ws.send("<message xmlns='jabber:client'><body>unclosed")
    error = await ws.next()
    assert error.tag == q(STREAM_NS, "error")
    assert error.find(q(STREAMS_ERR_NS, "not-well-formed")) is not None, ET.tostring(error)
    assert (await ws.next()).tag == q(FRAMING_NS, "close")
    await ws.close()


@run
async def test_oversize_message_closes_the_connection(server):
    ws = await WebSocketClient.connect(server)
    await ws.open()
    # Larger than limits.max_stanza_bytes (256 KiB in the example config).
    big = "<message xmlns='jabber:client'><body>" + "x" * 300_000 + "</body></message>"
    await ws.send(big)
    # Without the limit the message would be read and answered; with it the socket closes.
    with pytest.raises(websockets.exceptions.ConnectionClosed):
        await asyncio.wait_for(ws.ws.recv(), 10)


@run
async def test_client_state_indication_works_over_websocket(server):
    from raw_stream import logged_in

    server.new_account("wscsi")
    server.new_account("wscsipeer")
    ws = await WebSocketClient.connect(server)
    await ws.open()
    await ws.scram("wscsi", server.accounts["wscsi"])
    target = await ws.bind("csi")
    peer = logged_in(server, "wscsipeer", "desk")
    try:
        await ws.send("<inactive xmlns='urn:xmpp:csi:0'/>")
        # A round trip proves the state change was taken before going on.
        await ws.send("<iq xmlns='jabber:client' type='get' id='sync' to='example.test'>"
                      "<ping xmlns='urn:xmpp:ping'/></iq>")
        while (await ws.next()).get("id") != "sync":
            pass
        peer.send(f"<presence to='{target}'><status>held</status></presence>")
        peer.send(f"<iq type='get' id='peer-ping' to='{target}'><ping xmlns='urn:xmpp:ping'/></iq>")

        async def addressed() -> ET.Element:
            while True:
                element = await ws.next()
                if element.get("from") != "example.test":
                    return element

        first = await addressed()
        assert first.tag == "{jabber:client}iq" and first.get("id") == "peer-ping", ET.tostring(first)
        await ws.send("<active xmlns='urn:xmpp:csi:0'/>")
        released = await addressed()
        assert released.tag == "{jabber:client}presence"
        assert released.findtext("{jabber:client}status") == "held"
    finally:
        peer.close()
        await ws.close()
