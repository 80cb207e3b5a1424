#!/usr/bin/env bash
# Benchmark (not a test): hello_world against a bare actix-web handler answering the same contract
# (hello_world/examples/bare_actix.rs), and hello_world with its access lines on (hello_world-access), in one run of the
# shared harness (BENCH_DIR/run.sh, hello scenario). Prints the harness's tables.
# Usage: scripts/bench-hello.sh [--dry-run] [run.sh options, e.g. --rounds 3]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
parse_common_flags "$@"

[[ -x $BENCH_DIR/run.sh ]] || ((DRY_RUN)) ||
  die "set BENCH_DIR to the A/B harness's directory (its run.sh and ab.sh; not part of this repository); now: '$BENCH_DIR'"
# Two builds: an example pulls the dev-dependencies into feature resolution, so the service binary is
# built last, alone, as `cargo build --release` builds it.
run cargo build --release --locked -p hello_world --example bare_actix
run cargo build --release --locked -p hello_world --bin hello_world
bin=$REPO_ROOT/target/release
run "$BENCH_DIR/run.sh" --scenarios hello --skip-probe \
  --impl bare-actix --hello "exec $bin/examples/bare_actix" \
  --impl hello_world --env RUST_LOG=warn --hello "exec $bin/hello_world" \
  --impl hello_world-access --env RUST_LOG=info --hello "exec $bin/hello_world" \
  "${REST_ARGS[@]}"
