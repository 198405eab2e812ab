"""RFC 6121 §2-§4: roster management, subscription handshake, presence, roster versioning."""

import xml.etree.ElementTree as ET

from e2e_client import Client, drain, online, run
from raw_stream import Scram, q, sasl_exchange, secured

CAROL = "carol@example.test"
DAVE = "dave@example.test"


def sub(item) -> str:
    return item["subscription"] or "none"  # RFC 6121 §2.1.2.5: absent means none


@run
async def test_subscription_handshake_presence_and_removal(server):
    carol = await online(server, "carol", "desk")
    dave = await online(server, "dave", "phone")
    try:
        # §2.3: adding an item gives a roster push with subscription none.
        await carol.update_roster(DAVE, name="Dave", groups=["Friends"], timeout=10)
        push = await carol.roster_push(DAVE, lambda i: sub(i) == "none")
        assert push["roster"]["items"][DAVE]["name"] == "Dave"
        assert push["roster"]["items"][DAVE]["groups"] == ["Friends"]

        # §3.1: carol asks; her push shows ask=subscribe; dave gets the request from her bare JID.
        carol.send_presence(pto=DAVE, ptype="subscribe")
        await carol.roster_push(DAVE, lambda i: i["ask"] == "subscribe")
        request = await dave.presence("subscribe from carol",
                                      lambda p: p["type"] == "subscribe")
        assert request["from"].full == CAROL

        # §3.1.5: dave approves: carol's item becomes "to", dave's "from"; carol gets
        # "subscribed" and then dave's available presence.
        dave.send_presence(pto=CAROL, ptype="subscribed")
        await dave.roster_push(CAROL, lambda i: sub(i) == "from")
        await carol.roster_push(DAVE, lambda i: sub(i) == "to")
        subscribed = await carol.presence("subscribed from dave", lambda p: p["type"] == "subscribed")
        assert subscribed["from"].full == DAVE
        available = await carol.presence("dave's presence",
                                         lambda p: p["from"].bare == DAVE and p["type"] == "available")
        assert available["from"].full == f"{DAVE}/phone"

        # And back: dave subscribes to carol, carol approves: both end at "both".
        dave.send_presence(pto=CAROL, ptype="subscribe")
        request = await carol.presence("subscribe from dave", lambda p: p["type"] == "subscribe")
        assert request["from"].full == DAVE
        carol.send_presence(pto=DAVE, ptype="subscribed")
        await carol.roster_push(DAVE, lambda i: sub(i) == "both")
        await dave.roster_push(CAROL, lambda i: sub(i) == "both")
        await dave.presence("carol's presence",
                            lambda p: p["from"].full == f"{CAROL}/desk" and p["type"] == "available")

        for client, contact in ((carol, DAVE), (dave, CAROL)):
            # A get without `ver` always returns the full roster (RFC 6121 §2.6.3).
            get = client.Iq()
            get["type"] = "get"
            get.enable("roster")
            roster = await get.send(timeout=10)
            items = roster["roster"]["items"]
            assert sub(items[contact]) == "both", f"{client.boundjid.bare}: {items[contact]}"
            assert items[contact]["ask"] == ""

        # §4.2-§4.3: a new session of dave: carol sees it arrive, and the server probes on
        # dave's behalf so the new session learns carol's presence.
        drain(carol.presences)
        tablet = await online(server, "dave", "tablet")
        try:
            await carol.presence("dave's tablet", lambda p: p["from"].full == f"{DAVE}/tablet"
                                 and p["type"] == "available")
            await tablet.presence("carol's presence for the new session",
                                  lambda p: p["from"].full == f"{CAROL}/desk" and p["type"] == "available")
        finally:
            await tablet.close()
        await carol.presence("dave's tablet leaves", lambda p: p["from"].full == f"{DAVE}/tablet"
                             and p["type"] == "unavailable")

        # §4.2-§4.4: presence flows both ways to subscribers, from the sender's full JID.
        drain(dave.presences)
        carol.send_presence(pshow="away", pstatus="at lunch")
        away = await dave.presence("carol away", lambda p: p["from"].full == f"{CAROL}/desk"
                                   and p["show"] == "away")
        assert away["status"] == "at lunch"
        drain(carol.presences)
        dave.send_presence(pshow="dnd")
        await carol.presence("dave dnd", lambda p: p["from"].full == f"{DAVE}/phone" and p["show"] == "dnd")

        # §2.5.2: removal cancels both directions: carol's item goes, dave's drops to "none",
        # and dave sees carol go unavailable.
        drain(dave.presences)
        drain(dave.roster_pushes)
        await carol.del_roster_item(DAVE)
        await carol.roster_push(DAVE, lambda i: sub(i) == "remove")
        await dave.roster_push(CAROL, lambda i: sub(i) == "none")
        await dave.presence("carol unavailable",
                            lambda p: p["from"].bare == CAROL and p["type"] == "unavailable")
        roster = await carol.get_roster(timeout=10)
        assert DAVE not in roster["roster"]["items"]

        # No more presence flows from carol to dave: a message sent after the presence is the
        # barrier (RFC 6120 §10.1: in-order processing between two entities).
        drain(dave.presences)
        carol.send_presence(pshow="xa")
        carol.send_message(mto=f"{DAVE}/phone", mbody="after xa", mtype="chat")
        await dave.chat("after xa")
        leaked = [p for p in drain(dave.presences) if p["from"].bare == CAROL]
        assert not leaked, f"presence after removal: {leaked}"
    finally:
        await carol.close()
        await dave.close()


