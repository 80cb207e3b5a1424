#!/usr/bin/env bash
# The scale test for a scratch project: what no emulator shows (docs/capacity.md#what-no-emulator-shows).
# Sends load to the deployed suite on Google's 500/50/5 ramp (SCALE_START_RATE a second, then
# SCALE_STEP_PERCENT more every SCALE_STEP_MINUTES, SCALE_STEPS steps): with SCALE_ROUTE=pubsub,
# Cloud Storage notifications published to TOPIC (SCALE_BATCH per request), each of which the push
# subscription makes one StorageLog (the purge removes them); with SCALE_ROUTE=store, message_board's
# store, under a name of its own per run (the Messages stay: delete the project after). After each step
# it prints what oha sent and got, and from Cloud Monitoring since the start: the subscription's
# oldest unacknowledged message age, pushes by response class and dead letters, Datastore's
# requests by response code, Cloud Run's answers and instances; at the end, where Key Visualizer
# shows the hot-spots. Monitoring's figures arrive minutes late: read the last step's in the console.
# Costs money (docs/capacity.md#cost: the defaults send about 1.2 million messages): asks first
# unless --yes. Needs oha (cargo install --locked oha) and steps 0 to 4 deployed.
# Usage: PROJECT_ID=my-scratch-project scripts/scale-test.sh [--dry-run] [--yes]
set -euo pipefail
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"
command -v oha > /dev/null || ((DRY_RUN)) || die "needs oha: cargo install --locked oha"

rates=()
for ((step = 0, rate = SCALE_START_RATE; step < SCALE_STEPS; step++)); do
  rates+=("$rate")
  rate=$((rate * (100 + SCALE_STEP_PERCENT) / 100))
done
step_seconds=$((SCALE_STEP_MINUTES * 60))
total=0
for rate in "${rates[@]}"; do total=$((total + rate * step_seconds)); done
case $SCALE_ROUTE in
  pubsub) per_request=$SCALE_BATCH service=$STORAGE_SERVICE stays="a Datastore write and a delete by the purge" ;;
  store) per_request=1 service=$BOARD_SERVICE stays="a Datastore write; the Messages stay" ;;
  *) die "SCALE_ROUTE must be pubsub or store, not $SCALE_ROUTE" ;;
esac
if ((!DRY_RUN && !ASSUME_YES)); then
  log "$SCALE_ROUTE at ${rates[*]} a second, $SCALE_STEP_MINUTES min each: $total messages, each $stays"
  read -r -p "Send this load to project $PROJECT_ID? [y/N] " answer
  [[ $answer == [yY]* ]] || die "nothing sent"
fi

