#!/usr/bin/env bash
# Build the kind test bed from registry packages only (Debian, the Go module proxy, PyPI):
#
#   build.sh tools   kind and crictl from the Go module proxy
#   build.sh node    the node image swk.local/kind-node:<k8s>-<key> (see below)
#   build.sh apps    the app images the scenarios load (tests/kind/images/*)
#   build.sh all     all three (what `make test` runs when a Docker engine answers)
#   build.sh list    the images the scenarios use, one per line (name:tag)
#
# Needs a Docker engine (hack/engine.sh up). Everything goes to $SWK_CACHE_DIR (binaries, Go
# caches) and to that engine's image store; nothing into the repository. An image whose tag
# (a key over its pinned versions and recipe files, tests/kind/lib.sh) exists is not rebuilt.
#
# The node image, assembled the way kind's own `kind build node-image` does it, which cannot
# run here (it fetches etcd, coredns, pause, kindnetd and the storage images from registries):
#   1. a Debian rootfs (mmdebstrap, tests/kind/rootfs/node.packages: systemd, Debian's
#      containerd, runc, CNI plugins, iptables, ...) + kind's node files read from kind's Go
#      module at build time (entrypoint, systemd units, containerd config) -> the base image
#   2. kubeadm, kubelet, kubectl (Kubernetes $K8S_VERSION, tests/cluster/build.sh), crictl
#   3. the images kubeadm runs, built here and tagged with the names kubeadm expects:
#      kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, etcd, coredns, pause;
#      plus local-path-provisioner and its helper for kind's default StorageClass; all imported
#      into the node's containerd, so nothing is pulled when the cluster starts
#   4. /kind/version and /kind/manifests (kind's storage manifest, read from its Go module,
#      with our image names; a static single-node pod network, tests/kind/node/default-cni.yaml)
# Where kindest/node can be pulled, tests/kind/cluster.sh uses $KIND_OFFICIAL_NODE_IMAGE instead
# and none of this is built.
set -euo pipefail
# shellcheck source=/dev/null
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

export GOMODCACHE="$SWK_CACHE_DIR/go/mod" GOCACHE="$SWK_CACHE_DIR/go/build"
export GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
mkdir -p "$KIND_CACHE"
timings=()
timed() {  # timed <label> <command...>: run it, record how long it took
  local label=$1 t0; shift; t0=$(date +%s)
  "$@"
  timings+=("$label $(( $(date +%s) - t0 ))s")
}

# go_build <dest binary> <module@version> <package> [ldflags]: a throwaway module that requires
# the module, so the module proxy's published dependencies resolve it.
go_build() {
  local dest=$1 modver=$2 pkg=$3 ld=${4:-}
  [ -x "$dest" ] && return 0
  kind_log "go build $pkg ($modver)"
  local w; w="$(mktemp -d)"
  (
    cd "$w"
    go mod init swk/kind-build >/dev/null 2>&1
    go get "$modver" >/dev/null 2>&1 || go get "$modver"
    mkdir -p "$(dirname "$dest")"
    go build -trimpath -ldflags "-s -w $ld" -o "$dest.tmp" "$pkg"
  )
  rm -rf "$w"
  mv "$dest.tmp" "$dest"
}

module_dir() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }

build_tools() {
  go_build "$KIND_BIN_DIR/kind" "sigs.k8s.io/kind@$KIND_VERSION" sigs.k8s.io/kind
  go_build "$CRICTL_BIN_DIR/crictl" "sigs.k8s.io/cri-tools@$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"
}

# A Debian rootfs from tests/kind/rootfs/<flavor>.packages (mmdebstrap), as an image.
rootfs_image() { echo "swk.local/rootfs-$1:$DEBIAN_SUITE"; }
rootfs_key() { kind_key "$kind_here/rootfs/$1.packages" -- "$DEBIAN_SUITE"; }
build_rootfs() {
  local flavor=$1 image key; image="$(rootfs_image "$1")"; key="$(rootfs_key "$1")"
  image_current "$image" "$key" && return 0
  command -v mmdebstrap >/dev/null || { local s=""; [ "$(id -u)" = 0 ] || s=sudo; $s apt-get install -y -qq mmdebstrap >&2; }
  local pkgs; pkgs="$(grep -v '^#' "$kind_here/rootfs/$flavor.packages" | grep . | paste -sd, -)"
  local tar="$KIND_CACHE/rootfs-$flavor.tar"
  kind_log "mmdebstrap $DEBIAN_SUITE ($flavor): $pkgs"
  mmdebstrap --quiet --variant=minbase --include="$pkgs" "$DEBIAN_SUITE" "$tar" \
    "deb http://deb.debian.org/debian $DEBIAN_SUITE main" \
    "deb http://deb.debian.org/debian $DEBIAN_SUITE-updates main" \
    "deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main" >&2
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' --change "LABEL $KEY_LABEL=$key" "$tar" "$image" >/dev/null
  rm -f "$tar"
}

