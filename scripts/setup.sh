#!/usr/bin/env bash
# Makes WebGPU work on this machine, and does nothing when it already does.
#
# 1. npm dependencies (skipped when node_modules is current).
# 2. redis-server (the queue behind `seal worker` / `--queue`; its tests start their own on a free port):
#    Debian's package when missing, without starting its system service.
# 3. A WebGPU adapter: if Dawn finds one, done. Otherwise, on Debian/Ubuntu as root, install Mesa's
#    lavapipe (Vulkan on the CPU). Debian bookworm's own Mesa 22.3 gives Dawn no adapter, so on bookworm
#    it comes from bookworm-backports (Mesa 25). Elsewhere, print what to install.
# Idempotent and quiet when there is nothing to do. Set SEAL_SETUP_VERBOSE=1 to see each step.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
say() { [ "${SEAL_SETUP_VERBOSE:-0}" = 1 ] && echo "setup: $*" >&2 || true; }

if [ ! -d node_modules/webgpu ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing redis-server"
    # Debian starts a package's service on install; the tests start their own Redis, so deny it.
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
    fi
    status=0
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; } || status=$?
    [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$status" = 0 ] || { echo "setup: installing redis-server failed" >&2; exit 1; }
  else
    echo "setup: redis-server is missing, so the queue tests will be skipped; install Redis (Debian: apt-get install redis-server)" >&2
  fi
fi

has_adapter() { node scripts/probe-adapter.mjs >/dev/null 2>&1; }
if has_adapter; then say "WebGPU adapter found"; exit 0; fi

if [ -r /etc/os-release ]; then . /etc/os-release; fi
if [ "${ID:-}" != debian ] && [ "${ID:-}" != ubuntu ] && [[ "${ID_LIKE:-}" != *debian* ]]; then
  echo "setup: no WebGPU adapter. Install a Vulkan driver (Mesa's lavapipe: mesa-vulkan-drivers >= 23, libvulkan1)" >&2
  echo "       or run on a machine with a GPU, then run this script again." >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup: no WebGPU adapter. As root, run: bash scripts/setup.sh (it installs Mesa's lavapipe)." >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
target=()
if [ "${VERSION_CODENAME:-}" = bookworm ]; then
  list=/etc/apt/sources.list.d/bookworm-backports.sources
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    say "adding bookworm-backports"
    cat > "$list" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  target=(-t bookworm-backports)
fi
say "installing Mesa lavapipe"
apt-get update -qq >&2
apt-get install -y -qq "${target[@]}" mesa-vulkan-drivers libvulkan1 >/dev/null

if ! has_adapter; then
  echo "setup: Mesa's lavapipe is installed but Dawn still finds no adapter:" >&2
  node scripts/probe-adapter.mjs >&2 || true
  exit 1
fi
say "WebGPU adapter found"
