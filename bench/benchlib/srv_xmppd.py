"""xmppd under test: config from examples/xmppd.toml's shape, with bench limits and PLAIN."""

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

from .certs import DOMAIN, MUC
from .server import Server, USER_PREFIX, password


def _q(s):
    return json.dumps(s)  # a JSON string is a valid TOML basic string


class Xmppd(Server):
    name = "xmppd"
    port = 15222
    process_names = ("xmppd",)

    def __init__(self, binary, *args):
        super().__init__(*args)
        self.binary = binary
        self.config = os.path.join(self.dir, "xmppd.toml")

    def configure(self):
        lines = [
            f"data_dir = {_q(os.path.join(self.dir, 'data'))}",
            # The peers' module set (srv_prosody.py, srv_ejabberd.py), so no server does work
            # the others skip: no message archive, carbons or push on the 1:1 path.
            'modules = ["roster", "disco", "ping", "time", "version", "private", "vcard", '
            '"offline"]',
            "",
            "[[vhost]]",
            f"domain = {_q(DOMAIN)}",
            f"certificate = {_q(self.cert)}",
            f"key = {_q(self.key)}",
            "",
            "[listeners]",
            f"c2s_starttls = [{_q(f'127.0.0.1:{self.port}')}]",
            "",
            "[tls]",
            'min_version = "1.2"',
            "c2s_require_encryption = true",
            "",
            "[auth]",
            'mechanisms = ["SCRAM-SHA-1", "PLAIN"]',
            "allow_plain = true",
            "scram_iterations = 4096",
            "",
            "[auth.throttle]",
            "failures_per_account_per_minute = 1000000",
            "failures_per_address_per_minute = 1000000",
            "",
            "[limits]",
            "connections_per_ip = 1000000",
            "",
            "[muc]",
            f"domain = {_q(MUC)}",
            'room_creation = "local"',
            # tsung never configures the room it creates; Prosody runs with room locking off.
            "lock_new_rooms = false",
            "",
            "[logging]",
            'level = "warn"',
        ]
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run([self.binary, "check", "-c", self.config], check=True,
                       capture_output=True)

    def _add(self, i):
        subprocess.run([self.binary, "adduser", "-c", self.config, f"{USER_PREFIX}{i}@{DOMAIN}"],
                       input=password(i) + "\n", text=True, check=True, capture_output=True)

    def register(self, n_users):
        # No bulk path yet: one `adduser` per account. The first creates the database alone
        # (concurrent first opens race on the schema migration); then two at a time (WAL).
        self._add(1)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(self._add, range(2, n_users + 1)))

    def command(self):
        return [self.binary, "run", "-c", self.config]
