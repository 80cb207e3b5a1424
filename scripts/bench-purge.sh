#!/usr/bin/env bash
# Benchmark (not a test): seeds a backlog of N old StorageLog entities on a Firestore emulator in
# Datastore mode, then calls storage_logging's purge as Cloud Scheduler would until one answers
# complete (each stops after PURGE_TIME_BUDGET_SECONDS, the next continues); checks that all are
# gone and prints a table: purges needed, seconds, entities deleted per second.
# Usage: scripts/bench-purge.sh [--dry-run] [N (default 10000)] [rounds (default 3)]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"
count=${REST_ARGS[0]:-10000}
rounds=${REST_ARGS[1]:-3}
# Each purge deletes what its time budget allows (a few thousand a second here): plenty of room.
MAX_PURGES=${MAX_PURGES:-100}

run cargo build --release --locked -p storage_logging
host=127.0.0.1:$(free_port)
port=$(free_port)
if ((DRY_RUN)); then
  # shellcheck disable=SC2046  # the command is a list of words
  run $(firestore_emulator_command "$host")
  run env PORT="$port" DATASTORE_EMULATOR_HOST="$host" DATASTORE_PROJECT_ID="$LOCAL_PROJECT" \
    RUST_LOG=warn target/release/storage_logging
  exit 0
fi
mkdir -p "$LOCAL_DIR/logs"
trap stop_tracked EXIT
# shellcheck disable=SC2046  # the command is a list of words
start_tracked "$LOCAL_DIR/logs/bench-datastore.log" $(firestore_emulator_command "$host")
start_tracked "$LOCAL_DIR/logs/bench-storage_logging.log" env PORT="$port" \
  DATASTORE_EMULATOR_HOST="$host" DATASTORE_PROJECT_ID="$LOCAL_PROJECT" RUST_LOG=warn \
  target/release/storage_logging
wait_http "http://$host/" 60 || die "the emulator did not start"
wait_http "http://127.0.0.1:$port/" 10 || die "storage_logging did not start"

datastore=http://$host/v1/projects/$LOCAL_PROJECT
old=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S.000000Z)
seed() { # round: COUNT entities an hour old, 500 per commit
  local round=$1 from
  for ((from = 0; from < count; from += 500)); do
    jq -cn --arg p "$LOCAL_PROJECT" --arg t "$old" --argjson from "$from" --argjson n "$count" --arg r "$round" '
      {mode: "NON_TRANSACTIONAL", mutations: [range($from; [$from + 500, $n] | min) | {upsert: {
        key: {partitionId: {projectId: $p}, path: [{kind: "StorageLog", name: "bench-\($r)-\(.)"}]},
        properties: {name: {stringValue: "bench-\(.)"}, timestamp: {timestampValue: $t}}}}]}' |
      curl -fsS -o /dev/null -H 'Content-Type: application/json' -d @- "$datastore:commit"
  done
}
left() {
  jq -cn '{query: {kind: [{name: "StorageLog"}], projection: [{property: {name: "__key__"}}]}}' |
    curl -fsS -H 'Content-Type: application/json' -d @- "$datastore:runQuery" |
    jq '.batch.entityResults // [] | length'
}

echo "| round | entities | purges | seconds | deleted | entities/s | left after |"
echo "|---|---|---|---|---|---|---|"
for ((round = 1; round <= rounds; round++)); do
  seed "$round"
  started=$(date +%s.%N)
  purges=0 deleted=0 complete=false
  until [[ $complete == true ]]; do
    ((purges < MAX_PURGES)) || die "not complete after $MAX_PURGES purges"
    answer=$(curl -sS --fail-with-body "http://127.0.0.1:$port/api/v1/purge") || die "a purge failed: $answer"
    purges=$((purges + 1)) deleted=$((deleted + $(jq -e .deleted <<< "$answer")))
    complete=$(jq -e .complete <<< "$answer" || true)
  done
  seconds=$(echo "$(date +%s.%N) - $started" | bc)
  printf '| %d | %d | %d | %.1f | %d | %.0f | %s |\n' "$round" "$count" "$purges" "$seconds" "$deleted" \
    "$(echo "$deleted / $seconds" | bc -l)" "$(left)"
done
