#!/usr/bin/env bash
# Prints every command the hands-on runs, as the step scripts' dry runs print them, for the
# PROJECT_ID and REGION of the environment: steps 0 to 5 with 3b, the operations scripts the docs
# name (the dead-letter replay, the scale test), then the cleanup of a project in which all the steps
# ran (run for real against the stateful fake gcloud, so that it has a record).
# Usage: PROJECT_ID=... REGION=... scripts/tests/transcript.sh
set -euo pipefail
scripts=$(cd "$(dirname "$0")/.." && pwd)
steps=(00-setup 01-hello-world 02-message-board 03-storage-logging 03b-eventarc 04-scheduler 05-smoke)
for step in "${steps[@]}"; do "$scripts/$step.sh" --dry-run 2>&1; done
"$scripts/replay-dead-letters.sh" --dry-run 2>&1
REPLAY_IDENTITY=invoker "$scripts/replay-dead-letters.sh" --dry-run 2>&1
"$scripts/scale-test.sh" --dry-run 2>&1
SCALE_ROUTE=store "$scripts/scale-test.sh" --dry-run 2>&1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FAKE_LOG=$work/calls.log FAKE_STATE=$work/state STATE_DIR=$work/created RETRY_DELAY_SECONDS=0
export PATH=$scripts/tests/fake:$PATH
for step in "${steps[@]}"; do "$scripts/$step.sh" > "$work/$step.log" 2>&1 || { cat "$work/$step.log" >&2; exit 1; }; done
# The fake's answers, written back as the placeholders the dry runs print.
# shellcheck disable=SC2016  # the placeholders are text
"$scripts/99-cleanup.sh" --dry-run 2>&1 |
  sed -e 's/service-123456789@gs-project-accounts\.iam\.gserviceaccount\.com/\\$STORAGE_SERVICE_AGENT/g' \
    -e 's/service-123456789@gcp-sa-pubsub/service-\\$PROJECT_NUMBER@gcp-sa-pubsub/g'
