"""Timings around `deploy`: DH group generation against `openssl dhparam`, and a no-op apply.

The no-op apply goes through `bench/apply-noop.sh`, which deploys a copy of the quickstart spec
under its own name and ports and purges it afterwards, so the bench never touches a deployment
a user made from the same example.
"""

import os
import re
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APPLY_NOOP = os.path.join(HERE, "..", "apply-noop.sh")


def _timed(cmd, timeout):
    t = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
    return time.monotonic() - t


def _apply_noop_ms(deploy_binary, rounds):
    env = dict(os.environ, DEPLOY_BIN=os.path.abspath(deploy_binary), ROUNDS=str(rounds))
    out = subprocess.run(["bash", APPLY_NOOP], env=env, check=True, capture_output=True,
                         text=True, timeout=1800).stdout
    m = re.search(r"median (\d+), min (\d+), max (\d+)", out)
    if not m:
        raise RuntimeError(f"apply-noop.sh printed no median: {out!r}")
    return {"median": int(m[1]), "min": int(m[2]), "max": int(m[3]), "runs": rounds}


def run(deploy_binary, workdir, dh_bits, noop_rounds=5):
    out = {}
    pem = os.path.join(workdir, "openssl-dh.pem")
    out["openssl_dhparam_bits"] = dh_bits
    out["openssl_dhparam_s"] = _timed(["openssl", "dhparam", "-out", pem, str(dh_bits)], 3600)
    ours = os.path.join(workdir, "deploy-dh.pem")
    out["deploy_dhparam_s"] = _timed(
        [deploy_binary, "dh", "generate", "--bits", str(dh_bits), "--out", ours], 3600)
    out["deploy_apply_noop_ms"] = _apply_noop_ms(deploy_binary, noop_rounds)
    return out
