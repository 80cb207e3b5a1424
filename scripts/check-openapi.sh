#!/usr/bin/env bash
# Checks that openapi/*.json are valid OpenAPI documents (openapi-spec-validator from PyPI, in a venv
# under .local made once). That they describe the services as they are is checked by each
# service's tests/api/openapi.rs.
# Usage: scripts/check-openapi.sh [--dry-run]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
parse_common_flags "$@"

python_venv openapi openapi-spec-validator
for document in openapi/*.json; do
  run "$LOCAL_DIR/venv-openapi/bin/openapi-spec-validator" "$document"
done
