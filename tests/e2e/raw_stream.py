"""A minimal raw XMPP client over a socket, for what a library hides: the exact features
before and after TLS, SASL exchanges byte by byte (SCRAM-PLUS with channel binding), stream
errors. Every read has a deadline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import ssl
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from conftest import DOMAIN, Server

STREAM_NS = "http://etherx.jabber.org/streams"
TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"
SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl"
STREAMS_ERR_NS = "urn:ietf:params:xml:ns:xmpp-streams"
BIND_NS = "urn:ietf:params:xml:ns:xmpp-bind"
TIMEOUT = 10.0


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


class StreamClosed(Exception):
    """The server closed the stream (`</stream:stream>`) or the connection."""


class RawStream:
    def __init__(self, server: Server, direct_tls: bool = False, alpn: list[str] | None = None):
        self.server = server
        port = server.direct_tls_port if direct_tls else server.c2s_port
        self.sock: socket.socket | ssl.SSLSocket = socket.create_connection(
            ("127.0.0.1", port), timeout=TIMEOUT
        )
        self.closed = False
        if direct_tls:
            self._wrap_tls(alpn)

    def tls_context(self, alpn: list[str] | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.server.ca))
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx

    def _wrap_tls(self, alpn: list[str] | None = None) -> None:
        self.sock = self.tls_context(alpn).wrap_socket(self.sock, server_hostname=DOMAIN)

    def send(self, data: str | bytes) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def open(self) -> ET.Element:
        """Send a stream header; return the server's `<stream:features/>`."""
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._pending: list[ET.Element] = []
        self.stream_attrs: dict[str, str] | None = None
        self.send(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            f"xmlns:stream='{STREAM_NS}' to={quoteattr(DOMAIN)} version='1.0'>"
        )
        features = self.next()
        assert features.tag == q(STREAM_NS, "features"), f"expected features, got {features.tag}"
        assert self.stream_attrs is not None
        return features

    def next(self, timeout: float = TIMEOUT) -> ET.Element:
        """The next top-level element; StreamClosed when the stream or socket ends first."""
        deadline = time.monotonic() + timeout
        while not self._pending:
            if self.closed:
                raise StreamClosed()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no element from the server within {timeout}s")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, ssl.SSLError):
                data = b""
            if not data:
                self.closed = True
                continue
            self._parser.feed(data)
            for event, elem in self._parser.read_events():
                if event == "start":
                    self._depth += 1
                    if self._depth == 1:
                        self.stream_attrs = dict(elem.attrib)
                else:
                    self._depth -= 1
                    if self._depth == 1:
                        self._pending.append(elem)
                    elif self._depth == 0:
                        self.closed = True
        return self._pending.pop(0)

    def starttls(self, openssl: bool = False) -> ET.Element:
        """STARTTLS (RFC 6120 §5): returns the features of the secured stream. With `openssl`,
        TLS runs through pyOpenSSL, whose connection can export keying material (RFC 5705)."""
        self.send(f"<starttls xmlns='{TLS_NS}'/>")
        proceed = self.next()
        assert proceed.tag == q(TLS_NS, "proceed"), f"expected proceed, got {proceed.tag}"
        if openssl:
            self.sock = OpenSSLSocket(self.sock, self.server.ca)
        else:
            self._wrap_tls()
        return self.open()

    def stream_error(self, timeout: float = TIMEOUT) -> str:
        """Read until a stream error arrives; return its condition."""
        while True:
            elem = self.next(timeout)
            if elem.tag == q(STREAM_NS, "error"):
                conditions = [c.tag.split("}")[1] for c in elem if c.tag.startswith(f"{{{STREAMS_ERR_NS}}}")
                              and not c.tag.endswith("}text")]
                return conditions[0]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class OpenSSLSocket:
    """Just enough of a socket over a pyOpenSSL connection for RawStream, with timeouts."""

    def __init__(self, sock: socket.socket, ca: "os.PathLike[str]"):
        try:
            from OpenSSL import SSL  # pyOpenSSL: Python's ssl has no exporter before 3.13
        except ImportError:
            raise AssertionError("pyOpenSSL is missing: python3 -m pip install pyopenssl") from None

        ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
        ctx.load_verify_locations(str(ca))
        ctx.set_verify(SSL.VERIFY_PEER, lambda *args: args[-1])
        self._ssl = SSL
        self.raw = sock
        self.raw.settimeout(None)
        self.conn = SSL.Connection(ctx, sock)
        self.conn.set_tlsext_host_name(DOMAIN.encode())
        self.conn.set_connect_state()
        self.conn.do_handshake()
        self.timeout = TIMEOUT

    def settimeout(self, timeout: float) -> None:
        self.timeout = timeout

    def sendall(self, data: bytes) -> None:
        self.conn.sendall(data)

    def recv(self, n: int) -> bytes:
        import select

        deadline = time.monotonic() + self.timeout
        while True:
            if self.conn.pending() == 0:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.raw], [], [], left)[0]:
                    raise socket.timeout()
            try:
                return self.conn.recv(n)
            except self._ssl.WantReadError:
                continue
            except (self._ssl.ZeroReturnError, self._ssl.SysCallError):
                return b""

    def exporter(self) -> bytes:
        """RFC 9266: the tls-exporter channel binding (32 bytes, no context)."""
        return self.conn.export_keying_material(b"EXPORTER-Channel-Binding", 32, None)

    def version(self) -> str:
        return self.conn.get_protocol_version_name()

    def close(self) -> None:
        self.raw.close()


