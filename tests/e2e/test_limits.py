"""Limits: oversized stanzas (RFC 6120 §4.9.3.16 policy-violation), resource conflicts
(§7.7.2.2: the new session wins, the old one gets <conflict/>), hostile XML (§11.1), and the
[limits] of the config (resources per account, offline messages per account)."""

import xml.etree.ElementTree as ET

import pytest

from e2e_client import Client, run, take
from raw_stream import StreamClosed, logged_in

MAX_STANZA = 262144  # examples/xmppd.toml [limits] max_stanza_bytes


def test_oversized_stanza_closes_stream_with_policy_violation(server):
    stream = logged_in(server, "bob", "big")
    try:
        body = "x" * (MAX_STANZA + 1024)
        stream.send(f"<message to='alice@example.test' type='chat'><body>{body}</body></message>")
        assert stream.stream_error() == "policy-violation"
        with pytest.raises(StreamClosed):
            stream.next()
    finally:
        stream.close()


def test_stanza_under_the_limit_is_fine(server):
    stream = logged_in(server, "bob", "almost")
    try:
        body = "y" * (MAX_STANZA // 2)
        stream.send(f"<message to='bob@example.test/almost' type='chat' id='m1'><body>{body}</body></message>")
        while True:
            elem = stream.next()
            if elem.tag == "{jabber:client}message" and elem.get("id") == "m1":
                assert len(elem.findtext("{jabber:client}body")) == MAX_STANZA // 2
                break
    finally:
        stream.close()


@run
async def test_same_resource_kicks_the_first_session(server):
    first = await Client(server, "erin", "same").online()
    second = Client(server, "erin", "same")
    try:
        assert await second.login(), "second login with the same resource refused"
        error = await take(first.stream_errors, "stream error for the replaced session")
        assert error["condition"] == "conflict", error
        await take(first.disconnects, "the replaced session to be disconnected")
        assert str(second.boundjid) == "erin@example.test/same"
        # The new session works.
        rtt = await second.plugin["xep_0199"].ping(jid="example.test", timeout=10)
        assert rtt is not None
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("data,allowed", [
    # RFC 6120 §11.1: comments, PIs, DTDs and entity references other than the predefined
    # ones are refused; the error SHOULD be restricted-xml (not-well-formed is tolerated).
    ("<!-- a comment -->", {"restricted-xml", "not-well-formed"}),
    ("<?pi data?>", {"restricted-xml", "not-well-formed"}),
    ("<message><body>&undefined;</body></message>", {"restricted-xml", "not-well-formed"}),
    ("<message><body></message>", {"not-well-formed"}),
    # Parser limits of xmppd-stream.
    ("<message>" + "<a xmlns='urn:x'>" * 300, {"policy-violation"}),
    ("<message " + " ".join(f"a{i}='x'" for i in range(2000)) + "/>", {"policy-violation"}),
    # §4.9.3.23: a first-level element that is no stanza of jabber:client.
    ("<foo xmlns='urn:bar'/>", {"unsupported-stanza-type"}),
], ids=["comment", "pi", "entity", "mismatch", "deep", "attributes", "not-a-stanza"])
def test_hostile_xml_closes_the_stream(server, data, allowed):
    stream = logged_in(server, "carol", "hostile")
    try:
        try:
            stream.send(data)
        except OSError:
            pass  # the server may close while we are still sending; the error is already read
        assert stream.stream_error() in allowed
        with pytest.raises(StreamClosed):
            stream.next()
    finally:
        stream.close()


def test_predefined_entities_and_cdata_are_fine(server):
    stream = logged_in(server, "carol", "entities")
    try:
        stream.send("<message to='carol@example.test/entities' id='e1'>"
                    "<body>&amp;&lt;&#65;<![CDATA[<b>]]></body></message>")
        while True:
            elem = stream.next()
            if elem.get("id") == "e1":
                assert elem.findtext("{jabber:client}body") == "&<A<b>"
                break
    finally:
        stream.close()


def test_resources_per_account_limit(server):
    # [limits] resources_per_account defaults to 10; the next bind gets resource-constraint
    # (RFC 6120 §7.6.2.1).
    from raw_stream import BIND_NS, Scram, sasl_exchange, secured

    server.new_account("many")
    streams = [logged_in(server, "many", f"r{i}") for i in range(10)]
    try:
        extra, _ = secured(server)
        streams.append(extra)
        ok, _ = sasl_exchange(extra, "SCRAM-SHA-256", Scram("sha256", "many", server.accounts["many"]))
        assert ok
        extra.open()
        extra.send(f"<iq type='set' id='b11'><bind xmlns='{BIND_NS}'><resource>r10</resource></bind></iq>")
        reply = extra.next()
        assert reply.get("type") == "error", ET.tostring(reply)
        assert reply.find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}resource-constraint") \
            is not None, ET.tostring(reply)
    finally:
        for s in streams:
            s.close()


def test_offline_store_limit(server):
    # [limits] offline_messages_per_account defaults to 500: the 501st gets an error back
    # instead of being dropped silently.
    target = server.new_account("fullbox")
    stream = logged_in(server, "bob", "flood")
    try:
        batch = []
        for i in range(501):
            msg = ET.Element("message", {"to": target, "id": f"o{i}", "type": "chat"})
            ET.SubElement(msg, "body").text = str(i)
            batch.append(ET.tostring(msg))
        stream.send(b"".join(batch))
        while True:
            elem = stream.next()
            if elem.tag == "{jabber:client}message" and elem.get("type") == "error":
                assert elem.get("id") == "o500", f"error for {elem.get('id')} before the limit"
                assert elem.find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}"
                                 "resource-constraint") is not None, ET.tostring(elem)
                break
    finally:
        stream.close()
