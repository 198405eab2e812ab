"""XEP-0163 PEP on the XEP-0060 subset: notifications by caps (+notify) to contacts and own
resources only, items with max_items, retract, publish-options preconditions, whitelist
(XEP-0223) access, the last item on presence, and persistence across a restart."""

import asyncio
import hashlib
import os
import subprocess
import xml.etree.ElementTree as ET

from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import DOMAIN, stop_server, wait_ready, xmppd_bin
from e2e_client import Client, run, until

EVENT = "{http://jabber.org/protocol/pubsub#event}"
NODE = "urn:example:pep:mood"
PEP_PLUGINS = ["xep_0060", "xep_0163", "xep_0115"]


async def pep_client(server, user: str, resource: str = "pep", interests=(), plugins=()):
    """A client online with initial presence, whose caps ask for `interests` (each
    `NODE+notify`)."""
    client = Client(server, user, resource)
    for plugin in [*PEP_PLUGINS, *plugins]:
        client.register_plugin(plugin)
    for namespace in interests:
        client.plugin["xep_0163"].add_interest(namespace)
    # Notifications are headlines without a body, which slixmpp's `message` event skips.
    client.register_handler(Callback(
        "e2e pep event",
        MatchXPath("{jabber:client}message/{http://jabber.org/protocol/pubsub#event}event"),
        client.messages.put_nowait,
    ))
    await client.online()
    return client


async def mutual(a: Client, b: Client) -> None:
    """a and b subscribed to each other's presence."""
    for user, contact in ((a, b), (b, a)):
        user.send_presence(pto=contact.boundjid.bare, ptype="subscribe")
        await contact.presence("subscribe", lambda p: p["type"] == "subscribe"
                               and p["from"].bare == user.boundjid.bare)
        contact.send_presence(pto=user.boundjid.bare, ptype="subscribed")
        await user.roster_push(contact.boundjid.bare,
                               lambda i: i["subscription"] in ("to", "both"))


def payload(value: str) -> ET.Element:
    element = ET.Element("{urn:example:pep}mood")
    element.text = value
    return element


def options(**fields: str):
    """A publish-options form."""
    return {"FORM_TYPE": "http://jabber.org/protocol/pubsub#publish-options", **fields}


def form(client: Client, values: dict):
    f = client.plugin["xep_0004"].make_form(ftype="submit")
    for var, value in values.items():
        f.add_field(var=var, value=value, ftype="hidden" if var == "FORM_TYPE" else None)
    return f


def events(message, node: str = NODE):
    """(published ids with their text, retracted ids) of a pubsub event message for `node`."""
    items = message.xml.find(f"{EVENT}event/{EVENT}items")
    if items is None or items.get("node") != node:
        return None
    published = {i.get("id"): "".join(i.itertext()) for i in items.findall(f"{EVENT}item")}
    retracted = [r.get("id") for r in items.findall(f"{EVENT}retract")]
    return published, retracted


async def event(client: Client, what: str, node: str = NODE):
    return await client.message(what, match=lambda m: events(m, node) is not None)


async def publish(client: Client, id: str, value: str, node: str = NODE, **opts):
    form_ = form(client, options(**opts)) if opts else None
    return await client.plugin["xep_0060"].publish(client.boundjid.bare, node, id=id,
                                            payload=payload(value), options=form_)


async def items(client: Client, owner: str, node: str = NODE, **kw):
    result = await client.plugin["xep_0060"].get_items(owner, node, **kw)
    found = result.xml.findall(
        "{http://jabber.org/protocol/pubsub}pubsub/{http://jabber.org/protocol/pubsub}items/"
        "{http://jabber.org/protocol/pubsub}item")
    return [(i.get("id"), "".join(i.itertext())) for i in found]


