#!/usr/bin/env bash
# The test command: unit and integration tests, ansible-lint (production profile)
# and ansible-test sanity. Needs `bash .ci/setup` once on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(pwd)/.venv/bin:$PATH"
export PATH
timed() { local s; s=$(date +%s); "$@"; echo "== $1 $2 took $(( $(date +%s) - s )) s"; }

timed python -m pytest -q tests
timed ansible-lint --profile production --offline -q
timed bash tests/sanity.sh
