#!/usr/bin/env bash
# prepare.sh <build context>: Debian 12's redis-tools (the Redis 7.0 server and CLI) and the
# libraries the "tools" rootfs lacks, as .deb files for the Dockerfile (apt-get download from the
# host's bookworm package lists, read again once when they are missing or outdated).
set -euo pipefail
ctx=$1
mkdir -p "$ctx/debs"
pkgs=(redis-tools libjemalloc2 liblzf1 libatomic1)
if ! (cd "$ctx/debs" && apt-get download -qq "${pkgs[@]}" 2>/dev/null); then
  s=""; [ "$(id -u)" = 0 ] || s=sudo
  $s apt-get update -qq >&2
  (cd "$ctx/debs" && apt-get download -qq "${pkgs[@]}" 2>/dev/null)
fi
ls "$ctx"/debs/*.deb >/dev/null
