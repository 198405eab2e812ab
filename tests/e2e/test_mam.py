"""XEP-0313 Message Archive Management: both parties' archives, RSM paging, the with/start/end
filters, preferences, and the XEP-0359 stanza id on delivered messages."""

import asyncio
import datetime as dt
import xml.etree.ElementTree as ET

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from e2e_client import Client, online, run

MAM = "urn:xmpp:mam:2"
FORWARD = "urn:xmpp:forward:0"
SID = "urn:xmpp:sid:0"
RSM = "http://jabber.org/protocol/rsm"


async def mam_online(server, user, resource="mam"):
    client = Client(server, user, resource)
    client.register_plugin("xep_0059")
    client.register_plugin("xep_0313")
    return await client.online()


def body_of(result_message) -> str:
    inner = result_message.xml.find(
        f"{{{MAM}}}result/{{{FORWARD}}}forwarded/{{jabber:client}}message/{{jabber:client}}body"
    )
    assert inner is not None, f"no forwarded message in {result_message}"
    return inner.text


async def page(client, **kw):
    """One query; returns (bodies, fin) where fin is the <fin/> element."""
    result = await client.plugin["xep_0313"].retrieve(timeout=10, **kw)
    assert result["type"] == "result", result
    fin = result.xml.find(f"{{{MAM}}}fin")
    assert fin is not None
    return [body_of(m) for m in result["mam"]["results"]], fin


async def raw_page(client, rsm: dict[str, str]):
    """A query built by hand (slixmpp cannot send an empty RSM <before/>): (bodies, fin)."""
    results: list = []
    queryid = f"raw{id(rsm)}"
    name = f"raw mam {queryid}"
    client.register_handler(Callback(
        name, MatchXPath(f"{{jabber:client}}message/{{{MAM}}}result"),
        lambda m: m.xml.find(f"{{{MAM}}}result").get("queryid") == queryid and results.append(m),
    ))
    iq = client.Iq()
    iq["type"] = "set"
    query = ET.SubElement(iq.xml, f"{{{MAM}}}query", {"queryid": queryid})
    rsm_el = ET.SubElement(query, f"{{{RSM}}}set")
    for key, value in rsm.items():
        ET.SubElement(rsm_el, f"{{{RSM}}}{key}").text = value
    result = await iq.send(timeout=10)
    client.remove_handler(name)
    return [body_of(m) for m in results], result.xml.find(f"{{{MAM}}}fin")


def rsm_text(fin, name: str) -> str | None:
    el = fin.find(f"{{http://jabber.org/protocol/rsm}}set/{{http://jabber.org/protocol/rsm}}{name}")
    return None if el is None else el.text


@run
async def test_both_sides_archived_with_paging_and_filters(server):
    nina = server.new_account("nina")
    olaf = server.new_account("olaf")
    server.new_account("pia")
    a = await mam_online(server, "nina")
    b = await mam_online(server, "olaf")
    c = await online(server, "pia")
    try:
        info = await a.plugin["xep_0030"].get_info(jid=nina)
        assert MAM in info["disco_info"]["features"]
        before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
        for n in range(5):
            a.send_message(mto=olaf, mbody=f"n{n}", mtype="chat")
            got = await b.chat(f"n{n}")
            # The recipient's archive id travels with the delivered message.
            sid = got.xml.find(f"{{{SID}}}stanza-id")
            assert sid is not None and sid.get("by") == olaf and sid.get("id")
        c.send_message(mto=nina, mbody="from pia", mtype="chat")
        await a.chat("from pia")
        # The archive keeps milliseconds: put `mid` a millisecond after what arrived so far, and
        # let the clock pass it before the next message, so the two sides are distinct instants.
        mid = dt.datetime.now(dt.timezone.utc) + dt.timedelta(milliseconds=1)
        while dt.datetime.now(dt.timezone.utc) < mid + dt.timedelta(milliseconds=1):
            await asyncio.sleep(0.001)
        b.send_message(mto=nina, mbody="reply", mtype="chat")
        await a.chat("reply")

        # The sender's archive has what nina sent and received, in order.
        everything, fin = await page(a)
        assert everything == ["n0", "n1", "n2", "n3", "n4", "from pia", "reply"]
        assert fin.get("complete") == "true"
        # The recipient's archive too; the stanza id olaf saw is its archive id.
        theirs, _ = await page(b)
        assert theirs == ["n0", "n1", "n2", "n3", "n4", "reply"]

        # RSM paging forwards: three pages of three, the last complete.
        bodies, fin = await page(a, rsm={"max": 3})
        assert bodies == ["n0", "n1", "n2"] and fin.get("complete") != "true"
        assert rsm_text(fin, "count") == "7"  # every match, not the page
        bodies, fin = await page(a, rsm={"max": 3, "after": rsm_text(fin, "last")})
        assert bodies == ["n3", "n4", "from pia"] and fin.get("complete") != "true"
        bodies, fin = await page(a, rsm={"max": 3, "after": rsm_text(fin, "last")})
        assert bodies == ["reply"] and fin.get("complete") == "true"
        # The last page, then backwards from its first item.
        bodies, fin = await raw_page(a, {"max": "2", "before": ""})
        assert bodies == ["from pia", "reply"] and fin.get("complete") != "true"
        bodies, fin = await raw_page(a, {"max": "4", "before": rsm_text(fin, "first")})
        assert bodies == ["n1", "n2", "n3", "n4"] and fin.get("complete") != "true"
        bodies, fin = await raw_page(a, {"max": "4", "before": rsm_text(fin, "first")})
        assert bodies == ["n0"] and fin.get("complete") == "true"

        # Filters: with, start, end.
        bodies, fin = await page(a, with_jid=c.boundjid.bare)
        assert bodies == ["from pia"] and rsm_text(fin, "count") == "1"
        bodies, _ = await page(a, start=mid)
        assert bodies == ["reply"]
        bodies, _ = await page(a, start=before, end=mid, with_jid=olaf)
        assert bodies == ["n0", "n1", "n2", "n3", "n4"]
    finally:
        for client in (a, b, c):
            await client.close()


