"""Timings around `deploy`: DH group generation against `openssl dhparam`, and a no-op apply.

Each part reports "not implemented yet in deploy" until deploy's --help lists the command.
"""

import os
import re
import subprocess
import time

NOT_YET = "not implemented yet in deploy"


def _deploy_commands(binary):
    """The subcommand names `deploy --help` lists."""
    if not binary or not os.path.exists(binary):
        return set()
    out = subprocess.run([binary, "--help"], capture_output=True, text=True)
    return set(re.findall(r"(?m)^  ([a-z][a-z-]*)\s", out.stdout))


def _timed(cmd, timeout):
    t = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
    return time.monotonic() - t


def run(deploy_binary, workdir, dh_bits, spec):
    out = {}
    pem = os.path.join(workdir, "openssl-dh.pem")
    out["openssl_dhparam_bits"] = dh_bits
    out["openssl_dhparam_s"] = _timed(["openssl", "dhparam", "-out", pem, str(dh_bits)], 3600)
    helptext = _deploy_commands(deploy_binary)
    if "dh" in helptext:
        ours = os.path.join(workdir, "deploy-dh.pem")
        out["deploy_dhparam_s"] = _timed(
            [deploy_binary, "dh", "generate", "--bits", str(dh_bits), "--out", ours], 3600)
    else:
        out["deploy_dhparam_s"] = NOT_YET
    if "apply" in helptext:
        _timed([deploy_binary, "apply", spec], 1800)  # converge first
        out["deploy_apply_noop_s"] = _timed([deploy_binary, "apply", spec], 600)
    else:
        out["deploy_apply_noop_s"] = NOT_YET
    return out
