#!/usr/bin/env bash
# Every test of the collection. `hack/test.sh all` (= make test, = .ci/run) runs, in order:
#   lint         yamllint and ansible-lint (production profile)
#   sanity       ansible-test sanity on a copy of the collection at an ansible_collections/ path
#   unit         pytest tests/unit
#   molecule     molecule test -s default (local control plane), then -s kind (real pods) when a
#                Docker engine answers (the build stage starts one: hack/engine.sh)
#   integration  pytest tests/integration against the local cluster and Postgres servers
# A single stage: hack/test.sh <stage>. Stages that need services start and stop them.
# `all` builds the kind test bed (node and app images) in the background during lint, sanity, unit
# and molecule_default, and runs the kind scenario beside the integration tests (stage kind_and_integration): the kind
# scenario mostly waits for real pods on their own node container, the integration tests use the
# local control plane, so the two share only the machine's cores and the pgvector server (which
# stays up until both have ended). Alone: hack/test.sh molecule_default | molecule_kind | kind_and_integration.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$SWK_ROOT"
results=()
parts=()  # a stage's own parts (kind_and_integration), listed under its line
failed=0

run_pytest() {  # pytest exits 5 when it collects nothing: report it, do not fail the stage.
  python -m pytest "$@"; local rc=$?
  if [ $rc -eq 5 ]; then echo "[test] pytest collected no tests in: $*"; return 0; fi
  return $rc
}

# A Docker engine for the kind stages: the machine's own, or Debian's docker.io started here.
# One this run started is stopped when the run ends (by its PID: hack/engine.sh down).
engine_started=0
engine_up() {
  docker info >/dev/null 2>&1 && return 0
  hack/engine.sh up || return 1
  engine_started=1
}
engine_cleanup() { if [ "$engine_started" = 1 ]; then hack/engine.sh down; fi; }
trap engine_cleanup EXIT

# setup (as make up), the test-only OCI registry, and the kind test bed (engine, kind, node and
# app images), so that the later stages build nothing.
stage_build() {
  hack/setup.sh && tests/cluster/build.sh registry >/dev/null || return 1
  if ! engine_up; then
    # Root could have started one: that is a failure. Without root it is the machine's limit.
    [ "$(id -u)" = 0 ] && return 1
    echo "[test] SKIP the kind test bed: no Docker engine answers and starting one needs root"; return 0
  fi
  # In `all`, the kind test bed builds in the background while lint, sanity, unit and
  # molecule_default run (they need neither Docker nor its images); kind_and_integration waits for it.
  if [ "$kind_bed_beside" = 1 ]; then
    kind_bed_out="$log_dir/kind-bed.out"; kind_bed_t0=$(date +%s)
    build_kind_bed >"$kind_bed_out" 2>&1 &
    kind_bed_pid=$!
    echo "[test] the kind test bed builds beside lint, sanity, unit and molecule_default (pid $kind_bed_pid, output: $kind_bed_out, shown when kind_and_integration starts)"
    return 0
  fi
  build_kind_bed
}
# The node image (the official kindest/node where it can be pulled, else built), kind, crictl and
# the app images.
build_kind_bed() { tests/kind/build.sh tools && tests/kind/cluster.sh image >/dev/null && tests/kind/build.sh apps; }
kind_bed_beside=0 kind_bed_pid="" kind_bed_out="" kind_bed_t0=""
# The background build's result, as a part of the stage that waits for it.
kind_bed_wait() {
  [ -n "$kind_bed_pid" ] || return 0
  local rc; wait "$kind_bed_pid"; rc=$?; kind_bed_pid=""
  echo "::: the kind test bed build (beside the stages before), its output:"
  cat "$kind_bed_out"
  parts+=("  $(outcome "kind test bed build (beside lint..molecule_default)" $rc "$kind_bed_t0")")
  return $rc
}

stage_lint() {
  yamllint -s . && ansible-lint --profile production && collection_build && ee_create
}

