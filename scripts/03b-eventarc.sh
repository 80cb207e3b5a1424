#!/usr/bin/env bash
# Step 3, the Eventarc way: instead of a bucket notification and a push subscription (step 3), an
# Eventarc trigger sends each new object of the bucket to storage_logging as a CloudEvent
# (POST /api/v1/events). Deploys the service (own account with roles/datastore.user), lets the
# Cloud Storage service agent publish events, creates the trigger's own account (event receiver,
# invoker of this service only) and the trigger, uploads a sample file, checks its StorageLog.
# Run this or step 3: with both, an upload is logged once per route. Needs only step 0 before it.
# Usage: PROJECT_ID=my-project scripts/03b-eventarc.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"

run gcloud services enable eventarc.googleapis.com
service_account "$STORAGE_RUNTIME_SA" "$STORAGE_SERVICE runtime" roles/datastore.user
build_and_deploy storage_logging "$STORAGE_SERVICE" "$STORAGE_RUNTIME_SA"

# Cloud Storage events reach Eventarc through Pub/Sub: the Cloud Storage service agent publishes
# them, and the Pub/Sub service agent signs the deliveries' OIDC tokens as the trigger's account.
if ((DRY_RUN)); then
  run gcloud storage service-agent --project="$PROJECT_ID"
  # shellcheck disable=SC2016  # the placeholder is printed, not expanded
  storage_agent='$STORAGE_SERVICE_AGENT'
else
  storage_agent=$(gcloud storage service-agent --project="$PROJECT_ID")
fi
grant project "serviceAccount:$storage_agent" roles/pubsub.publisher

# The trigger's identity: receives events, and may invoke storage_logging and nothing else.
service_account "$EVENTARC_SA" "Eventarc trigger of $STORAGE_SERVICE" roles/eventarc.eventReceiver
pubsub_agent_signs_for "$EVENTARC_SA"
grant "run-service/$STORAGE_SERVICE/$REGION" "serviceAccount:$(sa_email "$EVENTARC_SA")" roles/run.invoker

storage_logging_bucket
# A project's first trigger can fail while Eventarc's service agent is being set up: ensure retries.
ensure "trigger $TRIGGER $REGION" gcloud eventarc triggers describe "$TRIGGER" --location="$REGION" -- \
  gcloud eventarc triggers create "$TRIGGER" --location="$REGION" \
  --destination-run-service="$STORAGE_SERVICE" --destination-run-region="$REGION" \
  --destination-run-path=/api/v1/events \
  --event-filters=type=google.cloud.storage.object.v1.finalized \
  --event-filters="bucket=${BUCKET#gs://}" \
  --service-account="$(sa_email "$EVENTARC_SA")"

upload_sample_and_wait_for_log
