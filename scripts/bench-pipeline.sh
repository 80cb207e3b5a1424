#!/usr/bin/env bash
# Benchmark (not a test): the storage logging pipeline at rising publish rates, through the Pub/Sub
# emulator's real push, our storage_logging and the Python original (ORIGINAL_DIR, under
# gunicorn as its Dockerfile runs it) side by side on the same emulators, one at a time, loopback
# only. Each run is tools/pipeline-check --via publish: RATE messages/s for BENCH_SECONDS, then
# reads the StorageLogs back for BENCH_SETTLE_SECONDS more (past the 30 s ack deadline, so that a
# redelivery stored again shows). Prints a table and the highest rate each held without a loss.
# --one-cpu: each service in Cloud Run's box (scripts/lib/cloud-run-box.sh: one CPU, 256 MiB; needs
# root), and the table gains the service's CPU ms per message (its CPU over the whole run, the
# reading after it included, over the messages stored).
# Usage: scripts/bench-pipeline.sh [--dry-run] [--one-cpu] [RATE...]   (default: 50 200 500 1000)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
# shellcheck source=scripts/lib/cloud-run-box.sh
source "$REPO_ROOT/scripts/lib/cloud-run-box.sh"
# shellcheck source=scripts/lib/original.sh
source "$REPO_ROOT/scripts/lib/original.sh"
parse_common_flags "$@"
one_cpu=0 rates=()
for arg in "${REST_ARGS[@]}"; do
  if [[ $arg == --one-cpu ]]; then one_cpu=1; else rates+=("$arg"); fi
