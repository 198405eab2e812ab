"""XEP-0045 Multi-User Chat on conference.example.test: rooms, roles and affiliations, history,
subject, invitations, disco, self-ping, IQs between occupants, voice requests, and persistent
rooms across a restart."""

import asyncio
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest
from slixmpp.exceptions import IqError, PresenceError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import stop_server, wait_ready, xmppd_bin
from e2e_client import Client, WAIT, run, take

MUC = "conference.example.test"
DATA = "jabber:x:data"
OWNER = "http://jabber.org/protocol/muc#owner"
USER_NS = "http://jabber.org/protocol/muc#user"


async def muc_client(server, user: str, resource: str = "muc") -> Client:
    client = Client(server, user, resource)
    client.register_plugin("xep_0045")
    client.register_plugin("xep_0249")
    client.register_plugin("xep_0199")
    return await client.online()


async def configure(client: Client, room: str, **fields: str) -> None:
    """Submits the owner's configuration form; an empty one accepts the defaults (instant room)."""
    iq = client.Iq()
    iq["type"] = "set"
    iq["to"] = room
    query = ET.SubElement(iq.xml, f"{{{OWNER}}}query")
    form = ET.SubElement(query, f"{{{DATA}}}x", type="submit")
    for var, value in {"FORM_TYPE": "http://jabber.org/protocol/muc#roomconfig", **fields}.items():
        field = ET.SubElement(form, f"{{{DATA}}}field", var=var)
        ET.SubElement(field, f"{{{DATA}}}value").text = value
    result = await iq.send(timeout=WAIT)
    assert result["type"] == "result"


async def create(owner: Client, name: str, nick: str, **fields: str) -> str:
    room = f"{name}@{MUC}"
    presence, _subject, _occupants, _history = await owner.plugin["xep_0045"].join_muc_wait(room, nick, timeout=WAIT)
    codes = {int(c) for c in presence["muc"]["status_codes"]}
    assert {110, 201} <= codes, codes
    await configure(owner, room, **fields)
    return room


async def join(client: Client, room: str, nick: str, **kw):
    return await client.plugin["xep_0045"].join_muc_wait(room, nick, timeout=WAIT, **kw)


def events(client: Client, name: str) -> asyncio.Queue:
    """Collects a slixmpp event: MUC presences and body-less messages skip the generic queues."""
    queue: asyncio.Queue = asyncio.Queue()
    client.add_event_handler(name, queue.put_nowait)
    return queue


def user_x_stanzas(client: Client, kind: str, child: str) -> asyncio.Queue:
    """The `kind` stanzas (message, presence) carrying a muc#user `<x/>` with `child` in it."""
    queue: asyncio.Queue = asyncio.Queue()
    client.register_handler(Callback(
        f"e2e muc {kind} {child}",
        MatchXPath(f"{{jabber:client}}{kind}/{{{USER_NS}}}x/{{{USER_NS}}}{child}"),
        queue.put_nowait))
    return queue


def declines(client: Client) -> asyncio.Queue:
    """slixmpp 1.x raises its decline event only for components: match the stanza instead."""
    return user_x_stanzas(client, "message", "decline")


def groupchat(client: Client, room: str) -> asyncio.Queue:
    return events(client, f"muc::{room}::message")


async def close_all(*clients: Client) -> None:
    for c in clients:
        await c.close()


