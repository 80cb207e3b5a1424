#!/usr/bin/env bash
# The images, built and run by a real engine: infra/Dockerfile unchanged, built by podman (runc) as
# infra/cloudbuild.yaml's step builds it, then each service run as Cloud Run runs it, or stricter
# (--memory=256m --cpus=1, PORT and K_SERVICE set, the image's own user, a read-only root), against
# the Datastore emulator: it answers every route, logs Cloud Logging's JSON, runs as nonroot with no
# shell, answers the request in flight on SIGTERM and exits 0 within 8 s, and storage_logging's TLS
# finds the system's roots (a key server with a self-signed certificate is refused as an unknown
# issuer). Prints each image's size (uncompressed and gzip, as a registry stores it), each build's
# wall time and the machine's CPU-seconds (cold, then after a one-line change), cold start (start to
# first 200) and idle memory: the figures of docs/performance.md#images.
# The registries the Dockerfile's bases come from are not reachable here, so it first makes those two
# images under their own names from their own recipes (docs/performance.md#images says how and what
# differs): rust:1-bookworm from buildpack-deps' package set (mmdebstrap) and docker-rust's rustup
# steps; distroless base-nossl-debian12:nonroot from distroless's package list and files.
# Last, it runs two images broken on purpose through the same checks (a runtime user that does not
# exist; the runtime without libgcc_s) and fails unless the checks catch both.
# Not in .ci/run: three cold release builds, 12 minutes on 2 cores. Needs root; installs podman,
# runc, mmdebstrap and what the checks use with apt where they are missing.
# Usage: sudo scripts/check-image.sh [--dry-run] [--cached]
#   --cached               builds with the layer cache (seconds when nothing changed) and measures
#                          no build: to run the checks again
#   IMAGE_DOCKERFILE=FILE  builds with another Dockerfile (to see a broken one fail)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/local-processes.sh
source "$REPO_ROOT/scripts/lib/local-processes.sh"
parse_common_flags "$@"
cached=0
for arg in "${REST_ARGS[@]}"; do
  case $arg in
    --cached) cached=1 ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done

((EUID == 0)) || die "needs root (podman, runc and memory limits as root); run: sudo $0"
missing=()
for tool in podman runc mmdebstrap jq curl openssl; do command -v "$tool" > /dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  run apt-get update -qq
  run apt-get install -y -qq "${missing[@]}"
fi

# crun, podman's default runtime, refuses this machine's hybrid cgroups; podman's default rlimits
# are above what root may set here.
podman=(podman --runtime runc)
limits=(--ulimit "nofile=$(ulimit -n):$(ulimit -n)" --ulimit nproc=4096:4096)
work=$LOCAL_DIR/check-image
failures=0
run mkdir -p "$work"
# One run at a time: runs share the image names, the containers' names and this directory.
exec 9> "$work.lock"
flock -n 9 || die "another scripts/check-image.sh is running"
check() { # check WHAT COMMAND...: runs the command, logs WHAT as ok or FAILED
  local what=$1
  shift
  if "$@"; then log "ok: $what"; else log "FAILED: $what"; failures=$((failures + 1)); fi
}

# --- The two base images, from their recipes --------------------------------------------------

# The machine's CPU time so far, in seconds (all cores): builds run in containers of their own.
# (user, nice, system, irq, softirq; not idle, iowait or steal). The machine must be otherwise idle.
cpu_seconds() { awk '/^cpu / { print ($2 + $3 + $4 + $7 + $8) / 100 }' /proc/stat; }

