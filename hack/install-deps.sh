#!/usr/bin/env bash
# Installs the Debian packages navarch's tests and cluster need, only if missing.
set -euo pipefail
# etcd: the external-etcd tests. containerd, runc, the CNI plugins (in
# /usr/lib/cni) and iptables/nftables: the node agent and its pods.
# busybox-static: the binary test and demo images are built from.
pkgs=(etcd-server etcd-client containerd runc containernetworking-plugins iptables nftables busybox-static)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
  # Debian starts the packaged etcd and containerd as services; navarch
  # runs its own, each with a private data dir and socket.
  if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now etcd >/dev/null 2>&1 || true
    systemctl disable --now containerd >/dev/null 2>&1 || true
  fi
  pkill -x etcd 2>/dev/null || true
fi
command -v kubectl >/dev/null || echo "warning: kubectl not found; end-to-end tests will be skipped" >&2
