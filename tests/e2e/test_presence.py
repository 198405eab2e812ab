"""RFC 6121 §3-§4 presence rules beyond the basic handshake: requests to offline contacts,
session ends, directed presence, negative priority, and who gets roster pushes."""

from e2e_client import Client, drain, online, run


async def mutual(a: Client, b: Client) -> None:
    """Make a and b subscribed both ways (each approves the other)."""
    for user, contact in ((a, b), (b, a)):
        user.send_presence(pto=contact.boundjid.bare, ptype="subscribe")
        await contact.presence("subscribe", lambda p: p["type"] == "subscribe"
                               and p["from"].bare == user.boundjid.bare)
        contact.send_presence(pto=user.boundjid.bare, ptype="subscribed")
        await user.roster_push(contact.boundjid.bare,
                               lambda i: i["subscription"] in ("to", "both"))


@run
async def test_request_to_offline_contact_arrives_at_login(server):
    asker, offline = server.new_account("pa1"), server.new_account("pb1")
    a = await online(server, "pa1", "desk")
    try:
        a.send_presence(pto=offline, ptype="subscribe")
        await a.roster_push(offline, lambda i: i["ask"] == "subscribe")
        # §3.1.3: the server keeps the request and delivers it when the contact is online.
        b = await online(server, "pb1", "late")
        try:
            request = await b.presence("stored subscribe", lambda p: p["type"] == "subscribe")
            assert request["from"].full == asker
            b.send_presence(pto=asker, ptype="subscribed")
            await a.roster_push(offline, lambda i: i["subscription"] == "to")
            await a.presence("contact's presence", lambda p: p["from"].bare == offline
                             and p["type"] == "available")
        finally:
            await b.close()
    finally:
        await a.close()


@run
async def test_abrupt_disconnect_broadcasts_unavailable(server):
    server.new_account("pa2")
    server.new_account("pb2")
    a = await online(server, "pa2", "desk")
    b = await online(server, "pb2", "phone")
    try:
        await mutual(a, b)
        drain(a.presences)
        # The TCP connection just goes away: no unavailable presence, no </stream:stream>.
        b.transport.abort()
        gone = await a.presence("unavailable for the dropped session",
                                lambda p: p["from"].full == "pb2@example.test/phone")
        assert gone["type"] == "unavailable"
    finally:
        await a.close()
        await b.close()


@run
async def test_directed_presence_gets_unavailable_at_logout(server):
    server.new_account("pa3")
    server.new_account("pb3")
    a = await online(server, "pa3", "desk")
    b = await online(server, "pb3", "desk")
    try:
        # §4.6: presence to a non-contact is delivered; at logout it gets unavailable too.
        a.send_presence(pto="pb3@example.test/desk", pstatus="hello stranger")
        hello = await b.presence("directed presence", lambda p: p["from"].bare == "pa3@example.test")
        assert hello["status"] == "hello stranger"
        await a.close()
        bye = await b.presence("unavailable after directed", lambda p: p["from"].bare == "pa3@example.test")
        assert bye["type"] == "unavailable"
    finally:
        await a.close()
        await b.close()


@run
async def test_only_negative_priority_means_offline_storage(server):
    server.new_account("pa4")
    server.new_account("pb4")
    a = await online(server, "pa4", "desk")
    hidden = await Client(server, "pb4", "hidden").online(priority=-5)
    try:
        # §8.5.2.1.1: no resource with non-negative priority: as if offline (XEP-0160 stores).
        a.send_message(mto="pb4@example.test", mbody="for later", mtype="chat")
        await a.plugin["xep_0199"].ping(jid="example.test", timeout=10)
        later = await Client(server, "pb4", "visible").online(priority=1)
        try:
            m = await later.chat("for later")
            assert m["delay"]["from"] == "example.test"
        finally:
            await later.close()
        a.send_message(mto="pb4@example.test/hidden", mbody="barrier", mtype="chat")
        assert "for later" not in await hidden.before("barrier")
    finally:
        await a.close()
        await hidden.close()


