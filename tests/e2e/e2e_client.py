"""A slixmpp client for tests: trusts the test CA, connects to 127.0.0.1, and exposes awaitable
queues of what it receives. Every wait has a timeout, so a missing stanza fails a test."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Awaitable, Callable

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from conftest import Server

WAIT = 10.0
PLUGINS = [
    "xep_0012",
    "xep_0030",
    "xep_0049",
    "xep_0054",
    "xep_0077",
    "xep_0092",
    "xep_0199",
    "xep_0202",
    "xep_0203",
]

logging.getLogger("slixmpp").setLevel(logging.CRITICAL)


def run(coro_fn: Callable[..., Awaitable[Any]]):
    """Run an async test body in its own event loop (keeps pytest plugins out of the way)."""

    @functools.wraps(coro_fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(asyncio.wait_for(coro_fn(*args, **kwargs), timeout=90))

    return wrapper


async def take(queue: asyncio.Queue, what: str, timeout: float = WAIT,
               match: Callable[[Any], bool] | None = None):
    """The next item of `queue` for which `match` holds; items that do not match are dropped."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        try:
            item = await asyncio.wait_for(queue.get(), timeout=left)
        except asyncio.TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None
        if match is None or match(item):
            return item


async def until(queue: asyncio.Queue, what: str, match: Callable[[Any], bool],
                timeout: float = WAIT) -> list:
    """Every item up to and including the first that matches (nothing is dropped)."""
    seen: list = []

    def keep(item) -> bool:
        seen.append(item)
        return match(item)

    await take(queue, what, timeout, keep)
    return seen


def drain(queue: asyncio.Queue) -> list:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


class Client(slixmpp.ClientXMPP):
    """One logged-in (or trying to log in) test user."""

    def __init__(self, server: Server, user: str, resource: str = "test", *,
                 password: str | None = None, mech: str | None = None,
                 direct_tls: bool = False, auto_roster: bool = False):
        if password is None:
            password = server.accounts[user]
        super().__init__(f"{user}@{server.domain}/{resource}", password, sasl_mech=mech)
        self.srv = server
        self.ca_certs = server.ca
        self.enable_plaintext = False
        self.enable_direct_tls = direct_tls
        self.enable_starttls = not direct_tls
        self.port = server.direct_tls_port if direct_tls else server.c2s_port
        if direct_tls:
            # XEP-0368: direct TLS on the c2s port announces ALPN xmpp-client.
            self.ssl_context.set_alpn_protocols(["xmpp-client"])
        # Subscriptions are decided by the tests, not by the library.
        # (None: neither approve nor refuse, leave the request to the test.)
        self.roster.auto_authorize = True if auto_roster else None
        self.roster.auto_subscribe = auto_roster
        for plugin in PLUGINS:
            self.register_plugin(plugin)
        self.messages: asyncio.Queue = asyncio.Queue()
        self.presences: asyncio.Queue = asyncio.Queue()
        self.roster_pushes: asyncio.Queue = asyncio.Queue()
        self.stream_errors: asyncio.Queue = asyncio.Queue()
        self.disconnects: asyncio.Queue = asyncio.Queue()
        self._outcome: asyncio.Future = asyncio.get_running_loop().create_future()
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("failed_auth", self._on_failed_auth)
        self.add_event_handler("message", self.messages.put_nowait)
        self.add_event_handler("presence", self.presences.put_nowait)
        self.add_event_handler("stream_error", self.stream_errors.put_nowait)
        self.add_event_handler("disconnected", self.disconnects.put_nowait)
        self.register_handler(Callback(
            "e2e roster push",
            MatchXPath("{jabber:client}iq/{jabber:iq:roster}query"),
            lambda iq: iq["type"] == "set" and self.roster_pushes.put_nowait(iq),
        ))

    def _on_session_start(self, _event) -> None:
        if not self._outcome.done():
            self._outcome.set_result(True)

    def _on_failed_auth(self, _event) -> None:
        if not self._outcome.done():
            self._outcome.set_result(False)

    async def login(self, timeout: float = WAIT) -> bool:
        """Connect and authenticate; True once bound, False if SASL failed."""
        self.connect(self.srv.host, self.port)
        try:
            return await asyncio.wait_for(asyncio.shield(self._outcome), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"{self.boundjid} neither logged in nor failed within {timeout}s"
            ) from None

    async def online(self, priority: int | None = None, roster: bool = True) -> "Client":
        """Log in, fetch the roster and send initial presence."""
        assert await self.login(), f"{self.requested_jid} could not log in"
        if roster:
            await self.get_roster(timeout=WAIT)
        self.send_presence(ppriority=priority)
        return self

    async def close(self) -> None:
        if self.transport is not None:
            await asyncio.wait_for(self.disconnect(wait=1.0), WAIT)

    async def message(self, what: str = "a message", timeout: float = WAIT,
                      match: Callable[[Any], bool] | None = None):
        return await take(self.messages, what, timeout, match)

    async def chat(self, body: str, timeout: float = WAIT):
        """The message whose body is `body` (the server's MOTD and such are skipped)."""
        return await self.message(f"message {body!r}", timeout, lambda m: m["body"] == body)

    async def before(self, body: str, timeout: float = WAIT) -> list[str]:
        """Wait for the message `body` (a barrier); return the bodies that arrived before it."""
        seen = await until(self.messages, f"message {body!r}", lambda m: m["body"] == body, timeout)
        return [m["body"] for m in seen[:-1]]

    async def presence(self, what: str, match: Callable[[Any], bool], timeout: float = WAIT):
        return await take(self.presences, what, timeout, match)

    async def roster_push(self, jid: str, match: Callable[[Any], bool] | None = None,
                          timeout: float = WAIT):
        def ok(iq) -> bool:
            items = iq["roster"]["items"]
            return jid in items and (match is None or match(items[jid]))

        return await take(self.roster_pushes, f"roster push for {jid}", timeout, ok)


async def online(server: Server, user: str, resource: str = "test", **kw) -> Client:
    return await Client(server, user, resource, **kw).online()
