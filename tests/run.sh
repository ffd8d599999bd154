#!/usr/bin/env bash
# The test command: unit and integration tests, ansible-lint (production profile)
# and ansible-test sanity. Needs `bash .ci/setup` once on a fresh machine.
# pytest runs in FLEET_TEST_WORKERS pytest-xdist workers (default 4), a test module per worker at a
# time (docs/testing.md); the 25 slowest tests, the slowest modules and the time of each phase are
# printed at the end. Extra arguments go to pytest (e.g. `bash tests/run.sh -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(pwd)/.venv/bin:$PATH"
export PATH
WORKERS="${FLEET_TEST_WORKERS:-4}"
report="$(mktemp /tmp/fleet-junit.XXXXXX.xml)"
trap 'rm -f "$report"' EXIT

phases=()
failed=()
phase() {
    local name=$1 s rc=0
    shift
    s=$(date +%s)
    "$@" || rc=$?
    phases+=("$(printf '%-8s %5d s  %s' "$name" $(( $(date +%s) - s )) "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")")")
    [ "$rc" = 0 ] || failed+=("$name")
}

phase pytest python -m pytest -q tests -n "$WORKERS" --dist loadfile --no-loadscope-reorder --junitxml="$report" -p no:cacheprovider "$@"
phase lint ansible-lint --profile production --offline -q
phase sanity bash tests/sanity.sh

echo
python tests/durations.py "$report" || true
echo
printf '%s\n' "${phases[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "tests/run.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
