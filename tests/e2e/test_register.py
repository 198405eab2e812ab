"""XEP-0077 in-band registration by a stranger (enabled in examples/xmppd.toml), over the
secured stream before authentication."""

import xml.etree.ElementTree as ET

from raw_stream import logged_in, q, secured

REGISTER = "jabber:iq:register"


def test_in_band_registration_then_login(server):
    stream, features = secured(server)
    try:
        assert features.find(q("http://jabber.org/features/iq-register", "register")) is not None
        stream.send(f"<iq type='get' id='reg1'><query xmlns='{REGISTER}'/></iq>")
        form = stream.next()
        assert form.get("type") == "result", ET.tostring(form)
        query = form.find(q(REGISTER, "query"))
        assert query.find(q(REGISTER, "username")) is not None
        assert query.find(q(REGISTER, "password")) is not None

        stream.send(f"<iq type='set' id='reg2'><query xmlns='{REGISTER}'>"
                    "<username>newbie</username><password>newbie-secret-pw-1</password>"
                    "</query></iq>")
        reply = stream.next()
        assert reply.get("type") == "result", ET.tostring(reply)

        # The same name again is a conflict (XEP-0077 §3.1).
        stream.send(f"<iq type='set' id='reg3'><query xmlns='{REGISTER}'>"
                    "<username>newbie</username><password>other-secret-pw-2</password>"
                    "</query></iq>")
        reply = stream.next()
        assert reply.get("type") == "error", ET.tostring(reply)
        assert reply.find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}conflict") is not None
    finally:
        stream.close()
    server.accounts["newbie"] = "newbie-secret-pw-1"

    stream = logged_in(server, "newbie", "first")
    try:
        # The configured welcome text waits offline for the first login (`welcome` in
        # examples/xmppd.toml), as mod_welcome does; offline delivery follows initial presence.
        stream.send("<presence/>")
        while True:
            elem = stream.next()
            if elem.tag == "{jabber:client}message" and \
                    elem.findtext("{jabber:client}body") == "Hello and welcome to example.test!":
                assert elem.get("from") == "example.test"
                break
    finally:
        stream.close()
