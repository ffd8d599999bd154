#!/usr/bin/env bash
# Bring the local test world up: docker engine, base image, stand-in images, loopback registry.
# Idempotent: a second run changes nothing and is quick. One line per step with its duration;
# exits non-zero naming the failed step. Logs: /var/log/fleet-world/.
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# one world at a time on a machine (parallel test runs wait, bounded)
exec 9>"$STATE_DIR/up.lock"
if command -v flock >/dev/null 2>&1; then
    flock -w 3600 9 || die "another tests/world/up.sh held $STATE_DIR/up.lock for an hour"
fi

total="$(now)"
for step in docker base images registry; do
    start="$(now)"
    if ! bash "$WORLD_DIR/$step.sh"; then
        echo "fleet-world: up: step $step FAILED after $(elapsed "$start") s (logs: $LOG_DIR/)" >&2
        exit 1
    fi
    echo "fleet-world: up: $step ok ($(elapsed "$start") s)"
done
echo "fleet-world: up: world ready ($(elapsed "$total") s)"
