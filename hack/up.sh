#!/usr/bin/env bash
# The main job on the local default: set up, start the local cluster and Postgres (or kind when
# a Docker engine answers), deploy Statewave with the `local` inventory, print the summary.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
start=$(date +%s)
"$SWK_ROOT/hack/setup.sh"
"$SWK_ROOT/hack/services.sh" up
cd "$SWK_ROOT"
ansible-playbook -i inventories/local tests/local/prepare_database.yml
ansible-playbook -i inventories/local playbooks/site.yml
echo "[up] done in $(( $(date +%s) - start ))s. Cluster: kubectl --kubeconfig $SWK_KUBECONFIG get all -n statewave; stop everything: make down"
