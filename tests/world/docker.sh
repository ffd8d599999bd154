#!/usr/bin/env bash
# Ensure a Docker engine answers: install Debian's docker.io when missing and start dockerd
# in the background when `docker info` fails (log: /var/log/fleet-world/dockerd.log).
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io
fi
apt_install iptables ca-certificates

if docker_ok; then
    exit 0
fi

need_root
log="$LOG_DIR/dockerd.log"
pidfile=/var/run/docker.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "dockerd (pid $(cat "$pidfile")) runs but does not answer yet; waiting"
else
    say "starting dockerd (log: $log)"
    rm -f "$pidfile"
    started="$(start_daemon "$log" dockerd)"
fi
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
    if docker_ok 5; then
        exit 0
    fi
    if [ -n "${started:-}" ] && ! kill -0 "$started" 2>/dev/null; then
        die "dockerd exited right after its start" "$log"
    fi
    sleep 1
done
die "dockerd did not answer 'docker info' within 60 s" "$log"
