# shellcheck shell=bash
# The one place for names and values used by the scripts. Every value can be overridden from the
# environment. Sourced, never run.

# --- Google Cloud (the hands-on steps)
PROJECT_ID=${PROJECT_ID:-${GOOGLE_CLOUD_PROJECT:-}}
REGION=${REGION:-us-central1}

# --- local environment (scripts/local.sh)
LOCAL_DIR=${LOCAL_DIR:-$REPO_ROOT/.local}
LOCAL_PROJECT=${LOCAL_PROJECT:-demo}
HELLO_PORT=${HELLO_PORT:-8080}
BOARD_PORT=${BOARD_PORT:-8081}
LOCAL_DATASTORE_HOST=${LOCAL_DATASTORE_HOST:-127.0.0.1:8481}
