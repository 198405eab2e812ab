"""RFC 6121 §8.5: message delivery to bare and full JIDs, and XEP-0160 offline storage."""

import xml.etree.ElementTree as ET

from e2e_client import Client, drain, online, run, until

ALICE = "alice@example.test"
JUDY = "judy@example.test"


@run
async def test_bare_full_and_fallback_delivery(server):
    high = await Client(server, "alice", "high").online(priority=5)
    zero = await Client(server, "alice", "zero").online(priority=0)
    negative = await Client(server, "alice", "negative").online(priority=-1)
    bob = await online(server, "bob", "sender")
    clients = (high, zero, negative)
    try:
        for c in clients:
            drain(c.messages)

        # §8.5.2.1.1 (our choice, see xmppd-modules delivery.rs): every non-negative resource.
        bob.send_message(mto=ALICE, mbody="to bare", mtype="chat")
        for c in (high, zero):
            m = await c.chat("to bare")
            assert m["from"].full == "bob@example.test/sender"
            assert m["to"].bare == ALICE  # the server does not rewrite "to"
        # A stanza after it to the negative resource is the barrier: in-order delivery means
        # the bare message would have arrived first.
        bob.send_message(mto=f"{ALICE}/negative", mbody="barrier 1", mtype="chat")
        assert "to bare" not in await negative.before("barrier 1"), \
            "negative-priority resource got a bare message"

        # §8.5.3.1: a full JID reaches exactly that resource.
        bob.send_message(mto=f"{ALICE}/zero", mbody="to zero", mtype="chat")
        await zero.chat("to zero")
        bob.send_message(mto=f"{ALICE}/high", mbody="barrier 2", mtype="chat")
        assert "to zero" not in await high.before("barrier 2")
        bob.send_message(mto=f"{ALICE}/negative", mbody="barrier 3", mtype="chat")
        assert "to zero" not in await negative.before("barrier 3")

        # §8.5.3.2.1: chat to an offline resource is treated as if sent to the bare JID.
        bob.send_message(mto=f"{ALICE}/gone", mbody="to gone", mtype="chat")
        for c in (high, zero):
            await c.chat("to gone")
        bob.send_message(mto=f"{ALICE}/negative", mbody="barrier 4", mtype="chat")
        assert "to gone" not in await negative.before("barrier 4")

        # §8.5.3.2.1: a headline to an offline resource is silently dropped.
        drain(high.messages)
        drain(zero.messages)
        bob.send_message(mto=f"{ALICE}/gone", mbody="headline gone", mtype="headline")
        bob.send_message(mto=f"{ALICE}/high", mbody="barrier 5", mtype="chat")
        assert "headline gone" not in await high.before("barrier 5")
        assert not [e for e in drain(bob.messages) if e["type"] == "error"]
    finally:
        for c in (*clients, bob):
            await c.close()


@run
async def test_message_to_unknown_account_bounces(server):
    bob = await online(server, "bob", "bounce")
    try:
        bob.send_message(mto="nobody@example.test", mbody="anyone?", mtype="chat")
        error = await bob.message("error for unknown user", match=lambda m: m["type"] == "error")
        assert error["from"].bare == "nobody@example.test"
        assert error["error"]["condition"] == "service-unavailable"
    finally:
        await bob.close()


@run
async def test_offline_message_delivered_once_with_delay(server):
    ivan = await online(server, "ivan", "sender")
    try:
        ivan.send_message(mto=JUDY, mbody="while you were out", mtype="chat")
        # The ping after the message is processed after it (RFC 6120 §10.1).
        await ivan.plugin["xep_0199"].ping(jid="example.test", timeout=10)

        judy = await Client(server, "judy", "first").online()
        try:
            m = await judy.chat("while you were out")
            assert m["from"].full == "ivan@example.test/sender"
            delay = m["delay"]
            assert delay["from"] == "example.test", f"delay: {delay}"
            assert delay["stamp"] is not None
        finally:
            await judy.close()

        judy = await Client(server, "judy", "second").online()
        try:
            ivan.send_message(mto=f"{JUDY}/second", mbody="barrier", mtype="chat")
            assert "while you were out" not in await judy.before("barrier"), \
                "offline message delivered twice"
        finally:
            await judy.close()
    finally:
        await ivan.close()


