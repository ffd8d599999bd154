#!/usr/bin/env bash
# Simulated servers ("hosts") of the test world, e.g. the droplets of the DigitalOcean simulator.
#
#   host.sh up NAME PUBLIC_IP[/LEN] [--private BRIDGE:IP[/LEN]]... [--authorized-key FILE]...
#   host.sh down NAME [--keep-data] [--abrupt]
#   host.sh list                      -> one line per known host: NAME PUBLIC_IP STATUS
#   host.sh restart-docker NAME       -> restart the host's dockerd (containers keep their restart
#                                        policies, as with `systemctl restart docker`)
#   host.sh load-images NAME IMAGE... -> copy images from this machine's engine to the host's (an engine
#                                        without images or containers gets them as hard links to a
#                                        seed, see below; any other, docker save | docker load)
#   host.sh bridge-down BRIDGE        -> delete a bridge without hosts (a VPC) and its firewall rules
#   host.sh peer BRIDGE_A:GW_A/LEN BRIDGE_B:GW_B/LEN [--router ID]
#                                     -> route between two bridges (a VPC peering), see below
#   host.sh unpeer BRIDGE_A BRIDGE_B | --all
#   host.sh peerings                  -> one line per peering:
#                                        ROUTER BRIDGE_A GW_A/LEN BRIDGE_B GW_B/LEN
#
# A host NAME is:
# - the network namespace fleet-NAME: lo, eth0 = PUBLIC_IP/LEN (default /16) on a veth into the
#   bridge fleetpub0 (10.250.0.1/16 on this machine, the default gateway), and eth1, eth2, ... on
#   veths into the --private bridges (a region's VPC; no address on this machine's side). This
#   machine neither forwards nor NATs for the hosts: a firewall chain (FLEET-HOSTS, FLEET-HOSTS-IN)
#   lets hosts on one bridge talk to each other and answer this machine, and rejects anything
#   else, so no host reaches the internet, the registry or any other service of this machine
#   (FLEET_HOSTS_OPEN_PORTS="p1,p2" opens TCP ports of 10.250.0.1 to the hosts when a test needs
#   one). The public IP must lie in the public bridge's subnet.
# - one process tree started with `nsenter --net` + `unshare --mount --uts --pid`: a private
#   mount namespace (/local = /var/lib/fleet-hosts/NAME/local, /run/docker.sock and
#   /var/run/docker.sock = the host's own engine, sysfs of the netns), hostname NAME, and its own
#   PID namespace whose init (this script, `__init`) runs
#     dockerd: data-root /var/lib/fleet-hosts/NAME/docker, exec-root /run/fleet-hosts/NAME/exec,
#              socket unix:///run/fleet-hosts/NAME/docker.sock, its own containerd, cgroup parent
#              /fleet-host-NAME, the storage driver of this machine's engine at the first up
#              (FLEET_HOSTS_STORAGE_DRIVER overrides; kept in NAME/storage-driver), and its
#              own docker0 and iptables rules inside the netns (so the default 172.17.0.0/16
#              clashes with nothing);
#     sshd:    port 22 of every address of the netns, root login with keys only, keys from
#              /var/lib/fleet-hosts/NAME/authorized_keys (--authorized-key FILE appends), host
#              keys generated per host.
#     cron:    Debian's cron, with the host's own /etc/cron.d, /etc/crontab and pid file (bound
#              over this machine's from /var/lib/fleet-hosts/NAME/etc), so scheduled jobs run on
#              schedule in each host and only there;
#     units:   a small supervisor in place of systemd for /etc/systemd/system/fleet-*.service (the
#              host's own directory): ExecStart with its Environment= lines, started again 2 s
#              after it exits, restarted when the unit file changes, stopped when it goes
#              (log: /var/log/fleet-world/host-NAME-units.log).
#   Ending that init ends everything in the host, containers included.
# The rest of the filesystem is this machine's (so /work/main/.venv/bin/python with the docker
# SDK works as ansible_python_interpreter on every host; /root and /tmp are shared too, but for
# /root/.bashrc, which is Debian's skeleton in every host, as on a fresh droplet).
#
# up is idempotent (a running host with the same public IP only gets the new keys; a broken one
# is cleaned and started again) and waits, bounded, for the engine (60 s) and sshd (10 s).
# down stops the tree (TERM, bounded waits, then KILL; --abrupt: the veths deleted first and
# everything killed at once, as when a cloud destroys a machine), deletes veths and netns, and removes
# /var/lib/fleet-hosts/NAME unless --keep-data (then a later up is a reboot of the same host).
#
# Seeds: `docker load` of a 100 MB image costs the host's engine about 5 s of CPU (and this machine's
# engine 1.5 s for the save), on every new droplet of the tests. A seed is an image store made once per
# machine for one set of images (the same storage driver and image ids): a throwaway dockerd in its own
# namespaces loads them into /var/lib/fleet-hosts/.seeds/KEY. load-images on an engine without images
# or containers (a new droplet) stops that engine, puts hard links to the seed's image/ and overlay2/ in
# its data-root and starts it again (0.3 s of CPU): the layers are read-only lower directories of the
# overlays and the engine replaces its metadata files by rename, so no host writes into another's
# files, and removing an image in one host unlinks only its own links. FLEET_HOSTS_SEED=0 turns it off.
#
# Peerings (a VPC peering): `peer` lets the hosts of two bridges reach each other's addresses
# on them, and nothing else.
# - A router is the network namespace fleet-router.ID (ID: [a-z0-9], at most 12, default
#   "default"; the DigitalOcean simulator uses one per state directory, so two simulators whose
#   VPC ranges overlap never share one): ip_forward on, one veth leg per peered bridge (this
#   machine's end fvr<8 hex> in the bridge; the router's end named like the bridge, with a MAC
#   address fixed by router and bridge, carrying GW/LEN, the bridge's gateway: by convention the
#   .1 of the range, which hosts never get), no other interface. iptables there: FORWARD policy
#   DROP, ACCEPT from leg A to leg B and back for each peered pair, then REJECT (a try fails at
#   once instead of timing out). So peering A-B and B-C does not connect A with C, even for a
#   host that adds a route itself. No conntrack rule: both directions are accepted explicitly,
#   and none lets a flow outlive its peering. INPUT: lo, ICMP and answers only.
# - Every host on BRIDGE_A gets `ip route replace NET_B via GW_A dev ethN` (ethN: its interface
#   on BRIDGE_A), and every host on BRIDGE_B the reverse: the hosts that are up when `peer`
#   runs, and every host that comes up later on one of the bridges (`up` applies the peerings
#   it finds, also to a host that is already up).
# - Frames between a host and a leg stay inside one bridge, so this machine's FLEET-HOSTS rules
#   (-i BR -o BR ACCEPT) pass them; this machine still routes nothing for the hosts.
# - The two networks must not overlap, nor overlap another bridge's network on the same router;
#   a bridge belongs to one router only. `peer` creates missing bridges (like `up`), is
#   idempotent, and takes each host's lock (bounded) to change its routes, so it never races an
#   up or a down of that host.
# - `unpeer` removes the pair's rules and routes, a leg no other pair uses, and the router with
#   its last pair; `unpeer --all` removes every peering (and router) of this machine;
#   `bridge-down` removes the peerings of its bridge first. Records: /run/fleet-hosts/.peerings.
# Logs: /var/log/fleet-world/host-NAME{,-dockerd,-sshd}.log.
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PATH="$PATH:/usr/sbin:/sbin"

HOSTS_DATA="${FLEET_HOSTS_DATA_DIR:-/var/lib/fleet-hosts}"
HOSTS_RUN="${FLEET_HOSTS_RUN_DIR:-/run/fleet-hosts}"
PUB_BRIDGE="${FLEET_HOSTS_BRIDGE:-fleetpub0}"
PUB_GATEWAY="${FLEET_HOSTS_GATEWAY:-10.250.0.1/16}"
OPEN_PORTS="${FLEET_HOSTS_OPEN_PORTS:-}"
DOCKER_WAIT=60
SSHD_WAIT=10
STOP_WAIT=35   # the init itself gives dockerd 25 s (containers: --shutdown-timeout 10)
PEERINGS="$HOSTS_RUN/.peerings"   # ROUTER BRIDGE_A GW_A/LEN BRIDGE_B GW_B/LEN, BRIDGE_A < BRIDGE_B
ROUTER_NS_PREFIX="fleet-router."    # a dot: never the netns of a host (fleet-NAME)

