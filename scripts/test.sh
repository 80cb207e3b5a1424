#!/usr/bin/env bash
# Runs every test: the Rust workspace with cargo-nextest against a Firestore emulator (Datastore
# mode) started for the run (tests that stop Datastore, or need the legacy or Pub/Sub emulator,
# start their own; tests under serial:: run alone, .config/nextest.toml), the compatibility check
# with the original's Python client, the OpenAPI documents' validity, and the script tests (bats):
# the hands-on steps against the installed gcloud and a fake one, and the local environment end to
# end. Stops all it started.
# Usage: scripts/test.sh [--dry-run] [cargo nextest run args...]  (e.g. -E 'test(retrieve)')
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"

# GNU parallel: bats runs two test files at a time with it.
missing=()
for tool in bats jq parallel; do command -v "$tool" > /dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  run apt-get update -qq
  run apt-get install -y -qq "${missing[@]}"
fi

if ! command -v cargo-nextest > /dev/null; then
  run cargo install --locked --quiet cargo-nextest
fi

host=127.0.0.1:$(free_port)
start_datastore_emulator "$host" test-datastore-emulator
# Compile while the emulator starts: every target at once, as nextest builds them (the same
# features, so it finds them built), which gives local.bats and compat-python.sh their binaries.
run cargo build --workspace --all-targets --locked
export LOCAL_BINARIES=$REPO_ROOT/target/debug
((DRY_RUN)) || wait_http "http://$host/" 60 || die "the Datastore emulator did not start; see $LOCAL_DIR/logs"
run env DATASTORE_EMULATOR_HOST="$host" cargo nextest run --workspace --locked "${REST_ARGS[@]}"
dry=()
((DRY_RUN)) && dry=(--dry-run)
DATASTORE_EMULATOR_HOST=$host scripts/compat-python.sh "${dry[@]}"
scripts/check-openapi.sh "${dry[@]}"
# Two files at a time (each file's tests in order): most of them wait on processes or run one
# single-threaded program after another, so two share the two cores well.
run env DATASTORE_EMULATOR_HOST="$host" bats --jobs 2 --no-parallelize-within-files scripts/tests
