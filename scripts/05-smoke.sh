#!/usr/bin/env bash
# Step 5: calls every endpoint of the three deployed services with your identity token and checks
# each answer, then uploads PIPELINE_CHECK_COUNT objects to the bucket and checks that each became
# exactly one StorageLog (tools/pipeline-check). Exits non-zero if any check failed.
# Usage: PROJECT_ID=my-project scripts/05-smoke.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"

token=$(identity_token)
failures=0
# check WHAT EXPECTED METHOD URL [JSON]: the answer must contain EXPECTED.
check() {
  local what=$1 expected=$2 answer
  shift 2
  answer=$(call_api "$token" "$@") || answer="(failed) $answer"
  ((DRY_RUN)) && { echo "$answer"; return; }
  if [[ $answer == *"$expected"* ]]; then log "ok: $what"
  else log "FAILED: $what: expected $expected, got: $answer"; failures=$((failures + 1)); fi
}

hello=$(service_url "$HELLO_SERVICE")
board=$(service_url "$BOARD_SERVICE")
storage=$(service_url "$STORAGE_SERVICE")
name="smoke-$(date +%s)"
not_upload=$(jq -cn '{message: {attributes: {eventType: "OBJECT_DELETE"}, messageId: "smoke"}}')

check "hello GET /" 'Hello world service. ' GET "$hello/"
check "hello POST" '"message":"Hello, Smoke!"' POST "$hello/api/v1/hello" '{"name": "Smoke"}'
check "board GET /" 'Message board service. ' GET "$board/"
check "board store" "\"name\":\"$name\"" POST "$board/api/v1/store" "{\"name\": \"$name\", \"message\": \"smoke test\"}"
check "board retrieve" '"message":"smoke test"' POST "$board/api/v1/retrieve" "{\"name\": \"$name\"}"
check "storage GET /" 'Storage logging service. ' GET "$storage/"
check "storage pubsub, not an upload" 'This is not a file upload event.' POST "$storage/api/v1/pubsub" "$not_upload"
check "storage purge" '"message":"succeeded."' GET "$storage/api/v1/purge"
# The pipeline check, against the project whatever emulators this shell was pointed at; built on
# first use (the dev profile builds in half the release time and checks as well).
# No toolchain yet: the guide's minimal one (the default profile adds 0.8 GB of documentation).
if ((!DRY_RUN)) && ! cargo --version > /dev/null 2>&1; then
  run rustup toolchain install stable --profile minimal
  run rustup default stable
fi
if run env -u PUBSUB_EMULATOR_HOST -u DATASTORE_EMULATOR_HOST -u STORAGE_EMULATOR_HOST \
  cargo run --quiet --locked -p tools --bin pipeline-check -- \
  --bucket "$BUCKET" --project "$PROJECT_ID" --count "$PIPELINE_CHECK_COUNT"; then
  ((DRY_RUN)) || log "ok: pipeline check"
else
  log "FAILED: pipeline check"
  failures=$((failures + 1))
fi
((failures == 0)) || die "$failures smoke checks failed"
