#!/usr/bin/env bash
# Replays the dead-letter subscription into storage_logging, once what made the pushes fail is
# gone: pulls what Pub/Sub gave up on (DEAD_LETTER_SUBSCRIPTION, filled after 5 failed attempts,
# scripts/03-storage-logging.sh), posts each message to the service's push route as Pub/Sub would,
# and acknowledges those the service accepted (2xx). A StorageLog is named by its message id, so a
# replay run twice, or cut between posting and acknowledging, stores nothing twice. What the service
# refuses stays in the subscription (kept 7 days) and makes the script fail, saying which.
# Ends after a pull that brings fewer than REPLAY_BATCH messages; Pub/Sub may bring fewer than it
# holds, so run it again until it replays 0 (docs/capacity.md#overload-on-the-pubsub-way).
# Usage: PROJECT_ID=my-project scripts/replay-dead-letters.sh [--dry-run]
#   REPLAY_IDENTITY=user     (default) your identity token, as for curl in the guide
#   REPLAY_IDENTITY=invoker  INVOKER_SA's token for the push route's URL, when push-token
#                            verification is on (needs Service Account Token Creator on it)
#   REPLAY_ENDPOINT=URL      post there instead, without a token (the local emulators)
set -euo pipefail
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"

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
  run gcloud pubsub subscriptions modify-message-ack-deadline "$DEAD_LETTER_SUBSCRIPTION" --ack-ids='$ACK_IDS' --ack-deadline="$REPLAY_LEASE_SECONDS"
  # shellcheck disable=SC2016
  run "${post[@]}" -H 'Authorization: Bearer $TOKEN' -d '$ENVELOPE' "$endpoint"
  # shellcheck disable=SC2016
  run gcloud pubsub subscriptions ack "$DEAD_LETTER_SUBSCRIPTION" --ack-ids='$ACK_IDS'
  # shellcheck disable=SC2016
  run gcloud pubsub subscriptions modify-message-ack-deadline "$DEAD_LETTER_SUBSCRIPTION" --ack-ids='$REFUSED_ACK_IDS' --ack-deadline=0
  exit 0
fi

auth=()
((${#token_command[@]} == 0)) || auth=(-H "Authorization: Bearer $("${token_command[@]}")")
declare -A replayed=() refused=() # message id -> 1, or the service's status code
held=()                           # the refused messages' acknowledgement ids, leased until the end
# lease ACK_DEADLINE ACK_ID...: sets how long these messages stay with this run.
lease() {
  local deadline=$1
  shift
  gcloud pubsub subscriptions modify-message-ack-deadline "$DEAD_LETTER_SUBSCRIPTION" \
    --ack-ids="$(IFS=,; echo "$*")" --ack-deadline="$deadline" > /dev/null
}
while :; do
  pulled=$("${pull[@]}")
  mapfile -t ack_ids < <(jq -r '.[].ackId' <<< "$pulled")
  ((${#ack_ids[@]})) || break
  # The batch's posts may outlast the subscription's 10 s lease; a refused message stays leased to
  # this run until it ends (so that the next pull brings new ones), then is given back at once.
  lease "$REPLAY_LEASE_SECONDS" "${ack_ids[@]}" || log "could not extend the lease; messages may come back during this run"
  acks=()
  # Three lines per message: its acknowledgement id, its message id, the push envelope.
  while read -r ack_id && read -r id && read -r envelope; do
    # Back again: its acknowledgement did not take (the service stored it once).
    if [[ -v replayed[$id] ]]; then acks+=("$ack_id"); continue; fi
    status=$("${post[@]}" "${auth[@]}" -d "$envelope" "$endpoint") || status=000
    if [[ $status == 2?? ]]; then
      acks+=("$ack_id")
      replayed[$id]=1
    else
      refused[$id]=$status
      held+=("$ack_id")
    fi
  done < <(jq -r --arg project "$PROJECT_ID" '.[] | (.message.attributes // {}) as $a
    | .ackId, .message.messageId,
      ({message: (.message + {message_id: .message.messageId, publish_time: .message.publishTime}),
        subscription: "projects/\($a.CloudPubSubDeadLetterSourceSubscriptionProject // $project)/subscriptions/\($a.CloudPubSubDeadLetterSourceSubscription // "unknown")"}
       | tojson)' <<< "$pulled")
  if ((${#acks[@]})); then
    gcloud pubsub subscriptions ack "$DEAD_LETTER_SUBSCRIPTION" --ack-ids="$(IFS=,; echo "${acks[*]}")" > /dev/null ||
      log "the acknowledgement failed; those messages come back to the next run, which stores none twice"
  fi
  # A batch not full is taken for the end: a pull with nothing to bring waits (gcloud's pull waits
  # for messages, for a bounded time), and one killed while waiting may still lease what comes next.
  ((${#ack_ids[@]} == REPLAY_BATCH)) || break
done
if ((${#held[@]})); then
  lease 0 "${held[@]}" || log "could not give the refused messages back; they come back when their lease ends"
fi

log "replayed ${#replayed[@]} message(s) from $DEAD_LETTER_SUBSCRIPTION into $endpoint"
if ((${#refused[@]})); then
  for id in "${!refused[@]}"; do log "refused: message $id (HTTP ${refused[$id]}), left in $DEAD_LETTER_SUBSCRIPTION"; done
  die "${#refused[@]} message(s) refused; see the service's log for why"
fi
