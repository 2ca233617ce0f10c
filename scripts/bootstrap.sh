#!/usr/bin/env bash
# One entry for a fresh Debian machine (Node 20 + npm, root): installs what is missing, then
#   bootstrap.sh demo   → starts the embedded demo (seed + hub + teaching point on 127.0.0.1)
#   bootstrap.sh test   → runs the whole default test suite
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
case "$mode" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac

# Debian packages the box and its tests use (Chromium as the real WebRTC/kiosk peer, ffmpeg for
# recording and posters, iproute2/nftables for WAN emulation, aria2/transmission as third-party peers;
# g++/make/python3 for node-gyp: better-sqlite3 and the box's SRTP addon in native/srtp build from source).
debs=(chromium ffmpeg iproute2 nftables aria2 transmission-cli ca-certificates fonts-wqy-microhei g++ make python3)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: reinstall only when the lockfile changed since the last install.
stamp=node_modules/.box-lock-stamp
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== installing npm packages (better-sqlite3 builds from source: about a minute)"
  # `npm ci` installs exactly the committed lockfile (which lists every platform's optional packages,
  # so a later `npm install` leaves it unchanged) and fails if package.json and the lockfile disagree.
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

npm run --silent build
if [ "$mode" = demo ]; then
  exec node dist/main/cli.js demo "${@:2}"
else
  exec npm test --silent
fi
