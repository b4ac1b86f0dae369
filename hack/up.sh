#!/usr/bin/env bash
# Starts `navarch server` (API, controllers, scheduler and the node agent
# for this machine) in the background, waits until the node is Ready and
# imports a busybox image built from /bin/busybox, so that
#   kubectl run web --image=busybox -- httpd -f -p 8080
# works at once. POD_CIDR=10.244.0.0/24 overrides the node's pod CIDR.
set -euo pipefail
bin=$1 data=$2 port=$3
mkdir -p "$data"
export KUBECONFIG=$data/kubeconfig.yaml
if [[ -f "$data/navarch.pid" ]] && kill -0 "$(cat "$data/navarch.pid")" 2>/dev/null; then
  echo "navarch is already running (pid $(cat "$data/navarch.pid"))"
else
  extra=()
  [[ -n "${POD_CIDR:-}" ]] && extra+=(--pod-cidr "$POD_CIDR")
  nohup "$bin" server --data-dir "$data" --secure-port "$port" "${extra[@]}" >"$data/navarch.log" 2>&1 &
  echo $! >"$data/navarch.pid"
  for _ in $(seq 1 100); do
    curl -ksf "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$(cat "$data/navarch.pid")" 2>/dev/null || { cat "$data/navarch.log"; exit 1; }
    sleep 0.1
  done
fi
# The node registers within a second or two; Ready needs its pod CIDR.
node=""
for _ in $(seq 1 300); do
  node=$(kubectl get nodes -o name 2>/dev/null | head -n1)
  if [[ -n $node ]] && kubectl wait --for=condition=Ready "$node" --timeout=1s >/dev/null 2>&1; then
    break
  fi
  kill -0 "$(cat "$data/navarch.pid")" 2>/dev/null || { tail -50 "$data/navarch.log"; exit 1; }
  sleep 0.2
done
if [[ -z $node ]] || ! kubectl wait --for=condition=Ready "$node" --timeout=1s >/dev/null 2>&1; then
  echo "the node did not become Ready; see $data/navarch.log" >&2
  if [[ -n $node ]] && [[ -z $(kubectl get "$node" -o jsonpath='{.spec.podCIDR}') ]]; then
    echo "it has no pod CIDR yet: is the node IPAM controller running? (make down; POD_CIDR=10.244.0.0/24 make up)" >&2
  fi
  exit 1
fi
"$bin" images busybox --data-dir "$data/agent" >/dev/null
cat <<MSG
navarch is up, ${node#node/} is Ready, busybox is imported (log: $data/navarch.log). To use it:
  export KUBECONFIG=$KUBECONFIG
  kubectl run web --image=busybox -- httpd -f -p 8080
Stop it with: make down
MSG
