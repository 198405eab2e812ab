"""The small XEPs against the running server: XEP-0030, 0199, 0092, 0202, 0012, 0049, 0054,
and XEP-0077 password change and account removal while logged in."""

import datetime
import re
import xml.etree.ElementTree as ET

from slixmpp.exceptions import IqError
from slixmpp.plugins.xep_0054.stanza import VCardTemp

from e2e_client import Client, online, run, take

DOMAIN = "example.test"


async def expect_error(awaitable, condition: str) -> None:
    try:
        reply = await awaitable
    except IqError as err:
        assert err.iq["error"]["condition"] == condition, err.iq
        return
    raise AssertionError(f"expected <{condition}/>, got a result: {reply}")


async def subscribe(user: Client, contact: Client) -> None:
    """`user` gets a To subscription to `contact` (contact approves)."""
    contact_jid = contact.boundjid.bare
    user.send_presence(pto=contact_jid, ptype="subscribe")
    await contact.presence("subscribe request", lambda p: p["type"] == "subscribe"
                           and p["from"].bare == user.boundjid.bare)
    contact.send_presence(pto=user.boundjid.bare, ptype="subscribed")
    await user.roster_push(contact_jid, lambda i: i["subscription"] in ("to", "both"))


@run
async def test_disco_info_and_items(server):
    alice = await online(server, "alice", "disco")
    try:
        info = await alice.plugin["xep_0030"].get_info(jid=DOMAIN, timeout=10)
        features = set(info["disco_info"]["features"])
        wanted = {
            "http://jabber.org/protocol/disco#info",
            "http://jabber.org/protocol/disco#items",
            "urn:xmpp:ping",
            "jabber:iq:version",
            "urn:xmpp:time",
            "jabber:iq:last",
            "jabber:iq:private",
            "vcard-temp",
            "jabber:iq:roster",
        }
        assert wanted <= features, f"missing: {wanted - features}"
        identities = {(c, t) for c, t, *_ in info["disco_info"]["identities"]}
        assert ("server", "im") in identities, identities
        items = await alice.plugin["xep_0030"].get_items(jid=DOMAIN, timeout=10)
        assert items["type"] == "result"
        for jid, *_ in items["disco_items"]["items"]:
            assert jid == DOMAIN or jid.endswith("." + DOMAIN), jid
        # An account's bare JID answers disco#info for its owner (XEP-0030 §3.1 / RFC 6121).
        own = await alice.plugin["xep_0030"].get_info(jid=alice.boundjid.bare, timeout=10)
        assert ("account", "registered") in {(c, t) for c, t, *_ in own["disco_info"]["identities"]}
    finally:
        await alice.close()


@run
async def test_ping_version_time(server):
    alice = await online(server, "alice", "small")
    try:
        rtt = await alice.plugin["xep_0199"].ping(jid=DOMAIN, timeout=10)
        assert rtt is not None and rtt >= 0
        version = await alice.plugin["xep_0092"].get_version(DOMAIN, timeout=10)
        assert version["software_version"]["name"] == "xmppd"
        assert version["software_version"]["version"]
        # Read the XEP-0082 text ourselves: slixmpp 1.17's parser rejects a plain "...Z".
        get = alice.make_iq_get(ito=DOMAIN)
        ET.SubElement(get.xml, "{urn:xmpp:time}time")
        time = await get.send(timeout=10)
        utc = datetime.datetime.fromisoformat(time.xml.findtext("{urn:xmpp:time}time/{urn:xmpp:time}utc"))
        assert utc.utcoffset() == datetime.timedelta(0), "utc is not in UTC"
        skew = abs((datetime.datetime.now(datetime.timezone.utc) - utc).total_seconds())
        assert skew < 30, f"server time off by {skew}s"
        assert re.fullmatch(r"[+-]\d\d:\d\d|Z", time.xml.findtext("{urn:xmpp:time}time/{urn:xmpp:time}tzo"))
    finally:
        await alice.close()


@run
async def test_last_activity_server_and_users(server):
    grace = await online(server, "grace", "watch")
    ivan = await online(server, "ivan", "stranger")
    heidi = await online(server, "heidi", "leaving")
    try:
        uptime = await grace.plugin["xep_0012"].get_last_activity(DOMAIN, timeout=10)
        seconds = uptime["last_activity"]["seconds"]
        assert 0 <= seconds < 600, f"uptime {seconds}"

        await subscribe(grace, heidi)
        # XEP-0012 §3: a user who is online has been active 0 seconds ago.
        online_now = await grace.plugin["xep_0012"].get_last_activity("heidi@example.test", timeout=10)
        assert online_now["last_activity"]["seconds"] == 0
        heidi.send_presence(ptype="unavailable", pstatus="gone fishing")
        await grace.presence("heidi leaves", lambda p: p["from"].bare == "heidi@example.test"
                             and p["type"] == "unavailable")
        last = await grace.plugin["xep_0012"].get_last_activity("heidi@example.test", timeout=10)
        assert 0 <= last["last_activity"]["seconds"] < 60
        assert last["last_activity"]["status"] == "gone fishing"

        # XEP-0012 §3: without a subscription the answer is forbidden.
        await expect_error(
            ivan.plugin["xep_0012"].get_last_activity("heidi@example.test", timeout=10),
            "forbidden",
        )
    finally:
        for c in (grace, ivan, heidi):
            await c.close()


