#!/bin/sh
# Entrypoint of the fleet-world redis stand-in: the official redis image's contract.
# SPDX-License-Identifier: GPL-3.0-or-later
set -e

# first arg is `-f` or `--some-option`, or a .conf file
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ]; then
    # The official image's redis-server is built with protected-mode off (a container's port is
    # published on purpose). Debian's binary keeps upstream's default (yes), so turn it off here
    # unless the command line or a given config file sets it.
    protected=
    for arg; do
        case "$arg" in
            --protected-mode) protected=1 ;;
            *.conf)
                if [ -r "$arg" ] && grep -Eqi '^[[:space:]]*protected-mode[[:space:]]' "$arg"; then
                    protected=1
                fi
                ;;
        esac
    done
    if [ -z "$protected" ]; then
        set -- "$@" --protected-mode no
    fi

    if [ "$(id -u)" = '0' ]; then
        find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
        exec gosu redis "$0" "$@"
    fi
fi

# like the official image: the default umask of redis-server's files is 0077 when left at 0022
um="$(umask)"
if [ "$um" = '0022' ]; then
    umask 0077
fi

exec "$@"
