#!/usr/bin/env bats
# The hands-on step scripts against a fake gcloud (tests/fake/gcloud): the first run's command
# sequence, a second run that creates nothing, a cleanup that removes everything, dry runs that
# call nothing.

setup() {
  export FAKE_LOG=$BATS_TEST_TMPDIR/calls.log FAKE_STATE=$BATS_TEST_TMPDIR/state
  export PATH=$BATS_TEST_DIRNAME/fake:$PATH PROJECT_ID=my-project
  : > "$FAKE_LOG"
  scripts=$BATS_TEST_DIRNAME/..
}

steps() {
  for step in 00-setup 01-hello-world 02-message-board 03-storage-logging 04-scheduler 05-smoke; do
    "$scripts/$step.sh" "$@" || return 1
  done
}

# The calls that change something, as a sorted list would hide their order.
changes() { grep -vE ' (describe|list)( |$)| print-(identity|access)-token|^curl ' "$FAKE_LOG" || true; }

@test "a first run makes every resource, in order" {
  steps
  diff -u "$BATS_TEST_DIRNAME/expected/first-run.txt" <(changes)
}

@test "the Eventarc way of step 3 makes its trigger, identity and roles, in order" {
  "$scripts/00-setup.sh"
  : > "$FAKE_LOG"
  "$scripts/03b-eventarc.sh"
  diff -u "$BATS_TEST_DIRNAME/expected/eventarc-run.txt" <(changes)
  : > "$FAKE_LOG"
  "$scripts/03b-eventarc.sh"
  run grep -E ' create ' "$FAKE_LOG"
  [ "$status" -eq 1 ] # a second run creates nothing
}

@test "a second run creates nothing" {
  steps
  : > "$FAKE_LOG"
  steps
  run grep -E ' create ' "$FAKE_LOG"
  [ "$status" -eq 1 ] # grep found no create
  grep -q 'gcloud run deploy hello-world-service' "$FAKE_LOG" # deploys are re-applied
}

@test "cleanup removes everything the steps made but the Firestore database" {
  steps
  "$scripts/03b-eventarc.sh"
  [ -e "$FAKE_STATE/eventarc_triggers_storage-logging-trigger" ]
  [ "$(ls "$FAKE_STATE" | wc -l)" -gt 10 ]
  "$scripts/99-cleanup.sh" --yes
  run ls "$FAKE_STATE"
  [ "$output" = "firestore_databases_(default)" ]
}

@test "cleanup asks first and deletes nothing without a yes" {
  steps
  before=$(ls "$FAKE_STATE")
  run "$scripts/99-cleanup.sh" <<< "n"
  [ "$status" -ne 0 ]
  [ "$(ls "$FAKE_STATE")" = "$before" ]
}

@test "a dry run calls nothing and prints every command" {
  run steps --dry-run
  [ "$status" -eq 0 ]
  [ ! -s "$FAKE_LOG" ]
  [[ $output == *"gcloud run deploy storage-logging-service"* ]]
  [[ $output == *"gcloud scheduler jobs create http log-purge-job"* ]]
  run "$scripts/03b-eventarc.sh" --dry-run
  [ "$status" -eq 0 ]
  [ ! -s "$FAKE_LOG" ]
  [[ $output == *"gcloud eventarc triggers create storage-logging-trigger"* ]]
  run "$scripts/99-cleanup.sh" --dry-run
  [ "$status" -eq 0 ]
  [ ! -s "$FAKE_LOG" ]
  [[ $output == *"gcloud artifacts repositories delete microservices"* ]]
}

@test "the steps refuse to run without a project" {
  PROJECT_ID='' GOOGLE_CLOUD_PROJECT='' run "$scripts/00-setup.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"set PROJECT_ID"* ]]
}
