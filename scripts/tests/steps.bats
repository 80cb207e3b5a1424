#!/usr/bin/env bats
# The hands-on step scripts against the stateful fake gcloud (tests/fake/gcloud): what a first run
# makes and in which order, that a second run makes nothing, retries, refusals, and a cleanup that
# deletes what the steps made and nothing else, from any partial state. handson.bats has the
# installed gcloud parse the same commands.

# in_project DIR: the fake project, its call log and the steps' record kept under DIR.
in_project() {
  export FAKE_LOG=$1/calls.log FAKE_STATE=$1/state STATE_DIR=$1/created RETRY_DELAY_SECONDS=0
  export PATH=$BATS_TEST_DIRNAME/fake:$PATH PROJECT_ID=my-project
  mkdir -p "$1"
  : > "$FAKE_LOG"
  scripts=$BATS_TEST_DIRNAME/..
}

steps() {
  for step in 00-setup 01-hello-world 02-message-board 03-storage-logging 04-scheduler 05-smoke; do
    "$scripts/$step.sh" "$@" || return 1
  done
}

# The steps against the fakes are deterministic: one first run, in a project of its own, is what
# every test that starts from a first run starts from (a copy each), which saves 3 s a test.
setup_file() {
  in_project "$BATS_FILE_TMPDIR/first-run"
  steps > "$BATS_FILE_TMPDIR/first-run/output" 2>&1 || { cat "$BATS_FILE_TMPDIR/first-run/output" >&3; return 1; }
}

setup() { in_project "$BATS_TEST_TMPDIR"; }

# after_a_first_run: this test's project as the first run left it, its calls in the log.
after_a_first_run() {
  cp -r "$BATS_FILE_TMPDIR/first-run/." "$BATS_TEST_TMPDIR/"
}

# The calls that change something, as a sorted list would hide their order.
changes() { grep -vE ' (describe|list|get-iam-policy|read)( |$)| print-(identity|access)-token|^curl ' "$FAKE_LOG" || true; }

# What the fake project holds: resources, then bindings as "SCOPE MEMBER ROLE".
holdings() { jq -r '(.resources | keys[]), (.bindings[] | join(" "))' "$FAKE_STATE/state.json" | sort; }

# gcloud as another user of the project would call it (nothing recorded as the hands-on's).
other_user() { gcloud "$@" > /dev/null; }

@test "a first run makes every resource, in order" {
  after_a_first_run
  diff -u "$BATS_TEST_DIRNAME/expected/first-run.txt" <(changes)
}

@test "the Eventarc way of step 3 needs only step 0, and makes its trigger, identity and roles in order" {
  "$scripts/00-setup.sh"
  : > "$FAKE_LOG"
  "$scripts/03b-eventarc.sh"
  diff -u "$BATS_TEST_DIRNAME/expected/eventarc-run.txt" <(changes)
  : > "$FAKE_LOG"
  "$scripts/03b-eventarc.sh"
  run grep -E ' (create|add-iam-policy-binding) ' "$FAKE_LOG"
  [ "$status" -eq 1 ] # a second run creates and grants nothing
}

@test "a step run without REGION stays in the region the project's steps ran in; another is refused" {
  REGION=asia-northeast1 "$scripts/00-setup.sh"
  : > "$FAKE_LOG"
  (unset REGION && "$scripts/01-hello-world.sh")
  grep -q 'gcloud run deploy hello-world-service .*--region=asia-northeast1' "$FAKE_LOG"
  run grep -c 'us-central1' "$FAKE_LOG"
  [ "$output" -eq 0 ] # nothing made in the default region
  : > "$FAKE_LOG"
  REGION=europe-west1 run "$scripts/02-message-board.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"runs in asia-northeast1"*"not REGION=europe-west1"* ]]
  run changes
  [ -z "$output" ] # refused before it made anything
  # The cleanup, with the same mistaken REGION, deletes where the steps ran.
  REGION=europe-west1 "$scripts/99-cleanup.sh" --yes
  grep -q 'gcloud run services delete hello-world-service --region=asia-northeast1' "$FAKE_LOG"
}