@run
async def test_private_xml_round_trip(server):
    bob = await online(server, "bob", "private")
    try:
        iq = bob.make_iq_set()
        query = ET.SubElement(iq.xml, "{jabber:iq:private}query")
        prefs = ET.SubElement(query, "{urn:example:e2e}prefs", {"theme": "dark"})
        ET.SubElement(prefs, "{urn:example:e2e}font").text = "mono"
        await iq.send(timeout=10)

        get = bob.make_iq_get()
        query = ET.SubElement(get.xml, "{jabber:iq:private}query")
        ET.SubElement(query, "{urn:example:e2e}prefs")
        result = await get.send(timeout=10)
        stored = result.xml.find("{jabber:iq:private}query/{urn:example:e2e}prefs")
        assert stored is not None, ET.tostring(result.xml)
        assert stored.get("theme") == "dark"
        assert stored.findtext("{urn:example:e2e}font") == "mono"

        # XEP-0049 §3: jabber:* namespaces may not be stored.
        bad = bob.make_iq_set()
        query = ET.SubElement(bad.xml, "{jabber:iq:private}query")
        ET.SubElement(query, "{jabber:client}message")
        await expect_error(bad.send(timeout=10), "not-acceptable")
    finally:
        await bob.close()


@run
async def test_vcard_own_and_other(server):
    carol = await online(server, "carol", "vcard")
    dave = await online(server, "dave", "vcard")
    try:
        vcard = VCardTemp()
        vcard["FN"] = "Carol Example"
        vcard["NICKNAME"] = "caz"
        await carol.plugin["xep_0054"].publish_vcard(vcard, timeout=10)

        own = await carol.plugin["xep_0054"].get_vcard(carol.boundjid.bare, local=False, timeout=10)
        assert own["vcard_temp"]["FN"] == "Carol Example"
        other = await dave.plugin["xep_0054"].get_vcard("carol@example.test", local=False, timeout=10)
        assert other["vcard_temp"]["FN"] == "Carol Example"
        assert other["vcard_temp"]["NICKNAME"] in ("caz", ["caz"])  # slixmpp lists repeatable fields
        assert other["from"].bare == "carol@example.test"
    finally:
        await carol.close()
        await dave.close()


@run
async def test_password_change_while_logged_in(server):
    frank = await online(server, "frank", "pw")
    new_password = "frank-new-secret-pw-42"
    try:
        # Shorter than min_password_length (8 by default): refused, nothing changes.
        try:
            await frank.plugin["xep_0077"].change_password("short", jid=DOMAIN, timeout=10)
            raise AssertionError("a 5-character password was accepted")
        except IqError as err:
            assert err.iq["error"]["condition"] == "not-acceptable", err.iq
            assert "at least 8 characters" in err.iq["error"]["text"], err.iq
        await frank.plugin["xep_0077"].change_password(new_password, jid=DOMAIN, timeout=10)
    finally:
        await frank.close()
    old = server.accounts["frank"]
    server.accounts["frank"] = new_password
    refused = Client(server, "frank", "old", password=old, mech="SCRAM-SHA-256")
    assert not await refused.login(), "old password still accepted"
    await refused.close()
    again = Client(server, "frank", "new", mech="SCRAM-SHA-256")
    assert await again.login(), "new password refused"
    await again.close()


@run
async def test_account_removal(server):
    server.accounts["kim"] = "kim-secret-pw-0101"
    out = server.admin("adduser", "kim@example.test", stdin=server.accounts["kim"] + "\n")
    assert out.returncode == 0, out.stderr
    kim = await online(server, "kim", "leaving")
    other = await online(server, "kim", "other")
    try:
        # XEP-0077 §3.2 example: no `to`, the request is about the own account.
        await kim.plugin["xep_0077"].cancel_registration(timeout=10)
    except IqError as err:
        raise AssertionError(f"account removal refused: {err.iq}") from None
    try:
        # Then every session of the account ends with <not-authorized/>.
        for session in (kim, other):
            error = await take(session.stream_errors, "stream error after removal")
            assert error["condition"] == "not-authorized", error
    finally:
        await kim.close()
        await other.close()
    gone = Client(server, "kim", "again", mech="SCRAM-SHA-256")
    assert not await gone.login(), "removed account can still log in"
    await gone.close()