@run
async def test_roster_push_goes_to_interested_resources_only(server):
    server.new_account("pa5")
    first = await online(server, "pa5", "one")
    second = await online(server, "pa5", "two")
    quiet = Client(server, "pa5", "quiet")
    assert await quiet.login()  # never asks for the roster
    try:
        await first.update_roster("someone@example.test", name="Someone", timeout=10)
        for c in (first, second):
            push = await c.roster_push("someone@example.test")
            assert push["roster"]["items"]["someone@example.test"]["name"] == "Someone"
        # §2.1.6: a session that never requested the roster gets no pushes. Barrier: a
        # message sent to it after the change.
        first.send_message(mto="pa5@example.test/quiet", mbody="barrier", mtype="chat")
        await quiet.chat("barrier")
        assert not drain(quiet.roster_pushes), "push to a resource that never asked for the roster"
    finally:
        for c in (first, second, quiet):
            await c.close()


@run
async def test_unsubscribe_and_cancel_without_removal(server):
    server.new_account("pa6")
    server.new_account("pb6")
    a = await online(server, "pa6", "desk")
    b = await online(server, "pb6", "desk")
    A, B = "pa6@example.test", "pb6@example.test"
    try:
        await mutual(a, b)
        # §3.3: a unsubscribes from b: a's item drops to "from", b's to "to", and a gets
        # unavailable from b's resources (a no longer receives b's presence).
        drain(a.presences)
        a.send_presence(pto=B, ptype="unsubscribe")
        await a.roster_push(B, lambda i: i["subscription"] == "from")
        await b.roster_push(A, lambda i: i["subscription"] == "to")
        await b.presence("unsubscribe notice", lambda p: p["type"] == "unsubscribe" and p["from"].bare == A)
        await a.presence("b unavailable", lambda p: p["from"].full == f"{B}/desk" and p["type"] == "unavailable")

        # §3.2: a cancels b's subscription: a's item drops to "none", b's to "none", and b
        # gets unavailable from a's resources.
        drain(b.presences)
        a.send_presence(pto=B, ptype="unsubscribed")
        await a.roster_push(B, lambda i: (i["subscription"] or "none") == "none")
        await b.roster_push(A, lambda i: (i["subscription"] or "none") == "none")
        await b.presence("a unavailable", lambda p: p["from"].full == f"{A}/desk" and p["type"] == "unavailable")

        # Nothing flows any more, in either direction.
        drain(a.presences)
        drain(b.presences)
        a.send_presence(pshow="away")
        b.send_presence(pshow="away")
        a.send_message(mto=f"{B}/desk", mbody="barrier a", mtype="chat")
        b.send_message(mto=f"{A}/desk", mbody="barrier b", mtype="chat")
        await b.chat("barrier a")
        await a.chat("barrier b")
        assert not [p for p in drain(b.presences) if p["from"].bare == A and p["type"] == "available"]
        assert not [p for p in drain(a.presences) if p["from"].bare == B and p["type"] == "available"]
    finally:
        await a.close()
        await b.close()


@run
async def test_own_resources_see_each_other(server):
    server.new_account("pa7")
    one = await online(server, "pa7", "one")
    try:
        # §4.2.2: initial presence goes to the user's other available resources, and the new
        # resource learns theirs.
        two = await online(server, "pa7", "two")
        try:
            await one.presence("two arrives", lambda p: p["from"].full == "pa7@example.test/two"
                               and p["type"] == "available")
            await two.presence("one is there", lambda p: p["from"].full == "pa7@example.test/one"
                               and p["type"] == "available")
        finally:
            await two.close()
        await one.presence("two leaves", lambda p: p["from"].full == "pa7@example.test/two"
                           and p["type"] == "unavailable")
    finally:
        await one.close()


@run
async def test_probe_of_offline_contact_answers_unavailable(server):
    server.new_account("pa8")
    server.new_account("pb8")
    a = await online(server, "pa8", "first")
    b = await online(server, "pb8", "gone")
    await mutual(a, b)
    await b.close()
    await a.close()
    # §4.3.2: at a's next login the server probes b; b is offline, so a gets unavailable
    # from b's bare JID.
    a = await online(server, "pa8", "again")
    try:
        answer = await a.presence("answer to the probe of pb8",
                                  lambda p: p["from"].bare == "pb8@example.test")
        assert answer["type"] == "unavailable"
        assert answer["from"].full == "pb8@example.test"
    finally:
        await a.close()
