#!/usr/bin/env bats
# The README's run command end to end: up → hello, store and retrieve → `gcloud storage cp` of a
# file → exactly one StorageLog → the purge loop removes it (short retention) → the printed
# CloudEvent example stores one → the printed pipeline check passes → down leaves no process and no port open.

setup_file() {
  export PURGE_RETENTION_SECONDS=3 PURGE_EVERY_SECONDS=2
  repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  export repo
  "$repo/scripts/local.sh" up > "$BATS_FILE_TMPDIR/up.log" 2>&1 &
  export UP_PID=$!
  for _ in $(seq 600); do
    grep -q '^Running' "$BATS_FILE_TMPDIR/up.log" && return 0
    kill -0 "$UP_PID" 2> /dev/null || break
    sleep 1
  done
  cat "$BATS_FILE_TMPDIR/up.log" >&3
  return 1
}

teardown_file() {
  "$repo/scripts/local.sh" down > /dev/null 2>&1 || true
}

storage_logs() {
  curl -fsS -H 'Content-Type: application/json' -d '{"query": {"kind": [{"name": "StorageLog"}]}}' \
    http://127.0.0.1:8481/v1/projects/demo:runQuery | jq -c '[.batch.entityResults[]?.entity.properties.name.stringValue]'
}

@test "hello, store and retrieve answer" {
  run curl -fsS -H 'Content-Type: application/json' -d '{"name": "local"}' http://127.0.0.1:8080/api/v1/hello
  [ "$output" = '{"message":"Hello, local!"}' ]
  run curl -fsS -H 'Content-Type: application/json' -d '{"name": "e2e", "message": "hi"}' http://127.0.0.1:8081/api/v1/store
  [[ $output == *'"message":"hi"'* ]]
  run curl -fsS -H 'Content-Type: application/json' -d '{"name": "e2e"}' http://127.0.0.1:8081/api/v1/retrieve
  [ "$(jq -c '[.messages[].message]' <<< "$output")" = '["hi"]' ]
}

@test "an upload with gcloud storage cp becomes one StorageLog, which the purge removes" {
  # shellcheck source=scripts/lib.sh
  source "$repo/scripts/lib.sh"
  # shellcheck source=scripts/lib/local-processes.sh
  source "$repo/scripts/lib/local-processes.sh"
  echo "end to end" > "$BATS_TEST_TMPDIR/e2e.txt"
  env $(emulator_gcloud_env) gcloud storage cp "$BATS_TEST_TMPDIR/e2e.txt" "$LOCAL_BUCKET/e2e.txt"
  for _ in $(seq 50); do [ "$(storage_logs)" = '["e2e.txt"]' ] && break; sleep 0.2; done
  [ "$(storage_logs)" = '["e2e.txt"]' ]
  for _ in $(seq 60); do [ "$(storage_logs)" = '[]' ] && break; sleep 0.5; done
  [ "$(storage_logs)" = '[]' ]
  grep -q '"deleted":1' "$repo/.local/logs/scheduler.log"
}

@test "the CloudEvent example it prints stores a StorageLog" {
  sed -n '/as an Eventarc trigger delivers it/,/api\/v1\/events$/p' "$BATS_FILE_TMPDIR/up.log" | tail -n +2 > "$BATS_TEST_TMPDIR/event.sh"
  run bash "$BATS_TEST_TMPDIR/event.sh"
  [[ $output == *'"name":"event.txt"'* ]]
  [[ $(storage_logs) == *'"event.txt"'* ]]
}

@test "the pipeline check it prints stores each of 100 uploads exactly once" {
  sed -n '/The whole pipeline checked/,/pipeline-check/p' "$BATS_FILE_TMPDIR/up.log" | tail -n +2 | sed '$ s/$/ --json/' > "$BATS_TEST_TMPDIR/check.sh"
  grep -q 'pipeline-check --bucket' "$BATS_TEST_TMPDIR/check.sh"
  cd "$repo"
  run bash "$BATS_TEST_TMPDIR/check.sh"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq -c '[.sent, .stored_once, .lost, .stored_more_than_once]' <<< "${lines[-1]}")" = '[100,100,0,0]' ]
}

@test "down stops everything: no process, no port" {
  groups=$(cat "$repo"/.local/pids/*.pid)
  [ "$(wc -w <<< "$groups")" -eq 7 ] # 2 emulators, fake-gcs-server, 3 services, the purge loop
  "$repo/scripts/local.sh" down
  for _ in $(seq 50); do kill -0 "$UP_PID" 2> /dev/null || break; sleep 0.2; done
  ! kill -0 "$UP_PID" 2> /dev/null
  for group in $groups; do
    run pgrep -g "$group"
    [ "$status" -eq 1 ]
  done
  run ss -ltnH '( sport = :8080 or sport = :8081 or sport = :8082 or sport = :8481 or sport = :8485 or sport = :4443 )'
  [ "$output" = "" ]
}
