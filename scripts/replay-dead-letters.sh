#!/usr/bin/env bash
# Replays the dead-letter subscription into storage_logging, once what made the pushes fail is
# gone: pulls what Pub/Sub gave up on (DEAD_LETTER_SUBSCRIPTION, filled after 5 failed attempts,
# scripts/03-storage-logging.sh), posts each message to the service's push route as Pub/Sub would,
# and acknowledges those the service accepted (2xx). A StorageLog is named by its message id, so a
# replay run twice, or cut between posting and acknowledging, stores nothing twice. What the service
# refuses stays in the subscription (kept 7 days) and makes the script fail, saying which.
# Ends after a pull that finds nothing; Google's Pub/Sub may answer an empty pull while a few
# messages remain, so run it again until it replays 0 (docs/capacity.md#overload-on-the-pubsub-way).
# Usage: PROJECT_ID=my-project scripts/replay-dead-letters.sh [--dry-run]
#   REPLAY_IDENTITY=user     (default) your identity token, as for curl in the guide
#   REPLAY_IDENTITY=invoker  INVOKER_SA's token for the push route's URL, when push-token
#                            verification is on (needs Service Account Token Creator on it)
#   REPLAY_ENDPOINT=URL      post there instead, without a token (the local emulators)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/cloud-steps.sh
source "$REPO_ROOT/scripts/lib/cloud-steps.sh"
parse_common_flags "$@"
require_project

endpoint=$REPLAY_ENDPOINT
identity=$REPLAY_IDENTITY
[[ -n $endpoint ]] && identity=none
[[ -n $endpoint ]] || endpoint="$(service_url "$STORAGE_SERVICE")/api/v1/pubsub"
case $identity in
  none) token_command=() ;;
  user) token_command=(gcloud auth print-identity-token) ;;
  invoker) token_command=(gcloud auth print-identity-token --impersonate-service-account="$(sa_email "$INVOKER_SA")"
    --audiences="$endpoint" --include-email) ;;
  *) die "REPLAY_IDENTITY must be user, invoker or none, not $identity" ;;
esac
pull=(gcloud pubsub subscriptions pull "$DEAD_LETTER_SUBSCRIPTION" --limit="$REPLAY_BATCH" --format=json)
post=(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json')

if ((DRY_RUN)); then
  # What one round runs; the placeholders are a pulled message's envelope and acknowledgement ids.
  ((${#token_command[@]} == 0)) || run "${token_command[@]}"
  run "${pull[@]}"
  # shellcheck disable=SC2016  # the placeholders are text
  run "${post[@]}" -H 'Authorization: Bearer $TOKEN' -d '$ENVELOPE' "$endpoint"
  # shellcheck disable=SC2016
  run gcloud pubsub subscriptions ack "$DEAD_LETTER_SUBSCRIPTION" --ack-ids='$ACK_IDS'
  # shellcheck disable=SC2016
  run gcloud pubsub subscriptions modify-message-ack-deadline "$DEAD_LETTER_SUBSCRIPTION" --ack-ids='$REFUSED_ACK_IDS' --ack-deadline=0
  exit 0
fi

auth=()
((${#token_command[@]} == 0)) || auth=(-H "Authorization: Bearer $("${token_command[@]}")")
replayed=0
declare -A refused=() # message id -> the service's status code
while :; do
  pulled=$("${pull[@]}")
  # Nothing new pulled (only what this run was refused, or nothing) means done.
  mapfile -t ids < <(jq -r '.[].message.messageId' <<< "$pulled")
  new=0
  for id in "${ids[@]}"; do [[ -v refused[$id] ]] || new=$((new + 1)); done
  acks=() nacks=()
  # Three lines per message: its acknowledgement id, its message id, the push envelope.
  while read -r ack_id && read -r id && read -r envelope; do
    if [[ -v refused[$id] ]]; then nacks+=("$ack_id"); continue; fi
    status=$("${post[@]}" "${auth[@]}" -d "$envelope" "$endpoint") || status=000
    if [[ $status == 2?? ]]; then
      acks+=("$ack_id")
    else
      refused[$id]=$status
      nacks+=("$ack_id")
    fi
  done < <(jq -r --arg project "$PROJECT_ID" '.[] | (.message.attributes // {}) as $a
    | .ackId, .message.messageId,
      ({message: (.message + {message_id: .message.messageId, publish_time: .message.publishTime}),
        subscription: "projects/\($a.CloudPubSubDeadLetterSourceSubscriptionProject // $project)/subscriptions/\($a.CloudPubSubDeadLetterSourceSubscription // "unknown")"}
       | tojson)' <<< "$pulled")
  if ((${#acks[@]})); then
    # A lease that ended first makes the acknowledgement fail: those come back, and are stored once.
    gcloud pubsub subscriptions ack "$DEAD_LETTER_SUBSCRIPTION" --ack-ids="$(IFS=,; echo "${acks[*]}")" > /dev/null ||
      log "the acknowledgement failed; those messages come back to the next run, which stores none twice"
    replayed=$((replayed + ${#acks[@]}))
  fi
  # A refused message is given back at once rather than when its lease ends: the next pull (or run,
  # or reader of the subscription) sees it without waiting.
  if ((${#nacks[@]})); then
    gcloud pubsub subscriptions modify-message-ack-deadline "$DEAD_LETTER_SUBSCRIPTION" \
      --ack-ids="$(IFS=,; echo "${nacks[*]}")" --ack-deadline=0 > /dev/null
  fi
  ((new > 0)) || break
done

log "replayed $replayed message(s) from $DEAD_LETTER_SUBSCRIPTION into $endpoint"
if ((${#refused[@]})); then
  for id in "${!refused[@]}"; do log "refused: message $id (HTTP ${refused[$id]}), left in $DEAD_LETTER_SUBSCRIPTION"; done
  die "${#refused[@]} message(s) refused; see the service's log for why"
fi
