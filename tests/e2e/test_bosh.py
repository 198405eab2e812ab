"""XMPP over BOSH (XEP-0124/0206) on xmppd's HTTP port, with raw HTTP requests: session
creation, SASL, restart, bind, long polling, rid handling, terminate, CORS and limits."""

from __future__ import annotations

import asyncio
import http.client
import time
import xml.etree.ElementTree as ET

from conftest import DOMAIN
from e2e_client import online, run
from framed_client import HTTPBIND_NS, BoshClient, mechanisms
from raw_stream import STREAM_NS, q


def logged_in(server, user: str, resource: str = "bosh") -> tuple[BoshClient, str]:
    bosh = BoshClient(server)
    created = bosh.create()
    [features] = list(created) or bosh.next_children()
    assert features.tag == q(STREAM_NS, "features")
    bosh.scram(user, server.accounts[user])
    return bosh, bosh.restart_and_bind(resource)


def test_session_creation_attributes_and_cors(server):
    bosh = BoshClient(server, wait=5)
    created = bosh.create()
    assert created.get("requests") == "2" and created.get("hold") == "1"
    assert created.get("wait") == "5" and created.get("from") == DOMAIN
    assert created.get("inactivity") and created.get("authid") and created.get("ver")
    assert created.get("{urn:xmpp:xbosh}version") == "1.0"
    assert bosh.last_headers.get("access-control-allow-origin") == "*"
    assert bosh.last_headers.get("content-type", "").startswith("text/xml")
    # The features come in the creation response: SCRAM without -PLUS, no STARTTLS.
    [features] = list(created)
    mechs = mechanisms(features)
    assert "SCRAM-SHA-256" in mechs and not any(m.endswith("-PLUS") for m in mechs), mechs
    # Standalone XML: the stream prefix is declared on the body that carries the features.
    assert b"<stream:features>" in bosh.last_raw and b"xmlns:stream=" in bosh.last_raw
    terminated = bosh.post(type="terminate")
    assert terminated.get("type") == "terminate"
    # The session is gone.
    status, raw = bosh.post_raw(bosh.body())
    assert status == 404 and ET.fromstring(raw).get("condition") == "item-not-found"


def test_preflight_allows_cross_origin_posts(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    conn.request("OPTIONS", "/http-bind", headers={
        "Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"})
    resp = conn.getresponse()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    assert resp.status == 204
    assert headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    assert "content-type" in headers["access-control-allow-headers"].lower()


@run
async def test_login_bind_and_messages_with_a_tcp_client(server):
    jid = server.new_account("boshuser")
    server.new_account("boshpeer")
    bosh, full = await asyncio.to_thread(logged_in, server, "boshuser")
    assert full == f"{jid}/bosh"
    peer = await online(server, "boshpeer")
    try:
        body = await asyncio.to_thread(
            bosh.post, f"<message xmlns='jabber:client' to='{peer.boundjid.full}' type='chat'>"
                       "<body>hello from bosh</body></message>")
        assert body.tag == q(HTTPBIND_NS, "body")
        got = await peer.chat("hello from bosh")
        assert got["from"] == full
        # A long poll is answered as soon as the message arrives.
        poll = asyncio.create_task(asyncio.to_thread(bosh.post))
        peer.send_message(mto=full, mbody="hello back to bosh", mtype="chat")
        reply = await asyncio.wait_for(poll, 15)
        bodies = [m.findtext("{jabber:client}body") for m in reply.iter("{jabber:client}message")]
        assert "hello back to bosh" in bodies, ET.tostring(reply)
        assert b"xmlns='jabber:client'" in bosh.last_raw
    finally:
        await peer.close()
    await asyncio.to_thread(bosh.post, type="terminate")


def test_long_poll_waits_then_answers_empty(server):
    server.new_account("boshidle")
    bosh, _ = logged_in(server, "boshidle")
    bosh.wait = 2
    # Drain what the session start may have queued (the MOTD).
    bosh.post()
    started = time.monotonic()
    empty = bosh.post()
    took = time.monotonic() - started
    # wait was negotiated as 10 at creation: the poll is held, not answered at once.
    assert len(empty) == 0 and took >= 5, (took, ET.tostring(empty))
    bosh.post(type="terminate")


def test_repeated_rid_gets_the_same_answer_and_a_far_rid_ends_the_session(server):
    server.new_account("boshrid")
    bosh, _ = logged_in(server, "boshrid")
    bosh.post("<iq xmlns='jabber:client' type='get' id='ping1'><ping xmlns='urn:xmpp:ping'/></iq>")
    first = bosh.last_raw
    # The client lost that answer: the same rid again gets the same bytes.
    bosh.post(rid=bosh.rid)
    assert bosh.last_raw == first
    status, raw = bosh.post_raw(bosh.body(rid=bosh.rid + 10))
    assert status == 404 and ET.fromstring(raw).get("condition") == "item-not-found"
    status, _ = bosh.post_raw(bosh.body())
    assert status == 404


def test_requests_out_of_order_are_processed_in_rid_order(server):
    server.new_account("boshorder")
    bosh, _ = logged_in(server, "boshorder")
    first, second = bosh.rid + 1, bosh.rid + 2
    bosh.rid = second
    results: dict[int, ET.Element] = {}
    import threading

    def send(rid: int, iq_id: str) -> None:
        results[rid] = bosh.post(
            f"<iq xmlns='jabber:client' type='get' id='{iq_id}'><ping xmlns='urn:xmpp:ping'/></iq>",
            rid=rid)

    later = threading.Thread(target=send, args=(second, "second"))
    later.start()
    send(first, "first")
    later.join(30)
    ids = [iq.get("id") for rid in sorted(results) for iq in results[rid].iter("{jabber:client}iq")]
    assert sorted(ids) == ["first", "second"], ids
    bosh.post(type="terminate")


def test_bad_requests(server):
    bosh = BoshClient(server)
    status, raw = bosh.post_raw(b"<body xmlns='http://jabber.org/protocol/httpbind'/>")
    assert status == 400 and ET.fromstring(raw).get("condition") == "bad-request"
    status, _ = bosh.post_raw(b"not xml")
    assert status == 400
    bosh.sid = "no-such-session"
    status, raw = bosh.post_raw(bosh.body())
    assert status == 404 and ET.fromstring(raw).get("condition") == "item-not-found"
    # Larger than the body limit (stanza limit plus room for the wrapper).
    big = bosh.body("<message xmlns='jabber:client'><body>" + "x" * 400_000 + "</body></message>")
    status, _ = bosh.post_raw(big)
    assert status == 413


def test_stream_error_terminates_the_session(server):
    bosh = BoshClient(server)
    bosh.create()
    # A stanza before authentication: the session core answers with a stream error.
    body = bosh.post("<message xmlns='jabber:client' to='alice@example.test'><body>x</body></message>")
    for _ in range(3):
        if body.get("type") == "terminate":
            break
        body = bosh.post()
    assert body.get("type") == "terminate" and body.get("condition") == "remote-stream-error"
    error = body.find(q(STREAM_NS, "error"))
    assert error is not None
    assert error.find("{urn:ietf:params:xml:ns:xmpp-streams}not-authorized") is not None
    status, _ = bosh.post_raw(bosh.body())
    assert status == 404
