#!/usr/bin/env bash
# A kind cluster with real pods, for the kind scenario and `SWK_TARGET=kind make up`.
#
#   cluster.sh up        engine (hack/engine.sh), node image, cluster; a no-op when the
#                        cluster already answers
#   cluster.sh up-load   up, then load (what `SWK_TARGET=kind make up` runs)
#   cluster.sh down      delete the cluster (the engine stays; `hack/engine.sh down` stops it)
#   cluster.sh status    exit 0 when the cluster's API server answers
#   cluster.sh load      (re)load the app images (tests/kind/build.sh list) into the cluster
#   cluster.sh image     print the node image this machine uses
#
# The node image: $KIND_OFFICIAL_NODE_IMAGE where it is present or can be pulled (nothing is
# built then), else the one tests/kind/build.sh assembles from registry packages.
# SWK_KIND_NODE_IMAGE=official|built forces one. kubeconfig: $KIND_KUBECONFIG
# (.cache/state/kind/kubeconfig); cluster name: $KIND_CLUSTER_NAME (swk).
#
# Two settings are added to kind's cluster config only where this host needs them:
#   - cgroup v1 (no /sys/fs/cgroup/cgroup.controllers): kubelet >= 1.35 refuses to start
#     unless its KubeletConfiguration says failCgroupV1: false;
#   - a capability bounding set without CAP_SYS_RESOURCE: the node's runc cannot lower
#     oom_score_adj for critical pods ("can't get final child's PID from pipe: EOF"), so the
#     node's containerd gets restrict_oom_score_adj = true (it then never asks for a lower value).
set -euo pipefail
# shellcheck source=/dev/null
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

kc() { kubectl --kubeconfig "$KIND_KUBECONFIG" "$@"; }
healthy() {
  [ -f "$KIND_KUBECONFIG" ] && kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER_NAME" \
    && kc get --raw /readyz >/dev/null 2>&1
}

choose_node_image() {
  local want="${SWK_KIND_NODE_IMAGE:-auto}"
  if [ "$want" != built ]; then
    if image_exists "$KIND_OFFICIAL_NODE_IMAGE" || timeout 120 docker pull -q "$KIND_OFFICIAL_NODE_IMAGE" >/dev/null 2>&1; then
      echo "$KIND_OFFICIAL_NODE_IMAGE"; return 0
    fi
    [ "$want" = official ] && { kind_log "SWK_KIND_NODE_IMAGE=official but $KIND_OFFICIAL_NODE_IMAGE cannot be pulled"; exit 1; }
  fi
  "$kind_here/build.sh" node >&2
  node_image
}

write_config() {
  local image=$1 cfg=$2
  {
    echo "kind: Cluster"
    echo "apiVersion: kind.x-k8s.io/v1alpha4"
    echo "name: $KIND_CLUSTER_NAME"
    echo "nodes:"
    echo "  - role: control-plane"
    echo "    image: $image"
    if [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
      echo "# This host mounts cgroup v1: kubelet >= 1.35 starts there only with failCgroupV1 false."
      echo "kubeadmConfigPatches:"
      echo "  - |"
      echo "    kind: KubeletConfiguration"
      echo "    failCgroupV1: false"
    fi
    if python3 "$SWK_ROOT/hack/runc_drop_missing_caps.py" --list-missing | grep -qx CAP_SYS_RESOURCE; then
      echo "# This host's capability bounding set lacks CAP_SYS_RESOURCE: the node's containerd must"
      echo "# not ask runc to lower oom_score_adj."
      echo "containerdConfigPatches:"
      echo "  - |"
      echo "    [plugins.\"io.containerd.grpc.v1.cri\"]"
      echo "      restrict_oom_score_adj = true"
    fi
  } > "$cfg"
}

# The real Statewave image where it can be pulled (then the inventory's kind target uses it:
# $KIND_STATE/statewave-image names it); the stand-in built here otherwise.
STATEWAVE_REAL_IMAGE=statewavedev/statewave:1.5.0
load_images() {
  local images t0; images="$("$kind_here/build.sh" list)"; t0=$(date +%s)
  "$kind_here/build.sh" apps >&2
  mkdir -p "$KIND_STATE"
  if image_exists "$STATEWAVE_REAL_IMAGE" || timeout 120 docker pull -q "$STATEWAVE_REAL_IMAGE" >/dev/null 2>&1; then
    kind_log "the real $STATEWAVE_REAL_IMAGE can be pulled: the kind target uses it"
    images="$images $STATEWAVE_REAL_IMAGE"; echo "${STATEWAVE_REAL_IMAGE%:*}" > "$KIND_STATE/statewave-image"
  else
    kind_log "$STATEWAVE_REAL_IMAGE cannot be pulled here: the kind target uses the stand-in swk.local/statewave-standin"
    rm -f "$KIND_STATE/statewave-image"
  fi
  # shellcheck disable=SC2086
  kind load docker-image --name "$KIND_CLUSTER_NAME" $images >&2
  kind_log "app images built/loaded in $(( $(date +%s) - t0 ))s"
}

up() {
  "$SWK_ROOT/hack/engine.sh" up
  if healthy; then kind_log "cluster $KIND_CLUSTER_NAME already running"; return 0; fi
  "$kind_here/build.sh" tools >&2
  local image; image="$(choose_node_image)"
  mkdir -p "$KIND_STATE"
  local cfg="$KIND_STATE/cluster.yaml"
  write_config "$image" "$cfg"
  # A cluster of this name whose API does not answer is a leftover: replace it.
  if kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER_NAME"; then
    kind_log "removing cluster $KIND_CLUSTER_NAME that does not answer"
    kind delete cluster --name "$KIND_CLUSTER_NAME" --kubeconfig "$KIND_KUBECONFIG" >&2
  fi
  local t0; t0=$(date +%s)
  kind_log "creating cluster $KIND_CLUSTER_NAME from $image"
  kind create cluster --config "$cfg" --kubeconfig "$KIND_KUBECONFIG" --wait 5m >&2
  kind_log "cluster up in $(( $(date +%s) - t0 ))s"
  # kind's default StorageClass and cluster DNS must be serving before anything is deployed.
  kc -n kube-system rollout status deployment/coredns --timeout=180s >&2
  kc -n local-path-storage rollout status deployment/local-path-provisioner --timeout=180s >&2
  kind_log "ready: kubeconfig $KIND_KUBECONFIG"
}

down() {
  if command -v kind >/dev/null && docker info >/dev/null 2>&1 && kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER_NAME"; then
    kind delete cluster --name "$KIND_CLUSTER_NAME" --kubeconfig "$KIND_KUBECONFIG" >&2
  fi
  rm -f "$KIND_KUBECONFIG"
}

case "${1:-}" in
  up) up ;;
  up-load) up; load_images ;;
  down) down ;;
  status) if healthy; then echo "running: kind cluster $KIND_CLUSTER_NAME, kubeconfig $KIND_KUBECONFIG"; else echo "not running"; exit 1; fi ;;
  load) load_images ;;
  image) choose_node_image ;;
  *) echo "usage: $0 up|down|status|load|image" >&2; exit 2 ;;
esac
