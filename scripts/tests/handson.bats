#!/usr/bin/env bats
# handson.md and the step scripts, checked against other people's code where possible: the
# installed gcloud parses every command (real_gcloud.py), the guide says the same commands as the
# scripts (check_handson.py), each section of the guide runs in a fresh shell (guide_sections.py),
# and every relative link of the docs resolves (check_doc_links.py).
# Project and region are not the defaults, so that a value written into a script or the guide shows.

setup_file() {
  export PROJECT_ID=handson-test-123 REGION=asia-northeast1
  "$BATS_TEST_DIRNAME/transcript.sh" > "$BATS_FILE_TMPDIR/transcript.txt"
}

@test "the installed gcloud parses and validates every command the scripts run" {
  run python3 "$BATS_TEST_DIRNAME/real_gcloud.py" "$BATS_FILE_TMPDIR/transcript.txt" "$PROJECT_ID" "$REGION"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "every gcloud and curl command of handson.md is one a step script runs" {
  python3 "$BATS_TEST_DIRNAME/check_handson.py" "$BATS_TEST_DIRNAME/../../handson.md" "$BATS_FILE_TMPDIR/transcript.txt"
}

@test "each section of the guide works in a fresh shell: the Pub/Sub way" {
  python3 "$BATS_TEST_DIRNAME/guide_sections.py" "$BATS_TEST_DIRNAME/../../handson.md" pubsub \
    "$BATS_TEST_DIRNAME/../.." "$BATS_TEST_TMPDIR"
}

@test "each section of the guide works in a fresh shell: the Eventarc way" {
  python3 "$BATS_TEST_DIRNAME/guide_sections.py" "$BATS_TEST_DIRNAME/../../handson.md" eventarc \
    "$BATS_TEST_DIRNAME/../.." "$BATS_TEST_TMPDIR"
}

@test "a block pasted into an interactive shell stops at a failed grant: no build, no deploy" {
  python3 "$BATS_TEST_DIRNAME/guide_sections.py" "$BATS_TEST_DIRNAME/../../handson.md" paste \
    "$BATS_TEST_DIRNAME/../.." "$BATS_TEST_TMPDIR"
}

@test "every code excerpt of handson.md is in the file its caption names" {
  python3 "$BATS_TEST_DIRNAME/check_excerpts.py" "$BATS_TEST_DIRNAME/../../handson.md" "$BATS_TEST_DIRNAME/../.."
}

@test "every relative link of the README, docs/ and handson.md names a file and heading that exist" {
  python3 "$BATS_TEST_DIRNAME/check_doc_links.py" "$BATS_TEST_DIRNAME/../.."
}
