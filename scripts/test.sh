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
command -v pebble >/dev/null || need_apt+=(pebble)
# A real registry on loopback for the upstream-image pull tests (tests/deploy_upstream.rs).
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v chromium >/dev/null || need_apt+=(chromium)
[ -f /usr/share/javascript/strophe/strophe.js ] || need_apt+=(libjs-strophe)
# Peer servers for the federation tests (test_s2s_prosody.py, test_s2s_ejabberd.py);
# lua-unbound is Prosody's resolver.
command -v prosody >/dev/null || need_apt+=(prosody)
dpkg -s lua-unbound >/dev/null 2>&1 || need_apt+=(lua-unbound)
[ -x /usr/sbin/ejabberdctl ] || need_apt+=(ejabberd)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# The packaged services, if the install started them, would hold 5222/5269 on every address;
# the tests run their own Prosody and ejabberd from their own configs.
for svc in prosody ejabberd; do
  service "$svc" stop >/dev/null 2>&1 || true
done
need_pip=()
for module in slixmpp:slixmpp pytest:pytest OpenSSL:pyopenssl websockets:websockets aiohttp:aiohttp; do
  python3 -c "import ${module%%:*}" 2>/dev/null || need_pip+=("${module##*:}")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "==> installing Python test clients: ${need_pip[*]}"
  python3 -m pip install -q --root-user-action=ignore "${need_pip[@]}"
fi

echo "==> rustfmt"
cargo fmt --all --check
echo "==> clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The static xmppd for the container images is built once here; the image tests and the deploy
# end-to-end tests reuse it (XMPPD_STATIC_BINARY) instead of building it each.
if [ -z "${XMPPD_STATIC_BINARY:-}" ]; then
  echo "==> static xmppd for the container images"
  RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked \
    --target x86_64-unknown-linux-gnu -p xmppd --bin xmppd
  export XMPPD_STATIC_BINARY="$PWD/target/x86_64-unknown-linux-gnu/release/xmppd"
fi
echo "==> cargo tests"
cargo test --workspace --locked
if compgen -G "tests/e2e/test_*.py" >/dev/null; then
  echo "==> end-to-end tests with real clients"
  cargo build --locked -p xmppd -p deploy
  python3 -m pytest -q tests/e2e
fi
