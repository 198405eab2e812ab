"""One self-signed certificate (RFC 5280 via openssl) shared by every server under test."""

import os
import subprocess

DOMAIN = "example.test"
MUC = "conference." + DOMAIN


def make(workdir):
    """Writes cert.pem, key.pem and combined.pem (ejabberd wants both in one file)."""
    cert = os.path.join(workdir, "cert.pem")
    key = os.path.join(workdir, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "30", "-subj", "/CN=" + DOMAIN,
         "-addext", f"subjectAltName=DNS:{DOMAIN},DNS:{MUC}",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True)
    combined = os.path.join(workdir, "combined.pem")
    with open(combined, "w", encoding="ascii") as out:
        for part in (cert, key):
            with open(part, encoding="ascii") as f:
                out.write(f.read())
    for p in (cert, key, combined):
        os.chmod(p, 0o644)  # the servers run as their own users and must read them
    return cert, key, combined