make_rust_image() {
  "${podman[@]}" image exists "$IMAGE_RUST_BASE" && return 0
  # buildpack-deps:bookworm: debian:bookworm (minbase) with its curl, scm and full layers' packages.
  local curl=(ca-certificates curl gnupg netbase sq wget) scm=(git mercurial openssh-client subversion procps)
  local full=(autoconf automake bzip2 default-libmysqlclient-dev dpkg-dev file g++ gcc imagemagick libbz2-dev
    libc6-dev libcurl4-openssl-dev libdb-dev libevent-dev libffi-dev libgdbm-dev libglib2.0-dev libgmp-dev
    libjpeg-dev libkrb5-dev liblzma-dev libmagickcore-dev libmagickwand-dev libmaxminddb-dev libncurses5-dev
    libncursesw5-dev libpng-dev libpq-dev libreadline-dev libsqlite3-dev libssl-dev libtool libwebp-dev
    libxml2-dev libxslt-dev libyaml-dev make patch unzip xz-utils zlib1g-dev)
  local packages="${curl[*]} ${scm[*]} ${full[*]}"
  run mmdebstrap --variant=minbase --aptopt='APT::Install-Recommends "false"' --include="${packages// /,}" \
    bookworm "$work/buildpack-deps.tar" "$DEBIAN_MIRROR"
  run "${podman[@]}" import --change 'CMD ["bash"]' "$work/buildpack-deps.tar" localhost/buildpack-deps:bookworm
  # This machine's own certificate authorities (its egress goes through a TLS proxy), so that
  # rustup's and the service builds' downloads work here: the one addition to the recipe.
  run rm -rf "$work/local-ca"
  run mkdir -p "$work/local-ca"
  run find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$work/local-ca/" \;
  # docker-rust's stable/bookworm Dockerfile, its rustup-init checked against its published sum.
  ((DRY_RUN)) && return 0
  "${podman[@]}" build "${limits[@]}" --network=host --pull=never --tag "$IMAGE_RUST_BASE" -f - "$work" << EOF
FROM localhost/buildpack-deps:bookworm
COPY local-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:\$PATH RUST_VERSION=$IMAGE_RUST_VERSION
RUN set -eux; \\
    arch="\$(dpkg --print-architecture)"; \\
    case "\$arch" in \\
      amd64) rustArch=x86_64-unknown-linux-gnu; rustupSha256=4acc9acc76d5079515b46346a485974457b5a79893cfb01112423c89aeb5aa10 ;; \\
      arm64) rustArch=aarch64-unknown-linux-gnu; rustupSha256=9732d6c5e2a098d3521fca8145d826ae0aaa067ef2385ead08e6feac88fa5792 ;; \\
      *) echo >&2 "unsupported architecture: \$arch"; exit 1 ;; \\
    esac; \\
    wget --progress=dot:giga "https://static.rust-lang.org/rustup/archive/1.29.0/\${rustArch}/rustup-init"; \\
    echo "\${rustupSha256} *rustup-init" | sha256sum -c -; \\
    chmod +x rustup-init; \\
    ./rustup-init -y --no-modify-path --profile minimal --default-toolchain \$RUST_VERSION --default-host \${rustArch}; \\
    rm rustup-init; \\
    chmod -R a+w \$RUSTUP_HOME \$CARGO_HOME; \\
    rustup --version; cargo --version; rustc --version
EOF
}

