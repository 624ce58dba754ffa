#!/usr/bin/env bash
# The execution environment (execution-environment.yml, ansible-builder v3).
#
#   hack/ee.sh create   stage the pinned helm and kubectl into .cache/ee/tools, run
#                       `ansible-builder create` into $SWK_CACHE_DIR/ee-context and check the
#                       context (the lint stage runs this; no container engine needed)
#   hack/ee.sh build    create, then build the image with the Docker engine from the base image
#                       SWK_EE_BASE_IMAGE (default swk.local/rootfs-python:bookworm, built on this
#                       machine, no registry) and run `ansible-playbook --version` and
#                       `helm version` in it. Optional: exits 0 with a one-line SKIP when
#                       `docker info` fails or the base image is not there.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$SWK_ROOT"
context="${SWK_EE_CONTEXT:-$SWK_CACHE_DIR/ee-context}"
base="${SWK_EE_BASE_IMAGE:-swk.local/rootfs-python:bookworm}"
tag="${SWK_EE_TAG:-statewave-kubernetes-ee:0.1.0}"

stage_tools() {
  local tools="$SWK_ROOT/.cache/ee/tools" t src
  mkdir -p "$tools"
  for t in helm kubectl; do
    src="$(command -v "$t" || true)"
    case "$src" in
      "$SWK_BIN"/*) ;;
      *) echo "[ee] no pinned $t under $SWK_BIN (run hack/setup.sh, which builds it)" >&2; return 1 ;;
    esac
    cp -f "$src" "$tools/$t"
  done
  # The CA bundle pip trusts during the build (execution-environment.yml removes it from the image).
  local ca="${SWK_EE_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt}"
  [ -f "$ca" ] || { echo "[ee] no CA bundle at $ca (set SWK_EE_BUILD_CA)" >&2; return 1; }
  cp -f "$ca" "$tools/build-ca.crt"
}

check_context() {  # what the build needs is in the context, and the Containerfile uses it
  local f missing=0
  for f in Containerfile _build/requirements.txt _build/bindep.txt _build/requirements.yml \
           _build/tools/helm _build/tools/kubectl _build/tools/build-ca.crt _build/scripts/assemble; do
    [ -e "$context/$f" ] || { echo "[ee] context lacks $f" >&2; missing=1; }
  done
  grep -q '^ARG EE_BASE_IMAGE="swk.local/rootfs-python:bookworm"' "$context/Containerfile" || { echo "[ee] Containerfile: base image" >&2; missing=1; }
  grep -q 'ansible==12.3.0' "$context/Containerfile" || { echo "[ee] Containerfile: ansible pin" >&2; missing=1; }
  grep -q 'COPY _build/tools/helm _build/tools/kubectl /usr/local/bin/' "$context/Containerfile" || { echo "[ee] Containerfile: tools" >&2; missing=1; }
  grep -qx 'kubernetes.core' <(python -c 'import sys,yaml; [print(c["name"]) for c in yaml.safe_load(open(sys.argv[1]))["collections"]]' "$context/_build/requirements.yml") \
    || { echo "[ee] context: collection requirements" >&2; missing=1; }
  cmp -s "$context/_build/requirements.txt" requirements.txt || { echo "[ee] context: requirements.txt differs" >&2; missing=1; }
  [ $missing -eq 0 ]
}

create() {
  stage_tools
  rm -rf "$context"
  ansible-builder create -f execution-environment.yml -c "$context" --output-filename Containerfile >/dev/null
  check_context
  echo "[ee] ansible-builder create: context in $context ($(find "$context" -type f | wc -l) files), checked"
}

build() {
  if ! docker info >/dev/null 2>&1; then echo "[ee] SKIP build: no container engine answers 'docker info'"; return 0; fi
  if ! docker image inspect "$base" >/dev/null 2>&1; then echo "[ee] SKIP build: base image $base is not on this machine"; return 0; fi
  create
  ansible-builder build -f execution-environment.yml -c "$context" --container-runtime docker --tag "$tag" \
    --build-arg EE_BASE_IMAGE="$base" -v 1
  docker run --rm "$tag" ansible-playbook --version
  docker run --rm "$tag" helm version --short
  echo "[ee] built $tag from $base"
}

case "${1:-}" in
  create) create ;;
  build) build ;;
  *) echo "usage: $0 create|build" >&2; exit 2 ;;
esac
