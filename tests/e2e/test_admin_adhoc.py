"""XEP-0050 ad-hoc commands with the XEP-0133 admin set (admins only), the MOTD set by command,
and XEP-0157 contact addresses in the server's disco#info."""

from slixmpp.exceptions import IqError

from e2e_client import Client, run, take

DOMAIN = "example.test"
COMMANDS = "http://jabber.org/protocol/commands"
ADMIN = "http://jabber.org/protocol/admin#"


async def client(server, user: str, resource: str) -> Client:
    c = Client(server, user, resource)
    c.register_plugin("xep_0050")
    return await c.online()


async def run_command(c: Client, command: str, fields: dict[str, object] | None = None):
    """Execute `command`; with `fields`, fill in the form it returns and complete it."""
    first = await c.plugin["xep_0050"].send_command(DOMAIN, ADMIN + command, timeout=10)
    if fields is None:
        return first
    assert first["command"]["status"] == "executing", first
    assert first["command"]["form"]["type"] == "form", first
    form = c.plugin["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/admin")
    for var, value in fields.items():
        form.add_field(var=var, value=value)
    return await c.plugin["xep_0050"].send_command(
        DOMAIN, ADMIN + command, action="complete", payload=form,
        sessionid=first["command"]["sessionid"], timeout=10,
    )


def notes(reply) -> list[tuple[str, str]]:
    return list(reply["command"]["notes"])


def field(reply, var: str):
    return reply["command"]["form"].get_fields()[var]["value"]


async def expect_error(awaitable, condition: str):
    try:
        reply = await awaitable
    except IqError as err:
        assert err.iq["error"]["condition"] == condition, err.iq
        return err.iq
    raise AssertionError(f"expected <{condition}/>, got {reply}")


@run
async def test_non_admin_sees_no_commands_and_is_forbidden(fresh_server):
    bob = await client(fresh_server, "bob", "adhoc")
    try:
        items = await bob.plugin["xep_0030"].get_items(jid=DOMAIN, node=COMMANDS, timeout=10)
        assert items["disco_items"]["items"] == set() or not list(items["disco_items"]["items"])
        for command in ("add-user", "get-online-users-num", "set-motd", "announce"):
            await expect_error(
                bob.plugin["xep_0050"].send_command(DOMAIN, ADMIN + command, timeout=10), "forbidden")
        # The server says it has commands; it only lists them to admins.
        info = await bob.plugin["xep_0030"].get_info(jid=DOMAIN, timeout=10)
        assert COMMANDS in info["disco_info"]["features"]
    finally:
        await bob.close()


@run
async def test_admin_lists_the_commands(fresh_server):
    alice = await client(fresh_server, "alice", "list")
    try:
        items = await alice.plugin["xep_0030"].get_items(jid=DOMAIN, node=COMMANDS, timeout=10)
        nodes = {node for _jid, node, _name in items["disco_items"]["items"]}
        wanted = {ADMIN + n for n in ("add-user", "delete-user", "change-user-password",
                                      "get-online-users", "get-online-users-num", "announce",
                                      "set-motd", "edit-motd", "delete-motd", "end-user-session")}
        assert wanted <= nodes, wanted - nodes
        unknown = alice.plugin["xep_0050"].send_command(DOMAIN, ADMIN + "shutdown", timeout=10)
        await expect_error(unknown, "item-not-found")
    finally:
        await alice.close()


@run
async def test_admin_adds_a_user_who_then_logs_in(fresh_server):
    alice = await client(fresh_server, "alice", "add")
    try:
        reply = await run_command(alice, "add-user", {
            "accountjid": f"newbie@{DOMAIN}",
            "password": "newbie-pw-12345",
            "password-verify": "newbie-pw-12345",
        })
        assert reply["command"]["status"] == "completed", reply
        assert notes(reply)[0][0] == "info", notes(reply)
        again = await run_command(alice, "add-user", {
            "accountjid": f"newbie@{DOMAIN}", "password": "x-other-pw-1", "password-verify": "x-other-pw-1",
        })
        assert notes(again)[0][0] == "error", notes(again)
    finally:
        await alice.close()
    newbie = Client(fresh_server, "newbie", "first", password="newbie-pw-12345")
    assert await newbie.login(), "the added user could not log in"
    await newbie.close()


