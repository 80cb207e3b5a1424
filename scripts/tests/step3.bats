#!/usr/bin/env bats
# scripts/03-storage-logging.sh itself, not a copy of its commands, against the emulators: topics,
# dead-letter topic and the push subscription on the Pub/Sub emulator and the bucket and the upload
# on fake-gcs-server, made by the installed gcloud (tests/emulated/gcloud); IAM, Cloud Run and
# Cloud Build calls faked. The push reaches storage_logging (the real binary, on the Datastore
# emulator of scripts/test.sh), and the script's own check reads the StorageLog back through
# Datastore's REST API on that emulator.

setup_file() {
  : "${DATASTORE_EMULATOR_HOST:?run through scripts/test.sh, which starts the Datastore emulator}"
  repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  # shellcheck source=scripts/lib.sh
  source "$repo/scripts/lib.sh"
  # shellcheck source=scripts/lib/local-processes.sh
  source "$repo/scripts/lib/local-processes.sh"
  install_fake_gcs_server > /dev/null
  [[ -x target/debug/storage_logging ]] || cargo build --quiet --locked -p storage_logging
  export PROJECT_ID=step3-project-$RANDOM TOPIC=storage-event
  export PUBSUB_EMULATOR_HOST=127.0.0.1:$(free_port) GCS_ENDPOINT=http://127.0.0.1:$(free_port)
  service_port=$(free_port)
  export FAKE_RUN_URL=http://127.0.0.1:$service_port
  STARTED_GROUPS=()
  start_tracked "$BATS_FILE_TMPDIR/pubsub.log" gcloud beta emulators pubsub start --project="$PROJECT_ID" \
    --host-port="$PUBSUB_EMULATOR_HOST"
  start_tracked "$BATS_FILE_TMPDIR/gcs.log" "$(fake_gcs_binary)" -scheme http -host 127.0.0.1 \
    -port "${GCS_ENDPOINT##*:}" -backend memory -event.pubsub-project-id "$PROJECT_ID" \
    -event.pubsub-topic "$TOPIC" -event.list finalize
  start_tracked "$BATS_FILE_TMPDIR/service.log" env PORT="$service_port" GOOGLE_CLOUD_PROJECT="$PROJECT_ID" \
    DATASTORE_EMULATOR_HOST="$DATASTORE_EMULATOR_HOST" target/debug/storage_logging
  echo "${STARTED_GROUPS[*]}" > "$BATS_FILE_TMPDIR/groups"
  wait_http "http://$PUBSUB_EMULATOR_HOST/" 60
  wait_http "$GCS_ENDPOINT/storage/v1/b" 20
  wait_http "$FAKE_RUN_URL/" 10
}

teardown_file() {
  repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  # shellcheck source=scripts/lib.sh
  source "$repo/scripts/lib.sh"
  # shellcheck source=scripts/lib/local-processes.sh
  source "$repo/scripts/lib/local-processes.sh"
  for group in $(cat "$BATS_FILE_TMPDIR/groups"); do stop_group "$group"; done
}

@test "step 3 against the emulators ends with its own StorageLog check passing" {
  export REAL_GCLOUD=$(command -v gcloud) EMULATED_CLOUDSDK_CONFIG=$BATS_TEST_TMPDIR/gcloud-config
  export FAKE_LOG=$BATS_TEST_TMPDIR/calls.log FAKE_STATE=$BATS_TEST_TMPDIR/state STATE_DIR=$BATS_TEST_TMPDIR/created
  export PATH=$BATS_TEST_DIRNAME/emulated:$PATH RETRY_DELAY_SECONDS=0 LOG_WAIT_SECONDS=60
  export DATASTORE_API=http://$DATASTORE_EMULATOR_HOST BUCKET=gs://$PROJECT_ID-storage-logging
  "$BATS_TEST_DIRNAME/../00-setup.sh" # the repository and build account the build needs
  run "$BATS_TEST_DIRNAME/../03-storage-logging.sh"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"StorageLog for hands-on/sample.txt arrived (1 entities)"* ]]
  # The subscription the emulator holds is the one the script meant to make.
  grep -q "gcloud pubsub subscriptions create push-storage-event .* (emulated)" "$FAKE_LOG"
  run env CLOUDSDK_CONFIG="$EMULATED_CLOUDSDK_CONFIG" CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true \
    CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB="http://$PUBSUB_EMULATOR_HOST/" "$REAL_GCLOUD" pubsub subscriptions \
    describe push-storage-event --project="$PROJECT_ID" --format='value(pushConfig.pushEndpoint,deadLetterPolicy.maxDeliveryAttempts)'
  [ "$output" = "$FAKE_RUN_URL/api/v1/pubsub	5" ]
}
