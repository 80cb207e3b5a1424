#!/usr/bin/env bash
# Step 2: message_board on Cloud Run with Datastore. Creates the composite index (name, timestamp)
# and waits until it is ready, gives the service's own account roles/datastore.user, deploys, and
# stores and retrieves a message.
# Usage: PROJECT_ID=my-project scripts/02-message-board.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"

# message_index_id: the id of the index message_board/index.yaml describes, if the project has it.
message_index_id() {
  gcloud datastore indexes list --format=json | jq -r 'first(.[] | select(.kind == "Message" and .ancestor == "NONE"
    and [.properties[] | "\(.name) \(.direction)"] == ["name ASCENDING", "timestamp ASCENDING"]) | .indexId) // empty'
}

# wait_for_index ID: until the index is READY; fails when it is in ERROR or after INDEX_WAIT_SECONDS.
wait_for_index() {
  local deadline=$((SECONDS + INDEX_WAIT_SECONDS)) state
  log "waiting for the Datastore index $1 to be READY (a few minutes on a new project)"
  while state=$(gcloud datastore indexes describe "$1" --format='value(state)'); [[ $state != READY ]]; do
    [[ $state != ERROR ]] || die "the Datastore index $1 is in ERROR: delete it in the console and run this step again"
    ((SECONDS < deadline)) || die "the Datastore index $1 is still $state after ${INDEX_WAIT_SECONDS}s"
    sleep 10
  done
}

if ((DRY_RUN)); then
  run gcloud datastore indexes create message_board/index.yaml --quiet
else
  index_id=$(message_index_id)
  if [[ -n $index_id ]]; then
    log "exists, kept: the Message index $index_id"
  else
    run gcloud datastore indexes create message_board/index.yaml --quiet
    index_id=$(message_index_id)
    [[ -n $index_id ]] || die "the Message index was created but is not listed"
    record index "$index_id"
  fi
  wait_for_index "$index_id"
fi
run gcloud datastore indexes list
service_account "$BOARD_RUNTIME_SA" "$BOARD_SERVICE runtime" roles/datastore.user
build_and_deploy message_board "$BOARD_SERVICE" "$BOARD_RUNTIME_SA"
url=$(service_url "$BOARD_SERVICE")
token=$(identity_token)
call_api "$token" POST "$url/api/v1/store" '{"name": "Eva Hibbert", "message": "Hello from the hands-on"}'
call_api "$token" POST "$url/api/v1/retrieve" '{"name": "Eva Hibbert"}'