# A one-binary image (no shell): docker import of a tar holding the binary.
binary_image() {  # binary_image <name:tag> <binary> <path in image> [entrypoint json]
  local image=$1 bin=$2 path=$3 entry=${4:-}
  local d; d="$(mktemp -d)"
  mkdir -p "$d$(dirname "$path")" "$d/tmp" "$d/etc"
  install -m 0755 "$bin" "$d$path"
  echo 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' > "$d/etc/passwd"
  local changes=(--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin')
  [ -n "$entry" ] && changes+=(--change "ENTRYPOINT $entry")
  tar -C "$d" -c . | docker import "${changes[@]}" - "$image" >/dev/null
  rm -rf "$d"
}

# CoreDNS $COREDNS_VERSION with only the plugins of the Corefile kubeadm $K8S_VERSION deploys (read
# from kubeadm's Go module; each plugin's package from CoreDNS's own plugin.cfg), not the cloud DNS
# backends the release binary carries. Measured with an empty Go build cache on 2 cores: 90 s
# instead of 134 s for the full binary (52 MB instead of 75 MB).
build_coredns() {
  local dest=$1
  [ -x "$dest" ] && return 0
  local w; w="$(mktemp -d)"
  (
    cd "$w"
    go mod init swk/coredns-build >/dev/null 2>&1
    go get "github.com/coredns/coredns@$COREDNS_VERSION" >/dev/null 2>&1 || go get "github.com/coredns/coredns@$COREDNS_VERSION"
    python3 - "$(module_dir "k8s.io/kubernetes@$K8S_VERSION")/cmd/kubeadm/app/phases/addons/dns/manifests.go" \
      "$(module_dir "github.com/coredns/coredns@$COREDNS_VERSION")/plugin.cfg" >main.go <<'PY'
import re, sys
manifest = open(sys.argv[1]).read()
corefile = re.search(r"^  Corefile: \|\n(.*?)^    }\n", manifest, re.M | re.S).group(1)
directives = re.findall(r"^ {8}([a-z0-9_]+)\b", corefile, re.M)
packages = dict(line.strip().split(":", 1) for line in open(sys.argv[2]) if ":" in line and not line.startswith("#"))
missing = [d for d in directives if d not in packages]
assert directives and not missing, "kubeadm's Corefile names plugins CoreDNS's plugin.cfg lacks: %s" % missing
imports = "".join('\t_ "%s"\n' % (packages[d] if "/" in packages[d] else "github.com/coredns/coredns/plugin/" + packages[d])
                  for d in directives)
print('package main\n\nimport (\n\t"github.com/coredns/coredns/coremain"\n%s)\n\nfunc main() { coremain.Run() }' % imports)
PY
    kind_log "go build CoreDNS $COREDNS_VERSION with kubeadm's Corefile plugins: $(grep -o 'plugin/[a-z0-9]*' main.go | cut -d/ -f2 | tr '\n' ' ')"
    mkdir -p "$(dirname "$dest")"
    go build -trimpath -ldflags "-s -w" -o "$dest.tmp" .
  )
  rm -rf "$w"
  mv "$dest.tmp" "$dest"
}

# The images kubeadm and kind's manifests run, into one tar for the node's containerd.
build_node_images() {
  local out=$1 k8s_bin="$SWK_BIN/kubernetes-$K8S_VERSION" gobin="$KIND_CACHE/bin"
  local expected; expected="$("$k8s_bin/kubeadm" config images list --kubernetes-version "$K8S_VERSION")"
  local want_etcd="$K8S_IMAGE_REPO/etcd:$KUBEADM_ETCD_IMAGE_VERSION" want_dns="$K8S_IMAGE_REPO/coredns/coredns:$COREDNS_VERSION"
  local pause; pause="$(sed -n 's|^registry.k8s.io/pause:||p' <<<"$expected")"
  local img
  for img in "$want_etcd" "$want_dns"; do
    grep -qx "$img" <<<"$expected" || { kind_log "kubeadm $K8S_VERSION expects other images than versions.env pins:"; echo "$expected" >&2; exit 1; }
  done
  # etcd: the local control plane's build (tests/cluster/build.sh), one version for both.
  if [ "v${KUBEADM_ETCD_IMAGE_VERSION%-*}" != "$ETCD_VERSION" ]; then
    kind_log "versions.env: ETCD_VERSION=$ETCD_VERSION is not the etcd kubeadm runs (KUBEADM_ETCD_IMAGE_VERSION=$KUBEADM_ETCD_IMAGE_VERSION): set them alike"; exit 1
  fi
  local etcd_bin; etcd_bin="$("$SWK_ROOT/tests/cluster/build.sh" etcd)" || exit 1
  local dns_bin="$gobin/coredns-$COREDNS_VERSION-kubeadm/coredns"
  build_coredns "$dns_bin"
  go_build "$gobin/local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION/local-path-provisioner" \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_PROVISIONER_VERSION" github.com/rancher/local-path-provisioner \
    "-X main.VERSION=$LOCAL_PATH_PROVISIONER_VERSION"
  # pause: Kubernetes' own pause.c, static.
  local pause_bin="$gobin/pause-$pause/pause"
  if [ ! -x "$pause_bin" ]; then
    local src; src="$(module_dir "k8s.io/kubernetes@$K8S_VERSION")/build/pause/linux/pause.c"
    mkdir -p "$(dirname "$pause_bin")"
    gcc -Os -Wall -Werror -static -DVERSION="v$pause-swk" -o "$pause_bin" "$src"
  fi
  # The helper pod of local-path-provisioner runs sh, mkdir and rm: Debian's busybox-static.
  local bb="$KIND_CACHE/busybox/bin/busybox"
  if [ ! -x "$bb" ]; then
    local w; w="$(mktemp -d)"
    (cd "$w" && apt-get download -qq busybox-static 2>/dev/null && dpkg -x busybox-static_*.deb x)
    mkdir -p "$(dirname "$bb")"; install -m 0755 "$w/x/bin/busybox" "$bb"; rm -rf "$w"
  fi

  local names=()
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    binary_image "$K8S_IMAGE_REPO/$c:$K8S_VERSION" "$k8s_bin/$c" "/usr/local/bin/$c"; names+=("$K8S_IMAGE_REPO/$c:$K8S_VERSION")
  done
  local ctx; ctx="$(mktemp -d)"
  install -m 0755 "$k8s_bin/kube-proxy" "$ctx/kube-proxy"
  docker build -q -f "$kind_here/node/kube-proxy.Dockerfile" --build-arg "ROOTFS=$(rootfs_image tools)" \
    -t "$K8S_IMAGE_REPO/kube-proxy:$K8S_VERSION" "$ctx" >/dev/null
  rm -rf "$ctx"; names+=("$K8S_IMAGE_REPO/kube-proxy:$K8S_VERSION")
  binary_image "$want_etcd" "$etcd_bin" /usr/local/bin/etcd; names+=("$want_etcd")
  binary_image "$want_dns" "$dns_bin" /coredns '["/coredns"]'; names+=("$want_dns")
  # kubeadm's pause, and the one kind's containerd config names as its sandbox image.
  binary_image "$K8S_IMAGE_REPO/pause:$pause" "$pause_bin" /pause '["/pause"]'; names+=("$K8S_IMAGE_REPO/pause:$pause")
  docker tag "$K8S_IMAGE_REPO/pause:$pause" "$(sandbox_image)"; names+=("$(sandbox_image)")
  binary_image "$(storage_image provisioner)" \
    "$gobin/local-path-provisioner-$LOCAL_PATH_PROVISIONER_VERSION/local-path-provisioner" /usr/local/bin/local-path-provisioner
  names+=("$(storage_image provisioner)")
  local d; d="$(mktemp -d)"; mkdir -p "$d/bin" "$d/tmp"
  install -m 0755 "$bb" "$d/bin/busybox"; for a in sh mkdir rm ls cat; do ln -s busybox "$d/bin/$a"; done
  tar -C "$d" -c . | docker import --change 'ENV PATH=/bin' - "$(storage_image helper)" >/dev/null; rm -rf "$d"
  names+=("$(storage_image helper)")
  docker save -o "$out" "${names[@]}"
  # Only the node needs them; the host's image store keeps none of the registry.k8s.io names.
  docker rmi "${names[@]}" >/dev/null
}

sandbox_image() { sed -n 's/^ *sandbox_image *= *"\(.*\)"/\1/p' "$(module_dir "sigs.k8s.io/kind@$KIND_VERSION")/images/base/files/etc/containerd/config.toml"; }
storage_image() {
  case $1 in
    provisioner) echo "swk.local/local-path-provisioner:$LOCAL_PATH_PROVISIONER_VERSION" ;;
    helper) echo "swk.local/local-path-helper:busybox-$DEBIAN_SUITE" ;;
  esac
}

