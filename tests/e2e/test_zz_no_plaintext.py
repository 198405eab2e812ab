"""Stored credentials are salted SCRAM keys (RFC 5802), never the password: no test password
appears anywhere in the data folder or the log. Named zz so it runs after the other modules
have used the shared server; it also makes its own account and password change."""

from e2e_client import Client, run


@run
async def test_no_password_in_data_folder_or_log(server):
    first, second = "lena-first-secret-pw-1", "lena-second-secret-pw-2"
    out = server.admin("adduser", "lena@example.test", stdin=first + "\n")
    assert out.returncode == 0, out.stderr
    out = server.admin("passwd", "lena@example.test", stdin=second + "\n")
    assert out.returncode == 0, out.stderr
    server.accounts["lena"] = second
    lena = Client(server, "lena", "check", mech="SCRAM-SHA-1")
    assert await lena.login()
    await lena.close()

    passwords = {first, second, *server.accounts.values()}
    files = [p for p in server.data_dir.rglob("*") if p.is_file()]
    assert files, f"no files in {server.data_dir}"
    for path in [*files, server.log, server.config]:
        data = path.read_bytes()
        for password in passwords:
            assert password.encode() not in data, f"a password is stored in {path.name}"


@run
async def test_no_client_address_in_the_info_log(server):
    # log_client_ips = false (examples/xmppd.toml): at info level the log names no client
    # address. Only the listeners' own addresses may appear. (Runs after the other modules,
    # so the log holds logins, failures, registrations and disconnects.)
    import os
    import re

    if os.environ.get("XMPPD_LOG", "info") != "info":
        raise AssertionError("run with the default XMPPD_LOG=info for this check")
    # Some activity of its own: a failed login, a login, a disconnect.
    bad = Client(server, "bob", "log-check", password="wrong-password-9", mech="SCRAM-SHA-256")
    assert not await bad.login()
    await bad.close()
    good = await Client(server, "bob", "log-check").online()
    await good.close()
    text = re.sub(r"\x1b\[[0-9;]*m", "", server.log.read_text(errors="replace"))
    leaks = [line for line in text.splitlines()
             if "127.0.0.1" in line and "listening" not in line]
    assert not leaks, leaks[:5]
