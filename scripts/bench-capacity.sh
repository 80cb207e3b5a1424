#!/usr/bin/env bash
# Benchmark (not a test): one instance's capacity in Cloud Run's box, ours and the Python original
# (ORIGINAL_DIR, under gunicorn as its Dockerfile runs it). Each service runs alone in a box of
# one CPU and 256 MiB (scripts/lib/cloud-run-box.sh), on a Firestore emulator in Datastore mode
# outside it; oha keeps at most 80 requests in flight (--concurrency=80) and sends a fixed rate (open
# model, latency corrected for coordinated omission) for BENCH_SECONDS, at rising rates until one
# fails: an error or a non-2xx answer, under 95% of the rate answered, or p99 over BENCH_P99_MS
# (requests still in flight when the time is up are not counted).
# Prints per route the highest rate held, its latency, CPU µs per request (the box's CPU time over
# the answers) and the rate one CPU would hold at that cost, peak resident memory (sampled every
# 0.1 s, over all rates), and what failed at the next rate. JSON lines: .local/logs/bench-capacity.jsonl.
# Routes: hello, retrieve (20 stored messages), store, pubsub (push envelopes with new message ids,
# ten for every request a rate sends, at most 500,000, drawn at random by oha: the share drawn
# twice, redeliveries, is in the JSON lines).
# BENCH_DATASTORE_DELAY_MS puts the emulator that far away (scripts/lib/delay_proxy.py delays every
# request to it): what an instance holds when Datastore's latency, not its CPU, is the bound.
# Usage: scripts/bench-capacity.sh [--dry-run] [ROUTE...]   (default: hello retrieve store pubsub)
# Needs root (cgroup v1) and oha (cargo install --locked oha).
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
routes=("${REST_ARGS[@]}")
((${#routes[@]})) || routes=(hello retrieve store pubsub)
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_P99_MS=${BENCH_P99_MS:-100}
read -ra BENCH_RATES <<< "${BENCH_RATES:-50 100 200 400 800 1600 3200 6400 12800 25600}"
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-80}
read -ra BENCH_IMPLS <<< "${BENCH_IMPLS:-ours original}"
# Our binaries (another build's, to compare a change; the release build runs either way).
BENCH_BIN_DIR=${BENCH_BIN_DIR:-target/release}
BENCH_DATASTORE_DELAY_MS=${BENCH_DATASTORE_DELAY_MS:-0}
logs=$LOCAL_DIR/logs
box=bench-capacity

declare -A service_of=([hello]=hello_world [retrieve]=message_board [store]=message_board [pubsub]=storage_logging)
declare -A path_of=([hello]=/api/v1/hello [retrieve]=/api/v1/retrieve [store]=/api/v1/store [pubsub]=/api/v1/pubsub)
for route in "${routes[@]}"; do [[ -v "service_of[$route]" ]] || die "no route $route (hello retrieve store pubsub)"; done
[[ $BENCH_DATASTORE_DELAY_MS =~ ^[0-9]+$ ]] || die "BENCH_DATASTORE_DELAY_MS: whole milliseconds"
((DRY_RUN)) || require_original
((DRY_RUN)) || [[ $(id -u) == 0 ]] || die "needs root: cgroups"
command -v oha > /dev/null || ((DRY_RUN)) || die "needs oha: cargo install --locked oha"
install_original
for crate in hello_world message_board storage_logging; do run cargo build --release --locked -p "$crate"; done

datastore=127.0.0.1:$(free_port)
start_datastore_emulator "$datastore" bench-capacity-datastore
mkdir -p "$logs"
work=$(mktemp -d)
trap 'stop_tracked; box_remove "$box"; rm -rf "$work"' EXIT
((DRY_RUN)) || wait_http "http://$datastore/" 60 || die "the emulator did not start"
services_datastore=$datastore
if ((BENCH_DATASTORE_DELAY_MS > 0)); then
  services_datastore=127.0.0.1:$(free_port)
  proxy=(python3 "$REPO_ROOT/scripts/lib/delay_proxy.py" "${services_datastore#*:}" "$datastore" "$BENCH_DATASTORE_DELAY_MS")
  if ((DRY_RUN)); then
    run "${proxy[@]}"
  else
    start_tracked "$logs/bench-capacity-delay.log" "${proxy[@]}"
    wait_http "http://$services_datastore/" 30 || die "the delay proxy did not start"
  fi
fi
service_env=(GOOGLE_CLOUD_PROJECT="$LOCAL_PROJECT" DATASTORE_PROJECT_ID="$LOCAL_PROJECT" DATASTORE_EMULATOR_HOST="$services_datastore")

# The retrieve route's 20 messages, as message_board stores them.
seed_retrieve() {
  local i mutations=()
  for ((i = 0; i < 20; i++)); do
    mutations+=("{\"insert\":{\"key\":{\"partitionId\":{\"projectId\":\"$LOCAL_PROJECT\"},\"path\":[{\"kind\":\"Message\"}]},\"properties\":{\"name\":{\"stringValue\":\"bench-retrieve\"},\"message\":{\"stringValue\":\"message $i of 20\"},\"timestamp\":{\"timestampValue\":\"2026-01-01T00:00:$(printf %02d "$i").000000Z\"}}}}")
  done
  run curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
    "http://$datastore/v1/projects/$LOCAL_PROJECT:commit" \
    -d "{\"mode\":\"NON_TRANSACTIONAL\",\"mutations\":[$(IFS=,; echo "${mutations[*]}")]}"
}

# push_envelopes FILE RUN COUNT: COUNT push envelopes, one a line, each a new object and message id
# (RUN, unique in the benchmark, keeps them apart from every other run's).
push_envelopes() {
  python3 - "$@" << 'PYTHON'
import base64, json, sys
path, run, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as out:
    for n in range(count):
        name = f"bench-capacity/{run}/{n:06d}.txt"
        generation = str(1795603200000000 + run * 1_000_000 + n)
        time = "2026-11-30T00:00:00.000Z"
        metadata = {"kind": "storage#object", "id": f"bench-bucket/{name}/{generation}", "name": name,
                    "bucket": "bench-bucket", "generation": generation, "metageneration": "1",
                    "contentType": "text/plain", "timeCreated": time, "updated": time,
                    "storageClass": "STANDARD", "timeStorageClassUpdated": time, "size": "42",
                    "md5Hash": "1B2M2Y8AsgTpgAmY7PhCfg==", "crc32c": "AAAAAA==", "etag": "CJCs8M2M9fgCEAE="}
        message_id = str(4_000_000_000_000_000 + run * 1_000_000 + n)
        envelope = {"message": {"attributes": {"bucketId": "bench-bucket", "objectId": name,
                        "objectGeneration": generation, "eventType": "OBJECT_FINALIZE",
                        "eventTime": time, "payloadFormat": "JSON_API_V1",
                        "notificationConfig": "projects/_/buckets/bench-bucket/notificationConfigs/1"},
                    "data": base64.b64encode(json.dumps(metadata).encode()).decode(),
                    "messageId": message_id, "message_id": message_id,
                    "publishTime": time, "publish_time": time},
                    "subscription": "projects/bench/subscriptions/bench-push"}
        out.write(json.dumps(envelope, separators=(",", ":")) + "\n")
PYTHON
}

# start_service IMPL ROUTE PORT: the route's service, alone in a new box (box_remove stops it).
start_service() {
  local service=${service_of[$2]} command
  if [[ $1 == ours ]]; then
    command=(env "${service_env[@]}" PORT="$3" RUST_LOG=warn "$BENCH_BIN_DIR/$service")
  else
    original_command "$service" "$3"
    command=(env "${service_env[@]}" PORT="$3" "${ORIGINAL_COMMAND[@]}")
  fi
  if ((DRY_RUN)); then run "${command[@]}"; return; fi
  box_create "$box"
  box_start "$logs/bench-capacity-$1-$service.log" "$box" "${command[@]}" > /dev/null
  wait_http "http://127.0.0.1:$3/" 30 || die "$1 $service did not start; see $logs"
}

# prepare_load ROUTE RATE SECONDS: the bodies of the next load (run in this shell: RUN counts).
run_number=0 envelopes=0
prepare_load() {
  [[ $1 == pubsub ]] || return 0
  run_number=$((run_number + 1))
  envelopes=$((10 * $2 * $3))
  ((envelopes >= 10000)) || envelopes=10000
  ((envelopes <= 500000)) || envelopes=500000
  ((DRY_RUN)) || push_envelopes "$work/envelopes" "$run_number" "$envelopes"
}

# load ROUTE PORT RATE SECONDS: oha's JSON report of RATE requests/s for SECONDS.
load() {
  local body=(-d '{"name":"Bench","message":"a message from the capacity benchmark"}')
  [[ $1 == retrieve ]] && body=(-d '{"name":"bench-retrieve"}')
  [[ $1 == pubsub ]] && body=(-Z "$work/envelopes")
  run oha --no-tui --output-format json --latency-correction -z "${4}s" -q "$3" -c "$BENCH_CONCURRENCY" \
    -m POST -H 'Content-Type: application/json' "${body[@]}" "http://127.0.0.1:$2${path_of[$1]}"
}

# warm_up ROUTE PORT: not counted: connections, the emulator's JIT, Python's first imports.
warm_up() {
  prepare_load "$1" 100 10
  load "$1" "$2" 100 10 > /dev/null 2>&1 || true
}

# measure IMPL ROUTE PORT RATE: one run at RATE (after prepare_load), as a JSON line.
measure() {
  local cpu_before throttled_before oom_before sampler report
  cpu_before=$(box_cpu_ns "$box") throttled_before=$(box_throttled_ns "$box") oom_before=$(box_oom_kills "$box")
  while sleep 0.1; do box_rss_bytes "$box"; done > "$work/rss" &
  sampler=$!
  report=$(load "$2" "$3" "$4" "$BENCH_SECONDS" 2> "$work/oha.err") || true
  kill "$sampler"
  jq -e .summary > /dev/null 2>&1 <<< "$report" ||
    report=$(jq -cn --arg error "oha: $(head -c 300 "$work/oha.err")" '{error: $error}')
  jq -c --arg impl "$1" --arg route "$2" --argjson rate "$4" --argjson target_p99 "$BENCH_P99_MS" \
    --argjson cpu_ns $(($(box_cpu_ns "$box") - cpu_before)) \
    --argjson throttled_ns $(($(box_throttled_ns "$box") - throttled_before)) \
    --argjson seconds "$BENCH_SECONDS" --argjson rss "$(sort -n "$work/rss" | tail -1)" \
    --argjson oom $(($(box_oom_kills "$box") - oom_before)) --argjson envelopes "$envelopes" '
    ([.statusCodeDistribution // {} | to_entries[] | select(.key | startswith("2")) | .value] | add // 0) as $ok
    | ([.statusCodeDistribution // {} | to_entries[] | select(.key | startswith("2") | not) | .value] | add // 0) as $bad
    | ([.errorDistribution // {} | to_entries[] | select(.key != "aborted due to deadline") | .value] | add // 0) as $errors
    | ((.latencyPercentiles.p99 // 1e9) * 1000) as $p99
    | .error as $oha_error
    | {impl: $impl, route: $route, rate: $rate, achieved: ($ok / $seconds), ok: $ok, bad: $bad, errors: $errors,
       p50: ((.latencyPercentiles.p50 // 0) * 1000), p99: $p99,
       cpu_ms_per_request: (if $ok > 0 then $cpu_ns / 1e6 / $ok else null end),
       cpu_share: ($cpu_ns / 1e9 / $seconds), throttled_ms: ($throttled_ns / 1e6),
       rss_mib: ($rss / 1048576), oom_kills: $oom}
    # pubsub: the share of requests that drew an envelope drawn before (expected, uniform draws).
    | if $route == "pubsub" and $ok > 0 then
        .redelivered_share = (1 - ($envelopes / $ok) * (1 - ((-$ok / $envelopes) | exp))) else . end
    | .failure = (if $oha_error then $oha_error
        elif $oom > 0 then "OOM-killed"
        elif $errors > 0 then "\($errors) connection errors"
        elif $bad > 0 then "\($bad) non-2xx answers"
        elif .achieved < 0.95 * $rate then "\(.achieved | floor)/s achieved"
        elif $p99 > $target_p99 then "p99 \($p99 | floor) ms"
        else null end)' <<< "$report"
}

results=$logs/bench-capacity.jsonl
((DRY_RUN)) || : > "$results"
seed_retrieve
for route in "${routes[@]}"; do
  for impl in "${BENCH_IMPLS[@]}"; do
    port=$(free_port)
    start_service "$impl" "$route" "$port"
    if ((DRY_RUN)); then load "$route" "$port" "${BENCH_RATES[0]}" "$BENCH_SECONDS"; continue; fi
    warm_up "$route" "$port"
    held=0 failed=0
    for rate in "${BENCH_RATES[@]}"; do
      log "$impl $route at $rate/s"
      prepare_load "$route" "$rate" "$BENCH_SECONDS"
      line=$(measure "$impl" "$route" "$port" "$rate")
      echo "$line" >> "$results"
      if [[ $(jq -r .failure <<< "$line") != null ]]; then failed=$rate; break; fi
      held=$rate
    done
    # One more between the last rate held and the first failed, on a new instance (the failed
    # rate's backlog or OOM kill would count against it).
    if ((held && failed)); then
      rate=$(((held + failed) / 2))
      box_remove "$box"
      start_service "$impl" "$route" "$port"
      warm_up "$route" "$port"
      log "$impl $route at $rate/s"
      prepare_load "$route" "$rate" "$BENCH_SECONDS"
      measure "$impl" "$route" "$port" "$rate" >> "$results"
    fi
    box_remove "$box"
  done
done
((DRY_RUN)) && exit 0

printf '%s, %s CPU of %s, box: %s µs of CPU per 100 ms, %s MiB; %s in flight at most, %s s a rate, p99 bound %s ms, Datastore %s ms further away\n\n' \
  "$(date -u +%F)" "$(nproc)" "$(uname -m)" "$BOX_CPU_QUOTA_US" $((BOX_MEMORY_BYTES / 1048576)) \
  "$BENCH_CONCURRENCY" "$BENCH_SECONDS" "$BENCH_P99_MS" "$BENCH_DATASTORE_DELAY_MS"
echo "| route | service | highest rate held /s | p50 ms | p99 ms | CPU µs per request | one CPU's ceiling /s | CPU used | peak RSS MiB | at the next rate |"
echo "|---|---|---|---|---|---|---|---|---|---|"
jq -rs '. as $all | $ARGS.positional as $order
  | [$order[] as $route | $all[] | select(.route == $route)] | group_by(.route + .impl)
  | sort_by(.[0].route as $r | .[0].impl as $i | [($order | index($r)), (["ours", "original"] | index($i))])[]
  | sort_by(.rate) as $runs
  | ([$runs[] | select(.failure == null)] | max_by(.rate)) as $held
  | ([$runs[] | select(.failure != null and .rate > ($held.rate // 0))] | min_by(.rate)) as $failed
  | def f: if . == null then "-" else (. * 10 | round / 10 | tostring) end;
  "| \($runs[0].route) | \($runs[0].impl) | \($held.rate // "none") | \($held.p50 | f) | \($held.p99 | f) | \(if $held then "\($held.cpu_ms_per_request * 1000 | round) | \(1000 / $held.cpu_ms_per_request | round)" else "- | -" end) | \(if $held then $held.cpu_share * 100 else null end | f) % | \([$runs[].rss_mib] | max | f) | \(if $failed then "\($failed.rate)/s: \($failed.failure)" else "held every rate" end) |"' \
  "$results" --args "${routes[@]}"
