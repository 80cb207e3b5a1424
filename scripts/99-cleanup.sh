#!/usr/bin/env bash
# Removes everything the steps created: the scheduler job, the Eventarc trigger, the bucket and
# its notification, the subscriptions and topics, the services, the service accounts and their
# project roles, the index and the image repository. Keeps the Firestore database (it may hold
# other data) and the APIs. Asks first unless --yes.
# Usage: PROJECT_ID=my-project scripts/99-cleanup.sh [--dry-run] [--yes]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
usage() { sed -n '2,6s/^# //p' "$0"; }
parse_common_flags "$@"
require_project

if ((!DRY_RUN && !ASSUME_YES)); then
  read -r -p "Delete the hands-on's resources in project $PROJECT_ID? [y/N] " answer
  [[ $answer == [yY]* ]] || die "nothing deleted"
fi

remove gcloud scheduler jobs describe "$SCHEDULER_JOB" --location="$REGION" -- \
  gcloud scheduler jobs delete "$SCHEDULER_JOB" --location="$REGION" --quiet
remove gcloud eventarc triggers describe "$TRIGGER" --location="$REGION" -- \
  gcloud eventarc triggers delete "$TRIGGER" --location="$REGION" --quiet
remove gcloud storage buckets describe "$BUCKET" -- gcloud storage rm --recursive "$BUCKET"
for subscription in "$SUBSCRIPTION" "$DEAD_LETTER_SUBSCRIPTION"; do
  remove gcloud pubsub subscriptions describe "$subscription" -- \
    gcloud pubsub subscriptions delete "$subscription" --quiet
done
for topic in "$TOPIC" "$DEAD_LETTER_TOPIC"; do
  remove gcloud pubsub topics describe "$topic" -- gcloud pubsub topics delete "$topic" --quiet
done
for service in "$HELLO_SERVICE" "$BOARD_SERVICE" "$STORAGE_SERVICE"; do
  remove gcloud run services describe "$service" --region="$REGION" -- \
    gcloud run services delete "$service" --region="$REGION" --quiet
done
for account in "$BOARD_RUNTIME_SA" "$STORAGE_RUNTIME_SA"; do
  remove gcloud iam service-accounts describe "$(sa_email "$account")" -- \
    gcloud projects remove-iam-policy-binding "$PROJECT_ID" \
    --member="serviceAccount:$(sa_email "$account")" --role=roles/datastore.user --condition=None
done
remove gcloud iam service-accounts describe "$(sa_email "$EVENTARC_SA")" -- \
  gcloud projects remove-iam-policy-binding "$PROJECT_ID" \
  --member="serviceAccount:$(sa_email "$EVENTARC_SA")" --role=roles/eventarc.eventReceiver --condition=None
for account in "$HELLO_RUNTIME_SA" "$BOARD_RUNTIME_SA" "$STORAGE_RUNTIME_SA" "$INVOKER_SA" "$EVENTARC_SA"; do
  remove gcloud iam service-accounts describe "$(sa_email "$account")" -- \
    gcloud iam service-accounts delete "$(sa_email "$account")" --quiet
done
# An empty index file: `cleanup` deletes every composite index not in it.
empty_indexes=.local/empty-index.yaml
mkdir -p .local
echo 'indexes: []' > "$empty_indexes"
run gcloud datastore indexes cleanup "$empty_indexes" --quiet
remove gcloud artifacts repositories describe "$REPOSITORY" --location="$REGION" -- \
  gcloud artifacts repositories delete "$REPOSITORY" --location="$REGION" --quiet
