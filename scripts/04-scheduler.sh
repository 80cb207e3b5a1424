#!/usr/bin/env bash
# Step 4: Cloud Scheduler calls the purge every minute, with an OIDC token of the invoker account
# whose audience is the service's URL, and an attempt deadline above the purge's time budget.
# Usage: PROJECT_ID=my-project scripts/04-scheduler.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"

# Step 3 made the invoker account; the Eventarc way (03b) did not.
service_account "$INVOKER_SA" "Cloud Run Invoker"
grant "run-service/$STORAGE_SERVICE/$REGION" "serviceAccount:$(sa_email "$INVOKER_SA")" roles/run.invoker
url=$(service_url "$STORAGE_SERVICE")
ensure "scheduler-job $SCHEDULER_JOB $REGION" gcloud scheduler jobs describe "$SCHEDULER_JOB" --location="$REGION" -- \
  gcloud scheduler jobs create http "$SCHEDULER_JOB" --location="$REGION" --schedule="$SCHEDULE" \
  --http-method=GET --uri="$url/api/v1/purge" \
  --oidc-service-account-email="$(sa_email "$INVOKER_SA")" --oidc-token-audience="$url" \
  --attempt-deadline=120s
run gcloud scheduler jobs run "$SCHEDULER_JOB" --location="$REGION"