@run
async def test_three_users_talk_and_a_nick_conflict_is_refused(fresh_server):
    alice, bob, carol, dave = [await muc_client(fresh_server, u) for u in ("alice", "bob", "carol", "dave")]
    try:
        room = await create(alice, "lounge", "Alice")
        await join(bob, room, "Bob")
        own, _subject, occupants, _ = await join(carol, room, "Carol")
        assert 110 in {int(c) for c in own["muc"]["status_codes"]}
        assert {p["from"].resource for p in occupants} >= {"Alice", "Bob"}
        queues = {c: groupchat(c, room) for c in (alice, bob, carol)}
        bob.send_message(mto=room, mbody="hello room", mtype="groupchat")
        for client, queue in queues.items():
            got = await take(queue, f"groupchat at {client.boundjid}", match=lambda m: m["body"] == "hello room")
            assert got["from"] == f"{room}/Bob"
        with pytest.raises(PresenceError) as refused:
            await join(dave, room, "Bob")
        assert refused.value.condition == "conflict"
        # XEP-0410: an occupant's ping to its own occupant JID is answered; a stranger's is not.
        pong = await carol.plugin["xep_0199"].send_ping(f"{room}/Carol", timeout=WAIT)
        assert pong["type"] == "result"
        with pytest.raises(IqError) as not_in:
            await dave.plugin["xep_0199"].send_ping(f"{room}/Carol", timeout=WAIT)
        assert not_in.value.condition == "not-acceptable"
        # A session that ends leaves its rooms: the others see it go.
        offline = events(alice, f"muc::{room}::got_offline")
        await carol.close()
        gone = await take(offline, "Carol leaving", match=lambda p: p["from"] == f"{room}/Carol")
        assert gone["muc"]["role"] == "none"
    finally:
        await close_all(alice, bob, carol, dave)


@run
async def test_occupants_reach_each_other_through_the_room(fresh_server):
    """IQs between occupants pass through the room under occupant JIDs: bob's client gets
    alice's ping from room/Alice and its answer reaches her from room/Bob; a vCard request is
    answered by bob's account (clients do not answer those), still from room/Bob."""
    alice, bob = [await muc_client(fresh_server, u) for u in ("alice", "bob")]
    try:
        card = bob.Iq()
        card["type"] = "set"
        vcard = ET.SubElement(card.xml, "{vcard-temp}vCard")
        ET.SubElement(vcard, "{vcard-temp}FN").text = "Bob Occupant"
        await card.send(timeout=WAIT)
        room = await create(alice, "whispers", "Alice")
        await join(bob, room, "Bob")
        pings: asyncio.Queue = asyncio.Queue()
        bob.register_handler(Callback(
            "e2e muc ping seen", MatchXPath("{jabber:client}iq/{urn:xmpp:ping}ping"), pings.put_nowait))
        pong = await alice.plugin["xep_0199"].send_ping(f"{room}/Bob", timeout=WAIT)
        assert pong["type"] == "result" and pong["from"] == f"{room}/Bob"
        seen = await take(pings, "alice's ping at bob's client")
        assert seen["from"] == f"{room}/Alice"
        ask = alice.Iq()
        ask["type"] = "get"
        ask["to"] = f"{room}/Bob"
        ET.SubElement(ask.xml, "{vcard-temp}vCard")
        answer = await ask.send(timeout=WAIT)
        assert answer["from"] == f"{room}/Bob"
        assert answer.xml.find("{vcard-temp}vCard/{vcard-temp}FN").text == "Bob Occupant"
        with pytest.raises(IqError) as nobody:
            await alice.plugin["xep_0199"].send_ping(f"{room}/Nobody", timeout=WAIT)
        assert nobody.value.condition == "item-not-found"
    finally:
        await close_all(alice, bob)


def voice_form(**fields: str) -> ET.Element:
    form = ET.Element(f"{{{DATA}}}x", type="submit")
    for var, value in {"FORM_TYPE": "http://jabber.org/protocol/muc#request", **fields}.items():
        field = ET.SubElement(form, f"{{{DATA}}}field", var=var)
        ET.SubElement(field, f"{{{DATA}}}value").text = value
    return form


