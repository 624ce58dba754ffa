#!/usr/bin/env bash
# The main job: set up, start a cluster and its database, deploy Statewave with the `local`
# inventory, print the verification summary. SWK_TARGET says where (inventories/local/group_vars/all/target.yml):
#   kwok (default)  the local control plane (pods simulated by kwok) + PostgreSQL 16 + pgvector on 127.0.0.1
#   kind            a kind cluster with real pods (tests/kind): Docker engine, node and app images
#                   built here, the database in the cluster, the Statewave STAND-IN image
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
start=$(date +%s)
cd "$SWK_ROOT"
export SWK_TARGET="${SWK_TARGET:-kwok}"
case "$SWK_TARGET" in
  kwok)
    "$SWK_ROOT/hack/setup.sh"
    "$SWK_ROOT/hack/services.sh" up
    ansible-playbook -i inventories/local playbooks/site.yml
    echo "[up] done in $(( $(date +%s) - start ))s (kwok: pods simulated). Cluster: kubectl --kubeconfig $SWK_KUBECONFIG get all -n statewave; stop everything: make down"
    ;;
  kind)
    "$SWK_ROOT/hack/setup.sh"
    "$SWK_ROOT/tests/kind/cluster.sh" up-load
    ansible-playbook -i inventories/local playbooks/site.yml
    echo "[up] done in $(( $(date +%s) - start ))s (kind: real pods). Cluster: kubectl --kubeconfig $SWK_STATE_DIR/kind/kubeconfig get pods -n statewave; stop everything: make down"
    ;;
  *) echo "[up] SWK_TARGET=$SWK_TARGET: use kwok (the default) or kind" >&2; exit 2 ;;
esac
