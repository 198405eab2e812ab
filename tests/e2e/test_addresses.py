"""XEP-0033 extended stanza addressing: the server multicasts a message to its to, cc and bcc
addresses, marks them delivered and hides bcc recipients from everyone else."""

import xml.etree.ElementTree as ET

from e2e_client import online, run

DOMAIN = "example.test"
NS = "http://jabber.org/protocol/address"


def multicast(sender, body: str, addresses: list[tuple[str, str]]):
    msg = sender.make_message(mto=DOMAIN, mbody=body, mtype="normal")
    block = ET.SubElement(msg.xml, f"{{{NS}}}addresses")
    for kind, jid in addresses:
        ET.SubElement(block, f"{{{NS}}}address", {"type": kind, "jid": jid})
    msg.send()


async def available(*clients) -> None:
    """Barrier: a session handles its stanzas in order, so a message to oneself that comes back
    proves the initial presence before it was processed (the copies must not race it)."""
    for c in clients:
        c.send_message(mto=c.boundjid.bare, mbody=f"ready {c.boundjid}", mtype="chat")
        await c.chat(f"ready {c.boundjid}")


def addresses_of(msg) -> list[tuple[str, str, str | None]]:
    return [(a.get("type"), a.get("jid"), a.get("delivered"))
            for a in msg.xml.findall(f"{{{NS}}}addresses/{{{NS}}}address")]


@run
async def test_multicast_reaches_to_cc_and_bcc_with_bcc_hidden(server):
    alice = await online(server, "alice", "multi")
    bob = await online(server, "bob", "multi")
    carol = await online(server, "carol", "multi")
    dave = await online(server, "dave", "multi")
    try:
        await available(bob, carol, dave)
        info = await alice.plugin["xep_0030"].get_info(jid=DOMAIN, timeout=10)
        assert NS in info["disco_info"]["features"]
        multicast(alice, "to everyone", [
            ("to", f"bob@{DOMAIN}"), ("cc", f"carol@{DOMAIN}"), ("bcc", f"dave@{DOMAIN}"),
        ])
        shared = [("to", f"bob@{DOMAIN}", "true"), ("cc", f"carol@{DOMAIN}", "true")]
        for who in (bob, carol):
            msg = await who.chat("to everyone")
            assert msg["from"] == alice.boundjid, msg
            assert msg["to"].bare == who.boundjid.bare
            assert addresses_of(msg) == shared, addresses_of(msg)
        hidden = await dave.chat("to everyone")
        assert addresses_of(hidden) == shared + [("bcc", f"dave@{DOMAIN}", "true")]
    finally:
        for c in (dave, carol, bob, alice):
            await c.close()


@run
async def test_multicast_refusals(server):
    alice = await online(server, "alice", "multi-err")
    bob = await online(server, "bob", "multi-err")
    try:
        await available(bob)
        # Too many addresses: not-acceptable, nobody gets anything.
        many = [("to", f"bob@{DOMAIN}")] + [("cc", f"u{i}@{DOMAIN}") for i in range(60)]
        multicast(alice, "too many", many)
        err = await alice.message("not-acceptable", match=lambda m: m["type"] == "error")
        assert err["error"]["condition"] == "not-acceptable", err
        # A recipient this server cannot deliver to: forbidden, nobody gets anything.
        multicast(alice, "remote", [("to", f"bob@{DOMAIN}"), ("to", "x@elsewhere.test")])
        err = await alice.message("forbidden", match=lambda m: m["type"] == "error")
        assert err["error"]["condition"] == "forbidden", err
        alice.send_message(mto=bob.boundjid, mbody="barrier", mtype="chat")
        before = await bob.before("barrier")
        assert "too many" not in before and "remote" not in before, before
    finally:
        await bob.close()
        await alice.close()