def mechanisms(features: ET.Element) -> list[str]:
    mechs = features.find(q(SASL_NS, "mechanisms"))
    return [] if mechs is None else [m.text for m in mechs.findall(q(SASL_NS, "mechanism"))]


def tls_server_end_point(cert_der: bytes) -> bytes:
    """RFC 5929 §4.1: hash of the server certificate; SHA-256 for SHA-256/ECDSA signatures."""
    return hashlib.sha256(cert_der).digest()


class Scram:
    """Client side of SCRAM (RFC 5802 / RFC 7677), with optional channel binding."""

    def __init__(self, hash_name: str, user: str, password: str,
                 cb_type: str | None = None, cb_data: bytes = b""):
        self.hash_name = hash_name
        self.user = user
        self.password = password
        self.gs2 = f"p={cb_type},," if cb_type else "n,,"
        self.cb_data = cb_data
        self.nonce = base64.b64encode(os.urandom(18)).decode()

    def first(self) -> bytes:
        self.first_bare = f"n={self.user},r={self.nonce}"
        return (self.gs2 + self.first_bare).encode()

    def final(self, server_first: bytes) -> bytes:
        self.server_first = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in self.server_first.split(","))
        assert attrs["r"].startswith(self.nonce)
        salt, iterations = base64.b64decode(attrs["s"]), int(attrs["i"])
        salted = hashlib.pbkdf2_hmac(self.hash_name, self.password.encode(), salt, iterations)
        client_key = hmac.digest(salted, b"Client Key", self.hash_name)
        stored = hashlib.new(self.hash_name, client_key).digest()
        cbind = base64.b64encode(self.gs2.encode() + self.cb_data).decode()
        without_proof = f"c={cbind},r={attrs['r']}"
        auth_message = f"{self.first_bare},{self.server_first},{without_proof}".encode()
        signature = hmac.digest(stored, auth_message, self.hash_name)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.digest(salted, b"Server Key", self.hash_name)
        self.expected_server_signature = hmac.digest(server_key, auth_message, self.hash_name)
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: bytes) -> None:
        attrs = dict(kv.split("=", 1) for kv in server_final.decode().split(","))
        assert base64.b64decode(attrs["v"]) == self.expected_server_signature, "bad server signature"


def sasl_exchange(stream: RawStream, mechanism: str, scram: Scram) -> tuple[bool, ET.Element]:
    """Run one SCRAM exchange; (True, success) or (False, failure element)."""
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    stream.send(f"<auth xmlns='{SASL_NS}' mechanism={quoteattr(mechanism)}>{b64(scram.first())}</auth>")
    reply = stream.next()
    if reply.tag == q(SASL_NS, "failure"):
        return False, reply
    assert reply.tag == q(SASL_NS, "challenge"), f"expected challenge, got {reply.tag}"
    stream.send(f"<response xmlns='{SASL_NS}'>{b64(scram.final(base64.b64decode(reply.text)))}</response>")
    reply = stream.next()
    if reply.tag == q(SASL_NS, "failure"):
        return False, reply
    assert reply.tag == q(SASL_NS, "success"), f"expected success, got {reply.tag}"
    scram.verify(base64.b64decode(reply.text))
    return True, reply


def failure_condition(failure: ET.Element) -> str:
    return [c.tag.split("}")[1] for c in failure if not c.tag.endswith("}text")][0]


def secured(server: Server) -> tuple[RawStream, ET.Element]:
    stream = RawStream(server)
    stream.open()
    return stream, stream.starttls()


def logged_in(server: Server, user: str, resource: str = "raw") -> RawStream:
    """A raw stream authenticated with SCRAM-SHA-256 and bound to `resource`."""
    stream, _ = secured(server)
    ok, _ = sasl_exchange(stream, "SCRAM-SHA-256", Scram("sha256", user, server.accounts[user]))
    assert ok, f"{user} could not log in"
    features = stream.open()
    assert features.find(q(BIND_NS, "bind")) is not None
    stream.send(f"<iq type='set' id='bind1'><bind xmlns='{BIND_NS}'><resource>{resource}</resource></bind></iq>")
    reply = stream.next()
    assert reply.get("type") == "result", ET.tostring(reply)
    return stream
