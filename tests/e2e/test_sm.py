"""XEP-0198 Stream Management: enable, acks both ways, resumption after a cut TCP connection
with nothing lost, takeover of a session whose old connection still looks alive, and offline
storage for what a session never acknowledged (timeout or clean close)."""

import time
import xml.etree.ElementTree as ET

from raw_stream import BIND_NS, RawStream, Scram, StreamClosed, logged_in, q, sasl_exchange, secured

SM = "urn:xmpp:sm:3"
CLIENT = "jabber:client"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class SmStream:
    """A raw stream that counts the stanzas it handled, as a XEP-0198 client must."""

    def __init__(self, stream: RawStream):
        self.stream = stream
        self.handled = 0

    def next(self, timeout: float = 10.0) -> ET.Element:
        """The next element; stanzas are counted, the server's `<r/>` is skipped (unanswered)."""
        while True:
            element = self.stream.next(timeout)
            if element.tag == q(SM, "r"):
                continue
            if element.tag.startswith(f"{{{CLIENT}}}"):
                self.handled += 1
            return element

    def message(self, body: str) -> ET.Element:
        """Reads up to the message with `body`, failing on any other message first."""
        while True:
            element = self.next()
            if element.tag != q(CLIENT, "message") or element.get("from") == "example.test":
                continue
            assert element.findtext(q(CLIENT, "body")) == body, ET.tostring(element)
            return element

    def enable(self, resume: bool = True, max_secs: int | None = None) -> ET.Element:
        attrs = " resume='true'" if resume else ""
        if max_secs is not None:
            attrs += f" max='{max_secs}'"
        self.stream.send(f"<enable xmlns='{SM}'{attrs}/>")
        while True:
            element = self.next()
            if element.tag == q(SM, "enabled"):
                # The server counts what it writes after <enabled/>, and so do we.
                self.handled = 0
                return element
            assert not element.tag.startswith(f"{{{SM}}}"), ET.tostring(element)


def authenticated(server, user: str) -> RawStream:
    """Logged in, features of the authenticated stream read, nothing bound."""
    stream, _ = secured(server)
    ok, _ = sasl_exchange(stream, "SCRAM-SHA-256", Scram("sha256", user, server.accounts[user]))
    assert ok, f"{user} could not log in"
    features = stream.open()
    assert features.find(q(SM, "sm")) is not None, "no <sm/> after authentication"
    return stream


def chat(sender: RawStream, to: str, body: str) -> None:
    sender.send(f"<message to='{to}' type='chat'><body>{body}</body></message>")


def ping_until_gone(pinger: RawStream, target: str, limit: float = 20.0) -> None:
    """Pings `target` until the server answers for it with an error (its session is gone)."""
    deadline = time.monotonic() + limit
    n = 0
    while time.monotonic() < deadline:
        n += 1
        pinger.send(f"<iq type='get' id='gone-{n}' to='{target}'><ping xmlns='urn:xmpp:ping'/></iq>")
        try:
            while True:
                reply = pinger.next(0.5)
                if reply.get("id") == f"gone-{n}":
                    break
        except AssertionError:
            continue  # Unanswered: the session still holds it.
        if reply.get("type") == "error":
            return
    raise AssertionError(f"{target} still had a session after {limit}s")


def test_sm_is_offered_only_after_authentication(server):
    stream, features = secured(server)
    try:
        assert features.find(q(SM, "sm")) is None
    finally:
        stream.close()
    authenticated(server, "alice").close()


def test_enable_needs_a_bound_resource(server):
    stream = authenticated(server, "alice")
    try:
        stream.send(f"<enable xmlns='{SM}'/>")
        failed = stream.next()
        assert failed.tag == q(SM, "failed")
        assert failed.find(q(STANZAS, "unexpected-request")) is not None
    finally:
        stream.close()