@run
async def test_admin_changes_a_password(fresh_server):
    alice = await client(fresh_server, "alice", "passwd")
    try:
        reply = await run_command(alice, "change-user-password", {
            "accountjid": f"dave@{DOMAIN}", "password": "dave-new-pw-777",
        })
        assert reply["command"]["status"] == "completed" and notes(reply)[0][0] == "info", reply
    finally:
        await alice.close()
    new = Client(fresh_server, "dave", "new", password="dave-new-pw-777")
    assert await new.login(), "the new password does not work"
    await new.close()
    old = Client(fresh_server, "dave", "old")
    assert not await old.login(), "the old password still works"


@run
async def test_admin_deletes_an_online_user(fresh_server):
    alice = await client(fresh_server, "alice", "delete")
    erin = await client(fresh_server, "erin", "doomed")
    try:
        reply = await run_command(alice, "delete-user", {"accountjids": [f"erin@{DOMAIN}"]})
        assert reply["command"]["status"] == "completed" and notes(reply)[0][0] == "info", reply
        await take(erin.disconnects, "erin's session to end")
    finally:
        await alice.close()
    gone = Client(fresh_server, "erin", "again")
    assert not await gone.login(), "a deleted account can still log in"


@run
async def test_online_users_and_their_number(fresh_server):
    alice = await client(fresh_server, "alice", "online")
    bob = await client(fresh_server, "bob", "online")
    try:
        listed = await run_command(alice, "get-online-users", {"max_items": "100"})
        users = field(listed, "onlineuserjids")
        assert f"bob@{DOMAIN}" in users and f"alice@{DOMAIN}" in users, users
        count = await run_command(alice, "get-online-users-num")
        assert count["command"]["status"] == "completed"
        assert int(field(count, "onlineusersnum")) >= 2
    finally:
        await bob.close()
        await alice.close()


@run
async def test_announce_reaches_online_users(fresh_server):
    alice = await client(fresh_server, "alice", "announce")
    bob = await client(fresh_server, "bob", "announce")
    carol = await client(fresh_server, "carol", "announce")
    try:
        await run_command(alice, "announce", {"subject": "Notice", "announcement": "Maintenance at noon"})
        for who in (bob, carol):
            msg = await who.chat("Maintenance at noon")
            assert msg["from"] == DOMAIN and msg["subject"] == "Notice", msg
    finally:
        for c in (carol, bob, alice):
            await c.close()


@run
async def test_motd_set_by_command_is_shown_at_next_login(fresh_server):
    alice = await client(fresh_server, "alice", "motd")
    try:
        await run_command(alice, "set-motd", {"announcement": "Fresh motd from the admin"})
        frank = await Client(fresh_server, "frank", "motd").online()
        msg = await frank.chat("Fresh motd from the admin")
        assert msg["from"] == DOMAIN
        await frank.close()
        # edit-motd shows the text now in force.
        first = await alice.plugin["xep_0050"].send_command(DOMAIN, ADMIN + "edit-motd", timeout=10)
        assert first["command"]["form"].get_fields()["announcement"]["value"] == ["Fresh motd from the admin"]
        await alice.plugin["xep_0050"].send_command(
            DOMAIN, ADMIN + "edit-motd", action="cancel",
            sessionid=first["command"]["sessionid"], timeout=10)
        deleted = await run_command(alice, "delete-motd")
        assert deleted["command"]["status"] == "completed"
        grace = await Client(fresh_server, "grace", "motd").online()
        alice.send_message(mto=f"grace@{DOMAIN}/motd", mbody="barrier", mtype="chat")
        before = await grace.before("barrier")
        # Deleted means no MOTD at all, not the config's text again.
        assert not any("motd" in b or "Welcome back" in b for b in before), before
        await grace.close()
    finally:
        await alice.close()


