#!/usr/bin/env bash
# Times a no-op `deploy apply` (everything already converged): the reconciler's fixed cost of
# hashing the images, reading the engine and diffing. Deploys a copy of the quickstart spec on
# ports 27xxx under the name bench-noop, times ROUNDS (default 10) applies, then purges it.
# XMPPD_STATIC_BINARY names a prebuilt static xmppd (else deploy builds one).
# Usage: bench/apply-noop.sh   (ROUNDS=N, DEPLOY_BIN=PATH optional)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-10}
# DEPLOY_BIN names a deploy built earlier; else a release build (what users run).
if [ -n "${DEPLOY_BIN:-}" ]; then
  bin=$DEPLOY_BIN
else
  cargo build --release --locked -p deploy >/dev/null
  bin=target/release/deploy
fi
work=$(mktemp -d)
spec=$work/spec.yaml
sed -e 's/^name: quickstart/name: bench-noop/' -e "s|state_dir: .state/quickstart|state_dir: $work/state|" \
  examples/quickstart.yaml > "$spec"
printf 'ports:\n  c2s: 27622\n  c2s_direct_tls: 27623\n  s2s: 27669\n  s2s_direct_tls: 27670\n  http: 27680\n  https: 27643\n  proxy65: 27600\n' >> "$spec"
trap '"$bin" destroy --purge --yes "$spec" >/dev/null; rm -rf "$work"' EXIT
"$bin" apply "$spec" >/dev/null
times=()
for _ in $(seq "$rounds"); do
  start=$(date +%s%N)
  out=$("$bin" apply "$spec")
  end=$(date +%s%N)
  grep -q "no changes" <<<"$out" || { echo "not a no-op: $out" >&2; exit 1; }
  times+=($(( (end - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "no-op apply over $rounds runs (ms): median $(sed -n "$(( (rounds + 1) / 2 ))p" <<<"$sorted"), min $(head -1 <<<"$sorted"), max $(tail -1 <<<"$sorted")"
