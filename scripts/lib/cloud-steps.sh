# shellcheck shell=bash
# The hands-on steps' helpers: the project, retries, the record of what was created (cleanup deletes
# only that), IAM bindings, builds and deploys, the checks of step 3. Sourced after lib.sh.

# require_project: the steps act on PROJECT_ID (every gcloud call of a script uses it), in the
# project's region (choose_region).
require_project() {
  [[ -n $PROJECT_ID ]] || die "set PROJECT_ID (or GOOGLE_CLOUD_PROJECT) to your project id"
  export CLOUDSDK_CORE_PROJECT=$PROJECT_ID
  choose_region
}

region_record() { echo "$STATE_DIR/$PROJECT_ID.region"; }

# choose_region: the first step that runs in a project records REGION (DEFAULT_REGION when unset).
# A later step run without REGION (a new terminal, the environment block forgotten) uses the
# recorded one, and one run with another REGION while the record lists what the steps made refuses:
# either would make a second set of resources in another region. The cleanup (REGION_FROM_RECORD)
# uses the recorded region instead of refusing.
choose_region() {
  local recorded=""
  [[ ! -s $(region_record) ]] || recorded=$(< "$(region_record)")
  if [[ -z $REGION ]]; then
    REGION=${recorded:-$DEFAULT_REGION}
    [[ -z $recorded ]] || log "REGION is not set: using $REGION, where this project's steps ran"
  elif [[ -n $recorded && $REGION != "$recorded" && -s $(created_record) ]]; then
    if ((${REGION_FROM_RECORD:-0})); then
      log "REGION is $REGION, but this project's steps ran in $recorded: using $recorded"
      REGION=$recorded
      return
    fi
    die "this project's hands-on runs in $recorded ($(region_record)), not REGION=$REGION:" \
      "set REGION=$recorded, or delete what the steps made first (scripts/99-cleanup.sh)"
  fi
  ((DRY_RUN)) || [[ $REGION == "$recorded" ]] || { mkdir -p "$STATE_DIR" && echo "$REGION" > "$(region_record)"; }
}

# retry CMD...: runs CMD, and again up to RETRY_ATTEMPTS times RETRY_DELAY_SECONDS apart while it
# fails. IAM takes a while to know a service account created a moment ago, and a project's first
# Eventarc trigger fails while Eventarc's service agent is being set up; both succeed when retried.
retry() {
  local attempt
  for ((attempt = 1; ; attempt++)); do
    "$@" && return 0
    ((!DRY_RUN && attempt < RETRY_ATTEMPTS)) || return 1
    log "failed (attempt $attempt of $RETRY_ATTEMPTS); again in ${RETRY_DELAY_SECONDS}s"
    sleep "$RETRY_DELAY_SECONDS"
  done
}

# --- What the hands-on created. Cleanup deletes what this record lists and nothing else: a
# resource or role binding that existed before a step ran is kept, and so is the rest of a shared
# project. One line per thing, words separated by spaces: KIND ARGS... (see 99-cleanup.sh).

created_record() { echo "$STATE_DIR/$PROJECT_ID.created"; }

# record KIND ARGS...: notes that a step created it (once; a dry run notes nothing).
record() {
  ((DRY_RUN)) && return 0
  local line=$* file
  file=$(created_record)
  mkdir -p "$STATE_DIR"
  grep -qxF -- "$line" "$file" 2> /dev/null || echo "$line" >> "$file"
}

# forget LINE: cleanup deleted it.
forget() {
  local file
  file=$(created_record)
  grep -vxF -- "$1" "$file" > "$file.new" || true
  mv "$file.new" "$file"
}

# ensure "KIND ARGS" DESCRIBE... -- CREATE...: runs CREATE (retried) unless DESCRIBE finds the
# resource, and records it as created ("" records nothing: cleanup must keep it). A dry run prints
# CREATE, as on a first run.
ensure() {
  local entry=$1 describe=()
  shift
  while [[ $1 != -- ]]; do describe+=("$1"); shift; done
  shift
  if ((!DRY_RUN)) && "${describe[@]}" > /dev/null 2>&1; then
    log "exists, kept: ${describe[*]}"
    return
  fi
  retry run "$@"
  [[ -z $entry ]] || record "$entry"
}