@run
async def test_visitor_asks_for_voice_and_a_moderator_grants_it(fresh_server):
    """§7.13 and §8.6: in a moderated room a visitor's request reaches the moderator as a form;
    submitting it with muc#request_allow makes the visitor a participant, seen by everyone."""
    alice, bob = [await muc_client(fresh_server, u) for u in ("alice", "bob")]
    try:
        room = await create(alice, "hushed", "Alice", **{"muc#roomconfig_moderatedroom": "1"})
        presence, *_ = await join(bob, room, "Bob")
        assert presence["muc"]["role"] == "visitor"
        requests: asyncio.Queue = asyncio.Queue()
        alice.register_handler(Callback(
            "e2e muc voice request", MatchXPath(f"{{jabber:client}}message/{{{DATA}}}x"),
            requests.put_nowait))
        roles = events(bob, f"muc::{room}::presence")
        ask = bob.Message()
        ask["to"] = room
        ask.append(voice_form(**{"muc#role": "participant"}))
        ask.send()
        request = await take(requests, "the voice request at the moderator")
        assert request["from"] == room
        fields = {f.get("var"): f.findtext(f"{{{DATA}}}value")
                  for f in request.xml.iter(f"{{{DATA}}}field")}
        assert fields["muc#roomnick"] == "Bob" and fields["muc#role"] == "participant"
        grant = alice.Message()
        grant["to"] = room
        grant.append(voice_form(**{"muc#roomnick": "Bob", "muc#request_allow": "true"}))
        grant.send()
        voiced = await take(roles, "bob's new role", match=lambda p: p["from"] == f"{room}/Bob")
        assert voiced["muc"]["role"] == "participant"
    finally:
        await close_all(alice, bob)


@run
async def test_kick_and_ban(fresh_server):
    alice, erin, frank = [await muc_client(fresh_server, u) for u in ("alice", "erin", "frank")]
    try:
        room = await create(alice, "strict", "Alice")
        await join(erin, room, "Erin")
        await join(frank, room, "Frank")
        frank_sees, erin_sees = events(frank, f"muc::{room}::presence"), events(erin, f"muc::{room}::presence")
        muc = alice.plugin["xep_0045"]
        # Only moderators kick.
        with pytest.raises(IqError) as refused:
            await erin.plugin["xep_0045"].set_role(room, "Frank", "none", timeout=WAIT)
        assert refused.value.condition == "forbidden"
        await muc.set_role(room, "Frank", "none", reason="quiet please", timeout=WAIT)
        kicked = await take(frank_sees, "kicked", match=lambda p: p["from"] == f"{room}/Frank" and p["type"] == "unavailable")
        assert {307, 110} <= {int(c) for c in kicked["muc"]["status_codes"]}
        await muc.set_affiliation(room, "outcast", jid=erin.boundjid.bare, timeout=WAIT)
        banned = await take(erin_sees, "banned", match=lambda p: p["from"] == f"{room}/Erin" and p["type"] == "unavailable")
        assert 301 in {int(c) for c in banned["muc"]["status_codes"]}
        with pytest.raises(PresenceError) as again:
            await join(erin, room, "Erin")
        assert again.value.condition == "forbidden"
        outcasts = await muc.get_affiliation_list(room, "outcast", timeout=WAIT)
        assert outcasts == [erin.boundjid.bare]
    finally:
        await close_all(alice, erin, frank)


@run
async def test_members_only_and_password_rooms(fresh_server):
    alice, grace = [await muc_client(fresh_server, u) for u in ("alice", "grace")]
    try:
        members = await create(alice, "club", "Alice", **{"muc#roomconfig_membersonly": "1"})
        with pytest.raises(PresenceError) as refused:
            await join(grace, members, "Grace")
        assert refused.value.condition == "registration-required"
        await alice.plugin["xep_0045"].set_affiliation(members, "member", jid=grace.boundjid.bare, timeout=WAIT)
        await join(grace, members, "Grace")

        secret = await create(alice, "vault", "Alice", **{
            "muc#roomconfig_passwordprotectedroom": "1", "muc#roomconfig_roomsecret": "open sesame"})
        with pytest.raises(PresenceError) as wrong:
            await join(grace, secret, "Grace", password="wrong")
        assert wrong.value.condition == "not-authorized"
        await join(grace, secret, "Grace", password="open sesame")
    finally:
        await close_all(alice, grace)


