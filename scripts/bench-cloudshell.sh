#!/usr/bin/env bash
# Benchmark (not a test): the guide's local path in a box like Cloud Shell's, an e2-small with 2 GB
# of memory and a 5 GB persistent home. A 5 GB ext4 image without a root reserve, loop-mounted as
# $HOME, holds rustup's stable toolchain (copied from this machine, less what the guide's
# `--profile minimal` leaves out: rust-docs, rustfmt, clippy), cargo's registry (downloaded by the
# first build, as on Cloud Shell) and a fresh clone of this repository's HEAD; every command
# runs in a memory cgroup of 2 GiB on BOX_CPUS CPUs (2, an e2-small's burst; 0.5, its sustained share). Runs the guide's commands in its order:
# section 2 (cargo run -p hello_world, one request), section 5 (the pipeline check's build),
# section 6 (local.sh up, the pipeline check of 100 uploads it prints, down). Prints per section:
# time, $HOME used, peak resident memory (the cgroup's total_rss, sampled), OOM kills. Fails when a
# command fails (a full disk among the causes), a process is OOM-killed, or a budget is passed.
# Needs root (loop mount, cgroup v1). Measures the committed HEAD, not the working tree.
# Usage: scripts/bench-cloudshell.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"

BOX_DIR=${BOX_DIR:-$LOCAL_DIR/cloudshell}
BOX_HOME_BYTES=${BOX_HOME_BYTES:-5000000000}  # "5 GB of persistent disk storage"
BOX_MEMORY_BYTES=${BOX_MEMORY_BYTES:-2147483648}
BOX_CPUS=${BOX_CPUS:-2}
# The budgets: room for what a real home also holds, and for Cloud Shell's own processes.
HOME_BUDGET_MIB=${HOME_BUDGET_MIB:-4096}
RSS_BUDGET_MIB=${RSS_BUDGET_MIB:-1536}
TOOLCHAIN=${TOOLCHAIN:-stable-x86_64-unknown-linux-gnu}
RUSTUP_SOURCE=${RUSTUP_HOME:-$HOME/.rustup}
# Cloud Shell has rustup's proxies outside the home; these are this machine's.
command -v rustup > /dev/null || die "needs rustup on PATH"
RUSTUP_PROXIES=$(dirname "$(command -v rustup)")

image=$BOX_DIR/home.img
home=$BOX_DIR/home
cgroup=/sys/fs/cgroup/memory/bench-cloudshell
cpu_cgroup=/sys/fs/cgroup/cpu/bench-cloudshell
samples=$BOX_DIR/samples.txt
sections=$BOX_DIR/sections.txt
section_now=$BOX_DIR/section

if ((DRY_RUN)); then
  run truncate -s "$BOX_HOME_BYTES" "$image"
  run mkfs.ext4 -q -m 0 "$image"
  run mount -o loop "$image" "$home"
  run cp -a "$RUSTUP_SOURCE/toolchains/$TOOLCHAIN" "$home/.rustup/toolchains/"
  run git clone -q "$REPO_ROOT" "$home/serverless-microservices-rust"
  run rustup component remove --toolchain "$TOOLCHAIN" rust-docs rustfmt clippy
  run rustup default stable
  run cargo run -p hello_world
  run cargo build -q --locked -p tools --bin pipeline-check
  run scripts/local.sh up
  run scripts/local.sh down
  exit 0
fi
[[ $(id -u) == 0 ]] || die "needs root: a loop mount and a memory cgroup"

sampler=
teardown() {
  [[ -z $sampler ]] || kill "$sampler" 2> /dev/null || true
  local pid
  if [[ -d $cgroup ]]; then
    while read -r pid; do kill -KILL "$pid" 2> /dev/null || true; done < "$cgroup/cgroup.procs"
    for _ in $(seq 50); do [[ -s $cgroup/cgroup.procs ]] || break; sleep 0.1; done
    rmdir "$cgroup" 2> /dev/null || true
  fi
  [[ ! -d $cpu_cgroup ]] || rmdir "$cpu_cgroup" 2> /dev/null || true
  ! mountpoint -q "$home" || umount "$home" || umount -l "$home"
  rm -f "$image"
}
trap teardown EXIT

log "a ${BOX_HOME_BYTES}-byte home at $home, ${BOX_MEMORY_BYTES} bytes of memory, $BOX_CPUS CPUs"
teardown
mkdir -p "$home"
truncate -s "$BOX_HOME_BYTES" "$image"
mkfs.ext4 -q -m 0 "$image"
mount -o loop "$image" "$home"
mkdir -p "$home/.rustup/toolchains"
cp -a "$RUSTUP_SOURCE/toolchains/$TOOLCHAIN" "$home/.rustup/toolchains/"
git clone -q "$REPO_ROOT" "$home/serverless-microservices-rust"

mkdir -p "$cgroup" "$cpu_cgroup"
echo "$BOX_MEMORY_BYTES" > "$cgroup/memory.limit_in_bytes"
echo 100000 > "$cpu_cgroup/cpu.cfs_period_us"
# A CFS quota, so fractions work: an e2-small bursts to 2 vCPUs but sustains 0.5 (BOX_CPUS=0.5).
awk -v cpus="$BOX_CPUS" 'BEGIN { printf "%d\n", cpus * 100000 }' > "$cpu_cgroup/cpu.cfs_quota_us"
oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$cgroup/memory.oom_control"; }