async def set_prefs(client, default: str, never: list[str] = ()) -> None:
    iq = client.Iq()
    iq["type"] = "set"
    prefs = ET.SubElement(iq.xml, f"{{{MAM}}}prefs", {"default": default})
    ET.SubElement(prefs, f"{{{MAM}}}always")
    never_el = ET.SubElement(prefs, f"{{{MAM}}}never")
    for jid in never:
        ET.SubElement(never_el, f"{{{MAM}}}jid").text = jid
    result = await iq.send(timeout=10)
    assert result["type"] == "result"


@run
async def test_prefs_never_and_unknown_id(server):
    quin = server.new_account("quin")
    rosa = server.new_account("rosa")
    sven = server.new_account("sven")
    a = await mam_online(server, "quin")
    b = await mam_online(server, "rosa")
    c = await online(server, "sven")
    try:
        await set_prefs(a, "always", never=[sven])
        # The stored prefs come back.
        iq = a.Iq()
        iq["type"] = "get"
        ET.SubElement(iq.xml, f"{{{MAM}}}prefs")
        got = await iq.send(timeout=10)
        prefs = got.xml.find(f"{{{MAM}}}prefs")
        assert prefs.get("default") == "always"
        assert [j.text for j in prefs.iter(f"{{{MAM}}}jid")] == [sven]

        c.send_message(mto=quin, mbody="not archived", mtype="chat")
        got = await a.chat("not archived")
        assert got.xml.find(f"{{{SID}}}stanza-id") is None
        b.send_message(mto=quin, mbody="archived", mtype="chat")
        await a.chat("archived")
        bodies, _ = await page(a)
        assert bodies == ["archived"]

        # default=never: nothing more goes in, in either direction.
        await set_prefs(a, "never")
        a.send_message(mto=rosa, mbody="after never", mtype="chat")
        await b.chat("after never")
        bodies, _ = await page(a)
        assert bodies == ["archived"]
        bodies, _ = await page(b)
        assert bodies == ["archived", "after never"]

        # Paging after an id that is not in the archive: item-not-found.
        query = a.Iq()
        query["type"] = "set"
        q = ET.SubElement(query.xml, f"{{{MAM}}}query")
        rsm = ET.SubElement(q, "{http://jabber.org/protocol/rsm}set")
        ET.SubElement(rsm, "{http://jabber.org/protocol/rsm}after").text = "no-such-id"
        try:
            await query.send(timeout=10)
            raise AssertionError("expected an error")
        except Exception as err:  # slixmpp raises IqError
            iq_error = getattr(err, "iq", None)
            assert iq_error is not None, err
            assert iq_error["error"]["condition"] == "item-not-found"
    finally:
        for client in (a, b, c):
            await client.close()


@run
async def test_page_size_is_capped_by_the_config(own_server):
    server = own_server(max_page_size="2")
    a = await mam_online(server, "alice")
    b = await online(server, "bob")
    try:
        for n in range(3):
            b.send_message(mto=server.jid("alice"), mbody=f"m{n}", mtype="chat")
            await a.chat(f"m{n}")
        bodies, fin = await page(a, rsm={"max": 10})
        assert bodies == ["m0", "m1"] and fin.get("complete") != "true"
        bodies, fin = await page(a, rsm={"max": 10, "after": rsm_text(fin, "last")})
        assert bodies == ["m2"] and fin.get("complete") == "true"
    finally:
        await a.close()
        await b.close()
