#!/usr/bin/env bash
# Build the stand-in images from tests/world/images/<name>/ (FROM fleet-world/base:bookworm,
# the build arg BASE_IMAGE), all at once (they only share the base image), and tag them
# fleet-world/<name>:<tag>. An image is rebuilt only when the
# sha256 of its build dir (label fleet-world.hash) or the base image (label fleet-world.base)
# changed, so a second run is a no-op. Usage: images.sh [NAME...] (default: all).
# Logs: /var/log/fleet-world/build-<name>.log.
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ORDER=("${WORLD_IMAGE_ORDER[@]}")

if [ "$#" -gt 0 ]; then
    ORDER=("$@")
fi

image_exists "$BASE_IMAGE" || die "base image $BASE_IMAGE is missing: run tests/world/base.sh first"
base_id="$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")"

dir_hash() {
    (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

label_of() {
    docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

for name in "${ORDER[@]}"; do
    [ -n "${WORLD_IMAGE_TAGS[$name]:-}" ] || die "unknown image '$name' (known: ${!WORLD_IMAGE_TAGS[*]})"
done

# build_one NAME: build (when its recipe or the base changed) and tag one image; dies naming its log.
build_one() {
    local name=$1 dir tags ref hash log start old_id id tag alias
    dir="$WORLD_DIR/images/$name"
    [ -f "$dir/Dockerfile" ] || die "no Dockerfile in $dir"
    read -r -a tags <<<"${WORLD_IMAGE_TAGS[$name]}"
    ref="$NS/$name:${tags[0]}"
    hash="$(dir_hash "$dir")"
    log="$LOG_DIR/build-$name.log"

    if [ "$(label_of "$ref" fleet-world.hash)" = "$hash" ] && [ "$(label_of "$ref" fleet-world.base)" = "$base_id" ]; then
        :
    else
        old_id="$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)"
        say "building $ref (log: $log)"
        start="$(now)"
        # The classic builder: Debian's docker.io has no buildx plugin, and it works with every
        # client. --network host: apt in the build uses this machine's own network and DNS.
        if ! DOCKER_BUILDKIT=0 timeout 1800 docker build --network host --rm --force-rm \
                --label "fleet-world.hash=$hash" --label "fleet-world.base=$base_id" \
                --label "fleet-world.name=$name" --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$ref" "$dir" >"$log" 2>&1; then
            die "docker build of $ref failed" "$log"
        fi
        say "built $ref in $(elapsed "$start") s"
    fi

    id="$(docker image inspect -f '{{.Id}}' "$ref")"
    for tag in "${tags[@]:1}"; do
        alias="$NS/$name:$tag"
        if [ "$(docker image inspect -f '{{.Id}}' "$alias" 2>/dev/null || true)" != "$id" ]; then
            docker tag "$ref" "$alias" || die "docker tag $ref $alias failed"
        fi
    done

    # drop the replaced build: its $NS/$name refs (aliases, registry tags and digests), then the
    # image itself unless a container still uses it
    if [ -n "${old_id:-}" ] && [ "$old_id" != "$id" ]; then
        docker image inspect -f '{{range .RepoTags}}{{println .}}{{end}}{{range .RepoDigests}}{{println .}}{{end}}' \
                "$old_id" 2>/dev/null | { grep -E "(^|/)$NS/${name}[:@]" || true; } | while read -r old_ref; do
            docker rmi "$old_ref" >/dev/null 2>&1 || true
        done
        docker rmi "$old_id" >/dev/null 2>&1 || true
    fi
}

pids=()
for name in "${ORDER[@]}"; do
    build_one "$name" &
    pids+=("$!")
done
failed=()
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${ORDER[$i]}")
done
[ "${#failed[@]}" -eq 0 ] || die "building ${failed[*]} failed (see the messages above)"