collection_build() {  # what Galaxy gets: the collection, a LICENSE, every role's README; no harness, no caches
  local out; out="$(mktemp -d)"
  ansible-galaxy collection build --output-path "$out" . >/dev/null || { rm -rf "$out"; return 1; }
  local tarball; tarball="$(ls "$out"/statewave-kubernetes-*.tar.gz)"
  local listing; listing="$(tar -tzf "$tarball")"
  rm -rf "$out"
  local want missing=() role
  for role in roles/*/; do missing+=("${role}README.md"); done
  for want in plugins/modules/connection_budget.py LICENSE README.md requirements.txt bindep.txt \
              meta/runtime.yml playbooks/site.yml "${missing[@]}"; do
    grep -qx "$want" <<<"$listing" || { echo "[lint] the collection archive lacks $want" >&2; return 1; }
  done
  local harness
  harness="$(grep -E '^(\.[^/]+|hack|tests|molecule|inventories|collections|awx)(/|$)|^(Makefile|ansible\.cfg|test-requirements\.txt|execution-environment\.yml)$' <<<"$listing")"
  if [ -n "$harness" ]; then echo "[lint] the collection archive carries the harness or local state: $(head -5 <<<"$harness" | tr '\n' ' ')" >&2; return 1; fi
  echo "[lint] ansible-galaxy collection build: $(basename "$tarball"), $(wc -l <<<"$listing") entries, no harness"
}

ee_create() {  # the execution environment's build context (ansible-builder create), checked; no engine needed
  hack/ee.sh create
}

stage_sanity() {
  # Outside the repository: inside it, ansible-test would list files through our git and skip .cache/.
  local dest="$SWK_CACHE_DIR/sanity/ansible_collections/statewave/kubernetes"
  rm -rf "$dest"; mkdir -p "$dest"
  # The tracked and new (not ignored) files, as a build would see them.
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && mkdir -p "$dest/$(dirname "$f")" && cp -a "$f" "$dest/$f"
  done
  # The collections ours depends on (galaxy.yml), beside it as ansible-test expects: the ones the
  # `ansible` package of the venv bundles (a module importing kubernetes.core's module_utils and
  # doc fragments is checked against them).
  local bundled; bundled="$(python -c 'import ansible_collections; print(list(ansible_collections.__path__)[0])' 2>/dev/null || true)"
  local dep
  for dep in kubernetes/core community/postgresql; do
    rm -rf "${dest%/statewave/kubernetes}/$dep"
    if [ -d "$bundled/$dep" ]; then mkdir -p "${dest%/statewave/kubernetes}/$dep" && cp -a "$bundled/$dep/." "${dest%/statewave/kubernetes}/$dep/"; fi
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

stage_molecule() { stage_molecule_default && stage_molecule_kind; }
stage_molecule_default() { molecule test -s default; }
stage_molecule_kind() {
  engine_up || echo "[test] no Docker engine could be started (hack/engine.sh up failed)"
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
  integration_tests; local rc=$?
  hack/services.sh down
  return $rc
}
integration_tests() {
  local workers="${SWK_TEST_WORKERS:-2}" xdist=()
  [ "$workers" -gt 0 ] && xdist=(-n "$workers" --dist loadfile)
  SWK_REQUIRE_SERVICES=1 run_pytest tests/integration -q -p no:cacheprovider "${xdist[@]}" --durations=20
}

# The kind scenario (its own hack/test.sh, output in test-logs/kind-beside.out, shown when it ends)
# beside the integration tests; the services stop after both. Each part's result is its own line.
stage_kind_and_integration() {
  local brc=0; kind_bed_wait || brc=$?
  hack/services.sh up || return 1
  if [ $brc -ne 0 ]; then  # no kind scenario without its images; the integration tests still run
    local t0 irc; t0=$(date +%s); echo "[test] SKIP molecule kind: the kind test bed did not build"
    integration_tests; irc=$?; parts+=("  $(outcome integration $irc "$t0")")
    hack/services.sh down
    return 1
  fi
  engine_up || echo "[test] no Docker engine could be started (hack/engine.sh up failed)"
  local out="$log_dir/kind-beside.out" t0 kpid irc krc; t0=$(date +%s)
  "$SWK_ROOT/hack/test.sh" molecule_kind >"$out" 2>&1 &
  kpid=$!
  echo "[test] molecule kind runs beside the integration tests (pid $kpid, output: $out, shown when it ends)"
  integration_tests; irc=$?
  parts+=("  $(outcome integration $irc "$t0")")
  echo "[test] integration tests ended (rc $irc); waiting for molecule kind"
  wait "$kpid"; krc=$?
  echo "::: molecule kind (beside integration), its output:"
  cat "$out"
  parts+=("  $(outcome "molecule kind" $krc "$t0")")
  hack/services.sh down
  [ $irc -eq 0 ] && [ $krc -eq 0 ]
}

# Each stage's output also goes to $SWK_STATE_DIR/test-logs/<stage>.log. A failed stage's error lines
# are repeated at the end, above the summary, so that the tail of a long run (all CI keeps) says
# what failed, not only which stage.
log_dir="$SWK_STATE_DIR/test-logs"
# The last failures in a log: Ansible's failed task (its name and the first lines of its result,
# which the yaml result format spreads over several lines), pytest's FAILED/E lines, ERROR lines.
error_excerpt() {
  python3 - "$1" <<'PY'
import re, sys
# molecule frames each line ("  │ ") and colours it: read the text without either.
lines = [re.sub(r"^\s*\u2502 ?", "", re.sub(r"\x1b\[[0-9;]*m", "", line))
         for line in open(sys.argv[1], errors="replace").read().splitlines()]
failed, other, task = [], [], ""
for i, line in enumerate(lines):
    if line.startswith("TASK ["):
        task = line.rstrip(" *")
    elif re.match(r"(fatal|failed): \[", line):
        body = [line]
        for nxt in lines[i + 1:i + 14]:
            if not nxt.startswith((" ", "\t")):
                break
            body.append(nxt)
        rest = lines[i + len(body):i + len(body) + 2]
        if not any(r.strip() == "...ignoring" for r in rest):
            failed.append([task] + body[:10])
    elif re.match(r"(FAILED |E   |ERROR|CRITICAL)", line) or re.match(r"\S+\.(yml|yaml|py):\d+(:\d+)? ", line):
        other.append(line)
for line in (failed[-1] if failed else []) + other[-3:]:
    print(line[:400])
PY
}
# One summary line: "<what>: ok (<seconds>s)" or "<what>: FAILED (<seconds>s)", timed from $3.
outcome() {
  echo "$1: $( [ "$2" -eq 0 ] && echo ok || echo FAILED ) ($(( $(date +%s) - $3 ))s)"
}
why=()
run_stage() {
  local s=$1 t0 rc log="$log_dir/$1.log"; t0=$(date +%s)
  mkdir -p "$log_dir"; : >"$log"
  echo "::: stage $s"
  # In this shell (not a pipeline's subshell): a stage may start the engine that the EXIT trap stops.
  exec 3>&1 4>&2 > >(tee -a "$log") 2>&1
  local tee_pid=$!
  "stage_$s"; rc=$?
  exec 1>&3 2>&4 3>&- 4>&-
  wait "$tee_pid" 2>/dev/null
  results+=("$(outcome "$s" $rc "$t0")" "${parts[@]}"); parts=()
  [ $rc -eq 0 ] && return
  failed=$((failed + 1))
  why+=("::: why $s failed (from $log)")
  local line
  while IFS= read -r line; do why+=("  $line"); done < <(error_excerpt "$log")
}

case "${1:-all}" in
  all) stages=(build lint sanity unit molecule_default kind_and_integration); kind_bed_beside=1 ;;
  build|lint|sanity|unit|molecule|molecule_default|molecule_kind|integration|kind_and_integration) stages=("$1") ;;
  *) echo "usage: $0 [all|build|lint|sanity|unit|molecule|molecule_default|molecule_kind|integration|kind_and_integration]" >&2; exit 2 ;;
esac
for s in "${stages[@]}"; do run_stage "$s"; done
[ ${#why[@]} -eq 0 ] || printf '%s\n' "${why[@]}"
printf '%s\n' "${results[@]}"
echo "test stages: $(( ${#stages[@]} - failed )) passed, $failed failed"
[ $failed -eq 0 ]