# kind's storage manifest (a Go string constant in its module), with our image names.
storage_manifest() {
  python3 - "$(module_dir "sigs.k8s.io/kind@$KIND_VERSION")/pkg/build/nodeimage/const_storage.go" \
    "$(storage_image provisioner)" "$(storage_image helper)" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
consts = dict(re.findall(r'^const (\w+) = "([^"]*)"', src, re.M))
body = re.search(r'^const defaultStorageManifest = `(.*?)^`$', src, re.M | re.S).group(1)
body = body.replace("` + storageProvisionerImage + `", sys.argv[2]).replace("` + storageHelperImage + `", sys.argv[3])
assert "` + " not in body, "kind's storage manifest has a part this script does not know"
print(body)
PY
}

build_node() {
  local image key; image="$(node_image)"; key="$(node_image_key)"
  if image_current "$image" "$key"; then return 0; fi
  timed "kubernetes-node-binaries" "$SWK_ROOT/tests/cluster/build.sh" kubernetes-node >/dev/null
  build_tools
  timed rootfs-node build_rootfs node
  timed rootfs-tools build_rootfs tools
  local kinddir; kinddir="$(module_dir "sigs.k8s.io/kind@$KIND_VERSION")"
  local base="swk.local/kind-base:$DEBIAN_SUITE"
  local base_key; base_key="$(kind_key "$kind_here/node/Dockerfile" "$kind_here/node/10-swk-ptp.conflist" "$kind_here/rootfs/node.packages" -- "$KIND_VERSION" "$DEBIAN_SUITE")"
  if ! image_current "$base" "$base_key"; then
    local ctx; ctx="$(mktemp -d)"
    cp -r "$kinddir/images/base/files" "$ctx/kind-files"; chmod -R u+w "$ctx/kind-files"
    cp "$kind_here/node/Dockerfile" "$kind_here/node/10-swk-ptp.conflist" "$ctx/"
    kind_log "base image $base"
    timed "base-image" docker build -q --build-arg "ROOTFS=$(rootfs_image node)" --label "$KEY_LABEL=$base_key" -t "$base" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
  local work; work="$(mktemp -d)"
  timed "node-component-images" build_node_images "$work/images.tar"
  storage_manifest > "$work/default-storage.yaml"
  local t0; t0=$(date +%s)
  kind_log "assembling $image"
  local cid; cid="$(docker run -d --privileged --entrypoint=sleep "$base" infinity)"
  local k8s_bin="$SWK_BIN/kubernetes-$K8S_VERSION" b
  for b in kubeadm kubelet kubectl; do docker cp "$k8s_bin/$b" "$cid:/usr/bin/$b"; done
  docker cp "$CRICTL_BIN_DIR/crictl" "$cid:/usr/local/bin/crictl"
  docker exec "$cid" mkdir -p /kind/manifests
  docker cp "$work/default-storage.yaml" "$cid:/kind/manifests/default-storage.yaml"
  docker cp "$kind_here/node/default-cni.yaml" "$cid:/kind/manifests/default-cni.yaml"
  docker cp "$work/images.tar" "$cid:/kind/images.tar"
  docker exec -e "K8S_VERSION=$K8S_VERSION" "$cid" bash -euc '
    echo "$K8S_VERSION" > /kind/version
    chmod 0755 /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl /usr/local/bin/crictl
    containerd >/tmp/containerd.log 2>&1 & pid=$!
    for i in $(seq 1 60); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && break; sleep 1; done
    ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests /kind/images.tar
    ctr --namespace=k8s.io images list -q
    kill $pid; wait $pid || true
    rm -f /kind/images.tar /tmp/containerd.log' >&2
  docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' \
    --change "LABEL $KEY_LABEL=$key" \
    "$cid" "$image" >/dev/null
  docker rm -f "$cid" >/dev/null
  rm -rf "$work"
  timings+=("node-assemble $(( $(date +%s) - t0 ))s")
  kind_log "node image $image built"
}

