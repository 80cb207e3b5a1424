#!/usr/bin/env bash
# Checks that each service accepts what its OpenAPI document says it accepts, and refuses what it
# says it refuses: Schemathesis (pinned, from PyPI, in a venv under .local/) generates requests from
# openapi/*.json, valid and invalid, sends them to the three services (LOCAL_BINARIES, else
# target/debug) and checks every answer against the document: its status, its schema, no 5xx.
# storage_logging runs twice, the second time with push-token verification on (a local key
# server with the test keys), as its document declares the bearer token. scripts/fuzz/hooks.py
# says what JSON Schema cannot (base64 content, a body whose schema turns on a header). Fails on
# any disagreement. Datastore: DATASTORE_EMULATOR_HOST, else an emulator started for the run.
# FUZZ_SEED (fixed, so that a run can be repeated) and FUZZ_EXAMPLES (per operation) set its size.
# Usage: scripts/check-fuzz.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"

bin=${LOCAL_BINARIES:-$REPO_ROOT/target/debug}
logs=$LOCAL_DIR/logs
invoker=cloud-run-invoker@demo.iam.gserviceaccount.com

python_venv fuzz "schemathesis==$SCHEMATHESIS_VERSION"
((DRY_RUN)) || mkdir -p "$logs" "$LOCAL_DIR/fuzz"
trap stop_tracked EXIT
datastore=${DATASTORE_EMULATOR_HOST:-}
if [[ -z $datastore ]]; then
  datastore=127.0.0.1:$(free_port)
  start_datastore_emulator "$datastore" fuzz-datastore
fi

# serve NAME CRATE [VAR=VALUE...]: the service on a free port; sets PORT_OF[NAME].
declare -A PORT_OF
serve() {
  local name=$1 crate=$2 port
  shift 2
  port=$(free_port)
  PORT_OF[$name]=$port
  if ((DRY_RUN)); then run env PORT="$port" "$@" "$bin/$crate"; return; fi
  start_tracked "$logs/fuzz-$name.log" env PORT="$port" GOOGLE_CLOUD_PROJECT=demo \
    DATASTORE_EMULATOR_HOST="$datastore" RUST_LOG=warn "$@" "$bin/$crate"
}

keys_port=$(free_port)
serve hello_world hello_world
serve message_board message_board
serve storage_logging storage_logging
verifying=()
for route in PUBSUB EVENTS PURGE; do
  verifying+=("PUSH_AUTH_${route}_SERVICE_ACCOUNTS=$invoker" "PUSH_AUTH_${route}_AUDIENCES=https://storage-logging.example")
done
serve storage_logging_verifying storage_logging PUSH_AUTH_JWKS_URL="http://127.0.0.1:$keys_port/jwks.json" "${verifying[@]}"
if ((DRY_RUN)); then
  run python3 -m http.server "$keys_port" --bind 127.0.0.1 --directory storage_logging/tests/fixtures
else
  start_tracked "$logs/fuzz-keys.log" python3 -m http.server "$keys_port" --bind 127.0.0.1 \
    --directory storage_logging/tests/fixtures
  wait_http "http://$datastore/" 60 || die "the Datastore emulator did not start; see $logs"
  for name in "${!PORT_OF[@]}"; do
    wait_http "http://127.0.0.1:${PORT_OF[$name]}/" 10 || die "$name did not start; see $logs/fuzz-$name.log"
  done
fi

failed=()
for name in hello_world message_board storage_logging storage_logging_verifying; do
  document=openapi/${name%_verifying}.json
  log "fuzzing $name against $document (seed $FUZZ_SEED, $FUZZ_EXAMPLES examples an operation)"
  # From .local/fuzz: Schemathesis keeps its cache in the directory it runs in.
  run env -C "$LOCAL_DIR/fuzz" SCHEMATHESIS_HOOKS=scripts.fuzz.hooks PYTHONPATH="$REPO_ROOT" \
    "$LOCAL_DIR/venv-fuzz/bin/schemathesis" run "$REPO_ROOT/$document" --url "http://127.0.0.1:${PORT_OF[$name]}" \
    --checks all --seed "$FUZZ_SEED" --max-examples "$FUZZ_EXAMPLES" --workers 1 --no-color \
    || failed+=("$name")
done
((${#failed[@]} == 0)) || die "the services and their OpenAPI documents disagree: ${failed[*]} (above)"
log "every service answered as its OpenAPI document says"
