#!/usr/bin/env bash
# Runs xmppd in the foreground on examples/xmppd.toml (domain example.test on 127.0.0.1) with
# throwaway development certificates, creating the accounts alice and bob on first run.
# Certificates, data and passwords stay in examples/certs, examples/data (both git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p xmppd
bin=target/release/xmppd
config=examples/xmppd.toml
certs=examples/certs
if [ ! -f "$certs/fullchain.pem" ]; then
  echo "==> making a development CA and certificate in $certs (trust $certs/ca.pem in your client)"
  mkdir -p "$certs" && chmod 700 "$certs"
  (
    cd "$certs"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 825 -subj "/CN=xmppd development CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out privkey.pem
    openssl req -new -key privkey.pem -subj /CN=example.test -out leaf.csr
    printf 'subjectAltName=DNS:example.test,DNS:*.example.test\nextendedKeyUsage=serverAuth\n' > leaf.ext
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 90 -sha256 \
      -extfile leaf.ext -out leaf.pem
    cat leaf.pem ca.pem > fullchain.pem
    chmod 600 privkey.pem ca.key
  ) 2>/dev/null
fi
for user in alice bob; do
  if ! "$bin" users -c "$config" 2>/dev/null | grep -qx "$user@example.test"; then
    password=$(openssl rand -base64 12)
    echo "$password" | "$bin" adduser -c "$config" "$user@example.test" >/dev/null
    echo "$user@example.test / $password" >> examples/data/dev-passwords.txt
    chmod 600 examples/data/dev-passwords.txt
  fi
done
echo "==> accounts and passwords: examples/data/dev-passwords.txt"
exec "$bin" run -c "$config"
