#!/usr/bin/env bash
# Shared paths for every project script. Source it; it defines and exports:
#   SWK_ROOT       the repository (= the collection root)
#   SWK_CACHE_DIR  builds and the Python venv, outside the repository, keyed by version
#   SWK_STATE_DIR  runtime state of the local cluster and Postgres servers (in .cache/)
#   SWK_VENV       the Python virtualenv with Ansible and the test tools
#   SWK_KUBECONFIG the local cluster's kubeconfig (known path)
SWK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SWK_CACHE_DIR="${SWK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/statewave-kubernetes}"
SWK_STATE_DIR="${SWK_STATE_DIR:-$SWK_ROOT/.cache/state}"
_req_hash="$(cat "$SWK_ROOT/requirements.txt" "$SWK_ROOT/test-requirements.txt" | sha256sum | cut -c1-12)"
SWK_VENV="${SWK_VENV:-$SWK_CACHE_DIR/venv-py3.11-$_req_hash}"
SWK_KUBECONFIG="$SWK_STATE_DIR/kubeconfig"
export SWK_ROOT SWK_CACHE_DIR SWK_STATE_DIR SWK_VENV SWK_KUBECONFIG
export ANSIBLE_CONFIG="$SWK_ROOT/ansible.cfg"
case ":$PATH:" in *":$SWK_VENV/bin:"*) ;; *) PATH="$SWK_VENV/bin:$PATH" ;; esac
export PATH
# Built tools (tests/cluster/build.sh) on PATH, by pinned version.
# shellcheck source=/dev/null
. "$SWK_ROOT/tests/cluster/versions.env"
SWK_BIN="$SWK_CACHE_DIR/bin"
for _d in "helm-$HELM_VERSION" "kwok-$KWOK_VERSION" "etcd-$ETCD_VERSION" "kubernetes-$K8S_VERSION"; do
  case ":$PATH:" in *":$SWK_BIN/$_d:"*) ;; *) PATH="$SWK_BIN/$_d:$PATH" ;; esac
done
export SWK_BIN PATH
# SWK_MITOGEN=1: run playbooks with Mitogen for Ansible (mitogen, pinned in test-requirements.txt),
# the optional faster executor of the same modules (README, Benchmark).
if [ "${SWK_MITOGEN:-0}" = 1 ]; then
  ANSIBLE_STRATEGY_PLUGINS="$SWK_VENV/lib/python3.11/site-packages/ansible_mitogen/plugins/strategy"
  ANSIBLE_STRATEGY=mitogen_linear
  export ANSIBLE_STRATEGY_PLUGINS ANSIBLE_STRATEGY
fi
unset _d _req_hash
