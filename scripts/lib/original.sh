# shellcheck shell=bash
# The Python original, for the benchmarks that run it beside ours: its code is not in this
# repository. ORIGINAL_DIR names the microservices/ directory of a clone of
# ORIGINAL_REPOSITORY at ORIGINAL_COMMIT; require_original stops with how to get it.
# install_original makes its venv; original_command SERVICE PORT sets ORIGINAL_COMMAND to that
# service under gunicorn, as its Dockerfile runs it. Sourced after lib.sh.

require_original() {
  [[ -n $ORIGINAL_DIR && -f $ORIGINAL_DIR/hello_world/main.py && -f $ORIGINAL_DIR/message_board/main.py &&
    -f $ORIGINAL_DIR/storage_logging/main.py ]] && return 0
  die "set ORIGINAL_DIR to the microservices/ directory of the Python original (now: '${ORIGINAL_DIR}'):" \
    "git clone $ORIGINAL_REPOSITORY original && git -C original checkout $ORIGINAL_COMMIT," \
    "then ORIGINAL_DIR=\$PWD/original/microservices"
}
install_original() { python_venv original flask gunicorn google-cloud-datastore; }
original_command() {
  # shellcheck disable=SC2034  # the caller's
  ORIGINAL_COMMAND=("$LOCAL_DIR/venv-original/bin/gunicorn" --chdir "$ORIGINAL_DIR/$1" --bind ":$2"
    --workers 1 --threads 8 --timeout 0 main:app)
}
