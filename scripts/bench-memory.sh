#!/usr/bin/env bash
# Benchmark (not a test): peak resident memory per POST route of each service under Cloud Run's
# --concurrency=80: waves of 80 requests at once, each the largest, widest or deepest body the
# route accepts, 80 retrieves of a name with 20 of the largest messages, and 80 of the largest
# stores with Datastore stalled 8 s (the resilience tests' "eighty_" cases, on the real binaries,
# against a Firestore emulator in Datastore mode started here). Prints a table; the tests assert
# the bounds.
# Usage: scripts/bench-memory.sh [--dry-run] [cargo test flags, e.g. --release]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"

host=127.0.0.1:$(free_port)
start_datastore_emulator "$host" bench-memory-datastore
((DRY_RUN)) || wait_http "http://$host/" 60 || die "the emulator did not start"
tests=(env DATASTORE_EMULATOR_HOST="$host" cargo test --locked "${REST_ARGS[@]}"
  -p hello_world -p message_board -p storage_logging --test api -- eighty_ --nocapture --test-threads=1)
if ((DRY_RUN)); then run "${tests[@]}"; exit 0; fi
output=$LOCAL_DIR/logs/bench-memory.txt
"${tests[@]}" > "$output" 2>&1 || { cat "$output"; die "a worst-case test failed"; }
echo "| route | peak RSS (MiB) | answers |"
echo "|---|---|---|"
paste -d' ' <(grep -o 'answers: .*' "$output") <(grep '^peak RSS' "$output") |
  sed -E 's/^answers: \{(.*)\} peak RSS (POST [^:]+): ([0-9]+) MiB$/| \2 | \3 | \1 |/'
grep '^RSS ' "$output" || true
