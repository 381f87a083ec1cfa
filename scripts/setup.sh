#!/usr/bin/env bash
# Installs everything bucketpay needs on a fresh Debian machine, idempotently:
#   1. Debian packages (apt-get; sudo when not root), only the missing ones;
#   2. the pinned JavaScript toolchain (npm ci from package-lock.json), only when the lockfile changed.
# A second run installs nothing and prints "setup: up to date".
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates python3
  libgtest-dev libgmock-dev libbenchmark-dev
  libgmp-dev libsqlite3-dev sqlite3 libmsgpack-cxx-dev nlohmann-json3-dev libcli11-dev
  libsodium-dev libsecp256k1-dev libcrypto++-dev libcpp-httplib-dev libssl-dev zlib1g-dev
  libpqxx-dev postgresql
  chromium wrk jq bc curl
  clang-14 libclang-rt-14-dev llvm-14 clang-format clang-tidy
  zsh fish
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# Node.js and npm: the machine's own when present (its npm may not be a Debian package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
changed=0
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  changed=1
fi

# npm ci only when node_modules does not match the committed lockfile.
stamp=node_modules/.bucketpay-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci (pinned toolchain from package-lock.json)"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
  changed=1
fi

# The x402 package's own pinned dependencies (@x402/* and express: packages/x402-bucketpay), the
# same way: only when its lockfile changed.
x402=packages/x402-bucketpay
x402_stamp=$x402/node_modules/.bucketpay-lock.sha256
x402_want=$(sha256sum "$x402/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$x402_stamp" ] || [ "$(cat "$x402_stamp")" != "$x402_want" ]; then
  echo "setup: npm ci in $x402 (pinned x402 packages)"
  (cd "$x402" && npm ci --no-audit --no-fund)
  echo "$x402_want" > "$x402_stamp"
  changed=1
fi

bb=node_modules/@aztec/bb.js/build/amd64-linux/bb
if [ ! -x "$bb" ]; then
  echo "setup: error: $bb is missing after npm ci" >&2
  exit 1
fi
if [ "$changed" -eq 0 ]; then echo "setup: up to date"; fi