@run
async def test_history_and_subject_on_join(fresh_server):
    alice, heidi = [await muc_client(fresh_server, u) for u in ("alice", "heidi")]
    try:
        room = await create(alice, "story", "Alice")
        own = groupchat(alice, room)
        subjects: asyncio.Queue = asyncio.Queue()
        alice.add_event_handler(f"muc::{room}::groupchat_subject", subjects.put_nowait)
        alice.plugin["xep_0045"].set_subject(room, "Once upon a time")
        await take(subjects, "subject echo", match=lambda m: m["subject"] == "Once upon a time")
        for n in range(4):
            alice.send_message(mto=room, mbody=f"line {n}", mtype="groupchat")
        await take(own, "last line", match=lambda m: m["body"] == "line 3")
        # Registered before Heidi joins: her arrival reaches Alice on another stream, with no
        # order against Heidi's own join finishing, so it must not be mistaken for what follows.
        seen = events(alice, f"muc::{room}::presence")
        _, subject, _, history = await join(heidi, room, "Heidi", maxstanzas=2)
        assert [m["body"] for m in history] == ["line 2", "line 3"]
        assert all(m["delay"]["from"] == room for m in history)
        assert subject["subject"] == "Once upon a time"
        # Participants may not change the subject by default.
        # A nick change: the others see the old nick leave with 303 and the new one.
        await take(seen, "Heidi's arrival",
                   match=lambda p: p["from"] == f"{room}/Heidi" and p["type"] != "unavailable")
        heidi.send_presence(pto=f"{room}/Hedy")
        left = await take(seen, "nick change", match=lambda p: p["from"] == f"{room}/Heidi")
        assert left["type"] == "unavailable" and 303 in {int(c) for c in left["muc"]["status_codes"]}
        assert left["muc"]["item_nick"] == "Hedy"
        await take(seen, "new nick", match=lambda p: p["from"] == f"{room}/Hedy" and p["type"] != "unavailable")
        refusals = events(heidi, f"muc::{room}::message_error")
        heidi.plugin["xep_0045"].set_subject(room, "Hijacked")
        error = await take(refusals, "subject refusal")
        assert error["error"]["condition"] == "forbidden"
    finally:
        await close_all(alice, heidi)


@run
async def test_disco_invites_and_room_avatar(fresh_server):
    alice, ivan, judy = [await muc_client(fresh_server, u) for u in ("alice", "ivan", "judy")]
    try:
        public = await create(alice, "plaza", "Alice", **{"muc#roomconfig_roomname": "The Plaza"})
        hidden = await create(alice, "backroom", "Alice", **{"muc#roomconfig_publicroom": "0"})
        disco = ivan.plugin["xep_0030"]
        server_items = (await disco.get_items(jid="example.test", timeout=WAIT))["disco_items"]["items"]
        assert MUC in [i[0] for i in server_items]
        info = (await disco.get_info(jid=MUC, timeout=WAIT))["disco_info"]
        assert "http://jabber.org/protocol/muc" in info["features"]
        rooms = [i[0] for i in (await disco.get_items(jid=MUC, timeout=WAIT))["disco_items"]["items"]]
        assert public in rooms and hidden not in rooms
        room_info = (await disco.get_info(jid=hidden, timeout=WAIT))["disco_info"]
        assert {"muc_hidden", "muc_temporary", "muc_semianonymous"} <= set(room_info["features"])

        # Mediated invitation through the room, and a decline back to the inviter.
        invites, declined = events(ivan, "groupchat_invite"), declines(alice)
        direct_invites = events(ivan, "groupchat_direct_invite")
        alice.plugin["xep_0045"].invite(public, ivan.boundjid.bare, reason="come in")
        invite = await take(invites, "mediated invite")
        assert invite["from"] == public
        assert invite.xml.find(f"{{{USER_NS}}}x/{{{USER_NS}}}invite").get("from") == alice.boundjid.bare
        ivan.plugin["xep_0045"].decline(public, alice.boundjid.bare, reason="busy")
        decline = await take(declined, "decline")
        assert decline.xml.find(f"{{{USER_NS}}}x/{{{USER_NS}}}decline").get("from") == ivan.boundjid.bare

        # XEP-0249 direct invitation: client to client, routed like any message.
        judy.plugin["xep_0249"].send_invitation(ivan.boundjid.bare, public, reason="direct")
        direct = await take(direct_invites, "direct invite")
        assert direct.xml.find("{jabber:x:conference}x").get("jid") == public

        # Room avatar: owners set the room's vCard, anyone reads it, others may not set it.
        vcard = ET.Element("{vcard-temp}vCard")
        ET.SubElement(vcard, "{vcard-temp}FN").text = "Plaza"
        set_iq = alice.make_iq_set(vcard, ito=public)
        assert (await set_iq.send(timeout=WAIT))["type"] == "result"
        get_iq = ivan.Iq()
        get_iq["type"] = "get"
        get_iq["to"] = public
        get_iq.xml.append(ET.Element("{vcard-temp}vCard"))
        got = await get_iq.send(timeout=WAIT)
        assert got.xml.find("{vcard-temp}vCard/{vcard-temp}FN").text == "Plaza"
        bad = ivan.Iq()
        bad["type"] = "set"
        bad["to"] = public
        bad.xml.append(vcard)
        with pytest.raises(IqError) as refused:
            await bad.send(timeout=WAIT)
        assert refused.value.condition == "forbidden"
    finally:
        await close_all(alice, ivan, judy)