make_distroless_image() {
  "${podman[@]}" image exists "$IMAGE_RUNTIME_BASE" && return 0
  local root=$work/distroless debs=$work/distroless-debs
  run rm -rf "$root" "$debs"
  run mkdir -p "$root" "$debs"
  # base-nossl = static (base-files, netbase, tzdata, media-types, a CA bundle) + libc6, no
  # dependencies resolved: no libgcc_s, no libssl, no shell.
  ((DRY_RUN)) && { run apt-get download base-files netbase tzdata media-types libc6 ca-certificates; return 0; }
  (cd "$debs" && apt-get download -qq base-files netbase tzdata media-types libc6 ca-certificates)
  local deb
  for deb in "$debs"/{base-files,netbase,tzdata,media-types,libc6}_*.deb; do dpkg-deb -x "$deb" "$root"; done
  # Of ca-certificates, only the bundle, made as distroless makes it: every certificate, one file.
  dpkg-deb -x "$debs"/ca-certificates_*.deb "$debs/ca"
  mkdir -p "$root/etc/ssl/certs"
  cat "$debs"/ca/usr/share/ca-certificates/mozilla/*.crt > "$root/etc/ssl/certs/ca-certificates.crt"
  chmod 0555 "$root/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > "$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' > "$root/etc/group"
  printf '%s\n' 'passwd: compat' 'group: compat' 'shadow: compat' 'hosts: files dns' 'networks: files' \
    'protocols: db files' 'services: db files' 'ethers: db files' 'rpc: db files' > "$root/etc/nsswitch.conf"
  install -d -m 1777 "$root/tmp"
  install -d -m 0700 "$root/root"
  install -d -m 0700 -o 65532 -g 65532 "$root/home/nonroot"
  tar -C "$root" --numeric-owner -cf - . | "${podman[@]}" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 65532' --change 'WORKDIR /home/nonroot' - "$IMAGE_RUNTIME_BASE"
}

# --- The builds ---------------------------------------------------------------------------------

declare -A image_of=([hello_world]=$HELLO_SERVICE [message_board]=$BOARD_SERVICE [storage_logging]=$STORAGE_SERVICE)

# build CRATE CONTEXT LABEL [FLAG...]: builds as cloudbuild.yaml's step does; notes the wall and
# CPU seconds.
build() {
  local crate=$1 context=$2 label=$3 started cpu_before
  shift 3
  started=$(date +%s.%N) cpu_before=$(cpu_seconds)
  local dockerfile=$IMAGE_DOCKERFILE
  [[ $dockerfile == /* ]] || dockerfile=$context/$dockerfile # the commit's, as the sources
  run "${podman[@]}" build "$@" "${limits[@]}" --network=host --pull=never --file="$dockerfile" \
    --build-arg="SERVICE=$crate" --tag="localhost/${image_of[$crate]}:latest" "$context" || return 1
  ((DRY_RUN)) && return 0
  awk -v crate="$crate" -v label="$label" -v started="$started" -v now="$(date +%s.%N)" \
    -v cpu_before="$cpu_before" -v cpu_now="$(cpu_seconds)" \
    'BEGIN { printf "| %s | %s | %.0f s | %.0f CPU-s |\n", crate, label, now - started, cpu_now - cpu_before }' \
    >> "$work/builds.md"
}

# --- Running an image as Cloud Run does ---------------------------------------------------------

# http METHOD URL [JSON]: the answer's status code.
http() {
  local args=(-sS -o /dev/null -w '%{http_code}' -X "$1" --max-time 10)
  [[ -z ${3:-} ]] || args+=(-H 'Content-Type: application/json' -d "$3")
  curl "${args[@]}" "$2" || true
}

# in_flight_on_sigterm PORT CONTAINER PATH JSON: a request whose body is half sent when the
# container gets SIGTERM, then finished: "STATUS EXIT", the answer's status and the container's exit
# code, or "still running" if it has not exited 8 s after the signal.
in_flight_on_sigterm() {
  python3 - "$1" "$2" "$3" "$4" "${podman[*]}" << 'PY'
import socket, subprocess, sys, time
port, name, path, body, podman = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].encode(), sys.argv[5].split()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body[:5])
time.sleep(0.3)
subprocess.run(podman + ["kill", "--signal", "TERM", name], check=True, capture_output=True)
waiter = subprocess.Popen(["timeout", "8"] + podman + ["wait", name], stdout=subprocess.PIPE, text=True)
time.sleep(0.5)
try:
    s.sendall(body[5:])
    status = s.recv(4096).split(b" ")[1].decode()
except (OSError, IndexError):
    status = "none"
exit_code = waiter.communicate()[0].strip() or "still running"
print(status, exit_code)
PY
}

# run_service CRATE PORT [ENV...]: the image run as Cloud Run runs it, or stricter.
run_service() {
  local crate=$1 port=$2 image=${image_under_check:-localhost/${image_of[$1]}:latest} setting env=()
  shift 2
  for setting; do env+=(-e "$setting"); done
  run "${podman[@]}" run -d --name "check-$crate" "${limits[@]}" --network=host --read-only \
    --memory=256m --memory-swap=256m --cpus=1 -e PORT="$port" -e K_SERVICE="${image_of[$crate]}" \
    -e GOOGLE_CLOUD_PROJECT="$LOCAL_PROJECT" -e DATASTORE_EMULATOR_HOST="$datastore" "${env[@]}" \
    "$image" > /dev/null
}

stop_service() { "${podman[@]}" rm -f "check-$1" > /dev/null 2>&1 || true; }

# cgroup_file PID FILE: a file of the container's memory cgroup (cgroup v1, as on this machine).
cgroup_file() { echo "/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" { print $3 }' "/proc/$1/cgroup")/$2"; }

has_no_shell() { # the image's files hold none of the usual shells
  ! "${podman[@]}" export "check-$1" | tar -t | grep -qE '(^|/)(usr/)?s?bin/(sh|bash|dash|ash|busybox)$'
}

logs_json() { [[ -s $1 ]] && jq -e -s 'length > 0 and all(.severity and .message)' "$1" > /dev/null; }

# check_service CRATE: every check on one image; returns non-zero when one failed.
check_service() {
  local crate=$1 port started answered process_started pid code ms log=$work/$1.log failed_before=$failures
  port=$(free_port)
  stop_service "$crate"
  started=$(date +%s%N)
  run_service "$crate" "$port" || { check "$crate: starts" false; return 1; }
  until [[ $(http GET "http://127.0.0.1:$port/") == 200 ]]; do
    if (($(date +%s%N) - started > 10000000000)); then
      "${podman[@]}" logs "check-$crate" > "$log" 2>&1 || true
      check "$crate: answers within 10 s of its start ($(tail -c 300 "$log"))" false
      stop_service "$crate"
      return 1
    fi
    sleep 0.01
  done
  answered=$(date +%s%N)
  process_started=$(date -d "$("${podman[@]}" inspect --format '{{.State.StartedAt}}' "check-$crate" | sed 's/ UTC$//')" +%s%N)
  ms="$(((answered - started) / 1000000)) ms ($(((answered - process_started) / 1000000)) ms)"
  pid=$("${podman[@]}" inspect --format '{{.State.Pid}}' "check-$crate")
  check "$crate: runs in 256 MiB and one CPU" test "$(cat "$(cgroup_file "$pid" memory.limit_in_bytes)")" = 268435456

  local root_text body
  root_text=$(curl -sS "http://127.0.0.1:$port/")
  check "$crate: GET / answers its text ($root_text)" grep -q ' service\. ' <<< "$root_text"
  check "$crate: HEAD / answers 200" test "$(http HEAD "http://127.0.0.1:$port/")" = 200
  local object data
  object="image-check-$(date +%s%N).txt"
  data=$(jq -rn --arg name "$object" '{name: $name, bucket: "local", size: "5", contentType: "text/plain",
    timeCreated: "2026-12-05T00:00:00.000Z", updated: "2026-12-05T00:00:00.000Z"} | tojson | @base64')
  case $crate in
    hello_world)
      routes=("POST /api/v1/hello {\"name\":\"Image\"} Hello, Image!")
      body_route=(/api/v1/hello '{"name": "Image"}') ;;
    message_board)
      routes=("POST /api/v1/store {\"name\":\"image\",\"message\":\"from-the-image\"} from-the-image"
        "POST /api/v1/retrieve {\"name\":\"image\"} from-the-image")
      body_route=(/api/v1/store '{"name": "image", "message": "in flight"}') ;;
    storage_logging)
      routes=("POST /api/v1/pubsub {\"message\":{\"attributes\":{\"eventType\":\"OBJECT_FINALIZE\"},\"messageId\":\"$object\",\"data\":\"$data\"}} $object"
        "GET /api/v1/purge - succeeded.")
      body_route=(/api/v1/pubsub '{"message": {"attributes": {"eventType": "OBJECT_DELETE"}, "messageId": "in-flight"}}') ;;
  esac
  local route method path json expected
  for route in "${routes[@]}"; do
    read -r method path json expected <<< "$route"
    [[ $json == - ]] && json=
    body=$(curl -sS -X "$method" ${json:+-H 'Content-Type: application/json' -d "$json"} "http://127.0.0.1:$port$path")
    check "$crate: $method $path answers with $expected" grep -qF "$expected" <<< "$body"
  done
  if [[ $crate == storage_logging ]]; then
    body=$(curl -sS -H 'Content-Type: application/json' -H 'ce-specversion: 1.0' -H "ce-id: $object" \
      -H 'ce-source: //storage.googleapis.com/projects/_/buckets/local' \
      -H 'ce-type: google.cloud.storage.object.v1.finalized' \
      -d "{\"name\": \"event-$object\", \"bucket\": \"local\"}" "http://127.0.0.1:$port/api/v1/events")
    check "$crate: POST /api/v1/events (a CloudEvent) stores it" grep -qF "event-$object" <<< "$body"
  fi
  # Idle memory after the requests: the process's RSS, and what its memory cgroup is charged
  # (without the binary's pages when another container read them first).
  printf '| %s | %s MiB | %s MiB | %s | %s MiB (%s MiB) |\n' "$crate" \
    "$(awk -v b="$("${podman[@]}" image inspect --format '{{.Size}}' "localhost/${image_of[$crate]}:latest")" 'BEGIN { printf "%.1f", b / 1048576 }')" \
    "$(gzip_mib "$crate")" "$ms" "$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")" \
    "$(awk '{ printf "%.1f", $1 / 1048576 }' "$(cgroup_file "$pid" memory.usage_in_bytes)")" \
    >> "$work/runs.md"
  check "$crate: runs as nonroot (uid 65532)" grep -q $'^Uid:\t65532\t' "/proc/$pid/status"
  check "$crate: holds no shell" has_no_shell "$crate"
  "${podman[@]}" logs "check-$crate" > "$log" 2>&1
  check "$crate: logs Cloud Logging JSON" logs_json "$log"
  code=$(in_flight_on_sigterm "$port" "check-$crate" "${body_route[@]}") || code="none none"
  check "$crate: SIGTERM answers the request in flight and exits 0 within 8 s (status, exit: $code)" \
    test "$code" = "200 0"
  stop_service "$crate"
  ((failures == failed_before))
}

# gzip_mib CRATE: the image's layers gzip-compressed, as a registry stores them.
gzip_mib() {
  local dir=$work/push-$1
  rm -rf "$dir"
  "${podman[@]}" push -q --compress --compression-format gzip "localhost/${image_of[$1]}:latest" "dir:$dir" > /dev/null
  du -b --exclude=manifest.json --exclude=version "$dir" | awk '{ printf "%.1f", $1 / 1048576 }'
}

# storage_logging's key fetch reads the system's roots: a self-signed key server is an unknown
# issuer (with no roots at all, rustls-platform-verifier says that no CA certificates were loaded).
check_tls_roots() {
  local port key_port log=$work/tls.log token
  port=$(free_port) key_port=$(free_port)
  # A server's certificate, signed by itself: a leaf (not a CA) for 127.0.0.1.
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -addext basicConstraints=critical,CA:FALSE -keyout "$work/key.pem" -out "$work/cert.pem" 2> /dev/null
  mkdir -p "$work/keys"
  start_tracked "$work/key-server.log" python3 -c '
import functools, http.server, ssl, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2] + "/keys")
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2] + "/cert.pem", sys.argv[2] + "/key.pem")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()' "$key_port" "$work"
  stop_service storage_logging
  run_service storage_logging "$port" PUSH_AUTH_JWKS_URL="https://127.0.0.1:$key_port/certs" \
    PUSH_AUTH_PUBSUB_SERVICE_ACCOUNTS=invoker@example.com PUSH_AUTH_PUBSUB_AUDIENCES=https://example.com ||
    { check "storage_logging: starts with push-token verification on" false; return; }
  wait_http "http://127.0.0.1:$port/" 10 || true
  # A token shaped like Google's (RS256 with a key id) makes the service fetch the keys.
  token="$(printf '{"alg":"RS256","kid":"k","typ":"JWT"}' | basenc --base64url -w0 | tr -d =).e30.c2ln"
  curl -sS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"message": {"attributes": {"eventType": "OBJECT_DELETE"}, "messageId": "tls"}}' \
    "http://127.0.0.1:$port/api/v1/pubsub" || true
  "${podman[@]}" logs "check-storage_logging" > "$log" 2>&1 || true
  stop_service storage_logging
  check "storage_logging: its TLS finds the system's roots (the self-signed key server is an unknown issuer)" \
    grep -q 'UnknownIssuer' "$log"
}

# catches WHAT CONTAINERFILE: an image made broken on purpose from hello_world's must fail the checks.
catches() {
  local before=$failures
  "${podman[@]}" build -q "${limits[@]}" --pull=never --tag localhost/check-image-broken:latest -f - "$work" <<< "$2" > /dev/null
  if image_under_check=localhost/check-image-broken:latest check_service hello_world; then
    check "the checks catch $1" false
  else
    failures=$before
    log "ok: the checks catch $1"
  fi
  "${podman[@]}" rmi -f localhost/check-image-broken:latest > /dev/null 2>&1 || true
}

# --- The run ------------------------------------------------------------------------------------

log "$(podman --version), $(runc --version | head -1)"
make_rust_image
make_distroless_image
# The build context as Cloud Build gets it: the commit's files (the .dockerignore at its root).
context=$work/context
run rm -rf "$context"
run mkdir -p "$context"
if ((DRY_RUN)); then
  echo "git archive HEAD | tar -x -C $context"
else
  git archive HEAD | tar -x -C "$context"
  printf '| service | build | wall | machine CPU |\n|---|---|---|---|\n' > "$work/builds.md"
  printf '| service | image | gzip | podman run to first 200 (process start to first 200) | idle RSS (cgroup) |\n|---|---|---|---|---|\n' > "$work/runs.md"
fi
# Each service cold, then after a one-line change (a comment in its main.rs, new at each run) that
# builds only the sources' layer again. Cold: the service's image and every layer no image names
# removed first, so that its dependency and source layers are built from nothing, as Cloud Build
# builds them (--no-cache would leave older copies of the shared layers for the next build to
# pick, whose dependency layer is another service's).
for crate in "${SERVICE_CRATES[@]}"; do
  if ((cached)); then
    build "$crate" "$context" cached || die "the $crate image did not build"
    continue
  fi
  if ((!DRY_RUN)); then
    "${podman[@]}" rmi -f "localhost/${image_of[$crate]}:latest" > /dev/null 2>&1 || true
    # Each prune frees the layers that only the ones it removed were built on.
    while [[ -n $("${podman[@]}" image prune -f) ]]; do :; done
  fi
  build "$crate" "$context" cold || die "the $crate image did not build"
  ((DRY_RUN)) && continue
  echo "// a one-line change, $(date -u +%FT%T.%NZ)" >> "$context/$crate/src/main.rs"
  build "$crate" "$context" "after a one-line change" || die "the $crate image did not build again"
done
((DRY_RUN)) && exit 0

datastore=127.0.0.1:$(free_port)
start_datastore_emulator "$datastore" check-image-datastore
trap 'for crate in "${SERVICE_CRATES[@]}"; do stop_service "$crate"; done; stop_tracked' EXIT
wait_http "http://$datastore/" 60 || die "the Datastore emulator did not start"
for crate in "${SERVICE_CRATES[@]}"; do check_service "$crate" || true; done
check_tls_roots
catches "a runtime user that does not exist" "$(printf 'FROM localhost/%s:latest\nUSER nosuchuser\n' "$HELLO_SERVICE")"
catches "a runtime without libgcc_s" "$(printf 'FROM %s\nCOPY --from=localhost/%s:latest /service /service\nENTRYPOINT ["/service"]\n' \
  "$IMAGE_RUNTIME_BASE" "$HELLO_SERVICE")"

cat << EOF
How the two bases made here differ from the published ones, and why the checks do not depend on it:
  $IMAGE_RUST_BASE: Rust $IMAGE_RUST_VERSION (the published tag moves with each 1.x release;
    Cloud Build takes the newest), this machine's own certificate authorities added (for the
    downloads through its egress proxy), Debian's packages as the mirror has them today, one layer
    for the packages; the service builds need only bookworm's gcc and glibc and a toolchain.
  $IMAGE_RUNTIME_BASE: /etc/os-release is Debian's (distroless rewrites its name), no package
    records for scanners (status.d), packages as the mirror has them today; what the services
    use (glibc 2.36, the CA bundle, user 65532 and its home, /tmp, no shell) is as its recipe makes it.

$(cat "$work/builds.md")

$(cat "$work/runs.md")
EOF
((failures == 0)) || die "$failures check(s) failed"
log "every image built and passed every check"
