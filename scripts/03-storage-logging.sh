#!/usr/bin/env bash
# Step 3: storage_logging with Pub/Sub and Cloud Storage. Deploys the service (own account with
# roles/datastore.user), creates the topic and a dead-letter topic, lets the Pub/Sub service agent
# mint tokens, creates the invoker account and the authenticated push subscription, the bucket and
# its notification, uploads a sample file made here, and checks that its StorageLog arrived.
# scripts/03b-eventarc.sh is the other way to the same result: an Eventarc trigger.
# Usage: PROJECT_ID=my-project scripts/03-storage-logging.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
usage() { sed -n '2,6s/^# //p' "$0"; }
parse_common_flags "$@"
require_project

service_account "$STORAGE_RUNTIME_SA" "$STORAGE_SERVICE runtime" roles/datastore.user
build_and_deploy storage_logging "$STORAGE_SERVICE" "$STORAGE_RUNTIME_SA"
url=$(service_url "$STORAGE_SERVICE")

ensure gcloud pubsub topics describe "$TOPIC" -- gcloud pubsub topics create "$TOPIC"
ensure gcloud pubsub topics describe "$DEAD_LETTER_TOPIC" -- gcloud pubsub topics create "$DEAD_LETTER_TOPIC"
# Dead letters are kept for a week, to be read with `gcloud pubsub subscriptions pull`.
ensure gcloud pubsub subscriptions describe "$DEAD_LETTER_SUBSCRIPTION" -- \
  gcloud pubsub subscriptions create "$DEAD_LETTER_SUBSCRIPTION" --topic="$DEAD_LETTER_TOPIC"

# The Pub/Sub service agent signs the push's OIDC token and moves dead letters.
pubsub_agent=$(pubsub_agent)
run gcloud projects add-iam-policy-binding "$PROJECT_ID" --member="$pubsub_agent" \
  --role=roles/iam.serviceAccountTokenCreator --condition=None

service_account "$INVOKER_SA" "Cloud Run Invoker"
run gcloud run services add-iam-policy-binding "$STORAGE_SERVICE" --region="$REGION" \
  --member="serviceAccount:$(sa_email "$INVOKER_SA")" --role=roles/run.invoker

# Ack deadline 30 s: above our slowest answer (a Datastore deadline of 5 s). Retries back off
# from 10 s to 10 min; after 5 attempts a message goes to the dead-letter topic.
ensure gcloud pubsub subscriptions describe "$SUBSCRIPTION" -- \
  gcloud pubsub subscriptions create "$SUBSCRIPTION" --topic="$TOPIC" \
  --push-endpoint="$url/api/v1/pubsub" --push-auth-service-account="$(sa_email "$INVOKER_SA")" \
  --ack-deadline=30 --min-retry-delay=10s --max-retry-delay=600s \
  --dead-letter-topic="$DEAD_LETTER_TOPIC" --max-delivery-attempts=5
run gcloud pubsub topics add-iam-policy-binding "$DEAD_LETTER_TOPIC" --member="$pubsub_agent" \
  --role=roles/pubsub.publisher
run gcloud pubsub subscriptions add-iam-policy-binding "$SUBSCRIPTION" --member="$pubsub_agent" \
  --role=roles/pubsub.subscriber

storage_logging_bucket
if ((DRY_RUN)) || ! gcloud storage buckets notifications list "$BUCKET" --format='value(topic)' | grep -q "/topics/$TOPIC\$"; then
  run gcloud storage buckets notifications create "$BUCKET" --topic="$TOPIC" --payload-format=json
fi

upload_sample_and_wait_for_log
