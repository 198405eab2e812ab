"""The web registration page: form with CSRF token and password rules, an account created by
submitting it logs in with slixmpp; missing, wrong and replayed tokens, weak passwords and
too many submissions are refused; the password is never echoed."""

import http.client
import re
import urllib.parse

from e2e_client import Client, run

DOMAIN = "example.test"


def request(server, method: str = "GET", fields: dict | None = None, headers: dict | None = None,
            source: str = "127.0.0.1"):
    """One request from `source` (any 127.0.0.0/8 address: each test has its own, so the
    per-address limit of one test does not reach the others)."""
    headers = dict(headers or {})
    body = None
    if fields is not None:
        body = urllib.parse.urlencode(fields).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30,
                                      source_address=(source, 0))
    try:
        conn.request(method, "/register", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        conn.close()


def token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def fresh_token(server) -> str:
    status, _, page = request(server)
    assert status == 200
    return token(page)


def submit(server, source: str, username: str, password: str, csrf: str | None,
           confirm: str | None = None, headers: dict | None = None):
    fields = {"username": username, "domain": DOMAIN, "password": password,
              "confirm": password if confirm is None else confirm}
    if csrf is not None:
        fields["csrf"] = csrf
    return request(server, "POST", fields, headers, source)


async def logs_in(server, user: str, password: str) -> bool:
    client = Client(server, user, "web", password=password)
    try:
        return await client.login()
    finally:
        await client.close()


@run
async def test_form_shows_rules_and_safe_headers(server):
    status, headers, page = request(server)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "at least 8 characters" in page
    assert 'name="password"' in page and token(page)
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    # Each form has a token of its own.
    assert token(page) != fresh_token(server)


@run
async def test_registration_creates_an_account_that_logs_in(server):
    password = "web-secret-pw-12345"
    status, _, page = submit(server, "127.0.0.21", "webuser", password, fresh_token(server))
    assert status == 200, page
    assert f"webuser@{DOMAIN}" in page and password not in page
    assert await logs_in(server, "webuser", password)
    # The same name again is taken; the password is not echoed in the refusal either.
    status, _, page = submit(server, "127.0.0.21", "webuser", "another-secret-pw-1", fresh_token(server))
    assert status == 409 and "another-secret-pw-1" not in page and "taken" in page


@run
async def test_tokens_are_required_signed_and_single_use(server):
    password = "web-secret-pw-67890"
    status, _, page = submit(server, "127.0.0.22", "nocsrf", password, None)
    assert status == 403 and password not in page
    good = fresh_token(server)
    forged = good[:-4] + ("0000" if not good.endswith("0000") else "1111")
    status, _, _ = submit(server, "127.0.0.22", "nocsrf", password, forged)
    assert status == 403
    assert not await logs_in(server, "nocsrf", password)
    status, _, _ = submit(server, "127.0.0.22", "csrfonce", password, good)
    assert status == 200
    status, _, _ = submit(server, "127.0.0.22", "csrfagain", password, good)
    assert status == 403
    assert not await logs_in(server, "csrfagain", password)


@run
async def test_password_rules_are_enforced(server):
    status, _, page = submit(server, "127.0.0.23", "weakling", "short", fresh_token(server))
    assert status == 400 and "at least 8 characters" in page and 'value="short"' not in page
    status, _, page = submit(server, "127.0.0.23", "weakling", "long-enough-pw-1", fresh_token(server),
                             confirm="long-enough-pw-2")
    assert status == 400 and "differ" in page
    status, _, _ = submit(server, "127.0.0.23", "bad user@x", "long-enough-pw-1", fresh_token(server))
    assert status == 400
    assert not await logs_in(server, "weakling", "long-enough-pw-1")


@run
async def test_submissions_are_rate_limited_per_address(own_server):
    server = own_server(trusted_proxies='["127.0.0.1"]')
    forwarded = {"X-Forwarded-For": "192.0.2.7"}
    for _ in range(5):
        status, _, _ = submit(server, "127.0.0.1", "spam", "x", "bad-token", headers=forwarded)
        assert status == 403
    status, _, _ = submit(server, "127.0.0.1", "spam", "long-enough-pw-1", fresh_token(server), headers=forwarded)
    assert status == 429
    # From a trusted proxy, another client address has its own budget.
    status, _, _ = submit(server, "127.0.0.1", "ham", "long-enough-pw-1", fresh_token(server),
                          headers={"X-Forwarded-For": "192.0.2.8"})
    assert status == 200


@run
async def test_forwarded_for_is_ignored_from_untrusted_peers(own_server):
    server = own_server()
    for n in range(5):
        submit(server, "127.0.0.24", "spam", "x", "bad-token", headers={"X-Forwarded-For": f"192.0.2.{n}"})
    status, _, _ = submit(server, "127.0.0.24", "eggs", "long-enough-pw-1", fresh_token(server),
                          headers={"X-Forwarded-For": "192.0.2.99"})
    assert status == 429
