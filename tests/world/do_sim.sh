#!/usr/bin/env bash
# The DigitalOcean API simulator (tests/world/do_sim, see its __init__.py) in the background.
#
#   do_sim.sh start  [--port PORT] [--state-dir DIR] [--token TOKEN] [--fake-hosts] [-- SERVE_OPTION...]
#   do_sim.sh stop   [--state-dir DIR]
#   do_sim.sh status [--state-dir DIR]
#   do_sim.sh env    [--state-dir DIR]     -> DO_SIM_URL=, DO_SIM_CA=, DO_SIM_TOKEN=, DO_SIM_PORT=, DO_SIM_PID=
#
# start: an HTTPS server on 127.0.0.1:PORT (default $FLEET_DO_SIM_PORT or 8743) keeping its state
#   in DIR (default $FLEET_DO_SIM_STATE_DIR or /var/lib/fleet-world/do_sim): DIR/tls/ca.pem is
#   the CA to trust, DIR/env the connection facts (start prints them), DIR/state.json the state.
#   Tokens: --token (or $DO_SIM_TOKEN) is added to DIR/config.json's "tokens"; with none at all
#   the token is "fleet-do-sim-token". Droplets are real hosts (tests/world/host.sh, public
#   addresses 10.250.201.1-10.250.250.254) unless --fake-hosts. Idempotent: a simulator already
#   serving DIR is left alone. Waits (bounded) until it answers. Log: /var/log/fleet-world/do_sim.log.
# stop: SIGTERM; the simulator takes down every host it created and the routing of its VPC
#   peerings (bounded), then exits; whatever it left behind (killed, crashed) is taken down from
#   DIR/state.json. The peerings themselves are kept: the next start routes them again.
# status: exit 0 and one line when it serves DIR, exit 3 when it does not.
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO_DIR="$(cd "$WORLD_DIR/../.." && pwd)"
PORT="${FLEET_DO_SIM_PORT:-8743}"
SIM_DIR="${FLEET_DO_SIM_STATE_DIR:-$STATE_DIR/do_sim}"
SIM_LOG="${FLEET_DO_SIM_LOG:-$LOG_DIR/do_sim.log}"
PYTHON="${FLEET_DO_SIM_PYTHON:-$REPO_DIR/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
START_WAIT=30
STOP_WAIT=300     # the simulator bounds its own teardown at 240 s
TEARDOWN_TIMEOUT=240

usage() {
    sed -n '3,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ "$#" -ge 1 ] || usage
cmd=$1
shift
token=""
fake=0
extra=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --port) [ "$#" -ge 2 ] || usage; PORT=$2; shift 2 ;;
        --state-dir) [ "$#" -ge 2 ] || usage; SIM_DIR=$2; shift 2 ;;
        --token) [ "$#" -ge 2 ] || usage; token=$2; shift 2 ;;
        --fake-hosts) fake=1; shift ;;
        --) shift; extra=("$@"); break ;;
        *) usage ;;
    esac
done
[[ "$PORT" =~ ^[0-9]+$ ]] || die "bad port '$PORT'"
mkdir -p "$SIM_DIR"
SIM_DIR="$(cd "$SIM_DIR" && pwd)"
PIDFILE="$SIM_DIR/do_sim.pid"

# sim_pid: the pid of the simulator serving SIM_DIR, if it runs
sim_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "do_sim serve --state-dir $SIM_DIR " || return 1
    echo "$pid"
}

env_get() { sed -n "s/^$1=//p" "$SIM_DIR/env" 2>/dev/null | head -n 1 || true; }

health() {  # health URL: true when the simulator answers there
    [ -f "$SIM_DIR/tls/ca.pem" ] || return 1
    curl -s --max-time 3 --noproxy '*' --cacert "$SIM_DIR/tls/ca.pem" "$1/_sim/health" 2>/dev/null | grep -q '"ok"'
}

has_hosts() {  # the state file still lists hosts, droplets or peering routes
    [ -f "$SIM_DIR/state.json" ] || return 1
    "$PYTHON" - "$SIM_DIR/state.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d.get('hosts') or d.get('droplets') or d.get('routed') else 1)
PY
}

teardown_left() {
    if has_hosts; then
        say "taking down the hosts left in $SIM_DIR/state.json"
        PYTHONPATH="$WORLD_DIR" timeout $((TEARDOWN_TIMEOUT + 60)) "$PYTHON" -m do_sim teardown \
            --state-dir "$SIM_DIR" --stop-timeout "$TEARDOWN_TIMEOUT" >>"$SIM_LOG" 2>&1 \
            || die "teardown of the hosts in $SIM_DIR/state.json failed" "$SIM_LOG"
    fi
}

cmd_start() {
    local pid url deadline args
    if pid="$(sim_pid)"; then
        url="$(env_get DO_SIM_URL)"
        if [ -n "$url" ] && health "$url"; then
            say "already serving $url (pid $pid)"
            cat "$SIM_DIR/env"
            return 0
        fi
        say "pid $pid serves $SIM_DIR but does not answer: stopping it"
        cmd_stop
    fi
    command -v curl >/dev/null 2>&1 || apt_install curl
    [ "$fake" = 1 ] || need_root
    # an earlier simulator of this directory that was killed may have left hosts
    [ "$fake" = 1 ] || teardown_left
    rm -f "$SIM_DIR/env"
    args=(serve --state-dir "$SIM_DIR" --port "$PORT" --host 127.0.0.1)
    [ -z "$token" ] || args+=(--token "$token")
    [ "$fake" = 0 ] || args+=(--hosts fake)
    say "starting the DigitalOcean simulator on https://127.0.0.1:$PORT (state: $SIM_DIR; log: $SIM_LOG)"
    pid="$(PYTHONPATH="$WORLD_DIR" start_daemon "$SIM_LOG" "$PYTHON" -m do_sim "${args[@]}" "${extra[@]}")"
    echo "$pid" >"$PIDFILE"
    deadline=$((SECONDS + START_WAIT))
    until [ -f "$SIM_DIR/env" ] && health "https://127.0.0.1:$PORT"; do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; die "the simulator exited during its start" "$SIM_LOG"; }
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill -TERM "$pid" 2>/dev/null || true
            rm -f "$PIDFILE"
            die "the simulator did not answer https://127.0.0.1:$PORT/_sim/health within $START_WAIT s" "$SIM_LOG"
        fi
        sleep 0.2
    done
    cat "$SIM_DIR/env"
}

cmd_stop() {
    local pid deadline
    if pid="$(sim_pid)"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + STOP_WAIT))
        while kill -0 "$pid" 2>/dev/null; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                say "the simulator (pid $pid) did not stop within $STOP_WAIT s: killing it"
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.3
        done
        say "stopped the simulator of $SIM_DIR (pid $pid)"
    fi
    rm -f "$PIDFILE" "$SIM_DIR/env"
    teardown_left
}

cmd_status() {
    local pid url
    if pid="$(sim_pid)" && url="$(env_get DO_SIM_URL)" && [ -n "$url" ] && health "$url"; then
        echo "do_sim: serving $url (pid $pid, state $SIM_DIR)"
        return 0
    fi
    echo "do_sim: not running (state $SIM_DIR)"
    return 3
}

case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) [ -f "$SIM_DIR/env" ] || die "no simulator serves $SIM_DIR"; cat "$SIM_DIR/env" ;;
    -h|--help|help) usage ;;
    *) usage ;;
esac
