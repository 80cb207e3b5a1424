#!/usr/bin/env bash
# Step 0: the project. Enables the APIs, creates the Artifact Registry repository for the images,
# and makes sure a Firestore database in Datastore mode exists.
# Usage: PROJECT_ID=my-project scripts/00-setup.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
usage() { sed -n '2,4s/^# //p' "$0"; }
parse_common_flags "$@"
require_project

run gcloud config set project "$PROJECT_ID"
run gcloud services enable run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com \
  cloudscheduler.googleapis.com pubsub.googleapis.com datastore.googleapis.com firestore.googleapis.com \
  iam.googleapis.com storage.googleapis.com
ensure gcloud artifacts repositories describe "$REPOSITORY" --location="$REGION" -- \
  gcloud artifacts repositories create "$REPOSITORY" --repository-format=docker --location="$REGION" \
  --description="Images of the serverless microservices hands-on"
ensure gcloud firestore databases describe --database='(default)' -- \
  gcloud firestore databases create --database='(default)' --location="$REGION" --type=datastore-mode
