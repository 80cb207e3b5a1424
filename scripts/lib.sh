# shellcheck shell=bash
# What every script shares: the repository root as working directory, config.sh, logging, --dry-run
# and the other common flags, usage from the script's header. Sourced, never run:
# `source "$(dirname "$0")/lib.sh"`; the cloud steps' helpers are in lib/cloud-steps.sh, the local
# processes' (emulators, fake-gcs-server) in lib/local-processes.sh.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO_ROOT
# Every script works from the repository root, as the guide's commands do.
cd "$REPO_ROOT" || exit 1
# shellcheck source=scripts/config.sh
source "$REPO_ROOT/scripts/config.sh"

DRY_RUN=${DRY_RUN:-0}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# run CMD...: runs the command, or with --dry-run prints it, quoted so that it can be pasted.
run() {
  if ((DRY_RUN)); then
    printf '%q ' "$@" | sed 's/ $//'
    echo
  else
    "$@"
  fi
}

# usage: the running script's header (the comments after its shebang), without the comment marks.
usage() { sed -n '2,/^[^#]/{/^# shellcheck/d; s/^# \{0,1\}//p}' "$0"; }

# parse_common_flags "$@": handles --dry-run, --yes and --help; leaves the rest in REST_ARGS.
ASSUME_YES=0
# shellcheck disable=SC2034  # ASSUME_YES is read by the scripts that ask first (99-cleanup.sh)
parse_common_flags() {
  REST_ARGS=()
  local arg
  for arg in "$@"; do
    case $arg in
      --dry-run) DRY_RUN=1 ;;
      --yes) ASSUME_YES=1 ;;
      -h | --help) usage; exit 0 ;;
      *) REST_ARGS+=("$arg") ;;
    esac
  done
}

# wait_http URL SECONDS: waits until URL answers 200.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# python_venv NAME PACKAGE...: the venv .local/venv-NAME with the packages from PyPI, made once (a marker
# file says the install finished, so an interrupted one is made again).
python_venv() {
  local venv=$LOCAL_DIR/venv-$1
  [[ -e $venv/.installed ]] && return 0
  # Without a pip of its own (installing one costs 5 s of CPU a venv): python3's pip installs
  # into it. (|| return: a caller's `&&` list turns set -e off in here.)
  run python3 -m venv --clear --without-pip "$venv" || return
  run python3 -m pip --python "$venv/bin/python" install --quiet --disable-pip-version-check "${@:2}" || return
  ((DRY_RUN)) || touch "$venv/.installed"
}

# free_port: a TCP port of loopback that nothing listens on now, outside the kernel's ephemeral
# range (one from that range can be taken by an outgoing connection's local end, even a readiness
# probe's to that very port, before the server binds it); random, so that parallel callers seldom
# try the same one. Isolated (-I): nothing in the working directory can stand in for a module.
free_port() {
  python3 -I - << 'EOF'
import random, socket
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low, high = map(int, f.read().split())
except (OSError, ValueError):
    low, high = 32768, 60999
outside = [*range(10000, low), *range(high + 1, 65536)]
for port in random.sample(outside, min(1000, len(outside))) + [0]:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(s.getsockname()[1])
        break
EOF
}
