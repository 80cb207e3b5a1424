#!/usr/bin/env bash
# Step 1: hello_world on Cloud Run. Builds the image with Cloud Build, deploys a private service
# running as its own service account (which needs no roles), and calls it with your identity token.
# Usage: PROJECT_ID=my-project scripts/01-hello-world.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"

service_account "$HELLO_RUNTIME_SA" "$HELLO_SERVICE runtime"
build_and_deploy hello_world "$HELLO_SERVICE" "$HELLO_RUNTIME_SA"
run gcloud artifacts docker images list "$REGION-docker.pkg.dev/$PROJECT_ID/$REPOSITORY"
url=$(service_url "$HELLO_SERVICE")
token=$(identity_token)
call_api "$token" GET "$url/"
call_api "$token" POST "$url/api/v1/hello" '{"name": "Cloud Run"}'
