#!/usr/bin/env bats
# scripts/03-storage-logging.sh itself, not a copy of its commands, against the emulators: topics,
# dead-letter topic and the push subscription on the Pub/Sub emulator and the bucket and the upload
# on fake-gcs-server, made by the installed gcloud (tests/emulated/gcloud); IAM, Cloud Run and
# Cloud Build calls faked. The push reaches storage_logging (the real binary, on the Datastore
# emulator of scripts/test.sh), and the script's own check reads the StorageLog back through
# Datastore's REST API on that emulator. Then scripts/replay-dead-letters.sh, the same way, replays
# what a push subscription dead-lettered into that service (with pulls and acknowledgements on the
# Pub/Sub emulator by the installed gcloud).

setup_file() {
  : "${DATASTORE_EMULATOR_HOST:?run through scripts/test.sh, which starts the Datastore emulator}"
  repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  # shellcheck source=scripts/lib.sh
  source "$repo/scripts/lib.sh"
  # shellcheck source=scripts/lib/local-processes.sh
  source "$repo/scripts/lib/local-processes.sh"
  # What the file's tests share is tracked where teardown_file finds it.
  TRACK_DIR=$BATS_FILE_TMPDIR/pids
  install_fake_gcs_server > /dev/null
  [[ -x target/debug/storage_logging ]] || cargo build --quiet --locked -p storage_logging
  export PROJECT_ID=step3-project-$RANDOM TOPIC=storage-event
  export PUBSUB_EMULATOR_HOST=127.0.0.1:$(free_port) GCS_ENDPOINT=http://127.0.0.1:$(free_port)
  service_port=$(free_port)
  export FAKE_RUN_URL=http://127.0.0.1:$service_port
  start_tracked "$BATS_FILE_TMPDIR/pubsub.log" gcloud beta emulators pubsub start --project="$PROJECT_ID" \
    --host-port="$PUBSUB_EMULATOR_HOST"
  start_tracked "$BATS_FILE_TMPDIR/gcs.log" "$(fake_gcs_binary)" -scheme http -host 127.0.0.1 \
    -port "${GCS_ENDPOINT##*:}" -backend memory -event.pubsub-project-id "$PROJECT_ID" \
    -event.pubsub-topic "$TOPIC" -event.list finalize
  start_tracked "$BATS_FILE_TMPDIR/service.log" env PORT="$service_port" GOOGLE_CLOUD_PROJECT="$PROJECT_ID" \
    DATASTORE_EMULATOR_HOST="$DATASTORE_EMULATOR_HOST" target/debug/storage_logging
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
  # What the file's tests share is tracked where teardown_file finds it.
  TRACK_DIR=$BATS_FILE_TMPDIR/pids
  stop_tracked
}

setup() {
  repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  export REAL_GCLOUD=$(command -v gcloud) EMULATED_CLOUDSDK_CONFIG=$BATS_TEST_TMPDIR/gcloud-config
  export FAKE_LOG=$BATS_TEST_TMPDIR/calls.log FAKE_STATE=$BATS_TEST_TMPDIR/state STATE_DIR=$BATS_TEST_TMPDIR/created
  export PATH=$BATS_TEST_DIRNAME/emulated:$PATH RETRY_DELAY_SECONDS=0 LOG_WAIT_SECONDS=60
  export DATASTORE_API=http://$DATASTORE_EMULATOR_HOST BUCKET=gs://$PROJECT_ID-storage-logging
}

@test "step 3 against the emulators ends with its own StorageLog check passing" {
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

# pubsub METHOD PATH [JSON]: the Pub/Sub emulator's REST API (one call where gcloud takes seconds).
pubsub() {
  curl -fsS -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} \
    "http://$PUBSUB_EMULATOR_HOST/v1/projects/$PROJECT_ID/$2" > /dev/null
}

# message OBJECT [EVENT_TYPE]: a Cloud Storage notification of a new object, as published.
message() {
  jq -cn --arg name "$1" --arg type "${2:-}" '{
    data: ({kind: "storage#object", name: $name, bucket: "replay-bucket", size: "5", contentType: "text/plain",
      timeCreated: "2026-12-05T00:00:00.000Z", updated: "2026-12-05T00:00:00.000Z"} | tojson | @base64),
    attributes: ({payloadFormat: "JSON_API_V1", bucketId: "replay-bucket", objectId: $name}
      + if $type == "" then {} else {eventType: $type} end)}'
}

# replayed_logs: the names of the replayed StorageLogs, one per entity, sorted, read from the emulator.
replayed_logs() {
  curl -fsS -H 'Content-Type: application/json' -d '{"query": {"kind": [{"name": "StorageLog"}]}}' \
    "http://$DATASTORE_EMULATOR_HOST/v1/projects/$PROJECT_ID:runQuery" |
    jq -c '[.batch.entityResults[]?.entity.properties.name.stringValue | select(startswith("replay/"))] | sort'
}

@test "what a push subscription dead-lettered is replayed into the service: each stored once, a refused one kept" {
  export DEAD_LETTER_TOPIC=replay-dead-letter DEAD_LETTER_SUBSCRIPTION=replay-dead-letter-pull
  # Straight to the service, without a token (the cloud's token commands: handson.bats).
  export REPLAY_ENDPOINT=$FAKE_RUN_URL/api/v1/pubsub
  pubsub PUT topics/replay-test
  pubsub PUT "topics/$DEAD_LETTER_TOPIC"
  pubsub PUT "subscriptions/$DEAD_LETTER_SUBSCRIPTION" "{\"topic\": \"projects/$PROJECT_ID/topics/$DEAD_LETTER_TOPIC\"}"
  # Every push fails (nothing listens there): after 5 attempts each message is a dead letter.
  pubsub PUT subscriptions/replay-test-push "$(jq -cn --arg project "projects/$PROJECT_ID" --arg port "$(source "$repo/scripts/lib.sh" && free_port)" '{
    topic: "\($project)/topics/replay-test", pushConfig: {pushEndpoint: "http://127.0.0.1:\($port)/api/v1/pubsub"},
    deadLetterPolicy: {deadLetterTopic: "\($project)/topics/replay-dead-letter", maxDeliveryAttempts: 5}}')"
  # Three uploads, and one without an event type, which the service refuses (400): it must stay.
  pubsub POST topics/replay-test:publish "$(jq -cn --argjson messages "[$(message replay/1.txt OBJECT_FINALIZE),
    $(message replay/2.txt OBJECT_FINALIZE), $(message replay/3.txt OBJECT_FINALIZE), $(message replay/refused.txt)]" \
    '{messages: $messages}')"

  replayed=0
  for _ in $(seq 30); do
    run "$repo/scripts/replay-dead-letters.sh"
    echo "$output"
    replayed=$((replayed + $(sed -n 's/.*replayed \([0-9]*\) message.*/\1/p' <<< "$output")))
    ((replayed < 3)) || break
    sleep 1
  done
  [ "$replayed" -eq 3 ]
  [ "$(replayed_logs)" = '["replay/1.txt","replay/2.txt","replay/3.txt"]' ]
  # Run again: nothing stored twice, the refused message still there and named.
  run "$repo/scripts/replay-dead-letters.sh"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"replayed 0 message(s)"* ]]
  [[ $output == *"refused: message "*" (HTTP 400)"* ]]
  [[ $output == *"1 message(s) refused"* ]]
  [ "$(replayed_logs)" = '["replay/1.txt","replay/2.txt","replay/3.txt"]' ]
}
