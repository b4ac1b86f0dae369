#!/usr/bin/env bash
# Stops the server started by hack/up.sh.
set -euo pipefail
pidfile=$1/navarch.pid
[[ -f $pidfile ]] || { echo "navarch is not running"; exit 0; }
pid=$(cat "$pidfile")
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
rm -f "$pidfile"
echo "navarch stopped"
