"""ejabberd 23.01 under test. Accounts go in through its HTTP API (`register`), one keep-alive
connection, so ejabberd computes its own SCRAM-SHA-1 credentials (4096 iterations)."""

import http.client
import json
import os

from .certs import DOMAIN, MUC
from .server import Server, USER_PREFIX, password

API_PORT = 35280


def _y(s):
    return json.dumps(s)  # JSON scalars are valid YAML flow scalars


class Ejabberd(Server):
    name = "ejabberd"
    port = 35222
    process_names = ("beam.smp",)

    def configure(self):
        self.config = os.path.join(self.dir, "ejabberd.yml")
        self.ctl = os.path.join(self.dir, "ejabberdctl.cfg")
        self.spool = os.path.join(self.dir, "spool")
        self.logs = os.path.join(self.dir, "logs")
        for d in (self.spool, self.logs):
            os.makedirs(d, exist_ok=True)
        yml = [
            f"hosts: [{_y(DOMAIN)}]",
            "loglevel: warning",
            f"certfiles: [{_y(self.combined)}]",
            "listen:",
            f"  - port: {self.port}",
            '    ip: "127.0.0.1"',
            "    module: ejabberd_c2s",
            "    starttls_required: true",
            "    max_stanza_size: 262144",
            f"  - port: {API_PORT}",
            '    ip: "127.0.0.1"',
            "    module: ejabberd_http",
            "    request_handlers:",
            "      /api: mod_http_api",
            "auth_method: internal",
            "auth_password_format: scram",
            "auth_scram_hash: sha",
            "s2s_access: none",
            # No shapers and no connection limits: equal footing with the others.
            "shaper: {}",
            "shaper_rules: {}",
            "api_permissions:",
            '  "bench":',
            "    from: [mod_http_api]",
            "    who:",
            '      ip: "127.0.0.1/8"',
            "    what: [register]",
            "modules:",
            "  mod_roster: {}",
            "  mod_disco: {}",
            "  mod_ping: {}",
            "  mod_time: {}",
            "  mod_version: {}",
            "  mod_private: {}",
            "  mod_vcard: {}",
            "  mod_offline: {}",
            "  mod_muc:",
            f"    host: {_y(MUC)}",
            "    access_create: all",
            "    max_users: 1000",
            "    min_message_interval: 0",
            "    min_presence_interval: 0",
        ]
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("\n".join(yml) + "\n")
        ctl = [
            'ERLANG_NODE="ejabberd_bench@localhost"',
            'INET_DIST_INTERFACE="127.0.0.1"',
            'ERL_EPMD_ADDRESS="127.0.0.1"',
            "ERL_PROCESSES=250000",
            "POLL=true",
            f'EJABBERD_PID_PATH="{os.path.join(self.dir, "ejabberd.pid")}"',
        ]
        with open(self.ctl, "w", encoding="utf-8") as f:
            f.write("\n".join(ctl) + "\n")
        self.chown("ejabberd")

    def command(self):
        return ["/usr/sbin/ejabberdctl", "--config", self.config, "--ctl-config", self.ctl,
                "--logs", self.logs, "--spool", self.spool, "foreground"]

    def popen_kwargs(self):
        env = dict(os.environ, HOME=self.spool, ERL_EPMD_ADDRESS="127.0.0.1")
        return {"user": "ejabberd", "group": "ejabberd", "extra_groups": [], "env": env,
                "cwd": self.spool}

    def register(self, n_users):
        # Registration needs the running server; the caller starts it, we fill it, it stops.
        self.start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", API_PORT, timeout=60)
            for i in range(1, n_users + 1):
                body = json.dumps({"user": f"{USER_PREFIX}{i}", "host": DOMAIN,
                                   "password": password(i)})
                conn.request("POST", "/api/register", body,
                             {"Content-Type": "application/json"})
                resp = conn.getresponse()
                text = resp.read()
                if resp.status != 200 and b"already registered" not in text:
                    raise RuntimeError(f"ejabberd register user{i}: {resp.status} {text[:200]!r}")
            conn.close()
        finally:
            self.stop()
