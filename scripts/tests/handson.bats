#!/usr/bin/env bats
# handson.md and the step scripts say the same commands (scripts/tests/check_handson.py).

@test "every gcloud and curl command of handson.md is one a step script runs" {
  scripts=$BATS_TEST_DIRNAME/..
  transcript=$BATS_TEST_TMPDIR/transcript.txt
  for step in 00-setup 01-hello-world 02-message-board 03-storage-logging 03b-eventarc 04-scheduler 05-smoke 99-cleanup; do
    PROJECT_ID=my-project REGION=us-central1 "$scripts/$step.sh" --dry-run >> "$transcript" 2>&1
  done
  python3 "$BATS_TEST_DIRNAME/check_handson.py" "$scripts/../handson.md" "$transcript"
}
