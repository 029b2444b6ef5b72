#!/usr/bin/env bash
# Installs the peers the interop tests run against. Idempotent; run as root (CI and developer machines
# are root here), from anywhere.
#
# - node and npm (Debian packages), for the SMSC simulator.
# - The simulator's packages (crates/parley-carriers/tests/peers/smsc, pinned by its package-lock.json),
#   installed with `npm ci` and skipped when the lock file has not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "peers: installing node and npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi

smsc=crates/parley-carriers/tests/peers/smsc
stamp="$smsc/node_modules/.parley-lock.sha256"
want="$(sha256sum "$smsc/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$smsc/node_modules/smpp/package.json" ]; then
  echo "peers: SMSC simulator packages up to date"
else
  echo "peers: installing the SMSC simulator's packages"
  (cd "$smsc" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi

echo "peers: node $(node --version), smpp $(node -p "require('./$smsc/node_modules/smpp/package.json').version")"
