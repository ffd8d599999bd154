#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection placed where ansible-test wants it
# (.../ansible_collections/projectdeployer/fleet), with no ignore file.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/fleet-sanity.XXXXXX)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/projectdeployer/fleet"
mkdir -p "$dest"
git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$dest"/ 2>/dev/null || true
cd "$dest"
git init -q && git add -A >/dev/null
ansible-test sanity --venv --python 3.11 --color no "$@"