@run
async def test_contact_with_notify_gets_the_item_and_a_stranger_does_not(server):
    owner, friend = server.new_account("pep_owner1"), server.new_account("pep_friend1")
    stranger = server.new_account("pep_stranger1")
    a = await pep_client(server, "pep_owner1", interests=[NODE])
    b = await pep_client(server, "pep_friend1", interests=[NODE])
    b_quiet = await pep_client(server, "pep_friend1", resource="quiet")
    c = await pep_client(server, "pep_stranger1", interests=[NODE])
    try:
        await mutual(a, b)
        await publish(a, "m1", "happy")
        got = await event(b, "the friend's notification")
        assert events(got) == ({"m1": "happy"}, [])
        assert got["from"] == owner and got["type"] == "headline"
        own = await event(a, "the owner's own notification")
        assert events(own) == ({"m1": "happy"}, [])
        # A barrier after the publish: anything sent to the stranger or to the friend's
        # resource without +notify would have arrived before it.
        for other in (c, b_quiet):
            a.send_message(mto=other.boundjid.full, mbody="barrier", mtype="chat")
            seen = await until(other.messages, "barrier", lambda m: m["body"] == "barrier")
            assert not [m for m in seen if events(m) is not None], f"{other.boundjid} was notified"
        # Presence access: the contact may read, the stranger may not.
        assert await items(b, owner) == [("m1", "happy")]
        try:
            await items(c, owner)
            raise AssertionError("a stranger read a presence-access node")
        except IqError as e:
            assert e.condition == "not-authorized"
            assert e.iq.xml.find(".//{http://jabber.org/protocol/pubsub#errors}"
                                 "presence-subscription-required") is not None
    finally:
        for client in (a, b, b_quiet, c):
            await client.close()


@run
async def test_new_subscriber_gets_the_last_item(server):
    owner, friend = server.new_account("pep_owner4"), server.new_account("pep_friend4")
    a = await pep_client(server, "pep_owner4")
    b = await pep_client(server, "pep_friend4", interests=[NODE])
    try:
        await publish(a, "old", "before", **{"pubsub#max_items": "2"})
        await publish(a, "last", "latest", **{"pubsub#max_items": "2"})
        # b asks to see a's presence; a's approval brings a's last item to b at once.
        b.send_presence(pto=owner, ptype="subscribe")
        await a.presence("subscribe", lambda p: p["type"] == "subscribe")
        a.send_presence(pto=friend, ptype="subscribed")
        got = await event(b, "the last item on subscription")
        assert events(got) == ({"last": "latest"}, [])
    finally:
        await a.close()
        await b.close()


@run
async def test_items_max_items_retract_and_preconditions(server):
    owner, friend = server.new_account("pep_owner2"), server.new_account("pep_friend2")
    a = await pep_client(server, "pep_owner2")
    b = await pep_client(server, "pep_friend2", interests=[NODE])
    try:
        await mutual(a, b)
        for n in range(1, 5):
            await publish(a, f"i{n}", f"v{n}", **{"pubsub#max_items": "3"})
        # max_items 3: the oldest is gone; newest last.
        assert await items(b, owner) == [("i2", "v2"), ("i3", "v3"), ("i4", "v4")]
        assert await items(b, owner, max_items=2) == [("i3", "v3"), ("i4", "v4")]
        assert await items(b, owner, item_ids=["i3"]) == [("i3", "v3")]
        await until(b.messages, "the fourth notification",
                    lambda m: (events(m) or ({}, []))[0].get("i4") == "v4")
        await a.plugin["xep_0060"].retract(owner, NODE, "i3", notify=True)
        got = await event(b, "the retraction")
        assert events(got) == ({}, ["i3"])
        assert [i for i, _ in await items(b, owner)] == ["i2", "i4"]
        # publish-options that contradict the node's configuration fail the publish.
        try:
            await publish(a, "x", "nope", **{"pubsub#access_model": "open"})
            raise AssertionError("a publish with a mismatching precondition succeeded")
        except IqError as e:
            assert e.condition == "conflict"
            assert e.iq.xml.find(".//{http://jabber.org/protocol/pubsub#errors}"
                                 "precondition-not-met") is not None
        config = await a.plugin["xep_0060"].get_node_config(owner, NODE)
        fields = config["pubsub_owner"]["configure"]["form"].get_values()
        assert fields["pubsub#access_model"] == "presence"
        assert fields["pubsub#max_items"] == "3"
        # Only the owner changes the node.
        try:
            await b.plugin["xep_0060"].publish(owner, NODE, id="evil", payload=payload("x"))
            raise AssertionError("a contact published to someone else's node")
        except IqError as e:
            assert e.condition == "forbidden"
        await a.plugin["xep_0060"].delete_node(owner, NODE)
        try:
            await items(b, owner)
            raise AssertionError("items of a deleted node")
        except IqError as e:
            assert e.condition == "item-not-found"
    finally:
        await a.close()
        await b.close()


