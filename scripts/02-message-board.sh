#!/usr/bin/env bash
# Step 2: message_board on Cloud Run with Datastore. Creates the composite index (name, timestamp)
# and waits until it is ready, gives the service's own account roles/datastore.user, deploys, and
# stores and retrieves a message.
# Usage: PROJECT_ID=my-project scripts/02-message-board.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
usage() { sed -n '2,5s/^# //p' "$0"; }
parse_common_flags "$@"
require_project

has_message_index() { gcloud datastore indexes list --format='value(kind)' | grep -qx Message; }
ensure has_message_index -- gcloud datastore indexes create message_board/index.yaml --quiet
run gcloud datastore indexes list
if ((!DRY_RUN)); then
  log "waiting for the Datastore index to be READY (a few minutes on a new project)"
  while gcloud datastore indexes list --format='value(state)' | grep -qv READY; do sleep 10; done
fi
service_account "$BOARD_RUNTIME_SA" "$BOARD_SERVICE runtime" roles/datastore.user
build_and_deploy message_board "$BOARD_SERVICE" "$BOARD_RUNTIME_SA"
url=$(service_url "$BOARD_SERVICE")
token=$(identity_token)
call_api "$token" POST "$url/api/v1/store" '{"name": "Eva Hibbert", "message": "Hello from the hands-on"}'
echo
call_api "$token" POST "$url/api/v1/retrieve" '{"name": "Eva Hibbert"}'