@test "a second run creates nothing" {
  after_a_first_run
  : > "$FAKE_LOG"
  steps
  run grep -E ' (create|add-iam-policy-binding) ' "$FAKE_LOG"
  [ "$status" -eq 1 ] # grep found no create
  grep -q 'gcloud run deploy hello-world-service' "$FAKE_LOG" # deploys are re-applied
}

@test "a binding to a service account IAM does not know yet is retried" {
  FAKE_FAIL_ONCE='add-iam-policy-binding my-project --condition=None --member=serviceAccount:microservices-builder' \
    run "$scripts/00-setup.sh"
  [ "$status" -eq 0 ]
  [[ $output == *"failing once on purpose"*"attempt 1 of 8"* ]]
  holdings | grep -qx 'projects serviceAccount:microservices-builder@my-project.iam.gserviceaccount.com roles/logging.logWriter'
}

@test "a first build whose push is denied while step 0's grants propagate is retried" {
  "$scripts/00-setup.sh"
  FAKE_PUSH_DENIED_ONCE=1 run "$scripts/01-hello-world.sh"
  [ "$status" -eq 0 ]
  [[ $output == *"uploadArtifacts\" denied"*"attempt 1 of 3"* ]]
  holdings | grep -qx 'run services hello-world-service'
}

@test "a build that fails otherwise (a compile error) is not tried again" {
  "$scripts/00-setup.sh"
  : > "$FAKE_LOG"
  FAKE_FAIL_ON='builds submit' run "$scripts/01-hello-world.sh"
  [ "$status" -ne 0 ]
  [ "$(grep -c 'gcloud builds submit' "$FAKE_LOG")" -eq 1 ]
}

@test "a project's first Eventarc trigger that fails while its agent is set up is retried" {
  "$scripts/00-setup.sh"
  FAKE_FAIL_ONCE='eventarc triggers create' run "$scripts/03b-eventarc.sh"
  [ "$status" -eq 0 ]
  holdings | grep -qx 'eventarc triggers storage-logging-trigger'
}

@test "step 0 refuses a (default) database in Firestore Native mode" {
  other_user firestore databases create --database='(default)' --location=us-central1 --type=firestore-native
  run "$scripts/00-setup.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"in FIRESTORE_NATIVE, not Datastore mode: use another project"* ]]
}

@test "step 2 stops when the index is in ERROR, and after INDEX_WAIT_SECONDS when it is not ready" {
  "$scripts/00-setup.sh"
  FAKE_INDEX_STATE=ERROR INDEX_WAIT_SECONDS=0 run "$scripts/02-message-board.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"is in ERROR"* ]]
  rm "$FAKE_STATE/state.json" "$STATE_DIR/my-project.created"
  "$scripts/00-setup.sh"
  FAKE_INDEX_STATE=CREATING INDEX_WAIT_SECONDS=0 run "$scripts/02-message-board.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"still CREATING after 0s"* ]]
}

@test "cleanup removes everything the steps made but the Firestore database" {
  after_a_first_run
  "$scripts/03b-eventarc.sh"
  [ "$(holdings | wc -l)" -gt 30 ]
  "$scripts/99-cleanup.sh" --yes
  [ "$(holdings)" = "firestore databases (default)" ]
  [ -e "$STATE_DIR/my-project.created" ] && [ ! -s "$STATE_DIR/my-project.created" ]
}

@test "cleanup with no record (another machine, ephemeral mode) fails, saying where it looked" {
  after_a_first_run
  rm "$STATE_DIR/my-project.created"
  run "$scripts/99-cleanup.sh" --yes
  [ "$status" -ne 0 ]
  [[ $output == *"no record"*"$STATE_DIR/my-project.created"*"handson.md section 7"* ]]
}

