# shellcheck shell=bash
# The one place for names and values used by the scripts. Every value can be overridden from the
# environment. Sourced, never run.

# --- The workspace: its service crates, one container image each (infra/Dockerfile builds one).
read -ra SERVICE_CRATES <<< "${SERVICE_CRATES:-hello_world message_board storage_logging}"

# --- Google Cloud (the hands-on steps, scripts/0*.sh)
PROJECT_ID=${PROJECT_ID:-${GOOGLE_CLOUD_PROJECT:-}}
# Empty: the region this project's steps ran in (recorded in STATE_DIR), else DEFAULT_REGION.
REGION=${REGION:-}
DEFAULT_REGION=${DEFAULT_REGION:-us-central1}
REPOSITORY=${REPOSITORY:-microservices}          # Artifact Registry (docker)
# Cloud Build runs as this account (not the Compute Engine default account, which has no roles in
# organisations that turn automatic grants off) and stages the sources in this bucket.
BUILD_SA=${BUILD_SA:-microservices-builder}
BUILD_BUCKET=${BUILD_BUCKET:-gs://${PROJECT_ID:-PROJECT_ID}-microservices-build}
HELLO_SERVICE=${HELLO_SERVICE:-hello-world-service}
BOARD_SERVICE=${BOARD_SERVICE:-message-board-service}
STORAGE_SERVICE=${STORAGE_SERVICE:-storage-logging-service}
# Runtime service accounts, one per service, holding only what it needs.
HELLO_RUNTIME_SA=${HELLO_RUNTIME_SA:-hello-world-runtime}
BOARD_RUNTIME_SA=${BOARD_RUNTIME_SA:-message-board-runtime}
STORAGE_RUNTIME_SA=${STORAGE_RUNTIME_SA:-storage-logging-runtime}
# The identity Pub/Sub and Cloud Scheduler call storage_logging with.
INVOKER_SA=${INVOKER_SA:-cloud-run-invoker}
TOPIC=${TOPIC:-storage-event}
DEAD_LETTER_TOPIC=${DEAD_LETTER_TOPIC:-storage-event-dead-letter}
SUBSCRIPTION=${SUBSCRIPTION:-push-storage-event}
DEAD_LETTER_SUBSCRIPTION=${DEAD_LETTER_SUBSCRIPTION:-storage-event-dead-letter-pull}
BUCKET=${BUCKET:-gs://${PROJECT_ID:-PROJECT_ID}-storage-logging}
# The Eventarc way of step 3 (scripts/03b-eventarc.sh): the trigger and its own identity.
TRIGGER=${TRIGGER:-storage-logging-trigger}
EVENTARC_SA=${EVENTARC_SA:-storage-logging-eventarc}
SCHEDULER_JOB=${SCHEDULER_JOB:-log-purge-job}
SCHEDULE=${SCHEDULE:-* * * * *}
# Datastore's REST API: the step 3 check reads StorageLog through it, cleanup deletes the index.
DATASTORE_API=${DATASTORE_API:-https://datastore.googleapis.com}
# Waits: the index to be READY, a sample upload's StorageLog; IAM and first-use retries.
INDEX_WAIT_SECONDS=${INDEX_WAIT_SECONDS:-1200}
LOG_WAIT_SECONDS=${LOG_WAIT_SECONDS:-150}
# Step 5's pipeline check: uploads to the bucket, each of which must become one StorageLog.
PIPELINE_CHECK_COUNT=${PIPELINE_CHECK_COUNT:-10}
# IAM knows a new service account after 60 s or more: 8 attempts 10 s apart.
RETRY_ATTEMPTS=${RETRY_ATTEMPTS:-8}
# A build takes minutes, so that its retries outlast IAM's propagation with fewer attempts.
BUILD_ATTEMPTS=${BUILD_ATTEMPTS:-3}
RETRY_DELAY_SECONDS=${RETRY_DELAY_SECONDS:-10}
# What the steps created, one file per project: cleanup deletes that and nothing else. Kept in the
# home directory (Cloud Shell keeps it between sessions), not in the clone.
STATE_DIR=${STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/serverless-microservices-handson}

# scripts/replay-dead-letters.sh: messages per pull, each posted before the batch is acknowledged;
# how long a pulled batch stays leased to the run (Pub/Sub's maximum, 600 s, against the
# dead-letter subscription's 10 s); whose token it posts with (user, invoker or none); where it posts (empty: the
# deployed service's push route; the tests: a local one).
REPLAY_BATCH=${REPLAY_BATCH:-20}
REPLAY_LEASE_SECONDS=${REPLAY_LEASE_SECONDS:-600}
REPLAY_IDENTITY=${REPLAY_IDENTITY:-user}
REPLAY_ENDPOINT=${REPLAY_ENDPOINT:-}

# scripts/scale-test.sh, in a scratch project (it costs money): the route (pubsub: notifications
# published to TOPIC; store: message_board's store), Google's 500/50/5 ramp (start a second, percent
# more per step, minutes per step), the steps, and notifications per publish request.
SCALE_ROUTE=${SCALE_ROUTE:-pubsub}
SCALE_START_RATE=${SCALE_START_RATE:-500}
SCALE_STEP_PERCENT=${SCALE_STEP_PERCENT:-50}
SCALE_STEP_MINUTES=${SCALE_STEP_MINUTES:-5}
SCALE_STEPS=${SCALE_STEPS:-4}
SCALE_BATCH=${SCALE_BATCH:-10}
PUBSUB_API=${PUBSUB_API:-https://pubsub.googleapis.com}
MONITORING_API=${MONITORING_API:-https://monitoring.googleapis.com}

# scripts/check-image.sh: the Dockerfile it builds, the two base images it makes under the names
# infra/Dockerfile uses (the short name rust:1-bookworm resolves to docker.io/library/), the Rust
# release it puts in the first (this repository's toolchain), and the Debian mirror it builds from.
IMAGE_DOCKERFILE=${IMAGE_DOCKERFILE:-infra/Dockerfile}
IMAGE_RUST_BASE=${IMAGE_RUST_BASE:-docker.io/library/rust:1-bookworm}
IMAGE_RUNTIME_BASE=${IMAGE_RUNTIME_BASE:-gcr.io/distroless/base-nossl-debian12:nonroot}
IMAGE_RUST_VERSION=${IMAGE_RUST_VERSION:-1.95.0}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# --- this machine (scripts/local.sh, the tests)
LOCAL_DIR=${LOCAL_DIR:-$REPO_ROOT/.local}
LOCAL_PROJECT=${LOCAL_PROJECT:-demo}
HELLO_PORT=${HELLO_PORT:-8080}
BOARD_PORT=${BOARD_PORT:-8081}
STORAGE_PORT=${STORAGE_PORT:-8082}
LOCAL_DATASTORE_HOST=${LOCAL_DATASTORE_HOST:-127.0.0.1:8481}
LOCAL_PUBSUB_HOST=${LOCAL_PUBSUB_HOST:-127.0.0.1:8485}
LOCAL_GCS_PORT=${LOCAL_GCS_PORT:-4443}
LOCAL_BUCKET=${LOCAL_BUCKET:-gs://local-storage-logging}
PURGE_EVERY_SECONDS=${PURGE_EVERY_SECONDS:-60}
# The cargo profile local.sh builds the services with: dev, as the guide's `cargo run` (release
# adds minutes and a second set of compiled dependencies to Cloud Shell's 5 GB home).
LOCAL_CARGO_PROFILE=${LOCAL_CARGO_PROFILE:-dev}
# A directory that already holds the three services and pipeline-check: local.sh and
# compat-python.sh then run those instead of building. scripts/test.sh sets it to its own build
# (target/debug, every target at once), which a per-crate build would otherwise repeat; features
# are unified there, so that hello_world holds common's unused Datastore code.
LOCAL_BINARIES=${LOCAL_BINARIES:-}
# The local push subscription has no retry policy: the Pub/Sub emulator then redelivers about
# every second (with one it was seen to stop redelivering). Step 3's 5 attempts, 10 to 600 s
# apart, ride out minutes of outage in the cloud; here 5 would send a message to the dead-letter
# topic after 5 s of Datastore outage (the emulator-restart test lost 18 of 75 so), 100 after
# about 100 s. The tests' subscriptions use the same number (test_support/src/pubsub.rs).
LOCAL_MAX_DELIVERY_ATTEMPTS=${LOCAL_MAX_DELIVERY_ATTEMPTS:-100}

# --- scripts/check-fuzz.sh: the schema-driven fuzzer (Schemathesis, pinned), its seed (fixed, so
# that a failure can be repeated) and its examples per operation (30: about 15 s for the three
# services and the verifying run).
SCHEMATHESIS_VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
FUZZ_SEED=${FUZZ_SEED:-20261205}
FUZZ_EXAMPLES=${FUZZ_EXAMPLES:-30}

# --- benchmarks (scripts/bench-*.sh). What they compare with is not in this repository, so these
# have no default: the Python original (scripts/lib/original.sh says how to get it), and the A/B
# harness that runs it beside ours (BENCH_DIR: its run.sh and ab.sh).
ORIGINAL_REPOSITORY=${ORIGINAL_REPOSITORY:-https://github.com/GoogleCloudPlatform/gcp-getting-started-lab-jp}
ORIGINAL_COMMIT=${ORIGINAL_COMMIT:-9e263c19dd07ca900304dbe712b1318b459355f1}
ORIGINAL_DIR=${ORIGINAL_DIR:-}
BENCH_DIR=${BENCH_DIR:-}
