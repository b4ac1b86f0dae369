#!/usr/bin/env bash
# Installs the Debian packages navarch's tests and cluster need, only if missing.
set -euo pipefail
pkgs=(etcd-server etcd-client)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged etcd as a service; navarch runs its own.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now etcd >/dev/null 2>&1 || true; fi
  pkill -x etcd 2>/dev/null || true
fi
command -v kubectl >/dev/null || echo "warning: kubectl not found; end-to-end tests will be skipped" >&2