usage() {
    cat >&2 <<'USAGE'
usage: host.sh up NAME PUBLIC_IP[/LEN] [--private BRIDGE:IP[/LEN]]... [--authorized-key FILE]...
       host.sh down NAME [--keep-data] [--abrupt]
       host.sh list
       host.sh restart-docker NAME
       host.sh load-images NAME IMAGE...
       host.sh public-bridge
       host.sh bridge-down BRIDGE
       host.sh peer BRIDGE_A:GW_A/LEN BRIDGE_B:GW_B/LEN [--router ID]
       host.sh unpeer BRIDGE_A BRIDGE_B | --all
       host.sh peerings
USAGE
    exit 2
}

# ---------------------------------------------------------------------------------------------
# names, paths, addresses

check_name() {
    [[ "$1" =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]] \
        || die "bad host name '$1' (lowercase letters, digits and '-', at most 32)"
}

# set_paths NAME: the variables of host NAME
set_paths() {
    H_NAME="$1"
    H_NS="fleet-$1"
    H_DATA="$HOSTS_DATA/$1"
    H_RUN="$HOSTS_RUN/$1"
    H_SOCK="$H_RUN/docker.sock"
    H_INITPID="$H_RUN/init.pid"
    H_ENV="$H_DATA/host.env"
    H_LOG="$LOG_DIR/host-$1.log"
    H_DOCKERD_LOG="$LOG_DIR/host-$1-dockerd.log"
    H_SSHD_LOG="$LOG_DIR/host-$1-sshd.log"
    H_CGROUP="fleet-host-$1"
    # veth names have at most 15 characters: fh + 8 hex of the name + the index
    H_IFPREFIX="fh$(printf '%s' "$1" | sha1sum | cut -c1-8)"
}

# env_get FILE KEY: the value of KEY in a host.env file (empty when missing)
env_get() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1 || true; }