run gcloud services enable monitoring.googleapis.com
if [[ $SCALE_ROUTE == pubsub ]]; then
  url="$PUBSUB_API/v1/projects/$PROJECT_ID/topics/$TOPIC:publish"
  bucket=${BUCKET#gs://}
  body=$(jq -cn --arg bucket "$bucket" --argjson count "$SCALE_BATCH" '
    {kind: "storage#object", name: "scale-test/object.txt", bucket: $bucket, size: "12",
     contentType: "text/plain", timeCreated: (now | todate), updated: (now | todate)} as $object
    | {messages: [range($count) | {data: ($object | tojson | @base64), attributes: {eventType: "OBJECT_FINALIZE",
        payloadFormat: "JSON_API_V1", bucketId: $bucket, objectId: $object.name}}]}')
else
  url="$(service_url "$BOARD_SERVICE")/api/v1/store"
  body=$(jq -cn --arg name "scale-test-$(date +%s)" '{name: $name, message: "a message from the scale test"}')
fi

started=$(date -u +%FT%TZ)

# monitoring TYPE FILTER ALIGNER GROUP_BY: one figure per GROUP_BY value since the start, the
# largest (ALIGN_MAX) or the sum (ALIGN_SUM) of the one-minute points, as "value=figure".
monitoring() {
  local type=$1 filter=$2 aligner=$3 group=$4 reducer=REDUCE_SUM answer
  [[ $aligner == ALIGN_MAX && -z $group ]] && reducer=REDUCE_MAX
  local request=(curl -sS --fail-with-body -G -H "Authorization: Bearer $(access_token)"
    "$MONITORING_API/v3/projects/$PROJECT_ID/timeSeries"
    --data-urlencode "filter=metric.type=\"$type\" AND $filter"
    --data-urlencode "interval.startTime=$started" --data-urlencode "interval.endTime=$(date -u +%FT%TZ)"
    --data-urlencode aggregation.alignmentPeriod=60s --data-urlencode "aggregation.perSeriesAligner=$aligner"
    --data-urlencode "aggregation.crossSeriesReducer=$reducer")
  [[ -z $group ]] || request+=(--data-urlencode "aggregation.groupByFields=$group")
  if ((DRY_RUN)); then run "${request[@]}" >&2; return 0; fi
  answer=$("${request[@]}") || { echo "(Monitoring refused: $answer)"; return 0; }
  jq -r --arg aligner "$aligner" '[.timeSeries[]? | ([.metric.labels // {} | .[]] | join(",") | if . == "" then "all" else . end)
      + "=" + ([.points[].value | .int64Value // .doubleValue | tonumber]
               | if $aligner == "ALIGN_MAX" then max else add end | tostring)] | if . == [] then "(no points yet)" else join(" ") end' \
    <<< "$answer"
}

report() {
  local subscription="resource.labels.subscription_id=\"$SUBSCRIPTION\""
  local cloud_run="resource.labels.service_name=\"$service\""
  if [[ $SCALE_ROUTE == pubsub ]]; then
    echo "  oldest unacked message age, s: $(monitoring pubsub.googleapis.com/subscription/oldest_unacked_message_age "$subscription" ALIGN_MAX '')"
    echo "  pushes by response class:      $(monitoring pubsub.googleapis.com/subscription/push_request_count "$subscription" ALIGN_SUM metric.labels.response_class)"
    echo "  dead letters:                  $(monitoring pubsub.googleapis.com/subscription/dead_letter_message_count "$subscription" ALIGN_SUM '')"
  fi
  echo "  Datastore requests by code:    $(monitoring datastore.googleapis.com/api/request_count 'resource.type="datastore_request"' ALIGN_SUM metric.labels.response_code)"
  echo "  Cloud Run answers by class:    $(monitoring run.googleapis.com/request_count "$cloud_run" ALIGN_SUM metric.labels.response_code_class)"
  echo "  Cloud Run instances, most:     $(monitoring run.googleapis.com/container/instance_count "$cloud_run" ALIGN_MAX metric.labels.state)"
}

for rate in "${rates[@]}"; do
  log "$SCALE_ROUTE: $rate a second for $SCALE_STEP_MINUTES min"
  token=$(if [[ $SCALE_ROUTE == pubsub ]]; then access_token; else identity_token; fi)
  load=(oha --no-tui --output-format json -z "${step_seconds}s" -q "$(awk -v r="$rate" -v n="$per_request" 'BEGIN { print r / n }')" -c 80
    -m POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" "$url")
  if ((DRY_RUN)); then
    run "${load[@]}"
  else
    "${load[@]}" | jq -r --argjson per "$per_request" --argjson seconds "$step_seconds" '
      ([.statusCodeDistribution // {} | to_entries[] | select(.key | startswith("2")) | .value] | add // 0) as $ok
      | "  accepted: \($ok * $per / $seconds | floor) a second; answers \(.statusCodeDistribution // {} | tojson), errors \(.errorDistribution // {} | tojson); p50 \((.latencyPercentiles.p50 // 0) * 1000 | floor) ms, p99 \((.latencyPercentiles.p99 // 0) * 1000 | floor) ms"'
  fi
  report
done

cat << MSG
Done. In the console (figures arrive minutes late):
  Key Visualizer (the write hot-spots at the newest end of the timestamp index): the Datastore
    databases page https://console.cloud.google.com/datastore/databases?project=$PROJECT_ID, the
    (default) database, Key Visualizer (a scan covers 2 hours and needs 3,000 operations in a minute)
  the push subscription: https://console.cloud.google.com/cloudpubsub/subscription/detail/$SUBSCRIPTION?project=$PROJECT_ID
  the service: https://console.cloud.google.com/run/detail/$REGION/$service/metrics?project=$PROJECT_ID
Dead letters, if any: scripts/replay-dead-letters.sh. This is a scratch project: delete it when done
(gcloud projects delete $PROJECT_ID).
MSG
