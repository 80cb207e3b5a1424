#!/usr/bin/env bash
# The suite on this machine: builds the services and runs them until Ctrl-C.
# Usage: scripts/local.sh up|down|status [--dry-run]
#   up      build (release) and start, print how to call them, stop everything on Ctrl-C
#   down    stop what an earlier `up` started (by the PIDs it recorded)
#   status  what is running
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
usage() { sed -n '2,6s/^# //p' "$0"; }
parse_common_flags "$@"
command=${REST_ARGS[0]:-up}

PID_DIR=$LOCAL_DIR/pids
LOG_DIR=$LOCAL_DIR/logs

# start NAME CMD...: starts a process in the background, logs to LOG_DIR/NAME.log, records its PID.
start() {
  local name=$1; shift
  if ((DRY_RUN)); then run "$@"; return; fi
  "$@" > "$LOG_DIR/$name.log" 2>&1 &
  echo $! > "$PID_DIR/$name.pid"
  log "started $name (pid $!), log: $LOG_DIR/$name.log"
}

down() {
  local f
  for f in "$PID_DIR"/*.pid; do
    [[ -e $f ]] || continue
    if ((DRY_RUN)); then run stop_pid "$(cat "$f")"; continue; fi
    stop_pid "$(cat "$f")"
    log "stopped $(basename "$f" .pid)"
    rm -f "$f"
  done
}

status() {
  local f pid
  for f in "$PID_DIR"/*.pid; do
    [[ -e $f ]] || { echo "nothing running"; return; }
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$(basename "$f" .pid): running (pid $pid)"
    else echo "$(basename "$f" .pid): not running"; fi
  done
}

up() {
  ((DRY_RUN)) || mkdir -p "$PID_DIR" "$LOG_DIR"
  down  # idempotent: a second `up` replaces the first
  (cd "$REPO_ROOT" && run cargo build --release --locked -p hello_world)
  trap 'down; exit 0' INT TERM
  start hello_world env PORT="$HELLO_PORT" GOOGLE_CLOUD_PROJECT="$LOCAL_PROJECT" \
    "$REPO_ROOT/target/release/hello_world"
  ((DRY_RUN)) && return
  wait_http "http://127.0.0.1:$HELLO_PORT/" 10 || { down; die "hello_world did not start; see $LOG_DIR"; }
  cat <<MSG

Running (logs in $LOG_DIR). Try:

  curl http://127.0.0.1:$HELLO_PORT/
  curl -X POST -H 'Content-Type: application/json' -d '{"name": "Cloud Run"}' http://127.0.0.1:$HELLO_PORT/api/v1/hello

Ctrl-C (or scripts/local.sh down from another shell) stops everything.
MSG
  while kill -0 "$(cat "$PID_DIR/hello_world.pid")" 2>/dev/null; do sleep 1; done
  down
}

case $command in
  up) up ;;
  down) down ;;
  status) status ;;
  *) usage; exit 2 ;;
esac
