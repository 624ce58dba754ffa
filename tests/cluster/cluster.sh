#!/usr/bin/env bash
# The local Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok (simulated nodes and pod lifecycles), all on 127.0.0.1, driven by
# kwokctl's binary runtime with binaries built by build.sh.
#
#   cluster.sh up       build if needed, start (no-op when already healthy), one fake node
#   cluster.sh down     stop every process it started and remove the cluster state
#   cluster.sh status   exit 0 when the API server answers /readyz
#
# kubeconfig: $SWK_KUBECONFIG (.cache/state/kubeconfig). Test labels: see stage-test-fail.yaml.
# kwok's ClusterPortForward kind is served as a CRD: a test that creates one for its namespace makes
# `kubectl port-forward` to that namespace's pods reach a server of its own on 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null
. "$here/../../hack/env.sh"

CLUSTER_NAME="${SWK_CLUSTER_NAME:-swk}"
export KWOK_WORKDIR="$SWK_STATE_DIR/kwok"
cfg="$SWK_STATE_DIR/kwokctl.yaml"
log() { printf '[cluster] %s\n' "$*" >&2; }

kc() { kubectl --kubeconfig "$SWK_KUBECONFIG" "$@"; }

healthy() {
  [ -f "$SWK_KUBECONFIG" ] && kc get --raw /readyz >/dev/null 2>&1
}

write_config() {
  local stage_src="$SWK_CACHE_DIR/go/mod/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  if [ ! -d "$stage_src" ]; then
    GOMODCACHE="$SWK_CACHE_DIR/go/mod" GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kwok@$KWOK_VERSION"
  fi
  {
    cat <<CFG
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeVersion: $K8S_VERSION
  kubeAdmission: true
  kubeAuthorization: true
  enableCRDs:
    - ClusterPortForward
  kubeApiserverBinary: $SWK_BIN/kubernetes-$K8S_VERSION/kube-apiserver
  kubeControllerManagerBinary: $SWK_BIN/kubernetes-$K8S_VERSION/kube-controller-manager
  kubeSchedulerBinary: $SWK_BIN/kubernetes-$K8S_VERSION/kube-scheduler
  kubectlBinary: $SWK_BIN/kubernetes-$K8S_VERSION/kubectl
  etcdBinary: $SWK_BIN/etcd-$ETCD_VERSION/etcd
  kwokControllerBinary: $SWK_BIN/kwok-$KWOK_VERSION/kwok
CFG
    # kwok's own default Stages, read from the module cache (not copied into the repository).
    local f
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      echo "---"; cat "$stage_src/$f"
    done
    cat "$here"/stage-*.yaml  # each starts with its own ---
  } > "$cfg"
}

up() {
  if healthy; then log "already running ($(server_version))"; return 0; fi
  "$here/build.sh" all >/dev/null
  # A cluster left from an earlier run whose processes died: remove it before creating anew.
  down quiet
  mkdir -p "$SWK_STATE_DIR"
  write_config
  log "creating cluster $CLUSTER_NAME"
  kwokctl --config "$cfg" create cluster --name "$CLUSTER_NAME" --runtime binary \
    --kubeconfig "$SWK_KUBECONFIG" --wait 120s >&2
  kwokctl --name "$CLUSTER_NAME" scale node --replicas 1 >&2
  kc wait --for=condition=Ready node --all --timeout=120s >&2
  # The controller manager creates the default ServiceAccount shortly after start.
  local i
  for i in $(seq 1 60); do kc -n default get serviceaccount default >/dev/null 2>&1 && break; sleep 1; done
  log "ready: $(server_version); kubeconfig $SWK_KUBECONFIG"
}

server_version() { kc version -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])'; }

down() {
  if [ -d "$KWOK_WORKDIR/clusters/$CLUSTER_NAME" ]; then
    kwokctl --name "$CLUSTER_NAME" delete cluster --kubeconfig "$SWK_KUBECONFIG" >&2 || true
  fi
  # Anything still running from our binaries in this state dir is a stray: stop it.
  local pids
  pids="$(pgrep -f -- "$KWOK_WORKDIR/clusters/$CLUSTER_NAME" || true)"
  if [ -n "$pids" ]; then
    [ "${1:-}" = quiet ] || log "stopping strays: $pids"
    kill $pids 2>/dev/null || true; sleep 2; kill -9 $pids 2>/dev/null || true
  fi
  rm -rf "${KWOK_WORKDIR:?}/clusters/$CLUSTER_NAME" "$SWK_KUBECONFIG"
  [ "${1:-}" = quiet ] || log "stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if healthy; then echo "running: $(server_version) kubeconfig=$SWK_KUBECONFIG"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
