#!/usr/bin/env bash
# Entrypoint of the fleet-world opensearch stand-in: the official opensearch image's contract
# (its opensearch-docker-entrypoint.sh) as far as the collection relies on it.
# SPDX-License-Identifier: GPL-3.0-or-later
set -Eeo pipefail

OPENSEARCH_HOME="${OPENSEARCH_HOME:-/usr/share/opensearch}"

# no argument, or the first one is a flag (-Ekey=value): run opensearch with them
if [ "$#" -eq 0 ] || [ "${1:0:1}" = '-' ]; then
    set -- opensearch "$@"
fi
if [ "$1" != 'opensearch' ]; then
    exec "$@"
fi
shift

# path.repo from the environment: a list of dirs, comma separated, maybe in brackets
repo_dirs() {
    local repo dir dirs
    repo="$(printenv path.repo || true)"
    repo="${repo#[}"
    repo="${repo%]}"
    IFS=',' read -r -a dirs <<<"$repo"
    for dir in "${dirs[@]}"; do
        dir="${dir#"${dir%%[![:space:]]*}"}"
        dir="${dir%"${dir##*[![:space:]]}"}"
        case "$dir" in
            /*) echo "$dir" ;;
            ?*) echo "$OPENSEARCH_HOME/$dir" ;;
        esac
    done
}

# The official image runs as uid 1000 (its USER) and refuses root. This one runs as 1000 too (its
# USER); started with --user 0 it does what the official postgres and redis images do: the data,
# logs and snapshot repository dirs (mounts owned by root, say) become
# opensearch's, then it drops to opensearch.
if [ "$(id -u)" = '0' ]; then
    while IFS= read -r dir; do
        if [ -d "$dir" ]; then
            find "$dir" \! -user opensearch -exec chown opensearch:opensearch '{}' +
        fi
    done < <(printf '%s\n' "$OPENSEARCH_HOME/data" "$OPENSEARCH_HOME/logs"; repo_dirs)
    exec gosu opensearch "$0" opensearch "$@"
fi

# files made by the server are group writable too (the official image's umask)
umask 0002

# settings given as arguments (-Ekey=value or -E key=value): they win over the environment's
declare -A given=()
prev=
for arg; do
    case "$prev$arg" in
        -E*=*) key="${prev}${arg}"; key="${key#-E}"; given["${key%%=*}"]=1 ;;
    esac
    prev=
    if [ "$arg" = '-E' ]; then
        prev='-E'
    fi
done

# Like the official image: every environment variable whose name is two or more dot separated
# lower case words (discovery.type, path.repo, cluster.name, ...), or 'processors', and whose
# value is not empty, is the setting -Ename=value.
settings=()
while IFS= read -r -d '' kv; do
    key="${kv%%=*}"
    value="${kv#*=}"
    if [[ "$key" =~ ^[a-z0-9_]+\.[a-z0-9_]+ || "$key" == 'processors' ]] && [ -n "$value" ]; then
        [ -z "${given[$key]:-}" ] || continue
        settings+=("-E$key=$value")
    fi
done < <(env -0)

# There is no security plugin: DISABLE_SECURITY_PLUGIN, DISABLE_INSTALL_DEMO_CONFIG and
# OPENSEARCH_INITIAL_ADMIN_PASSWORD change nothing, and plugins.security.disabled=true (which the
# official entrypoint passes for DISABLE_SECURITY_PLUGIN=true) is dropped: the server would refuse
# the unknown setting. Any other plugins.security.* setting is left to fail, as it should.
args=()
for arg in "${settings[@]}" "$@"; do
    case "$arg" in
        -Eplugins.security.disabled=true) ;;
        -Eplugins.security.disabled=*)
            echo "docker-entrypoint.sh: $arg: this stand-in has no security plugin" >&2
            exit 1
            ;;
        *) args+=("$arg") ;;
    esac
done

exec "$OPENSEARCH_HOME/bin/opensearch" "${args[@]}"
