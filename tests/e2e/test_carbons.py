"""XEP-0280 Message Carbons: copies of received and sent chats reach the user's other
resources that enabled carbons, and only those."""

import asyncio
import xml.etree.ElementTree as ET

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from e2e_client import drain, online, run, take, until

CARBONS = "urn:xmpp:carbons:2"
FORWARD = "urn:xmpp:forward:0"


def watch_carbons(client) -> asyncio.Queue:
    """Carbons carry no body, so slixmpp's message event skips them: collect them here."""
    queue: asyncio.Queue = asyncio.Queue()
    for wrapper in ("received", "sent"):
        client.register_handler(Callback(
            f"e2e carbons {wrapper}",
            MatchXPath(f"{{jabber:client}}message/{{{CARBONS}}}{wrapper}"),
            queue.put_nowait,
        ))
    return queue


async def enable_carbons(client) -> None:
    iq = client.Iq()
    iq["type"] = "set"
    iq.xml.append(ET.Element(f"{{{CARBONS}}}enable"))
    result = await iq.send(timeout=10)
    assert result["type"] == "result"


def forwarded_body(message, wrapper: str) -> str | None:
    inner = message.xml.find(f"{{{CARBONS}}}{wrapper}/{{{FORWARD}}}forwarded/{{jabber:client}}message")
    if inner is None:
        return None
    body = inner.find("{jabber:client}body")
    return body.text if body is not None else ""


@run
async def test_received_and_sent_copies(server):
    kate = server.new_account("kate")
    liam = server.new_account("liam")
    phone = await online(server, "kate", "phone")
    laptop = await online(server, "kate", "laptop")
    watch = await online(server, "kate", "watch")  # never enables carbons
    other = await online(server, "liam", "desk")
    try:
        assert "urn:xmpp:carbons:2" in (await phone.plugin["xep_0030"].get_info(jid="example.test"))["disco_info"]["features"]
        laptop_carbons, watch_carbons_seen = watch_carbons(laptop), watch_carbons(watch)
        await enable_carbons(laptop)

        # Liam writes to kate's phone (full JID): the laptop gets a <received/> copy.
        other.send_message(mto=f"{kate}/phone", mbody="to the phone", mtype="chat")
        got = await phone.message("direct message", match=lambda m: m["body"] == "to the phone")
        assert got["from"].bare == liam
        copy = await take(laptop_carbons, "received carbon",
                          match=lambda m: forwarded_body(m, "received") == "to the phone")
        assert copy["from"].full == kate and copy["to"].full == f"{kate}/laptop"

        # Kate answers from the phone: the laptop gets a <sent/> copy, liam the message.
        phone.send_message(mto=liam, mbody="answer from the phone", mtype="chat")
        await other.message("answer", match=lambda m: m["body"] == "answer from the phone")
        await take(laptop_carbons, "sent carbon",
                   match=lambda m: forwarded_body(m, "sent") == "answer from the phone")

        # A <private/> message is not copied; the watch never sees carbons at all.
        private = other.make_message(mto=f"{kate}/phone", mbody="private one", mtype="chat")
        private.xml.append(ET.Element(f"{{{CARBONS}}}private"))
        private.send()
        await phone.message("private", match=lambda m: m["body"] == "private one")
        other.send_message(mto=f"{kate}/phone", mbody="marker", mtype="chat")
        seen = await until(laptop_carbons, "marker copy", lambda m: forwarded_body(m, "received") == "marker")
        assert not any(forwarded_body(m, "received") == "private one" for m in seen)
        assert drain(watch_carbons_seen) == []
    finally:
        for client in (phone, laptop, watch, other):
            await client.close()
