#!/usr/bin/env bash
# Build the base image fleet-world/base:bookworm from a `debootstrap --variant=minbase bookworm`
# rootfs. The rootfs tarball is cached in /var/cache/fleet-world/ and reused; nothing is done
# when the image already exists. Mirrors come from this machine's apt sources (default
# http://deb.debian.org/debian and http://deb.debian.org/debian-security), or from
# FLEET_WORLD_MIRROR / FLEET_WORLD_SECURITY_MIRROR.
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUITE=bookworm
# Bump when the rootfs recipe below changes: the cached tarball is keyed by it.
BASE_REV=1

if image_exists "$BASE_IMAGE"; then
    exit 0
fi
need_root

# host_uri SUITE: the first enabled apt source (deb822 or one-line) whose suites hold SUITE.
host_uri() {
    local want="$1" f
    {
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            awk -v want="$want" '
                function flush() {
                    if (types ~ /(^| )deb( |$)/ && enabled !~ /^(no|false)$/ && (" " suites " ") ~ (" " want " ") && uris != "") {
                        split(uris, u, " "); print u[1]
                    }
                    types = ""; uris = ""; suites = ""; enabled = ""
                }
                /^[ \t]*$/ { flush(); next }
                /^[ \t]*#/ { next }
                tolower($1) == "types:"   { $1 = ""; types = $0; sub(/^ +/, "", types) }
                tolower($1) == "uris:"    { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
                tolower($1) == "suites:"  { $1 = ""; suites = $0; sub(/^ +/, "", suites) }
                tolower($1) == "enabled:" { enabled = tolower($2) }
                END { flush() }' "$f"
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            sed -e 's/\[[^]]*\]//' "$f" | awk -v want="$want" '$1 == "deb" && $3 == want { print $2 }'
        done
    } | sed -e 's:/*$::' | head -n 1
}

MIRROR="${FLEET_WORLD_MIRROR:-$(host_uri "$SUITE")}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY="${FLEET_WORLD_SECURITY_MIRROR:-$(host_uri "$SUITE-security")}"
SECURITY="${SECURITY:-http://deb.debian.org/debian-security}"

recipe_id="$(printf '%s\n' "$BASE_REV" "$SUITE" "$MIRROR" "$SECURITY" | sha256sum | cut -c1-12)"
tarball="$CACHE_DIR/base-$SUITE-$recipe_id.tar"
log="$LOG_DIR/base.log"
: >"$log"

if [ ! -s "$tarball" ]; then
    apt_install debootstrap debian-archive-keyring
    rootfs="$CACHE_DIR/rootfs.tmp"
    cleanup() {
        # debootstrap may leave proc/sys mounted inside the target when it fails
        for m in proc sys dev/pts dev; do
            if mountpoint -q "$rootfs/$m" 2>/dev/null; then
                umount -l "$rootfs/$m" || true
            fi
        done
        rm -rf "$rootfs"
    }
    trap cleanup EXIT
    cleanup
    mkdir -p "$CACHE_DIR/debs"
    include=""
    case "$MIRROR$SECURITY" in *https:*) include="--include=ca-certificates" ;; esac
    say "debootstrap --variant=minbase $SUITE from $MIRROR (log: $log)"
    # shellcheck disable=SC2086
    timeout 1200 debootstrap --variant=minbase --cache-dir="$CACHE_DIR/debs" $include \
        "$SUITE" "$rootfs" "$MIRROR" >>"$log" 2>&1 \
        || die "debootstrap $SUITE from $MIRROR failed" "$log"

    # apt: the host's bookworm, bookworm-updates and security sources; no recommends, no caches,
    # no docs/man/locales (kept out by dpkg path excludes for everything installed later).
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat >"$rootfs/etc/apt/apt.conf.d/90fleet-world" <<'CONF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
CONF
    # carry the host's proxy and Release-date settings (a caching mirror may serve old Release files)
    apt-config dump 2>/dev/null \
        | grep -E '^Acquire::(https?::Proxy|Check-Valid-Until|Check-Date) ' \
        >"$rootfs/etc/apt/apt.conf.d/91fleet-world-host" || true
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/90fleet-world-nodoc" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CONF
    # no service starts inside image builds (there is no init)
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
        "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/var/cache/debconf/*-old \
        "$rootfs"/var/lib/dpkg/*-old
    : >"$rootfs/etc/resolv.conf"
    : >"$rootfs/etc/hostname"
    echo "fleet-world: tar rootfs" >>"$log"
    tar --numeric-owner --xattrs -C "$rootfs" --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
        -cf "$tarball.tmp" . >>"$log" 2>&1 || die "tar of the rootfs failed" "$log"
    mv "$tarball.tmp" "$tarball"
    cleanup
    trap - EXIT
fi

say "docker import $tarball as $BASE_IMAGE"
docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["bash"]' \
    --change "LABEL fleet-world.hash=$recipe_id" \
    "$tarball" "$BASE_IMAGE" >>"$log" 2>&1 || die "docker import of $tarball failed" "$log"
