#!/usr/bin/env bash
# Stop the loopback registry that registry.sh started (never dockerd, never the images).
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIDFILE="$STATE_DIR/registry/registry.pid"
[ -f "$PIDFILE" ] || exit 0
pid="$(cat "$PIDFILE")"
# only the process registry.sh started: its pid, and still a docker-registry
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'docker-registry'; then
    kill -TERM "$pid"
    deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    say "stopped docker-registry (pid $pid)"
fi
rm -f "$PIDFILE"
