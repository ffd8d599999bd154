# shellcheck shell=bash disable=SC2034
# (SC2034: the variables are for the scripts that source this file)
# Shared helpers of the test world scripts (sourced, never run).
# SPDX-License-Identifier: GPL-3.0-or-later

WORLD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOG_DIR="${FLEET_WORLD_LOG_DIR:-/var/log/fleet-world}"
CACHE_DIR="${FLEET_WORLD_CACHE_DIR:-/var/cache/fleet-world}"
STATE_DIR="${FLEET_WORLD_STATE_DIR:-/var/lib/fleet-world}"
# Image namespace: fleet-world/<name>:<tag>. Another namespace (with other cache, state and log
# dirs and registry address) gives a second, independent world, e.g. to time a cold build.
NS="${FLEET_WORLD_NAMESPACE:-fleet-world}"
BASE_IMAGE="$NS/base:bookworm"
REGISTRY_ADDR="${FLEET_WORLD_REGISTRY:-127.0.0.1:5000}"
# The stand-in images: name -> tags (the first is built, the others are aliases of it).
declare -A WORLD_IMAGE_TAGS=(
    [postgres]="15"
    [redis]="7 7-alpine"
    [nginx]="1.22 stable"
    [python]="3.11 3.11-slim"
    [node]="18 18-slim"
    [opensearch]="2.19.6 2.19 2"
)
WORLD_IMAGE_ORDER=(postgres redis nginx python node opensearch)

mkdir -p "$LOG_DIR" "$CACHE_DIR" "$STATE_DIR"

SCRIPT_NAME="$(basename "$0")"

# die MESSAGE [LOG]: one clear line on stderr, exit 1.
die() {
    if [ -n "${2:-}" ]; then
        echo "fleet-world: $SCRIPT_NAME: $1 (log: $2)" >&2
        if [ -f "$2" ]; then
            echo "--- last lines of $2 ---" >&2
            tail -n 15 "$2" >&2 || true
        fi
    else
        echo "fleet-world: $SCRIPT_NAME: $1" >&2
    fi
    exit 1
}

say() { echo "fleet-world: $SCRIPT_NAME: $*" >&2; }

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons)"
}

# apt_install PKG...: install the Debian packages that are missing; 'apt-get update' only when
# the package lists do not know a package yet or an install fails.
apt_install() {
    local missing=() p log="$LOG_DIR/apt.log"
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    need_root
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    local known=1
    for p in "${missing[@]}"; do
        apt-cache show "$p" >/dev/null 2>&1 || known=0
    done
    if [ "$known" = 0 ]; then
        timeout 600 apt-get update >>"$log" 2>&1 || die "apt-get update failed" "$log"
    fi
    if ! timeout 900 apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        timeout 600 apt-get update >>"$log" 2>&1 || die "apt-get update failed" "$log"
        timeout 900 apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 \
            || die "apt-get install ${missing[*]} failed" "$log"
    fi
}

docker_ok() { timeout "${1:-20}" docker info >/dev/null 2>&1; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# start_daemon LOG CMD...: run CMD in the background in its own session, stdin from /dev/null,
# output appended to LOG, and no inherited descriptor beyond 2 (so it never holds up.sh's lock).
# Prints the pid.
start_daemon() {
    local log="$1"; shift
    # shellcheck disable=SC2016  # expanded by the inner bash
    setsid bash -c 'for fd in /proc/$$/fd/*; do n="${fd##*/}"; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@"' \
        fleet-world-daemon "$@" >>"$log" 2>&1 </dev/null &
    echo "$!"
}

# now: seconds since the epoch with a fraction, for durations.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
