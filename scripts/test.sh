#!/usr/bin/env bash
# Runs every test: the Rust workspace with cargo-nextest against a Firestore emulator (Datastore
# mode) started for the run (tests that stop Datastore, or need the legacy or Pub/Sub emulator,
# start their own; tests under serial:: run alone, .config/nextest.toml), the compatibility check
# with the original's Python client, the OpenAPI documents' validity and a schema-driven fuzzer
# against them (scripts/check-fuzz.sh), and the script tests (bats):
# the hands-on steps against the installed gcloud and a fake one (while cargo compiles), and the
# local environment end to end. Stops all it started.
# Usage: scripts/test.sh [--dry-run] [cargo nextest run args...]  (e.g. -E 'test(retrieve)')
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"

missing=()
for tool in bats jq; do command -v "$tool" > /dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  run apt-get update -qq
  run apt-get install -y -qq "${missing[@]}"
fi
if ! command -v cargo-nextest > /dev/null; then
  run cargo install --locked --quiet cargo-nextest@0.9.143
fi

# The script tests that run our binaries; the others (the guide and the steps against gcloud and
# the fakes, the helpers) need no build, and run while cargo compiles, on the core it leaves idle,
# one file at a time: handson.bats' transcript and steps.bats both run step 3, which writes the
# checkout's sample file.
with_binaries=(scripts/tests/local.bats scripts/tests/step3.bats)
without_binaries=()
for file in scripts/tests/*.bats; do
  [[ " ${with_binaries[*]} " == *" $file "* ]] || without_binaries+=("$file")
done

host=127.0.0.1:$(free_port)
start_datastore_emulator "$host" test-datastore-emulator
# The Python tools' venvs install while cargo compiles (PyPI downloads: little CPU).
install_venvs() {
  python_venv compat google-cloud-datastore && python_venv openapi openapi-spec-validator &&
    python_venv fuzz "schemathesis==$SCHEMATHESIS_VERSION" && install_fake_gcs_server
}
# What runs in the background, each in a process group of its own (job control on while it
# starts; stdin from /dev/null, as without job control), stopped whole if this script ends first.
background=()
in_background() {
  set -m
  "$@" < /dev/null &
  background+=($!)
  set +m
}
# in_log NAME COMMAND...: COMMAND with its output in $LOCAL_DIR/logs/NAME.log.
in_log() { "${@:2}" > "$LOCAL_DIR/logs/$1.log" 2>&1; }
stop_background() {
  # (Each `|| true`: under set -e a failed kill would end the trap before stop_tracked.)
  for group in "${background[@]}"; do kill -TERM -- "-$group" 2> /dev/null || true; done
  stop_tracked
}
if ((DRY_RUN)); then
  install_venvs
  run bats --timing "${without_binaries[@]}"
else
  trap stop_background EXIT
  in_background in_log venvs install_venvs
  in_background in_log script-tests bats --timing "${without_binaries[@]}"
fi
# Every target at once, as nextest builds them (the same features, so it finds them built), which
# gives local.bats and compat-python.sh their binaries.
run cargo build --workspace --all-targets --locked
export LOCAL_BINARIES=$REPO_ROOT/target/debug
if ((!DRY_RUN)); then
  wait "${background[0]}" || die "installing the Python tools failed; see $LOCAL_DIR/logs/venvs.log"
  # Before nextest: its serial tests run beside nothing.
  early_status=0
  wait "${background[1]}" || early_status=$?
  background=()
  cat "$LOCAL_DIR/logs/script-tests.log"
  ((early_status == 0)) || die "script tests failed (above)"
  wait_http "http://$host/" 60 || die "the Datastore emulator did not start; see $LOCAL_DIR/logs"
fi
dry=()
((DRY_RUN)) && dry=(--dry-run)
# What runs our binaries and shares the machine well, in three lanes of about the same length
# beside nextest's parallel tests: the checks (the original's client, the OpenAPI documents, the
# fuzzer), step 3 and the dead-letter replay against the emulators, and the local environment.
checks() {
  DATASTORE_EMULATOR_HOST=$host scripts/compat-python.sh "${dry[@]}" &&
    scripts/check-openapi.sh "${dry[@]}" &&
    DATASTORE_EMULATOR_HOST=$host scripts/check-fuzz.sh "${dry[@]}"
}
step3() { run env DATASTORE_EMULATOR_HOST="$host" bats --timing scripts/tests/step3.bats; }
local_environment() { run bats --timing scripts/tests/local.bats; }
# in_lane NAME: runs the function NAME and says when and how it ended.
in_lane() {
  if "$1"; then log "$1 passed"; else log "$1 failed" && return 1; fi
}
# nextest in two runs (the profiles in .config/nextest.toml): the parallel tests beside those
# lanes, then the serial ones with the machine to themselves. A filter in the arguments applies
# to both runs, so either may then find nothing to run; without one, both must.
no_tests=()
((${#REST_ARGS[@]})) && no_tests=(--no-tests=warn)
nextest() {
  run env DATASTORE_EMULATOR_HOST="$host" cargo nextest run --workspace --locked "${no_tests[@]}" \
    --profile "$1" "${REST_ARGS[@]}"
}
if ((DRY_RUN)); then
  nextest parallel
  checks
  step3
  local_environment
else
  # Each lane's output is shown once all have ended, after nextest's own.
  lanes=(checks step3 local_environment)
  log "nextest's parallel tests, beside: ${lanes[*]}"
  for lane in "${lanes[@]}"; do in_background in_log "$lane" in_lane "$lane"; done
  failed=()
  nextest parallel || failed+=("the Rust tests")
  for i in "${!lanes[@]}"; do
    wait "${background[i]}" || failed+=("${lanes[i]}")
    cat "$LOCAL_DIR/logs/${lanes[i]}.log"
  done
  background=()
  ((${#failed[@]} == 0)) || die "failed (above): ${failed[*]}"
  log "the serial tests, alone"
fi
nextest serial
