# shellcheck shell=bash
# Helpers shared by every script. Sourced, never run: `source "$(dirname "$0")/lib.sh"`.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO_ROOT
# shellcheck source=scripts/config.sh
source "$REPO_ROOT/scripts/config.sh"

DRY_RUN=${DRY_RUN:-0}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# run CMD...: runs the command, or with --dry-run prints it, quoted so that it can be pasted.
run() {
  if ((DRY_RUN)); then
    printf '%q ' "$@" | sed 's/ $//'
    echo
  else
    "$@"
  fi
}

# parse_common_flags "$@": handles --dry-run and --help; leaves the rest in REST_ARGS.
parse_common_flags() {
  REST_ARGS=()
  local arg
  for arg in "$@"; do
    case $arg in
      --dry-run) DRY_RUN=1 ;;
      -h | --help) usage; exit 0 ;;
      *) REST_ARGS+=("$arg") ;;
    esac
  done
}

# wait_http URL SECONDS: waits until URL answers 200.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# free_port: a TCP port of loopback that nothing listens on now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_group LOG CMD...: starts CMD in a session of its own (so that the emulators' gcloud
# wrapper and java child stop together), output to LOG; prints the group id.
start_group() {
  local log_file=$1; shift
  setsid "$@" > "$log_file" 2>&1 < /dev/null &
  echo $!
}

# stop_group PGID: TERM to the whole group, KILL after 10 s.
stop_group() {
  local group=$1
  kill -TERM -- "-$group" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 -- "-$group" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$group" 2>/dev/null || true
}

# start_tracked LOG CMD...: start_group, remembered so that stop_tracked (trap it on EXIT) stops it.
STARTED_GROUPS=()
start_tracked() { STARTED_GROUPS+=("$(start_group "$@")"); }
stop_tracked() {
  local group
  for group in "${STARTED_GROUPS[@]}"; do stop_group "$group"; done
  STARTED_GROUPS=()
}

# firestore_emulator_command HOST:PORT: the Firestore emulator in Datastore mode (DESIGN.md).
firestore_emulator_command() {
  echo gcloud emulators firestore start --database-mode=datastore-mode "--host-port=$1"
}

# stop_pid PID: stops a process we started (TERM, then KILL after 10 s) and its children.
stop_pid() {
  local pid=$1 children
  kill -0 "$pid" 2>/dev/null || return 0
  children=$(pgrep -P "$pid" || true)
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  # shellcheck disable=SC2086  # a list of PIDs
  [[ -z $children ]] || kill -KILL $children 2>/dev/null || true
}
