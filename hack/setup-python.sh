#!/usr/bin/env bash
# Create (once per requirements hash) the virtualenv with Ansible and the test tools, and link
# the repository into .collections/ so playbooks resolve statewave.kubernetes.* to this tree.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ ! -f "$SWK_VENV/.complete" ]; then
  echo "[setup] creating Python venv $SWK_VENV (cold: about 2 min)" >&2
  rm -rf "$SWK_VENV"
  python3 -m venv "$SWK_VENV"
  "$SWK_VENV/bin/pip" install -q --upgrade pip >&2
  "$SWK_VENV/bin/pip" install -q -r "$SWK_ROOT/test-requirements.txt" >&2
  touch "$SWK_VENV/.complete"
fi
link="$SWK_ROOT/.collections/ansible_collections/statewave/kubernetes"
mkdir -p "$(dirname "$link")"
[ -L "$link" ] || ln -sfn ../../.. "$link"
