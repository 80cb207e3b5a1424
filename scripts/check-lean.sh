#!/usr/bin/env bash
# Keeps the services lean: no service depends on tools/ or on what only it and the tests use
# (Google's official Pub/Sub and Storage clients, the command-line crates); hello_world has no
# Datastore code (OpenSSL: scripts/check-dependencies.py); no service binary, built as
# infra/Dockerfile builds it, is larger than infra/binary-sizes records. --record writes the
# current sizes there (after a change that is worth its bytes; say so in the commit).
# Usage: scripts/check-lean.sh [--dry-run] [--record]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
parse_common_flags "$@"
record=0
[[ ${REST_ARGS[0]:-} == --record ]] && record=1
sizes_file=infra/binary-sizes

# dependencies CRATE: the crates its binary links (normal dependencies), one name per line.
dependencies() { cargo tree --locked -e normal -p "$1" --prefix none --format '{p}' | cut -d' ' -f1 | sort -u; }

never_in_a_service=(tools google_clients test_support google-cloud-pubsub google-cloud-storage clap indicatif)
for crate in "${SERVICE_CRATES[@]}"; do
  forbidden=("${never_in_a_service[@]}")
  [[ $crate == hello_world ]] && forbidden+=(gcloud-sdk tonic prost)
  if ((DRY_RUN)); then run cargo tree --locked -e normal -p "$crate"; continue; fi
  found=$(comm -12 <(dependencies "$crate") <(printf '%s\n' "${forbidden[@]}" | sort))
  [[ -z $found ]] || die "$crate depends on $(paste -sd' ' <<< "$found"): see cargo tree -e normal -p $crate -i <crate>"
done
log "no service depends on ${never_in_a_service[*]}; hello_world has no gcloud-sdk, tonic or prost"

for crate in "${SERVICE_CRATES[@]}"; do run cargo build --release --locked -p "$crate"; done
((DRY_RUN)) && exit 0
if ((record)); then
  for crate in "${SERVICE_CRATES[@]}"; do echo "$crate $(stat -c %s "target/release/$crate")"; done > "$sizes_file"
  log "recorded in $sizes_file:"
  cat "$sizes_file"
  exit 0
fi
for crate in "${SERVICE_CRATES[@]}"; do
  size=$(stat -c %s "target/release/$crate")
  limit=$(awk -v c="$crate" '$1 == c { print $2 }' "$sizes_file")
  [[ -n $limit ]] || die "$sizes_file has no size for $crate: run scripts/check-lean.sh --record"
  ((size <= limit)) || die "target/release/$crate is $size bytes, $((size - limit)) more than $sizes_file allows"
  log "$crate: $size bytes (recorded: $limit)"
done
