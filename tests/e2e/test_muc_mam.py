"""XEP-0313 archives of MUC rooms: messages kept under the room JID with the room's stanza id,
status 170 on entry, the feature in the room's disco#info, paged queries at the room JID by
occupants and members, and strangers refused."""

import asyncio

import pytest
from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from e2e_client import WAIT, run, take
from test_mam import FORWARD, MAM, SID, body_of, rsm_text
from test_muc import close_all, create, groupchat, join, muc_client


async def archive_client(server, user: str):
    client = await muc_client(server, user, "roommam")
    client.register_plugin("xep_0059")
    client.register_plugin("xep_0313")
    return client


async def room_page(client, room: str, **rsm):
    """One query of the room's archive: (bodies, result ids, forwarded senders, fin)."""
    result = await client.plugin["xep_0313"].retrieve(jid=room, rsm=rsm, timeout=WAIT)
    assert result["type"] == "result", result
    fin = result.xml.find(f"{{{MAM}}}fin")
    assert fin is not None
    results = result["mam"]["results"]
    ids = [m.xml.find(f"{{{MAM}}}result").get("id") for m in results]
    senders = [m.xml.find(f"{{{MAM}}}result/{{{FORWARD}}}forwarded/{{jabber:client}}message").get("from")
               for m in results]
    for m in results:
        assert m["from"] == room, m
    return [body_of(m) for m in results], ids, senders, fin


def room_stanza_id(message, room: str) -> str:
    for sid in message.xml.findall(f"{{{SID}}}stanza-id"):
        if sid.get("by") == room:
            return sid.get("id")
    raise AssertionError(f"no stanza-id by {room} in {message}")


@run
async def test_room_archive_paged_for_occupants(fresh_server):
    for user in ("rmowner", "rmreader", "rmstranger"):
        fresh_server.new_account(user)
    owner, reader, stranger = [await archive_client(fresh_server, u)
                               for u in ("rmowner", "rmreader", "rmstranger")]
    try:
        room = await create(owner, "archived", "Owner")
        own, _subject, _occupants, _history = await join(reader, room, "Reader")
        assert 170 in {int(c) for c in own["muc"]["status_codes"]}
        info = await reader.plugin["xep_0030"].get_info(jid=room, timeout=WAIT)
        assert MAM in info["disco_info"]["features"]

        seen = groupchat(reader, room)
        bodies = ["first words", "second words", "third words"]
        ids = []
        for body in bodies:
            owner.send_message(mto=room, mbody=body, mtype="groupchat")
            got = await take(seen, body, match=lambda m, b=body: m["body"] == b)
            ids.append(room_stanza_id(got, room))
        assert len(set(ids)) == 3

        got, got_ids, senders, fin = await room_page(reader, room, max=2)
        assert got == bodies[:2] and got_ids == ids[:2], (got, got_ids, ids)
        assert senders == [f"{room}/Owner"] * 2
        assert fin.get("complete") in (None, "false")
        assert rsm_text(fin, "last") == ids[1]
        got, got_ids, _, fin = await room_page(reader, room, max=2, after=rsm_text(fin, "last"))
        assert got == bodies[2:] and got_ids == ids[2:]
        assert fin.get("complete") == "true"

        # Someone who is neither inside nor affiliated reads nothing.
        with pytest.raises(IqError) as refused:
            await room_page(stranger, room, max=2)
        assert refused.value.condition == "forbidden"
    finally:
        await close_all(owner, reader, stranger)


@run
async def test_members_only_room_archive_refuses_non_members(fresh_server):
    for user in ("rmboss", "rmmember", "rmoutsider"):
        fresh_server.new_account(user)
    boss, member, outsider = [await archive_client(fresh_server, u)
                              for u in ("rmboss", "rmmember", "rmoutsider")]
    try:
        room = await create(boss, "archivedclub", "Boss", **{"muc#roomconfig_membersonly": "1"})
        own_copy = groupchat(boss, room)
        boss.send_message(mto=room, mbody="members only words", mtype="groupchat")
        await take(own_copy, "own echo", match=lambda m: m["body"] == "members only words")
        with pytest.raises(IqError) as refused:
            await room_page(outsider, room, max=2)
        assert refused.value.condition == "forbidden"
        # A member reads the archive without being inside the room.
        await boss.plugin["xep_0045"].set_affiliation(room, "member", jid=member.boundjid.bare, timeout=WAIT)
        got, _, _, fin = await room_page(member, room, max=2)
        assert got == ["members only words"]
        assert fin.get("complete") == "true"
    finally:
        await close_all(boss, member, outsider)


@run
async def test_a_vanished_room_takes_its_archive_along(fresh_server):
    for user in ("rmfirst", "rmsecond"):
        fresh_server.new_account(user)
    first, second = [await archive_client(fresh_server, u) for u in ("rmfirst", "rmsecond")]
    try:
        room = await create(first, "fleeting", "First")
        echo = groupchat(first, room)
        first.send_message(mto=room, mbody="said in the first room", mtype="groupchat")
        await take(echo, "own echo", match=lambda m: m["body"] == "said in the first room")
        got, _, _, _ = await room_page(first, room, max=5)
        assert got == ["said in the first room"]
        # The temporary room empties and goes; a new room of that name starts with no archive.
        gone: asyncio.Queue = asyncio.Queue()
        first.register_handler(Callback("e2e own exit", MatchXPath("{jabber:client}presence"), gone.put_nowait))
        first.plugin["xep_0045"].leave_muc(room, "First")
        await take(gone, "own exit", match=lambda p: p["from"] == f"{room}/First" and p["type"] == "unavailable")
        await create(second, "fleeting", "Second")
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:
            got, _, _, fin = await room_page(second, room, max=5)
            if not got or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)  # polling a condition with a deadline, not a wait for time
        assert got == [] and fin.get("complete") == "true", got
    finally:
        await close_all(first, second)