@test "cleanup twice: the second finds nothing to delete and succeeds" {
  after_a_first_run
  "$scripts/99-cleanup.sh" --yes
  : > "$FAKE_LOG"
  run "$scripts/99-cleanup.sh" --yes
  [ "$status" -eq 0 ]
  [[ $output == *"nothing to delete"* ]]
  [ ! -s "$FAKE_LOG" ]
}

@test "cleanup after a step failed half way, and again after cleanup itself failed half way" {
  "$scripts/00-setup.sh"
  "$scripts/01-hello-world.sh"
  "$scripts/02-message-board.sh"
  FAKE_FAIL_ON='subscriptions create push-storage-event' run "$scripts/03-storage-logging.sh"
  [ "$status" -ne 0 ]
  FAKE_FAIL_ON='run services delete message-board-service' run "$scripts/99-cleanup.sh" --yes
  [ "$status" -ne 0 ]
  holdings | grep -qx 'run services message-board-service'
  ! holdings | grep -q 'pubsub topics' # deleted before the failure
  # Someone removed one of the recorded bindings by hand meanwhile: cleanup skips it.
  other_user projects remove-iam-policy-binding my-project --condition=None \
    --member=serviceAccount:message-board-runtime@my-project.iam.gserviceaccount.com --role=roles/datastore.user
  "$scripts/99-cleanup.sh" --yes
  [ "$(holdings)" = "firestore databases (default)" ]
}

@test "cleanup in a shared project keeps what others made: topics, indexes, buckets, roles" {
  agent=serviceAccount:service-123456789@gs-project-accounts.iam.gserviceaccount.com
  other_user firestore databases create --database='(default)' --location=us-central1 --type=datastore-mode
  other_user pubsub topics create storage-event # same name as ours: someone else's
  other_user pubsub topics create other-app-events
  other_user storage buckets create gs://my-project-storage-logging
  other_user projects add-iam-policy-binding my-project --member="$agent" --role=roles/pubsub.publisher
  jq '.resources["datastore indexes OTHER1"] = {indexId: "OTHER1", kind: "Order", ancestor: "NONE", state: "READY",
    properties: [{name: "customer", direction: "ASCENDING"}]}' "$FAKE_STATE/state.json" > "$BATS_TEST_TMPDIR/s.json"
  mv "$BATS_TEST_TMPDIR/s.json" "$FAKE_STATE/state.json"
  before=$(holdings)
  steps
  "$scripts/03b-eventarc.sh"
  "$scripts/99-cleanup.sh" --yes
  diff -u <(echo "$before") <(holdings)
  grep -q 'notifications delete projects/_/buckets/my-project-storage-logging/notificationConfigs/1' "$FAKE_LOG"
  run holdings
  [[ $output == *"pubsub topics storage-event"* && $output == *"datastore indexes OTHER1"* ]]
  [[ $output == *"storage buckets gs://my-project-storage-logging"* && $output == *"$agent roles/pubsub.publisher"* ]]
}

@test "cleanup asks first and deletes nothing without a yes" {
  after_a_first_run
  before=$(holdings)
  run "$scripts/99-cleanup.sh" <<< "n"
  [ "$status" -ne 0 ]
  [ "$(holdings)" = "$before" ]
}

@test "a dry run calls nothing, writes nothing and prints every command" {
  sample=$scripts/../.local/hands-on-sample.txt # written by step 3 in the checkout, when it runs
  before=$(sha256sum "$sample" 2> /dev/null || echo absent)
  run steps --dry-run
  [ "$status" -eq 0 ]
  [ ! -s "$FAKE_LOG" ]
  [ "$(sha256sum "$sample" 2> /dev/null || echo absent)" = "$before" ]
  [[ $output == *"gcloud run deploy storage-logging-service"* ]]
  [[ $output == *"gcloud scheduler jobs create http log-purge-job"* ]]
  run "$scripts/03b-eventarc.sh" --dry-run
  [ "$status" -eq 0 ]
  [ ! -s "$FAKE_LOG" ]
  [[ $output == *"gcloud eventarc triggers create storage-logging-trigger"* ]]
  steps > /dev/null 2>&1
  : > "$FAKE_LOG"
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
