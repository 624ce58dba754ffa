#!/usr/bin/env bash
# Start or stop the local test services: the Kubernetes control plane and both Postgres servers.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
case "${1:-}" in
  up)
    "$SWK_ROOT/tests/cluster/cluster.sh" up
    python "$SWK_ROOT/tests/postgres/pgctl.py" start
    ;;
  down)
    python "$SWK_ROOT/tests/postgres/pgctl.py" stop || true
    "$SWK_ROOT/tests/cluster/cluster.sh" down
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
