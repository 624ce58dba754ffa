#!/usr/bin/env bash
# The benchmark (not part of make test): site.yml against raw helm on the local control plane,
# medians of --runs runs (default 3), each against its baseline measured in the same run.
#   hack/bench.sh [--runs N] [--hosts 1,3,5] [--no-single] [--slowest N]
#   hack/bench.sh --kubeconfig PATH [--context NAME]   another cluster (e.g. kind); the local
#                                                       Postgres server still holds the databases
# Without --kubeconfig it starts the local services it needs (hack/services.sh up) and stops
# them again only if it started them. Output: hack/bench.py's docstring says what is measured.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$SWK_ROOT"
"$SWK_ROOT/hack/setup.sh" >/dev/null
kubeconfig="${SWK_BENCH_KUBECONFIG:-}"
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = --kubeconfig ]; then j=$((i + 1)); kubeconfig="${!j:-}"; fi
  case "${!i}" in --kubeconfig=*) kubeconfig="${!i#--kubeconfig=}" ;; esac
done
started=()
if [ -z "$kubeconfig" ] && ! tests/cluster/cluster.sh status >/dev/null 2>&1; then
  tests/cluster/cluster.sh up && started+=(cluster)
fi
if ! python tests/postgres/pgctl.py status >/dev/null 2>&1; then
  python tests/postgres/pgctl.py start && started+=(postgres)
fi
stop() {
  for s in "${started[@]}"; do
    case "$s" in
      cluster) tests/cluster/cluster.sh down ;;
      postgres) python tests/postgres/pgctl.py stop ;;
    esac
  done
}
trap stop EXIT
python hack/bench.py "$@"
