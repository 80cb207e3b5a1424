#!/usr/bin/env bash
# CI cannot run docker here, so this keeps infra/Dockerfile honest: every path it copies from the
# build context exists and is let through .dockerignore, every workspace member's manifest is among
# them, its own `cargo build` line builds each service, and each binary links only what the runtime
# image has (glibc from distroless base-nossl, plus the libraries the Dockerfile stages from the
# builder's multiarch directory, which is bookworm like this machine).
# Usage: scripts/check-dockerfile.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
parse_common_flags "$@"
dockerfile=infra/Dockerfile

# COPY lines without --from: all words but the last are paths in the context.
mapfile -t sources < <(awk '/^COPY / && !/--from/ { for (i = 2; i < NF; i++) print $i }' "$dockerfile")
((${#sources[@]})) || die "no COPY lines in $dockerfile"
for path in "${sources[@]}"; do
  [[ -e $path ]] || die "$dockerfile copies $path, which does not exist"
  grep -qxF "!$path" .dockerignore || die "$dockerfile copies $path, which .dockerignore leaves out"
done
log "all ${#sources[@]} paths $dockerfile copies exist and pass .dockerignore"
# The workspace's packages, read once (a failure here stops the script, as a process
# substitution's would not).
packages=$(cargo metadata --no-deps --format-version 1 --locked | jq -c '.packages[]')
# cargo resolves the whole workspace even for one package: every member's manifest must be there.
while read -r manifest; do
  manifest=${manifest#"$PWD/"}
  [[ $manifest == Cargo.toml || " ${sources[*]} " == *" $manifest "* ]] || die "$dockerfile does not copy $manifest, which cargo needs to resolve the workspace"
done <<< "$(jq -r '.manifest_path' <<< "$packages")"
for crate in common "${SERVICE_CRATES[@]}"; do
  [[ " ${sources[*]} " == *" $crate/src "* ]] || die "$dockerfile does not copy $crate/src"
done
log "it copies the manifest of every workspace member, and the sources of common and every service"

build=$(grep -o 'cargo build [^&\\]*' "$dockerfile" | sort -u)
[[ $(wc -l <<< "$build") == 1 ]] || die "expected one cargo build command in $dockerfile, found: $build"
# The services on Datastore first, in one command: their dependencies' features agree, so cargo
# builds the same units as for each alone, with the last, single-threaded steps of the two side
# by side. The Dockerfile's own command for each service then finds them built (were the
# features to part, it would build again: slower, never wrong).
datastore_services=$(jq -r --arg services "${SERVICE_CRATES[*]}" '
  select(.name as $name | $services | split(" ") | index($name))
  | select(any(.dependencies[]; .name == "common" and (.features | index("datastore")))) | .name' <<< "$packages")
mapfile -t on_datastore <<< "$datastore_services"
((${#on_datastore[@]} > 1)) && run cargo build --release --locked "${on_datastore[@]/#/--package=}"
for SERVICE in "${SERVICE_CRATES[@]}"; do
  read -ra command <<< "${build//\"\$SERVICE\"/$SERVICE}"
  run "${command[@]}"
  ((DRY_RUN)) || [[ -x target/release/$SERVICE ]] || die "no target/release/$SERVICE after the build"
done

# The runtime's libraries: glibc's, and those the builder stages in /runtime/lib/MULTIARCH (which
# must exist on this bookworm machine, at the path the Dockerfile copies them from).
multiarch=$(gcc -print-multiarch)
provided=(libc.so.6 libm.so.6 "$(basename "$(readelf -l target/release/hello_world 2> /dev/null |
  sed -n 's/.*interpreter: \(.*\)]/\1/p')")")
# shellcheck disable=SC2016  # $dir is the Dockerfile's own variable, matched literally
staged=$(grep -o 'cp "/$dir/[^"]*"' "$dockerfile" | sed 's|cp "/$dir/||; s|"$||')
[[ -n $staged ]] || die "$dockerfile stages no library for the runtime"
grep -q '^COPY --from=builder /runtime/ /$' "$dockerfile" || die "$dockerfile does not copy /runtime/ into the runtime image"
for library in $staged; do
  [[ -e /lib/$multiarch/$library ]] || die "$dockerfile copies $library from the builder; this bookworm machine has no /lib/$multiarch/$library"
  provided+=("$library")
done
((DRY_RUN)) && exit 0
for SERVICE in "${SERVICE_CRATES[@]}"; do
  while read -r needed; do
    [[ " ${provided[*]} " == *" $needed "* ]] || die "$SERVICE needs $needed, which the runtime image lacks"
  done < <(readelf -d "target/release/$SERVICE" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
log "every binary links only ${provided[*]}"
