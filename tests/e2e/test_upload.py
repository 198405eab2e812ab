"""XEP-0363 HTTP File Upload: discovery, slots, PUT and GET through xmppd's HTTP port, limits."""

import asyncio
import io
import os
import urllib.error
import urllib.request

from slixmpp.exceptions import IqError

from e2e_client import Client, run

DOMAIN = "example.test"
UPLOAD = "upload.example.test"
NS = "urn:xmpp:http:upload:0"


def http(method: str, url: str, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of one request; 4xx/5xx are answers, not exceptions."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


async def ahttp(*args, **kwargs):
    return await asyncio.to_thread(http, *args, **kwargs)


async def uploader(server, user: str) -> Client:
    client = Client(server, user, "upload")
    client.register_plugin("xep_0363")
    return await client.online()


async def slot(client: Client, name: str, size: int, content_type: str = "text/plain"):
    iq = await client.plugin["xep_0363"].request_slot(UPLOAD, name, size, content_type, timeout=10)
    return iq["http_upload_slot"]["put"]["url"], iq["http_upload_slot"]["get"]["url"]


async def expect_error(awaitable, condition: str):
    try:
        await awaitable
    except IqError as err:
        assert err.iq["error"]["condition"] == condition, err.iq
        return err.iq
    raise AssertionError(f"expected <{condition}/>")


@run
async def test_service_is_discoverable(server):
    alice = await uploader(server, "alice")
    try:
        items = await alice.plugin["xep_0030"].get_items(jid=DOMAIN, timeout=10)
        assert UPLOAD in {item[0] for item in items["disco_items"]["items"]}
        info = await alice.plugin["xep_0030"].get_info(jid=UPLOAD, timeout=10)
        assert ("store", "file") in {i[:2] for i in info["disco_info"]["identities"]}
        assert NS in info["disco_info"]["features"]
        found = await alice.plugin["xep_0363"].find_upload_service(timeout=10)
        assert found is not None and found["from"] == UPLOAD
        forms = [f["values"] for f in found["disco_info"].iterables]
        assert any(v.get("max-file-size") == "10485760" for v in forms), forms
    finally:
        await alice.close()


@run
async def test_upload_then_download_byte_identical_with_safe_headers(server):
    alice = await uploader(server, "alice")
    try:
        data = os.urandom(50_000) + b"<script>alert(1)</script>"
        url = await alice.plugin["xep_0363"].upload_file(
            "../notes <1>.html", input_file=io.BytesIO(data), content_type="text/html", timeout=10
        )
        assert url.startswith(f"http://127.0.0.1:{server.http_port}/upload/"), url
        assert "/../" not in url and "notes%20%3C1%3E.html" in url
        status, headers, body = await ahttp("GET", url)
        assert status == 200 and body == data
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "sandbox" in headers["Content-Security-Policy"]
        assert headers["Content-Disposition"].startswith("attachment;")
        assert headers["Content-Type"] == "text/html"
        assert headers["Access-Control-Allow-Origin"] == "*"
        # A web client's preflight before a cross-origin PUT.
        status, headers, _ = await ahttp("OPTIONS", url)
        assert status == 204 and "PUT" in headers["Access-Control-Allow-Methods"]
        # The slot was used: a second PUT to the same URL is refused, the file stays.
        status, _, _ = await ahttp("PUT", url, data=b"x" * len(data),
                                   headers={"Content-Type": "text/html"})
        assert status == 403
        assert (await ahttp("GET", url))[2] == data
        # Images show inline.
        png = b"\x89PNG\r\n\x1a\n" + os.urandom(100)
        image = await alice.plugin["xep_0363"].upload_file(
            "cat.png", input_file=io.BytesIO(png), content_type="image/png", timeout=10
        )
        status, headers, body = await ahttp("GET", image)
        assert status == 200 and body == png and headers["Content-Disposition"].startswith("inline;")
    finally:
        await alice.close()


@run
async def test_bad_slots_and_paths_are_refused(server):
    bob = await uploader(server, "bob")
    try:
        put, get = await slot(bob, "a.txt", 10)
        base, _, name = put.rpartition("/")
        forged = base[:-32] + "0" * 32 + "/" + name
        assert (await ahttp("PUT", forged, b"0123456789", {"Content-Type": "text/plain"}))[0] == 403
        # Wrong content type, then wrong size: each spends the slot, nothing is stored.
        assert (await ahttp("PUT", put, b"0123456789", {"Content-Type": "image/png"}))[0] == 400
        assert (await ahttp("GET", get))[0] == 404
        put, get = await slot(bob, "b.txt", 10)
        assert (await ahttp("PUT", put, b"0123", {"Content-Type": "text/plain"}))[0] == 400
        assert (await ahttp("PUT", put, b"0123456789", {"Content-Type": "text/plain"}))[0] == 403
        assert (await ahttp("GET", get))[0] == 404
        # Nothing from the URL reaches the filesystem unchecked.
        root = f"http://127.0.0.1:{server.http_port}/upload"
        for path in ("..%2F..%2Fxmppd.toml/x", "%2E%2E/xmppd.sqlite", "0/x"):
            assert (await ahttp("GET", f"{root}/{path}"))[0] == 404
    finally:
        await bob.close()


@run
async def test_size_and_quota_limits(own_server):
    server = own_server(max_file_bytes="1000", quota_bytes_per_user="2500")
    carol = await uploader(server, "carol")
    try:
        error = await expect_error(slot(carol, "big.bin", 1001), "not-acceptable")
        too_large = error.xml.find(f".//{{{NS}}}file-too-large/{{{NS}}}max-file-size")
        assert too_large is not None and too_large.text == "1000"
        for name in ("one.bin", "two.bin"):
            put, get = await slot(carol, name, 1000, "application/octet-stream")
            body = os.urandom(1000)
            status, _, _ = await ahttp("PUT", put, body, {"Content-Type": "application/octet-stream"})
            assert status == 201
            assert (await ahttp("GET", get))[2] == body
        # 2000 stored, 1000 more would pass the quota of 2500; 500 still fits.
        await expect_error(slot(carol, "three.bin", 1000), "resource-constraint")
        await slot(carol, "small.bin", 500)
        # Another user's quota is their own.
        dave = await uploader(server, "dave")
        try:
            await slot(dave, "d.bin", 1000)
        finally:
            await dave.close()
    finally:
        await carol.close()
