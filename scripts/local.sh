#!/usr/bin/env bash
# The suite on this machine: the Datastore emulator and the services, until Ctrl-C.
# Usage: scripts/local.sh up|down|status [--dry-run]
#   up      build (release) and start everything, print how to call it, stop it all on Ctrl-C
#   down    stop what an earlier `up` started (by the process groups it recorded)
#   status  what is running
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
usage() { sed -n '2,6s/^# //p' "$0"; }
parse_common_flags "$@"
command=${REST_ARGS[0]:-up}

PID_DIR=$LOCAL_DIR/pids
LOG_DIR=$LOCAL_DIR/logs
BIN=$REPO_ROOT/target/release

# start NAME CMD...: starts CMD in a process group of its own, logs to LOG_DIR/NAME.log,
# records the group in PID_DIR/NAME.pid.
start() {
  local name=$1; shift
  if ((DRY_RUN)); then run "$@"; return; fi
  start_group "$LOG_DIR/$name.log" "$@" > "$PID_DIR/$name.pid"
  log "started $name (process group $(cat "$PID_DIR/$name.pid")), log: $LOG_DIR/$name.log"
}

down() {
  local f
  for f in "$PID_DIR"/*.pid; do
    [[ -e $f ]] || continue
    if ((DRY_RUN)); then run stop_group "$(cat "$f")"; continue; fi
    stop_group "$(cat "$f")"
    log "stopped $(basename "$f" .pid)"
    rm -f "$f"
  done
}

status() {
  local f group
  for f in "$PID_DIR"/*.pid; do
    [[ -e $f ]] || { echo "nothing running"; return; }
    group=$(cat "$f")
    if kill -0 -- "-$group" 2>/dev/null; then echo "$(basename "$f" .pid): running (group $group)"
    else echo "$(basename "$f" .pid): not running"; fi
  done
}

all_running() {
  local f
  for f in "$PID_DIR"/*.pid; do kill -0 -- "-$(cat "$f")" 2>/dev/null || return 1; done
}

up() {
  ((DRY_RUN)) || mkdir -p "$PID_DIR" "$LOG_DIR"
  down # idempotent: a second `up` replaces the first
  trap 'down; exit 0' INT TERM
  # shellcheck disable=SC2046  # the command is a list of words
  start datastore-emulator $(firestore_emulator_command "$LOCAL_DATASTORE_HOST")
  (cd "$REPO_ROOT" && run cargo build --release --locked -p hello_world -p message_board)
  local common_env=(GOOGLE_CLOUD_PROJECT="$LOCAL_PROJECT")
  start hello_world env "${common_env[@]}" PORT="$HELLO_PORT" "$BIN/hello_world"
  start message_board env "${common_env[@]}" PORT="$BOARD_PORT" \
    DATASTORE_EMULATOR_HOST="$LOCAL_DATASTORE_HOST" "$BIN/message_board"
  ((DRY_RUN)) && return
  wait_http "http://$LOCAL_DATASTORE_HOST/" 60 || { down; die "the Datastore emulator did not start; see $LOG_DIR"; }
  local port
  for port in "$HELLO_PORT" "$BOARD_PORT"; do
    wait_http "http://127.0.0.1:$port/" 10 || { down; die "the service on port $port did not start; see $LOG_DIR"; }
  done
  cat << MSG

Running (logs in $LOG_DIR):
  hello_world      http://127.0.0.1:$HELLO_PORT
  message_board    http://127.0.0.1:$BOARD_PORT   (Datastore emulator at $LOCAL_DATASTORE_HOST, project $LOCAL_PROJECT)

Try:
  curl http://127.0.0.1:$HELLO_PORT/
  curl -X POST -H 'Content-Type: application/json' -d '{"name": "Cloud Run"}' http://127.0.0.1:$HELLO_PORT/api/v1/hello
  curl -X POST -H 'Content-Type: application/json' -d '{"name": "alice", "message": "hello"}' http://127.0.0.1:$BOARD_PORT/api/v1/store
  curl -X POST -H 'Content-Type: application/json' -d '{"name": "alice"}' http://127.0.0.1:$BOARD_PORT/api/v1/retrieve

Ctrl-C (or scripts/local.sh down from another shell) stops everything.
MSG
  while all_running; do sleep 1; done
  log "a process ended; stopping the rest"
  down
}

case $command in
  up) up ;;
  down) down ;;
  status) status ;;
  *) usage; exit 2 ;;
esac
