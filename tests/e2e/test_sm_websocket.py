"""XEP-0198 Stream Management over WebSocket (RFC 7395): enable with resumption, acks for the
client's stanzas, a WebSocket that goes away without <close/>, and resumption on a new
WebSocket with the message sent while away delivered."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from e2e_client import online, run
from framed_client import WebSocketClient
from raw_stream import BIND_NS, q

SM = "urn:xmpp:sm:3"
CLIENT = "jabber:client"


class SmWebSocket:
    """A WebSocket client that counts the stanzas it handled, as a XEP-0198 client must."""

    def __init__(self, ws: WebSocketClient):
        self.ws = ws
        self.handled = 0

    async def next(self) -> ET.Element:
        """The next element; stanzas are counted, the server's `<r/>` is skipped."""
        while True:
            element = await self.ws.next()
            if element.tag == q(SM, "r"):
                continue
            if element.tag.startswith(f"{{{CLIENT}}}"):
                self.handled += 1
            return element

    async def message(self, body: str) -> ET.Element:
        """Reads up to the chat message with `body`, failing on any other chat message first."""
        while True:
            element = await self.next()
            if element.tag != q(CLIENT, "message") or element.find(q(CLIENT, "body")) is None:
                continue
            assert element.findtext(q(CLIENT, "body")) == body, ET.tostring(element)
            return element

    async def until(self, tag: str) -> ET.Element:
        while True:
            element = await self.next()
            if element.tag == tag:
                return element
            assert not element.tag.startswith(f"{{{SM}}}"), ET.tostring(element)


async def authenticated(server, user: str) -> SmWebSocket:
    """Logged in over a new WebSocket, the authenticated stream's features read."""
    ws = await WebSocketClient.connect(server)
    await ws.open()
    await ws.scram(user, server.accounts[user])
    features = await ws.open()
    assert features.find(q(SM, "sm")) is not None, "no <sm/> after authentication"
    return SmWebSocket(ws)


@run
async def test_resume_on_a_new_websocket_after_one_went_away(server):
    server.new_account("wssm-phone")
    server.new_account("wssm-friend")
    phone = await authenticated(server, "wssm-phone")
    await phone.ws.send(f"<iq xmlns='{CLIENT}' type='set' id='bind1'><bind xmlns='{BIND_NS}'>"
                        "<resource>web</resource></bind></iq>")
    bound = await phone.next()
    full = bound.find(f"{q(BIND_NS, 'bind')}/{q(BIND_NS, 'jid')}").text
    await phone.ws.send(f"<presence xmlns='{CLIENT}'/>")
    await phone.ws.send(f"<enable xmlns='{SM}' resume='true' max='120'/>")
    enabled = await phone.until(q(SM, "enabled"))
    previd = enabled.get("id")
    assert previd and enabled.get("resume") in ("true", "1"), ET.tostring(enabled)
    phone.handled = 0

    # Two stanzas from the client after <enable/>: the server acknowledges both.
    for n in (1, 2):
        await phone.ws.send(f"<iq xmlns='{CLIENT}' type='get' id='ping{n}'><ping xmlns='urn:xmpp:ping'/></iq>")
        pong = await phone.next()
        while pong.get("id") != f"ping{n}":  # e.g. the echo of its own presence
            pong = await phone.next()
        assert pong.get("id") == f"ping{n}" and pong.get("type") == "result", ET.tostring(pong)
    await phone.ws.send(f"<r xmlns='{SM}'/>")
    ack = await phone.until(q(SM, "a"))
    assert ack.get("h") == "2", ET.tostring(ack)

    friend = await online(server, "wssm-friend")
    try:
        friend.send_message(mto=full, mbody="one", mtype="chat")
        await phone.message("one")
        handled = phone.handled
        friend.send_message(mto=full, mbody="two", mtype="chat")
        await phone.message("two")
        # The WebSocket goes away without <close/>: the session waits to be resumed.
        await phone.ws.close()
        friend.send_message(mto=full, mbody="three", mtype="chat")

        again = await authenticated(server, "wssm-phone")
        await again.ws.send(f"<resume xmlns='{SM}' previd='{previd}' h='{handled}'/>")
        resumed = await again.until(q(SM, "resumed"))
        assert resumed.get("previd") == previd
        # The server handled the two pings since <enable/>.
        assert resumed.get("h") == "2", ET.tostring(resumed)
        await again.message("two")
        await again.message("three")
        # The resumed session is the same full JID and still delivers.
        friend.send_message(mto=full, mbody="four", mtype="chat")
        await again.message("four")
        await again.ws.send(f"<message xmlns='{CLIENT}' to='{friend.boundjid.full}' type='chat'>"
                            "<body>back</body></message>")
        got = await friend.chat("back")
        assert got["from"] == full
        await again.ws.close()
    finally:
        await friend.close()
