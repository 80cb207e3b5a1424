#!/usr/bin/env bash
# Benchmark (not a test): each service's image size, estimated without docker. Distroless images
# are Debian packages unpacked on a scratch root, so this downloads those packages (apt-get
# download), unpacks the runtime image's set (base-nossl-debian12 plus libgcc_s, as infra/Dockerfile
# has it; and cc-debian12 for comparison), adds the release binary, and prints the root's size and
# its gzip size (what a registry stores). Docs and man pages are left out, as distroless does.
# Usage: scripts/bench-image.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
parse_common_flags "$@"

static=(base-files netbase tzdata media-types ca-certificates)
declare -A bases=(
  [base-nossl+libgcc]="${static[*]} libc6 libgcc-s1 gcc-12-base"
  [cc]="${static[*]} libc6 libssl3 openssl libgcc-s1 gcc-12-base libgomp1 libstdc++6"
)
run cargo build --release --locked -p hello_world -p message_board -p storage_logging
work=$LOCAL_DIR/bench-image
run mkdir -p "$work/debs"
# shellcheck disable=SC2086  # lists of package names
(cd "$work/debs" && run apt-get download -qq ${bases[cc]})
((DRY_RUN)) && exit 0

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "| service | binary MiB | base | image MiB | gzip MiB |"
echo "|---|---|---|---|---|"
for base in base-nossl+libgcc cc; do
  root=$work/root-$base
  rm -rf "$root" && mkdir -p "$root"
  for package in ${bases[$base]}; do dpkg-deb -x "$work"/debs/"${package}"_*.deb "$root"; done
  rm -rf "$root"/usr/share/{doc,man,info,lintian}
  for service in "${SERVICE_CRATES[@]}"; do
    cp "target/release/$service" "$root/service"
    size=$(du -sb "$root" | cut -f1)
    gzipped=$(tar -C "$root" -cf - . | gzip -6 | wc -c)
    echo "| $service | $(mib "$(stat -c %s "target/release/$service")") | $base | $(mib "$size") | $(mib "$gzipped") |"
  done
done