# remove DESCRIBE... -- DELETE...: runs DELETE only if DESCRIBE finds the resource.
remove() {
  local describe=()
  while [[ $1 != -- ]]; do describe+=("$1"); shift; done
  shift
  if ((!DRY_RUN)) && ! "${describe[@]}" > /dev/null 2>&1; then
    log "absent, nothing to delete: ${describe[*]}"
    return
  fi
  run "$@"
}

# iam_command SCOPE VERB: sets IAM_COMMAND to the gcloud command that runs VERB (get-iam-policy,
# add-iam-policy-binding, remove-iam-policy-binding) on SCOPE, one of: project,
# run-service/NAME/REGION, repository/NAME/REGION, service-account/EMAIL, topic/NAME,
# subscription/NAME, bucket/gs://NAME.
iam_command() {
  local kind=${1%%/*} rest=${1#*/} verb=$2
  case $kind in
    project) IAM_COMMAND=(gcloud projects "$verb" "$PROJECT_ID") ;;
    run-service) IAM_COMMAND=(gcloud run services "$verb" "${rest%/*}" --region="${rest#*/}") ;;
    repository) IAM_COMMAND=(gcloud artifacts repositories "$verb" "${rest%/*}" --location="${rest#*/}") ;;
    service-account) IAM_COMMAND=(gcloud iam service-accounts "$verb" "$rest") ;;
    topic) IAM_COMMAND=(gcloud pubsub topics "$verb" "$rest") ;;
    subscription) IAM_COMMAND=(gcloud pubsub subscriptions "$verb" "$rest") ;;
    bucket) IAM_COMMAND=(gcloud storage buckets "$verb" "$rest") ;;
    *) die "unknown IAM scope: $1" ;;
  esac
  # A project policy may hold conditional bindings: say that this one has none.
  [[ $kind != project || $verb == get-iam-policy ]] || IAM_COMMAND+=(--condition=None)
}

# has_binding SCOPE MEMBER ROLE: the policy of SCOPE grants ROLE to MEMBER.
has_binding() {
  iam_command "$1" get-iam-policy
  "${IAM_COMMAND[@]}" --format=json 2> /dev/null |
    jq -e --arg member "$2" --arg role "$3" 'any(.bindings[]?; .role == $role and (.members | index($member)))' > /dev/null
}

# grant SCOPE MEMBER ROLE: gives MEMBER the ROLE on SCOPE (retried: the member may be new) and
# records it, unless the policy already has it (then it is someone else's, and cleanup keeps it).
grant() {
  local scope=$1 member=$2 role=$3
  if ((!DRY_RUN)) && has_binding "$scope" "$member" "$role"; then
    log "exists, kept: $role for $member on $scope"
    return
  fi
  iam_command "$scope" add-iam-policy-binding
  # --format=none: the whole policy, printed on success, would hide an error among its lines.
  retry run "${IAM_COMMAND[@]}" --member="$member" --role="$role" --format=none
  record binding "$scope" "$member" "$role"
}

# service_url SERVICE: the Cloud Run service's URL (a dry run prints the command and answers
# the placeholder $SERVICE_URL).
service_url() {
  if ((DRY_RUN)); then
    run gcloud run services describe "$1" --region="$REGION" --format='value(status.url)' >&2
    echo "\$SERVICE_URL"
  else
    gcloud run services describe "$1" --region="$REGION" --format='value(status.url)'
  fi
}

# identity_token: the caller's identity token, which Cloud Run accepts for private services.
identity_token() {
  if ((DRY_RUN)); then echo "\$(gcloud auth print-identity-token)"; else gcloud auth print-identity-token; fi
}

