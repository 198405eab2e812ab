"""XEP-0352 Client State Indication: while the client is inactive, presence waits; a message
releases it first; `<active/>` releases the rest; other stanzas pass."""

from raw_stream import BIND_NS, logged_in, q

CSI = "urn:xmpp:csi:0"


def next_addressed(stream, skip_from: str = "example.test"):
    """The next element not sent by the server itself (the MOTD)."""
    while True:
        element = stream.next()
        if element.get("from") != skip_from:
            return element


def test_presence_waits_while_inactive(server):
    server.new_account("mia")
    server.new_account("noah")
    mia = logged_in(server, "mia", "csi")
    noah = logged_in(server, "noah", "desk")
    try:
        mia.send(f"<inactive xmlns='{CSI}'/>")
        # A round trip on the same stream proves the state change was taken before going on.
        mia.send("<iq type='get' id='sync' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        reply = mia.next()
        while reply.get("id") != "sync":
            reply = mia.next()

        target = "mia@example.test/csi"
        noah.send(f"<presence to='{target}'><status>first</status></presence>")
        noah.send(f"<iq type='get' id='noah-ping' to='{target}'><ping xmlns='urn:xmpp:ping'/></iq>")
        first = next_addressed(mia)
        assert first.tag == q("jabber:client", "iq") and first.get("id") == "noah-ping", first.tag

        noah.send(f"<message to='{target}' type='chat'><body>wake up</body></message>")
        held = next_addressed(mia)
        assert held.tag == q("jabber:client", "presence"), held.tag
        assert held.findtext(q("jabber:client", "status")) == "first"
        message = next_addressed(mia)
        assert message.tag == q("jabber:client", "message")

        noah.send(f"<presence to='{target}'><status>second</status></presence>")
        noah.send(f"<iq type='get' id='noah-ping-2' to='{target}'><ping xmlns='urn:xmpp:ping'/></iq>")
        assert next_addressed(mia).get("id") == "noah-ping-2"
        mia.send(f"<active xmlns='{CSI}'/>")
        released = next_addressed(mia)
        assert released.findtext(q("jabber:client", "status")) == "second"
    finally:
        mia.close()
        noah.close()


def test_csi_is_offered_after_login(server):
    from raw_stream import Scram, sasl_exchange, secured

    stream, _ = secured(server)
    ok, _ = sasl_exchange(stream, "SCRAM-SHA-256", Scram("sha256", "alice", server.accounts["alice"]))
    assert ok
    features = stream.open()
    assert features.find(q(CSI, "csi")) is not None
    assert features.find(q(BIND_NS, "bind")) is not None
    stream.close()