@run
async def test_cancel_ends_the_session(fresh_server):
    alice = await client(fresh_server, "alice", "cancel")
    try:
        first = await alice.plugin["xep_0050"].send_command(DOMAIN, ADMIN + "add-user", timeout=10)
        sid = first["command"]["sessionid"]
        canceled = await alice.plugin["xep_0050"].send_command(
            DOMAIN, ADMIN + "add-user", action="cancel", sessionid=sid, timeout=10)
        assert canceled["command"]["status"] == "canceled"
        form = alice.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="accountjid", value=f"late@{DOMAIN}")
        form.add_field(var="password", value="late-pw-123456")
        late = alice.plugin["xep_0050"].send_command(
            DOMAIN, ADMIN + "add-user", action="complete", payload=form, sessionid=sid, timeout=10)
        await expect_error(late, "not-allowed")
        # A form with a missing field is refused and the session stays open for a fixed one.
        second = await alice.plugin["xep_0050"].send_command(DOMAIN, ADMIN + "add-user", timeout=10)
        sid2 = second["command"]["sessionid"]
        partial = alice.plugin["xep_0004"].make_form(ftype="submit")
        partial.add_field(var="accountjid", value=f"late@{DOMAIN}")
        await expect_error(alice.plugin["xep_0050"].send_command(
            DOMAIN, ADMIN + "add-user", action="complete", payload=partial, sessionid=sid2,
            timeout=10), "bad-request")
        done = await alice.plugin["xep_0050"].send_command(
            DOMAIN, ADMIN + "add-user", action="complete", payload=form, sessionid=sid2, timeout=10)
        assert done["command"]["status"] == "completed" and notes(done)[0][0] == "info", done
    finally:
        await alice.close()


@run
async def test_serverinfo_form_carries_the_contact_addresses(fresh_server):
    bob = await client(fresh_server, "bob", "contact")
    try:
        info = await bob.plugin["xep_0030"].get_info(jid=DOMAIN, timeout=10)
        forms = [f for f in info["disco_info"].xml.findall("{jabber:x:data}x")]
        values = {}
        for form in forms:
            for fld in form.findall("{jabber:x:data}field"):
                values[fld.get("var")] = [v.text for v in fld.findall("{jabber:x:data}value")]
        assert values.get("FORM_TYPE") == ["http://jabber.org/network/serverinfo"], values
        assert values["admin-addresses"] == [f"xmpp:alice@{DOMAIN}"]
        assert values["abuse-addresses"] == [f"mailto:abuse@{DOMAIN}"]
        assert f"https://{DOMAIN}/support" in values["support-addresses"]
    finally:
        await bob.close()


@run
async def test_end_user_session_ends_only_that_resource(fresh_server):
    alice = await client(fresh_server, "alice", "end")
    phone = await client(fresh_server, "heidi", "phone")
    laptop = await client(fresh_server, "heidi", "laptop")
    try:
        reply = await run_command(alice, "end-user-session", {"accountjids": [f"heidi@{DOMAIN}/phone"]})
        assert notes(reply)[0][0] == "info", notes(reply)
        await take(phone.disconnects, "heidi's phone session to end")
        # The other resource stays: it still gets messages.
        alice.send_message(mto=f"heidi@{DOMAIN}/laptop", mbody="still here", mtype="chat")
        await laptop.chat("still here")
        nobody = await run_command(alice, "end-user-session", {"accountjids": [f"ivan@{DOMAIN}"]})
        assert notes(nobody)[0][0] == "error", notes(nobody)
    finally:
        await laptop.close()
        await alice.close()
