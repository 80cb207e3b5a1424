#!/usr/bin/env bash
# The whole suite on this machine: the Firestore emulator (Datastore mode), the Pub/Sub emulator,
# fake-gcs-server, the three services, the topic with a dead-letter topic and the push
# subscription to storage_logging, a bucket whose uploads notify the topic, and a purge every
# PURGE_EVERY_SECONDS as Cloud Scheduler would. Logs go to .local/logs.
# Usage: scripts/local.sh up|down|status [--dry-run]
#   up      build and start everything, print how to call it; Ctrl-C stops it all
#   down    stop what an earlier `up` started (the process groups it tracked in .local/pids)
#   status  what is running
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"
command=${REST_ARGS[0]:-up}

LOG_DIR=$LOCAL_DIR/logs
# `up` tracks what it starts here, so that `down` in another shell finds it.
TRACK_DIR=$LOCAL_DIR/pids
# The services run as the guide's `cargo run` builds them (the dev profile, LOCAL_CARGO_PROFILE):
# the build reuses what sections 2 and 5 compiled, where a release build would add a second set.
# With LOCAL_BINARIES set, what it holds runs and nothing is built.
BIN=${LOCAL_BINARIES:-target/$([[ $LOCAL_CARGO_PROFILE == dev ]] && echo debug || echo "$LOCAL_CARGO_PROFILE")}
read -ra GCLOUD_ENV <<< "$(emulator_gcloud_env)"

# start NAME CMD...: starts and tracks CMD, its output in LOG_DIR/NAME.log.
start() {
  local name=$1
  shift
  if ((DRY_RUN)); then run "$@"; return; fi
  start_tracked "$LOG_DIR/$name.log" "$@"
  log "started $name (process group $(cat "$TRACK_DIR/$name.pid")), log: $LOG_DIR/$name.log"
}