# sa_email NAME: the e-mail of the project's service account NAME.
sa_email() { echo "$1@$PROJECT_ID.iam.gserviceaccount.com"; }

# image SERVICE: the Artifact Registry path of a Cloud Run service's image.
image() { echo "$REGION-docker.pkg.dev/$PROJECT_ID/$REPOSITORY/$1"; }

# service_account NAME DESCRIPTION [PROJECT_ROLE...]: the service account, and the project roles
# it holds (a service's runtime identity gets only what that service needs).
service_account() {
  local name=$1 description=$2 role
  shift 2
  ensure "service-account $(sa_email "$name")" gcloud iam service-accounts describe "$(sa_email "$name")" -- \
    gcloud iam service-accounts create "$name" --display-name="$description"
  for role in "$@"; do grant project "serviceAccount:$(sa_email "$name")" "$role"; done
}

# submit_build ARGS...: `gcloud builds submit ARGS...`. The build account's roles from step 0
# take a minute or two to reach Artifact Registry, so a first build's push can be denied
# meanwhile: a failure whose output says so is tried again, BUILD_ATTEMPTS in all; any other
# failure (a compile error) stops at once, as a build is minutes.
submit_build() {
  local attempt output
  if ((DRY_RUN)); then run gcloud builds submit "$@"; return; fi
  output=$(mktemp)
  for ((attempt = 1; ; attempt++)); do
    if gcloud builds submit "$@" 2>&1 | tee "$output"; then rm -f "$output"; return 0; fi
    if ((attempt >= BUILD_ATTEMPTS)) || ! grep -q 'denied' "$output"; then rm -f "$output"; return 1; fi
    log "the build's push was denied (attempt $attempt of $BUILD_ATTEMPTS): step 0's grants may" \
      "still be propagating; again in ${RETRY_DELAY_SECONDS}s"
    sleep "$RETRY_DELAY_SECONDS"
  done
}

# build_and_deploy CRATE SERVICE RUNTIME_SA [gcloud run deploy flags...]: builds the crate's image
# with Cloud Build (as the build account of step 0, sources staged in the build bucket) and deploys
# it as a private Cloud Run service running as RUNTIME_SA.
build_and_deploy() {
  local crate=$1 service=$2 runtime_sa=$3 new_service=1
  shift 3
  submit_build . --config=infra/cloudbuild.yaml \
    --service-account="projects/$PROJECT_ID/serviceAccounts/$(sa_email "$BUILD_SA")" \
    --gcs-source-staging-dir="$BUILD_BUCKET/source" \
    --substitutions="_SERVICE=$crate,_IMAGE_NAME=$service,_REGION=$REGION,_REPOSITORY=$REPOSITORY"
  record image "$(image "$service")"
  ((DRY_RUN)) || ! gcloud run services describe "$service" --region="$REGION" > /dev/null 2>&1 || new_service=0
  # --no-allow-unauthenticated: callers need the run.routes.invoke permission (roles/run.invoker;
  #   the project's owners and editors have it).
  # --cpu-boost: start-up is milliseconds already; the boost shortens the first requests' work.
  # --concurrency=80 (the default): one instance serves many requests; the services are async.
  # --execution-environment=gen1: the second generation needs at least 512 MiB (docs/capacity.md).
  retry run gcloud run deploy "$service" --image="$(image "$service")" --region="$REGION" \
    --no-allow-unauthenticated --service-account="$(sa_email "$runtime_sa")" \
    --memory=256Mi --cpu=1 --cpu-boost --concurrency=80 --max-instances=3 --execution-environment=gen1 \
    --set-env-vars="GOOGLE_CLOUD_PROJECT=$PROJECT_ID" "$@"
  ((!new_service)) || record run-service "$service" "$REGION"
}

# storage_logging_bucket: the bucket whose uploads are logged, in REGION (an Eventarc trigger
# must be in the bucket's region).
storage_logging_bucket() {
  ensure "bucket $BUCKET" gcloud storage buckets describe "$BUCKET" -- \
    gcloud storage buckets create "$BUCKET" --location="$REGION" --uniform-bucket-level-access
}

