"""Raw clients for xmppd's HTTP transports: RFC 7395 WebSocket and XEP-0124/0206 BOSH. They
show the framing a library hides (the <open/>, the <body/> attributes, rid handling). Every
read has a deadline."""

from __future__ import annotations

import base64
import http.client
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

import websockets.asyncio.client

from conftest import DOMAIN, Server
from raw_stream import BIND_NS, SASL_NS, STREAM_NS, Scram, q

FRAMING_NS = "urn:ietf:params:xml:ns:xmpp-framing"
HTTPBIND_NS = "http://jabber.org/protocol/httpbind"
XBOSH_NS = "urn:xmpp:xbosh"
TIMEOUT = 10.0
OPEN = f"<open xmlns='{FRAMING_NS}' to='{DOMAIN}' version='1.0'/>"
CLOSE = f"<close xmlns='{FRAMING_NS}'/>"


def mechanisms(features: ET.Element) -> list[str]:
    return [m.text for m in features.iter(q(SASL_NS, "mechanism"))]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class WebSocketClient:
    def __init__(self, ws):
        self.ws = ws
        self.raw: list[str] = []

    @classmethod
    async def connect(cls, server: Server) -> "WebSocketClient":
        url = f"ws://127.0.0.1:{server.http_port}/xmpp-websocket"
        ws = await websockets.asyncio.client.connect(url, subprotocols=["xmpp"], open_timeout=TIMEOUT)
        assert ws.subprotocol == "xmpp"
        return cls(ws)

    async def send(self, text: str) -> None:
        await self.ws.send(text)

    async def next(self, timeout: float = TIMEOUT) -> ET.Element:
        import asyncio

        text = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(text, str), "XMPP travels in text messages"
        self.raw.append(text)
        return ET.fromstring(text)

    async def open(self) -> ET.Element:
        """Send <open/>; check the answering <open/>; return the features."""
        await self.send(OPEN)
        opened = await self.next()
        assert opened.tag == q(FRAMING_NS, "open"), opened.tag
        assert opened.get("version") == "1.0" and opened.get("from") == DOMAIN
        assert opened.get("id")
        features = await self.next()
        assert features.tag == q(STREAM_NS, "features"), features.tag
        return features

    async def scram(self, user: str, password: str, hash_name: str = "sha256") -> None:
        scram = Scram(hash_name, user, password)
        mech = f"SCRAM-{hash_name.upper().replace('SHA', 'SHA-')}"
        await self.send(f"<auth xmlns='{SASL_NS}' mechanism='{mech}'>{b64(scram.first())}</auth>")
        challenge = await self.next()
        assert challenge.tag == q(SASL_NS, "challenge"), challenge.tag
        await self.send(f"<response xmlns='{SASL_NS}'>"
                        f"{b64(scram.final(base64.b64decode(challenge.text)))}</response>")
        success = await self.next()
        assert success.tag == q(SASL_NS, "success"), success.tag
        scram.verify(base64.b64decode(success.text))

    async def bind(self, resource: str) -> str:
        features = await self.open()
        assert features.find(q(BIND_NS, "bind")) is not None
        await self.send(f"<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='{BIND_NS}'>"
                        f"<resource>{resource}</resource></bind></iq>")
        result = await self.next()
        assert result.get("type") == "result", ET.tostring(result)
        return result.find(f"{q(BIND_NS, 'bind')}/{q(BIND_NS, 'jid')}").text

    async def close(self) -> None:
        await self.ws.close()


class BoshClient:
    """Sequential BOSH requests over one HTTP/1.1 connection per request."""

    def __init__(self, server: Server, rid: int = 4242, wait: int = 10, hold: int = 1):
        self.server = server
        self.rid = rid
        self.wait = wait
        self.hold = hold
        self.sid: str | None = None
        self.last_raw = b""
        self.last_headers: dict[str, str] = {}

    def post_raw(self, data: bytes, timeout: float | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.http_port,
                                          timeout=timeout or self.wait + TIMEOUT)
        try:
            conn.request("POST", "/http-bind", body=data,
                         headers={"Content-Type": "text/xml; charset=utf-8"})
            resp = conn.getresponse()
            self.last_headers = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, resp.read()
        finally:
            conn.close()

    def body(self, payload: str = "", rid: int | None = None, **attrs: str) -> bytes:
        if rid is None:
            self.rid += 1
            rid = self.rid
        extra = "".join(f" {k.replace('__', ':')}={quoteattr(v)}" for k, v in attrs.items())
        sid = f" sid='{self.sid}'" if self.sid else ""
        return (f"<body xmlns='{HTTPBIND_NS}' xmlns:xmpp='{XBOSH_NS}' rid='{rid}'{sid}{extra}>"
                f"{payload}</body>").encode()

    def post(self, payload: str = "", rid: int | None = None, **attrs: str) -> ET.Element:
        status, raw = self.post_raw(self.body(payload, rid, **attrs))
        assert status == 200, (status, raw)
        self.last_raw = raw
        body = ET.fromstring(raw)
        assert body.tag == q(HTTPBIND_NS, "body"), body.tag
        return body

    def create(self) -> ET.Element:
        body = self.post(to=DOMAIN, wait=str(self.wait), hold=str(self.hold), ver="1.11",
                         xmpp__version="1.0")
        self.sid = body.get("sid")
        assert self.sid, ET.tostring(body)
        return body

    def next_children(self, payload: str = "", **attrs: str) -> list[ET.Element]:
        """Post, and poll with empty bodies until the server sends something."""
        body = self.post(payload, **attrs)
        for _ in range(3):
            if len(body) or body.get("type") == "terminate":
                break
            body = self.post()
        return list(body)

    def scram(self, user: str, password: str) -> None:
        scram = Scram("sha256", user, password)
        [challenge] = self.next_children(
            f"<auth xmlns='{SASL_NS}' mechanism='SCRAM-SHA-256'>{b64(scram.first())}</auth>")
        assert challenge.tag == q(SASL_NS, "challenge"), challenge.tag
        [success] = self.next_children(
            f"<response xmlns='{SASL_NS}'>{b64(scram.final(base64.b64decode(challenge.text)))}</response>")
        assert success.tag == q(SASL_NS, "success"), success.tag
        scram.verify(base64.b64decode(success.text))

    def restart_and_bind(self, resource: str) -> str:
        [features] = self.next_children(to=DOMAIN, xmpp__restart="true")
        assert features.tag == q(STREAM_NS, "features")
        assert features.find(q(BIND_NS, "bind")) is not None
        # The server may send more right after binding (the message of the day).
        result = self.next_children(
            f"<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='{BIND_NS}'>"
            f"<resource>{resource}</resource></bind></iq>")[0]
        assert result.get("type") == "result", ET.tostring(result)
        return result.find(f"{q(BIND_NS, 'bind')}/{q(BIND_NS, 'jid')}").text
