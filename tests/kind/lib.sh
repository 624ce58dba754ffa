# Shared by tests/kind/build.sh and tests/kind/cluster.sh (source it): paths, pinned versions,
# the names of the images built here and the keys that decide when one is rebuilt.
#
# Every image built here is named under swk.local/ (never a name of a published image), except
# the ones kubeadm runs itself, which must carry the names kubeadm expects
# (registry.k8s.io/kube-apiserver:vX, ...); those exist only inside the node image.
# Each image carries a label swk.recipe-key: a hash of the pinned versions and recipe files it
# is made from. An image whose label matches the current key is not rebuilt.
# shellcheck shell=bash
kind_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null
. "$kind_here/../../hack/env.sh"
# shellcheck source=/dev/null
. "$kind_here/../cluster/versions.env"

KIND_CACHE="$SWK_CACHE_DIR/kind"
KIND_BIN_DIR="$SWK_BIN/kind-$KIND_VERSION"
CRICTL_BIN_DIR="$SWK_BIN/crictl-$CRICTL_VERSION"
KIND_STATE="$SWK_STATE_DIR/kind"
KIND_CLUSTER_NAME="${SWK_KIND_CLUSTER_NAME:-swk}"
KIND_KUBECONFIG="${SWK_KIND_KUBECONFIG:-$KIND_STATE/kubeconfig}"
case ":$PATH:" in *":$KIND_BIN_DIR:"*) ;; *) PATH="$KIND_BIN_DIR:$PATH" ;; esac
export PATH KIND_KUBECONFIG
# The legacy builder: it builds FROM a local image without asking a registry.
export DOCKER_BUILDKIT=0

kind_log() { printf '[kind] %s\n' "$*" >&2; }

# key <file or dir>... [-- <string>...]: 10 hex digits over the files' contents and the strings.
# Paths enter the key relative to the repository, so that every checkout (a CI clone, a worktree)
# finds the images another one built from the same inputs.
kind_key() {
  local files=() strings=() seen=0 a
  for a in "$@"; do
    if [ "$a" = -- ]; then seen=1; continue; fi
    if [ $seen = 1 ]; then strings+=("$a"); else files+=("$a"); fi
  done
  {
    if [ ${#files[@]} -gt 0 ]; then
      find "${files[@]}" -type f -not -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum \
        | sed "s#  $SWK_ROOT/#  #"
    fi
    printf '%s\n' "${strings[@]}"
  } | sha256sum | cut -c1-10
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
KEY_LABEL=swk.recipe-key
# image_current <image> <key>: the image exists and was built from these inputs.
image_current() {
  [ "$(docker image inspect -f "{{ index .Config.Labels \"$KEY_LABEL\" }}" "$1" 2>/dev/null)" = "$2" ]
}

# Images kubeadm runs (names it expects), and the rest of the node's images.
K8S_IMAGE_REPO=registry.k8s.io
# The node image: one key over every input that ends up in it.
node_image_key() {
  kind_key "$kind_here/node" "$kind_here/rootfs" "$kind_here/build.sh" -- "$KIND_VERSION" "$K8S_VERSION" "$CRICTL_VERSION" "$KUBEADM_ETCD_IMAGE_VERSION" "$ETCD_VERSION" \
    "$COREDNS_VERSION" "$LOCAL_PATH_PROVISIONER_VERSION" "$DEBIAN_SUITE"
}
node_image() { echo "swk.local/kind-node:$K8S_VERSION"; }

# The app images the scenarios load into the cluster (recipes under tests/kind/images/<name>/,
# whose build.env names the rootfs, the tag and optional variants).
app_image_key() {
  local recipe; recipe="$(RECIPE=""; . "$kind_here/images/$1/build.env"; echo "$RECIPE")"
  kind_key "$kind_here/images/$1" "$kind_here/rootfs" ${recipe:+"$SWK_ROOT/$recipe"} -- "$DEBIAN_SUITE"
}
app_names() { (cd "$kind_here/images" && ls -d -- */ | tr -d /); }
app_tags() {  # every image of one recipe (name:tag), the recipe's own tag first
  ( TAG="" VARIANTS=""
    # shellcheck source=/dev/null
    . "$kind_here/images/$1/build.env"
    echo "swk.local/$1:$TAG"
    for v in $VARIANTS; do echo "swk.local/$1:${v%%=*}"; done )
}
