#!/usr/bin/env bash
# Runs every test: the Rust workspace against a Firestore emulator (Datastore mode) started for the
# run (tests that stop Datastore, or need the legacy or Pub/Sub emulator, start their own), in two
# stages (contract tests in parallel, then tests/api/serial/ one at a time), the
# compatibility check with the original's Python client, the OpenAPI documents' validity, and the
# script tests (bats): the hands-on steps against a fake gcloud, and the local environment end to
# end. Stops all it started.
# Usage: scripts/test.sh [--dry-run] [cargo test args...]  (args: one cargo test run of those)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
usage() { sed -n '2,8s/^# //p' "$0"; }
parse_common_flags "$@"

missing=()
for tool in bats jq; do command -v "$tool" > /dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  run apt-get update -qq
  run apt-get install -y -qq "${missing[@]}"
fi

host=127.0.0.1:$(free_port)
start_datastore_emulator "$host" test-datastore-emulator
# Compile while the emulator starts.
run cargo test --workspace --locked --no-run
((DRY_RUN)) || wait_http "http://$host/" 60 || die "the Datastore emulator did not start; see $LOCAL_DIR/logs"
if ((${#REST_ARGS[@]})); then
  run env DATASTORE_EMULATOR_HOST="$host" cargo test --workspace --locked "${REST_ARGS[@]}"
else
  # The contract tests in parallel, then the serial stage (tests/api/serial/: they kill or cut off
  # emulators, load the machine and bound latencies) one test at a time, beside nothing.
  run env DATASTORE_EMULATOR_HOST="$host" cargo test --workspace --locked -- --skip serial::
  run env DATASTORE_EMULATOR_HOST="$host" cargo test --workspace --locked -- serial:: --test-threads=1
fi
dry=()
((DRY_RUN)) && dry=(--dry-run)
DATASTORE_EMULATOR_HOST=$host scripts/compat-python.sh "${dry[@]}"
scripts/check-openapi.sh "${dry[@]}"
run env DATASTORE_EMULATOR_HOST="$host" bats scripts/tests
