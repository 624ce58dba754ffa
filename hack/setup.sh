#!/usr/bin/env bash
# Everything a fresh machine needs, idempotent and cached: Debian's postgresql-15 (the server
# without pgvector, for negative tests), the Python venv, and the Go builds of the control
# plane and helm (tests/cluster/build.sh, cached outside the repository by version).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
  echo "[setup] installing Debian postgresql-15" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql-15 >&2
fi
"$SWK_ROOT/hack/setup-python.sh"
"$SWK_ROOT/tests/cluster/build.sh" all >/dev/null
