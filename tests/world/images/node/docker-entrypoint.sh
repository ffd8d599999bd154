#!/bin/sh
# Entrypoint of the fleet-world node stand-in: the official node image's contract.
# SPDX-License-Identifier: GPL-3.0-or-later
set -e

# Run command with node if the first argument contains a "-" or is not a system command.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
    set -- node "$@"
fi

exec "$@"
