#!/usr/bin/env bash
# The Docker engine that kind and the image builds need.
#
#   engine.sh up       an engine that answers `docker info`: the machine's own if one answers
#                      (used as is, nothing about it changed), else Debian's docker.io,
#                      installed if missing and started here as root
#   engine.sh down     stop the dockerd this script started (by the PID it recorded), and
#                      only that one; an engine it did not start is left alone
#   engine.sh status   exit 0 when an engine answers; says whether this script started it
#
# The daemon started here keeps its data in $SWK_CACHE_DIR/docker (outside the repository:
# images built by tests/kind/build.sh live there, keyed by version; delete the cache to start
# cold), its socket at the default /var/run/docker.sock so that kind and the docker client
# find it, and its PID and log in $SWK_STATE_DIR/engine/.
#
# One workaround, only where needed: when this machine's capability bounding set lacks
# CAP_SYS_RESOURCE (our firecracker VMs: CapBnd 000001fffeffffff), runc cannot start a
# --privileged container ("unable to apply caps: operation not permitted") and kind runs its
# nodes privileged. Then the daemon gets a default runtime, hack/runc_drop_missing_caps.py, that
# removes the capabilities the bounding set lacks from the container's spec and calls runc.
# kind and docker run unchanged. On a host with the full set, dockerd starts with no
# extra runtime.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

dir="$SWK_STATE_DIR/engine"
pidfile="$dir/dockerd.pid"
logfile="$dir/dockerd.log"
data_root="$SWK_CACHE_DIR/docker"
log() { printf '[engine] %s\n' "$*" >&2; }

answers() { docker info >/dev/null 2>&1; }

ours() {  # the PID this script recorded, if that process is still a dockerd
  [ -f "$pidfile" ] || return 1
  local pid; pid="$(cat "$pidfile")"
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]
}

# Capabilities (OCI names) that this machine's bounding set lacks, one per line.
missing_caps() { python3 "$SWK_ROOT/hack/runc_drop_missing_caps.py" --list-missing; }

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  log "no Docker engine: installing Debian's docker.io (apt)"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq >&2
  # policy-rc.d (if present) keeps the package's init script from starting a daemon we do
  # not own; this script starts its own below.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker.io >&2
}

up() {
  if answers; then
    if ours; then log "running (started by this script, pid $(cat "$pidfile"))"
    else log "a Docker engine already answers: using it as it is"; fi
    return 0
  fi
  [ "$(id -u)" = 0 ] || { log "starting dockerd needs root (run as root, or start an engine yourself)"; exit 1; }
  install_engine
  mkdir -p "$dir" "$data_root"
  local args=(--data-root "$data_root" --pidfile "$pidfile" --host unix:///var/run/docker.sock)
  local missing; missing="$(missing_caps)"
  if [ -n "$missing" ]; then
    # A copy outside the checkout (the daemon may outlive this clone), run by an absolute
    # python3: containerd's shims call the runtime with a minimal environment.
    local rdir="$SWK_CACHE_DIR/engine" py; py="$(command -v /usr/bin/python3 || command -v python3)"
    mkdir -p "$rdir" && install -m 0644 "$SWK_ROOT/hack/runc_drop_missing_caps.py" "$rdir/runc_drop_missing_caps.py"
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$py" "$rdir/runc_drop_missing_caps.py" > "$rdir/swk-runc"
    chmod 0755 "$rdir/swk-runc"
    args+=(--add-runtime "swk-runc=$rdir/swk-runc" --default-runtime swk-runc)
    log "this machine's capability bounding set lacks: $(tr '\n' ' ' <<<"$missing")-> containers run through hack/runc_drop_missing_caps.py"
  fi
  log "starting dockerd (data root $data_root, log $logfile)"
  setsid nohup dockerd "${args[@]}" >"$logfile" 2>&1 < /dev/null &
  local i
  for i in $(seq 1 60); do
    answers && { log "up: Docker $(docker info --format '{{.ServerVersion}}') (pid $(cat "$pidfile"))"; return 0; }
    sleep 1
  done
  log "dockerd did not answer within 60 s; last lines of $logfile:"; tail -20 "$logfile" >&2
  exit 1
}

down() {
  if ! ours; then
    if answers; then log "the engine that answers was not started by this script: left running"; fi
    rm -f "$pidfile"; return 0
  fi
  local pid; pid="$(cat "$pidfile")"
  log "stopping dockerd pid $pid"
  kill "$pid"
  local i
  for i in $(seq 1 30); do [ -d "/proc/$pid" ] || break; sleep 1; done
  if [ -d "/proc/$pid" ]; then log "dockerd $pid still running after 30 s: SIGKILL"; kill -9 "$pid"; fi
  rm -f "$pidfile"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status)
    if answers; then
      if ours; then echo "running: started by hack/engine.sh, pid $(cat "$pidfile")"; else echo "running: not started by hack/engine.sh"; fi
    else echo "not running"; exit 1; fi ;;
  missing-caps) missing_caps ;;
  *) echo "usage: $0 up|down|status|missing-caps" >&2; exit 2 ;;
esac