async def roster_get(client: Client, ver: str):
    iq = client.Iq()
    iq["type"] = "get"
    iq.enable("roster")
    iq["roster"]["ver"] = ver
    return await iq.send(timeout=10)


@run
async def test_roster_versioning(server):
    erin = await online(server, "erin", "v")
    try:
        await erin.update_roster("frank@example.test", name="Frank", timeout=10)
        full = await roster_get(erin, "")
        ver = full["roster"]["ver"]
        assert ver, "no ver attribute on a versioned roster result"
        assert "frank@example.test" in full["roster"]["items"]

        # §2.6.3: nothing changed since `ver`: an empty result, no items.
        same = await roster_get(erin, ver)
        assert same["type"] == "result"
        assert not same["roster"]["items"], f"items resent for current ver: {same}"

        # After a change the old ver is stale: the change must reach the client, either as a
        # full roster or as pushes, and the new ver differs.
        drain(erin.roster_pushes)
        await erin.update_roster("grace@example.test", name="Grace", timeout=10)
        push = await erin.roster_push("grace@example.test")
        assert push["roster"]["ver"] and push["roster"]["ver"] != ver
        stale = await roster_get(erin, ver)
        if stale["roster"]["items"]:
            assert "grace@example.test" in stale["roster"]["items"]
        else:
            await erin.roster_push("grace@example.test")
    finally:
        await erin.close()


def test_roster_versioning_announced(server):
    # RFC 6121 §2.6.1: a server that supports versioning MUST say so in the stream features.
    stream, _ = secured(server)
    try:
        ok, _ = sasl_exchange(stream, "SCRAM-SHA-256", Scram("sha256", "erin", server.accounts["erin"]))
        assert ok
        features = stream.open()
        assert features.find(q("urn:xmpp:features:rosterver", "ver")) is not None, \
            "no <ver xmlns='urn:xmpp:features:rosterver'/> among the post-auth features"
    finally:
        stream.close()


def test_roster_set_validation_and_privacy(server):
    from raw_stream import logged_in

    stream = logged_in(server, "ivan", "roster-rules")

    def ask(xml: str, stanza_id: str):
        stream.send(xml)
        while True:
            elem = stream.next()
            if elem.get("id") == stanza_id:
                return elem

    def condition(elem) -> str:
        error = elem.find("{jabber:client}error")
        assert error is not None, ET.tostring(elem)
        return [c.tag.split("}")[1] for c in error if not c.tag.endswith("}text")][0]

    try:
        # RFC 6121 §2.3.3: a set with more than one item is a bad request.
        two = ask("<iq type='set' id='r1'><query xmlns='jabber:iq:roster'>"
                  "<item jid='x1@example.test'/><item jid='x2@example.test'/></query></iq>", "r1")
        assert two.get("type") == "error" and condition(two) == "bad-request"
        # §2.5.3: removing an item that is not there: item-not-found.
        missing = ask("<iq type='set' id='r2'><query xmlns='jabber:iq:roster'>"
                      "<item jid='nobody-here@example.test' subscription='remove'/></query></iq>", "r2")
        assert missing.get("type") == "error" and condition(missing) == "item-not-found"
        # §2.1.5: nobody reads another account's roster.
        other = ask("<iq type='get' id='r3' to='alice@example.test'>"
                    "<query xmlns='jabber:iq:roster'/></iq>", "r3")
        assert other.get("type") == "error", ET.tostring(other)
        assert other.find("{jabber:iq:roster}query/{jabber:iq:roster}item") is None
    finally:
        stream.close()
