"""RFC 6120 §8.3 stanza errors the server must produce, and nothing routed before
authentication (§4.9.3.12, §5.3.1)."""

import xml.etree.ElementTree as ET

import pytest

from e2e_client import online, run
from raw_stream import RawStream, logged_in

STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def error_condition(elem: ET.Element) -> str:
    error = elem.find("{jabber:client}error")
    assert error is not None, ET.tostring(elem)
    return [c.tag.split("}")[1] for c in error if c.tag.startswith(f"{{{STANZAS}}}")
            and not c.tag.endswith("}text")][0]


def reply_to(stream: RawStream, stanza_id: str) -> ET.Element:
    while True:
        elem = stream.next()
        if elem.get("id") == stanza_id:
            return elem


@pytest.mark.parametrize("to", ["bad@@jid", "a b@example.test", "alice@example.test/"])
def test_malformed_to_bounces_jid_malformed(server, to):
    stream = logged_in(server, "dave", "malformed")
    try:
        msg = ET.Element("message", {"to": to, "id": "m1", "type": "chat"})
        ET.SubElement(msg, "body").text = "x"
        stream.send(ET.tostring(msg))
        reply = reply_to(stream, "m1")
        assert reply.get("type") == "error"
        assert error_condition(reply) == "jid-malformed"
    finally:
        stream.close()


def test_iq_errors(server):
    stream = logged_in(server, "dave", "iqs")
    try:
        # §8.3.3.19: nobody here handles that namespace.
        stream.send("<iq type='get' id='i1' to='example.test'><foo xmlns='urn:example:nothing'/></iq>")
        assert error_condition(reply_to(stream, "i1")) == "service-unavailable"
        # RFC 6121 §8.5.3.2.1: an IQ to a resource that is not online.
        stream.send("<iq type='get' id='i2' to='bob@example.test/nowhere'><ping xmlns='urn:xmpp:ping'/></iq>")
        reply = reply_to(stream, "i2")
        assert reply.get("type") == "error"
        assert error_condition(reply) == "service-unavailable"
        # An IQ result nobody asked for is never answered (§8.2.3): the ping after it is.
        stream.send("<iq type='result' id='i3' to='example.test'/>")
        stream.send("<iq type='get' id='i4' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        reply = stream.next()
        while reply.tag != "{jabber:client}iq":
            reply = stream.next()
        assert reply.get("id") == "i4", f"answer to a result: {ET.tostring(reply)}"
        assert reply.get("type") == "result"
    finally:
        stream.close()


@run
async def test_nothing_routed_before_tls_or_auth(server):
    bob = await online(server, "bob", "guard")
    plain = RawStream(server)
    try:
        plain.open()
        plain.send("<message to='bob@example.test/guard' type='chat'><body>before TLS</body></message>")
        secure = RawStream(server)
        try:
            secure.open()
            secure.starttls()
            secure.send("<message to='bob@example.test/guard' type='chat'><body>before auth</body></message>")
            # The server either closes the stream or ignores the stanza; either way bob sees
            # nothing. Barrier: a message from a real session sent after both.
            sender = await online(server, "carol", "barrier")
            try:
                sender.send_message(mto="bob@example.test/guard", mbody="barrier", mtype="chat")
                earlier = await bob.before("barrier")
            finally:
                await sender.close()
            leaked = [body for body in earlier if body in ("before TLS", "before auth")]
            assert not leaked, leaked
        finally:
            secure.close()
    finally:
        plain.close()
        await bob.close()


STREAM = "xmlns:stream='http://etherx.jabber.org/streams'"


@pytest.mark.parametrize("header,condition", [
    (f"<stream:stream xmlns='jabber:client' {STREAM} to='other.test' version='1.0'>", "host-unknown"),
    (f"<stream:stream xmlns='jabber:client' {STREAM} to='example.test' version='2.0'>",
     "unsupported-version"),
    ("<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='example.test' version='1.0'>",
     "invalid-namespace"),
    ("<foo/>", "invalid-namespace"),
    ("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n", "not-well-formed"),
    (f"<stream:stream xmlns='jabber:client' {STREAM} to='example.test' version='1.0'><!-- x -->",
     "restricted-xml"),
], ids=["host-unknown", "version", "stream-namespace", "not-a-stream", "http", "comment"])
def test_bad_stream_headers(server, header, condition):
    # RFC 6120 §4.9.1.1: the server opens its own stream, sends the error, closes.
    import socket

    with socket.create_connection(("127.0.0.1", server.c2s_port), timeout=10) as sock:
        sock.sendall(header.encode())
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    # The whole exchange is one closed document: header, error, </stream:stream>.
    root = ET.fromstring(data)
    error = root.find("{http://etherx.jabber.org/streams}error")
    assert error is not None, data
    assert error.find(f"{{urn:ietf:params:xml:ns:xmpp-streams}}{condition}") is not None, data


@pytest.mark.parametrize("payload", [
    "<vCard xmlns='vcard-temp'/>",
    "<query xmlns='jabber:iq:last'/>",
    "<query xmlns='http://jabber.org/protocol/disco#info'/>",
])
def test_iq_to_unknown_account_is_service_unavailable(server, payload):
    # RFC 6121 §8.5.1: an IQ to an account that does not exist gets service-unavailable,
    # which is the same answer a real account gives for unknown payloads (no account probing).
    stream = logged_in(server, "dave", "probe-accounts")
    try:
        stream.send(f"<iq type='get' id='u1' to='nobody@example.test'>{payload}</iq>")
        reply = reply_to(stream, "u1")
        assert reply.get("type") == "error"
        assert error_condition(reply) == "service-unavailable"
    finally:
        stream.close()
