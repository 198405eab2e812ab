"""XEP-0156: xmppd lists its BOSH and WebSocket URLs, built from http.public_url."""

from __future__ import annotations

import json
import urllib.request
import xml.etree.ElementTree as ET

XRD_NS = "http://docs.oasis-open.org/ns/xri/xrd-1.0"
BOSH = "https://example.test/http-bind"
WEBSOCKET = "wss://example.test/xmpp-websocket"


def get(server, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}{path}", timeout=10) as resp:
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


def test_host_meta_xrd(server):
    status, headers, body = get(server, "/.well-known/host-meta")
    assert status == 200 and headers["content-type"].startswith("application/xrd+xml")
    assert headers["access-control-allow-origin"] == "*"
    root = ET.fromstring(body)
    assert root.tag == f"{{{XRD_NS}}}XRD"
    links = {link.get("rel"): link.get("href") for link in root.iter(f"{{{XRD_NS}}}Link")}
    assert links == {
        "urn:xmpp:alt-connections:xbosh": BOSH,
        "urn:xmpp:alt-connections:websocket": WEBSOCKET,
    }


def test_host_meta_json(server):
    status, headers, body = get(server, "/.well-known/host-meta.json")
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert headers["access-control-allow-origin"] == "*"
    links = {link["rel"]: link["href"] for link in json.loads(body)["links"]}
    assert links == {
        "urn:xmpp:alt-connections:xbosh": BOSH,
        "urn:xmpp:alt-connections:websocket": WEBSOCKET,
    }