def restart(server) -> None:
    """Stops the server and starts it again on the same config, data and ports."""
    stop_server(server)
    log = open(server.log, "ab")
    server.proc = subprocess.Popen(
        [str(xmppd_bin()), "run", "-c", str(server.config)],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "XMPPD_LOG": os.environ.get("XMPPD_LOG", "info")},
    )
    log.close()
    wait_ready(server)


@run
async def test_persistent_room_and_affiliation_survive_a_restart(own_server):
    server = own_server()
    alice, bob = [await muc_client(server, u) for u in ("alice", "bob")]
    room = await create(alice, "forever", "Alice", **{
        "muc#roomconfig_persistentroom": "1", "muc#roomconfig_membersonly": "1",
        "muc#roomconfig_roomname": "Forever"})
    await alice.plugin["xep_0045"].set_affiliation(room, "member", jid=bob.boundjid.bare, timeout=WAIT)
    temporary = await create(alice, "fleeting", "Alice")
    await close_all(alice, bob)

    restart(server)
    alice, bob, carol = [await muc_client(server, u) for u in ("alice", "bob", "carol")]
    try:
        rooms = [i[0] for i in (await bob.plugin["xep_0030"].get_items(jid=MUC, timeout=WAIT))["disco_items"]["items"]]
        assert room in rooms and temporary not in rooms
        # Bob is still a member of the members-only room; Carol is not.
        await join(bob, room, "Bob")
        with pytest.raises(PresenceError) as refused:
            await join(carol, room, "Carol")
        assert refused.value.condition == "registration-required"
        members = await alice.plugin["xep_0045"].get_affiliation_list(room, "member", timeout=WAIT)
        assert members == [bob.boundjid.bare]
        owners = await alice.plugin["xep_0045"].get_affiliation_list(room, "owner", timeout=WAIT)
        assert owners == [alice.boundjid.bare]
    finally:
        await close_all(alice, bob, carol)


@run
async def test_room_creation_as_configured(own_server):
    server = own_server(room_creation='"admins"')
    alice, bob = [await muc_client(server, u) for u in ("alice", "bob")]
    try:
        with pytest.raises(PresenceError) as refused:
            await join(bob, f"bobs@{MUC}", "Bob")
        assert refused.value.condition == "not-allowed"
        # alice is an admin of the server (examples/xmppd.toml).
        room = await create(alice, "official", "Alice")
        await join(bob, room, "Bob")
    finally:
        await close_all(alice, bob)


