#!/usr/bin/env bash
# Starts `navarch server` in the background and waits until it is ready.
set -euo pipefail
bin=$1 data=$2 port=$3
mkdir -p "$data"
if [[ -f "$data/navarch.pid" ]] && kill -0 "$(cat "$data/navarch.pid")" 2>/dev/null; then
  echo "navarch is already running (pid $(cat "$data/navarch.pid"))"
else
  nohup "$bin" server --data-dir "$data" --secure-port "$port" >"$data/navarch.log" 2>&1 &
  echo $! >"$data/navarch.pid"
  for _ in $(seq 1 100); do
    curl -ksf "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$(cat "$data/navarch.pid")" 2>/dev/null || { cat "$data/navarch.log"; exit 1; }
    sleep 0.1
  done
fi
cat <<MSG
navarch is up (log: $data/navarch.log). To use it:
  export KUBECONFIG=$data/kubeconfig.yaml
  kubectl get namespaces
Stop it with: make down
MSG
