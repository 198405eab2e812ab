"""A web client in a real browser: Strophe.js (Debian libjs-strophe) in headless Chromium logs
in over BOSH and over WebSocket and exchanges messages with a slixmpp client."""

from __future__ import annotations

import asyncio
import queue
import shutil
import threading
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from e2e_client import online, run

STROPHE = Path("/usr/share/javascript/strophe/strophe.js")
PAGE = Path(__file__).parent / "web" / "strophe_login.html"
BROWSER_WAIT = 60.0


class PageHandler(SimpleHTTPRequestHandler):
    """Serves the page and Strophe.js; POST /result hands the page's verdict to the test."""

    results: "queue.Queue[str]"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = min(int(self.headers.get("Content-Length", "0")), 4096)
        self.results.put(self.rfile.read(length).decode(errors="replace"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


def serve_page(folder: Path) -> tuple[ThreadingHTTPServer, "queue.Queue[str]"]:
    shutil.copy(PAGE, folder / PAGE.name)
    shutil.copy(STROPHE, folder / "strophe.js")
    results: "queue.Queue[str]" = queue.Queue()
    handler = type("Handler", (PageHandler,), {"results": results})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, results


@pytest.mark.parametrize("transport", ["bosh", "websocket"])
def test_strophe_in_chromium_logs_in_and_chats(server, tmp_path, transport):
    chromium = shutil.which("chromium")
    assert chromium and STROPHE.exists(), "needs Debian chromium and libjs-strophe (scripts/test.sh)"
    user = server.new_account(f"web{transport}").split("@")[0]
    server.new_account(f"webpeer{transport}")
    httpd, results = serve_page(tmp_path)
    try:
        chat(server, tmp_path, chromium, httpd, results, transport, user)
    finally:
        httpd.shutdown()


@run
async def chat(server, tmp_path, chromium, httpd, results, transport, user):
    peer = await online(server, f"webpeer{transport}")
    service = {
        "bosh": f"http://127.0.0.1:{server.http_port}/http-bind",
        "websocket": f"ws://127.0.0.1:{server.http_port}/xmpp-websocket",
    }[transport]
    query = urllib.parse.urlencode({
        "service": service,
        "jid": f"{server.jid(user)}/browser",
        "password": server.accounts[user],
        "peer": peer.boundjid.full,
        "say": f"hello from {transport}",
        "expect": f"reply over {transport}",
    })
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{PAGE.name}?{query}"
    browser = await asyncio.create_subprocess_exec(
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", url,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        hello = await peer.chat(f"hello from {transport}", timeout=BROWSER_WAIT)
        assert str(hello["from"]) == f"{server.jid(user)}/browser"
        peer.send_message(mto=hello["from"], mbody=f"reply over {transport}", mtype="chat")
        verdict = await asyncio.to_thread(results.get, True, BROWSER_WAIT)
        assert verdict == f"ok {server.jid(user)}/browser", verdict
    finally:
        browser.kill()
        await browser.wait()
        await peer.close()
