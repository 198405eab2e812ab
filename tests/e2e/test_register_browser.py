"""The registration page in a real browser: headless Chromium, driven over the DevTools
protocol, fills in the form and submits it; the new account then logs in with slixmpp."""

import asyncio
import json
import shutil
import subprocess
import time
import urllib.request

import aiohttp
import pytest

from e2e_client import Client, run

DOMAIN = "example.test"
WAIT = 30.0


def start_chromium(profile) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed (scripts/test.sh installs it)")
    proc = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return proc, int(port_file.read_text().split()[0])
        if proc.poll() is not None:
            pytest.fail(f"chromium exited with {proc.returncode}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail("chromium did not open its DevTools port")


class Page:
    """One tab, spoken to over its DevTools WebSocket."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    async def call(self, method: str, **params):
        self.next_id += 1
        await self.ws.send_str(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads((await asyncio.wait_for(self.ws.receive(), WAIT)).data)
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]

    async def js(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def until(self, expression: str, what: str):
        """Polls `expression` until it is truthy (the page loads on its own time)."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while asyncio.get_running_loop().time() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")


@run
async def test_browser_registers_an_account_that_logs_in(server, tmp_path):
    proc, port = await asyncio.to_thread(start_chromium, tmp_path / "chromium")
    try:
        targets = json.loads(await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read()))
        page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with aiohttp.ClientSession() as session, session.ws_connect(page_ws) as ws:
            page = Page(ws)
            await page.call("Page.navigate", url=f"http://127.0.0.1:{server.http_port}/register")
            rules = await page.until(
                "document.readyState === 'complete' && document.getElementById('rules')"
                " && document.getElementById('rules').textContent", "the registration form")
            assert "at least 8 characters" in rules
            password = "browser-secret-pw-1"
            await page.js(
                "document.getElementById('username').value = 'browseruser';"
                f"document.getElementById('password').value = '{password}';"
                f"document.getElementById('confirm').value = '{password}';"
                "document.getElementById('submit').click(); true")
            jid = await page.until(
                "document.getElementById('jid') && document.getElementById('jid').textContent",
                "the success page")
            assert jid == f"browseruser@{DOMAIN}"
            assert password not in await page.js("document.documentElement.outerHTML")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    client = Client(server, "browseruser", "web", password=password)
    try:
        assert await client.login()
    finally:
        await client.close()