# App images: tests/kind/images/<name>/ holds a recipe: a Dockerfile and its files, and a
# build.env with ROOTFS (the rootfs flavour it starts FROM), TAG, optional WHEELS (a PyPI
# requirements file whose wheels are fetched on the host and installed offline in the build)
# and optional VARIANTS ("<tag>=<BUILD_ARG>=<value>" ...: the same recipe with one build
# argument set, e.g. a migration made to fail). An optional prepare.sh <context> runs last.
# For an image recipe the collection ships to operators (images/<system>/), build.env sets
# RECIPE=<that directory, relative to the repository root>: its files come first in the build
# context and the test directory's files are added over them; BASE_ARG names the build argument
# that receives the rootfs image (default ROOTFS), BUILD_ARGS adds "<ARG>=<value>" ones.
build_app() {
  local name=$1 dir="$kind_here/images/$1" key; key="$(app_image_key "$1")"
  local images; images="$(app_tags "$name")"
  local missing=0 i
  for i in $images; do image_current "$i" "$key" || missing=1; done
  [ $missing = 0 ] && return 0
  local ROOTFS="" TAG="" WHEELS="" VARIANTS="" RECIPE="" BASE_ARG=ROOTFS BUILD_ARGS=""
  # shellcheck source=/dev/null
  . "$dir/build.env"
  build_rootfs "$ROOTFS"
  local ctx; ctx="$(mktemp -d)"
  if [ -n "$RECIPE" ]; then cp -r "$SWK_ROOT/$RECIPE/." "$ctx/"; fi
  cp -r "$dir/." "$ctx/"
  if [ -n "$WHEELS" ]; then
    # Keyed by the requirements file and, for a shipped recipe, its files (constraints it names).
    local cache; cache="$KIND_CACHE/wheels/$name-$(kind_key "$dir/$WHEELS" ${RECIPE:+"$SWK_ROOT/$RECIPE"})"
    if [ ! -f "$cache/.complete" ]; then
      rm -rf "$cache"; mkdir -p "$cache"
      pip download -q --only-binary=:all: --python-version 3.11 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform linux_x86_64 -d "$cache" -r "$dir/$WHEELS" >&2
      touch "$cache/.complete"
    fi
    mkdir -p "$ctx/wheels"; cp "$cache"/*.whl "$ctx/wheels/"
  fi
  if [ -x "$dir/prepare.sh" ]; then "$dir/prepare.sh" "$ctx"; fi
  kind_log "app image swk.local/$name:$TAG${VARIANTS:+ (+ $VARIANTS)}"
  local common=(-q --build-arg "$BASE_ARG=$(rootfs_image "$ROOTFS")" --label "$KEY_LABEL=$key") a
  for a in $BUILD_ARGS; do common+=(--build-arg "$a"); done
  docker build "${common[@]}" -t "swk.local/$name:$TAG" "$ctx" >/dev/null
  local v
  for v in $VARIANTS; do
    docker build "${common[@]}" --build-arg "${v#*=}" -t "swk.local/$name:${v%%=*}" "$ctx" >/dev/null
  done
  rm -rf "$ctx"
}
build_apps() {
  local n
  for n in $(app_names); do timed "app-$n" build_app "$n"; done
}

list_images() {
  local n
  for n in $(app_names); do app_tags "$n"; done
}

start=$(date +%s)
case "${1:-all}" in
  tools) build_tools ;;
  node) build_node ;;
  apps) build_apps ;;
  all) timed tools build_tools; build_node; build_apps ;;
  list) list_images; exit 0 ;;
  node-image) node_image; exit 0 ;;
  *) echo "usage: $0 [all|tools|node|apps|list|node-image]" >&2; exit 2 ;;
esac
kind_log "build ${1:-all} done in $(( $(date +%s) - start ))s${timings:+: ${timings[*]}}"
