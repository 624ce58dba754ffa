#!/usr/bin/env bash
# Start or stop the local test services.
#   up        the Kubernetes control plane (kwok) and both Postgres servers
#   down      stop those
#   down-all  those, the kind cluster, and the Docker engine if hack/engine.sh started it
#             (an engine it did not start is left alone): what `make down` runs
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
  down-all)
    "$0" down
    "$SWK_ROOT/tests/kind/cluster.sh" down || true
    "$SWK_ROOT/hack/engine.sh" down
    ;;
  *) echo "usage: $0 up|down|down-all" >&2; exit 2 ;;
esac
