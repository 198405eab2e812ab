#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine of this kind, then runs them all.
# This is the README's test command; .ci/run calls it. Safe to run again: installs are skipped
# when already present.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v pg_ctlcluster >/dev/null || need_apt+=(postgresql)
command -v openssl >/dev/null || need_apt+=(openssl)
python3 -c 'import slixmpp' 2>/dev/null || need_pip_slixmpp=1
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if [ "${need_pip_slixmpp:-0}" = 1 ]; then
  echo "==> installing Python test clients"
  python3 -m pip install -q slixmpp pytest
fi
python3 -c 'import pytest' 2>/dev/null || python3 -m pip install -q pytest

echo "==> rustfmt"
cargo fmt --all --check
echo "==> clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo tests"
cargo test --workspace --locked
if compgen -G "tests/e2e/test_*.py" >/dev/null; then
  echo "==> end-to-end tests with real clients"
  cargo build --locked -p xmppd -p deploy
  python3 -m pytest -q tests/e2e
fi