@run
async def test_whitelist_node_is_private(server):
    """XEP-0223: private data in PEP is whitelist + persistent; only the owner reads it."""
    owner, friend = server.new_account("pep_owner3"), server.new_account("pep_friend3")
    a = await pep_client(server, "pep_owner3")
    b = await pep_client(server, "pep_friend3", interests=["urn:example:secret"])
    try:
        await mutual(a, b)
        await publish(a, "current", "hidden", node="urn:example:secret",
                      **{"pubsub#access_model": "whitelist", "pubsub#persist_items": "true"})
        assert await items(a, owner, node="urn:example:secret") == [("current", "hidden")]
        try:
            await items(b, owner, node="urn:example:secret")
            raise AssertionError("a contact read a whitelist node")
        except IqError as e:
            assert e.condition == "not-allowed"
        a.send_message(mto=b.boundjid.full, mbody="barrier", mtype="chat")
        seen = await until(b.messages, "barrier", lambda m: m["body"] == "barrier")
        assert not [m for m in seen if events(m, "urn:example:secret") is not None]
        # disco#items lists the node to its owner only.
        await publish(a, "p", "public", node="urn:example:public",
                      **{"pubsub#access_model": "open"})

        async def nodes(client):
            result = await client.plugin["xep_0030"].get_items(jid=owner)
            return {node for _, node, _ in result["disco_items"]["items"]}

        assert await nodes(a) == {"urn:example:secret", "urn:example:public"}
        assert await nodes(b) == {"urn:example:public"}
    finally:
        await a.close()
        await b.close()


@run
async def test_account_announces_pep(server):
    jid = server.new_account("pep_disco")
    a = await pep_client(server, "pep_disco")
    try:
        info = await a.plugin["xep_0030"].get_info(jid=jid)
        features = set(info["disco_info"]["features"])
        for feature in ("http://jabber.org/protocol/pubsub#publish",
                        "http://jabber.org/protocol/pubsub#publish-options",
                        "urn:xmpp:bookmarks:1#compat"):
            assert feature in features, feature
        assert ("pubsub", "pep", None, None) in info["disco_info"]["identities"]
    finally:
        await a.close()


def restart(server) -> None:
    """Stop the server and start it again on the same data and ports."""
    stop_server(server)
    log = open(server.log, "ab")
    server.proc = subprocess.Popen(
        [str(xmppd_bin()), "run", "-c", str(server.config)],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "XMPPD_LOG": os.environ.get("XMPPD_LOG", "info")},
    )
    log.close()
    wait_ready(server)


def test_items_survive_a_restart_and_come_with_presence(own_server):
    server = own_server()
    owner = server.jid("alice")

    @run
    async def before(server):
        a = await pep_client(server, "alice")
        b = await pep_client(server, "bob")
        try:
            await mutual(a, b)
            await publish(a, "kept", "persistent", **{"pubsub#max_items": "5"})
            await publish(a, "kept2", "newest", **{"pubsub#max_items": "5"})
        finally:
            await a.close()
            await b.close()

    @run
    async def after(server):
        # bob's caps ask for the node: his available presence brings the last item.
        b = await pep_client(server, "bob", interests=[NODE])
        try:
            got = await event(b, "the last item on presence")
            assert events(got) == ({"kept2": "newest"}, [])
            assert got["from"] == owner
            assert await items(b, owner) == [("kept", "persistent"), ("kept2", "newest")]
        finally:
            await b.close()

    before(server)
    restart(server)
    after(server)