@run
async def test_motd_at_login(server):
    # `motd` in examples/xmppd.toml: a message from the domain to each new session.
    bob = Client(server, "bob", "motd")
    assert await bob.login()
    try:
        motd = await bob.chat("Welcome back to example.test.")
        assert motd["from"].full == "example.test"
        assert motd["to"].full == "bob@example.test/motd"
    finally:
        await bob.close()


@run
async def test_offline_storage_keeps_order_and_skips_what_xep0160_excludes(server):
    target = server.new_account("offline2")
    sender = await online(server, "bob", "offline-sender")
    try:
        sender.send_message(mto=target, mbody="one", mtype="chat")
        sender.send_message(mto=target, mbody="headline", mtype="headline")
        sender.send_message(mto=target, mbody="two", mtype="normal")
        # Only a chat state, no body: nothing worth storing (XEP-0160 §3, XEP-0334).
        state = sender.make_message(mto=target, mtype="chat")
        ET.SubElement(state.xml, "{http://jabber.org/protocol/chatstates}active")
        state["id"] = "state-only"
        state.send()
        # To an offline full JID: chat is treated as sent to the bare JID (RFC 6121 §8.5.3.2.1).
        sender.send_message(mto=f"{target}/gone", mbody="three", mtype="chat")
        sender.send_message(mto=target, mbody="last", mtype="chat")
        await sender.plugin["xep_0199"].ping(jid="example.test", timeout=10)

        reader = await online(server, "offline2", "reader")
        try:
            seen = await until(reader.messages, "the last offline message", lambda m: m["body"] == "last")
            got = [m for m in seen[:-1] if m["from"].bare == "bob@example.test"]
            assert [m["body"] for m in got] == ["one", "two", "three"], [m["body"] for m in got]
            assert "state-only" not in [m["id"] for m in got]
        finally:
            await reader.close()
    finally:
        await sender.close()


@run
async def test_groupchat_to_an_account_is_refused(server):
    # RFC 6121 §8.5.2.1.1 / §8.5.3.2.1: type groupchat to a user (bare, or a resource that is
    # not online) gets service-unavailable and is delivered nowhere.
    bob = await online(server, "bob", "gc")
    carol = await online(server, "carol", "gc")
    try:
        for to in ("carol@example.test", "carol@example.test/absent"):
            bob.send_message(mto=to, mbody=f"gc {to}", mtype="groupchat")
            error = await bob.message(f"error for groupchat to {to}", match=lambda m: m["type"] == "error")
            assert error["from"].full == to
            assert error["error"]["condition"] == "service-unavailable"
        bob.send_message(mto="carol@example.test/gc", mbody="barrier", mtype="chat")
        earlier = await carol.before("barrier")
        assert not [b for b in earlier if b.startswith("gc ")], earlier
    finally:
        await bob.close()
        await carol.close()


@run
async def test_burst_arrives_complete_and_in_order(server):
    # RFC 6120 §10.1: stanzas between two entities are delivered in order; the batched writer
    # must neither drop nor reorder a burst.
    sender = await online(server, "ivan", "burst")
    receiver = await online(server, "judy", "burst")
    try:
        drain(receiver.messages)
        for i in range(300):
            sender.send_message(mto="judy@example.test/burst", mbody=f"burst {i}", mtype="chat")
        seen = await until(receiver.messages, "the end of the burst", lambda m: m["body"] == "burst 299")
        got = [m["body"] for m in seen if m["body"].startswith("burst ")]
        assert got == [f"burst {i}" for i in range(300)]
    finally:
        await sender.close()
        await receiver.close()