done
((${#rates[@]})) || rates=(50 200 500 1000)
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_SETTLE_SECONDS=${BENCH_SETTLE_SECONDS:-35}
logs=$LOCAL_DIR/logs

((DRY_RUN)) || require_original
((DRY_RUN || !one_cpu)) || [[ $(id -u) == 0 ]] || die "--one-cpu needs root: cgroups"
install_original
# One build each: together, cargo would build storage_logging with the features tools asks for.
run cargo build --release --locked -p storage_logging
run cargo build --release --locked -p tools

datastore=127.0.0.1:$(free_port)
pubsub=127.0.0.1:$(free_port)
ours=$(free_port)
theirs=$(free_port)
start_datastore_emulator "$datastore" bench-pipeline-datastore
service_env=(GOOGLE_CLOUD_PROJECT="$LOCAL_PROJECT" DATASTORE_PROJECT_ID="$LOCAL_PROJECT" DATASTORE_EMULATOR_HOST="$datastore")
ours_service=(env "${service_env[@]}" PORT="$ours" RUST_LOG=warn target/release/storage_logging)
original_command storage_logging "$theirs"
original_service=(env "${service_env[@]}" PORT="$theirs" "${ORIGINAL_COMMAND[@]}")
if ((DRY_RUN)); then
  run gcloud beta emulators pubsub start --project="$LOCAL_PROJECT" --host-port="$pubsub"
  run "${ours_service[@]}"
  run "${original_service[@]}"
else
  mkdir -p "$logs"
  start_tracked "$logs/bench-pipeline-pubsub.log" gcloud beta emulators pubsub start --project="$LOCAL_PROJECT" --host-port="$pubsub"
  if ((one_cpu)); then
    trap 'stop_tracked; box_remove bench-pipeline-ours; box_remove bench-pipeline-original' EXIT
    box_create bench-pipeline-ours
    box_create bench-pipeline-original
    box_start "$logs/bench-pipeline-ours.log" bench-pipeline-ours "${ours_service[@]}" > /dev/null
    box_start "$logs/bench-pipeline-original.log" bench-pipeline-original "${original_service[@]}" > /dev/null
  else
    start_tracked "$logs/bench-pipeline-ours.log" "${ours_service[@]}"
    start_tracked "$logs/bench-pipeline-original.log" "${original_service[@]}"
  fi
  for url in "http://$datastore/" "http://$pubsub/" "http://127.0.0.1:$ours/" "http://127.0.0.1:$theirs/"; do
    wait_http "$url" 60 || die "$url did not answer; see $logs"
  done
fi

# One topic and push subscription per implementation, as scripts/local.sh makes them.
read -ra gcloud_env <<< "CLOUDSDK_CORE_PROJECT=$LOCAL_PROJECT CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://$pubsub/"
declare -A port=([ours]=$ours [original]=$theirs)
for impl in ours original; do
  run env "${gcloud_env[@]}" gcloud pubsub topics create "bench-$impl" "bench-$impl-dead-letter" --quiet
  run env "${gcloud_env[@]}" gcloud pubsub subscriptions create "bench-$impl-push" --topic="bench-$impl" \
    --push-endpoint="http://127.0.0.1:${port[$impl]}/api/v1/pubsub" --ack-deadline=30 \
    --dead-letter-topic="bench-$impl-dead-letter" --max-delivery-attempts="$LOCAL_MAX_DELIVERY_ATTEMPTS" --quiet
done

client_env=(GOOGLE_CLOUD_PROJECT="$LOCAL_PROJECT" DATASTORE_EMULATOR_HOST="$datastore" PUBSUB_EMULATOR_HOST="$pubsub")
results=$logs/bench-pipeline.jsonl
((DRY_RUN)) || : > "$results"
# Warm-up, not counted: the emulators' JIT and connections (the first run was seen 5x slower at p95).
for impl in ours original; do
  run env "${client_env[@]}" target/release/pipeline-check --via publish --topic "bench-$impl" \
    --bucket bench-bucket --rate 100 --count 300 --settle 0 > /dev/null || true
done
for rate in "${rates[@]}"; do
  for impl in ours original; do
    check=(env "${client_env[@]}" target/release/pipeline-check --via publish --topic "bench-$impl"
      --bucket bench-bucket --rate "$rate" --count $((rate * BENCH_SECONDS))
      --deadline 120 --settle "$BENCH_SETTLE_SECONDS" --json)
    if ((DRY_RUN)); then run "${check[@]}"; continue; fi
    log "$impl at $rate/s"
    cpu_before=0
    ((one_cpu)) && cpu_before=$(box_cpu_ns "bench-pipeline-$impl")
    # Exit 1 is a loss or a duplicate, 2 a run that could not finish: results, both.
    answer=$("${check[@]}" 2>&1) || true
    cpu_ns=0
    ((one_cpu)) && cpu_ns=$(($(box_cpu_ns "bench-pipeline-$impl") - cpu_before))
    jq -c --arg impl "$impl" --argjson rate "$rate" --argjson cpu_ns "$cpu_ns" '. + {impl: $impl, rate: $rate}
      + (if $cpu_ns > 0 and .stored_once > 0 then {cpu_ms_per_message: ($cpu_ns / 1e6 / .stored_once)} else {} end)' \
      <<< "$answer" 2> /dev/null >> "$results" ||
      jq -cn --arg impl "$impl" --argjson rate "$rate" --arg error "$answer" '{impl: $impl, rate: $rate, error: $error}' >> "$results"
  done
done
((DRY_RUN)) && exit 0

echo "| service | rate/s | achieved/s | sent | stored once | lost | stored twice or more | extra entities | p50 ms | p99 ms | max ms | CPU ms per message |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
jq -r 'if .error then "| \(.impl) | \(.rate) | \(.error) |" else [.impl, .rate, (.achieved_rate | floor), .sent, .stored_once, .lost, .stored_more_than_once,
  .extra_entities, (.latency_ms.p50 // "-" | if type == "number" then floor else . end),
  (.latency_ms.p99 // "-" | if type == "number" then floor else . end),
  (.latency_ms.max // "-" | if type == "number" then floor else . end),
  (.cpu_ms_per_message // "-" | if type == "number" then (. * 100 | round / 100) else . end)] | "| " + (map(tostring) | join(" | ")) + " |" end' "$results"
echo
# The highest rate below the first that lost or duplicated a message.
for impl in ours original; do
  held=$(jq -rs --arg impl "$impl" '[.[] | select(.impl == $impl)] | sort_by(.rate)
    | reduce .[] as $run ({held: "none", failed: false};
        if .failed then . elif ($run.error == null and $run.lost == 0 and $run.stored_more_than_once == 0)
        then .held = "\($run.rate)/s" else .failed = true end) | .held' "$results")
  echo "$impl: highest rate at which every message was stored exactly once: $held"
done
