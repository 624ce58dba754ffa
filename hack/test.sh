#!/usr/bin/env bash
# Every test of the collection. `hack/test.sh all` (= make test, = .ci/run) runs, in order:
#   lint         yamllint and ansible-lint (production profile)
#   sanity       ansible-test sanity on a copy of the collection at an ansible_collections/ path
#   unit         pytest tests/unit
#   molecule     molecule test -s default (local control plane); -s kind only with a Docker engine
#   integration  pytest tests/integration against the local cluster and Postgres servers
# A single stage: hack/test.sh <stage>. Stages that need services start and stop them.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$SWK_ROOT"
results=()
failed=0

run_pytest() {  # pytest exits 5 when it collects nothing: report it, do not fail the stage.
  python -m pytest "$@"; local rc=$?
  if [ $rc -eq 5 ]; then echo "[test] pytest collected no tests in: $*"; return 0; fi
  return $rc
}

# setup (as make up) plus the test-only OCI registry, so the integration stage builds nothing.
stage_build() { hack/setup.sh && tests/cluster/build.sh registry >/dev/null; }

stage_lint() {
  yamllint -s . && ansible-lint --profile production && collection_build
}

collection_build() {  # what Galaxy and AWX get: builds, and carries the modules but no caches
  local out; out="$(mktemp -d)"
  ansible-galaxy collection build --output-path "$out" . >/dev/null || { rm -rf "$out"; return 1; }
  local tarball; tarball="$(ls "$out"/statewave-kubernetes-*.tar.gz)"
  local listing; listing="$(tar -tzf "$tarball")"
  rm -rf "$out"
  grep -qx 'plugins/modules/connection_budget.py' <<<"$listing" || { echo "[lint] build lacks the modules" >&2; return 1; }
  if grep -qE '^(\.cache|\.collections|\.venv)/' <<<"$listing"; then echo "[lint] build carries local state" >&2; return 1; fi
  echo "[lint] ansible-galaxy collection build: $(basename "$tarball"), $(wc -l <<<"$listing") entries"
}

stage_sanity() {
  # Outside the repository: inside it, ansible-test would list files through our git and skip .cache/.
  local dest="$SWK_CACHE_DIR/sanity/ansible_collections/statewave/kubernetes"
  rm -rf "$dest"; mkdir -p "$dest"
  # The tracked and new (not ignored) files, as a build would see them.
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && mkdir -p "$dest/$(dirname "$f")" && cp -a "$f" "$dest/$f"
  done
  # --venv would bootstrap pip from a host outside the package registries; a venv of our own
  # with only ansible-core (the version CI pins) and --local --requirements uses PyPI alone.
  local core; core="$(sed -n 's/^ansible-core==//p' test-requirements.txt)"
  local venv="$SWK_CACHE_DIR/venv-sanity-$core"
  if [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv" && python3 -m venv "$venv" && "$venv/bin/pip" install -q "ansible-core==$core" && touch "$venv/.complete" || return 1
  fi
  # Its per-test venvs start without pip and fetch a get-pip script from outside the registries:
  # put our PyPI-only bootstrap where ansible-test caches that script.
  local pipv; pipv="$(sed -n "s/^ *pip='\([0-9.]*\)',$/\1/p" "$venv"/lib/python3.*/site-packages/ansible_test/_internal/python_requirements.py)"
  [ -n "$pipv" ] || { echo "[sanity] cannot read ansible-test's pinned pip version" >&2; return 1; }
  mkdir -p "$HOME/.ansible/test/cache"
  cp hack/pip_bootstrap.py "$HOME/.ansible/test/cache/get_pip_${pipv//./_}.py"
  (cd "$dest" && "$venv/bin/ansible-test" sanity --local --python 3.11 --color no --requirements)
}

stage_unit() { run_pytest tests/unit -q -p no:cacheprovider; }

stage_molecule() {
  molecule test -s default || return 1
  if docker info >/dev/null 2>&1; then
    molecule test -s kind
  else
    echo "[test] SKIP molecule kind: no Docker engine answers 'docker info' on this machine (kind needs one)"
  fi
}

# Two pytest-xdist workers (SWK_TEST_WORKERS; 0 runs in one process). --dist loadfile: a file is
# the unit, so the tests of a file that share its module-scoped state (a deployed release, a
# throwaway server, the CRDs some tests delete and restore) run on one worker, one after another.
# Every test has namespaces, releases and databases of its own, and each worker its own port
# range for throwaway servers (tests/postgres/pglocal.py free_port).
stage_integration() {
  hack/services.sh up || return 1
  local workers="${SWK_TEST_WORKERS:-2}" xdist=()
  [ "$workers" -gt 0 ] && xdist=(-n "$workers" --dist loadfile)
  SWK_REQUIRE_SERVICES=1 run_pytest tests/integration -q -p no:cacheprovider "${xdist[@]}" --durations=20; local rc=$?
  hack/services.sh down
  return $rc
}

run_stage() {
  local s=$1 t0; t0=$(date +%s)
  echo "::: stage $s"
  if "stage_$s"; then results+=("$s: ok ($(( $(date +%s) - t0 ))s)")
  else results+=("$s: FAILED ($(( $(date +%s) - t0 ))s)"); failed=$((failed + 1)); fi
}

case "${1:-all}" in
  all) stages=(build lint sanity unit molecule integration) ;;
  build|lint|sanity|unit|molecule|integration) stages=("$1") ;;
  *) echo "usage: $0 [all|build|lint|sanity|unit|molecule|integration]" >&2; exit 2 ;;
esac
for s in "${stages[@]}"; do run_stage "$s"; done
printf '%s\n' "${results[@]}"
echo "test stages: $(( ${#stages[@]} - failed )) passed, $failed failed"
[ $failed -eq 0 ]
