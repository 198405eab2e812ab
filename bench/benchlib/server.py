"""What every server under test offers the harness: start, stop, one PID to measure, readiness."""

import os
import signal
import socket
import subprocess
import time

from . import procstat

USER_PREFIX = "user"
PASS_PREFIX = "benchpass"  # tsung derives passwords as prefix + id; 8+ chars for xmppd's policy


def password(i):
    return f"{PASS_PREFIX}{i}"


class Server:
    """Base class: subclasses write configs, register users and name the command line."""

    name = "?"
    port = 0
    process_names = ()  # comm of the process to measure, among the launched one's descendants

    def __init__(self, workdir, cert, key, combined):
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.cert, self.key, self.combined = cert, key, combined
        self.proc = None
        self.pid = None
        self.log = None

    # -- to override -------------------------------------------------------------------------
    def configure(self):
        raise NotImplementedError

    def register(self, n_users):
        raise NotImplementedError

    def command(self):
        raise NotImplementedError

    def popen_kwargs(self):
        return {}

    def after_start(self):
        """Hook for servers that need a step once listening (e.g. nothing, or warm-up)."""

    # -- shared ------------------------------------------------------------------------------
    def start(self, timeout=90):
        if self._accepts():
            raise RuntimeError(f"127.0.0.1:{self.port} is already in use: is an old server running?")
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            self.command(), stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, **self.popen_kwargs())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log.name}")
            if self._accepts():
                self.pid = procstat.find_descendant(self.proc.pid, self.process_names) or self.proc.pid
                self.after_start()
                return
            time.sleep(0.2)  # bounded readiness poll, not synchronisation between steps
        raise RuntimeError(f"{self.name} did not listen on 127.0.0.1:{self.port} in {timeout}s")

    def _accepts(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self, timeout=60):
        if self.proc is None:
            return
        # SIGTERM the server itself first (not a wrapper shell) so it shuts down cleanly.
        target = self.pid or self.proc.pid
        try:
            os.kill(target, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        # Stragglers of the session we started (e.g. erl_child_setup) go too.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc = None
        self.pid = None
        if self.log:
            self.log.close()

    def cpu(self):
        return procstat.cpu_seconds(self.pid)

    def rss(self):
        return procstat.rss_kib(self.pid)

    def chown(self, user):
        """Hands the server's directory to the user it runs as."""
        subprocess.run(["chown", "-R", f"{user}:{user}", self.dir], check=True)
