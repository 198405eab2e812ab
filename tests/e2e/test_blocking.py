"""XEP-0191 blocking and XEP-0016 privacy lists: one engine. Blocked senders' stanzas vanish,
sending to a blocked JID is refused, pushes reach every resource that asked, unblocking
restores delivery, and a privacy list's deny rule takes effect."""

import asyncio

from slixmpp.exceptions import IqError

from e2e_client import Client, run, take

BLOCKING = "urn:xmpp:blocking"


async def client_online(server, user, resource="blk"):
    client = Client(server, user, resource)
    client.register_plugin("xep_0191")
    client.register_plugin("xep_0016")
    client.blocks: asyncio.Queue = asyncio.Queue()
    client.add_event_handler("blocked", client.blocks.put_nowait)
    client.add_event_handler("unblocked", client.blocks.put_nowait)
    return await client.online()


async def refused_iq(sender, to: str) -> None:
    iq = sender.make_iq_get(queryxmlns="jabber:iq:version", ito=to)
    try:
        await iq.send(timeout=10)
        raise AssertionError("blocked IQ was answered")
    except IqError as err:
        assert err.iq["error"]["condition"] == "service-unavailable"


@run
async def test_block_push_enforce_unblock(server):
    uma = server.new_account("uma")
    vic = server.new_account("vic")
    wes = server.new_account("wes")
    phone = await client_online(server, "uma", "phone")
    laptop = await client_online(server, "uma", "laptop")
    spammer = await client_online(server, "vic")
    friend = await client_online(server, "wes")
    try:
        info = await phone.plugin["xep_0030"].get_info(jid="example.test")
        assert BLOCKING in info["disco_info"]["features"]
        assert await phone.plugin["xep_0191"].get_blocked_jids(timeout=10) == set()
        assert await laptop.plugin["xep_0191"].get_blocked_jids(timeout=10) == set()

        await phone.plugin["xep_0191"].block(vic, timeout=10)
        # The push reaches the other resource that asked for the blocklist.
        push = await take(laptop.blocks, "block push")
        assert [str(i["jid"]) for i in push["block"]] == [vic]
        assert await laptop.plugin["xep_0191"].get_blocked_jids(timeout=10) == {vic}
        # The blocked contact saw uma go offline.
        await spammer.presence("unavailable from uma",
                               lambda p: p["type"] == "unavailable" and p["from"].bare == uma)

        # Messages from the blocked JID vanish; a friend's message after them arrives alone.
        # (The IQ after them is answered only once they went through routing.)
        spammer.send_message(mto=uma, mbody="spam 1", mtype="chat")
        spammer.send_message(mto=f"{uma}/phone", mbody="spam 2", mtype="chat")
        # IQ requests from the blocked JID get service-unavailable.
        await refused_iq(spammer, f"{uma}/phone")
        friend.send_message(mto=f"{uma}/phone", mbody="barrier", mtype="chat")
        assert not {"spam 1", "spam 2"} & set(await phone.before("barrier"))
        # Sending to a blocked JID is refused with <blocked/>.
        phone.send_message(mto=vic, mbody="to the blocked", mtype="chat")
        error = await phone.message("blocked error", match=lambda m: m["type"] == "error")
        assert error["error"]["condition"] == "not-acceptable"
        assert error.xml.find(f".//{{{BLOCKING}:errors}}blocked") is not None

        await laptop.plugin["xep_0191"].unblock(vic, timeout=10)
        push = await take(phone.blocks, "unblock push",
                          match=lambda iq: iq.xml.find(f"{{{BLOCKING}}}unblock") is not None)
        assert [str(i["jid"]) for i in push["unblock"]] == [vic]
        spammer.send_message(mto=f"{uma}/phone", mbody="welcome back", mtype="chat")
        await phone.chat("welcome back")

        # Domain blocking covers everyone there; unblock-all clears it.
        await phone.plugin["xep_0191"].block(["example.test"], timeout=10)
        friend.send_message(mto=f"{uma}/phone", mbody="domain blocked", mtype="chat")
        await refused_iq(friend, f"{uma}/phone")
        iq = phone.Iq()
        iq["type"] = "set"
        iq.enable("unblock")
        await iq.send(timeout=10)
        assert await phone.plugin["xep_0191"].get_blocked_jids(timeout=10) == set()
        friend.send_message(mto=f"{uma}/phone", mbody="after unblock all", mtype="chat")
        assert "domain blocked" not in await phone.before("after unblock all")
    finally:
        for client in (phone, laptop, spammer, friend):
            await client.close()


@run
async def test_privacy_list_deny_rule(server):
    xena = server.new_account("xena")
    yuri = server.new_account("yuri")
    zoe = server.new_account("zoe")
    me = await client_online(server, "xena")
    bad = await client_online(server, "yuri")
    good = await client_online(server, "zoe")
    try:
        info = await me.plugin["xep_0030"].get_info(jid="example.test")
        assert "jabber:iq:privacy" in info["disco_info"]["features"]
        rules = [
            {"type": "jid", "value": yuri, "action": "deny", "order": "1", "message": True},
            {"value": None, "action": "allow", "order": "2"},
        ]
        await me.plugin["xep_0016"].edit_list("quiet", rules, timeout=10)
        lists = await me.plugin["xep_0016"].get_privacy_lists(timeout=10)
        assert [l["name"] for l in lists["privacy"]["lists"]] == ["quiet"]
        got = await me.plugin["xep_0016"].get_list("quiet", timeout=10)
        items = got["privacy"]["list"]["items"]
        assert [(i["type"], str(i["value"]), i["action"]) for i in items][0] == ("jid", yuri, "deny")

        # Not active yet: yuri gets through.
        bad.send_message(mto=xena, mbody="before the list", mtype="chat")
        await me.chat("before the list")

        await me.plugin["xep_0016"].make_default("quiet", timeout=10)
        bad.send_message(mto=xena, mbody="denied by list", mtype="chat")
        # IQs are not denied by this list: the answer proves the message was routed before.
        answer = await bad.make_iq_get(queryxmlns="jabber:iq:version", ito=f"{xena}/blk").send(timeout=10)
        assert answer["type"] == "result"
        good.send_message(mto=xena, mbody="list barrier", mtype="chat")
        assert "denied by list" not in await me.before("list barrier")
        # Only messages are denied: yuri's presence still arrives.
        bad.send_presence(pto=xena, pstatus="still here")
        await me.presence("yuri's presence", lambda p: p["from"].bare == yuri and p["status"] == "still here")

        # The default list cannot be removed while in use; an unknown list is item-not-found.
        try:
            await me.plugin["xep_0016"].remove_list("quiet", timeout=10)
            raise AssertionError("removed the default list")
        except IqError as err:
            assert err.iq["error"]["condition"] == "conflict"
        try:
            await me.plugin["xep_0016"].activate("missing", timeout=10)
            raise AssertionError("activated a missing list")
        except IqError as err:
            assert err.iq["error"]["condition"] == "item-not-found"

        await me.plugin["xep_0016"].remove_default(timeout=10)
        bad.send_message(mto=xena, mbody="allowed again", mtype="chat")
        await me.chat("allowed again")
        await me.plugin["xep_0016"].remove_list("quiet", timeout=10)
    finally:
        for client in (me, bad, good):
            await client.close()
