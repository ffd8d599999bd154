#!/usr/bin/env bash
# The test command: unit and integration tests, ansible-lint (production profile)
# and ansible-test sanity. Needs `bash .ci/setup` once on a fresh machine.
# pytest runs in FLEET_TEST_WORKERS pytest-xdist workers (default 4), a test module per worker at a
# time (docs/testing.md); lint and sanity run beside it (they only read the checkout) and print
# their output after it. The 25 slowest tests, the slowest modules and the time of each phase are
# printed at the end. Extra arguments go to pytest (e.g. `bash tests/run.sh -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(pwd)/.venv/bin:$PATH"
export PATH
WORKERS="${FLEET_TEST_WORKERS:-4}"
out="$(mktemp -d /tmp/fleet-run.XXXXXX)"
trap 'rm -rf "$out"' EXIT

# timed NAME CMD...: run CMD, then write "NAME SECONDS EXIT" to $out/NAME.phase
timed() {
    local name=$1 s rc=0
    shift
    s=$(date +%s)
    "$@" || rc=$?
    echo "$name $(( $(date +%s) - s )) $rc" >"$out/$name.phase"
    return "$rc"
}

timed lint ansible-lint --profile production --offline -q >"$out/lint.log" 2>&1 &
lint_pid=$!
timed sanity bash tests/sanity.sh >"$out/sanity.log" 2>&1 &
sanity_pid=$!
export FLEET_PLAYBOOK_LOG="$out/playbooks.jsonl" FLEET_CPU_LOG="$out/cpu.jsonl"
timed pytest python -m pytest -q tests -n "$WORKERS" --dist loadfile --no-loadscope-reorder \
    --junitxml="$out/junit.xml" -p no:cacheprovider "$@" || true
wait "$lint_pid" || true
wait "$sanity_pid" || true

for name in lint sanity; do
    echo
    echo "== $name"
    cat "$out/$name.log"
done
echo
python tests/durations.py "$out/junit.xml" --playbooks "$FLEET_PLAYBOOK_LOG" --cpu "$FLEET_CPU_LOG" || true
echo
failed=()
for name in pytest lint sanity; do
    read -r _ seconds rc <"$out/$name.phase" || { seconds=0; rc=unknown; }
    printf '%-8s %5d s  %s\n' "$name" "$seconds" "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")"
    [ "$rc" = 0 ] || failed+=("$name")
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "tests/run.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
