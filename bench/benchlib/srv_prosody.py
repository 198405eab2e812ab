"""Prosody 0.12 under test. Accounts are written straight into its internal_hashed store:
SCRAM-SHA-1 (RFC 5802) salt, StoredKey and ServerKey, 4096 iterations, as prosodyctl would."""

import hashlib
import hmac
import json
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

from .certs import DOMAIN, MUC
from .server import Server, USER_PREFIX, password

ITERATIONS = 4096


def _lua(s):
    return json.dumps(s)  # ASCII-only JSON strings are valid Lua string literals


def _encode_host(host):
    # Prosody's datamanager encodes every non-alphanumeric byte as %xx.
    return "".join(c if c.isalnum() else "%{:02x}".format(ord(c)) for c in host)


def scram_sha1(pw, salt, iterations=ITERATIONS):
    salted = hashlib.pbkdf2_hmac("sha1", pw.encode(), salt.encode(), iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
    stored_key = hashlib.sha1(client_key).hexdigest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha1).hexdigest()
    return stored_key, server_key


class Prosody(Server):
    name = "prosody"
    port = 25222
    process_names = ("lua5.4", "prosody")

    def configure(self):
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        data = os.path.join(self.dir, "data")
        os.makedirs(data, exist_ok=True)
        lines = [
            f"pidfile = {_lua(os.path.join(self.dir, 'prosody.pid'))}",
            f"data_path = {_lua(data)}",
            f"log = {{ warn = {_lua(os.path.join(self.dir, 'prosody.log'))} }}",
            'interfaces = { "127.0.0.1" }',
            f"c2s_ports = {{ {self.port} }}",
            "c2s_direct_tls_ports = { }",
            'network_backend = "epoll"',
            "c2s_require_encryption = true",
            "allow_unencrypted_plain_auth = false",
            "allow_registration = false",
            'authentication = "internal_hashed"',
            'storage = "internal"',
            # Same surface as xmppd: no s2s, no HTTP, no rate limits (mod_limits is not loaded).
            'modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "time", "version", '
            '"private", "vcard", "offline" }',
            'modules_disabled = { "s2s" }',
            f"ssl = {{ certificate = {_lua(self.cert)}, key = {_lua(self.key)} }}",
            f"VirtualHost {_lua(DOMAIN)}",
            f'Component {_lua(MUC)} "muc"',
            "restrict_room_creation = false",
            # XEP-0045 10.1.1 room locking would hold joiners until an owner configures the room.
            "muc_room_locking = false",
        ]
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def _write_account(self, accounts, i):
        salt = secrets.token_hex(16)
        stored, server = scram_sha1(password(i), salt)
        body = (f'return {{\n\t["iteration_count"] = {ITERATIONS};\n\t["salt"] = {_lua(salt)};\n'
                f'\t["stored_key"] = {_lua(stored)};\n\t["server_key"] = {_lua(server)};\n}};\n')
        with open(os.path.join(accounts, f"{USER_PREFIX}{i}.dat"), "w", encoding="ascii") as f:
            f.write(body)

    def register(self, n_users):
        accounts = os.path.join(self.dir, "data", _encode_host(DOMAIN), "accounts")
        os.makedirs(accounts, exist_ok=True)
        # hashlib releases the GIL during PBKDF2, so two threads use both cores.
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda i: self._write_account(accounts, i), range(1, n_users + 1)))
        self.chown("prosody")

    def command(self):
        return ["/usr/bin/prosody", "--config", self.config, "-F"]

    def popen_kwargs(self):
        return {"user": "prosody", "group": "prosody", "extra_groups": []}