def test_acks_count_stanzas_both_ways(server):
    server.new_account("sm-ack")
    stream = SmStream(logged_in(server, "sm-ack", "acks"))
    try:
        enabled = stream.enable(resume=False)
        assert enabled.get("id") is None and enabled.get("resume") in (None, "false")
        for n in range(3):
            stream.stream.send(f"<iq type='get' id='p{n}' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        stream.stream.send(f"<r xmlns='{SM}'/>")
        replies = []
        while True:
            element = stream.next()
            if element.tag == q(SM, "a"):
                break
            replies.append(element.get("id"))
        # All three pings were handled before the answer to <r/> (their replies may follow).
        assert element.get("h") == "3"
        while len(replies) < 3:
            replies.append(stream.next().get("id"))
        assert replies == ["p0", "p1", "p2"], replies
        # The server asks for acks of what it sent; a count beyond that ends the stream.
        stream.stream.send(f"<a xmlns='{SM}' h='{stream.handled}'/>")
        stream.stream.send(f"<a xmlns='{SM}' h='{stream.handled + 5}'/>")
        assert stream.stream.stream_error() == "undefined-condition"
    finally:
        stream.stream.close()


def test_resume_after_a_cut_connection_loses_nothing(server):
    server.new_account("sm-phone")
    server.new_account("sm-friend")
    phone_jid = "sm-phone@example.test/phone"
    phone = SmStream(logged_in(server, "sm-phone", "phone"))
    friend = logged_in(server, "sm-friend", "desk")
    try:
        phone.stream.send("<presence/>")
        enabled = phone.enable(max_secs=120)
        previd = enabled.get("id")
        assert previd and enabled.get("resume") in ("true", "1")
        assert 0 < int(enabled.get("max")) <= 120
        phone.stream.send(f"<iq type='set' id='carbons' to='sm-phone@example.test'>"
                          f"<enable xmlns='urn:xmpp:carbons:2'/></iq>")
        while phone.next().get("id") != "carbons":
            pass
        for body in ("one", "two", "three"):
            chat(friend, phone_jid, body)
        phone.message("one")
        handled_after_one = phone.handled
        phone.message("two")
        phone.message("three")
        # The client handled only "one" as far as the server knows; then the line drops.
        phone.stream.close()
        chat(friend, phone_jid, "four")

        again = authenticated(server, "sm-phone")
        again.send(f"<resume xmlns='{SM}' previd='{previd}' h='{handled_after_one}'/>")
        resumed_stream = SmStream(again)
        resumed = resumed_stream.next()
        assert resumed.tag == q(SM, "resumed"), ET.tostring(resumed)
        assert resumed.get("previd") == previd
        # It handled the carbons iq (the presence came before <enable/>).
        assert resumed.get("h") == "1"
        for body in ("two", "three", "four"):
            resumed_stream.message(body)
        # Same full JID, carbons still on: a message sent from another resource is copied.
        chat(again, "sm-friend@example.test/desk", "back")
        got = friend.next()
        while got.tag != q(CLIENT, "message") or got.get("from") == "example.test":
            got = friend.next()
        assert got.get("from") == phone_jid
        assert got.findtext(q(CLIENT, "body")) == "back"
        other = logged_in(server, "sm-phone", "laptop")
        try:
            chat(other, "sm-friend@example.test/desk", "from laptop")
            copy = resumed_stream.next()
            while copy.tag != q(CLIENT, "message") or copy.find(q("urn:xmpp:carbons:2", "sent")) is None:
                copy = resumed_stream.next()
        finally:
            other.close()
    finally:
        friend.close()


def test_unknown_resumption_fails_and_binding_still_works(server):
    stream = authenticated(server, "alice")
    try:
        stream.send(f"<resume xmlns='{SM}' previd='no-such-session' h='0'/>")
        failed = stream.next()
        assert failed.tag == q(SM, "failed")
        assert failed.find(q(STANZAS, "item-not-found")) is not None
        stream.send(f"<iq type='set' id='b'><bind xmlns='{BIND_NS}'/></iq>")
        assert stream.next().get("type") == "result"
    finally:
        stream.close()


def test_resuming_elsewhere_closes_the_old_connection(server):
    server.new_account("sm-twice")
    old = SmStream(logged_in(server, "sm-twice", "r"))
    previd = old.enable().get("id")
    new = authenticated(server, "sm-twice")
    try:
        new.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
        resumed = new.next()
        assert resumed.tag == q(SM, "resumed"), ET.tostring(resumed)
        deadline = time.monotonic() + 10
        while not old.stream.closed and time.monotonic() < deadline:
            try:
                old.stream.next(1.0)
            except (AssertionError, OSError, StreamClosed):
                pass
        assert old.stream.closed, "the old connection was left open"
    finally:
        old.stream.close()
        new.close()


def test_resumption_timeout_sends_unacked_messages_offline(server):
    server.new_account("sm-gone")
    server.new_account("sm-sender")
    target = "sm-gone@example.test/gone"
    gone = SmStream(logged_in(server, "sm-gone", "gone"))
    sender = logged_in(server, "sm-sender", "s")
    try:
        gone.stream.send("<presence/>")
        previd = gone.enable(max_secs=1).get("id")
        chat(sender, target, "kept for later")
        gone.message("kept for later")
        gone.stream.close()
        ping_until_gone(sender, target)

        late = authenticated(server, "sm-gone")
        late.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
        failed = late.next()
        assert failed.tag == q(SM, "failed") and failed.find(q(STANZAS, "item-not-found")) is not None
        late.close()

        fresh = SmStream(logged_in(server, "sm-gone", "again"))
        fresh.stream.send("<presence/>")
        message = fresh.message("kept for later")
        assert message.find(q("urn:xmpp:delay", "delay")) is not None
        fresh.stream.close()
    finally:
        sender.close()


def test_clean_close_sends_unacked_messages_offline(server):
    server.new_account("sm-bye")
    server.new_account("sm-writer")
    target = "sm-bye@example.test/bye"
    bye = SmStream(logged_in(server, "sm-bye", "bye"))
    writer = logged_in(server, "sm-writer", "w")
    try:
        bye.stream.send("<presence/>")
        bye.enable(resume=False)
        chat(writer, target, "not acknowledged")
        bye.message("not acknowledged")
        bye.stream.send("</stream:stream>")
        while not bye.stream.closed:
            try:
                bye.stream.next(5.0)
            except Exception:  # noqa: BLE001 - the close itself ends the read
                break
        bye.stream.close()
        ping_until_gone(writer, target)
        back = SmStream(logged_in(server, "sm-bye", "back"))
        back.stream.send("<presence/>")
        assert back.message("not acknowledged").find(q("urn:xmpp:delay", "delay")) is not None
        back.stream.close()
    finally:
        writer.close()


def test_a_full_outbox_sends_messages_offline(server):
    """While a session is detached nobody drains its outbox (512 stanzas); what does not fit
    goes to offline storage instead of being dropped."""
    server.new_account("sm-full")
    server.new_account("sm-flood")
    target = "sm-full@example.test/full"
    full = SmStream(logged_in(server, "sm-full", "full"))
    flood = logged_in(server, "sm-flood", "f")
    total = 600
    try:
        full.stream.send("<presence/>")
        previd = full.enable().get("id")
        full.stream.close()
        for n in range(total):
            chat(flood, target, f"m{n}")
        # A round trip: every message above was routed before the answer.
        flood.send("<iq type='get' id='sync' to='example.test'><ping xmlns='urn:xmpp:ping'/></iq>")
        while flood.next().get("id") != "sync":
            pass

        again = authenticated(server, "sm-full")
        again.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
        resumed = SmStream(again)
        assert resumed.next().tag == q(SM, "resumed")
        chat(flood, target, "marker")
        received = []
        while not received or received[-1] != "marker":
            element = resumed.next()
            if element.tag == q(CLIENT, "message"):
                received.append(element.findtext(q(CLIENT, "body")))
        # The outbox held 512 (plus what was written before the cut was noticed, resent).
        kept = len(received) - 1
        assert 512 <= kept < total, kept
        assert received[:-1] == [f"m{n}" for n in range(kept)]

        laptop = SmStream(logged_in(server, "sm-full", "laptop"))
        laptop.stream.send("<presence/>")
        for n in range(kept, total):
            assert laptop.message(f"m{n}").find(q("urn:xmpp:delay", "delay")) is not None
        laptop.stream.close()
        again.close()
    finally:
        flood.close()
