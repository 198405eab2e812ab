"""Conversions the server keeps in step: XEP-0402 bookmarks with XEP-0048 bookmarks in
XEP-0049 private XML (both ways), and XEP-0084 avatars with the XEP-0054 vCard photo (both
ways), with the XEP-0153 photo hash the server adds to presence (XEP-0398)."""

import base64
import hashlib
import xml.etree.ElementTree as ET

from slixmpp.plugins.xep_0048.stanza import Bookmarks

from e2e_client import run
from test_pep import form, items, mutual, pep_client

BOOKMARKS = "urn:xmpp:bookmarks:1"
BOOKMARK_OPTIONS = {
    "FORM_TYPE": "http://jabber.org/protocol/pubsub#publish-options",
    "pubsub#persist_items": "true",
    "pubsub#max_items": "max",
    "pubsub#send_last_published_item": "never",
    "pubsub#access_model": "whitelist",
}
# XEP-0402 payloads are built by hand: older slixmpp releases have no plugin for them.
CONVERSION_PLUGINS = ["xep_0048", "xep_0084"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
UPDATE = "{vcard-temp:x:update}"


async def client(server, user, resource="conv", interests=()):
    return await pep_client(server, user, resource, interests, plugins=CONVERSION_PLUGINS)


async def legacy_bookmarks(c):
    result = await c.plugin["xep_0048"].get_bookmarks(method="xep_0049")
    return {str(conf["jid"]): conf for conf in result["private"]["bookmarks"]["conferences"]}


@run
async def test_bookmarks_0402_and_0048_see_each_others_writes(server):
    me = server.new_account("bm_user")
    c = await client(server, "bm_user")
    try:
        # XEP-0402 publish -> XEP-0048 storage in private XML.
        conference = ET.Element(f"{{{BOOKMARKS}}}conference", name="Coffee", autojoin="true")
        ET.SubElement(conference, f"{{{BOOKMARKS}}}nick").text = "bm"
        await c.plugin["xep_0060"].publish(me, BOOKMARKS, id="coffee@muc.example.test",
                                           payload=conference,
                                           options=form(c, BOOKMARK_OPTIONS))
        legacy = await legacy_bookmarks(c)
        assert set(legacy) == {"coffee@muc.example.test"}
        assert legacy["coffee@muc.example.test"]["name"] == "Coffee"
        assert legacy["coffee@muc.example.test"]["nick"] == "bm"
        assert legacy["coffee@muc.example.test"]["autojoin"] is True

        # XEP-0048 storage -> XEP-0402 items: one room added, the other removed.
        storage = Bookmarks()
        storage.add_conference("tea@muc.example.test", "bm2", name="Tea", autojoin=False)
        await c.plugin["xep_0048"].set_bookmarks(storage, method="xep_0049")
        found = await items(c, me, node=BOOKMARKS)
        assert [i for i, _ in found] == ["tea@muc.example.test"]
        result = await c.plugin["xep_0060"].get_items(me, BOOKMARKS)
        payload = result.xml.find(".//{urn:xmpp:bookmarks:1}conference")
        assert payload.get("name") == "Tea"
        assert payload.find("{urn:xmpp:bookmarks:1}nick").text == "bm2"

        # The node is private (whitelist) as XEP-0402 requires.
        config = await c.plugin["xep_0060"].get_node_config(me, BOOKMARKS)
        values = config["pubsub_owner"]["configure"]["form"].get_values()
        assert values["pubsub#access_model"] == "whitelist"
    finally:
        await c.close()


@run
async def test_avatar_becomes_vcard_photo_and_presence_hash(server):
    owner, friend = server.new_account("av_owner"), server.new_account("av_friend")
    a = await client(server, "av_owner")
    b = await client(server, "av_friend")
    try:
        await mutual(a, b)
        digest = hashlib.sha1(PNG).hexdigest()
        await a.plugin["xep_0084"].publish_avatar(PNG)
        await a.plugin["xep_0084"].publish_avatar_metadata(
            [{"id": digest, "type": "image/png", "bytes": len(PNG)}])
        card = await b.plugin["xep_0054"].get_vcard(owner)
        photo = card.xml.find(".//{vcard-temp}PHOTO")
        assert photo is not None, "the avatar did not reach the vCard"
        assert photo.find("{vcard-temp}TYPE").text == "image/png"
        assert base64.b64decode(photo.find("{vcard-temp}BINVAL").text) == PNG
        # The next presence of the owner carries the photo hash (XEP-0153).
        a.send_presence(pstatus="with avatar")
        seen = await b.presence("presence with the photo hash",
                                lambda p: p["from"].bare == owner and p["status"] == "with avatar")
        hash_ = seen.xml.find(f"{UPDATE}x/{UPDATE}photo")
        assert hash_ is not None and hash_.text == digest
    finally:
        await a.close()
        await b.close()


@run
async def test_vcard_photo_becomes_avatar(server):
    owner, friend = server.new_account("vc_owner"), server.new_account("vc_friend")
    a = await client(server, "vc_owner")
    b = await client(server, "vc_friend", interests=["urn:xmpp:avatar:metadata"])
    try:
        await mutual(a, b)
        card = a.plugin["xep_0054"].make_vcard()
        card["FN"] = "Owner"
        card["PHOTO"]["TYPE"] = "image/png"
        card["PHOTO"]["BINVAL"] = PNG
        await a.plugin["xep_0054"].publish_vcard(card)
        digest = hashlib.sha1(PNG).hexdigest()
        # The contact is notified of the new metadata, and can fetch the data.
        got = await b.message("avatar metadata notification", match=lambda m: m.xml.find(
            ".//{urn:xmpp:avatar:metadata}info") is not None)
        info = got.xml.find(".//{urn:xmpp:avatar:metadata}info")
        assert info.get("id") == digest and info.get("type") == "image/png"
        assert info.get("bytes") == str(len(PNG))
        data = await b.plugin["xep_0084"].retrieve_avatar(owner, digest)
        value = data.xml.find(".//{urn:xmpp:avatar:data}data").text
        assert base64.b64decode(value) == PNG
    finally:
        await a.close()
        await b.close()
