#!/usr/bin/env bash
# Step 0: the project. Enables the APIs, creates the Artifact Registry repository for the images,
# Cloud Build's own service account and staging bucket, and makes sure that the project's
# (default) database is a Firestore database in Datastore mode.
# Usage: PROJECT_ID=my-project scripts/00-setup.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"

run gcloud config set project "$PROJECT_ID"
run gcloud services enable run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com \
  cloudscheduler.googleapis.com pubsub.googleapis.com datastore.googleapis.com firestore.googleapis.com \
  iam.googleapis.com storage.googleapis.com

# A (default) database in Firestore Native mode answers every Datastore call with an error.
databases=(gcloud firestore databases list --format='value(name,type)')
if ((DRY_RUN)); then
  run "${databases[@]}"
else
  mode=$("${databases[@]}" | awk '$1 ~ /\/databases\/\(default\)$/ { print $2 }')
  [[ -z $mode || $mode == DATASTORE_MODE ]] ||
    die "the (default) database of $PROJECT_ID is in $mode, not Datastore mode: use another project"
fi
ensure "" gcloud firestore databases describe --database='(default)' -- \
  gcloud firestore databases create --database='(default)' --location="$REGION" --type=datastore-mode

ensure "repository $REPOSITORY $REGION" gcloud artifacts repositories describe "$REPOSITORY" --location="$REGION" -- \
  gcloud artifacts repositories create "$REPOSITORY" --repository-format=docker --location="$REGION" \
  --description="Images of the serverless microservices hands-on"

# Cloud Build's identity: writes logs, reads the staged sources, pushes to the repository.
service_account "$BUILD_SA" "Cloud Build of the serverless microservices hands-on" roles/logging.logWriter
ensure "bucket $BUILD_BUCKET" gcloud storage buckets describe "$BUILD_BUCKET" -- \
  gcloud storage buckets create "$BUILD_BUCKET" --location="$REGION" --uniform-bucket-level-access
grant "bucket/$BUILD_BUCKET" "serviceAccount:$(sa_email "$BUILD_SA")" roles/storage.objectViewer
grant "repository/$REPOSITORY/$REGION" "serviceAccount:$(sa_email "$BUILD_SA")" roles/artifactregistry.writer
