#!/usr/bin/env bash
# Step 3, the Eventarc way: instead of a bucket notification and a push subscription (step 3), an
# Eventarc trigger sends each new object of the bucket to storage_logging as a CloudEvent
# (POST /api/v1/events). Deploys the service (own account with roles/datastore.user), lets the
# Cloud Storage service agent publish events, creates the trigger's own account (event receiver,
# invoker of this service only) and the trigger, uploads a sample file, checks its StorageLog.
# Run this or step 3: with both, an upload is logged once per route.
# Usage: PROJECT_ID=my-project scripts/03b-eventarc.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
usage() { sed -n '2,8s/^# //p' "$0"; }
parse_common_flags "$@"
require_project

run gcloud services enable eventarc.googleapis.com
service_account "$STORAGE_RUNTIME_SA" "$STORAGE_SERVICE runtime" roles/datastore.user
build_and_deploy storage_logging "$STORAGE_SERVICE" "$STORAGE_RUNTIME_SA"

# Cloud Storage events reach Eventarc through Pub/Sub: the Cloud Storage service agent publishes
# them, and the Pub/Sub service agent signs the deliveries' OIDC tokens.
if ((DRY_RUN)); then
  run gcloud storage service-agent --project="$PROJECT_ID"
  # shellcheck disable=SC2016  # the placeholder is printed, not expanded
  storage_agent='$STORAGE_SERVICE_AGENT'
else
  storage_agent=$(gcloud storage service-agent --project="$PROJECT_ID")
fi
run gcloud projects add-iam-policy-binding "$PROJECT_ID" --member="serviceAccount:$storage_agent" \
  --role=roles/pubsub.publisher --condition=None
run gcloud projects add-iam-policy-binding "$PROJECT_ID" --member="$(pubsub_agent)" \
  --role=roles/iam.serviceAccountTokenCreator --condition=None

# The trigger's identity: receives events, and may invoke storage_logging and nothing else.
service_account "$EVENTARC_SA" "Eventarc trigger of $STORAGE_SERVICE" roles/eventarc.eventReceiver
run gcloud run services add-iam-policy-binding "$STORAGE_SERVICE" --region="$REGION" \
  --member="serviceAccount:$(sa_email "$EVENTARC_SA")" --role=roles/run.invoker

storage_logging_bucket
ensure gcloud eventarc triggers describe "$TRIGGER" --location="$REGION" -- \
  gcloud eventarc triggers create "$TRIGGER" --location="$REGION" \
  --destination-run-service="$STORAGE_SERVICE" --destination-run-region="$REGION" \
  --destination-run-path=/api/v1/events \
  --event-filters=type=google.cloud.storage.object.v1.finalized \
  --event-filters="bucket=${BUCKET#gs://}" \
  --service-account="$(sa_email "$EVENTARC_SA")"

upload_sample_and_wait_for_log