status() {
  local f
  tracked
  ((${#TRACKED[@]})) || { echo "nothing running"; return; }
  for f in "${TRACKED[@]}"; do
    if kill -0 -- "-$(cat "$f")" 2> /dev/null; then echo "$(basename "$f" .pid): running (group $(cat "$f"))"
    else echo "$(basename "$f" .pid): not running"; fi
  done
}

# all_running: something is tracked, and all of it runs (`down` from another shell forgets all).
all_running() {
  local f
  tracked
  ((${#TRACKED[@]})) || return 1
  for f in "${TRACKED[@]}"; do kill -0 -- "-$(cat "$f")" 2> /dev/null || return 1; done
}

# fail WHAT: stops what was started, and says WHAT failed.
fail() { stop_tracked; die "$1; see $LOG_DIR"; }

# gcloud against the emulators.
local_gcloud() { run env "${GCLOUD_ENV[@]}" gcloud "$@"; }

start_emulators() {
  # shellcheck disable=SC2046  # the command is a list of words
  start datastore-emulator $(firestore_emulator_command "$LOCAL_DATASTORE_HOST")
  start pubsub-emulator gcloud beta emulators pubsub start --project="$LOCAL_PROJECT" --host-port="$LOCAL_PUBSUB_HOST"
  install_fake_gcs_server
}

# One build per service, as infra/Dockerfile builds them (so hello_world has no Datastore code),
# and pipeline-check as the guide's section 5 builds it.
build_binaries() {
  local crate
  [[ -z $LOCAL_BINARIES ]] || return 0
  for crate in "${SERVICE_CRATES[@]}"; do
    run cargo build --profile "$LOCAL_CARGO_PROFILE" --locked -p "$crate"
  done
  run cargo build --profile "$LOCAL_CARGO_PROFILE" --locked -p tools --bin pipeline-check
}

start_services() {
  local service_env=(GOOGLE_CLOUD_PROJECT="$LOCAL_PROJECT" DATASTORE_EMULATOR_HOST="$LOCAL_DATASTORE_HOST")
  start hello_world env "${service_env[@]}" PORT="$HELLO_PORT" "$BIN/hello_world"
  start message_board env "${service_env[@]}" PORT="$BOARD_PORT" "$BIN/message_board"
  start storage_logging env "${service_env[@]}" PORT="$STORAGE_PORT" \
    PURGE_RETENTION_SECONDS="${PURGE_RETENTION_SECONDS:-180}" "$BIN/storage_logging"
}

# What scripts/03-storage-logging.sh makes in the cloud, on the emulators (no IAM, no OIDC here):
# the topics, the push subscription, fake-gcs-server notifying the topic, the bucket; and Cloud
# Scheduler's part, a GET of the purge every PURGE_EVERY_SECONDS.
wire_pipeline() {
  local_gcloud pubsub topics create "$TOPIC"
  local_gcloud pubsub topics create "$DEAD_LETTER_TOPIC"
  local_gcloud pubsub subscriptions create "$DEAD_LETTER_SUBSCRIPTION" --topic="$DEAD_LETTER_TOPIC"
  local_gcloud pubsub subscriptions create "$SUBSCRIPTION" --topic="$TOPIC" \
    --push-endpoint="http://127.0.0.1:$STORAGE_PORT/api/v1/pubsub" --ack-deadline=30 \
    --dead-letter-topic="$DEAD_LETTER_TOPIC" --max-delivery-attempts="$LOCAL_MAX_DELIVERY_ATTEMPTS"
  start fake-gcs-server env PUBSUB_EMULATOR_HOST="$LOCAL_PUBSUB_HOST" "$(fake_gcs_binary)" \
    -scheme http -host 127.0.0.1 -port "$LOCAL_GCS_PORT" -backend memory \
    -event.pubsub-project-id "$LOCAL_PROJECT" -event.pubsub-topic "$TOPIC" -event.list finalize,delete
  ((DRY_RUN)) || wait_http "http://127.0.0.1:$LOCAL_GCS_PORT/storage/v1/b" 20 || fail "fake-gcs-server did not start"
  local_gcloud storage buckets create "$LOCAL_BUCKET"
  start scheduler bash -c "while sleep $PURGE_EVERY_SECONDS; do curl -sS http://127.0.0.1:$STORAGE_PORT/api/v1/purge; echo; done"
}

up() {
  ((DRY_RUN)) || mkdir -p "$LOG_DIR"
  stop_tracked # idempotent: a second `up` replaces the first
  # Whatever ends it (Ctrl-C, a failed step under set -e, `down` elsewhere), nothing stays.
  trap stop_tracked EXIT
  trap 'exit 0' INT TERM
  start_emulators
  build_binaries
  if ((!DRY_RUN)); then
    wait_http "http://$LOCAL_DATASTORE_HOST/" 60 || fail "the Datastore emulator did not start"
    wait_http "http://$LOCAL_PUBSUB_HOST/" 60 || fail "the Pub/Sub emulator did not start"
  fi
  start_services
  wire_pipeline
  ((DRY_RUN)) && return
  local port
  for port in "$HELLO_PORT" "$BOARD_PORT" "$STORAGE_PORT"; do
    wait_http "http://127.0.0.1:$port/" 10 || fail "the service on port $port did not start"
  done
  print_how_to_call
  while all_running; do sleep 1; done
  log "a process ended; stopping the rest"
  stop_tracked
}

print_how_to_call() {
  cat << MSG

Running (logs in $LOG_DIR):
  hello_world      http://127.0.0.1:$HELLO_PORT
  message_board    http://127.0.0.1:$BOARD_PORT
  storage_logging  http://127.0.0.1:$STORAGE_PORT   (purged every ${PURGE_EVERY_SECONDS}s)
  Datastore emulator $LOCAL_DATASTORE_HOST, Pub/Sub emulator $LOCAL_PUBSUB_HOST, fake-gcs-server 127.0.0.1:$LOCAL_GCS_PORT

Try:
  curl -w '\n' -X POST -H 'Content-Type: application/json' -d '{"name": "Cloud Run"}' http://127.0.0.1:$HELLO_PORT/api/v1/hello
  curl -w '\n' -X POST -H 'Content-Type: application/json' -d '{"name": "alice", "message": "hello"}' http://127.0.0.1:$BOARD_PORT/api/v1/store
  curl -w '\n' -X POST -H 'Content-Type: application/json' -d '{"name": "alice"}' http://127.0.0.1:$BOARD_PORT/api/v1/retrieve

  export $(emulator_gcloud_env)
  echo hello > /tmp/hello.txt && gcloud storage cp /tmp/hello.txt $LOCAL_BUCKET/hello.txt
  curl -w '\n' http://127.0.0.1:$STORAGE_PORT/api/v1/purge

  # The whole pipeline checked: 100 uploads, each of which must become exactly one StorageLog:
  env $(emulator_client_env) \
    $BIN/pipeline-check --bucket $LOCAL_BUCKET --count 100

  # An upload as an Eventarc trigger delivers it (a CloudEvent, binary mode):
  curl -w '\n' -X POST -H 'Content-Type: application/json' -H 'ce-specversion: 1.0' -H 'ce-id: 1' \
    -H 'ce-source: //storage.googleapis.com/projects/_/buckets/local' \
    -H 'ce-type: google.cloud.storage.object.v1.finalized' \
    -d '{"name": "event.txt", "bucket": "local"}' http://127.0.0.1:$STORAGE_PORT/api/v1/events

Ctrl-C (or scripts/local.sh down from another shell) stops everything.
MSG
}

case $command in
  up) up ;;
  down) stop_tracked ;;
  status) status ;;
  *) usage; exit 2 ;;
esac