# access_token: the caller's OAuth access token, for the REST calls gcloud has no command for (a
# dry run prints the command in its place, as identity_token does).
access_token() {
  if ((DRY_RUN)); then echo "\$(gcloud auth print-access-token)"; else gcloud auth print-access-token; fi
}

# storage_log_count NAME: how many StorageLog entities name this object, by a GQL query through
# Datastore's REST API (DATASTORE_API: the emulator in the tests). Fails, saying why, when the API
# refuses the query.
storage_log_count() {
  local query answer
  query=$(jq -cn --arg name "$1" '{gqlQuery: {queryString: "SELECT __key__ FROM StorageLog WHERE name = @name",
    namedBindings: {name: {value: {stringValue: $name}}}}}')
  answer=$(curl -sS --fail-with-body -H "Authorization: Bearer $(access_token)" -H 'Content-Type: application/json' \
    -d "$query" "$DATASTORE_API/v1/projects/$PROJECT_ID:runQuery") || { log "the StorageLog query failed: $answer"; return 1; }
  jq '.batch.entityResults // [] | length' <<< "$answer"
}

# upload_sample_and_wait_for_log: uploads a sample file made here (the original downloaded one
# from the internet) and waits up to LOG_WAIT_SECONDS for its StorageLog.
upload_sample_and_wait_for_log() {
  local sample=.local/hands-on-sample.txt object=hands-on/sample.txt found deadline
  local text="Uploaded by the serverless microservices hands-on"
  if ((DRY_RUN)); then
    echo "mkdir -p .local && echo \"$text\" > $sample"
  else
    mkdir -p .local
    echo "$text at $(date -u +%FT%TZ)" > "$sample"
  fi
  run gcloud storage cp "$sample" "$BUCKET/$object"
  ((DRY_RUN)) && return 0
  deadline=$((SECONDS + LOG_WAIT_SECONDS))
  while ((SECONDS < deadline)); do
    found=$(storage_log_count "$object") || die "cannot read StorageLog from Datastore"
    if ((found > 0)); then log "StorageLog for $object arrived ($found entities)"; return 0; fi
    sleep 5
  done
  die "no StorageLog for $object after $LOG_WAIT_SECONDS s; see: gcloud logging read 'resource.labels.service_name=$STORAGE_SERVICE' --limit=20"
}

# project_number: the project's number (a dry run prints the command and answers $PROJECT_NUMBER).
project_number() {
  if ((DRY_RUN)); then
    run gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)' >&2
    echo "\$PROJECT_NUMBER"
  else
    gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)'
  fi
}

# pubsub_agent: the project's Pub/Sub service agent, as an IAM member.
pubsub_agent() {
  echo "serviceAccount:service-$(project_number)@gcp-sa-pubsub.iam.gserviceaccount.com"
}

# pubsub_agent_signs_for NAME [AGENT]: lets the Pub/Sub service agent (AGENT, when the caller has
# it already) mint OIDC tokens for the service account NAME (authenticated push; Eventarc delivers
# through Pub/Sub too). Needed in projects whose agent predates April 2021; granted on that one
# account, not on the project.
pubsub_agent_signs_for() {
  local agent=${2:-$(pubsub_agent)}
  grant "service-account/$(sa_email "$1")" "$agent" roles/iam.serviceAccountTokenCreator
}

# call_api TOKEN METHOD URL [JSON]: calls a private service with an identity token; the answer
# printed with a newline after it (-w), so that the next one starts on a line of its own.
call_api() {
  local token=$1 method=$2 url=$3 data=${4:-}
  local args=(curl -sS --fail-with-body -w '\n' -X "$method" -H "Authorization: Bearer $token")
  [[ -z $data ]] || args+=(-H 'Content-Type: application/json' -d "$data")
  run "${args[@]}" "$url"
}
