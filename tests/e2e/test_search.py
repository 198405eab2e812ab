"""XEP-0055 user search: an opt-in directory (vCard CLASS PUBLIC), legacy fields and forms."""

import xml.etree.ElementTree as ET

from slixmpp.exceptions import IqError

from e2e_client import online, run

DOMAIN = "example.test"
NS = "jabber:iq:search"
XDATA = "jabber:x:data"


async def set_vcard(client, nick: str, klass: str | None) -> None:
    iq = client.make_iq_set()
    card = ET.SubElement(iq.xml, "{vcard-temp}vCard")
    ET.SubElement(card, "{vcard-temp}NICKNAME").text = nick
    if klass is not None:
        ET.SubElement(ET.SubElement(card, "{vcard-temp}CLASS"), f"{{vcard-temp}}{klass}")
    await iq.send(timeout=10)


async def legacy_search(client, nick: str) -> dict[str, str]:
    iq = client.make_iq_set(ito=DOMAIN)
    query = ET.SubElement(iq.xml, f"{{{NS}}}query")
    ET.SubElement(query, f"{{{NS}}}nick").text = nick
    reply = await iq.send(timeout=10)
    return {item.get("jid"): item.findtext(f"{{{NS}}}nick")
            for item in reply.xml.findall(f"{{{NS}}}query/{{{NS}}}item")}


async def form_search(client, var: str, value: str) -> list[dict[str, str]]:
    iq = client.make_iq_set(ito=DOMAIN)
    query = ET.SubElement(iq.xml, f"{{{NS}}}query")
    form = ET.SubElement(query, f"{{{XDATA}}}x", {"type": "submit"})
    hidden = ET.SubElement(form, f"{{{XDATA}}}field", {"var": "FORM_TYPE", "type": "hidden"})
    ET.SubElement(hidden, f"{{{XDATA}}}value").text = NS
    ET.SubElement(ET.SubElement(form, f"{{{XDATA}}}field", {"var": var}), f"{{{XDATA}}}value").text = value
    reply = await iq.send(timeout=10)
    table = reply.xml.find(f"{{{NS}}}query/{{{XDATA}}}x")
    assert table is not None and table.get("type") == "result", reply
    assert table.find(f"{{{XDATA}}}reported") is not None
    return [{f.get("var"): f.findtext(f"{{{XDATA}}}value") for f in row.findall(f"{{{XDATA}}}field")}
            for row in table.findall(f"{{{XDATA}}}item")]


@run
async def test_search_finds_opted_in_users_only(fresh_server):
    alice = await online(fresh_server, "alice", "search")
    bob = await online(fresh_server, "bob", "search")
    carol = await online(fresh_server, "carol", "search")
    dave = await online(fresh_server, "dave", "search")
    try:
        info = await alice.plugin["xep_0030"].get_info(jid=DOMAIN, timeout=10)
        assert NS in info["disco_info"]["features"]
        fields = await alice.make_iq_get(ito=DOMAIN, queryxmlns=NS).send(timeout=10)
        assert fields.xml.find(f"{{{NS}}}query/{{{NS}}}nick") is not None
        assert fields.xml.find(f"{{{NS}}}query/{{{XDATA}}}x") is not None

        await set_vcard(bob, "Bobby Tables", "PUBLIC")
        await set_vcard(carol, "Bobcat", None)          # never opted in
        await set_vcard(dave, "Bobsleigh", "PUBLIC")
        await set_vcard(dave, "Bobsleigh", "PRIVATE")   # opted out again

        assert await legacy_search(alice, "bob") == {f"bob@{DOMAIN}": "Bobby Tables"}
        assert await legacy_search(alice, "TABLES") == {f"bob@{DOMAIN}": "Bobby Tables"}
        assert await legacy_search(alice, "carol") == {}
        assert await legacy_search(alice, "Bobcat") == {}
        assert await form_search(alice, "username", "bo") == [
            {"jid": f"bob@{DOMAIN}", "nick": "Bobby Tables"}]
        # LIKE wildcards are literal: "%" finds nobody instead of everybody.
        assert await legacy_search(alice, "%") == {}
        try:
            await legacy_search(alice, "   ")
            raise AssertionError("an empty search was answered")
        except IqError as err:
            assert err.iq["error"]["condition"] == "bad-request"
    finally:
        for c in (dave, carol, bob, alice):
            await c.close()