@run
async def test_other_users_private_data_and_vcard_are_protected(server):
    server.new_account("owner1")
    server.new_account("snoop1")
    owner = await online(server, "owner1", "x")
    snoop = await online(server, "snoop1", "x")
    try:
        iq = owner.make_iq_set()
        query = ET.SubElement(iq.xml, "{jabber:iq:private}query")
        ET.SubElement(query, "{urn:example:e2e}secret").text = "owner only"
        await iq.send(timeout=10)
        vcard = VCardTemp()
        vcard["FN"] = "The Owner"
        await owner.plugin["xep_0054"].publish_vcard(vcard, timeout=10)

        # XEP-0049 §3: nobody reads another account's private storage.
        get = snoop.make_iq_get(ito="owner1@example.test")
        query = ET.SubElement(get.xml, "{jabber:iq:private}query")
        ET.SubElement(query, "{urn:example:e2e}secret")
        try:
            reply = await get.send(timeout=10)
            raise AssertionError(f"private data of another account answered: {reply}")
        except IqError as err:
            assert err.iq["error"]["condition"] in ("forbidden", "service-unavailable", "not-allowed")
            assert "owner only" not in str(err.iq)

        # XEP-0054: only the owner sets a vCard.
        bad = VCardTemp()
        bad["FN"] = "Defaced"
        setter = snoop.make_iq_set(ito="owner1@example.test")
        setter.append(bad)
        try:
            await setter.send(timeout=10)
            raise AssertionError("a vCard was set on another account")
        except IqError as err:
            assert err.iq["error"]["condition"] in ("forbidden", "not-allowed", "service-unavailable")
        current = await snoop.plugin["xep_0054"].get_vcard("owner1@example.test", local=False, timeout=10)
        assert current["vcard_temp"]["FN"] == "The Owner"
    finally:
        await owner.close()
        await snoop.close()


def caps_ver(query: ET.Element) -> str:
    """XEP-0115 §5.1 verification string of a disco#info result (with XEP-0128 forms)."""
    import base64
    import hashlib

    info = "http://jabber.org/protocol/disco#info"
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    s = ""
    identities = sorted(
        (i.get("category", ""), i.get("type", ""), i.get(xml_lang, ""), i.get("name", ""))
        for i in query.findall(f"{{{info}}}identity")
    )
    s += "".join("/".join(i) + "<" for i in identities)
    s += "".join(f + "<" for f in sorted(f.get("var") for f in query.findall(f"{{{info}}}feature")))
    forms = []
    for form in query.findall("{jabber:x:data}x"):
        fields = {}
        for field in form.findall("{jabber:x:data}field"):
            fields[field.get("var")] = sorted(v.text or "" for v in field.findall("{jabber:x:data}value"))
        form_type = fields.pop("FORM_TYPE", [""])[0]
        text = form_type + "<" + "".join(
            var + "<" + "".join(v + "<" for v in values) for var, values in sorted(fields.items())
        )
        forms.append((form_type, text))
    s += "".join(text for _, text in sorted(forms))
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


def test_caps_in_stream_features_match_disco(server):
    # XEP-0115 §6.3: the server's caps in the stream features must hash its disco#info.
    from raw_stream import BIND_NS, Scram, q, sasl_exchange, secured

    stream, _ = secured(server)
    try:
        ok, _ = sasl_exchange(stream, "SCRAM-SHA-256", Scram("sha256", "ivan", server.accounts["ivan"]))
        assert ok
        features = stream.open()
        caps = features.find(q("http://jabber.org/protocol/caps", "c"))
        assert caps is not None, "no caps in the stream features"
        assert caps.get("hash") == "sha-1"
        stream.send(f"<iq type='set' id='b'><bind xmlns='{BIND_NS}'/></iq>")
        stream.send("<iq type='get' id='d' to='example.test'>"
                    "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        while True:
            reply = stream.next()
            if reply.get("id") == "d":
                break
        query = reply.find("{http://jabber.org/protocol/disco#info}query")
        assert caps_ver(query) == caps.get("ver"), ET.tostring(query)
        # §6.2: a query to node#ver answers the same information.
        node = f"{caps.get('node')}#{caps.get('ver')}"
        get = ET.Element("iq", {"type": "get", "id": "n", "to": "example.test"})
        ET.SubElement(get, "{http://jabber.org/protocol/disco#info}query", {"node": node})
        stream.send(ET.tostring(get, default_namespace=None))
        while True:
            reply = stream.next()
            if reply.get("id") == "n":
                break
        assert reply.get("type") == "result", ET.tostring(reply)
        query = reply.find("{http://jabber.org/protocol/disco#info}query")
        assert query.get("node") == node
        assert caps_ver(query) == caps.get("ver")
    finally:
        stream.close()