valid_ipv4() {
    local IFS=. o
    [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
    for o in $1; do [ "$o" -le 255 ] || return 1; done
}

ip2int() {
    local IFS=. a b c d
    read -r a b c d <<<"$1"
    echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# cidr_of IP[/LEN] DEFAULT_LEN: IP/LEN, or die
cidr_of() {
    local ip="${1%/*}" len=$2
    [[ "$1" == */* ]] && len="${1#*/}"
    valid_ipv4 "$ip" || die "bad IPv4 address '$1'"
    if ! [[ "$len" =~ ^[0-9]+$ ]] || [ "$len" -lt 8 ] || [ "$len" -gt 30 ]; then
        die "bad prefix length in '$1'"
    fi
    echo "$ip/$len"
}

# in_subnet IP CIDR
in_subnet() {
    local net="${2%/*}" len="${2#*/}" mask
    mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
    [ $(($(ip2int "$1") & mask)) -eq $(($(ip2int "$net") & mask)) ]
}

int2ip() { echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"; }

# net_of IP/LEN: the network NET/LEN
net_of() {
    local len="${1#*/}" mask
    mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
    echo "$(int2ip $(($(ip2int "${1%/*}") & mask)))/$len"
}

# overlaps CIDR CIDR: true when the two networks share an address
overlaps() {
    local l1="${1#*/}" l2="${2#*/}" len mask
    len=$((l1 < l2 ? l1 : l2))
    mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
    [ $(($(ip2int "${1%/*}") & mask)) -eq $(($(ip2int "${2%/*}") & mask)) ]
}

check_bridge_name() {
    [[ "$1" =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die "bad bridge name '$1' (at most 15 characters)"
}

# ---------------------------------------------------------------------------------------------
# processes

# init_pid: the pid (in this machine's PID namespace) of the host's `unshare`, if it runs
init_pid() {
    local pid
    [ -f "$H_INITPID" ] || return 1
    pid="$(cat "$H_INITPID" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    # guard against a reused pid: it must be our unshare for this host
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "host.sh __init $H_NAME " || return 1
    echo "$pid"
}

host_running() { init_pid >/dev/null; }

docker_ping() {
    [ -S "$H_SOCK" ] && [ "$(curl -s --max-time 3 --unix-socket "$H_SOCK" http://localhost/_ping 2>/dev/null || true)" = OK ]
}

ssh_ping() {
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/22" && head -c 4 <&3' _ "$1" 2>/dev/null | grep -q '^SSH-'
}

netns_exists() { [ -e "/run/netns/$H_NS" ] && ip netns list | awk '{print $1}' | grep -qxF "$H_NS"; }

# wait_gone SECONDS PID...: true when every PID is gone within SECONDS
wait_gone() {
    local deadline=$((SECONDS + $1)) p alive
    shift
    while :; do
        alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# stop_host: end the host's process tree (bounded), then any process left in its netns
stop_host() {
    local p c
    if p="$(init_pid)"; then
        c="$(pgrep -P "$p" 2>/dev/null | head -n 1 || true)"
        if [ -n "$c" ]; then
            kill -TERM "$c" 2>/dev/null || true
        fi
        if ! wait_gone "$STOP_WAIT" "$p"; then
            say "host $H_NAME did not stop within $STOP_WAIT s: killing it"
            # the child is the PID namespace's init: its death kills the whole namespace
            if [ -n "$c" ]; then kill -KILL "$c" 2>/dev/null || true; fi
            kill -KILL "$p" 2>/dev/null || true
            wait_gone 10 "$p" || die "host $H_NAME: unshare pid $p survives SIGKILL"
        fi
    fi
    if netns_exists; then
        local pids
        pids="$(ip netns pids "$H_NS" 2>/dev/null | tr '\n' ' ' || true)"
        if [ -n "${pids// /}" ]; then
            say "host $H_NAME: killing processes left in netns $H_NS: $pids"
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null || true
            # shellcheck disable=SC2086
            wait_gone 10 $pids || die "host $H_NAME: processes $pids survive SIGKILL"
        fi
    fi
    rm -f "$H_INITPID"
}

# ---------------------------------------------------------------------------------------------
# network

# firewall_for BRIDGE: accept within the bridge and answers to this machine, reject the rest
# (REJECT rather than DROP so that a host trying the internet fails at once).
ipt_ensure() {  # ipt_ensure CHAIN RULE...: append RULE unless present
    local chain=$1
    shift
    iptables -w 10 -C "$chain" "$@" 2>/dev/null || iptables -w 10 -A "$chain" "$@"
}

firewall_for() {
    local br=$1 chain p
    for chain in FLEET-HOSTS FLEET-HOSTS-IN; do
        iptables -w 10 -n -L "$chain" >/dev/null 2>&1 || iptables -w 10 -N "$chain"
    done
    iptables -w 10 -C FORWARD -j FLEET-HOSTS 2>/dev/null || iptables -w 10 -I FORWARD 1 -j FLEET-HOSTS
    iptables -w 10 -C INPUT -j FLEET-HOSTS-IN 2>/dev/null || iptables -w 10 -I INPUT 1 -j FLEET-HOSTS-IN
    # bridged frames go through FORWARD when br_netfilter is loaded (Docker loads it)
    ipt_ensure FLEET-HOSTS -i "$br" -o "$br" -j ACCEPT
    ipt_ensure FLEET-HOSTS -i "$br" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    ipt_ensure FLEET-HOSTS -i "$br" -p tcp -j REJECT --reject-with tcp-reset
    ipt_ensure FLEET-HOSTS -i "$br" -j REJECT
    if [ -n "$OPEN_PORTS" ]; then
        for p in ${OPEN_PORTS//,/ }; do
            [[ "$p" =~ ^[0-9]+$ ]] || die "bad port '$p' in FLEET_HOSTS_OPEN_PORTS"
            iptables -w 10 -C FLEET-HOSTS-IN -i "$br" -p tcp --dport "$p" -j ACCEPT 2>/dev/null \
                || iptables -w 10 -I FLEET-HOSTS-IN 1 -i "$br" -p tcp --dport "$p" -j ACCEPT
        done
    fi
    ipt_ensure FLEET-HOSTS-IN -i "$br" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    ipt_ensure FLEET-HOSTS-IN -i "$br" -p icmp -j ACCEPT
    ipt_ensure FLEET-HOSTS-IN -i "$br" -p tcp -j REJECT --reject-with tcp-reset
    ipt_ensure FLEET-HOSTS-IN -i "$br" -j REJECT
}

# ensure_bridge BRIDGE [CIDR]: the bridge, up, with CIDR on this machine's side, and its firewall
ensure_bridge() {
    local br=$1 cidr=${2:-}
    if ! ip link show dev "$br" >/dev/null 2>&1; then
        ip link add "$br" type bridge 2>/dev/null || ip link show dev "$br" >/dev/null 2>&1 \
            || die "cannot create bridge $br"
    fi
    # no IPv6 on this machine's side: the hosts would reach it by its link-local address
    sysctl -q -w "net.ipv6.conf.$br.disable_ipv6=1" 2>/dev/null || true
    ip link set dev "$br" up
    if [ -n "$cidr" ] && ! ip -4 -o addr show dev "$br" | awk '{print $4}' | grep -qxF "$cidr"; then
        ip addr add "$cidr" dev "$br"
    fi
    firewall_for "$br"
}

# host_links: this machine's ends of the host's veths
host_links() {
    ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$H_IFPREFIX" || true
}

teardown_net() {
    local l
    for l in $(host_links); do
        ip link del dev "$l" 2>/dev/null || true
    done
    if [ -e "/run/netns/$H_NS" ]; then
        ip netns del "$H_NS" 2>/dev/null || rm -f "/run/netns/$H_NS"
    fi
}

# host_mac CIDR: the MAC address of the host's interface carrying CIDR, fixed (locally administered)
# like a droplet's across power cycles, so that a host started again answers at the address the
# ARP caches of this machine and of its neighbours still hold
host_mac() {
    printf '%s/%s' "$H_NAME" "$1" | sha1sum | sed -E 's/^(..)(..)(..)(..)(..).*/02:\1:\2:\3:\4:\5/'
}

# setup_net: netns, lo, eth0 on the public bridge, eth1.. on the private ones, default route.
# This machine forgets what its ARP cache held for the host's addresses: an address can come back
# on another host (the simulator hands out freed addresses again), and a stale entry leaves the
# host unreachable for several seconds.
setup_net() {
    local i=0 spec br cidr gw="${PUB_GATEWAY%/*}" hl
    ip netns add "$H_NS"
    ip -n "$H_NS" link set dev lo up
    for spec in "$PUB_BRIDGE=$H_PUBLIC_CIDR" "${H_PRIVATE[@]}"; do
        br="${spec%%=*}"
        cidr="${spec#*=}"
        hl="$H_IFPREFIX$i"
        ip link add "$hl" type veth peer name "eth$i" netns "$H_NS"
        sysctl -q -w "net.ipv6.conf.$hl.disable_ipv6=1" 2>/dev/null || true
        ip link set dev "$hl" master "$br"
        ip link set dev "$hl" up
        ip -n "$H_NS" link set dev "eth$i" address "$(host_mac "$cidr")"
        ip -n "$H_NS" addr add "$cidr" dev "eth$i"
        ip -n "$H_NS" link set dev "eth$i" up
        ip neigh del "${cidr%/*}" dev "$br" 2>/dev/null || true
        i=$((i + 1))
    done
    ip -n "$H_NS" route add default via "$gw" dev eth0
}

# ---------------------------------------------------------------------------------------------
# peerings (see the header): records, routers, legs, the hosts' routes

# peer_records: the records, one per line
peer_records() {
    if [ -f "$PEERINGS" ]; then grep -v '^[[:space:]]*$' "$PEERINGS" || true; fi
}

# write_records: stdin becomes the records (atomically: `up` reads them without the lock)
write_records() {
    mkdir -p "$HOSTS_RUN"
    cat >"$PEERINGS.tmp.$$"
    mv "$PEERINGS.tmp.$$" "$PEERINGS"
}

check_router_id() {
    [[ "$1" =~ ^[a-z0-9]{1,12}$ ]] || die "bad router id '$1' (lowercase letters and digits, at most 12)"
}

# leg_name ROUTER BRIDGE: this machine's end of the router's leg into BRIDGE (11 characters)
leg_name() { printf 'fvr%s' "$(printf '%s/%s' "$1" "$2" | sha1sum | cut -c1-8)"; }

# rtr NS CMD...: run CMD in the router's netns
rtr() {
    local ns=$1
    shift
    nsenter --net="/run/netns/$ns" "$@"
}

rtr_ipt_ensure() {  # rtr_ipt_ensure NS CHAIN RULE...: append RULE unless present
    local ns=$1 chain=$2
    shift 2
    rtr "$ns" iptables -w 10 -C "$chain" "$@" 2>/dev/null || rtr "$ns" iptables -w 10 -A "$chain" "$@"
}

rtr_ipt_first() {  # rtr_ipt_first NS CHAIN RULE...: insert RULE first unless present
    local ns=$1 chain=$2
    shift 2
    rtr "$ns" iptables -w 10 -C "$chain" "$@" 2>/dev/null || rtr "$ns" iptables -w 10 -I "$chain" 1 "$@"
}

rtr_ipt_delete() {  # rtr_ipt_delete NS CHAIN RULE...: every copy of RULE
    local ns=$1 chain=$2 n=0
    shift 2
    [ -e "/run/netns/$ns" ] || return 0
    while rtr "$ns" iptables -w 10 -C "$chain" "$@" 2>/dev/null && [ "$n" -lt 20 ]; do
        rtr "$ns" iptables -w 10 -D "$chain" "$@" || true
        n=$((n + 1))
    done
}

# router_ensure ROUTER: its netns with forwarding on and the default-deny firewall
router_ensure() {
    local ns="$ROUTER_NS_PREFIX$1"
    [ -e "/run/netns/$ns" ] || ip netns add "$ns"
    ip -n "$ns" link set dev lo up
    rtr "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
    rtr "$ns" sysctl -q -w net.ipv4.ip_forward=1
    rtr "$ns" iptables -w 10 -P FORWARD DROP
    rtr "$ns" iptables -w 10 -P INPUT DROP
    rtr_ipt_ensure "$ns" INPUT -i lo -j ACCEPT
    rtr_ipt_ensure "$ns" INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    rtr_ipt_ensure "$ns" INPUT -p icmp -j ACCEPT
    # the pairs' ACCEPTs go before these (-I); REJECT, so that a try fails at once
    rtr_ipt_ensure "$ns" FORWARD -p tcp -j REJECT --reject-with tcp-reset
    rtr_ipt_ensure "$ns" FORWARD -j REJECT --reject-with icmp-admin-prohibited
}

# leg_mac ROUTER BRIDGE: the MAC address of the router's end of the leg, fixed (locally
# administered), so that a leg made again (a peering deleted and created again) answers at the
# address the hosts' ARP caches still hold for the gateway
leg_mac() {
    printf '%s/%s' "$1" "$2" | sha1sum | sed -E 's/^.{8}(..)(..)(..)(..)(..).*/02:\1:\2:\3:\4:\5/'
}

# leg_ensure ROUTER BRIDGE GW/LEN: the router's leg into BRIDGE, carrying GW/LEN
leg_ensure() {
    local ns="$ROUTER_NS_PREFIX$1" br=$2 cidr=$3 leg have
    leg="$(leg_name "$1" "$br")"
    if ! ip -n "$ns" link show dev "$br" >/dev/null 2>&1 || ! ip link show dev "$leg" >/dev/null 2>&1; then
        ip -n "$ns" link del dev "$br" 2>/dev/null || true
        ip link del dev "$leg" 2>/dev/null || true
        ip link add "$leg" type veth peer name "$br" netns "$ns"
        ip -n "$ns" link set dev "$br" address "$(leg_mac "$1" "$br")"
    fi
    sysctl -q -w "net.ipv6.conf.$leg.disable_ipv6=1" 2>/dev/null || true
    ip link set dev "$leg" master "$br"
    ip link set dev "$leg" up
    have="$(ip -n "$ns" -4 -o addr show dev "$br" | awk '{print $4}' | tr '\n' ' ')"
    if [ "$have" != "$cidr " ]; then
        ip -n "$ns" addr flush dev "$br"
        ip -n "$ns" addr add "$cidr" dev "$br"
    fi
    ip -n "$ns" link set dev "$br" up
}

# leg_delete ROUTER BRIDGE
leg_delete() {
    local ns="$ROUTER_NS_PREFIX$1"
    ip link del dev "$(leg_name "$1" "$2")" 2>/dev/null || true
    if [ -e "/run/netns/$ns" ]; then ip -n "$ns" link del dev "$2" 2>/dev/null || true; fi
}

# router_delete ROUTER: its legs, then its netns
router_delete() {
    local ns="$ROUTER_NS_PREFIX$1" l
    [ -e "/run/netns/$ns" ] || return 0
    for l in $(ip -n "$ns" -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
        [ "$l" = lo ] || leg_delete "$1" "$l"
    done
    ip netns del "$ns" 2>/dev/null || rm -f "/run/netns/$ns"
}

# drop_records all | pair BRIDGE_A BRIDGE_B | bridge BRIDGE: remove the matching records and what
# only they needed (forwarding rules, legs, routers); prints the removed records. The caller
# holds the network lock.
drop_records() {
    local mode=$1 x=${2:-} y=${3:-} removed kept r rid a ga b gb
    # shellcheck disable=SC2016  # an awk program
    local match='mode == "all" || (mode == "bridge" && ($2 == x || $4 == x)) ||
                 (mode == "pair" && (($2 == x && $4 == y) || ($2 == y && $4 == x)))'
    removed="$(peer_records | awk -v mode="$mode" -v x="$x" -v y="$y" "$match")"
    [ -n "$removed" ] || return 0
    kept="$(peer_records | awk -v mode="$mode" -v x="$x" -v y="$y" "!($match)")"
    { printf '%s\n' "$kept" | grep -v '^$' || true; } | write_records
    while read -r rid a ga b gb; do
        [ -n "$rid" ] || continue
        rtr_ipt_delete "$ROUTER_NS_PREFIX$rid" FORWARD -i "$a" -o "$b" -j ACCEPT
        rtr_ipt_delete "$ROUTER_NS_PREFIX$rid" FORWARD -i "$b" -o "$a" -j ACCEPT
        for r in "$a" "$b"; do
            printf '%s\n' "$kept" | awk -v r="$rid" -v b="$r" '$1 == r && ($2 == b || $4 == b) {f = 1} END {exit !f}' \
                || leg_delete "$rid" "$r"
        done
        printf '%s\n' "$kept" | awk -v r="$rid" '$1 == r {f = 1} END {exit !f}' || router_delete "$rid"
    done <<<"$removed"
    printf '%s\n' "$removed"
}

# hosts_on_bridge BRIDGE: "NAME DEV" for every host with an interface on BRIDGE
hosts_on_bridge() {
    local env name spec i
    for env in "$HOSTS_DATA"/*/host.env; do
        [ -f "$env" ] || continue
        name="$(basename "$(dirname "$env")")"
        i=1
        for spec in $(env_get "$env" PRIVATE); do
            [ "${spec%%=*}" = "$1" ] && echo "$name eth$i"
            i=$((i + 1))
        done
    done
}

# host_routes add|del RECORD...: the routes of the records in every host of their bridges that
# is up, each under the host's lock (bounded); false when a route could not be added
host_routes() {
    local op=$1 rec rid a ga b gb side br gw net name dev fails=()
    shift
    mkdir -p "$HOSTS_RUN/.locks"
    for rec in "$@"; do
        read -r rid a ga b gb <<<"$rec"
        [ -n "$gb" ] || continue
        # hosts on A reach B's network through A's gateway, and the other way round
        for side in "$a $ga $(net_of "$gb")" "$b $gb $(net_of "$ga")"; do
            read -r br gw net <<<"$side"
            while read -r name dev; do
                [ -n "$name" ] || continue
                if ! (
                    set_paths "$name"
                    exec 8>"$HOSTS_RUN/.locks/$name.lock"
                    flock -w 120 8 || { say "host $name: its lock was held for 2 minutes"; exit 1; }
                    netns_exists || exit 0
                    if [ "$op" = add ]; then
                        # a gateway address the host knew at another MAC (an older leg) is asked again
                        ip -n "$H_NS" neigh del "${gw%/*}" dev "$dev" 2>/dev/null || true
                        ip -n "$H_NS" route replace "$net" via "${gw%/*}" dev "$dev"
                    else
                        ip -n "$H_NS" route del "$net" via "${gw%/*}" dev "$dev" 2>/dev/null || true
                    fi
                ); then
                    fails+=("$name")
                fi
            done < <(hosts_on_bridge "$br")
        done
    done
    if [ "${#fails[@]}" -gt 0 ]; then
        say "peering routes: '$op' failed on host(s) ${fails[*]}"
        return 1
    fi
}

# apply_peer_routes: the routes of every peering of this host's bridges (the caller holds the
# host's lock; its bridges are the PRIVATE of its host.env)
apply_peer_routes() {
    local i=1 spec br rid a ga b gb
    for spec in $(env_get "$H_ENV" PRIVATE); do
        br="${spec%%=*}"
        while read -r rid a ga b gb; do
            [ -n "$gb" ] || continue
            if [ "$a" = "$br" ]; then
                ip -n "$H_NS" route replace "$(net_of "$gb")" via "${ga%/*}" dev "eth$i" || return 1
            elif [ "$b" = "$br" ]; then
                ip -n "$H_NS" route replace "$(net_of "$ga")" via "${gb%/*}" dev "eth$i" || return 1
            fi
        done < <(peer_records)
        i=$((i + 1))
    done
}

# peer_spec BRIDGE:GW/LEN -> "BRIDGE GW/LEN", or die
peer_spec() {
    local br="${1%%:*}" cidr
    [[ "$1" == *:*/* ]] || die "a peering side is BRIDGE:GW/LEN, not '$1'"
    check_bridge_name "$br"
    [ "$br" != "$PUB_BRIDGE" ] || die "the public bridge $br cannot be peered"
    cidr="$(cidr_of "${1#*:}" 16)"
    [ "$(net_of "$cidr")" != "$cidr" ] || die "$cidr is a network address, not a gateway"
    echo "$br $cidr"
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_up() {
    [ "$#" -ge 2 ] || usage
    local name=$1 pub=$2 keys=() spec br ip k
    shift 2
    check_name "$name"
    set_paths "$name"
    H_PUBLIC_CIDR="$(cidr_of "$pub" "${PUB_GATEWAY#*/}")"
    H_PUBLIC_IP="${H_PUBLIC_CIDR%/*}"
    H_PRIVATE=()
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --private)
                [ "$#" -ge 2 ] || usage
                spec=$2
                [[ "$spec" == *:* ]] || die "--private wants BRIDGE:IP[/LEN], not '$spec'"
                br="${spec%%:*}"
                check_bridge_name "$br"
                [ "$br" != "$PUB_BRIDGE" ] || die "--private bridge $br is the public bridge"
                H_PRIVATE+=("$br=$(cidr_of "${spec#*:}" 16)")
                shift 2 ;;
            --authorized-key)
                [ "$#" -ge 2 ] || usage
                [ -r "$2" ] || die "cannot read authorized key file '$2'"
                keys+=("$2")
                shift 2 ;;
            *) usage ;;
        esac
    done
    need_root
    in_subnet "$H_PUBLIC_IP" "$PUB_GATEWAY" \
        || die "public IP $H_PUBLIC_IP is outside the public bridge's subnet $PUB_GATEWAY"
    [ "$H_PUBLIC_IP" != "${PUB_GATEWAY%/*}" ] || die "public IP $H_PUBLIC_IP is the gateway's"
    for k in sshd ssh-keygen dockerd docker nsenter unshare curl iptables; do
        command -v "$k" >/dev/null 2>&1 \
            || die "$k is missing (apt-get install openssh-server docker.io util-linux curl iptables)"
    done
    local start
    start="$(now)"

    mkdir -p "$HOSTS_RUN/.locks"
    exec 8>"$HOSTS_RUN/.locks/$name.lock"
    flock -w 120 8 || die "another host.sh held the lock of host $name for 2 minutes"

    if host_running; then
        local was
        was="$(env_get "$H_ENV" PUBLIC_CIDR)"
        [ "$was" = "$H_PUBLIC_CIDR" ] || die "host $name is already up with public address $was"
        if docker_ping && ssh_ping "$H_PUBLIC_IP"; then
            add_keys "${keys[@]}"
            apply_peer_routes || die "host $name: the routes of its peerings could not be set"
            say "host $name is already up at $H_PUBLIC_IP"
            return 0
        fi
        say "host $name runs but its engine or sshd does not answer: restarting it"
    fi
    # a public IP in use by another running host would make both unreachable
    local other
    for other in "$HOSTS_DATA"/*/host.env; do
        [ -f "$other" ] || continue
        [ "$other" = "$H_ENV" ] && continue
        if [ "$(env_get "$other" PUBLIC_IP)" = "$H_PUBLIC_IP" ]; then
            ( set_paths "$(basename "$(dirname "$other")")" && host_running ) \
                && die "public IP $H_PUBLIC_IP belongs to running host $(basename "$(dirname "$other")")"
        fi
    done

    # leftovers of a crashed or half-started host
    stop_host
    teardown_net
    rm -rf "$H_RUN"

    mkdir -p "$H_RUN" "$H_DATA/docker" "$H_DATA/local" "$H_DATA/ssh" /run/sshd /local
    chmod 0700 "$H_DATA" "$H_DATA/ssh"
    chmod 0755 /run/sshd
    [ -f "$H_DATA/authorized_keys" ] || install -m 0600 /dev/null "$H_DATA/authorized_keys"
    add_keys "${keys[@]}"
    for k in ed25519 ecdsa; do
        [ -f "$H_DATA/ssh/ssh_host_${k}_key" ] \
            || ssh-keygen -q -t "$k" -N '' -C "root@$name" -f "$H_DATA/ssh/ssh_host_${k}_key"
    done
    write_configs
    # the storage driver of this machine's engine, fixed for the life of the data-root
    if [ ! -s "$H_DATA/storage-driver" ]; then
        k="${FLEET_HOSTS_STORAGE_DRIVER:-$(timeout 20 docker info -f '{{.Driver}}' 2>/dev/null || true)}"
        echo "${k:-overlay2}" >"$H_DATA/storage-driver"
    fi

    (
        flock -w 60 9 || die "another host.sh held $HOSTS_RUN/.locks/network.lock for a minute"
        ensure_bridge "$PUB_BRIDGE" "$PUB_GATEWAY"
        for spec in "${H_PRIVATE[@]}"; do ensure_bridge "${spec%%=*}"; done
    ) 9>"$HOSTS_RUN/.locks/network.lock"
    if ! setup_net || ! apply_peer_routes; then
        teardown_net
        die "network setup of host $name failed"
    fi

    local pid
    say "starting host $name at $H_PUBLIC_IP (log: $H_LOG)"
    pid="$(start_daemon "$H_LOG" nsenter --net="/run/netns/$H_NS" \
        unshare --mount --propagation private --uts --pid --fork --kill-child --mount-proc \
        bash "$WORLD_DIR/host.sh" __init "$name")"
    echo "$pid" >"$H_INITPID"

    local deadline=$((SECONDS + DOCKER_WAIT))
    until docker_ping; do
        kill -0 "$pid" 2>/dev/null || fail_up "host $name ended during its start" "$H_DOCKERD_LOG"
        [ "$SECONDS" -lt "$deadline" ] || fail_up "the engine of host $name did not answer within $DOCKER_WAIT s" "$H_DOCKERD_LOG"
        sleep 0.3
    done
    deadline=$((SECONDS + SSHD_WAIT))
    until ssh_ping "$H_PUBLIC_IP"; do
        kill -0 "$pid" 2>/dev/null || fail_up "host $name ended during its start" "$H_LOG"
        [ "$SECONDS" -lt "$deadline" ] || fail_up "sshd of host $name did not answer on $H_PUBLIC_IP:22 within $SSHD_WAIT s" "$H_SSHD_LOG"
        sleep 0.2
    done
    say "host $name up at $H_PUBLIC_IP ($(elapsed "$start") s)"
}

# fail_up MESSAGE LOG: leave nothing half-started behind (data stays), then die
fail_up() {
    stop_host || true
    teardown_net
    die "$1" "$2"
}

add_keys() {
    local f line
    for f in "$@"; do
        while IFS= read -r line || [ -n "$line" ]; do
            [ -n "$line" ] || continue
            grep -qxF -- "$line" "$H_DATA/authorized_keys" || printf '%s\n' "$line" >>"$H_DATA/authorized_keys"
        done <"$f"
    done
}

write_configs() {
    local d
    # KEY=VALUE lines (read with env_get; PRIVATE: BRIDGE=IP/LEN, space-separated)
    printf 'NAME=%s\nPUBLIC_IP=%s\nPUBLIC_CIDR=%s\nPRIVATE=%s\n' \
        "$H_NAME" "$H_PUBLIC_IP" "$H_PUBLIC_CIDR" "${H_PRIVATE[*]}" >"$H_ENV.tmp"
    mv "$H_ENV.tmp" "$H_ENV"
    if [ -f /etc/skel/.bashrc ]; then cp /etc/skel/.bashrc "$H_DATA/bashrc"; else : >"$H_DATA/bashrc"; fi
    # its own (empty) daemon.json: never this machine's /etc/docker/daemon.json
    [ -f "$H_DATA/daemon.json" ] || echo '{}' >"$H_DATA/daemon.json"
    # its own cron and systemd configuration (a fresh droplet's: empty), bound over this machine's in the host
    mkdir -p "$H_DATA/etc/cron.d" "$H_DATA/etc/systemd-system"
    [ -f "$H_DATA/etc/crontab" ] || printf 'SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n' >"$H_DATA/etc/crontab"
    d="$H_DATA/ssh"
    cat >"$d/sshd_config.tmp" <<CONF
# generated by tests/world/host.sh for host $H_NAME
ListenAddress 0.0.0.0:22
HostKey $d/ssh_host_ed25519_key
HostKey $d/ssh_host_ecdsa_key
PidFile $H_RUN/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile $H_DATA/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
X11Forwarding no
PrintMotd no
AcceptEnv LANG LC_*
MaxStartups 100:30:200
MaxSessions 100
Subsystem sftp internal-sftp
CONF
    mv "$d/sshd_config.tmp" "$d/sshd_config"
}

# start_cron_and_units (in the init): Debian's cron with the host's own /etc/cron.d, /etc/crontab and pid
# file ($cpid), and the unit supervisor ($upid, see supervise_units). Needs $H_* and log.
start_cron_and_units() {
    local target
    [ -e /run/crond.pid ] || : >/run/crond.pid 2>/dev/null || true
    : >"$H_RUN/crond.pid"
    mount --bind "$H_DATA/etc/cron.d" /etc/cron.d
    mount --bind "$H_DATA/etc/crontab" /etc/crontab
    mount --bind "$H_RUN/crond.pid" /run/crond.pid
    target=/etc/systemd/system
    mkdir -p "$target"
    mount --bind "$H_DATA/etc/systemd-system" "$target"
    log "starting cron and the unit supervisor (logs: $H_LOG, $LOG_DIR/host-$H_NAME-units.log)"
    /usr/sbin/cron -f -L 1 >>"$H_LOG" 2>&1 </dev/null &
    cpid=$!
    supervise_units >>"$LOG_DIR/host-$H_NAME-units.log" 2>&1 </dev/null &
    upid=$!
}

# supervise_units: what systemd does for the fleet's units on a droplet, in small: every second, each
# /etc/systemd/system/fleet-*.service runs its ExecStart (with its Environment= lines) and is started
# again RestartSec (2 s) after it exits; a unit whose file changed is restarted (the health_agent module
# changes the unit when the agent's program or settings change), a unit whose file is gone is stopped.
supervise_units() {
    set +e   # a unit file that vanishes mid-round must not end the supervisor
    declare -A pids=() sums=() since=()
    local unit name sum cmd envs now
    trap 'for name in "${!pids[@]}"; do kill -TERM "${pids[$name]}" 2>/dev/null; done; exit 0' TERM INT
    while :; do
        now=$SECONDS
        for name in "${!pids[@]}"; do
            if [ ! -f "/etc/systemd/system/$name" ]; then
                echo "$(date '+%F %T') $name: unit removed, stopping"
                kill -TERM "${pids[$name]}" 2>/dev/null || true
                unset "pids[$name]" "sums[$name]" "since[$name]"
            fi
        done
        for unit in /etc/systemd/system/fleet-*.service; do
            [ -f "$unit" ] || continue
            name="${unit##*/}"
            sum="$(sha256sum "$unit" 2>/dev/null | cut -c1-16)"
            [ -n "$sum" ] || continue
            if [ -n "${pids[$name]:-}" ] && kill -0 "${pids[$name]}" 2>/dev/null; then
                [ "${sums[$name]}" = "$sum" ] && continue
                echo "$(date '+%F %T') $name: unit changed, restarting"
                kill -TERM "${pids[$name]}" 2>/dev/null || true
                wait "${pids[$name]}" 2>/dev/null || true
            elif [ -n "${pids[$name]:-}" ]; then
                wait "${pids[$name]}" 2>/dev/null || true
                # exited: Restart=always, RestartSec=2
                [ "$((now - ${since[$name]:-0}))" -ge 2 ] || continue
                echo "$(date '+%F %T') $name: exited, starting again"
            fi
            cmd="$(sed -n 's/^ExecStart=//p' "$unit" | head -n 1)"
            envs="$(sed -n 's/^Environment=//p' "$unit" | tr '\n' ' ')"
            [ -n "$cmd" ] || continue
            # shellcheck disable=SC2086  # the unit's words, as systemd splits them
            env $envs $cmd >>"$LOG_DIR/host-$H_NAME-units.log" 2>&1 </dev/null &
            pids[$name]=$!
            sums[$name]=$sum
            since[$name]=$SECONDS
            echo "$(date '+%F %T') $name: started (pid ${pids[$name]}): $cmd"
        done
        sleep 1
    done
}

# __init NAME: pid 1 of the host's PID namespace, inside its netns, mount and UTS namespaces
cmd_init() {
    local name=$1 driver mp dpid spid cpid upid deadline
    set_paths "$name"
    log() { echo "$(date '+%F %T') host $name: $*"; }
    log "init starting"
    hostname "$name"
    # Drop this namespace's copies of other namespaces' mounts: they would pin other hosts'
    # netns and this machine's containers (netns, overlays) for as long as this host lives.
    awk '{print $5}' /proc/self/mountinfo \
        | grep -E "^(/run/netns|/run/docker|/var/lib/docker|/run/containerd|$HOSTS_DATA|$HOSTS_RUN)/" \
        | sort -r | while read -r mp; do umount -l "$mp" 2>/dev/null || true; done || true
    # a sysfs of this netns (like `ip netns exec`), keeping the cgroup hierarchies
    mkdir -p "$H_RUN/sys"
    mount -t sysfs sysfs "$H_RUN/sys"
    mount --rbind /sys/fs/cgroup "$H_RUN/sys/fs/cgroup"
    umount -R -l /sys
    mount --move "$H_RUN/sys" /sys
    # dockerd must start its own containerd, never a system one at /run/containerd
    if [ -d /run/containerd ]; then mount -t tmpfs -o mode=0711 tmpfs /run/containerd; fi
    mount --bind "$H_DATA/local" /local
    # root's shell start-up file is a fresh droplet's (Debian's skeleton), not this machine's: sshd runs
    # every command through bash, which reads ~/.bashrc, and this machine's may run tools (pyenv's
    # rehash, with a lock all hosts would share) on each of them
    if [ -f /root/.bashrc ]; then mount --bind "$H_DATA/bashrc" /root/.bashrc; fi

    driver="$(cat "$H_DATA/storage-driver" 2>/dev/null || true)"
    # start_dockerd: dockerd in the background ($dpid), its socket at the standard paths, bounded wait
    start_dockerd() {
        rm -f "$H_RUN/docker.pid" "$H_SOCK"
        log "starting dockerd (storage driver ${driver:-default}; log: $H_DOCKERD_LOG)"
        dockerd --config-file "$H_DATA/daemon.json" \
            --data-root "$H_DATA/docker" --exec-root "$H_RUN/exec" --pidfile "$H_RUN/docker.pid" \
            -H "unix://$H_SOCK" --cgroup-parent "/$H_CGROUP" --shutdown-timeout 10 \
            ${driver:+--storage-driver "$driver"} >>"$H_DOCKERD_LOG" 2>&1 </dev/null &
        dpid=$!
        local deadline=$((SECONDS + DOCKER_WAIT)) path
        until [ -S "$H_SOCK" ]; do
            kill -0 "$dpid" 2>/dev/null || { log "dockerd exited"; return 1; }
            [ "$SECONDS" -lt "$deadline" ] || { log "no $H_SOCK within $DOCKER_WAIT s"; return 1; }
            sleep 0.2
        done
        # the standard socket paths are the host's own engine (bound again after a restart: a new
        # dockerd makes a new socket file)
        for path in /run/docker.sock /var/run/docker.sock; do
            [ "$path" = /var/run/docker.sock ] && [ "$(readlink -f /var/run)" = /run ] && continue
            umount "$path" 2>/dev/null || true
            [ -e "$path" ] || : >"$path"
            mount --bind "$H_SOCK" "$path"
        done
    }
    start_dockerd || exit 1
    # what a droplet's systemd starts besides: cron, and the fleet's own units (the health agent)
    start_cron_and_units
    log "starting sshd (log: $H_SSHD_LOG)"
    /usr/sbin/sshd -D -e -f "$H_DATA/ssh/sshd_config" >>"$H_SSHD_LOG" 2>&1 </dev/null &
    spid=$!

    stop() {
        trap - TERM INT HUP
        log "stopping"
        kill -TERM "$spid" "$dpid" "$cpid" "$upid" 2>/dev/null || true
        local deadline=$((SECONDS + 25))
        while kill -0 "$dpid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        kill -0 "$dpid" 2>/dev/null && log "dockerd did not stop within 25 s"
        log "init exits (the kernel kills whatever is left in the host)"
        exit 0
    }
    trap stop TERM INT HUP
    # USR1 (host.sh restart-docker): a Docker daemon restart, as `systemctl restart docker` on a droplet
    stop_dockerd() {
        kill -TERM "$dpid" 2>/dev/null || true
        local deadline=$((SECONDS + 25))
        while kill -0 "$dpid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        kill -KILL "$dpid" 2>/dev/null || true
        wait "$dpid" 2>/dev/null || true
    }
    restart_dockerd() {
        log "restarting dockerd"
        stop_dockerd
        start_dockerd || log "dockerd did not come back"
        live=("$dpid" "$spid")
    }
    trap restart_dockerd USR1
    # USR2 (host.sh load-images on an engine without images or containers): dockerd stopped, its image
    # store replaced by hard links to the seed named in $H_RUN/seed-from, dockerd started again
    seed_dockerd() {
        local from
        from="$(cat "$H_RUN/seed-from" 2>/dev/null || true)"
        rm -f "$H_RUN/seed-from"
        log "seeding the image store from ${from:-nothing}"
        stop_dockerd
        if [ -n "$from" ] && [ -d "$from/image" ] && [ -d "$from/overlay2" ]; then
            rm -rf "$H_DATA/docker/image" "$H_DATA/docker/overlay2"
            cp -al "$from/image" "$from/overlay2" "$H_DATA/docker/" || log "seeding from $from failed"
        fi
        start_dockerd || log "dockerd did not come back"
        live=("$dpid" "$spid")
    }
    trap seed_dockerd USR2
    # as PID 1 bash also reaps the orphans of the namespace
    live=("$dpid" "$spid")
    local p still
    while [ "${#live[@]}" -gt 0 ]; do
        wait -n "${live[@]}" || true
        still=()
        for p in "${live[@]}"; do
            if kill -0 "$p" 2>/dev/null; then still+=("$p"); else log "$([ "$p" = "$dpid" ] && echo dockerd || echo sshd) exited"; fi
        done
        live=("${still[@]}")
    done
    log "dockerd and sshd are gone: init exits"
}

cmd_restart_docker() {
    [ "$#" -eq 1 ] || usage
    local name=$1
    check_name "$name"
    set_paths "$name"
    init_pid >/dev/null || die "host $name is not running"
    engine_signal USR1
    say "host $name: dockerd restarted"
}

# engine_signal SIGNAL: send SIGNAL to the host's init (USR1: restart dockerd; USR2: restart it on a seed) and
# wait, bounded, for the new dockerd to answer
engine_signal() {
    local pid init before deadline
    pid="$(init_pid)" || die "host $H_NAME is not running"
    init="$(pgrep -P "$pid" | head -n 1)" || die "host $H_NAME has no init process"
    before="$(cat "$H_RUN/docker.pid" 2>/dev/null || true)"
    kill "-$1" "$init"
    deadline=$((SECONDS + STOP_WAIT + DOCKER_WAIT))
    until [ -s "$H_RUN/docker.pid" ] && [ "$(cat "$H_RUN/docker.pid" 2>/dev/null)" != "$before" ] && docker_ping; do
        [ "$SECONDS" -lt "$deadline" ] || die "the engine of host $H_NAME did not come back within $((STOP_WAIT + DOCKER_WAIT)) s"
        sleep 0.2
    done
}

cmd_down() {
    [ "$#" -ge 1 ] || usage
    local name=$1 keep=0 abrupt=0 start
    shift
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --keep-data) keep=1; shift ;;
            --abrupt) abrupt=1; shift ;;
            *) usage ;;
        esac
    done
    check_name "$name"
    set_paths "$name"
    need_root
    start="$(now)"
    mkdir -p "$HOSTS_RUN/.locks"
    exec 8>"$HOSTS_RUN/.locks/$name.lock"
    flock -w 120 8 || die "another host.sh held the lock of host $name for 2 minutes"

    if [ "$abrupt" = 1 ]; then
        # a destroyed machine: off the network at once, then every process killed, no shutdown
        local l p
        for l in $(host_links); do ip link del dev "$l" 2>/dev/null || true; done
        if p="$(init_pid)"; then
            # shellcheck disable=SC2046
            kill -KILL "$p" $(pgrep -P "$p" 2>/dev/null || true) 2>/dev/null || true
            wait_gone 10 "$p" || die "host $H_NAME: unshare pid $p survives SIGKILL"
        fi
    fi
    stop_host
    teardown_net
    # the cgroups the host's engine made for its containers
    local c
    for c in /sys/fs/cgroup/*/"$H_CGROUP"; do
        if [ -d "$c" ]; then find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true; fi
    done
    rm -rf "$H_RUN"
    if [ "$keep" = 0 ] && [ -d "$H_DATA" ]; then
        # the host's mounts lived in its own (now gone) mount namespace; refuse to delete
        # through a mount that is visible here
        if awk '{print $5}' /proc/self/mountinfo | grep -q "^$H_DATA/"; then
            die "mounts under $H_DATA are still visible; not deleting it"
        fi
        rm -rf --one-file-system "$H_DATA"
    fi
    say "host $name down ($(elapsed "$start") s)"
}

cmd_list() {
    local d name status ip
    declare -A seen=()
    for d in "$HOSTS_DATA"/*/ "$HOSTS_RUN"/*/; do
        [ -d "$d" ] || continue
        name="$(basename "$d")"
        [ -n "${seen[$name]:-}" ] && continue
        seen[$name]=1
        set_paths "$name"
        ip="$(env_get "$H_ENV" PUBLIC_IP)"
        ip="${ip:--}"
        if host_running; then
            if docker_ping && ssh_ping "$ip"; then status=up; else status=degraded; fi
        else
            status=down
        fi
        printf '%s %s %s\n' "$name" "$ip" "$status"
    done
}

# missing_images IMAGE...: MISSING = those the host's engine lacks (or has with another id than this machine's)
missing_images() {
    local img id
    MISSING=()
    for img in "$@"; do
        id="$(docker image inspect -f '{{.Id}}' "$img" 2>/dev/null)" || die "image $img is not in this machine's engine"
        if [ "$(docker -H "unix://$H_SOCK" image inspect -f '{{.Id}}' "$img" 2>/dev/null || true)" != "$id" ]; then
            MISSING+=("$img")
        fi
    done
}

# seed_for DRIVER IMAGE...: the seed (an image store holding these images) for this storage driver, made
# once per machine by a throwaway dockerd (its own mount, network and PID namespaces; no bridge, no iptables)
seed_for() {
    local driver=$1 key dir
    shift
    key="$( { echo "$driver"; for img in "$@"; do echo "$img=$(docker image inspect -f '{{.Id}}' "$img")"; done | sort; } \
            | sha256sum | cut -c1-16)"
    dir="$HOSTS_DATA/.seeds/$key"
    if [ ! -e "$dir/.complete" ]; then
        mkdir -p "$HOSTS_DATA/.seeds" "$HOSTS_RUN/.locks"
        (
            flock -w 600 9 || die "another host.sh held the lock of seed $key for 10 minutes"
            [ -e "$dir/.complete" ] || make_seed "$dir" "$driver" "$@"
        ) 9>"$HOSTS_RUN/.locks/seed-$key.lock" || return 1
    fi
    echo "$dir"
}

make_seed() {
    local dir=$1 driver=$2 run
    shift 2
    run="$HOSTS_RUN/.seed-$(basename "$dir")"
    rm -rf "$dir.tmp" "$run"
    mkdir -p "$dir.tmp" "$run"
    echo '{}' >"$run/daemon.json"
    # seeds of images no longer in use go (made more than a week ago)
    find "$HOSTS_DATA/.seeds" -mindepth 1 -maxdepth 1 -type d -mtime +7 ! -path "$dir*" -exec rm -rf {} + 2>/dev/null || true
    # shellcheck disable=SC2016  # the script's own variables, from its arguments
    timeout 600 unshare --mount --net --pid --fork --kill-child --propagation private bash -c '
        set -e
        run=$1 root=$2 driver=$3
        shift 3
        if [ -d /run/containerd ]; then mount -t tmpfs -o mode=0711 tmpfs /run/containerd; fi
        dockerd --config-file "$run/daemon.json" --data-root "$root" --exec-root "$run/exec" \
            --pidfile "$run/docker.pid" -H "unix://$run/docker.sock" --bridge=none --iptables=false \
            --storage-driver "$driver" >"$run/dockerd.log" 2>&1 </dev/null &
        dpid=$!
        for _ in $(seq 300); do docker -H "unix://$run/docker.sock" info >/dev/null 2>&1 && break; sleep 0.2; done
        docker save "$@" | docker -H "unix://$run/docker.sock" load >"$run/load.log"
        kill -TERM "$dpid"
        wait "$dpid" || true
    ' seed "$run" "$dir.tmp" "$driver" "$@" || { rm -rf "$dir.tmp" "$run"; return 1; }
    find "$dir.tmp" -mindepth 1 -maxdepth 1 ! -name image ! -name overlay2 -exec rm -rf {} +
    rm -rf "$run"
    if [ ! -d "$dir.tmp/image" ] || [ ! -d "$dir.tmp/overlay2" ]; then rm -rf "$dir.tmp"; return 1; fi
    touch "$dir.tmp/.complete"
    mv "$dir.tmp" "$dir"
}

# seed_engine IMAGE...: the host's engine (no images, no containers) restarted on a seed of these images
seed_engine() {
    local seed
    seed="$(seed_for "$(cat "$H_DATA/storage-driver")" "$@")" || return 1
    echo "$seed" >"$H_RUN/seed-from"
    engine_signal USR2
}

cmd_load_images() {
    [ "$#" -ge 2 ] || usage
    local name=$1 start MISSING=()
    shift
    check_name "$name"
    set_paths "$name"
    if ! host_running || ! docker_ping; then die "host $name is not up"; fi
    start="$(now)"
    missing_images "$@"
    [ "${#MISSING[@]}" -gt 0 ] || return 0
    if [ "${FLEET_HOSTS_SEED:-1}" = 1 ] \
            && [ "$(docker -H "unix://$H_SOCK" info -f '{{.Images}} {{.Containers}}' 2>/dev/null)" = "0 0" ]; then
        if seed_engine "$@"; then
            missing_images "$@"
            [ "${#MISSING[@]}" -gt 0 ] || { say "seeded host $name with $* ($(elapsed "$start") s)"; return 0; }
        else
            say "seeding host $name failed; loading the images instead"
        fi
    fi
    local log="$LOG_DIR/host-$name-load.log"
    if ! timeout 900 docker save "${MISSING[@]}" | timeout 900 docker -H "unix://$H_SOCK" load >>"$log" 2>&1; then
        die "loading ${MISSING[*]} into host $name failed" "$log"
    fi
    say "loaded ${MISSING[*]} into host $name ($(elapsed "$start") s)"
}

cmd_public_bridge() {
    # the public bridge and this machine's address on it (10.250.0.1), without any host: a test that serves
    # the hosts from this machine (a mail sink) binds there before its first host is up
    [ "$#" -eq 0 ] || usage
    need_root
    mkdir -p "$HOSTS_RUN/.locks"
    (
        flock -w 60 9 || die "another host.sh held $HOSTS_RUN/.locks/network.lock for a minute"
        ensure_bridge "$PUB_BRIDGE" "$PUB_GATEWAY"
    ) 9>"$HOSTS_RUN/.locks/network.lock"
}

cmd_bridge_down() {
    [ "$#" -eq 1 ] || usage
    local br=$1 chain rule ports removed l removed_lines=()
    check_bridge_name "$br"
    need_root
    mkdir -p "$HOSTS_RUN/.locks"
    exec 9>"$HOSTS_RUN/.locks/network.lock"
    flock -w 60 9 || die "another host.sh held $HOSTS_RUN/.locks/network.lock for a minute"
    # its peerings first (their routes in the hosts of the other bridges: without the network
    # lock, as host_routes takes host locks and `up` takes the network lock under its host lock)
    removed="$(drop_records bridge "$br")"
    if [ -n "$removed" ]; then
        flock -u 9
        mapfile -t removed_lines <<<"$removed"
        host_routes del "${removed_lines[@]}" || true
        flock -w 60 9 || die "another host.sh held $HOSTS_RUN/.locks/network.lock for a minute"
    fi
    if ip link show dev "$br" >/dev/null 2>&1; then
        # legs of routers (fvr...) are no hosts: a leg without a peering is a leftover
        for l in $(ip -o link show master "$br" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^fvr' || true); do
            ip link del dev "$l" 2>/dev/null || true
        done
        ports="$(ip -o link show master "$br" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | tr '\n' ' ')"
        [ -z "${ports// /}" ] || die "bridge $br still has hosts (ports: $ports)"
        ip link del dev "$br"
    fi
    for chain in FLEET-HOSTS FLEET-HOSTS-IN; do
        iptables -w 10 -S "$chain" 2>/dev/null | awk -v c="$chain" -v b="$br" '$1 == "-A" && $2 == c && $3 == "-i" && $4 == b' | while read -r rule; do
            # shellcheck disable=SC2086  # the rule as iptables -S prints it, word-split again
            iptables -w 10 -D ${rule#-A } || true
        done || true
    done
    say "bridge $br down"
}

cmd_peer() {
    local router=default args=() sa sb a ga b gb rid x gx y gy pair br gw mine mb mg rec
    while [ "$#" -gt 0 ]; do
        case "$1" in
            --router) [ "$#" -ge 2 ] || usage; router=$2; shift 2 ;;
            -*) usage ;;
            *) args+=("$1"); shift ;;
        esac
    done
    [ "${#args[@]}" -eq 2 ] || usage
    check_router_id "$router"
    sa="$(peer_spec "${args[0]}")"
    sb="$(peer_spec "${args[1]}")"
    read -r a ga <<<"$sa"
    read -r b gb <<<"$sb"
    [ "$a" != "$b" ] || die "bridge $a cannot be peered with itself"
    ! overlaps "$ga" "$gb" || die "the networks $(net_of "$ga") and $(net_of "$gb") overlap"
    if [[ "$a" > "$b" ]]; then
        read -r a ga b gb <<<"$b $gb $a $ga"
    fi
    need_root
    command -v nsenter >/dev/null 2>&1 || die "nsenter is missing (apt-get install util-linux)"
    local start
    start="$(now)"
    mkdir -p "$HOSTS_RUN/.locks"
    exec 9>"$HOSTS_RUN/.locks/network.lock"
    flock -w 60 9 || die "another host.sh held $HOSTS_RUN/.locks/network.lock for a minute"
    rec="$router $a $ga $b $gb"
    while read -r rid x gx y gy; do
        if [ -z "$gy" ] || [ "$rid $x $gx $y $gy" = "$rec" ]; then continue; fi
        for pair in "$x $gx" "$y $gy"; do
            read -r br gw <<<"$pair"
            for mine in "$a $ga" "$b $gb"; do
                read -r mb mg <<<"$mine"
                if [ "$br" = "$mb" ]; then
                    [ "$rid" = "$router" ] || die "bridge $mb is peered through router $rid, not $router"
                    [ "$gw" = "$mg" ] || die "bridge $mb is peered with gateway $gw, not $mg"
                elif [ "$rid" = "$router" ] && overlaps "$gw" "$mg"; then
                    die "$mg ($mb) overlaps $gw of bridge $br on router $router"
                fi
            done
        done
    done < <(peer_records)
    # the record first: `unpeer` can then undo a half-done peering, and a host coming up from
    # now on applies it (the hosts already up get it below)
    if ! peer_records | grep -qxF "$rec"; then
        { peer_records; echo "$rec"; } | write_records
    fi
    ensure_bridge "$a"
    ensure_bridge "$b"
    router_ensure "$router"
    leg_ensure "$router" "$a" "$ga"
    leg_ensure "$router" "$b" "$gb"
    rtr_ipt_first "$ROUTER_NS_PREFIX$router" FORWARD -i "$a" -o "$b" -j ACCEPT
    rtr_ipt_first "$ROUTER_NS_PREFIX$router" FORWARD -i "$b" -o "$a" -j ACCEPT
    flock -u 9
    host_routes add "$rec" || die "peering $a - $b: routes missing on some hosts"
    say "peered $a ($ga) and $b ($gb) through $ROUTER_NS_PREFIX$router ($(elapsed "$start") s)"
}

cmd_unpeer() {
    local removed ns removed_lines=()
    if [ "$#" -eq 1 ] && [ "$1" = --all ]; then
        :
    elif [ "$#" -eq 2 ] && [[ "$1" != -* ]] && [[ "$2" != -* ]]; then
        check_bridge_name "$1"
        check_bridge_name "$2"
    else
        usage
    fi
    need_root
    mkdir -p "$HOSTS_RUN/.locks"
    exec 9>"$HOSTS_RUN/.locks/network.lock"
    flock -w 60 9 || die "another host.sh held $HOSTS_RUN/.locks/network.lock for a minute"
    if [ "$1" = --all ]; then
        removed="$(drop_records all)"
        # routers no record knows of (a crash between their creation and the record's removal)
        for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -F "$ROUTER_NS_PREFIX" || true); do
            [[ "$ns" == "$ROUTER_NS_PREFIX"* ]] && router_delete "${ns#"$ROUTER_NS_PREFIX"}"
        done
    else
        removed="$(drop_records pair "$1" "$2")"
    fi
    flock -u 9
    if [ -n "$removed" ]; then
        mapfile -t removed_lines <<<"$removed"
        host_routes del "${removed_lines[@]}" || true
    fi
    if [ -n "$removed" ]; then say "unpeered ${#removed_lines[@]} peering(s)"; else say "no such peering"; fi
}

cmd_peerings() {
    [ "$#" -eq 0 ] || usage
    peer_records
}

[ "$#" -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    list) cmd_list "$@" ;;
    restart-docker) cmd_restart_docker "$@" ;;
    load-images) cmd_load_images "$@" ;;
    bridge-down) cmd_bridge_down "$@" ;;
    public-bridge) cmd_public_bridge "$@" ;;
    peer) cmd_peer "$@" ;;
    unpeer) cmd_unpeer "$@" ;;
    peerings) cmd_peerings "$@" ;;
    __init) cmd_init "$@" ;;
    -h|--help|help) usage ;;
    *) usage ;;
esac
