#!/usr/bin/env bash
# The main job on the local default: set up, start the local cluster and Postgres (or kind when
# a Docker engine answers), deploy Statewave with the `local` inventory, print the summary.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
start=$(date +%s)
cd "$SWK_ROOT"
if [ "${SWK_USE_KIND:-auto}" != never ] && docker info >/dev/null 2>&1 && command -v kind >/dev/null; then
  echo "[up] a Docker engine answers: deploying to a kind cluster (molecule/kind; SWK_USE_KIND=never to skip)"
  "$SWK_ROOT/hack/setup-python.sh"
  molecule converge -s kind
  echo "[up] done in $(( $(date +%s) - start ))s. Remove the kind cluster: molecule destroy -s kind"
  exit 0
fi
"$SWK_ROOT/hack/setup.sh"
"$SWK_ROOT/hack/services.sh" up
ansible-playbook -i inventories/local playbooks/site.yml
echo "[up] done in $(( $(date +%s) - start ))s. Cluster: kubectl --kubeconfig $SWK_KUBECONFIG get all -n statewave; stop everything: make down"
