#!/usr/bin/env bash
# The README's quick start: builds deploy, then `deploy apply examples/quickstart.yaml`, which
# obtains a local-CA certificate, builds the xmppd image (a static release build, a few
# minutes the first time) and the nginx image (from Debian's nginx, installed if missing), and
# starts both containers. Needs Docker and a Rust toolchain. Safe to run again: a second run
# changes nothing. Extra arguments go to `deploy apply` (e.g. --xmppd-binary PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v docker >/dev/null || { echo "quickstart: Docker is needed" >&2; exit 1; }
cargo build --release --locked -p deploy
target/release/deploy apply examples/quickstart.yaml "$@"
cat <<'DONE'

xmppd runs for xmpp.localhost (c2s on 5222, HTTPS on 443). Next steps:
  target/release/deploy user add examples/quickstart.yaml alice@xmpp.localhost   # password on stdin
  target/release/deploy status examples/quickstart.yaml
Clients must trust the development CA: examples/.state/quickstart/ca/ca.pem
DONE