# The sampler runs outside the box: every 0.2 s, the section|total_rss|OOM kills so far.
echo setup > "$section_now"
: > "$samples"
while sleep 0.2; do
  echo "$(cat "$section_now")|$(awk '$1 == "total_rss" { print $2 }' "$cgroup/memory.stat")|$(oom_kills)"
done >> "$samples" &
sampler=$!

# section NAME: starts a section (the sampler files its samples under it; its time starts now).
section() {
  echo "$1" > "$section_now"
  section_started=$(date +%s)
}
# section_done NAME: records the section|its time|the home's use now.
section_done() {
  echo "$1|$(($(date +%s) - section_started))|$(df -B1M --output=used "$HOME" | tail -1 | tr -d ' ')" >> "$sections"
}

: > "$sections"
# The box: a subshell in the cgroups, with the box's home; what it starts stays in them. In the
# background, so that errexit holds inside it and the table is printed whatever happened.
(
  echo "$BASHPID" > "$cgroup/cgroup.procs"
  echo "$BASHPID" > "$cpu_cgroup/cgroup.procs"
  export HOME=$home RUSTUP_HOME=$home/.rustup CARGO_HOME=$home/.cargo
  export PATH=$RUSTUP_PROXIES:$PATH
  unset CARGO_TARGET_DIR DATASTORE_EMULATOR_HOST PUBSUB_EMULATOR_HOST STORAGE_EMULATOR_HOST
  cd "$HOME/serverless-microservices-rust"
  mkdir -p "$BOX_DIR/logs"

  section "2 hello_world"
  # The guide installs the minimal profile; the toolchain here came with the default one (or
  # some of it: what is not there needs no removing).
  for component in rust-docs rustfmt clippy; do
    if rustup component list --installed --toolchain "$TOOLCHAIN" | grep -q "^$component"; then
      rustup component remove --toolchain "$TOOLCHAIN" "$component"
    fi
  done
  rustup default stable
  setsid cargo run -p hello_world > "$BOX_DIR/logs/hello_world.log" 2>&1 &
  hello=$!
  until curl -fsS -o /dev/null http://127.0.0.1:8080/ 2> /dev/null; do
    kill -0 "$hello" 2> /dev/null || { cat "$BOX_DIR/logs/hello_world.log"; exit 1; }
    sleep 0.2
  done
  curl -fsS -X POST -H "Content-Type: application/json" -d '{"name": "Cloud Run"}' \
    http://127.0.0.1:8080/api/v1/hello
  echo
  stop_group "$hello"
  section_done "2 hello_world"

  section "5 pipeline-check build"
  cargo build -q --locked -p tools --bin pipeline-check
  section_done "5 pipeline-check build"

  section "6 local.sh up"
  setsid scripts/local.sh up > "$BOX_DIR/logs/up.log" 2>&1 &
  up=$!
  for _ in $(seq 1800); do
    grep -q '^Running' "$BOX_DIR/logs/up.log" && break
    kill -0 "$up" 2> /dev/null || { cat "$BOX_DIR/logs/up.log"; exit 1; }
    sleep 1
  done
  grep -q '^Running' "$BOX_DIR/logs/up.log" || { cat "$BOX_DIR/logs/up.log"; exit 1; }
  section_done "6 local.sh up"

  section "6 pipeline check, down"
  sed -n '/The whole pipeline checked/,/pipeline-check/p' "$BOX_DIR/logs/up.log" | tail -n +2 > "$BOX_DIR/check.sh"
  bash "$BOX_DIR/check.sh"
  scripts/local.sh down
  wait "$up" || true
  section_done "6 pipeline check, down"
) &
failed=0
if ! wait $!; then
  log "section $(cat "$section_now") failed (its output is above; logs in $BOX_DIR/logs)"
  echo "$(cat "$section_now")|failed|$(df -B1M --output=used "$home" | tail -1 | tr -d ' ')" >> "$sections"
  failed=1
fi

echo
echo "| section | time (s) | \$HOME used (MiB) | peak RSS (MiB) | OOM kills |"
echo "|---|---|---|---|---|"
while IFS='|' read -r name time used; do
  peak=$(awk -F'|' -v s="$name" '$1 == s && $2 > max { max = $2 } END { printf "%d", max / 1048576 }' "$samples")
  kills=$(awk -F'|' -v s="$name" '$1 == s { k = $3 } END { print k + 0 }' "$samples")
  echo "| $name | $time | $used | $peak | $kills |"
  ((peak <= RSS_BUDGET_MIB)) || { log "over budget: $name peaked at $peak MiB (budget $RSS_BUDGET_MIB)"; failed=1; }
done < "$sections"
used=$(df -B1M --output=used "$home" | tail -1)
((used <= HOME_BUDGET_MIB)) || { log "over budget: \$HOME holds $used MiB (budget $HOME_BUDGET_MIB)"; failed=1; }
echo
echo "\$HOME at the end (MiB): $(du -sm "$home/.rustup" "$home/.cargo" "$home/serverless-microservices-rust/target" \
  "$home/serverless-microservices-rust/.local" "$home/.cache" "$home/.config" 2> /dev/null | sed "s|$home/||" | tr '\t\n' ' ')"
kills=$(oom_kills)
((kills == 0)) || { log "$kills process(es) OOM-killed in the box"; failed=1; }
((!failed)) || die "the guide's path does not fit the box"
log "fits: \$HOME $used MiB of $((BOX_HOME_BYTES / 1048576)) (budget $HOME_BUDGET_MIB), every section under $RSS_BUDGET_MIB MiB resident"