@run
async def test_new_rooms_open_at_once_when_locking_is_off(own_server):
    """`lock_new_rooms = false`: the creator gets 201 and others may enter before any configuration."""
    server = own_server(lock_new_rooms="false")
    alice, bob = [await muc_client(server, u) for u in ("alice", "bob")]
    try:
        room = f"instant@{MUC}"
        presence, *_ = await join(alice, room, "Alice")
        assert {110, 201} <= {int(c) for c in presence["muc"]["status_codes"]}
        messages = groupchat(alice, room)
        await join(bob, room, "Bob")
        bob.send_message(mto=room, mbody="no configuration needed", mtype="groupchat")
        got = await take(messages, "bob's groupchat message", match=lambda m: m["body"] != "")
        assert got["body"] == "no configuration needed"
        assert got["from"].resource == "Bob"
    finally:
        await close_all(alice, bob)


async def destroy(client: Client, room: str, reason: str | None = None, alternate: str | None = None,
                  password: str | None = None):
    iq = client.Iq()
    iq["type"] = "set"
    iq["to"] = room
    query = ET.SubElement(iq.xml, f"{{{OWNER}}}query")
    element = ET.SubElement(query, f"{{{OWNER}}}destroy", **({"jid": alternate} if alternate else {}))
    if reason:
        ET.SubElement(element, f"{{{OWNER}}}reason").text = reason
    if password:
        ET.SubElement(element, f"{{{OWNER}}}password").text = password
    return await iq.send(timeout=WAIT)


def destroyed_notices(client: Client) -> asyncio.Queue:
    return user_x_stanzas(client, "presence", "destroy")


@run
async def test_owner_destroys_a_persistent_room(own_server):
    """§10.9: only an owner may; occupants learn the reason and the new venue; the room is
    gone, from storage too (a restart does not bring it back), and the name is free again."""
    server = own_server()
    alice, bob = [await muc_client(server, u) for u in ("alice", "bob")]
    room = await create(alice, "doomed", "Alice", **{"muc#roomconfig_persistentroom": "1"})
    notices = destroyed_notices(bob)
    await join(bob, room, "Bob")
    with pytest.raises(IqError) as refused:
        await destroy(bob, room)
    assert refused.value.condition == "forbidden"
    await destroy(alice, room, reason="moving on", alternate=f"elsewhere@{MUC}", password="s3cret")
    notice = await take(notices, "bob's notice that the room is gone")
    assert notice["from"] == f"{room}/Bob" and notice["type"] == "unavailable"
    element = notice.xml.find(f"{{{USER_NS}}}x/{{{USER_NS}}}destroy")
    assert element.get("jid") == f"elsewhere@{MUC}"
    assert element.find(f"{{{USER_NS}}}reason").text == "moving on"
    assert element.find(f"{{{USER_NS}}}password").text == "s3cret"
    with pytest.raises(IqError) as gone:
        await bob.plugin["xep_0030"].get_info(jid=room, timeout=WAIT)
    assert gone.value.condition == "item-not-found"
    await close_all(alice, bob)

    restart(server)
    alice = await muc_client(server, "alice")
    try:
        presence, *_ = await join(alice, room, "Alice")
        assert 201 in {int(c) for c in presence["muc"]["status_codes"]}, "the room came back"
    finally:
        await alice.close()


@run
async def test_cancelling_the_first_configuration_destroys_the_new_room(fresh_server):
    alice, bob = [await muc_client(fresh_server, u) for u in ("alice", "bob")]
    try:
        room = f"second-thoughts@{MUC}"
        await join(alice, room, "Alice")
        notices = destroyed_notices(alice)
        iq = alice.Iq()
        iq["type"] = "set"
        iq["to"] = room
        query = ET.SubElement(iq.xml, f"{{{OWNER}}}query")
        ET.SubElement(query, f"{{{DATA}}}x", type="cancel")
        assert (await iq.send(timeout=WAIT))["type"] == "result"
        await take(notices, "alice's own unavailable presence")
        # The name is free: bob creates a room of that name himself.
        presence, *_ = await join(bob, room, "Bob")
        assert 201 in {int(c) for c in presence["muc"]["status_codes"]}
    finally:
        await close_all(alice, bob)
