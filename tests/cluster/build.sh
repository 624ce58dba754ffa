#!/usr/bin/env bash
# Build the local control plane and helm from the Go module proxy into a cache outside the
# repository, keyed by version. A warm run only checks that the binaries are there.
#
#   SWK_CACHE_DIR  cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/statewave-kubernetes)
#
# Output: $SWK_CACHE_DIR/bin/<component>-<version>/<binary>; prints the bin directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null
. "$here/versions.env"

cache="${SWK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/statewave-kubernetes}"
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
export GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
mkdir -p "$cache/bin" "$cache/logs"

log() { printf '[cluster-build] %s\n' "$*" >&2; }

k8s_dir="$cache/bin/kubernetes-$K8S_VERSION"
etcd_dir="$cache/bin/etcd-$ETCD_VERSION"
kwok_dir="$cache/bin/kwok-$KWOK_VERSION"
helm_dir="$cache/bin/helm-$HELM_VERSION"
registry_dir="$cache/bin/registry-$REGISTRY_VERSION"

# Kubernetes commands at $K8S_VERSION, each built once into the same version directory. The
# local control plane needs the first four; the kind node image (tests/kind/build.sh) adds
# kubelet, kubeadm and kube-proxy (`build.sh kubernetes-node`): a second call builds only the
# missing commands, over the same Go build cache.
K8S_CONTROL_PLANE_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
K8S_NODE_BINS=(kubelet kubeadm kube-proxy)

build_kubernetes() {
  local want=("$@") missing=() b
  for b in "${want[@]}"; do [ -x "$k8s_dir/$b" ] || missing+=("$b"); done
  [ "${#missing[@]}" = 0 ] && return 0
  log "building Kubernetes $K8S_VERSION: ${missing[*]} (cold: 10-30 min on 2 cores)"
  local w; w="$(mktemp -d)"; trap 'rm -rf "$w"' RETURN
  local minor="${K8S_VERSION#v1.}"; local staging="v0.${minor}"
  (
    cd "$w"
    go mod init swk/k8s-build >/dev/null 2>&1
    # The staging modules are required at v0.0.0 and replaced with ./staging paths upstream;
    # derive the list from upstream's go.mod and point each at its published v0.X.Y.
    gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
    python3 - "$gomod" "$staging" > replaces.txt <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for mod in sorted(set(re.findall(r'^\s*(k8s\.io/[\w.-]+)\s+=>\s+\./staging/', text, re.M))):
    print(f"{mod}={mod}@{sys.argv[2]}")
PY
    while read -r r; do go mod edit -replace="$r"; done < replaces.txt
    go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
    local pkgs=() p
    for p in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$p@$K8S_VERSION"); done
    go get "${pkgs[@]}"
    local ld="" pkg
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
      ld="$ld -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    mkdir -p "$k8s_dir"
    for b in "${missing[@]}"; do
      log "  go build $b"
      go build -trimpath -ldflags "-s -w $ld" -o "$k8s_dir/.$b.tmp" "k8s.io/kubernetes/cmd/$b"
      mv "$k8s_dir/.$b.tmp" "$k8s_dir/$b"
    done
  )
}

build_etcd() {
  [ -x "$etcd_dir/etcd" ] && return 0
  log "building etcd $ETCD_VERSION"
  local w; w="$(mktemp -d)"; trap 'rm -rf "$w"' RETURN
  (
    cd "$w"
    go mod init swk/etcd-build >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    mkdir -p "$etcd_dir.tmp"
    go build -trimpath -ldflags "-s -w" -o "$etcd_dir.tmp/etcd" go.etcd.io/etcd/server/v3
  )
  rm -rf "$etcd_dir"; mv "$etcd_dir.tmp" "$etcd_dir"
}

build_kwok() {
  [ -x "$kwok_dir/kwok" ] && [ -x "$kwok_dir/kwokctl" ] && return 0
  log "building kwok/kwokctl $KWOK_VERSION"
  mkdir -p "$kwok_dir.tmp"
  GOBIN="$kwok_dir.tmp" go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  rm -rf "$kwok_dir"; mv "$kwok_dir.tmp" "$kwok_dir"
}

build_helm() {
  [ -x "$helm_dir/helm" ] && return 0
  log "building helm $HELM_VERSION"
  mkdir -p "$helm_dir.tmp"
  # Stamp helm's own version and the Kubernetes version it assumes without a cluster (helm
  # template, lint): its release build takes both from client-go's version in helm's go.mod.
  local gomod kmin ld
  gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
  kmin="$(sed -n 's|^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*|\1|p' "$gomod" | head -1)"
  ld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ld="$ld -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kmin"
  done
  GOBIN="$helm_dir.tmp" go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  rm -rf "$helm_dir"; mv "$helm_dir.tmp" "$helm_dir"
}

# The CNCF distribution registry: only the integration tests use it (an OCI chart source on
# 127.0.0.1, tests/integration/chart_source_helpers.py); make up does not build it.
build_registry() {
  [ -x "$registry_dir/registry" ] && return 0
  log "building the OCI registry $REGISTRY_VERSION"
  local w; w="$(mktemp -d)"; trap 'rm -rf "$w"' RETURN
  (
    cd "$w"
    go mod init swk/registry-build >/dev/null 2>&1
    go get "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
    mkdir -p "$registry_dir.tmp"
    go build -trimpath -ldflags "-s -w" -o "$registry_dir.tmp/registry" github.com/distribution/distribution/v3/cmd/registry
  )
  rm -rf "$registry_dir"; mv "$registry_dir.tmp" "$registry_dir"
}

# Sources of the kwok module (its default Stage files are read from here at start time).
fetch_kwok_source() {
  go mod download "sigs.k8s.io/kwok@$KWOK_VERSION" >/dev/null
}

start=$(date +%s)
what="${1:-all}"
case "$what" in
  helm) build_helm ;;
  registry) build_registry; echo "$registry_dir/registry"; exit 0 ;;
  all) build_helm; build_kwok; fetch_kwok_source; build_etcd; build_kubernetes "${K8S_CONTROL_PLANE_BINS[@]}" ;;
  kubernetes-node) build_kubernetes "${K8S_CONTROL_PLANE_BINS[@]}" "${K8S_NODE_BINS[@]}"; echo "$k8s_dir"; exit 0 ;;
  etcd) build_etcd; echo "$etcd_dir/etcd"; exit 0 ;;
  *) echo "usage: $0 [all|helm|registry|kubernetes-node|etcd]" >&2; exit 2 ;;
esac
log "done in $(( $(date +%s) - start ))s; cache: $cache"
echo "$cache/bin"
