"""XEP-0198 with a real client library: slixmpp's xep_0198 plugin enables stream management,
gets its stanzas acknowledged, and resumes its session after the TCP connection is cut."""

import asyncio

from e2e_client import Client, online, run, take


@run
async def test_slixmpp_enables_acks_and_resumes(server):
    server.new_account("sm-slix")
    server.new_account("sm-slix-peer")
    phone = Client(server, "sm-slix", "slix")
    phone.register_plugin("xep_0198")
    sm = phone.plugin["xep_0198"]
    enabled, resumed, acked = asyncio.Queue(), asyncio.Queue(), asyncio.Queue()
    phone.add_event_handler("sm_enabled", enabled.put_nowait)
    phone.add_event_handler("session_resumed", resumed.put_nowait)
    phone.add_event_handler("stanza_acked", acked.put_nowait)
    peer = await online(server, "sm-slix-peer", "desk")
    try:
        await phone.online()
        answer = await take(enabled, "<enabled/>")
        assert answer["id"] and answer["resume"] in (True, "true", "1")

        phone.send_message(mto=peer.boundjid.full, mbody="hello", mtype="chat")
        await peer.chat("hello")
        # slixmpp writes <r/> at once but queues stanzas: ask once the message is out.
        sm.request_ack()
        await take(acked, "the server's ack of our message",
                   match=lambda s: s.name == "message" and s["body"] == "hello")

        peer.send_message(mto=phone.boundjid.full, mbody="before", mtype="chat")
        await phone.chat("before")
        handled_before = sm.handled
        assert handled_before > 0

        # Cut the TCP connection without closing the stream, then write while it is gone.
        phone.transport.abort()
        await take(phone.disconnects, "the cut")
        peer.send_message(mto=phone.boundjid.full, mbody="while away", mtype="chat")
        phone.connect("127.0.0.1", phone.port)
        await take(resumed, "<resumed/>")
        await phone.chat("while away")
        assert phone.boundjid.full == "sm-slix@example.test/slix"
        phone.send_message(mto=peer.boundjid.full, mbody="back", mtype="chat")
        reply = await peer.chat("back")
        assert reply["from"].full == "sm-slix@example.test/slix"
    finally:
        await phone.close()
        await peer.close()
