#!/usr/bin/env bash
# Compatibility with the original: the original's Python client (google-cloud-datastore) reads
# what message_board stored, and message_board retrieves what the original's code stored, on one
# Firestore emulator in Datastore mode. Installs the client into a venv under .local once.
# Uses DATASTORE_EMULATOR_HOST when set, else starts (and stops) an emulator of its own.
# Usage: scripts/compat-python.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"

python_venv compat google-cloud-datastore
board=${LOCAL_BINARIES:-target/debug}/message_board
[[ -n $LOCAL_BINARIES ]] || run cargo build --locked -p message_board

((DRY_RUN)) || mkdir -p "$LOCAL_DIR/logs"
trap stop_tracked EXIT

host=${DATASTORE_EMULATOR_HOST:-}
if [[ -z $host ]]; then
  host=127.0.0.1:$(free_port)
  # shellcheck disable=SC2046  # the command is a list of words
  if ((DRY_RUN)); then run $(firestore_emulator_command "$host")
  else start_tracked "$LOCAL_DIR/logs/compat-datastore.log" $(firestore_emulator_command "$host"); fi
fi
port=$(free_port)
namespace=compat-$$-$RANDOM
board_env=(PORT="$port" DATASTORE_EMULATOR_HOST="$host" DATASTORE_PROJECT_ID="$LOCAL_PROJECT"
  DATASTORE_NAMESPACE="$namespace" RUST_LOG=warn)
if ((DRY_RUN)); then
  run env "${board_env[@]}" "$board"
else
  wait_http "http://$host/" 60 || die "the Datastore emulator did not start"
  start_tracked "$LOCAL_DIR/logs/compat-message_board.log" env "${board_env[@]}" "$board"
  wait_http "http://127.0.0.1:$port/" 10 || die "message_board did not start"
fi
run env DATASTORE_EMULATOR_HOST="$host" COMPAT_PROJECT="$LOCAL_PROJECT" COMPAT_NAMESPACE="$namespace" \
  COMPAT_BOARD_URL="http://127.0.0.1:$port" "$LOCAL_DIR/venv-compat/bin/python" scripts/compat/python_client.py
