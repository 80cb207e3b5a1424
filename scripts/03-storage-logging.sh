#!/usr/bin/env bash
# Step 3: storage_logging with Pub/Sub and Cloud Storage. Deploys the service (own account with
# roles/datastore.user), creates the invoker account, the topic and a dead-letter topic, lets the
# Pub/Sub service agent sign tokens as the invoker, creates the authenticated push subscription, the
# bucket and its notification, uploads a sample file made here, and checks that its StorageLog arrived.
# scripts/03b-eventarc.sh is the other way to the same result: an Eventarc trigger.
# Usage: PROJECT_ID=my-project scripts/03-storage-logging.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"

service_account "$STORAGE_RUNTIME_SA" "$STORAGE_SERVICE runtime" roles/datastore.user
build_and_deploy storage_logging "$STORAGE_SERVICE" "$STORAGE_RUNTIME_SA"
url=$(service_url "$STORAGE_SERVICE")

# The identity Pub/Sub pushes with (and Cloud Scheduler calls with, step 4): may invoke this service.
service_account "$INVOKER_SA" "Cloud Run Invoker"
invoker="serviceAccount:$(sa_email "$INVOKER_SA")"
grant "run-service/$STORAGE_SERVICE/$REGION" "$invoker" roles/run.invoker

ensure "topic $TOPIC" gcloud pubsub topics describe "$TOPIC" -- gcloud pubsub topics create "$TOPIC"
ensure "topic $DEAD_LETTER_TOPIC" gcloud pubsub topics describe "$DEAD_LETTER_TOPIC" -- \
  gcloud pubsub topics create "$DEAD_LETTER_TOPIC"
# Dead letters are kept for a week, to be read with `gcloud pubsub subscriptions pull`.
ensure "subscription $DEAD_LETTER_SUBSCRIPTION" gcloud pubsub subscriptions describe "$DEAD_LETTER_SUBSCRIPTION" -- \
  gcloud pubsub subscriptions create "$DEAD_LETTER_SUBSCRIPTION" --topic="$DEAD_LETTER_TOPIC"

# The Pub/Sub service agent signs the push's OIDC token as the invoker and moves dead letters.
pubsub_agent=$(pubsub_agent)
pubsub_agent_signs_for "$INVOKER_SA" "$pubsub_agent"
# Ack deadline 30 s: above our slowest answer (a Datastore deadline of 5 s). Retries back off
# from 10 s to 10 min; after 5 attempts a message goes to the dead-letter topic.
ensure "subscription $SUBSCRIPTION" gcloud pubsub subscriptions describe "$SUBSCRIPTION" -- \
  gcloud pubsub subscriptions create "$SUBSCRIPTION" --topic="$TOPIC" \
  --push-endpoint="$url/api/v1/pubsub" --push-auth-service-account="$(sa_email "$INVOKER_SA")" \
  --ack-deadline=30 --min-retry-delay=10s --max-retry-delay=600s \
  --dead-letter-topic="$DEAD_LETTER_TOPIC" --max-delivery-attempts=5
grant "topic/$DEAD_LETTER_TOPIC" "$pubsub_agent" roles/pubsub.publisher
grant "subscription/$SUBSCRIPTION" "$pubsub_agent" roles/pubsub.subscriber

# The notification also lets the Cloud Storage service agent publish to the topic.
storage_logging_bucket
if ((DRY_RUN)) || ! gcloud storage buckets notifications list "$BUCKET" --format='value(topic)' | grep -q "/topics/$TOPIC\$"; then
  run gcloud storage buckets notifications create "$BUCKET" --topic="$TOPIC" --payload-format=json
  record notification "$BUCKET" "$TOPIC"
fi

upload_sample_and_wait_for_log
# The service's latest log entries: the push that stored it among them.
run gcloud logging read "resource.type=cloud_run_revision AND resource.labels.service_name=$STORAGE_SERVICE" --limit=20
