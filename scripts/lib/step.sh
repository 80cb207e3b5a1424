# shellcheck shell=bash
# How every hands-on step (and the cloud scripts beside them) begins: the helpers, the common
# flags, the project and its region. Sourced first, with the script's arguments:
#   source "$(dirname "$0")/lib/step.sh" "$@"
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=scripts/lib/cloud-steps.sh
source "$REPO_ROOT/scripts/lib/cloud-steps.sh"
parse_common_flags "$@"
require_project
