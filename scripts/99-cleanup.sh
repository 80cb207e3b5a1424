#!/usr/bin/env bash
# Removes what the steps created in this project, as they recorded it (STATE_DIR), newest first:
# role bindings, the scheduler job, the Eventarc trigger, the notification, buckets, subscriptions,
# topics, services, images, service accounts, the index and the image repository. Keeps what existed
# before a step ran (a topic, bucket, index or role of the same name is someone else's), the
# Firestore database and its entities, and the enabled APIs. Safe to run again after a failure.
# Asks first unless --yes. Fails when it finds no record (it says where it looked); after a cleanup
# the record stays, empty, so that a second run succeeds with nothing to delete.
# Usage: PROJECT_ID=my-project scripts/99-cleanup.sh [--dry-run] [--yes]
set -euo pipefail
# What the steps made is where they recorded it: a REGION from the environment (the guide's
# block) gives way to the recorded region instead of refusing (choose_region).
REGION_FROM_RECORD=1
# shellcheck source=scripts/lib/step.sh
source "$(dirname "$0")/lib/step.sh" "$@"

# delete_created KIND ARGS...: deletes one recorded thing, if it is still there.
delete_created() {
  local kind=$1
  shift
  case $kind in
    binding)
      if ((DRY_RUN)) || has_binding "$@"; then
        iam_command "$1" remove-iam-policy-binding
        run "${IAM_COMMAND[@]}" --member="$2" --role="$3"
      else
        log "absent, nothing to remove: $3 for $2 on $1"
      fi ;;
    scheduler-job) remove gcloud scheduler jobs describe "$1" --location="$2" -- \
      gcloud scheduler jobs delete "$1" --location="$2" --quiet ;;
    trigger) remove gcloud eventarc triggers describe "$1" --location="$2" -- \
      gcloud eventarc triggers delete "$1" --location="$2" --quiet ;;
    notification) delete_notifications "$1" "$2" ;;
    bucket) remove gcloud storage buckets describe "$1" -- gcloud storage rm --recursive "$1" ;;
    subscription) remove gcloud pubsub subscriptions describe "$1" -- gcloud pubsub subscriptions delete "$1" --quiet ;;
    topic) remove gcloud pubsub topics describe "$1" -- gcloud pubsub topics delete "$1" --quiet ;;
    run-service) remove gcloud run services describe "$1" --region="$2" -- \
      gcloud run services delete "$1" --region="$2" --quiet ;;
    image) remove gcloud artifacts docker images describe "$1" -- \
      gcloud artifacts docker images delete "$1" --delete-tags --quiet ;;
    service-account) remove gcloud iam service-accounts describe "$1" -- \
      gcloud iam service-accounts delete "$1" --quiet ;;
    # gcloud deletes indexes only by a whole index.yaml (every index not in it): one by id instead.
    index) remove gcloud datastore indexes describe "$1" -- \
      curl -sS --fail-with-body -X DELETE -H "Authorization: Bearer $(access_token)" \
      "$DATASTORE_API/v1/projects/$PROJECT_ID/indexes/$1" ;;
    repository) remove gcloud artifacts repositories describe "$1" --location="$2" -- \
      gcloud artifacts repositories delete "$1" --location="$2" --quiet ;;
    *) die "unknown kind in $(created_record): $kind" ;;
  esac
}

# delete_notifications BUCKET TOPIC: the bucket's notifications to TOPIC (not the bucket's others).
delete_notifications() {
  local id
  if ((DRY_RUN)); then
    run gcloud storage buckets notifications list "$1" --format=json
    run gcloud storage buckets notifications delete "projects/_/buckets/${1#gs://}/notificationConfigs/\$ID"
    return
  fi
  for id in $(gcloud storage buckets notifications list "$1" --format=json 2> /dev/null |
    jq -r --arg topic "$2" '.[] | select(.topic | endswith("/topics/" + $topic)) | .id'); do
    run gcloud storage buckets notifications delete "projects/_/buckets/${1#gs://}/notificationConfigs/$id"
  done
}

record_file=$(created_record)
# No record at all: the steps ran elsewhere, in Cloud Shell's ephemeral mode, or in a home deleted
# since. An empty record: an earlier cleanup deleted everything it listed.
[[ -e $record_file ]] || die "no record of what the hands-on created in $PROJECT_ID: looked for" \
  "$record_file (STATE_DIR). Delete by hand as handson.md section 7 shows, or delete the project."
if [[ ! -s $record_file ]]; then
  log "everything recorded as created by the hands-on in $PROJECT_ID was deleted before: nothing to delete"
  exit 0
fi
mapfile -t created < <(tac "$record_file")
if ((!DRY_RUN && !ASSUME_YES)); then
  printf '  %s\n' "${created[@]}" >&2
  read -r -p "Delete these ${#created[@]} things the hands-on created in project $PROJECT_ID? [y/N] " answer
  [[ $answer == [yY]* ]] || die "nothing deleted"
fi

for line in "${created[@]}"; do
  read -ra words <<< "$line"
  delete_created "${words[@]}"
  ((DRY_RUN)) || forget "$line"
done
log "kept: the Firestore database and its Message and StorageLog entities, the enabled APIs, and" \
  "anything that existed before the steps ran"
