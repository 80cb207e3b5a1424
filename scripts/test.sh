#!/usr/bin/env bash
# Runs every test: the Rust workspace with cargo-nextest against a Firestore emulator (Datastore
# mode) started for the run (tests that stop Datastore, or need the legacy or Pub/Sub emulator,
# start their own; tests under serial:: run alone, .config/nextest.toml), the compatibility check
# with the original's Python client, the OpenAPI documents' validity, and the script tests (bats):
# the hands-on steps against the installed gcloud and a fake one (while cargo compiles), and the
# local environment end to end. Stops all it started.
# Usage: scripts/test.sh [--dry-run] [cargo nextest run args...]  (e.g. -E 'test(retrieve)')
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"

# GNU parallel: bats runs two test files at a time with it.
missing=()
for tool in bats jq parallel; do command -v "$tool" > /dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  run apt-get update -qq
  run apt-get install -y -qq "${missing[@]}"
fi
if ! command -v cargo-nextest > /dev/null; then
  run cargo install --locked --quiet cargo-nextest
fi

# The script tests that run our binaries; the others (the guide and the steps against gcloud and
# the fakes, the helpers) need no build, and run while cargo compiles, on the core it leaves idle.
with_binaries=(scripts/tests/local.bats scripts/tests/step3.bats)
without_binaries=()
for file in scripts/tests/*.bats; do
  [[ " ${with_binaries[*]} " == *" $file "* ]] || without_binaries+=("$file")
done
# Two files at a time, each file's tests in order: most wait on processes or run one
# single-threaded program after another.
script_tests=(bats --jobs 2 --no-parallelize-within-files)

host=127.0.0.1:$(free_port)
start_datastore_emulator "$host" test-datastore-emulator
# The Python tools' venvs install while cargo compiles (PyPI downloads: little CPU).
install_venvs() {
  python_venv compat google-cloud-datastore && python_venv openapi openapi-spec-validator &&
    install_fake_gcs_server
}
if ((DRY_RUN)); then
  install_venvs
  run "${script_tests[@]}" "${without_binaries[@]}"
else
  install_venvs > "$LOCAL_DIR/logs/venvs.log" 2>&1 &
  venvs=$!
  # niced: the build's critical path keeps its speed, the tests take the cycles it leaves.
  nice -n 10 "${script_tests[@]}" "${without_binaries[@]}" > "$LOCAL_DIR/logs/script-tests.tap" 2>&1 &
  early_script_tests=$!
fi
# Every target at once, as nextest builds them (the same features, so it finds them built), which
# gives local.bats and compat-python.sh their binaries.
run cargo build --workspace --all-targets --locked
export LOCAL_BINARIES=$REPO_ROOT/target/debug
if ((!DRY_RUN)); then
  wait "$venvs" || die "installing the Python tools failed; see $LOCAL_DIR/logs/venvs.log"
  # Before nextest: its serial tests run beside nothing.
  early_status=0
  wait "$early_script_tests" || early_status=$?
  cat "$LOCAL_DIR/logs/script-tests.tap"
  ((early_status == 0)) || die "script tests failed (above)"
  wait_http "http://$host/" 60 || die "the Datastore emulator did not start; see $LOCAL_DIR/logs"
fi
run env DATASTORE_EMULATOR_HOST="$host" cargo nextest run --workspace --locked "${REST_ARGS[@]}"
dry=()
((DRY_RUN)) && dry=(--dry-run)
DATASTORE_EMULATOR_HOST=$host scripts/compat-python.sh "${dry[@]}"
scripts/check-openapi.sh "${dry[@]}"
run env DATASTORE_EMULATOR_HOST="$host" "${script_tests[@]}" "${with_binaries[@]}"
